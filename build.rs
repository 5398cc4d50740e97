//! Generates the C header `include/mixkern.h` from the `extern "C"` layer with cbindgen.
//!
//! The header is always written to `$OUT_DIR/mixkern.h`; the test `header_is_current` compares
//! it with the committed `include/mixkern.h`. Outside CI (env `CI` unset) the build also
//! refreshes `include/mixkern.h`, so a developer's tree is always current and `git status`
//! shows the change to commit; in CI the committed file is left alone and a stale header fails
//! that test.
use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CI");
    // The tests that compile C need the target triple to ask the cc crate for the C compiler.
    println!(
        "cargo:rustc-env=MIXKERN_TARGET={}",
        env::var("TARGET").expect("TARGET")
    );

    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = match cbindgen::generate_with_config(&crate_dir, config) {
        Ok(b) => b,
        Err(e) => {
            // A parse error in the crate is reported by rustc itself; do not mask it here.
            println!("cargo:warning=cbindgen could not generate mixkern.h: {e}");
            return;
        }
    };
    bindings.write_to_file(out_dir.join("mixkern.h"));
    if env::var_os("CI").is_none() {
        bindings.write_to_file(crate_dir.join("include").join("mixkern.h"));
    }
}
