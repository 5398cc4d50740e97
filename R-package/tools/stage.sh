#!/usr/bin/env bash
# Builds the R package's source tarball, target/r/mixkern_<version>.tar.gz, from this
# repository: R-package/ plus the mixkern crate copied into src/rust (its Cargo.toml without the
# dev-dependencies, benches and build script, so the R build needs only libm, vendored into
# src/rust/vendor.tar.gz) and include/mixkern.h. Needs cargo (with network access or libm in
# the local cargo cache) and R.
#
#   bash R-package/tools/stage.sh        # prints the tarball's path
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="${CARGO_TARGET_DIR:-$root/target}/r"
stage="$out/mixkern"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
r_version=$(sed -n 's/^Version: //p' "$root/R-package/DESCRIPTION")
if [ "$version" != "$r_version" ]; then
  echo "R-package/DESCRIPTION has Version $r_version, the crate $version: make them equal" >&2
  exit 1
fi

rm -rf "$stage" && mkdir -p "$stage"
cp -r "$root/R-package/." "$stage"
rust="$stage/src/rust"
mkdir -p "$rust/include"
cp -r "$root/src" "$rust/src"
cp "$root/include/mixkern.h" "$rust/include/"
# The crate's manifest up to its dependencies, without the build script; its own workspace.
awk '/^build = / { next } /^\[dev-dependencies\]/ { exit } { print }' "$root/Cargo.toml" \
  > "$rust/Cargo.toml"
sed -n '/^\[profile.release\]/,/^$/p' "$root/Cargo.toml" >> "$rust/Cargo.toml"
printf '\n[workspace]\n' >> "$rust/Cargo.toml"
# The lock file keeps the repository's libm version; cargo drops the unused entries.
cp "$root/Cargo.lock" "$rust/Cargo.lock"
(cd "$rust" && cargo vendor --quiet --versioned-dirs vendor >/dev/null)
(cd "$rust" && tar -czf vendor.tar.gz vendor && rm -rf vendor)

cd "$out"
R CMD build --no-build-vignettes mixkern >&2
echo "$out/mixkern_$version.tar.gz"
