#!/usr/bin/env python3
"""The vectorized numpy baseline for one Algorithm 1 step at N = 10^6, d = 10 (issue: 12.6 ms).

    python3 benches/compare/numpy_alg1.py            # installs numpy with pip if missing

One step: u = y <x, theta> / sigma^2; theta <- Sigma_hat^-1 (1/N) X^T (tanh(u) y), with
Sigma_hat's Cholesky factor precomputed, exactly what `cargo bench --bench cmlr` times as
cmlr/alg1_step. Prints the median of 30 timed steps, in ms and in GB/s of X and y read.

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines here) slow a current numpy: run it
as `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benches/compare/numpy_alg1.py`, and
with OPENBLAS_NUM_THREADS=1 for the single-thread figure.
"""
import subprocess
import sys
import time

try:
    import numpy as np
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "numpy"])
    import numpy as np


def main():
    n, d, sigma = 1_000_000, 10, 1.0
    rng = np.random.default_rng(1)
    theta_star = np.where(np.arange(d) % 2 == 0, 1.0, -1.0) * 4.0 / np.sqrt(d)
    xi = np.repeat(rng.choice([-1.0, 1.0], size=1000), n // 1000)
    x = rng.standard_normal((n, d))
    y = xi * (x @ theta_star) + sigma * rng.standard_normal(n)
    chol = np.linalg.cholesky(x.T @ x / n)
    theta0 = theta_star * 1.05

    def step(theta):
        w = np.tanh(y * (x @ theta) / sigma**2) * y
        b = x.T @ w / n
        z = np.linalg.solve(chol, b)  # small triangular solves; negligible next to the pass
        return np.linalg.solve(chol.T, z)

    for _ in range(3):
        step(theta0)
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        step(theta0)
        times.append(time.perf_counter() - t0)
    ms = 1e3 * float(np.median(times))
    gbs = (x.nbytes + y.nbytes) / (ms / 1e3) / 1e9
    try:
        from threadpoolctl import threadpool_info

        blas = [(i.get("internal_api"), i.get("num_threads"), i.get("architecture")) for i in threadpool_info()]
    except ImportError:
        blas = "threadpoolctl not installed"
    print(f"numpy {np.__version__} alg1 step N={n} d={d}: median {ms:.2f} ms ({gbs:.2f} GB/s); blas {blas}")


if __name__ == "__main__":
    main()
