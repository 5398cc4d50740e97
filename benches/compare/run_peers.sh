#!/usr/bin/env bash
# Gaussian-mixture EM peers side by side: scikit-learn, R mclust, Armadillo.
#
#   bash benches/compare/run_peers.sh
#
# Installs what is missing (Debian: r-base-core r-cran-mclust libarmadillo-dev g++;
# PyPI: scikit-learn numpy), writes the shared data and starts with gmm_data.py into
# target/compare/, builds the Armadillo program, then for every size runs the three peers
# one after the other (so they see the same machine state), single-threaded, and prints one
# table: ms per EM iteration = median over the repeats of (time of T iterations) / T, by
# wall clock and by process CPU time (steadier when other jobs share the machine).
# Each peer's own script says what its "iteration" contains. The last column, the mean
# log-likelihood at the final parameters, must agree between peers (same data, same start,
# same T; reg_covar 0 in sklearn): it shows they ran the same EM.
#
# Environment knobs:
#   SIZES="100000x2x3,100000x8x5,100000x32x10,1000000x8x5"   (N x d x K, comma-separated)
#   SKIP_BIG=1        drop the N = 10^6 size
#   ITERS=10 REPEATS=5 BIG_REPEATS=3 (repeats for sizes with N*d*K > 1e7)
#   KINDS=full,diag   PEERS="sklearn mclust armadillo"
#   WAIT_QUIET=120    wait up to 120 s for an idle machine before each peer run
#   CXXFLAGS=-O3      flags for the Armadillo build (e.g. "-O3 -march=native")
# Results are also saved to target/compare/gmm_peers_results.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/target/compare"
mkdir -p "$out"

SIZES="${SIZES:-100000x2x3,100000x8x5,100000x32x10,1000000x8x5}"
if [[ "${SKIP_BIG:-0}" == 1 ]]; then
  SIZES="$(echo "$SIZES" | tr ',' '\n' | grep -v '^1000000x' | paste -sd, -)"
fi
ITERS="${ITERS:-10}"
REPEATS="${REPEATS:-5}"
BIG_REPEATS="${BIG_REPEATS:-3}"
KINDS="${KINDS:-full,diag}"
PEERS="${PEERS:-sklearn mclust armadillo}"

# ---- install what is missing ------------------------------------------------------------
SUDO=""
if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null; then SUDO="sudo"; fi
apt_pkgs=()
command -v Rscript >/dev/null || apt_pkgs+=(r-base-core)
Rscript -e 'quit(status = !requireNamespace("mclust", quietly = TRUE))' >/dev/null 2>&1 || apt_pkgs+=(r-cran-mclust)
[[ -f /usr/include/armadillo ]] || apt_pkgs+=(libarmadillo-dev)
command -v g++ >/dev/null || apt_pkgs+=(g++)
if ((${#apt_pkgs[@]})); then
  echo "installing ${apt_pkgs[*]} with apt-get" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${apt_pkgs[@]}" >&2
fi
python3 -c 'import sklearn, numpy' 2>/dev/null || python3 -m pip install -q scikit-learn numpy >&2

# ---- data and the Armadillo build -----------------------------------------------------
python3 "$here/gmm_data.py" --out "$out" --sizes "$SIZES"
arma_bin="$out/gmm_em_armadillo"
if [[ ! -x "$arma_bin" || "$here/gmm_em_armadillo.cpp" -nt "$arma_bin" ]]; then
  g++ ${CXXFLAGS:--O3} -fopenmp -o "$arma_bin" "$here/gmm_em_armadillo.cpp" -larmadillo
fi

# ---- run, single thread -----------------------------------------------------------------
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines here) slow a current numpy.
run1() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 BLIS_NUM_THREADS=1 "$@"
}
# WAIT_QUIET=S: before each peer run wait (at most S seconds) until the whole machine was
# at least 85% idle over 2 s, for shared machines where other jobs come and go.
wait_quiet() {
  local limit="${WAIT_QUIET:-0}" waited=0 a b
  ((limit > 0)) || return 0
  while ((waited < limit)); do
    a=($(head -1 /proc/stat)); sleep 2; b=($(head -1 /proc/stat))
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    local idle=$((b[4] + b[5] - a[4] - a[5]))
    ((total > 0 && idle * 100 >= 85 * total)) && return 0
    waited=$((waited + 2))
  done
  echo "# machine still busy after ${limit}s; running anyway" >&2
}
results="$out/gmm_peers_results.txt"
: >"$results"
names="$(grep -v '^#' "$out/gmm_sizes.txt" | awk '{print $1}')"
for name in $names; do
  for peer in $PEERS; do
    wait_quiet
    echo "running $peer on $name ..." >&2
    case "$peer" in
      sklearn)
        run1 python3 "$here/gmm_em_sklearn.py" --dir "$out" --only "$name" --iters "$ITERS" \
          --repeats "$REPEATS" --big-repeats "$BIG_REPEATS" --kinds "$KINDS" ;;
      mclust)
        run1 Rscript "$here/gmm_em_mclust.R" "dir=$out" "only=$name" "iters=$ITERS" \
          "repeats=$REPEATS" "big_repeats=$BIG_REPEATS" "kinds=$KINDS" ;;
      armadillo)
        run1 "$arma_bin" "dir=$out" "only=$name" "iters=$ITERS" "repeats=$REPEATS" \
          "big_repeats=$BIG_REPEATS" "kinds=$KINDS" ;;
      *) echo "unknown peer $peer" >&2; false ;;
    esac || echo "# $peer failed on $name" >&2
  done
done | { grep '^RESULT ' || true; } | tee -a "$results" >&2

# ---- one table ----------------------------------------------------------------------------
echo
echo "GMM EM, one thread, ms per iteration = (time of ${ITERS} iterations) / ${ITERS}, median over repeats"
echo "(wall = wall clock, cpu = process CPU time; min = fastest repeat, wall clock); $(date -u +%F)"
awk '{ printf "%s %09d %03d %03d %s %s %s %s %s %s\n", $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' "$results" |
  sort -k5,5r -k2,2n -k3,3n -k1,1 |
  awk 'BEGIN { printf "%-10s %-16s %-5s %10s %10s %10s %16s\n", "peer", "(N, d, K)", "cov", "wall", "min", "cpu", "ll_final" }
       { printf "%-10s %-16s %-5s %10s %10s %10s %16s\n", $1, sprintf("(%d, %d, %d)", $2, $3, $4), $5, $7, $8, $9, $10 }'
