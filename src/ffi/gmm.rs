//! C ABI of [`crate::gmm`]: mixture densities, log-likelihood, responsibilities, hard labels,
//! BIC and the seeded simulator.
//!
//! A mixture comes from C as five arguments: `weights` (K doubles), `means` (K*d doubles,
//! row-major), `covs` (K*d*d doubles for `MK_COV_FULL`, symmetric row-major; K*d doubles for
//! `MK_COV_DIAG`, the variances), `k`, `d`, and `cov_kind` (`MK_COV_FULL` or `MK_COV_DIAG`).

use super::{
    mixture, optional_slice, optional_slice_mut, parse_cov_kind, product, run, slice, slice_mut,
    work_len_for_c, MK_COV_FULL,
};
use crate::gmm;
use crate::Status;

/// The length of the density functions' workspace for C (0 on zero sizes, overflow or an
/// unknown kind).
fn density_work_len_for_c(k: usize, d: usize, cov_kind_code: i32) -> usize {
    let len = parse_cov_kind(cov_kind_code).and_then(|kind| gmm::density_work_len(k, d, kind));
    work_len_for_c(k > 0 && d > 0, len)
}

/// Workspace length (doubles) of `mk_gmm_log_density`:
/// K (2d + c + 65) + 32d + 128 with c = d*d (`MK_COV_FULL`) or d (`MK_COV_DIAG`); 0 if K or d
/// is 0, `cov_kind` is unknown, or the length overflows size_t.
#[no_mangle]
pub extern "C" fn mk_gmm_log_density_work_len(k: usize, d: usize, cov_kind: i32) -> usize {
    density_work_len_for_c(k, d, cov_kind)
}

/// Per-sample log-density of a Gaussian mixture: `out[i] = log f(x_i)`,
/// f = sum_k w_k N(mu_k, S_k), by a max-shifted log-sum-exp (finite even for samples thousands
/// of standard deviations from every mean).
///
/// Parameters:
/// - `weights` (in): K doubles, >= 0, summing to 1 within 1e-9.
/// - `means` (in): K x d, row-major, `k * d` doubles.
/// - `covs` (in): `MK_COV_FULL`: K symmetric positive definite d x d matrices, row-major,
///   `k * d * d` doubles; `MK_COV_DIAG`: K x d positive variances, `k * d` doubles.
/// - `k`, `d`: number of components and dimension, both > 0.
/// - `cov_kind`: `MK_COV_FULL` or `MK_COV_DIAG`.
/// - `x` (in): n x d samples, row-major, `n * d` doubles.
/// - `n`: number of samples, > 0.
/// - `out` (out): `n` doubles.
/// - `work` (scratch): `work_len` >= `mk_gmm_log_density_work_len(k, d, cov_kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (K, d or n is 0), `MK_STATUS_SIZE_OVERFLOW` (K*d, K*d*d or n*d
/// overflows), `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown
/// `cov_kind`), `MK_STATUS_NON_FINITE` (NaN or infinity in the parameters or the samples, or a
/// sample so far from every component that its log-density overflows), `MK_STATUS_WEIGHTS`
/// (a negative weight, or weights not summing to 1), `MK_STATUS_NOT_SPD` (a covariance that is
/// not symmetric positive definite), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `out` and `work` must not
/// overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_log_density(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    k: usize,
    d: usize,
    cov_kind: i32,
    x: *const f64,
    n: usize,
    out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mix = unsafe { mixture(weights, means, covs, k, d, cov_kind) }?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let out = unsafe { slice_mut(out, n) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        gmm::log_density(&mix, x, n, out, work)
    })
}

/// Workspace length (doubles) of `mk_gmm_log_likelihood`: the same as
/// `mk_gmm_log_density_work_len(k, d, cov_kind)`.
#[no_mangle]
pub extern "C" fn mk_gmm_log_likelihood_work_len(k: usize, d: usize, cov_kind: i32) -> usize {
    density_work_len_for_c(k, d, cov_kind)
}

