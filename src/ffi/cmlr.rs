//! C ABI of [`crate::mlr`]: clustered mixtures of linear regressions (seed 000).

use super::{
    flag, nonzero, optional_slice, optional_slice_mut, product, run, slice, slice_mut,
    work_len_for_c,
};
use crate::mlr::{self, Algorithm, ClusteredData, FitOptions, Init, Metric, Trace};
use crate::Status;

/// `mk_cmlr_options.algorithm`: Algorithm 1, ignores the clusters (a pass over X per step).
pub const MK_CMLR_ALG1: i32 = 1;
/// `mk_cmlr_options.algorithm`: Algorithm 2, honours the clusters (O(m d) per step).
pub const MK_CMLR_ALG2: i32 = 2;
/// `mk_cmlr_options.init`: start from the caller's theta.
pub const MK_CMLR_INIT_GIVEN: i32 = 0;
/// `mk_cmlr_options.init`: start from the node moments (top eigenvector, least-squares scale).
pub const MK_CMLR_INIT_NODE_MOMENTS: i32 = 1;

/// Options of the C-MLR functions; start from `mk_cmlr_options_default()` and change what you
/// need. The steps, `mk_cmlr_init` and `mk_cmlr_node_posteriors` read only the model's part
/// (`use_identity`, `sigma`); `mk_cmlr_fit` reads all of it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkCmlrOptions {
    /// `MK_CMLR_ALG1` or `MK_CMLR_ALG2`.
    pub algorithm: i32,
    /// 0: precondition with Sigma_hat = (1/N) sum x x^T; 1: with the identity.
    pub use_identity: i32,
    /// `MK_CMLR_INIT_GIVEN` or `MK_CMLR_INIT_NODE_MOMENTS`.
    pub init: i32,
    /// Known noise standard deviation, > 0 (with 1/sigma^2 finite).
    pub sigma: f64,
    /// Stop when |theta_{t+1} - theta_t| <= tol |theta_{t+1}|; >= 0.
    pub tol: f64,
    /// Iteration cap, >= 1; also the length of the optional traces.
    pub max_iter: usize,
}

/// The optional traces of `mk_cmlr_fit`: each array, when not NULL, receives one value per
/// iteration (`options->max_iter` doubles; entries past the iterations run are not written).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkCmlrTrace {
    /// In, optional: the truth theta*, d doubles; needed by `error`.
    pub theta_star: *const f64,
    /// Out, optional: entry t = |theta_{t+1} - theta_t|.
    pub step: *mut f64,
    /// Out, optional: entry t = min(|theta_{t+1} - theta*|, |theta_{t+1} + theta*|).
    pub error: *mut f64,
}

/// What `mk_cmlr_fit` did.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkCmlrReport {
    /// EM iterations run, 1..=max_iter.
    pub iterations: usize,
    /// 1 if the tolerance was met before the cap, else 0 (theta is still the last iterate).
    pub converged: i32,
    /// |theta_T - theta_{T-1}| of the last iteration.
    pub last_step: f64,
}

impl MkCmlrOptions {
    /// The safe-API options, rejecting unknown enumeration values and flags.
    fn to_options(self) -> Result<FitOptions, Status> {
        let algorithm = match self.algorithm {
            MK_CMLR_ALG1 => Algorithm::IgnoreClusters,
            MK_CMLR_ALG2 => Algorithm::HonourClusters,
            _ => return Err(Status::BadParameter),
        };
        let init = match self.init {
            MK_CMLR_INIT_GIVEN => Init::Given,
            MK_CMLR_INIT_NODE_MOMENTS => Init::NodeMoments,
            _ => return Err(Status::BadParameter),
        };
        Ok(FitOptions {
            algorithm,
            use_identity: flag(self.use_identity)?,
            init,
            sigma: self.sigma,
            tol: self.tol,
            max_iter: self.max_iter,
        })
    }
}

/// The defaults: Algorithm 2, Sigma_hat, node-moment start, sigma = 1, tol = 1e-10,
/// max_iter = 100.
#[no_mangle]
pub extern "C" fn mk_cmlr_options_default() -> MkCmlrOptions {
    let o = FitOptions::default();
    MkCmlrOptions {
        algorithm: MK_CMLR_ALG2,
        use_identity: o.use_identity as i32,
        init: MK_CMLR_INIT_NODE_MOMENTS,
        sigma: o.sigma,
        tol: o.tol,
        max_iter: o.max_iter,
    }
}

