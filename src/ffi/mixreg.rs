//! C ABI of the K-component mixture of linear regressions ([`crate::mlr`]: `mixreg_*`).

use super::{flag, optional_slice_mut, product, run, slice, slice_mut, work_len_for_c};
use crate::mlr::{self, ClusteredData, MixRegInit, MixRegOptions, MixRegReport, Noise};
use crate::Status;

/// Noise model: one variance sigma_k^2 per component.
pub const MK_NOISE_PER_COMPONENT: i32 = 0;
/// Noise model: one variance shared by all components.
pub const MK_NOISE_SHARED: i32 = 1;
/// Noise model: a known noise standard deviation (`known_sigma`), not estimated.
pub const MK_NOISE_KNOWN: i32 = 2;

/// Start: the given weights, coefficients and variances.
pub const MK_MIXREG_INIT_GIVEN: i32 = 0;
/// Start: per-node least squares (nodes with n_j >= p) clustered by k-means++ (grouped only).
pub const MK_MIXREG_INIT_NODE_LEAST_SQUARES: i32 = 1;
/// Start: seeded random responsibilities, then one M-step.
pub const MK_MIXREG_INIT_RANDOM: i32 = 2;

/// Options of `mk_mixreg_fit_grouped` and `mk_mixreg_fit`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkMixRegOptions {
    /// Number of components K, > 0. Default 2.
    pub k: usize,
    /// 1: fit an intercept (coefficient 0 of each component, then the d slopes: p = d + 1);
    /// 0 (default): p = d.
    pub intercept: i32,
    /// `MK_NOISE_PER_COMPONENT` (default), `MK_NOISE_SHARED` or `MK_NOISE_KNOWN`.
    pub noise: i32,
    /// The known noise standard deviation for `MK_NOISE_KNOWN` (> 0, finite); else ignored.
    pub known_sigma: f64,
    /// 1: the seed's symmetric model (K = 2, theta_2 = -theta_1, weights fixed at 1/2, no
    /// intercept); 0 (default): the general model.
    pub symmetric: i32,
    /// `MK_MIXREG_INIT_GIVEN`, `MK_MIXREG_INIT_NODE_LEAST_SQUARES` (default) or
    /// `MK_MIXREG_INIT_RANDOM`.
    pub init: i32,
    /// Stop when the mean log-likelihood per sample changes by less than tol (>= 0).
    pub tol: f64,
    /// Iteration cap per restart, > 0.
    pub max_iter: usize,
    /// Restarts, > 0: the first from `init`, the others random; the best log-likelihood is kept.
    pub n_init: usize,
    /// Seed of every random choice (k-means++, random starts).
    pub seed: u64,
}

/// What the fits report.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkMixRegReport {
    /// The log-likelihood at the returned parameters.
    pub log_likelihood: f64,
    /// Iterations run by the returned restart.
    pub iterations: usize,
    /// 1 if the tolerance was met before max_iter, else 0.
    pub converged: i32,
    /// Which restart (0-based) was returned.
    pub best_restart: usize,
    /// BIC = -2 log-likelihood + (free parameters) ln(number of samples).
    pub bic: f64,
    /// Components of the returned fit with weight 0: their responsibility mass fell below p
    /// samples, so their weight was set to 0 and their coefficients and variance kept.
    pub emptied: usize,
    /// Estimated noise variances of the returned fit held at their floor (an exact fit):
    /// max(1e-12 var(y) + 16 eps mean(y^2), 1e-150). Never NaN.
    pub sigma_floored: usize,
}

impl From<MixRegReport> for MkMixRegReport {
    fn from(r: MixRegReport) -> Self {
        MkMixRegReport {
            log_likelihood: r.log_likelihood,
            iterations: r.iterations,
            converged: i32::from(r.converged),
            best_restart: r.best_restart,
            bic: r.bic,
            emptied: r.emptied,
            sigma_floored: r.sigma_floored,
        }
    }
}

