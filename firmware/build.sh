#!/usr/bin/env bash
# Builds the two edge-node firmwares for QEMU's mps2-an386 (Cortex-M4F) into target/firmware/:
#   node-rust.elf  firmware/node, a cortex-m-rt crate that depends on mixkern (opt-level "s")
#   node-c.elf     firmware/node-c, C built with arm-none-eabi-gcc -Os against the bare-metal
#                  libmixkern.a (`make bare-metal`, here at opt-level "s") and include/mixkern.h
#                  (and its link map, node-c.map)
# Needs rustup's thumbv7em-none-eabihf target and arm-none-eabi-gcc (Debian: gcc-arm-none-eabi).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="${CARGO_TARGET_DIR:-$root/target}/firmware"
mkdir -p "$out"
target=thumbv7em-none-eabihf

(cd "$root/firmware/node" && CARGO_TARGET_DIR="$out/node-rust-build" cargo build --release --quiet)
cp "$out/node-rust-build/$target/release/mixkern-node" "$out/node-rust.elf"

CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_TARGET_DIR="$out/lib-build" \
  make -s -C "$root" bare-metal TARGET=$target >/dev/null
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os \
  -ffreestanding -ffunction-sections -fdata-sections -Wall -Wextra -Werror \
  -I"$root/include" -T "$root/firmware/node-c/link.ld" -nostdlib \
  "$root/firmware/node-c/startup.c" "$root/firmware/node-c/node.c" \
  "$out/lib-build/$target/release/libmixkern.a" -lgcc \
  -Wl,--gc-sections -Wl,-z,noexecstack -Wl,-Map="$out/node-c.map" -o "$out/node-c.elf"
echo "$out/node-rust.elf"
echo "$out/node-c.elf"
