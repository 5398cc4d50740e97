#!/usr/bin/env python3
"""scikit-learn GaussianMixture as an oracle for mixkern's EM fit.

Regenerate the committed output (installs scikit-learn and numpy with pip if missing):

    python3 tests/data/sklearn_gmm_reference.py > tests/data/sklearn_gmm_reference.txt

(equivalently `pip install scikit-learn numpy` first). The output is deterministic for a
given numpy / scikit-learn; the versions used are written in its header. Before printing
anything the script re-runs every case with an independent plain-numpy EM (below) and
asserts that it agrees with scikit-learn to 1e-10, so the meaning of every number in the
file is pinned by two implementations.

Output format (one item per line, whitespace separated, '#' starts a comment line):

    case <name> <n> <d> <k> <full|diag> <iterations> <reg_covar>
    x <n*d numbers, row-major>
    init_weights <k>
    init_means <k*d>
    init_covs <k*d*d (full) or k*d (diag)>
    weights <k>          after `iterations` EM iterations
    means <k*d>
    covs <k*d*d or k*d>
    lower_bound <1>      sklearn's lower_bound_
    mean_log_likelihood <1>   gm.score(X) at the final parameters
    end

Numbers are Python repr() of the float64 values: the shortest decimal string that reads
back to exactly the same double (Rust's `str::parse::<f64>` is correctly rounded, so the
Rust test sees the same bits). The data x and the initial parameters are rounded to a few
decimals *before* they are given to scikit-learn, so the short strings are the exact input.
The comment line before each `end` lists lower_bounds_ (the per-iteration values) for
debugging.

What scikit-learn computes (confirmed by reading sklearn/mixture/_base.py and
_gaussian_mixture.py of the installed version; line numbers are those of 1.9.1)
----------------------------------------------------------------------------------------
GaussianMixture(n_components=k, covariance_type=kind, tol=0.0, max_iter=T,
reg_covar=r, weights_init=w0, means_init=m0, precisions_init=inv(S0) (diag: 1/var),
n_init=1, random_state=0).fit(X).

Initialization. With all three *_init given, no k-means and no random numbers are used:
    _initialize_parameters (_gaussian_mixture.py 836-847):
                             compute_resp = (self.weights_init is None or
                              self.means_init is None or self.precisions_init is None)
                              ... else: self._initialize(X, None)
    _initialize (849-881):
                  self.weights_ = ... self.weights_init
                  self.means_ = means if self.means_init is None else self.means_init
                  self.precisions_cholesky_ = _compute_precision_cholesky_from_precisions(
                      self.precisions_init, self.covariance_type)
So the first E-step uses w0 as given (not renormalized; _check_weights only checks that
|1 - sum w0| <= 1e-8) and a Cholesky factor of the precision inv(S0) (flipped Cholesky,
upper triangular U with U U^T = inv(S0)). An implementation that starts from S0 itself (as
the numpy EM below does, and mixkern with user-given covariances) differs by rounding only:
the numpy EM agrees with scikit-learn to < 1e-13 on every case.

Loop (_base.py fit_predict, lines 265-278), with tol = 0 it never breaks early:
    for n_iter in range(1, self.max_iter + 1):
        prev_lower_bound = lower_bound
        log_prob_norm, log_resp = self._e_step(X, xp=xp)
        self._m_step(X, log_resp, xp=xp)
        lower_bound = self._compute_lower_bound(log_resp, log_prob_norm)
        ...
        if abs(change) < self.tol:      # never true for tol = 0
so exactly T iterations (E then M) are run. `change` is abs()'d, so a decrease would also
count as convergence when tol > 0.

E-step (_base.py _e_step, lines 314-332, and _estimate_log_prob_resp, lines 552-582):
    weighted_log_prob = self._estimate_log_prob(X) + self._estimate_log_weights()
                      # log phi(x_i; mu_k, S_k) + log w_k
    log_prob_norm = _logsumexp(weighted_log_prob, axis=1)
    log_resp = weighted_log_prob - log_prob_norm[:, xp.newaxis]
    return xp.mean(log_prob_norm), log_resp
and _compute_lower_bound(self, _, log_prob_norm): return log_prob_norm  (_gaussian_mixture.py
912-913).
So lower_bound_ = (1/n) sum_i log f(x_i) at the parameters of the last E-step, i.e. the
parameters BEFORE the last M-step (after T-1 M-steps; for T = 1 it is the log-likelihood
of the initial parameters). It is NOT the log-likelihood of the returned parameters: that
is gm.score(X) = mean(score_samples(X)) = mean(_logsumexp(_estimate_weighted_log_prob(X)))
(_base.py 356-393),
written here as mean_log_likelihood.
The Gaussian log-density (_estimate_log_gaussian_prob) for full covariances is
    y = (X @ prec_chol) - (mu @ prec_chol);  log_prob[:, k] = sum(y**2, axis=1)
    return -0.5 * (n_features * math.log(2 * math.pi) + log_prob) + log_det
with prec_chol = solve_triangular(chol(S_k), I, lower=True).T and log_det the sum of the
logs of its diagonal (= -1/2 log|S_k|); for diag, -0.5 * (d log 2pi + sum_j (x_j - mu_j)^2
/ var_j) - 1/2 sum_j log var_j, expanded as sum(mu^2 p) - 2 X @ (mu p)^T + X^2 @ p^T.

M-step (_gaussian_mixture.py _m_step, lines 883-903; _estimate_gaussian_parameters,
282-321; _estimate_gaussian_covariances_full, 168-197; _diag, 229-252):
    nk = xp.sum(resp, axis=0) + 10 * xp.finfo(resp.dtype).eps
    means = (resp.T @ X) / nk[:, xp.newaxis]
    full:  diff = X - means[k, :]
           covariances[k, :, :] = ((resp[:, k] * diff.T) @ diff) / nk[k]
           _add_to_diagonal(covariances[k, :, :], reg_covar, xp)
    diag:  avg_X2 = (resp.T @ (X * X)) / nk[:, xp.newaxis]
           avg_means2 = means**2
           return avg_X2 - avg_means2 + reg_covar
    self.weights_, self.means_, self.covariances_ = _estimate_gaussian_parameters(
        X, xp.exp(log_resp), self.reg_covar, self.covariance_type)
    self.weights_ /= xp.sum(self.weights_)
i.e. resp = exp(log_resp); nk = sum_i r_ik + 10 eps (eps = 2.22e-16; relative effect
~1e-17 here); mu_k = sum_i r_ik x_i / nk; S_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / nk
+ reg_covar I (the NEW mean, divided by nk, not nk - 1); weights = nk / sum_k nk (= nk / n
up to rounding). The diagonal case uses the one-pass E[x^2] - mu^2 form: with the data
near the origin and variances O(0.1..5) as here its cancellation costs ~1e-15 relative, so
a two-pass implementation (as the numpy check below and mixkern use) agrees well within
1e-10. The reg_covar is added after dividing by nk (it is not weighted by nk).

After the loop the parameters of the single init are kept (n_init = 1: the test
`lower_bound > max_lower_bound or max_lower_bound == -xp.inf` is true), so weights_,
means_, covariances_ are the result of exactly T M-steps. fit_predict ends with one more
_e_step only to compute labels; it does not change the parameters. A ConvergenceWarning is
always raised with tol = 0 and is silenced here.

Comparing: use a normwise relative error per array, max|a - b| / max|b| (covariance
off-diagonals can be close to zero); scikit-learn and the numpy EM agree to well under
1e-12 on these cases, so a 1e-8 test has a wide margin.

Cases (data from numpy default_rng(seed), initial parameters deliberately off the truth:
perturbed means, inflated covariances, unequal weights, so the EM moves):
    a  n=600  d=2 k=3 full 10 iterations reg 1e-6
    b  n=1000 d=4 k=3 full 20 iterations reg 1e-6
    c  n=800  d=5 k=4 diag 15 iterations reg 1e-6
    d  n=500  d=3 k=2 full  1 iteration  reg 0     (one E step + one M step)
    e  n=400  d=2 k=3 full  5 iterations reg 1e-3  (one cluster with sd 0.01: its fitted
                                                    covariance is dominated by reg_covar)
"""
import subprocess
import sys
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

