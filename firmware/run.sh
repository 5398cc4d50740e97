#!/usr/bin/env bash
# Runs a firmware under QEMU's mps2-an386 (Cortex-M4) with semihosting (its output on stdout,
# its exit status QEMU's) and -icount shift=0 (1 ns of virtual time per instruction, so SysTick
# ticks count instructions). Debian: apt-get install qemu-system-arm.
#
#   bash firmware/run.sh target/firmware/node-rust.elf
set -euo pipefail
exec timeout 600 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none \
  -serial none -semihosting-config enable=on,target=native -icount shift=0 -kernel "$1"
