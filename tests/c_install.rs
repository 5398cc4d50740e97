//! The C library installs like one: `make install` (or `install-static`) into a prefix, then a C
//! program built with nothing but `pkg-config --cflags --libs mixkern` compiles, links and runs,
//! statically and dynamically; the shared library has a versioned SONAME; and both libraries
//! export exactly the `mk_` functions the header declares.
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh prefix with `make <target> PREFIX=<prefix>` done.
fn install(target: &str) -> PathBuf {
    let prefix = common::scratch_dir(&format!("prefix-{target}"));
    std::fs::remove_dir_all(&prefix).expect("clear the prefix");
    common::make(&[target, &format!("PREFIX={}", prefix.display())]);
    prefix
}

/// The output of a command, asserting success.
fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `pkg-config <args> mixkern` against the prefix, split into arguments.
fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    let out = output(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
            .args(args)
            .arg("mixkern"),
    );
    out.split_whitespace().map(String::from).collect()
}

/// Compiles tests/c/install_check.c with the C compiler and the pkg-config flags only.
fn build(prefix: &Path, flags: &[String], name: &str) -> PathBuf {
    let exe = prefix.join(name);
    output(
        Command::new(common::plain_compiler())
            .arg("-std=c11")
            .arg(common::root().join("tests/c/install_check.c"))
            .arg("-o")
            .arg(&exe)
            .args(flags),
    );
    exe
}

/// The names of the defined global symbols of an ELF file or archive (`readelf -s`).
fn global_symbols(path: &Path, dynamic: bool) -> BTreeSet<String> {
    let table = if dynamic { "--dyn-syms" } else { "--syms" };
    output(Command::new("readelf").args(["-W", table]).arg(path))
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            // Num: Value Size Type Bind Vis Ndx Name
            (f.len() >= 8 && (f[4] == "GLOBAL" || f[4] == "WEAK") && f[6] != "UND")
                .then(|| f[7].split('@').next().unwrap_or("").to_string())
        })
        .collect()
}

/// Every `mk_` name the header follows by "(": its functions (and any its comments call).
fn header_functions() -> BTreeSet<String> {
    let header = std::fs::read_to_string(common::root().join("include/mixkern.h")).unwrap();
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut names = BTreeSet::new();
    for (at, _) in header.match_indices("mk_") {
        if header[..at].ends_with(is_ident) {
            continue;
        }
        let name: String = header[at..].chars().take_while(|&c| is_ident(c)).collect();
        if header[at + name.len()..].starts_with('(') {
            names.insert(name);
        }
    }
    names
}

/// The dynamic section's entries of one kind (NEEDED, SONAME).
fn dynamic_entries(path: &Path, kind: &str) -> Vec<String> {
    output(Command::new("readelf").arg("-d").arg(path))
        .lines()
        .filter(|l| l.contains(&format!("({kind})")))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
        .collect()
}

fn check_output(out: &str) {
    assert!(
        out.contains(&format!("version: {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    let value: f64 = common::field(out, "log_density_at_0:").parse().unwrap();
    let want = -0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!((value - want).abs() <= 1e-15, "{value} vs {want}");
}

#[test]
fn static_install_links_with_pkg_config_and_exports_only_mk_functions() {
    let prefix = install("install-static");
    assert!(!prefix.join("lib/libmixkern.so").exists());
    assert_eq!(
        pkg_config(&prefix, &["--modversion"]),
        vec![env!("CARGO_PKG_VERSION").to_string()]
    );
    let mut flags = pkg_config(&prefix, &["--cflags", "--libs"]);
    let exe = build(&prefix, &flags, "static_plain");
    check_output(&common::run(&exe));
    // With --static pkg-config adds the private libraries as well.
    flags = pkg_config(&prefix, &["--static", "--cflags", "--libs"]);
    let exe = build(&prefix, &flags, "static");
    check_output(&common::run(&exe));
    assert!(
        dynamic_entries(&exe, "NEEDED")
            .iter()
            .all(|lib| !lib.contains("mixkern")),
        "a static link needs no libmixkern.so"
    );
    let exported = global_symbols(&prefix.join("lib/libmixkern.a"), false);
    assert_eq!(exported, header_functions(), "static library exports");
}

#[test]
fn shared_install_has_a_versioned_soname_and_exports_only_mk_functions() {
    let prefix = install("install");
    let (major, minor) = (
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
    );
    let soname = format!("libmixkern.so.{major}.{minor}");
    let real = prefix.join(format!("lib/libmixkern.so.{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(dynamic_entries(&real, "SONAME"), vec![soname.clone()]);
    for link in ["libmixkern.so", soname.as_str()] {
        let target = std::fs::canonicalize(prefix.join("lib").join(link)).unwrap();
        assert_eq!(target, std::fs::canonicalize(&real).unwrap(), "{link}");
    }
    let flags = pkg_config(&prefix, &["--cflags", "--libs"]);
    let exe = build(&prefix, &flags, "shared");
    assert_eq!(
        dynamic_entries(&exe, "NEEDED")
            .into_iter()
            .filter(|l| l.contains("mixkern"))
            .collect::<Vec<_>>(),
        vec![soname],
        "the program records the SONAME, not the file name"
    );
    let out = output(Command::new(&exe).env("LD_LIBRARY_PATH", prefix.join("lib")));
    check_output(&out);
    assert_eq!(
        global_symbols(&real, true),
        header_functions(),
        "shared library exports"
    );
}
