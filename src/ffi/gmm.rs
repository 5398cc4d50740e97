//! C ABI of [`crate::gmm`]: mixture densities, log-likelihood, responsibilities, hard labels,
//! BIC, the seeded simulator and the EM fit. A mixture is an `mk_mixture` descriptor; samples
//! are `x, n, d` (n x d, row-major).

use super::{
    flag, mixture_in, mixture_out, nonzero, optional_slice, optional_slice_mut, product, run,
    shape_in, shape_out, slice, slice_mut, work_len_for_c, MkMixture, MkMixtureOut, Shape,
};
use crate::gmm::{self, Mixture};
use crate::Status;

/// The samples and the mixture of a density function, checked: the statuses of the mixture
/// descriptor, `ZeroSize` (n or d), `SizeOverflow`, `ShapeMismatch` (d differs from the
/// mixture's), `NullPointer`.
///
/// # Safety
/// As documented for `mk_gmm_log_density`.
unsafe fn samples_and_mixture<'a>(
    x: *const f64,
    n: usize,
    d: usize,
    mix: *const MkMixture,
) -> Result<(&'a [f64], Mixture<'a>), Status> {
    nonzero(&[n, d])?;
    // SAFETY (both blocks): lengths as documented; the caller guarantees validity.
    let mix = unsafe { mixture_in(mix) }?;
    if mix.dim() != d {
        return Err(Status::ShapeMismatch);
    }
    let x = unsafe { slice(x, product(n, d)?) }?;
    Ok((x, mix))
}

/// The density workspace length for samples of dimension d and a mixture descriptor.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
unsafe fn density_work_len(n: usize, d: usize, mix: *const MkMixture) -> usize {
    work_len_for_c(|| {
        nonzero(&[n, d])?;
        // SAFETY: caller's contract.
        let s = unsafe { shape_in(mix) }?;
        s.expect_dim(d)?;
        gmm::density_work_len(s.k, s.d, s.kind)
    })
}

/// Workspace length (doubles) of `mk_gmm_log_density`, for its sizes and descriptor:
/// K (2d + c + 65) + 32d + 128 with c = d*d (`MK_COV_FULL`) or d (`MK_COV_DIAG`), K and the
/// kind from `mix` (n does not change it); 0 if `mix` is NULL, n, K or d is 0, d differs from
/// `mix->d`, the kind is unknown, or the length overflows size_t.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_log_density_work_len(
    n: usize,
    d: usize,
    mix: *const MkMixture,
) -> usize {
    // SAFETY: forwarded contract.
    unsafe { density_work_len(n, d, mix) }
}

/// Per-sample log-density of a Gaussian mixture: `log_density_out[i] = log f(x_i)`,
/// f = sum_k w_k N(mu_k, S_k), by a max-shifted log-sum-exp (finite even for samples thousands
/// of standard deviations from every mean).
///
/// Parameters:
/// - `x` (in): n x d samples, row-major, `n * d` doubles; `n`, `d` > 0.
/// - `mix` (in): the mixture, of dimension d.
/// - `log_density_out` (out): `n` doubles.
/// - `work` (scratch): `work_len` >= `mk_gmm_log_density_work_len(n, d, mix)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the output untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (n, d or K is 0), `MK_STATUS_SIZE_OVERFLOW` (K*d, K*d*d or n*d
/// overflows), `MK_STATUS_SHAPE_MISMATCH` (d differs from `mix->d`), `MK_STATUS_BUFFER_TOO_SHORT`
/// (work), `MK_STATUS_BAD_PARAMETER` (unknown covariance kind), `MK_STATUS_NON_FINITE` (NaN or
/// infinity in the parameters or the samples, or a sample so far from every component that its
/// log-density overflows), `MK_STATUS_WEIGHTS` (a negative weight, or weights not summing to 1
/// within 1e-9), `MK_STATUS_NOT_SPD` (a covariance that is not symmetric positive definite),
/// `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; the output and `work` must
/// not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_log_density(
    x: *const f64,
    n: usize,
    d: usize,
    mix: *const MkMixture,
    log_density_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (x, mix) = unsafe { samples_and_mixture(x, n, d, mix) }?;
        let out = unsafe { slice_mut(log_density_out, n) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        gmm::log_density(&mix, x, n, out, work)
    })
}

