//! The committed header is what cbindgen generates from the code, and it compiles cleanly as C
//! and as C++.
mod common;

use std::process::Command;

/// cbindgen's header for the code (config `cbindgen.toml`) against the committed
/// `include/mixkern.h`. Outside CI (env `CI` unset) a stale header is rewritten, so a developer's
/// tree is current and `git status` shows the change to commit; in CI it fails the test.
#[test]
fn header_is_current() {
    let root = common::root();
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::generate_with_config(&root, config).expect("cbindgen parses src");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = root.join("include/mixkern.h");
    let committed = std::fs::read(&path).expect("include/mixkern.h is committed");
    if generated != committed && std::env::var_os("CI").is_none() {
        std::fs::write(&path, &generated).expect("write include/mixkern.h");
        return;
    }
    assert!(
        generated == committed,
        "include/mixkern.h is stale: run `cargo test --test header` outside CI and commit it"
    );
}

/// Compiles tests/c/header_check.c (which includes mixkern.h and touches every type and
/// constant) with -Wall -Wextra -Werror -pedantic, as C99, C11 and C++11/17.
#[test]
fn header_compiles_as_c_and_cpp() {
    let source = common::root().join("tests/c/header_check.c");
    let dir = common::scratch_dir("header_check");
    let variants: [(bool, &[&str]); 4] = [
        (false, &["-std=c99", "-pedantic"]),
        (false, &["-std=c11", "-pedantic"]),
        (true, &["-x", "c++", "-std=c++11", "-pedantic"]),
        (true, &["-x", "c++", "-std=c++17", "-pedantic"]),
    ];
    for (cplusplus, flags) in variants {
        let obj = dir.join(format!(
            "header_check_{}.o",
            flags.join("").replace(['-', '+'], "")
        ));
        let out: std::process::Output = {
            let mut cmd: Command = common::compiler(cplusplus);
            cmd.args(flags).arg("-c").arg(&source).arg("-o").arg(&obj);
            cmd.output().expect("run the compiler")
        };
        assert!(
            out.status.success(),
            "header_check.c with {flags:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Every name the header declares at file scope is in mixkern's namespace (`mk_` / `MK_`), so
/// including it cannot clash with a C program's own names (a crate-internal constant such as
/// the chunk size once leaked as `CHUNK`).
#[test]
fn header_declares_only_mk_names() {
    let header = std::fs::read_to_string(common::root().join("include/mixkern.h")).unwrap();
    let mut names = Vec::new();
    for line in header.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["#define", name, ..] if *name != "MIXKERN_H" => names.push(name.to_string()),
            ["typedef", "struct" | "enum", name, ..] => names.push(name.to_string()),
            ["typedef", ..] if line.contains("(*") => {
                let after = line.split("(*").nth(1).unwrap();
                names.push(after.split(')').next().unwrap().to_string());
            }
            _ => {}
        }
    }
    assert!(names.len() > 20, "parsed too few names: {names:?}");
    let foreign: Vec<_> = names
        .iter()
        .filter(|n| !n.starts_with("mk_") && !n.starts_with("MK_"))
        .collect();
    assert!(foreign.is_empty(), "names outside mk_/MK_: {foreign:?}");
}
