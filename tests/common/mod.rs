//! Helpers for the tests that compile C against include/mixkern.h and libmixkern.a.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo profile directory this test runs from (target/<profile>); its deps/ holds the
/// libmixkern.a that `cargo test` builds with the tests (it is not copied up to
/// target/<profile>/ by `cargo test`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// The C (or C++) compiler the cc crate picks for this target, as a command with warnings
/// that must not fire.
pub fn compiler(cplusplus: bool) -> Command {
    let target = env!("MIXKERN_TARGET");
    let tool = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .cpp(cplusplus)
        .opt_level(2)
        .target(target)
        .host(target)
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .get_compiler();
    let mut cmd = tool.to_command();
    cmd.arg("-I").arg(root().join("include"));
    cmd
}

/// A fresh scratch directory under target/ for build products of one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = profile_dir().join("c-tests").join(name);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Compiles `source` (C, -std=c11) and links it against this run's libmixkern.a; returns the
/// executable's path. Panics with the compiler's output on failure.
pub fn build_c_program(source: &Path, name: &str) -> PathBuf {
    let lib = profile_dir().join("deps").join("libmixkern.a");
    assert!(
        lib.exists(),
        "{} missing: cargo builds the staticlib with the tests",
        lib.display()
    );
    let exe = scratch_dir(name).join(name);
    let out = compiler(false)
        .arg("-std=c11")
        .arg(source)
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm"])
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run the C compiler");
    assert!(
        out.status.success(),
        "compiling {} failed:\n{}{}",
        source.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs an executable, asserts it exits 0, and returns its standard output.
pub fn run(exe: &Path) -> String {
    let out = Command::new(exe).output().expect("run the C program");
    assert!(
        out.status.success(),
        "{} failed:\n{}{}",
        exe.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The value after `key` on the first line that starts with it, e.g. `field(out, "error:")`.
pub fn field(output: &str, key: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no line starting with {key:?} in:\n{output}"))
        .trim()
        .to_string()
}