/// Workspace length (doubles) of `mk_gmm_log_likelihood`: the same as
/// `mk_gmm_log_density_work_len(n, d, mix)`.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_log_likelihood_work_len(
    n: usize,
    d: usize,
    mix: *const MkMixture,
) -> usize {
    // SAFETY: forwarded contract.
    unsafe { density_work_len(n, d, mix) }
}

/// Log-likelihood of n samples under a Gaussian mixture: sum_i log f(x_i) and its mean, in one
/// pass over the samples.
///
/// Parameters:
/// - `x`, `n`, `d`, `mix` (in): as for `mk_gmm_log_density`.
/// - `total_out` (out): one double, sum_i log f(x_i).
/// - `mean_out` (out, optional): if not NULL, one double, the total divided by n.
/// - `work` (scratch): `work_len` >= `mk_gmm_log_likelihood_work_len(n, d, mix)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: the statuses of
/// `mk_gmm_log_density` (`MK_STATUS_NON_FINITE` also when the sum overflows).
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; the outputs and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_log_likelihood(
    x: *const f64,
    n: usize,
    d: usize,
    mix: *const MkMixture,
    total_out: *mut f64,
    mean_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (x, mix) = unsafe { samples_and_mixture(x, n, d, mix) }?;
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
/// `mk_gmm_log_density_work_len(n, d, mix)`.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_responsibilities_work_len(
    n: usize,
    d: usize,
    mix: *const MkMixture,
) -> usize {
    // SAFETY: forwarded contract.
    unsafe { density_work_len(n, d, mix) }
}

/// Responsibilities (posterior component probabilities) of n samples:
/// `resp_out[i*K + j] = w_j N(x_i; mu_j, S_j) / f(x_i)`, normalized in the log domain (each
/// row sums to 1 within a few ulps).
///
/// Parameters:
/// - `x`, `n`, `d`, `mix` (in): as for `mk_gmm_log_density`.
/// - `resp_out` (out): n x K, row-major, `n * mix->k` doubles.
/// - `loglik_out` (out, optional): if not NULL, one double, sum_i log f(x_i).
/// - `work` (scratch): `work_len` >= `mk_gmm_responsibilities_work_len(n, d, mix)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: the statuses of
/// `mk_gmm_log_density` (`MK_STATUS_SIZE_OVERFLOW` also when n*K overflows).
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; the outputs and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_responsibilities(
    x: *const f64,
    n: usize,
    d: usize,
    mix: *const MkMixture,
    resp_out: *mut f64,
    loglik_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (x, mix) = unsafe { samples_and_mixture(x, n, d, mix) }?;
        let resp = unsafe { slice_mut(resp_out, product(n, mix.n_components())?) }?;
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
/// `mk_gmm_log_density_work_len(n, d, mix)`.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_hard_labels_work_len(
    n: usize,
    d: usize,
    mix: *const MkMixture,
) -> usize {
    // SAFETY: forwarded contract.
    unsafe { density_work_len(n, d, mix) }
}

/// Hard labels (maximum a posteriori components): `labels_out[i]` = the index in 0..K-1 of
/// the largest responsibility of sample i, the lowest index on ties (exactly the argmax of the
/// rows `mk_gmm_responsibilities` writes).
///
/// Parameters:
/// - `x`, `n`, `d`, `mix` (in): as for `mk_gmm_log_density`.
/// - `labels_out` (out): `n` size_t values.
/// - `work` (scratch): `work_len` >= `mk_gmm_hard_labels_work_len(n, d, mix)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `labels_out` untouched: the statuses of
/// `mk_gmm_log_density`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `labels_out` and `work` must
/// not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_hard_labels(
    x: *const f64,
    n: usize,
    d: usize,
    mix: *const MkMixture,
    labels_out: *mut usize,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (x, mix) = unsafe { samples_and_mixture(x, n, d, mix) }?;
        let labels = unsafe { slice_mut(labels_out, n) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        gmm::hard_labels(&mix, x, n, labels, work)
    })
}