/// The defaults: K = 2, no intercept, per-component noise, general model, node least-squares
/// start, tol 1e-8, max_iter 200, one start, seed 0.
#[no_mangle]
pub extern "C" fn mk_mixreg_options_default() -> MkMixRegOptions {
    let o = MixRegOptions::default();
    MkMixRegOptions {
        k: o.k,
        intercept: i32::from(o.intercept),
        noise: MK_NOISE_PER_COMPONENT,
        known_sigma: 0.0,
        symmetric: i32::from(o.symmetric),
        init: MK_MIXREG_INIT_NODE_LEAST_SQUARES,
        tol: o.tol,
        max_iter: o.max_iter,
        n_init: o.n_init,
        seed: o.seed,
    }
}

impl MkMixRegOptions {
    fn to_options(self) -> Result<MixRegOptions, Status> {
        let noise = match self.noise {
            MK_NOISE_PER_COMPONENT => Noise::PerComponent,
            MK_NOISE_SHARED => Noise::Shared,
            MK_NOISE_KNOWN => Noise::Known(self.known_sigma),
            _ => return Err(Status::BadParameter),
        };
        Ok(MixRegOptions {
            k: self.k,
            intercept: flag(self.intercept)?,
            noise,
            symmetric: flag(self.symmetric)?,
            tol: self.tol,
            max_iter: self.max_iter,
            n_init: self.n_init,
            seed: self.seed,
        })
    }
}

/// The start from the C options and pointers.
///
/// # Safety
/// For `MK_MIXREG_INIT_GIVEN` the pointers must be valid for K, K*p and K reads.
unsafe fn init<'a>(
    o: &MkMixRegOptions,
    p: usize,
    weights: *const f64,
    coefs: *const f64,
    sigma2: *const f64,
) -> Result<MixRegInit<'a>, Status> {
    Ok(match o.init {
        // SAFETY (three blocks): lengths as documented; the caller guarantees validity.
        MK_MIXREG_INIT_GIVEN => MixRegInit::Given {
            weights: unsafe { slice(weights, o.k) }?,
            coefs: unsafe { slice(coefs, product(o.k, p)?) }?,
            sigma2: unsafe { slice(sigma2, o.k) }?,
        },
        MK_MIXREG_INIT_NODE_LEAST_SQUARES => MixRegInit::NodeLeastSquares,
        MK_MIXREG_INIT_RANDOM => MixRegInit::Random,
        _ => return Err(Status::BadParameter),
    })
}

/// What both fits take besides their data, from the C arguments: the options, the start and
/// the outputs (`rows` posterior rows: m nodes or n samples).
struct FitArgs<'a> {
    opts: MixRegOptions,
    init: MixRegInit<'a>,
    weights_out: &'a mut [f64],
    coefs_out: &'a mut [f64],
    sigma2_out: &'a mut [f64],
    posteriors_out: Option<&'a mut [f64]>,
    trace: Option<&'a mut [f64]>,
    work: &'a mut [f64],
    report: &'a mut MkMixRegReport,
}

/// # Safety
/// As documented for `mk_mixreg_fit_grouped` and `mk_mixreg_fit`, with `rows` posterior rows.
#[allow(clippy::too_many_arguments)]
unsafe fn fit_args<'a>(
    options: *const MkMixRegOptions,
    d: usize,
    rows: usize,
    init_weights: *const f64,
    init_coefs: *const f64,
    init_sigma2: *const f64,
    weights_out: *mut f64,
    coefs_out: *mut f64,
    sigma2_out: *mut f64,
    posteriors_out: *mut f64,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkMixRegReport,
) -> Result<FitArgs<'a>, Status> {
    // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
    let o = *unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
    let opts = o.to_options()?;
    let p = d
        .checked_add(usize::from(opts.intercept))
        .ok_or(Status::SizeOverflow)?;
    Ok(FitArgs {
        opts,
        init: unsafe { init(&o, p, init_weights, init_coefs, init_sigma2) }?,
        weights_out: unsafe { slice_mut(weights_out, o.k) }?,
        coefs_out: unsafe { slice_mut(coefs_out, product(o.k, p)?) }?,
        sigma2_out: unsafe { slice_mut(sigma2_out, o.k) }?,
        posteriors_out: unsafe { optional_slice_mut(posteriors_out, product(rows, o.k)?) }?,
        trace: unsafe { optional_slice_mut(trace, o.max_iter) }?,
        work: unsafe { slice_mut(work, work_len) }?,
        report: unsafe { report.as_mut() }.ok_or(Status::NullPointer)?,
    })
}