DATA_DECIMALS = 6  # x is rounded to this many decimals (the exact input)
INIT_DECIMALS = 4  # initial means and covariances likewise


def draw(rng, n, weights, means, covs, kind):
    """n samples of the mixture (labels drawn first, then the component noise)."""
    k, d = means.shape
    labels = rng.choice(k, size=n, p=weights)
    z = rng.standard_normal((n, d))
    if kind == "full":
        chol = np.linalg.cholesky(covs)
        noise = np.einsum("nij,nj->ni", chol[labels], z)
    else:
        noise = z * np.sqrt(covs)[labels]
    return np.round(means[labels] + noise, DATA_DECIMALS)


def random_spd(rng, d, scale):
    a = rng.standard_normal((d, d))
    return scale * (a @ a.T / d + 0.3 * np.eye(d))


def make_cases():
    cases = []

    # (a) 2-D, three overlapping components.
    rng = np.random.default_rng(101)
    w = np.array([0.5, 0.3, 0.2])
    mu = np.array([[0.0, 0.0], [4.0, 0.5], [1.5, 3.5]])
    cov = np.array([[[1.0, 0.3], [0.3, 0.6]], [[0.7, -0.2], [-0.2, 1.2]], [[0.5, 0.0], [0.0, 0.5]]])
    x = draw(rng, 600, w, mu, cov, "full")
    m0 = mu + np.array([[0.7, -0.5], [-0.6, 0.8], [0.5, 0.6]])
    s0 = 2.0 * cov + 0.3 * np.eye(2)
    cases.append(("a", x, 3, "full", 10, 1e-6, np.array([0.3, 0.3, 0.4]), m0, s0))

    # (b) 4-D, random SPD covariances.
    rng = np.random.default_rng(202)
    k, d = 3, 4
    w = np.array([0.45, 0.35, 0.2])
    mu = rng.normal(0.0, 2.5, (k, d))
    cov = np.stack([random_spd(rng, d, s) for s in (1.0, 0.6, 1.4)])
    x = draw(rng, 1000, w, mu, cov, "full")
    m0 = mu + rng.normal(0.0, 0.8, (k, d))
    s0 = 1.8 * cov + 0.5 * np.eye(d)
    cases.append(("b", x, k, "full", 20, 1e-6, np.array([0.3, 0.35, 0.35]), m0, s0))

    # (c) 5-D, diagonal.
    rng = np.random.default_rng(303)
    k, d = 4, 5
    w = np.array([0.3, 0.3, 0.25, 0.15])
    mu = rng.normal(0.0, 2.5, (k, d))
    var = rng.uniform(0.3, 2.0, (k, d))
    x = draw(rng, 800, w, mu, var, "diag")
    m0 = mu + rng.normal(0.0, 0.7, (k, d))
    s0 = 2.0 * var + 0.5
    cases.append(("c", x, k, "diag", 15, 1e-6, np.array([0.25, 0.25, 0.25, 0.25]), m0, s0))

    # (d) 3-D, two components, one EM step, no regularization.
    rng = np.random.default_rng(404)
    k, d = 2, 3
    w = np.array([0.6, 0.4])
    mu = np.array([[0.0, 0.0, 0.0], [2.5, -1.5, 1.0]])
    cov = np.stack([random_spd(rng, d, 1.0), random_spd(rng, d, 0.7)])
    x = draw(rng, 500, w, mu, cov, "full")
    m0 = mu + np.array([[0.5, 0.4, -0.3], [-0.4, 0.5, 0.6]])
    s0 = 1.5 * cov + 0.4 * np.eye(d)
    cases.append(("d", x, k, "full", 1, 0.0, np.array([0.5, 0.5]), m0, s0))

    # (e) 2-D, one tight cluster (sd 0.01, variance 1e-4 < reg_covar 1e-3).
    rng = np.random.default_rng(505)
    w = np.array([0.4, 0.35, 0.25])
    mu = np.array([[0.0, 0.0], [3.0, 1.0], [0.5, 3.0]])
    cov = np.array([[[1.0, 0.2], [0.2, 0.8]], [[1e-4, 0.0], [0.0, 1e-4]], [[0.6, -0.1], [-0.1, 0.9]]])
    x = draw(rng, 400, w, mu, cov, "full")
    m0 = mu + np.array([[0.4, -0.3], [0.05, -0.04], [-0.4, 0.5]])
    s0 = np.stack([2.0 * cov[0] + 0.2 * np.eye(2), 0.01 * np.eye(2), 2.0 * cov[2] + 0.2 * np.eye(2)])
    cases.append(("e", x, 3, "full", 5, 1e-3, np.array([0.35, 0.3, 0.35]), m0, s0))

    out = []
    for name, x, k, kind, iters, reg, w0, m0, s0 in cases:
        m0 = np.round(m0, INIT_DECIMALS)
        s0 = np.round(s0, INIT_DECIMALS)
        if kind == "full":
            s0 = 0.5 * (s0 + np.transpose(s0, (0, 2, 1)))  # exact: already symmetric
        out.append((name, x, k, kind, iters, reg, w0, m0, s0))
    return out