/// Workspace length (doubles) of `mk_gmm_bic`: the same as
/// `mk_gmm_log_density_work_len(n, d, mix)`.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_bic_work_len(n: usize, d: usize, mix: *const MkMixture) -> usize {
    // SAFETY: forwarded contract.
    unsafe { density_work_len(n, d, mix) }
}

/// Bayesian information criterion of n samples: BIC = -2 log L + p ln n (smaller is better),
/// log L = sum_i log f(x_i), p the number of free parameters:
/// p = (K - 1) + K d + K d (d + 1) / 2 for `MK_COV_FULL`, (K - 1) + 2 K d for `MK_COV_DIAG`.
///
/// Parameters:
/// - `x`, `n`, `d`, `mix` (in): as for `mk_gmm_log_density`.
/// - `bic_out` (out): one double.
/// - `work` (scratch): `work_len` >= `mk_gmm_bic_work_len(n, d, mix)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `bic_out` untouched: the statuses of
/// `mk_gmm_log_likelihood`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `bic_out` and `work` must not
/// overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_bic(
    x: *const f64,
    n: usize,
    d: usize,
    mix: *const MkMixture,
    bic_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (x, mix) = unsafe { samples_and_mixture(x, n, d, mix) }?;
        let bic_out = unsafe { bic_out.as_mut() }.ok_or(Status::NullPointer)?;
        let work = unsafe { slice_mut(work, work_len) }?;
        *bic_out = gmm::bic(&mix, x, n, work)?;
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_gmm_simulate`: K (2d + c + 1) with c = d*d
/// (`MK_COV_FULL`) or d (`MK_COV_DIAG`); 0 if `mix` is NULL, K, d or n is 0, the kind is
/// unknown, or the length overflows size_t.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_simulate_work_len(mix: *const MkMixture, n: usize) -> usize {
    work_len_for_c(|| {
        nonzero(&[n])?;
        // SAFETY: caller's contract.
        let s = unsafe { shape_in(mix) }?;
        gmm::simulate_work_len(s.k, s.d, s.kind)
    })
}

/// Draws n samples from a Gaussian mixture with a seed: per sample a component with probability
/// w_k (one uniform draw against the cumulative weights), then x = mu_k + L_k z with L_k the
/// lower Cholesky factor of S_k and z standard normal (d draws). The same seed gives the same
/// samples on every platform.
///
/// Parameters:
/// - `mix` (in): the mixture.
/// - `n` (in): number of samples, > 0.
/// - `seed` (in): any 64-bit value.
/// - `x_out` (out): n x d, row-major, `n * mix->d` doubles.
/// - `labels_out` (out, optional): if not NULL, `n` size_t values, each sample's component.
/// - `work` (scratch): `work_len` >= `mk_gmm_simulate_work_len(mix, n)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (K, d or n is 0), `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown covariance kind),
/// `MK_STATUS_NON_FINITE` (NaN or infinity in the parameters), `MK_STATUS_WEIGHTS`,
/// `MK_STATUS_NOT_SPD`, `MK_STATUS_PANIC`. On success every sample is finite.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; the outputs and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_simulate(
    mix: *const MkMixture,
    n: usize,
    seed: u64,
    x_out: *mut f64,
    labels_out: *mut usize,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        nonzero(&[n])?;
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mix = unsafe { mixture_in(mix) }?;
        let x = unsafe { slice_mut(x_out, product(n, mix.dim())?) }?;
        let labels = unsafe { optional_slice_mut(labels_out, n) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        gmm::simulate(seed, &mix, n, x, labels, work)
    })
}

/// Options of `mk_gmm_fit`; start from `mk_gmm_fit_options_default()`.
///
/// The start: k-means++ from `seed` (restart r from `seed + r`) with `kmeans_iter` Lloyd
/// iterations, unless the caller gives one. `init_resp` gives the first M-step's
/// responsibilities; `init_weights`, `init_means`, `init_covs` give any of the parameters, the
/// rest estimated from the k-means++ start (scikit-learn's `weights_init`, `means_init`,
/// `precisions_init`). Given weights and responsibility rows must be >= 0 and sum to 1 within
/// 1e-6 (so single-precision values pass); they are divided by their sum.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkGmmFitOptions {
    /// 1: the DFMR authors' penalized covariance update; 0: plain EM.
    pub penalized: i32,
    /// The covariance prior in samples, >= 0 and finite (0: none): each covariance update is
    /// S_k = (scatter_k + nu S_x) / (n_k + nu), S_x the data's covariance, so no covariance
    /// falls below nu / (n + nu) S_x. Adds to the penalized update's 2 / sqrt(n).
    pub prior_samples: f64,
    /// A component whose mass falls below this many samples is reseeded, >= 0 and finite
    /// (below 1e-8, 1e-8).
    pub min_component_samples: f64,
    /// Seed of k-means++ (restart r uses seed + r); emptied components are reseeded from the same
    /// generator (seeded with 0 for a responsibilities start).
    pub seed: u64,
    /// Added to every covariance's diagonal, >= 0.
    pub reg_covar: f64,
    /// Stop when the mean log-likelihood changes by less than tol, >= 0 (0: run to the cap).
    pub tol: f64,
    /// Iteration cap, also the length of the optional trace; 0 returns the start itself.
    pub max_iter: usize,
    /// Runs keeping the best, >= 1 (runs differ only by their k-means++ seeds).
    pub n_init: usize,
    /// Lloyd iterations after k-means++ seeding.
    pub kmeans_iter: usize,
    /// A warm start's previous mean log-likelihood (the previous report's
    /// `mean_log_likelihood`): the first iteration's convergence test compares with it.
    /// -INFINITY (default) or any non-finite value: none.
    pub previous_lower_bound: f64,
    /// Optional start: K weights, or NULL.
    pub init_weights: *const f64,
    /// Optional start: K*d means, or NULL.
    pub init_means: *const f64,
    /// Optional start: K*c covariances (symmetric positive definite), or NULL.
    pub init_covs: *const f64,
    /// Optional start: n x K responsibilities, or NULL; not together with the three above.
    pub init_resp: *const f64,
    /// Threads for the passes over the samples, >= 1 (default 1; more than 1 needs a library
    /// built with the `std` feature, as `make` builds it). Every count gives the same fit, bit
    /// for bit: the samples are cut into chunks of 4096 whatever the count, and their
    /// statistics added in chunk order. With more than 1 the fit allocates from the heap.
    pub threads: usize,
}

/// What `mk_gmm_fit` did.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkGmmFitReport {
    /// sum_i log f(x_i) at the returned parameters (weighted by the sample weights if given).
    pub log_likelihood: f64,
    /// The same divided by n (or by the sum of the sample weights).
    pub mean_log_likelihood: f64,
    /// EM iterations of the returned run.
    pub iterations: usize,
    /// 1 if that run met the tolerance before the cap, else 0.
    pub converged: i32,
    /// Components reseeded after emptying in that run.
    pub reseeded: usize,
    /// Covariances whose regularization had to be raised to factor them in that run.
    pub regularized: usize,
    /// Which run (0-based) was returned.
    pub best_restart: usize,
    /// The covariance prior applied, in samples: `prior_samples`, plus 2 / sqrt(n) if
    /// penalized (0: plain EM).
    pub prior_samples: f64,
}

/// The defaults (scikit-learn's): k-means++ from seed 0 with 10 Lloyd iterations, reg_covar
/// 1e-6, tol 1e-3, max_iter 100, n_init 1, no penalty, no prior, no warm start, no given start.
#[no_mangle]
pub extern "C" fn mk_gmm_fit_options_default() -> MkGmmFitOptions {
    fit_options(&gmm::GmmFitOptions::default())
}

/// The local fit of an edge node in a distributed round, whose estimates pass the centre's
/// default screening (`mk_aggregate_options_default`): the defaults with the covariance prior
/// of one sample (`prior_samples` 1), components kept at one sample or more
/// (`min_component_samples` 1), n_init 3, tol 1e-6, max_iter 500.
#[no_mangle]
pub extern "C" fn mk_gmm_fit_options_round() -> MkGmmFitOptions {
    fit_options(&gmm::GmmFitOptions::for_round())
}

impl MkGmmFitOptions {
    /// The safe API's options for covariances of `kind` (the start fields are the caller's):
    /// `BadParameter` when `penalized` is not 0 or 1.
    pub(crate) fn to_rust(self, kind: gmm::CovKind) -> Result<gmm::GmmFitOptions, Status> {
        Ok(gmm::GmmFitOptions {
            kind,
            reg_covar: self.reg_covar,
            tol: self.tol,
            max_iter: self.max_iter,
            n_init: self.n_init,
            kmeans_iter: self.kmeans_iter,
            penalized: flag(self.penalized)?,
            prior_samples: self.prior_samples,
            min_component_samples: self.min_component_samples,
            previous_lower_bound: self.previous_lower_bound,
            threads: self.threads,
        })
    }
}

/// The C options of `o`, from seed 0, with no warm start and no given start.
fn fit_options(o: &gmm::GmmFitOptions) -> MkGmmFitOptions {
    MkGmmFitOptions {
        penalized: o.penalized as i32,
        prior_samples: o.prior_samples,
        min_component_samples: o.min_component_samples,
        seed: 0,
        reg_covar: o.reg_covar,
        tol: o.tol,
        max_iter: o.max_iter,
        n_init: o.n_init,
        kmeans_iter: o.kmeans_iter,
        previous_lower_bound: o.previous_lower_bound,
        init_weights: core::ptr::null(),
        init_means: core::ptr::null(),
        init_covs: core::ptr::null(),
        init_resp: core::ptr::null(),
        threads: o.threads,
    }
}

/// The fit's checked sizes: n, d > 0 and the output shape of dimension d.
///
/// # Safety
/// A non-null `fit` must point to a valid `mk_mixture_out`.
unsafe fn fit_shape(n: usize, d: usize, fit: *const MkMixtureOut) -> Result<Shape, Status> {
    nonzero(&[n, d])?;
    // SAFETY: caller's contract.
    let s = unsafe { shape_out(fit) }?;
    s.expect_dim(d)?;
    Ok(s)
}

/// Workspace length (doubles) of `mk_gmm_fit`, for its sizes and descriptor:
/// n K + K (2d + c + 1) + 2 (K + K d + K c) + c + n + 2 (K (1 + d + c) + 3) +
/// (36 d + 64 K + 128 + r (K + 1)), r = min(n, 4096) (the largest chunk of samples), with K and
/// the kind from `fit` and c = d*d (full) or d (diagonal)
/// (more threads take their scratch from the heap); 0 if `fit` is NULL, n, K or d is 0, d
/// differs from `fit->d`, the kind is unknown, or the length overflows size_t.
///
/// # Safety
/// A non-null `fit` must point to a valid `mk_mixture_out`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_fit_work_len(
    n: usize,
    d: usize,
    fit: *const MkMixtureOut,
) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let s = unsafe { fit_shape(n, d, fit) }?;
        gmm::gmm_fit_work_len(n, s.k, s.d, s.kind)
    })
}

/// Fits a Gaussian mixture of the shape `fit` describes (K components, covariance kind) to n
/// samples by EM (scikit-learn's GaussianMixture semantics: E-step, then M-step with reg_covar
/// added to the diagonals; the fit stops when the mean log-likelihood changes by less than tol,
/// or at max_iter and still returns its parameters). Emptied components are reseeded and
/// unfactorizable covariances regularized further, at least to 1e-12 of the data's variance
/// (a component collapsed onto one point), never NaN; the report counts both.
///
/// Parameters:
/// - `x` (in): n x d samples, row-major, `n * d` doubles; n >= K, d > 0.
/// - `sample_weights` (in, optional): n doubles, finite, >= 0, positive sum; the M-step uses
///   w_i r_ik and the log-likelihood is sum_i w_i log f(x_i) (an integer weight acts as copies
///   of the sample); NULL weighs every sample 1.
/// - `options` (in): see `mk_gmm_fit_options` (also the optional start).
/// - `fit` (out): K, d (= `d`) and the covariance kind in; the fitted weights, means and
///   covariances out.
/// - `resp_out` (out, optional): n x K responsibilities at the returned parameters.
/// - `labels_out` (out, optional): n size_t hard labels (argmax of each responsibility row,
///   lowest index on ties).
/// - `trace` (out, optional): `options->max_iter` doubles, the mean log-likelihood at the start
///   of each iteration of the returned run (non-decreasing up to rounding); entries past
///   `report->iterations` are unspecified.
/// - `work` (scratch): `work_len` >= `mk_gmm_fit_work_len(n, d, fit)` doubles.
/// - `report` (out): see `mk_gmm_fit_report`.
///
/// Returns `MK_STATUS_OK`, or with the outputs and report untouched (the trace possibly
/// written): `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE` (n, d or K is 0),
/// `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_SHAPE_MISMATCH` (d differs from `fit->d`),
/// `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_TOO_FEW_SAMPLES` (n < K),
/// `MK_STATUS_DATA_SCALE` (the range of every coordinate below 1e-150 but not all 0, or a
/// magnitude above 1e150: rescale the data),
/// `MK_STATUS_BAD_PARAMETER` (an unknown covariance kind, penalized not 0/1, reg_covar or tol
/// negative or NaN, prior_samples or min_component_samples negative or not finite, n_init 0,
/// threads 0 (or above 1 in a library without `std`), `init_resp` together with given
/// parameters),
/// `MK_STATUS_SAMPLE_WEIGHTS` (sample weights negative or summing to 0),
/// `MK_STATUS_NON_FINITE` (NaN or infinity in x, the sample weights or the start),
/// `MK_STATUS_WEIGHTS` (start weights or responsibility rows negative or not summing to 1
/// within 1e-6), `MK_STATUS_NOT_SPD` (a given covariance that is not positive definite, or a
/// covariance that cannot be factored even regularized), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer (also those in `options`) must be valid for the stated number of
/// elements; outputs, trace and `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_fit(
    x: *const f64,
    n: usize,
    d: usize,
    sample_weights: *const f64,
    options: *const MkGmmFitOptions,
    fit: *const MkMixtureOut,
    resp_out: *mut f64,
    labels_out: *mut usize,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkGmmFitReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let s = unsafe { fit_shape(n, d, fit) }?;
        let (k, c) = (s.k, s.c());
        let o = unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let sample_weights = unsafe { optional_slice(sample_weights, n) }?;
        let given = (
            unsafe { optional_slice(o.init_weights, k) }?,
            unsafe { optional_slice(o.init_means, product(k, d)?) }?,
            unsafe { optional_slice(o.init_covs, product(k, c)?) }?,
        );
        let init_resp = unsafe { optional_slice(o.init_resp, product(n, k)?) }?;
        let init = match (given, init_resp) {
            ((None, None, None), None) => gmm::GmmInit::KMeansPlusPlus { seed: o.seed },
            ((None, None, None), Some(resp)) => gmm::GmmInit::Responsibilities(resp),
            ((weights, means, covs), None) => gmm::GmmInit::Partial {
                seed: o.seed,
                weights,
                means,
                covs,
            },
            (_, Some(_)) => return Err(Status::BadParameter),
        };
        let out = unsafe { mixture_out(fit) }?;
        let outputs = gmm::GmmFitOutputs {
            responsibilities: unsafe { optional_slice_mut(resp_out, product(n, k)?) }?,
            labels: unsafe { optional_slice_mut(labels_out, n) }?,
            trace: unsafe { optional_slice_mut(trace, o.max_iter) }?,
        };
        let work = unsafe { slice_mut(work, work_len) }?;
        let report = unsafe { report.as_mut() }.ok_or(Status::NullPointer)?;
        let opts = o.to_rust(s.kind)?;
        let r = gmm::gmm_fit(
            x,
            n,
            d,
            k,
            &opts,
            init,
            out.weights,
            out.means,
            out.covs,
            sample_weights,
            outputs,
            work,
        )?;
        *report = MkGmmFitReport::from(r);
        Ok(())
    })
}

impl From<gmm::GmmFitReport> for MkGmmFitReport {
    fn from(r: gmm::GmmFitReport) -> Self {
        MkGmmFitReport {
            log_likelihood: r.log_likelihood,
            mean_log_likelihood: r.mean_log_likelihood,
            iterations: r.iterations,
            converged: r.converged as i32,
            reseeded: r.reseeded,
            regularized: r.regularized,
            best_restart: r.best_restart,
            prior_samples: r.prior_samples,
        }
    }
}