/// Doubles per node of `mk_mixreg_node_statistics`: 2 + p + p*p with p = d + intercept
/// (n_j, y^T y, X^T y, X^T X); 0 if d is 0, `intercept` is not 0/1, or the length overflows.
#[no_mangle]
pub extern "C" fn mk_mixreg_node_stats_len(d: usize, intercept: i32) -> usize {
    let len = flag(intercept).and_then(|i| mlr::node_stats_len(d, i));
    work_len_for_c(d > 0, len)
}

/// Per-node sufficient statistics of the regression mixtures, in one pass over the data: for
/// node j, [n_j, c_j = y_j^T y_j, b_j = X_j^T y_j (p), G_j = X_j^T X_j (p x p, row-major)], with
/// X_j's rows [1, x_ij] when `intercept` is 1. They are all the grouped fit needs, so an edge
/// node can send these m * (2 + p + p^2) numbers instead of its raw samples.
///
/// Parameters:
/// - `x` (in): N x d samples, row-major, `n_total * d` doubles; `y` (in): N responses.
/// - `node_sizes` (in): m sizes, each > 0, adding up to N (node j owns the next n_j rows).
/// - `intercept`: 0 or 1.
/// - `stats_out` (out): `m * mk_mixreg_node_stats_len(d, intercept)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the output untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_NODE_SIZES`,
/// `MK_STATUS_NON_FINITE` (NaN or infinity in x or y), `MK_STATUS_BAD_PARAMETER` (intercept
/// not 0/1), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `stats_out` must not overlap
/// the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_node_statistics(
    x: *const f64,
    y: *const f64,
    n_total: usize,
    d: usize,
    node_sizes: *const usize,
    m: usize,
    intercept: i32,
    stats_out: *mut f64,
) -> i32 {
    run(|| {
        let intercept = flag(intercept)?;
        let per_node = mlr::node_stats_len(d, intercept)?;
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let x = unsafe { slice(x, product(n_total, d)?) }?;
        let y = unsafe { slice(y, n_total) }?;
        let sizes = unsafe { slice(node_sizes, m) }?;
        let stats_out = unsafe { slice_mut(stats_out, product(m, per_node)?) }?;
        let data = ClusteredData::new(x, y, d, sizes)?;
        mlr::node_sufficient_statistics(&data, intercept, stats_out)
    })
}

/// Workspace length (doubles) of `mk_mixreg_fit_grouped` for m nodes, K components, d
/// covariates; 0 if a size is 0, `intercept` is not 0/1, or the length overflows.
#[no_mangle]
pub extern "C" fn mk_mixreg_fit_grouped_work_len(
    m: usize,
    k: usize,
    d: usize,
    intercept: i32,
) -> usize {
    let len = flag(intercept).and_then(|i| mlr::mixreg_fit_grouped_work_len(m, k, d, i));
    work_len_for_c(m > 0 && k > 0 && d > 0, len)
}