/// The metric from a C factor pointer and the options' identity flag: the factor may be NULL
/// only when `use_identity` is 1. Also checks `options` for NULL.
///
/// # Safety
/// A non-null `sigma_chol` must be valid for d*d reads; a non-null `options` must be valid.
unsafe fn metric<'a>(
    sigma_chol: *const f64,
    d: usize,
    options: *const MkCmlrOptions,
) -> Result<(Metric<'a>, f64), Status> {
    // SAFETY (both blocks): forwarded contract.
    let options = unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
    let metric = if flag(options.use_identity)? {
        Metric::Identity
    } else {
        Metric::SigmaHat(unsafe { slice(sigma_chol, product(d, d)?) }?)
    };
    Ok((metric, options.sigma))
}

/// The clustered data from C pointers: x (N x d), y (N), node sizes (m); also what
/// `mk_mixreg_node_statistics` reads.
///
/// # Safety
/// As documented for `mk_cmlr_node_statistics`.
pub(super) unsafe fn clustered_data<'a>(
    x: *const f64,
    n_total: usize,
    d: usize,
    y: *const f64,
    node_sizes: *const usize,
    m: usize,
) -> Result<ClusteredData<'a>, Status> {
    // SAFETY (all blocks): lengths as documented; the caller guarantees validity.
    let x = unsafe { slice(x, product(n_total, d)?) }?;
    let y = unsafe { slice(y, n_total) }?;
    let sizes = unsafe { slice(node_sizes, m) }?;
    ClusteredData::new(x, y, d, sizes)
}

/// Workspace length (doubles) of `mk_cmlr_node_statistics`, for its sizes: m*d + d*d (N does
/// not change it); 0 if N, d or m is 0 or the length overflows size_t.
#[no_mangle]
pub extern "C" fn mk_cmlr_node_statistics_work_len(n_total: usize, d: usize, m: usize) -> usize {
    work_len_for_c(|| {
        nonzero(&[n_total, d, m])?;
        mlr::node_statistics_work_len(m, d)
    })
}

/// One pass over clustered data computing what the EM needs.
///
/// Parameters:
/// - `x` (in): N x d covariates, row-major, `n_total * d` doubles; nodes stored one after another.
/// - `n_total`, `d`: N and d, both > 0.
/// - `y` (in): N responses, `n_total` doubles.
/// - `node_sizes` (in): m node sizes, each > 0, adding up to N; `m` > 0.
/// - `node_sums_out` (out): m x d, row j = s_j = sum_i y_ij x_ij; `m * d` doubles.
/// - `sigma_chol_out` (out): d x d lower Cholesky factor of Sigma_hat = (1/N) sum x x^T,
///   row-major, strict upper triangle zero; `d * d` doubles.
/// - `work` (scratch): `work_len` >= `mk_cmlr_node_statistics_work_len(n_total, d, m)` doubles.
///
/// Returns `MK_STATUS_OK`, or with both outputs untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (N, d or m is 0), `MK_STATUS_SIZE_OVERFLOW` (N*d, m*d or d*d overflows),
/// `MK_STATUS_NODE_SIZES` (a zero size, or sizes not adding up to N), `MK_STATUS_BUFFER_TOO_SHORT`
/// (work), `MK_STATUS_NON_FINITE` (NaN or infinity in x or y), `MK_STATUS_NOT_SPD` (Sigma_hat
/// singular: fewer samples than d, a zero or collinear covariate), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements, the outputs and `work` must
/// not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_cmlr_node_statistics(
    x: *const f64,
    n_total: usize,
    d: usize,
    y: *const f64,
    node_sizes: *const usize,
    m: usize,
    node_sums_out: *mut f64,
    sigma_chol_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let data = unsafe { clustered_data(x, n_total, d, y, node_sizes, m) }?;
        let node_sums = unsafe { slice_mut(node_sums_out, product(m, d)?) }?;
        let sigma_chol = unsafe { slice_mut(sigma_chol_out, product(d, d)?) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        mlr::node_statistics(&data, node_sums, sigma_chol, work)
    })
}

/// Workspace length (doubles) of `mk_cmlr_alg1_step`, for its sizes: d (N does not change it);
/// 0 if N or d is 0.
#[no_mangle]
pub extern "C" fn mk_cmlr_alg1_step_work_len(n_total: usize, d: usize) -> usize {
    work_len_for_c(|| {
        nonzero(&[n_total, d])?;
        Ok(mlr::step_work_len(d))
    })
}

