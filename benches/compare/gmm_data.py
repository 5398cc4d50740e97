#!/usr/bin/env python3
"""Data and starting parameters for the Gaussian-mixture EM peer benchmarks.

    python3 benches/compare/gmm_data.py [--out DIR] [--sizes 100000x2x3,100000x8x5,...]

Writes, for every size (N, d, K), raw little-endian float64 files into DIR (default
<repo>/target/compare/), and a text header DIR/gmm_sizes.txt listing the sizes. Every peer
(gmm_em_sklearn.py, gmm_em_mclust.R, gmm_em_armadillo.cpp) and the Rust criterion bench
read exactly these files, so all of them run the same EM from the same start.

Files for a size named  gmm_n{N}_d{d}_k{K}  (all float64, little-endian, no header):
    <name>.x.f64          x[N*d]        row-major: sample i is x[i*d .. i*d+d]
    <name>.weights.f64    weights[K]    start mixing weights (1/K each)
    <name>.means.f64      means[K*d]    start means, row-major (component k = row k)
    <name>.covs_full.f64  covs[K*d*d]   start covariances, each d x d symmetric (row-major
                                        = column-major)
    <name>.covs_diag.f64  vars[K*d]     start variances = the diagonals of covs_full
gmm_sizes.txt: '#' comment lines, then one line per size:  <name> <N> <d> <K>

The data are N draws from a K-component mixture with means ~ N(0, (2^2 * 2/d) I) (so
two means are about 4 apart whatever d is), random SPD covariances (A A^T / d + 0.5 I)
and unequal weights, generated with numpy default_rng seeded from (N, d, K). The
components overlap: with means ~ N(0, 3^2 I) at d = 32 they were so far apart that every
responsibility was 0 or 1 after one step and the EM hit an exact fixed point after two
iterations, where mclust and Armadillo stop (their convergence tests fire on a change of
exactly 0). The start is deliberately not the truth: means perturbed by N(0, 0.5^2 * 2/d),
covariances inflated (1.5 S + 0.5 I), equal weights, so every EM iteration does real work
(at iteration 10 the mean log-likelihood still changes by more than 1e-5 per iteration,
except at d = 32, K = 10, full, where the 32-dimensional covariance shapes alone separate
the components and the change is down to ~1e-8: still far from 0, so no peer stops early).
The (N = 10^6, d = 8, K = 5) file is 64 MB.
"""
import argparse
import pathlib
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "numpy"])
    import numpy as np

DEFAULT_SIZES = [(100_000, 2, 3), (100_000, 8, 5), (100_000, 32, 10), (1_000_000, 8, 5)]


def size_name(n, d, k):
    return f"gmm_n{n}_d{d}_k{k}"


def generate(n, d, k):
    rng = np.random.default_rng([20240, n, d, k])
    weights = 1.0 + rng.uniform(0.0, 1.0, k)
    weights /= weights.sum()
    means = rng.normal(0.0, 2.0 * np.sqrt(2.0 / d), (k, d))
    covs = np.empty((k, d, d))
    for j in range(k):
        a = rng.standard_normal((d, d))
        covs[j] = a @ a.T / d + 0.5 * np.eye(d)
    labels = rng.choice(k, size=n, p=weights)
    z = rng.standard_normal((n, d))
    x = np.empty((n, d))
    for j in range(k):
        idx = labels == j
        x[idx] = means[j] + z[idx] @ np.linalg.cholesky(covs[j]).T
    start_w = np.full(k, 1.0 / k)
    start_m = means + rng.normal(0.0, 0.5 * np.sqrt(2.0 / d), (k, d))
    start_s = 1.5 * covs + 0.5 * np.eye(d)
    start_s = 0.5 * (start_s + np.transpose(start_s, (0, 2, 1)))
    start_v = np.ascontiguousarray(np.diagonal(start_s, axis1=1, axis2=2))
    return x, start_w, start_m, start_s, start_v


def write(out, n, d, k):
    name = size_name(n, d, k)
    x, w, m, s, v = generate(n, d, k)
    for part, arr in (("x", x), ("weights", w), ("means", m), ("covs_full", s), ("covs_diag", v)):
        np.ascontiguousarray(arr, dtype="<f8").tofile(out / f"{name}.{part}.f64")
    return name


def parse_sizes(text):
    sizes = []
    for item in text.split(","):
        n, d, k = (int(t) for t in item.lower().split("x"))
        sizes.append((n, d, k))
    return sizes


def main():
    repo = pathlib.Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(repo / "target" / "compare"))
    ap.add_argument("--sizes", default=",".join(f"{n}x{d}x{k}" for n, d, k in DEFAULT_SIZES),
                    help="comma-separated NxdxK list")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# mixkern GMM EM peer benchmark data (benches/compare/gmm_data.py); float64 little-endian.",
        "# per line: <name> <N> <d> <K>; files <name>.{x,weights,means,covs_full,covs_diag}.f64",
        "# x[N*d] row-major, weights[K], means[K*d] row-major, covs_full[K*d*d], covs_diag[K*d]",
    ]
    for n, d, k in parse_sizes(args.sizes):
        name = write(out, n, d, k)
        lines.append(f"{name} {n} {d} {k}")
        print(f"wrote {out / name}.*.f64", file=sys.stderr)
    (out / "gmm_sizes.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