/// Log-likelihood of n samples under a Gaussian mixture: sum_i log f(x_i) and its mean, in one
/// pass over the samples.
///
/// Parameters:
/// - `weights`, `means`, `covs`, `k`, `d`, `cov_kind`, `x`, `n`: as for `mk_gmm_log_density`.
/// - `total_out` (out): one double, sum_i log f(x_i).
/// - `mean_out` (out, optional): if not NULL, one double, the total divided by n.
/// - `work` (scratch): `work_len` >= `mk_gmm_log_likelihood_work_len(k, d, cov_kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: the statuses of
/// `mk_gmm_log_density` (`MK_STATUS_NON_FINITE` also when the sum overflows).
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; the outputs and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_log_likelihood(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    k: usize,
    d: usize,
    cov_kind: i32,
    x: *const f64,
    n: usize,
    total_out: *mut f64,
    mean_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mix = unsafe { mixture(weights, means, covs, k, d, cov_kind) }?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let total_out = unsafe { total_out.as_mut() }.ok_or(Status::NullPointer)?;
        let mean_out = unsafe { mean_out.as_mut() };
        let work = unsafe { slice_mut(work, work_len) }?;
        let loglik = gmm::log_likelihood(&mix, x, n, work)?;
        *total_out = loglik.total;
        if let Some(mean) = mean_out {
            *mean = loglik.mean;
        }
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_gmm_responsibilities`: the same as
/// `mk_gmm_log_density_work_len(k, d, cov_kind)`.
#[no_mangle]
pub extern "C" fn mk_gmm_responsibilities_work_len(k: usize, d: usize, cov_kind: i32) -> usize {
    density_work_len_for_c(k, d, cov_kind)
}

/// Responsibilities (posterior component probabilities) of n samples:
/// `resp_out[i*k + j] = w_j N(x_i; mu_j, S_j) / f(x_i)`, normalized in the log domain (each
/// row sums to 1 within a few ulps).
///
/// Parameters:
/// - `weights`, `means`, `covs`, `k`, `d`, `cov_kind`, `x`, `n`: as for `mk_gmm_log_density`.
/// - `resp_out` (out): n x K, row-major, `n * k` doubles.
/// - `loglik_out` (out, optional): if not NULL, one double, sum_i log f(x_i).
/// - `work` (scratch): `work_len` >= `mk_gmm_responsibilities_work_len(k, d, cov_kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: the statuses of
/// `mk_gmm_log_density` (`MK_STATUS_SIZE_OVERFLOW` also when n*K overflows).
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; the outputs and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_responsibilities(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    k: usize,
    d: usize,
    cov_kind: i32,
    x: *const f64,
    n: usize,
    resp_out: *mut f64,
    loglik_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (len_x, len_resp) = (product(n, d)?, product(n, k)?);
        let mix = unsafe { mixture(weights, means, covs, k, d, cov_kind) }?;
        let x = unsafe { slice(x, len_x) }?;
        let resp = unsafe { slice_mut(resp_out, len_resp) }?;
        let loglik_out = unsafe { loglik_out.as_mut() };
        let work = unsafe { slice_mut(work, work_len) }?;
        let loglik = gmm::responsibilities(&mix, x, n, resp, work)?;
        if let Some(out) = loglik_out {
            *out = loglik;
        }
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_gmm_hard_labels`: the same as
/// `mk_gmm_log_density_work_len(k, d, cov_kind)`.
#[no_mangle]
pub extern "C" fn mk_gmm_hard_labels_work_len(k: usize, d: usize, cov_kind: i32) -> usize {
    density_work_len_for_c(k, d, cov_kind)
}

/// Hard labels (maximum a posteriori components): `labels_out[i]` = the index in 0..K-1 of
/// the largest responsibility of sample i, the lowest index on ties (exactly the argmax of the
/// rows `mk_gmm_responsibilities` writes).
///
/// Parameters:
/// - `weights`, `means`, `covs`, `k`, `d`, `cov_kind`, `x`, `n`: as for `mk_gmm_log_density`.
/// - `labels_out` (out): `n` size_t values.
/// - `work` (scratch): `work_len` >= `mk_gmm_hard_labels_work_len(k, d, cov_kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `labels_out` untouched: the statuses of
/// `mk_gmm_log_density`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `labels_out` and `work` must
/// not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_hard_labels(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    k: usize,
    d: usize,
    cov_kind: i32,
    x: *const f64,
    n: usize,
    labels_out: *mut usize,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mix = unsafe { mixture(weights, means, covs, k, d, cov_kind) }?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let labels = unsafe { slice_mut(labels_out, n) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        gmm::hard_labels(&mix, x, n, labels, work)
    })
}

/// Workspace length (doubles) of `mk_gmm_bic`: the same as
/// `mk_gmm_log_density_work_len(k, d, cov_kind)`.
#[no_mangle]
pub extern "C" fn mk_gmm_bic_work_len(k: usize, d: usize, cov_kind: i32) -> usize {
    density_work_len_for_c(k, d, cov_kind)
}

/// Bayesian information criterion of n samples: BIC = -2 log L + p ln n (smaller is better),
/// log L = sum_i log f(x_i), p the number of free parameters:
/// p = (K - 1) + K d + K d (d + 1) / 2 for `MK_COV_FULL`, (K - 1) + 2 K d for `MK_COV_DIAG`.
///
/// Parameters:
/// - `weights`, `means`, `covs`, `k`, `d`, `cov_kind`, `x`, `n`: as for `mk_gmm_log_density`.
/// - `bic_out` (out): one double.
/// - `work` (scratch): `work_len` >= `mk_gmm_bic_work_len(k, d, cov_kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `bic_out` untouched: the statuses of
/// `mk_gmm_log_likelihood`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `bic_out` and `work` must not
/// overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_bic(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    k: usize,
    d: usize,
    cov_kind: i32,
    x: *const f64,
    n: usize,
    bic_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mix = unsafe { mixture(weights, means, covs, k, d, cov_kind) }?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let bic_out = unsafe { bic_out.as_mut() }.ok_or(Status::NullPointer)?;
        let work = unsafe { slice_mut(work, work_len) }?;
        *bic_out = gmm::bic(&mix, x, n, work)?;
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_gmm_simulate`: K (2d + c + 1) with c = d*d
/// (`MK_COV_FULL`) or d (`MK_COV_DIAG`); 0 if K or d is 0, `cov_kind` is unknown, or the length
/// overflows size_t.
#[no_mangle]
pub extern "C" fn mk_gmm_simulate_work_len(k: usize, d: usize, cov_kind: i32) -> usize {
    let len = parse_cov_kind(cov_kind).and_then(|kind| gmm::simulate_work_len(k, d, kind));
    work_len_for_c(k > 0 && d > 0, len)
}

/// Draws n samples from a Gaussian mixture with a seed: per sample a component with probability
/// w_k (one uniform draw against the cumulative weights), then x = mu_k + L_k z with L_k the
/// lower Cholesky factor of S_k and z standard normal (d draws). The same seed gives the same
/// samples on every platform.
///
/// Parameters:
/// - `seed`: any 64-bit value.
/// - `weights`, `means`, `covs`, `k`, `d`, `cov_kind`: as for `mk_gmm_log_density`.
/// - `n`: number of samples, > 0.
/// - `x_out` (out): n x d, row-major, `n * d` doubles.
/// - `labels_out` (out, optional): if not NULL, `n` size_t values, each sample's component.
/// - `work` (scratch): `work_len` >= `mk_gmm_simulate_work_len(k, d, cov_kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (K, d or n is 0), `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown `cov_kind`),
/// `MK_STATUS_NON_FINITE` (NaN or infinity in the parameters), `MK_STATUS_WEIGHTS`,
/// `MK_STATUS_NOT_SPD`, `MK_STATUS_PANIC`. On success every sample is finite.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; the outputs and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_simulate(
    seed: u64,
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    k: usize,
    d: usize,
    cov_kind: i32,
    n: usize,
    x_out: *mut f64,
    labels_out: *mut usize,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mix = unsafe { mixture(weights, means, covs, k, d, cov_kind) }?;
        let x = unsafe { slice_mut(x_out, product(n, d)?) }?;
        let labels = unsafe { optional_slice_mut(labels_out, n) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        gmm::simulate(seed, &mix, n, x, labels, work)
    })
}

/// `mk_gmm_fit_options.init`: k-means++ seeding from `seed`, then `kmeans_iter` Lloyd iterations.
pub const MK_GMM_INIT_KMEANSPP: i32 = 0;
/// `mk_gmm_fit_options.init`: the caller's weights, means and covariances.
pub const MK_GMM_INIT_PARAMS: i32 = 1;
/// `mk_gmm_fit_options.init`: the caller's responsibilities (n x K), then an M-step.
pub const MK_GMM_INIT_RESPONSIBILITIES: i32 = 2;

/// Options of `mk_gmm_fit`; start from `mk_gmm_fit_options_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkGmmFitOptions {
    /// `MK_COV_FULL` or `MK_COV_DIAG`.
    pub cov_kind: i32,
    /// `MK_GMM_INIT_KMEANSPP`, `MK_GMM_INIT_PARAMS` or `MK_GMM_INIT_RESPONSIBILITIES`.
    pub init: i32,
    /// 1: the DFMR authors' penalized covariance update; 0: plain EM.
    pub penalized: i32,
    /// Seed of k-means++ (restart r uses seed + r); emptied components are reseeded from the same
    /// generator (seeded with 0 for the other starts).
    pub seed: u64,
    /// Added to every covariance's diagonal, >= 0.
    pub reg_covar: f64,
    /// Stop when the mean log-likelihood changes by less than tol, >= 0 (0: run to the cap).
    pub tol: f64,
    /// Iteration cap, >= 1; also the length of the optional trace.
    pub max_iter: usize,
    /// Restarts keeping the best (>= 1; only k-means++ starts differ; the trace needs 1).
    pub n_init: usize,
    /// Lloyd iterations after k-means++ seeding.
    pub kmeans_iter: usize,
}

/// What `mk_gmm_fit` did.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkGmmFitReport {
    /// sum_i log f(x_i) at the returned parameters.
    pub log_likelihood: f64,
    /// The same divided by n.
    pub mean_log_likelihood: f64,
    /// EM iterations of the returned run.
    pub iterations: usize,
    /// 1 if that run met the tolerance before the cap, else 0.
    pub converged: i32,
    /// Components reseeded after emptying in that run.
    pub reseeded: usize,
    /// Covariances whose regularization had to be raised to factor them in that run.
    pub regularized: usize,
    /// Which restart (0-based) was returned.
    pub best_restart: usize,
}

/// The defaults (scikit-learn's): full covariances, k-means++ from seed 0 with 10 Lloyd
/// iterations, reg_covar 1e-6, tol 1e-3, max_iter 100, n_init 1, no penalty.
#[no_mangle]
pub extern "C" fn mk_gmm_fit_options_default() -> MkGmmFitOptions {
    let o = gmm::GmmFitOptions::default();
    MkGmmFitOptions {
        cov_kind: MK_COV_FULL,
        init: MK_GMM_INIT_KMEANSPP,
        penalized: o.penalized as i32,
        seed: 0,
        reg_covar: o.reg_covar,
        tol: o.tol,
        max_iter: o.max_iter,
        n_init: o.n_init,
        kmeans_iter: o.kmeans_iter,
    }
}

/// Workspace length (doubles) of `mk_gmm_fit`:
/// n K + K (2d + c + 1) + (32 d + 64 K + 128) + 2 (K + K d + K c) + c + n + 4 d, with c = d*d
/// (full) or d (diagonal); 0 if n, K or d is 0, `cov_kind` is unknown, or the length overflows
/// size_t.
#[no_mangle]
pub extern "C" fn mk_gmm_fit_work_len(n: usize, k: usize, d: usize, cov_kind: i32) -> usize {
    let len = parse_cov_kind(cov_kind).and_then(|kind| gmm::gmm_fit_work_len(n, k, d, kind));
    work_len_for_c(n > 0 && k > 0 && d > 0, len)
}

/// Fits a K-component Gaussian mixture to n samples by EM (scikit-learn's GaussianMixture
/// semantics: E-step, then M-step with reg_covar added to the diagonals; the fit stops when the
/// mean log-likelihood changes by less than tol, or at max_iter and still returns its
/// parameters). Emptied components are reseeded and unfactorizable covariances regularized
/// further, never NaN; the report counts both.
///
/// Parameters:
/// - `x` (in): n x d samples, row-major, `n * d` doubles. `n` >= K, `d` > 0, `k` > 0.
/// - `options` (in): see `mk_gmm_fit_options`.
/// - `init_weights`, `init_means`, `init_covs` (in): the start for `MK_GMM_INIT_PARAMS` (K,
///   K*d, K*c doubles, a valid mixture of `options->cov_kind`); otherwise ignored, may be NULL.
/// - `init_resp` (in): n x K responsibilities for `MK_GMM_INIT_RESPONSIBILITIES` (rows
///   non-negative, summing to 1 within 1e-9); otherwise ignored, may be NULL.
/// - `sample_weights` (in, optional): n doubles, finite, >= 0, positive sum; the M-step uses
///   w_i r_ik and the log-likelihood is sum_i w_i log f(x_i) (an integer weight acts as copies
///   of the sample); NULL weighs every sample 1.
/// - `weights_out` (out): K doubles; `means_out` (out): K*d; `covs_out` (out): K*c, c = d*d
///   (`MK_COV_FULL`) or d (`MK_COV_DIAG`).
/// - `trace` (out, optional): `options->max_iter` doubles, the mean log-likelihood at the start
///   of each iteration (non-decreasing); needs `options->n_init == 1`; entries past the
///   iterations run are not written.
/// - `work` (scratch): `work_len` >= `mk_gmm_fit_work_len(n, k, d, options->cov_kind)` doubles.
/// - `report` (out): see `mk_gmm_fit_report`.
///
/// Returns `MK_STATUS_OK`, or with the outputs and report untouched (the trace possibly
/// written): `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (n < K, an unknown cov_kind
/// or init, penalized not 0/1, reg_covar or tol negative or NaN, max_iter or n_init 0, a trace
/// with n_init > 1, responsibilities that are negative or do not sum to 1, sample weights
/// negative or summing to 0),
/// `MK_STATUS_NON_FINITE` (NaN or infinity in x or the start), `MK_STATUS_WEIGHTS` and
/// `MK_STATUS_NOT_SPD` (an invalid start mixture, or a covariance that cannot be factored even
/// regularized), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs, trace and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_fit(
    x: *const f64,
    n: usize,
    d: usize,
    k: usize,
    options: *const MkGmmFitOptions,
    init_weights: *const f64,
    init_means: *const f64,
    init_covs: *const f64,
    init_resp: *const f64,
    sample_weights: *const f64,
    weights_out: *mut f64,
    means_out: *mut f64,
    covs_out: *mut f64,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkGmmFitReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let options = unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
        let kind = parse_cov_kind(options.cov_kind)?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let init = match options.init {
            MK_GMM_INIT_KMEANSPP => gmm::GmmInit::KMeansPlusPlus { seed: options.seed },
            MK_GMM_INIT_PARAMS => gmm::GmmInit::Params(unsafe {
                mixture(init_weights, init_means, init_covs, k, d, options.cov_kind)
            }?),
            MK_GMM_INIT_RESPONSIBILITIES => {
                gmm::GmmInit::Responsibilities(unsafe { slice(init_resp, product(n, k)?) }?)
            }
            _ => return Err(Status::BadParameter),
        };
        let weights_out = unsafe { slice_mut(weights_out, k) }?;
        let means_out = unsafe { slice_mut(means_out, product(k, d)?) }?;
        let covs_out = unsafe { slice_mut(covs_out, product(k, kind.cov_len(d)?)?) }?;
        let sample_weights = unsafe { optional_slice(sample_weights, n) }?;
        let trace = unsafe { optional_slice_mut(trace, options.max_iter) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let report = unsafe { report.as_mut() }.ok_or(Status::NullPointer)?;
        let opts = gmm::GmmFitOptions {
            kind,
            reg_covar: options.reg_covar,
            tol: options.tol,
            max_iter: options.max_iter,
            n_init: options.n_init,
            kmeans_iter: options.kmeans_iter,
            penalized: super::flag(options.penalized)?,
        };
        let r = gmm::gmm_fit(
            x,
            n,
            d,
            k,
            &opts,
            init,
            weights_out,
            means_out,
            covs_out,
            sample_weights,
            trace,
            work,
        )?;
        *report = MkGmmFitReport {
            log_likelihood: r.log_likelihood,
            mean_log_likelihood: r.mean_log_likelihood,
            iterations: r.iterations,
            converged: r.converged as i32,
            reseeded: r.reseeded,
            regularized: r.regularized,
            best_restart: r.best_restart,
        };
        Ok(())
    })
}
