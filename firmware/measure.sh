#!/usr/bin/env bash
# README's firmware figures: builds both edge-node firmwares (build.sh), runs them under QEMU
# (run.sh) and prints a Markdown table of what a fit of K = 3, d = 4, n = 1000 (f64, the
# round's preset: 3 k-means++ starts, tol 1e-6) costs on a Cortex-M4F:
#   flash   text + data of the whole firmware (`arm-none-eabi-size`), start-up and printing
#           included;
#   RAM     data + bss: the samples (32,000 bytes), the fit's workspace and the message;
#   stack   the high-water mark of the fit, from the painted stack;
#   instr.  the fit's instructions: SysTick ticks under QEMU -icount shift=0, times the
#           instructions per tick of a calibration loop of 2,000,000 instructions.
# and, for each node's chunked fit of 10,000 replayed samples, the bytes of its buffers.
#
#   bash firmware/measure.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t elves < <(bash "$here/build.sh")
echo "| firmware | flash (bytes) | RAM (bytes) | stack (bytes) | instructions per fit |"
echo "|---|---|---|---|---|"
for elf in "${elves[@]}"; do
  read -r text data bss _ < <(arm-none-eabi-size "$elf" | sed -n 2p)
  out=$(bash "$here/run.sh" "$elf" </dev/null)
  name=$(sed -n 's/^node \([a-z]*\) .*/\1/p' <<<"$out")
  read -r calibration fit < <(sed -n 's/^ticks calibration \([0-9]*\) fit \([0-9]*\)/\1 \2/p' <<<"$out")
  stack=$(sed -n 's/^stack //p' <<<"$out")
  instructions=$(awk -v f="$fit" -v c="$calibration" 'BEGIN { printf "%.1f M", f * 2e6 / c / 1e6 }')
  echo "| $name (f64, opt-level s) | $((text + data)) | $((data + bss)) | $stack | $instructions |"
  # The node's second fit: n = 10,000 samples replayed in blocks of 50 (the chunked fit); its
  # RAM is its own buffers (the firmware prints their size), the stack the whole run's.
  if grep -q '^chunked ram' <<<"$out"; then
    read -r ram ticks < <(sed -n 's/^chunked ram \([0-9]*\) ticks \([0-9]*\)/\1 \2/p' <<<"$out")
    instructions=$(awk -v f="$ticks" -v c="$calibration" 'BEGIN { printf "%.1f M", f * 2e6 / c / 1e6 }')
    echo "| $name, chunked fit of n = 10,000 in blocks of 50 | (same firmware) | $ram (its buffers) | $stack | $instructions |"
  fi
done

# Where the C firmware's code and constants come from (its link map: .text and .rodata input
# sections by object): mixkern, compiler-builtins (software double precision and memcpy), the
# firmware's own start-up and printing.
declare -A bytes=()
while read -r size file; do
  case "$file" in
    *compiler_builtins*) part="compiler-builtins" ;;
    *libmixkern.a*) part="mixkern" ;;
    *) part="firmware" ;;
  esac
  bytes[$part]=$(( ${bytes[$part]:-0} + size ))
done < <(awk '/^Linker script and memory map/ { map = 1 }
  map && /^ \.(text|rodata)/ { if (NF >= 4) { print $3, $4 } else { pending = 1 }; next }
  pending && $1 ~ /^0x/ { print $2, $3 } { pending = 0 }' "$(dirname "${elves[1]}")/node-c.map")
echo
echo "C firmware code and constants: mixkern ${bytes[mixkern]:-0} bytes, compiler-builtins" \
  "${bytes[compiler-builtins]:-0}, firmware ${bytes[firmware]:-0}"
