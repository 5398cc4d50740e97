//! The R package (`R-package/`), checked as CRAN would: `R-package/tools/check.sh` builds its
//! source tarball from this repository (the crate copied, its one dependency vendored) and runs
//! `R CMD check --as-cran` on it, which installs it offline, runs every Rd example and the
//! testthat suite (the fits against mclust, mixtools and flexmix, the round, bad input).
//!
//! Asserted: the tarball is under CRAN's 5 MB; the check has no ERROR and no WARNING (its NOTEs
//! are printed); the testthat suite skipped nothing (the peers are installed) and failed
//! nothing. Skipped, with a message saying what to install, when R is missing; under CI (`CI`
//! set) a missing R fails instead (`.ci/run` installs it).

mod common;

use std::process::Command;

const CRAN_TARBALL_LIMIT: u64 = 5_000_000;

#[test]
fn r_package_passes_r_cmd_check_as_cran() {
    let hint = "install R, its peers and checkbashisms (Debian: apt-get install r-base-dev \
                r-cran-testthat r-cran-mclust r-cran-mixtools r-cran-flexmix devscripts) to \
                check the R package; .ci/run installs them";
    if !common::tools_on_path(&["R", "Rscript", "checkbashisms"], hint) {
        return;
    }
    let peers = Command::new("Rscript")
        .args([
            "-e",
            "ok <- sapply(c('testthat', 'mclust', 'mixtools', 'flexmix'), requireNamespace, \
             quietly = TRUE); if (!all(ok)) { cat(names(ok)[!ok]); quit(status = 1) }",
        ])
        .output()
        .expect("run Rscript");
    assert!(
        peers.status.success(),
        "R packages missing: {} ({hint})",
        String::from_utf8_lossy(&peers.stdout)
    );

    let out = Command::new("bash")
        .arg(common::root().join("R-package/tools/check.sh"))
        .output()
        .expect("run R-package/tools/check.sh");
    let log = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "R CMD check failed:\n{log}\n{errors}");

    // check.sh's first line: "tarball: <path> (<size> bytes)".
    let (tarball, size) = log
        .lines()
        .find_map(|l| l.strip_prefix("tarball: "))
        .and_then(|l| l.split_once(" ("))
        .expect("check.sh prints the tarball");
    let size: u64 = size
        .trim_end_matches(" bytes)")
        .parse()
        .expect("tarball size");
    assert!(size < CRAN_TARBALL_LIMIT, "the tarball has {size} bytes");

    let status = log
        .lines()
        .find(|l| l.starts_with("Status: "))
        .expect("R CMD check prints its status");
    assert!(
        !status.contains("ERROR") && !status.contains("WARNING"),
        "{status}:\n{log}"
    );
    for note in log.lines().filter(|l| l.ends_with("... NOTE")) {
        eprintln!("R CMD check {note}");
    }
    eprintln!("R CMD check {status}; tarball {size} bytes");

    // The testthat summary: nothing skipped (every peer ran), nothing failed.
    let check_dir = std::path::Path::new(tarball).with_file_name("mixkern.Rcheck");
    let tests_out = std::fs::read_to_string(check_dir.join("tests/testthat.Rout"))
        .expect("R CMD check keeps tests/testthat.Rout");
    let summary = tests_out
        .lines()
        .find(|l| l.starts_with("[ FAIL "))
        .expect("testthat prints its summary");
    assert!(
        summary.starts_with("[ FAIL 0 | WARN 0 | SKIP 0 | PASS "),
        "testthat: {summary}\n{tests_out}"
    );
    eprintln!("testthat: {summary}");
}

/// The R package's `configure` finds cargo on PATH or in ~/.cargo/bin (where rustup puts it),
/// writes that cargo into src/Makevars, and without cargo fails saying what to install.
#[test]
fn r_configure_finds_cargo_or_says_what_to_install() {
    let cargo = std::env::var("CARGO").expect("cargo test sets CARGO");
    let cargo_dir = std::path::Path::new(&cargo).parent().unwrap();
    let dir = common::scratch_dir("r_configure");
    let package = dir.join("package");
    std::fs::create_dir_all(package.join("src")).unwrap();
    let source = common::root().join("R-package");
    std::fs::copy(source.join("configure"), package.join("configure")).unwrap();
    std::fs::copy(
        source.join("src/Makevars.in"),
        package.join("src/Makevars.in"),
    )
    .unwrap();
    // A PATH with the shell tools configure uses, and no cargo.
    let tools = dir.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    for tool in ["cat", "sed", "dirname"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        let path = String::from_utf8(found.stdout).unwrap();
        let link = tools.join(tool);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(path.trim(), &link).unwrap();
    }
    let run = |home: &std::path::Path| {
        let _ = std::fs::remove_file(package.join("src/Makevars"));
        Command::new("/bin/sh")
            .arg("configure")
            .current_dir(&package)
            .env("PATH", &tools)
            .env("HOME", home)
            .output()
            .expect("run configure")
    };

    let empty_home = dir.join("empty-home");
    std::fs::create_dir_all(&empty_home).unwrap();
    let out = run(&empty_home);
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "configure succeeded without cargo");
    assert!(
        message.contains("needs Rust's cargo and rustc") && message.contains("rustup"),
        "{message}"
    );
    assert!(!package.join("src/Makevars").exists());

    // A home whose ~/.cargo/bin holds cargo and rustc (links to this toolchain's).
    let home = dir.join("home");
    let bin = home.join(".cargo/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["cargo", "rustc"] {
        let _ = std::fs::remove_file(bin.join(tool));
        std::os::unix::fs::symlink(cargo_dir.join(tool), bin.join(tool)).unwrap();
    }
    let out = run(&home);
    assert!(
        out.status.success(),
        "configure failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let makevars = std::fs::read_to_string(package.join("src/Makevars")).unwrap();
    let cargo_path = bin.join("cargo");
    assert!(
        makevars.contains(&format!("\"{}\" rustc", cargo_path.display())),
        "{makevars}"
    );
    assert!(
        !makevars.contains('@'),
        "unsubstituted placeholder:\n{makevars}"
    );
}
