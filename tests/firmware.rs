//! mixkern serves a bare-metal firmware: a `no_std` crate that depends on it with
//! `default-features = false` builds and links for a Cortex-M4F (thumbv7em-none-eabihf), a
//! Cortex-M0+ (thumbv6m-none-eabi) and a RISC-V core (riscv32imac-unknown-none-elf), and
//! `make bare-metal` gives a C firmware a static library with the `mk_` functions and the panic
//! hook, without Rust's std.
mod common;

use std::path::PathBuf;
use std::process::Command;

const TARGET: &str = "thumbv7em-none-eabihf";

/// Runs a command in the crate root, asserting success; returns its standard output.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .current_dir(common::root())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The symbol table of an ELF file or archive, one line per symbol.
fn symbols(path: &PathBuf) -> String {
    run(Command::new("readelf").arg("-sW").arg(path))
}

/// The targets the firmware crate links for, and the machine readelf names for each: the
/// Cortex-M4F, the Cortex-M0/M0+ (no FPU, no 32-bit atomics beyond load/store) and a RISC-V
/// microcontroller core.
const LINK_TARGETS: [(&str, &str); 3] = [
    (TARGET, "ARM"),
    ("thumbv6m-none-eabi", "ARM"),
    ("riscv32imac-unknown-none-elf", "RISC-V"),
];

#[test]
fn a_no_std_firmware_crate_depends_on_mixkern_and_links() {
    for (target, machine) in LINK_TARGETS {
        common::rustup_target(target);
        let target_dir = common::root().join("target/firmware");
        run(Command::new(env!("CARGO"))
            .args(["build", "--release", "--target", target, "--manifest-path"])
            .arg(common::root().join("firmware/dependent/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target_dir));
        let elf = target_dir.join(format!("{target}/release/mixkern-firmware-dependent"));
        let header = run(Command::new("readelf").arg("-h").arg(&elf));
        assert!(header.contains(machine), "{target}: {header}");
        let table = symbols(&elf);
        assert!(table.contains(" _start"), "{target}: no entry point");
        // The fit, the simulator and the encoder are linked in: mixkern's code is in the binary.
        assert!(
            table.lines().any(|l| l.contains("mixkern")),
            "{target}: no mixkern symbol in the firmware"
        );
    }
}

#[test]
fn the_bare_metal_static_library_has_the_c_api_and_no_std() {
    common::rustup_target(TARGET);
    common::make(&["bare-metal", &format!("TARGET={TARGET}")]);
    let lib = common::root().join(format!("target/{TARGET}/release/libmixkern.a"));
    let table = symbols(&lib);
    let defined = |name: &str| {
        table.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 8 && f[7] == name && f[4] == "GLOBAL" && f[6] != "UND"
        })
    };
    for name in [
        "mk_gmm_fit",
        "mk_wire_encode",
        "mk_set_panic_hook",
        "mk_status_str",
    ] {
        assert!(defined(name), "{name} is not defined in {}", lib.display());
    }
    // Rust's std is not in it (its mangled paths contain "3std"), nor its panic machinery.
    assert!(
        !table.contains("3std") && !table.contains("catch_unwind"),
        "the bare-metal library contains std"
    );
}
