#!/usr/bin/env python3
"""The DFMR authors' Python on the sizes of benches/reduce.rs and benches/distance.rs.

    python3 benches/compare/dfmr_authors.py --ctdgmr PATH/TO/CTDGMR [--repeats 3]

PATH/TO/CTDGMR is a checkout of https://github.com/SarahQiong/CTDGMR (the package the
RobustSCGMM code imports; tested against commit 7376da1b9077ba90ee24067f843cfb8094b36e46 of
CTDGMR/minCTD.py and CTDGMR/distance.py); it is not vendored here (its licence is CC BY-NC-SA).
Needs numpy, scipy, scikit-learn and POT (`pip install pot`). Default: $CTDGMR_DIR, else
target/compare/CTDGMR.

Shims, none on the timed paths: `np.Inf` (removed in numpy 2) is aliased to `np.inf`;
CTDGMR.greedy and CTDGMR.optGMR, imported by the package but used only by other
initializations and the ISE cost, are replaced by empty modules when their imports fail (they
need the scikit-learn < 1.0 module sklearn.mixture.base).

Timed, each the median of --repeats runs, single-threaded BLAS:
- the pairwise L2 matrix of m = 20 local estimates (K = 5, d = 10, full covariances), the way
  their robust median computes it: sqrt(GMM_L2) for every ordered pair;
- GMR_CTD with the KL cost (reg = 0, tol = 1e-5, max_iter = 100, init_method = 'user')
  reducing the pooled m K components to K, started from machine 0's estimate: 500 -> 10 in
  d = 50 and 100 -> 5 in d = 10.
The data follow benches/reduce.rs (true mixture with weights from normalized uniforms, means
N(0, 4 I), covariances A A^T / d + I; each machine's estimate the sample moments of its
N w_k / m draws per component, N = 100000, weights perturbed by 5%, labels permuted), drawn
with numpy's generator, so not the same numbers as the Rust bench. The authors count an
iteration as a weight update plus a support update and stop on an absolute objective change
below tol (mixkern: relative), so iteration counts are indicative.
"""
import argparse
import importlib
import os
import statistics
import sys
import time
import types

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402


def load_authors(root):
    """GMR_CTD and GMM_L2 from the CTDGMR checkout at `root`."""
    if not hasattr(np, "Inf"):
        np.Inf = np.inf
    try:
        import ot  # noqa: F401
    except ImportError:
        sys.exit("POT is missing: pip install pot")
    package_dir = os.path.join(root, "CTDGMR")
    if not os.path.isdir(package_dir):
        sys.exit(
            f"no CTDGMR package under {root}: git clone https://github.com/SarahQiong/CTDGMR "
            "and pass --ctdgmr (or set CTDGMR_DIR)"
        )
    package = types.ModuleType("CTDGMR")
    package.__path__ = [package_dir]
    sys.modules["CTDGMR"] = package
    for name, attributes in (("greedy", []), ("optGMR", ["GMR_opt_BFGS"])):
        try:
            importlib.import_module(f"CTDGMR.{name}")
        except Exception as error:  # an old scikit-learn API; not on the timed paths
            stub = types.ModuleType(f"CTDGMR.{name}")
            stub.__all__ = []
            for attribute in attributes:
                setattr(stub, attribute, None)
            sys.modules[f"CTDGMR.{name}"] = stub
            print(f"(CTDGMR.{name} replaced by an empty module: {error})", file=sys.stderr)
    min_ctd = importlib.import_module("CTDGMR.minCTD")
    distance = importlib.import_module("CTDGMR.distance")
    return min_ctd.GMR_CTD, distance.GMM_L2


def truth(rng, k, d):
    weights = 0.1 + rng.uniform(size=k)
    weights /= weights.sum()
    means = 2.0 * rng.standard_normal((k, d))
    a = rng.standard_normal((k, d, d))
    covs = a @ a.transpose(0, 2, 1) / d + np.eye(d)
    return weights, means, covs


def local_estimate(rng, g, n):
    weights, means, covs = g
    k, d = means.shape
    perm = rng.permutation(k)
    est_w, est_mu, est_cov = np.empty(k), np.empty((k, d)), np.empty((k, d, d))
    for src, dst in enumerate(perm):
        nk = max(int(round(n * weights[src])), d + 1)
        x = rng.multivariate_normal(means[src], covs[src], size=nk)
        mean = x.mean(axis=0)
        centred = x - mean
        est_mu[dst] = mean
        est_cov[dst] = centred.T @ centred / nk
        est_w[dst] = weights[src] * max(1.0 + 0.05 * rng.standard_normal(), 0.5)
    return est_w / est_w.sum(), est_mu, est_cov


def estimates(seed, m, k, d):
    rng = np.random.default_rng(seed)
    g = truth(rng, k, d)
    return [local_estimate(rng, g, 100_000 // m) for _ in range(m)]


def median_time(f, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pairwise_l2(GMM_L2, ests):
    m = len(ests)
    dist = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            (wi, mi, si), (wj, mj, sj) = ests[i], ests[j]
            value = GMM_L2([mi, mj], [si, sj], [wi.copy(), wj.copy()])
            dist[i, j] = np.sqrt(max(value, 0.0))
    return dist


def reduce_pooled(GMR_CTD, ests, k):
    m = len(ests)
    weights = np.concatenate([w for w, _, _ in ests]) / m
    means = np.concatenate([mu for _, mu, _ in ests])
    covs = np.concatenate([s for _, _, s in ests])
    w0, mu0, s0 = ests[0]
    reduction = GMR_CTD(
        means,
        covs,
        weights,
        k,
        init_method="user",
        tol=1e-5,
        max_iter=100,
        ground_distance="KL",
        reg=0,
        means_init=mu0.copy(),
        covs_init=s0.copy(),
        weights_init=w0.copy(),
        random_state=0,
    )
    reduction.iterative()
    return reduction


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_dir = os.environ.get(
        "CTDGMR_DIR",
        os.path.join(os.path.dirname(__file__), "..", "..", "target", "compare", "CTDGMR"),
    )
    parser.add_argument("--ctdgmr", default=default_dir)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    GMR_CTD, GMM_L2 = load_authors(os.path.abspath(args.ctdgmr))

    ests = estimates(1, 20, 5, 10)
    seconds, _ = median_time(lambda: pairwise_l2(GMM_L2, ests), args.repeats)
    print(f"pairwise L2 matrix, m=20, K=5, d=10, full: {seconds * 1e3:.1f} ms")

    for m, k, d in [(50, 10, 50), (20, 5, 10)]:
        ests = estimates(2 + d, m, k, d)
        seconds, reduction = median_time(lambda: reduce_pooled(GMR_CTD, ests, k), args.repeats)
        print(
            f"GMR_CTD (KL) {m * k}->{k}, d={d}, full: {seconds * 1e3:.1f} ms, "
            f"{getattr(reduction, 'n_iter_', 'max')} iterations, "
            f"converged {reduction.converged_}, kept {reduction.new_n}"
        )


if __name__ == "__main__":
    main()
