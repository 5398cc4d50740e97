#!/usr/bin/env python3
"""scikit-learn GaussianMixture: ms per EM iteration from the shared start (peer benchmark).

    python3 benches/compare/gmm_data.py                      # writes target/compare/
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        MKL_NUM_THREADS=1 python3 benches/compare/gmm_em_sklearn.py [--iters 10] [--repeats 5]

(benches/compare/run_peers.sh does all of this; scikit-learn and numpy are pip-installed
if missing.) For every size in target/compare/gmm_sizes.txt and each covariance kind
(full, diag), times GaussianMixture(n_components=K, covariance_type=kind, tol=0,
max_iter=T, reg_covar=0, weights_init, means_init, precisions_init=inv(start covs)).fit(x)
and reports the median over the repeats of (fit time) / T, after one untimed warm-up fit:
wall-clock (median and min) and process CPU time (median; on a shared machine the CPU
time of a single-threaded run is the steadier number).

What one fit with max_iter=T does (sklearn/mixture/_base.py fit_predict): input
validation, the precision Cholesky factors of precisions_init, T x (E-step + M-step), then
one more E-step for the labels fit_predict returns. So total/T includes 1/T of an extra
E-step and the set-up; nothing is subtracted. reg_covar = 0 (the cost is the same as with
the default 1e-6) so the final parameters match the other peers' (no regularization in
mclust; Armadillo only floors the variances at 1e-10); ll_final = gm.score(x) after the
fit, outside the timing, is printed as a check that all peers ran the same iterations.

Output: one line per (size, kind):
    RESULT sklearn <N> <d> <K> <kind> <T> <median wall ms/iter> <min wall ms/iter>
           <median cpu ms/iter> <ll_final>
"""
import argparse
import pathlib
import subprocess
import sys
import time
import warnings

try:
    import numpy as np
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "scikit-learn", "numpy"])
    import numpy as np
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture


def read_sizes(folder):
    sizes = []
    for line in (folder / "gmm_sizes.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, n, d, k = line.split()
        sizes.append((name, int(n), int(d), int(k)))
    return sizes


def load(folder, name, part, shape):
    arr = np.fromfile(folder / f"{name}.{part}.f64", dtype="<f8")
    assert arr.size == int(np.prod(shape)), (name, part, arr.size, shape)
    return arr.reshape(shape)


def make_model(k, kind, iters, w0, m0, s0):
    if kind == "full":
        prec = np.linalg.inv(s0)
        prec = 0.5 * (prec + np.transpose(prec, (0, 2, 1)))
    else:
        prec = 1.0 / s0
    return GaussianMixture(n_components=k, covariance_type=kind, tol=0.0, max_iter=iters,
                           reg_covar=0.0, weights_init=w0, means_init=m0, precisions_init=prec,
                           n_init=1, random_state=0)


def main():
    repo = pathlib.Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=str(repo / "target" / "compare"))
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--big-repeats", type=int, default=3, help="repeats when N*d*K > 1e7")
    ap.add_argument("--kinds", default="full,diag")
    ap.add_argument("--only", default="", help="comma-separated size names to run (default all)")
    args = ap.parse_args()
    folder = pathlib.Path(args.dir)
    try:
        from threadpoolctl import threadpool_info

        blas = [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()]
    except ImportError:
        blas = "threadpoolctl not installed"
    print(f"# sklearn {sklearn.__version__}, numpy {np.__version__}, thread pools {blas}", file=sys.stderr)
    only = set(filter(None, args.only.split(",")))
    for name, n, d, k in read_sizes(folder):
        if only and name not in only:
            continue
        x = load(folder, name, "x", (n, d))
        w0 = load(folder, name, "weights", (k,))
        m0 = load(folder, name, "means", (k, d))
        for kind in args.kinds.split(","):
            s0 = load(folder, name, "covs_full", (k, d, d)) if kind == "full" else load(folder, name, "covs_diag", (k, d))
            repeats = args.big_repeats if n * d * k > 10_000_000 else args.repeats
            times, cpu = [], []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                for r in range(repeats + 1):
                    gm = make_model(k, kind, args.iters, w0, m0, s0)
                    c0, t0 = time.process_time(), time.perf_counter()
                    gm.fit(x)
                    dt, dc = time.perf_counter() - t0, time.process_time() - c0
                    assert gm.n_iter_ == args.iters
                    if r > 0:  # r = 0 is the warm-up
                        times.append(dt)
                        cpu.append(dc)
            ll = gm.score(x)
            per = 1e3 * np.array(times) / args.iters
            per_cpu = 1e3 * np.median(cpu) / args.iters
            print(f"RESULT sklearn {n} {d} {k} {kind} {args.iters} {np.median(per):.2f} {per.min():.2f} "
                  f"{per_cpu:.2f} {ll:.10f}", flush=True)


if __name__ == "__main__":
    main()