/// One Algorithm 1 step (ignores the clusters), in place:
/// theta <- M^-1 (1/N) sum_i tanh(y_i <x_i, theta> / sigma^2) y_i x_i, M = Sigma_hat or I.
///
/// Parameters:
/// - `x` (in): N x d row-major, `n_total * d` doubles; `n_total`, `d` > 0.
/// - `y` (in): `n_total` doubles.
/// - `sigma_chol` (in): the factor written by `mk_cmlr_node_statistics`, `d * d` doubles (only
///   the lower triangle is read); may be NULL when `options->use_identity` is 1.
/// - `options` (in): `use_identity` (0: M = Sigma_hat, 1: M = I) and `sigma` (> 0) are read.
/// - `theta` (in/out): d doubles, replaced by the update on success.
/// - `step_out` (out, optional): if not NULL, receives |theta_new - theta_old|.
/// - `work` (scratch): `work_len` >= `mk_cmlr_alg1_step_work_len(n_total, d)` doubles.
///
/// Returns `MK_STATUS_OK`, or with theta and `step_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_BUFFER_TOO_SHORT` (work),
/// `MK_STATUS_BAD_PARAMETER` (sigma, or `use_identity` not 0/1), `MK_STATUS_NON_FINITE` (NaN or
/// infinity in x, y, theta or the factor, or an overflowing sum), `MK_STATUS_NOT_SPD` (a factor
/// with a non-positive diagonal), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; `theta`, `work` and
/// `step_out` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_cmlr_alg1_step(
    x: *const f64,
    n_total: usize,
    d: usize,
    y: *const f64,
    sigma_chol: *const f64,
    options: *const MkCmlrOptions,
    theta: *mut f64,
    step_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let x = unsafe { slice(x, product(n_total, d)?) }?;
        let y = unsafe { slice(y, n_total) }?;
        let (metric, sigma) = unsafe { metric(sigma_chol, d, options) }?;
        let theta = unsafe { slice_mut(theta, d) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let step = mlr::alg1_step(x, y, d, metric, sigma, theta, work)?;
        // SAFETY: a non-null step_out is valid for one write.
        if let Some(out) = unsafe { step_out.as_mut() } {
            *out = step;
        }
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_cmlr_alg2_step`, for its sizes: d (m and N do not change
/// it); 0 if m, d or N is 0.
#[no_mangle]
pub extern "C" fn mk_cmlr_alg2_step_work_len(m: usize, d: usize, n_total: usize) -> usize {
    work_len_for_c(|| {
        nonzero(&[m, d, n_total])?;
        Ok(mlr::step_work_len(d))
    })
}

/// One Algorithm 2 step (honours the clusters), in place, O(m d):
/// theta <- M^-1 (1/N) sum_j tanh(<s_j, theta> / sigma^2) s_j, M = Sigma_hat or I.
///
/// Parameters:
/// - `node_sums` (in): m x d node sums s_j from `mk_cmlr_node_statistics`, `m * d` doubles.
/// - `m`, `d`, `n_total`: nodes, dimension and total sample count N, all > 0.
/// - `sigma_chol`, `options`, `theta`, `step_out`: as for `mk_cmlr_alg1_step`.
/// - `work` (scratch): `work_len` >= `mk_cmlr_alg2_step_work_len(m, d, n_total)` doubles.
///
/// Returns `MK_STATUS_OK`, or with theta and `step_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_BUFFER_TOO_SHORT` (work),
/// `MK_STATUS_BAD_PARAMETER`, `MK_STATUS_NON_FINITE` (node sums, theta or factor),
/// `MK_STATUS_NOT_SPD`, `MK_STATUS_PANIC`.
///
/// # Safety
/// As for `mk_cmlr_alg1_step`.
#[no_mangle]
pub unsafe extern "C" fn mk_cmlr_alg2_step(
    node_sums: *const f64,
    m: usize,
    d: usize,
    n_total: usize,
    sigma_chol: *const f64,
    options: *const MkCmlrOptions,
    theta: *mut f64,
    step_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let sums = unsafe { slice(node_sums, product(m, d)?) }?;
        let (metric, sigma) = unsafe { metric(sigma_chol, d, options) }?;
        let theta = unsafe { slice_mut(theta, d) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let step = mlr::alg2_step(sums, m, d, n_total, metric, sigma, theta, work)?;
        // SAFETY: a non-null step_out is valid for one write.
        if let Some(out) = unsafe { step_out.as_mut() } {
            *out = step;
        }
        Ok(())
    })
}

/// Node posteriors, the E-step of Algorithm 2: `posteriors_out[j]` = P(xi_j = +1 | node j) =
/// sigmoid(2 <s_j, theta> / sigma^2). Exact (0 or 1, never NaN) however large the sums grow.
///
/// Parameters:
/// - `node_sums` (in): m x d, `m * d` doubles; `m`, `d` > 0.
/// - `theta` (in): d doubles.
/// - `options` (in): `sigma` (> 0) is read.
/// - `posteriors_out` (out): m doubles.
///
/// Returns `MK_STATUS_OK`, or with `posteriors_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_BAD_PARAMETER` (sigma),
/// `MK_STATUS_NON_FINITE` (node sums or theta), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `posteriors_out` must not
/// overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_cmlr_node_posteriors(
    node_sums: *const f64,
    m: usize,
    d: usize,
    theta: *const f64,
    options: *const MkCmlrOptions,
    posteriors_out: *mut f64,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let sums = unsafe { slice(node_sums, product(m, d)?) }?;
        let theta = unsafe { slice(theta, d) }?;
        let options = unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
        let out = unsafe { slice_mut(posteriors_out, m) }?;
        mlr::node_posteriors(sums, m, d, theta, options.sigma, out)
    })
}

/// Workspace length (doubles) of `mk_cmlr_init`, for its sizes: 2 d^2 + 2 d (m does not change
/// it); 0 if m or d is 0 or it overflows.
#[no_mangle]
pub extern "C" fn mk_cmlr_init_work_len(m: usize, d: usize) -> usize {
    work_len_for_c(|| {
        nonzero(&[m, d])?;
        mlr::init_work_len(d)
    })
}

/// A start that needs no knowledge of theta*: the top eigenvector u of
/// (1/m) sum_j (s_j/n_j)(s_j/n_j)^T, scaled by least squares along u with the node labels
/// sign(<s_j, u>): theta = u sum_j |<s_j, u>| / (N u^T M u). The sign is fixed (largest
/// component of u positive); theta and -theta are the same model.
///
/// Parameters:
/// - `node_sums` (in): m x d, `m * d` doubles; `m`, `d` > 0.
/// - `node_sizes` (in): m sizes, each > 0.
/// - `sigma_chol` (in), `options` (in): as for `mk_cmlr_alg1_step` (M = Sigma_hat or I; only
///   `use_identity` is read).
/// - `theta_out` (out): d doubles.
/// - `work` (scratch): `work_len` >= `mk_cmlr_init_work_len(m, d)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `theta_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_BUFFER_TOO_SHORT`,
/// `MK_STATUS_NODE_SIZES` (a zero size), `MK_STATUS_BAD_PARAMETER` (`use_identity` not 0/1),
/// `MK_STATUS_NON_FINITE`, `MK_STATUS_NOT_SPD`, `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; `theta_out` and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_cmlr_init(
    node_sums: *const f64,
    m: usize,
    d: usize,
    node_sizes: *const usize,
    sigma_chol: *const f64,
    options: *const MkCmlrOptions,
    theta_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let sums = unsafe { slice(node_sums, product(m, d)?) }?;
        let sizes = unsafe { slice(node_sizes, m) }?;
        let (metric, _) = unsafe { metric(sigma_chol, d, options) }?;
        let theta = unsafe { slice_mut(theta_out, d) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        mlr::init_from_node_moments(sums, sizes, d, metric, theta, work)
    })
}