def run_sklearn(x, k, kind, iters, reg, w0, m0, s0):
    if kind == "full":
        prec = np.linalg.inv(s0)
        prec = 0.5 * (prec + np.transpose(prec, (0, 2, 1)))
    else:
        prec = 1.0 / s0
    gm = GaussianMixture(
        n_components=k,
        covariance_type=kind,
        tol=0.0,
        max_iter=iters,
        reg_covar=reg,
        weights_init=w0,
        means_init=m0,
        precisions_init=prec,
        n_init=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(x)
    assert gm.n_iter_ == iters
    return gm.weights_, gm.means_, gm.covariances_, gm.lower_bound_, gm.score(x), list(gm.lower_bounds_)


def log_density(x, w, m, s, kind):
    """(n, k) matrix of log w_k + log phi(x_i; m_k, s_k), from the covariances."""
    n, d = x.shape
    k = len(w)
    out = np.empty((n, k))
    for j in range(k):
        diff = x - m[j]
        if kind == "full":
            l = np.linalg.cholesky(s[j])
            z = np.linalg.solve(l, diff.T)  # L z = (x - mu)^T
            maha = np.sum(z * z, axis=0)
            logdet = 2.0 * np.sum(np.log(np.diag(l)))
        else:
            maha = np.sum(diff * diff / s[j], axis=1)
            logdet = np.sum(np.log(s[j]))
        out[:, j] = np.log(w[j]) - 0.5 * (d * np.log(2.0 * np.pi) + logdet + maha)
    return out


def logsumexp_rows(a):
    mx = a.max(axis=1, keepdims=True)
    return (mx + np.log(np.exp(a - mx).sum(axis=1, keepdims=True)))[:, 0]


def run_numpy(x, k, kind, iters, reg, w0, m0, s0):
    """Plain EM from the covariances (two-pass scatter, no 10*eps): what mixkern does."""
    n, d = x.shape
    w, m, s = w0.copy(), m0.copy(), s0.copy()
    lb = None
    for _ in range(iters):
        lw = log_density(x, w, m, s, kind)
        lse = logsumexp_rows(lw)
        lb = lse.mean()
        r = np.exp(lw - lse[:, None])
        nk = r.sum(axis=0)
        m = (r.T @ x) / nk[:, None]
        if kind == "full":
            s = np.empty((k, d, d))
            for j in range(k):
                diff = x - m[j]
                s[j] = (r[:, j, None] * diff).T @ diff / nk[j] + reg * np.eye(d)
        else:
            s = np.stack([(r[:, j, None] * (x - m[j]) ** 2).sum(axis=0) / nk[j] + reg for j in range(k)])
        w = nk / n
    final = logsumexp_rows(log_density(x, w, m, s, kind)).mean()
    return w, m, s, lb, final


def relerr(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def fmt(values):
    return " ".join(repr(float(v)) for v in np.asarray(values, float).ravel())


def main():
    cases = make_cases()
    lines = [
        "# scikit-learn GaussianMixture reference fits for mixkern's EM (do not edit by hand).",
        "# Regenerate: python3 tests/data/sklearn_gmm_reference.py > tests/data/sklearn_gmm_reference.txt",
        f"# numpy {np.__version__}, scikit-learn {sklearn.__version__}; tol=0, fixed iterations,"
        " weights_init/means_init/precisions_init=inv(init_covs), n_init=1.",
        "# lower_bound = mean log-likelihood at the parameters before the last M-step;"
        " mean_log_likelihood = gm.score(x) at the final parameters.",
        "# Compare arrays with max|a-b|/max|b|; sklearn vs an independent numpy EM agree to <1e-10 (checked).",
    ]
    worst = 0.0
    for name, x, k, kind, iters, reg, w0, m0, s0 in cases:
        n, d = x.shape
        w, m, s, lb, ll, lbs = run_sklearn(x, k, kind, iters, reg, w0, m0, s0)
        nw, nm, ns, nlb, nll = run_numpy(x, k, kind, iters, reg, w0, m0, s0)
        errs = [relerr(nw, w), relerr(nm, m), relerr(ns, s), relerr(nlb, lb), relerr(nll, ll)]
        assert max(errs) < 1e-10, (name, errs)
        worst = max(worst, max(errs))
        # The EM must actually have moved away from the start.
        assert relerr(m0, m) > 1e-2, name
        print(f"case {name}: numpy vs sklearn max rel err {max(errs):.2e}, "
              f"mean loglik {lbs[0]:.6f} -> {ll:.6f}", file=sys.stderr)
        lines += [
            f"case {name} {n} {d} {k} {kind} {iters} {reg!r}",
            "x " + fmt(x),
            "init_weights " + fmt(w0),
            "init_means " + fmt(m0),
            "init_covs " + fmt(s0),
            "weights " + fmt(w),
            "means " + fmt(m),
            "covs " + fmt(s),
            "lower_bound " + fmt([lb]),
            "mean_log_likelihood " + fmt([ll]),
            "# lower_bounds_ per iteration: " + fmt(lbs),
            "end",
        ]
    print(f"all cases: numpy EM matches scikit-learn, worst normwise rel err {worst:.2e}", file=sys.stderr)
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
