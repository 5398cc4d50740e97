#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds (default 60), each from its seed corpus, with a
# scratch corpus under target/. Needs nightly and cargo-fuzz (.ci/run installs both).
# A crash leaves its input in artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
    mkdir -p "target/corpus/$target"
    log="target/fuzz-$target.log"
    echo "== fuzz $target for ${seconds}s"
    status=0
    cargo +nightly fuzz run "$target" "target/corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E "^Done|stat::number_of_executed_units" "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz target $target failed (input in fuzz/artifacts/$target/)"
        exit 1
    fi
done