/// Workspace length (doubles) of `mk_cmlr_fit`, for its sizes: m d + d^2 + 2 d + (2 d^2 + 2 d)
/// (N does not change it); 0 if N, d or m is 0 or it overflows.
#[no_mangle]
pub extern "C" fn mk_cmlr_fit_work_len(n_total: usize, d: usize, m: usize) -> usize {
    work_len_for_c(|| {
        nonzero(&[n_total, d, m])?;
        mlr::fit_work_len(m, d)
    })
}

/// Fits theta from the raw data: one statistics pass, the start, then Algorithm 1 or 2 until
/// |theta_{t+1} - theta_t| <= tol |theta_{t+1}| or `max_iter`. A fit that reaches the cap still
/// succeeds (report.converged = 0) and returns its last iterate.
///
/// Parameters:
/// - `x`, `n_total`, `d`, `y`, `node_sizes`, `m` (in): the data, as for
///   `mk_cmlr_node_statistics`.
/// - `options` (in): see `mk_cmlr_options`.
/// - `theta` (in/out): d doubles; read as the start when `options->init` is
///   `MK_CMLR_INIT_GIVEN`, replaced by the fit on success.
/// - `trace` (in/out, optional): see `mk_cmlr_trace`; NULL for none.
/// - `work` (scratch): `work_len` >= `mk_cmlr_fit_work_len(n_total, d, m)` doubles.
/// - `report` (out): iterations, converged flag, last step.
///
/// Returns `MK_STATUS_OK`, or with theta and report untouched (traces possibly written):
/// `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_NODE_SIZES`, `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER`
/// (sigma, tol < 0 or NaN, max_iter == 0, an unknown algorithm or init, `use_identity` not 0/1,
/// `trace->error` without `trace->theta_star`), `MK_STATUS_NON_FINITE` (x, y, a given theta,
/// theta*, or an iterate whose norm leaves the double range), `MK_STATUS_NOT_SPD` (Sigma_hat
/// singular; it is factored even with `use_identity`), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer (also those in `trace`) must be valid for the stated number of
/// elements; outputs and `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_cmlr_fit(
    x: *const f64,
    n_total: usize,
    d: usize,
    y: *const f64,
    node_sizes: *const usize,
    m: usize,
    options: *const MkCmlrOptions,
    theta: *mut f64,
    trace: *const MkCmlrTrace,
    work: *mut f64,
    work_len: usize,
    report: *mut MkCmlrReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let data = unsafe { clustered_data(x, n_total, d, y, node_sizes, m) }?;
        let options = unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
        let theta = unsafe { slice_mut(theta, d) }?;
        let max_iter = options.max_iter;
        let (theta_star, trace) = match unsafe { trace.as_ref() } {
            None => (None, Trace::default()),
            Some(t) => (
                unsafe { optional_slice(t.theta_star, d) }?,
                Trace {
                    step: unsafe { optional_slice_mut(t.step, max_iter) }?,
                    error: unsafe { optional_slice_mut(t.error, max_iter) }?,
                },
            ),
        };
        let work = unsafe { slice_mut(work, work_len) }?;
        let report = unsafe { report.as_mut() }.ok_or(Status::NullPointer)?;
        let opts = options.to_options()?;
        let r = mlr::fit(&data, &opts, theta, theta_star, trace, work)?;
        *report = MkCmlrReport {
            iterations: r.iterations,
            converged: r.converged as i32,
            last_step: r.last_step,
        };
        Ok(())
    })
}

