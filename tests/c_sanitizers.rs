//! The C examples, built with AddressSanitizer and UndefinedBehaviorSanitizer and run, and run
//! under valgrind's memcheck: every run must be clean (no invalid access, no undefined behaviour,
//! no leak, no uninitialised read) and print exactly what the plain build prints.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const EXAMPLES: [&str; 4] = ["cmlr_fit", "local_fit", "mixreg_fit", "edge_aggregate"];

/// Builds `c_examples/<name>.c` against the library with extra compiler flags.
fn build(name: &str, variant: &str, flags: &[&str]) -> PathBuf {
    let exe = common::scratch_dir(&format!("{name}-{variant}")).join(name);
    let out = common::compiler(false)
        .arg("-std=c11")
        .args(flags)
        .arg(common::root().join(format!("c_examples/{name}.c")))
        .arg(common::c_library())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .output()
        .expect("run the C compiler");
    assert!(
        out.status.success(),
        "building {name} ({variant}) failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs a command; returns (success, stdout, stderr).
fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The plain build's output, the reference for the instrumented runs (built per test, which
/// run in parallel).
fn plain_output(name: &str, test: &str) -> String {
    common::run(&build(name, &format!("plain-{test}"), &[]))
}

#[test]
fn c_examples_are_clean_under_address_and_undefined_behaviour_sanitizers() {
    let flags = [
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
        "-g",
    ];
    for name in EXAMPLES {
        let exe = build(name, "asan", &flags);
        let (ok, stdout, stderr) = run(Command::new(&exe)
            .env(
                "ASAN_OPTIONS",
                "detect_leaks=1:abort_on_error=0:exitcode=97",
            )
            .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1"));
        assert!(ok, "{name} under ASan/UBSan:\n{stderr}");
        assert!(!stderr.contains("ERROR"), "{name}:\n{stderr}");
        assert_eq!(
            stdout,
            plain_output(name, "asan"),
            "{name}: another output under ASan/UBSan"
        );
    }
}

/// valgrind's memcheck over every example (skipped, saying so, where valgrind is not installed;
/// `.ci/run` installs it).
#[test]
fn c_examples_are_clean_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("SKIPPED: valgrind is not installed (apt-get install valgrind)");
        return;
    }
    for name in EXAMPLES {
        let exe: &Path = &build(name, "valgrind", &["-g"]);
        let (ok, stdout, stderr) = run(Command::new("valgrind")
            .args([
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect",
                "--track-origins=yes",
                "-q",
            ])
            .arg(exe));
        assert!(ok, "{name} under valgrind:\n{stderr}");
        assert_eq!(
            stdout,
            plain_output(name, "valgrind"),
            "{name}: another output under valgrind"
        );
    }
}