/// Fits a mixture of K linear regressions to m nodes whose samples share one latent component
/// (flexmix's `y ~ x | node`), by EM on the node statistics of `mk_mixreg_node_statistics`:
/// each iteration costs O(m K p^2 + K p^3), independent of the number of samples.
///
/// Parameters:
/// - `stats` (in): `m * mk_mixreg_node_stats_len(d, options->intercept)` doubles.
/// - `options` (in): see `mk_mixreg_options`.
/// - `init_weights`, `init_coefs`, `init_sigma2` (in): the start for `MK_MIXREG_INIT_GIVEN`
///   (K weights summing to 1, K*p coefficients, K variances > 0); otherwise ignored, may be
///   NULL.
/// - `weights_out` (out): K; `coefs_out` (out): K*p (row k: intercept first, then slopes);
///   `sigma2_out` (out): K noise variances (all equal for `MK_NOISE_SHARED`).
/// - `posteriors_out` (out, optional): m*K node label posteriors at the returned parameters.
/// - `trace` (out, optional): `options->max_iter` log-likelihoods, one per iteration
///   (non-decreasing); needs `options->n_init == 1`.
/// - `work` (scratch): `work_len` >= `mk_mixreg_fit_grouped_work_len(m, k, d, intercept)`.
/// - `report` (out): see `mk_mixreg_report`.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched (the trace possibly written):
/// `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (an unknown noise model or
/// init, a flag not 0/1, `symmetric` with K != 2 or an intercept, known_sigma <= 0, tol < 0,
/// max_iter or n_init 0, too few nodes with n_j >= p for the node least-squares start),
/// `MK_STATUS_NON_FINITE` (NaN or infinity in the statistics or the start),
/// `MK_STATUS_WEIGHTS` (a given start's weights), `MK_STATUS_NOT_SPD` (a weighted Gram matrix
/// that cannot be factored: collinear covariates), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs, trace and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_fit_grouped(
    stats: *const f64,
    m: usize,
    d: usize,
    options: *const MkMixRegOptions,
    init_weights: *const f64,
    init_coefs: *const f64,
    init_sigma2: *const f64,
    weights_out: *mut f64,
    coefs_out: *mut f64,
    sigma2_out: *mut f64,
    posteriors_out: *mut f64,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkMixRegReport,
) -> i32 {
    run(|| {
        // SAFETY (both blocks): lengths as documented; the caller guarantees validity.
        let a = unsafe {
            fit_args(
                options,
                d,
                m,
                init_weights,
                init_coefs,
                init_sigma2,
                weights_out,
                coefs_out,
                sigma2_out,
                posteriors_out,
                trace,
                work,
                work_len,
                report,
            )
        }?;
        let stats_len = product(m, mlr::node_stats_len(d, a.opts.intercept)?)?;
        let stats = unsafe { slice(stats, stats_len) }?;
        let r = mlr::mixreg_fit_grouped(
            stats,
            m,
            d,
            &a.opts,
            a.init,
            a.weights_out,
            a.coefs_out,
            a.sigma2_out,
            a.posteriors_out,
            a.trace,
            a.work,
        )?;
        *a.report = r.into();
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_mixreg_fit` for n samples, K components, d covariates; 0
/// if a size is 0, `intercept` is not 0/1, or the length overflows.
#[no_mangle]
pub extern "C" fn mk_mixreg_fit_work_len(n: usize, k: usize, d: usize, intercept: i32) -> usize {
    let len = flag(intercept).and_then(|i| mlr::mixreg_fit_work_len(n, k, d, i));
    work_len_for_c(n > 0 && k > 0 && d > 0, len)
}

/// Fits an ordinary mixture of K linear regressions (each sample its own latent component:
/// R's `mixtools::regmixEM`, flexmix's `y ~ x`) by EM, streaming over the samples (no p x p
/// matrix per sample: K weighted Gram matrices are accumulated per iteration).
///
/// Parameters: `x` (in) n x d row-major, `y` (in) n responses; `posteriors_out` (out,
/// optional) n*K; the others as in `mk_mixreg_fit_grouped` (`MK_MIXREG_INIT_NODE_LEAST_SQUARES`
/// is not available here: `MK_STATUS_BAD_PARAMETER`); `work_len` >=
/// `mk_mixreg_fit_work_len(n, k, d, intercept)`.
///
/// Returns the statuses of `mk_mixreg_fit_grouped` (`MK_STATUS_NON_FINITE` for NaN or infinity
/// in x or y, `MK_STATUS_BAD_PARAMETER` also for n < K), with the outputs untouched on failure.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs, trace and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_fit(
    x: *const f64,
    y: *const f64,
    n: usize,
    d: usize,
    options: *const MkMixRegOptions,
    init_weights: *const f64,
    init_coefs: *const f64,
    init_sigma2: *const f64,
    weights_out: *mut f64,
    coefs_out: *mut f64,
    sigma2_out: *mut f64,
    posteriors_out: *mut f64,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkMixRegReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks): lengths as documented; the caller guarantees validity.
        let a = unsafe {
            fit_args(
                options,
                d,
                n,
                init_weights,
                init_coefs,
                init_sigma2,
                weights_out,
                coefs_out,
                sigma2_out,
                posteriors_out,
                trace,
                work,
                work_len,
                report,
            )
        }?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let y = unsafe { slice(y, n) }?;
        let r = mlr::mixreg_fit(
            x,
            y,
            n,
            d,
            &a.opts,
            a.init,
            a.weights_out,
            a.coefs_out,
            a.sigma2_out,
            a.posteriors_out,
            a.trace,
            a.work,
        )?;
        *a.report = r.into();
        Ok(())
    })
}