/// Simulates the seed's model with a seed: node j gets one fair sign xi_j; each of its samples
/// x ~ N(0, I_d), y = xi_j <x, theta*> + sigma eps. The same seed gives the same data on every
/// platform.
///
/// Parameters:
/// - `theta_star` (in): d doubles, finite; `d` > 0.
/// - `node_sizes` (in): m sizes, each > 0, adding up to N (without overflow); `m` > 0.
/// - `sigma` (in): noise standard deviation, >= 0 and finite.
/// - `seed` (in): any 64-bit value.
/// - `x_out` (out): N x d, `N * d` doubles; `y_out` (out): N doubles.
/// - `labels_out` (out, optional): m doubles, the signs xi_j (+1 or -1).
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_NODE_SIZES` (a zero size, or
/// sizes whose sum overflows), `MK_STATUS_BAD_PARAMETER` (sigma), `MK_STATUS_NON_FINITE`
/// (theta*, or a sample that would overflow), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs must not
/// overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_cmlr_simulate(
    theta_star: *const f64,
    d: usize,
    node_sizes: *const usize,
    m: usize,
    sigma: f64,
    seed: u64,
    x_out: *mut f64,
    y_out: *mut f64,
    labels_out: *mut f64,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let theta_star = unsafe { slice(theta_star, d) }?;
        let sizes = unsafe { slice(node_sizes, m) }?;
        nonzero(&[d, m])?;
        let n_total = mlr::total_of_node_sizes(sizes)?;
        let x = unsafe { slice_mut(x_out, product(n_total, d)?) }?;
        let y = unsafe { slice_mut(y_out, n_total) }?;
        let labels = unsafe { optional_slice_mut(labels_out, m) }?;
        mlr::simulate(seed, theta_star, d, sigma, sizes, x, y, labels)
    })
}
