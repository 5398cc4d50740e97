#!/usr/bin/env bash
# Runs every fuzz target for RUNS inputs (default 300000) with libFuzzer's random seed SEED
# (default 1), each from its seed corpus (fuzz/seeds/<target>, the finding-* inputs among them)
# and a fresh scratch corpus, without address-space randomization: with the same toolchain, the
# same RUNS and SEED replay the same inputs, so a failure in CI reproduces with this command.
# Change SEED to explore further. Needs nightly and cargo-fuzz (.ci/run installs both). A crash
# leaves its input in artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
runs="${1:-300000}"
seed="${2:-1}"
cargo +nightly fuzz build
# Addresses reach libFuzzer's comparison tracing, so the inputs it tries depend on address-space
# randomization: run without it where the system allows (setarch -R), else randomized.
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
    no_aslr=(setarch "$(uname -m)" -R)
else
    echo "note: setarch -R not permitted here; runs are not exactly reproducible"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo +nightly fuzz list); do
    mkdir -p "$scratch/$target"
    log="target/fuzz-$target.log"
    echo "== fuzz $target: $runs runs, seed $seed"
    status=0
    # The time cap only guards against a machine far slower than CI's (about 1 minute each).
    "${no_aslr[@]}" cargo +nightly fuzz run "$target" "$scratch/$target" "seeds/$target" -- \
        -runs="$runs" -seed="$seed" -reload=0 -max_total_time=600 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E "^Done|stat::number_of_executed_units" "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz target $target failed (input in fuzz/artifacts/$target/)"
        exit 1
    fi
done
