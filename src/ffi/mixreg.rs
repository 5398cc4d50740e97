//! C ABI of the K-component mixture of linear regressions ([`crate::mlr`]: `mixreg_*`).

use super::cmlr::clustered_data;
use super::{flag, nonzero, optional_slice_mut, product, run, slice, slice_mut, work_len_for_c};
use crate::mlr::{self, MixRegInit, MixRegOptions, MixRegReport, Noise};
use crate::Status;

/// Noise model: one variance sigma_k^2 per component.
pub const MK_NOISE_PER_COMPONENT: i32 = 0;
/// Noise model: one variance shared by all components.
pub const MK_NOISE_SHARED: i32 = 1;
/// Noise model: a known noise standard deviation (`known_sigma`), not estimated.
pub const MK_NOISE_KNOWN: i32 = 2;

/// Start: per-node least squares (nodes with n_j >= p) clustered by k-means++ (grouped only).
pub const MK_MIXREG_INIT_NODE_LEAST_SQUARES: i32 = 1;
/// Start: seeded random responsibilities, then one M-step.
pub const MK_MIXREG_INIT_RANDOM: i32 = 2;

/// A mixture of K linear regressions as a C input: K components, d covariates, `intercept`
/// (1: coefficient 0 of each component is an intercept, then the d slopes, p = d + 1; 0:
/// p = d), and its arrays: `weights` (K, >= 0, summing to 1), `coefs` (K x p, row-major),
/// `sigma2` (K noise variances > 0).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkMixReg {
    /// Number of components K, > 0.
    pub k: usize,
    /// Number of covariates d, > 0.
    pub d: usize,
    /// 0 or 1: whether coefficient 0 of each component is an intercept.
    pub intercept: i32,
    /// K weights.
    pub weights: *const f64,
    /// K*p coefficients, row-major.
    pub coefs: *const f64,
    /// K noise variances.
    pub sigma2: *const f64,
}

/// A mixture of K linear regressions as a C output: the shape the caller asks for (K, d,
/// intercept, as in `mk_mixreg`) and writable arrays of K, K*p and K doubles, written only on
/// success.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkMixRegOut {
    /// Number of components K, > 0.
    pub k: usize,
    /// Number of covariates d, > 0.
    pub d: usize,
    /// 0 or 1: whether to fit an intercept.
    pub intercept: i32,
    /// K weights (out).
    pub weights: *mut f64,
    /// K*p coefficients, row-major (out).
    pub coefs: *mut f64,
    /// K noise variances (all equal for `MK_NOISE_SHARED`) (out).
    pub sigma2: *mut f64,
}

/// Options of `mk_mixreg_fit_grouped` and `mk_mixreg_fit`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkMixRegOptions {
    /// `MK_NOISE_PER_COMPONENT` (default), `MK_NOISE_SHARED` or `MK_NOISE_KNOWN`.
    pub noise: i32,
    /// The known noise standard deviation for `MK_NOISE_KNOWN` (> 0, finite); else ignored.
    pub known_sigma: f64,
    /// 1: the seed's symmetric model (K = 2, theta_2 = -theta_1, weights fixed at 1/2, no
    /// intercept); 0 (default): the general model.
    pub symmetric: i32,
    /// The start when the fit is given none: `MK_MIXREG_INIT_NODE_LEAST_SQUARES` (default,
    /// grouped fit only) or `MK_MIXREG_INIT_RANDOM`.
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
    /// Estimated noise variances of the returned fit held at their floor (an exact fit): the
    /// larger of max(1e-12 var(y) + 16 eps mean(y^2), 1e-150) and the rounding of the
    /// component's residual sum computed from statistics, 16 eps (sum of the component's y^2 +
    /// p sum_a theta_a^2 (its Gram)_aa) / its sample mass. Never NaN.
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

/// The defaults: per-component noise, general model, node least-squares start, tol 1e-8,
/// max_iter 200, one start, seed 0.
#[no_mangle]
pub extern "C" fn mk_mixreg_options_default() -> MkMixRegOptions {
    let o = MixRegOptions::default();
    MkMixRegOptions {
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
    /// The safe-API options for K components with or without an intercept.
    pub(super) fn to_options(self, k: usize, intercept: bool) -> Result<MixRegOptions, Status> {
        let noise = match self.noise {
            MK_NOISE_PER_COMPONENT => Noise::PerComponent,
            MK_NOISE_SHARED => Noise::Shared,
            MK_NOISE_KNOWN => Noise::Known(self.known_sigma),
            _ => return Err(Status::BadParameter),
        };
        Ok(MixRegOptions {
            k,
            intercept,
            noise,
            symmetric: flag(self.symmetric)?,
            tol: self.tol,
            max_iter: self.max_iter,
            n_init: self.n_init,
            seed: self.seed,
        })
    }
}

/// The checked shape of a regression-mixture descriptor: (K, d, intercept, p).
pub(super) fn mixreg_shape(
    k: usize,
    d: usize,
    intercept: i32,
) -> Result<(usize, usize, bool, usize), Status> {
    let intercept = flag(intercept)?;
    nonzero(&[k, d])?;
    let p = d
        .checked_add(usize::from(intercept))
        .ok_or(Status::SizeOverflow)?;
    product(k, p)?;
    Ok((k, d, intercept, p))
}

/// The shape of the output descriptor of a fit, with d checked against the data's.
///
/// # Safety
/// A non-null `fit` must point to a valid `mk_mixreg_out`.
unsafe fn fit_shape(
    d: usize,
    fit: *const MkMixRegOut,
) -> Result<(usize, usize, bool, usize), Status> {
    // SAFETY: caller's contract.
    let f = unsafe { fit.as_ref() }.ok_or(Status::NullPointer)?;
    let shape = mixreg_shape(f.k, f.d, f.intercept)?;
    if f.d != d {
        return Err(Status::ShapeMismatch);
    }
    Ok(shape)
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
    d: usize,
    rows: usize,
    options: *const MkMixRegOptions,
    start: *const MkMixReg,
    fit: *const MkMixRegOut,
    posteriors_out: *mut f64,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkMixRegReport,
) -> Result<FitArgs<'a>, Status> {
    // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
    let (k, _, intercept, p) = unsafe { fit_shape(d, fit) }?;
    let f = unsafe { &*fit };
    let o = *unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
    let opts = o.to_options(k, intercept)?;
    let init = match unsafe { start.as_ref() } {
        Some(s) => {
            if mixreg_shape(s.k, s.d, s.intercept)? != (k, d, intercept, p) {
                return Err(Status::ShapeMismatch);
            }
            MixRegInit::Given {
                weights: unsafe { slice(s.weights, k) }?,
                coefs: unsafe { slice(s.coefs, k * p) }?,
                sigma2: unsafe { slice(s.sigma2, k) }?,
            }
        }
        None => match o.init {
            MK_MIXREG_INIT_NODE_LEAST_SQUARES => MixRegInit::NodeLeastSquares,
            MK_MIXREG_INIT_RANDOM => MixRegInit::Random,
            _ => return Err(Status::BadParameter),
        },
    };
    Ok(FitArgs {
        opts,
        init,
        weights_out: unsafe { slice_mut(f.weights, k) }?,
        coefs_out: unsafe { slice_mut(f.coefs, k * p) }?,
        sigma2_out: unsafe { slice_mut(f.sigma2, k) }?,
        posteriors_out: unsafe { optional_slice_mut(posteriors_out, product(rows, k)?) }?,
        trace: unsafe { optional_slice_mut(trace, o.max_iter) }?,
        work: unsafe { slice_mut(work, work_len) }?,
        report: unsafe { report.as_mut() }.ok_or(Status::NullPointer)?,
    })
}

/// Doubles per node of `mk_mixreg_node_statistics`: 2 + p + p*p with p = d + intercept
/// (n_j, y^T y, X^T y, X^T X); 0 if d is 0, `intercept` is not 0/1, or the length overflows.
#[no_mangle]
pub extern "C" fn mk_mixreg_node_stats_len(d: usize, intercept: i32) -> usize {
    work_len_for_c(|| {
        nonzero(&[d])?;
        mlr::node_stats_len(d, flag(intercept)?)
    })
}

/// Per-node sufficient statistics of the regression mixtures, in one pass over the data: for
/// node j, [n_j, c_j = y_j^T y_j, b_j = X_j^T y_j (p), G_j = X_j^T X_j (p x p, row-major)], with
/// X_j's rows [1, x_ij] when `intercept` is 1. They are all the grouped fit needs, so an edge
/// node can send these m * (2 + p + p^2) numbers instead of its raw samples.
///
/// Parameters:
/// - `x` (in): N x d samples, row-major, `n_total * d` doubles; `n_total`, `d` > 0.
/// - `y` (in): N responses.
/// - `node_sizes` (in): m sizes, each > 0, adding up to N (node j owns the next n_j rows).
/// - `intercept` (in): 0 or 1.
/// - `stats_out` (out): `m * mk_mixreg_node_stats_len(d, intercept)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the output untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_NODE_SIZES`,
/// `MK_STATUS_NON_FINITE` (NaN or infinity in x or y), `MK_STATUS_DATA_SCALE` (x or y with a
/// spread below 1e-150, not 0, or a magnitude above 1e150), `MK_STATUS_BAD_PARAMETER`
/// (intercept not 0/1), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `stats_out` must not overlap
/// the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_node_statistics(
    x: *const f64,
    n_total: usize,
    d: usize,
    y: *const f64,
    node_sizes: *const usize,
    m: usize,
    intercept: i32,
    stats_out: *mut f64,
) -> i32 {
    run(|| {
        let intercept = flag(intercept)?;
        let per_node = mlr::node_stats_len(d, intercept)?;
        // SAFETY (both blocks): lengths as documented; the caller guarantees validity.
        let data = unsafe { clustered_data(x, n_total, d, y, node_sizes, m) }?;
        let stats_out = unsafe { slice_mut(stats_out, product(m, per_node)?) }?;
        mlr::node_sufficient_statistics(&data, intercept, stats_out)
    })
}

/// Workspace length (doubles) of `mk_mixreg_fit_grouped` for m nodes, d covariates and the
/// output's K and intercept; 0 if `fit` is NULL, a size is 0, d differs from `fit->d`, the
/// intercept is not 0/1, or the length overflows.
///
/// # Safety
/// A non-null `fit` must point to a valid `mk_mixreg_out`.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_fit_grouped_work_len(
    m: usize,
    d: usize,
    fit: *const MkMixRegOut,
) -> usize {
    work_len_for_c(|| {
        nonzero(&[m])?;
        // SAFETY: caller's contract.
        let (k, d, intercept, _) = unsafe { fit_shape(d, fit) }?;
        mlr::mixreg_fit_grouped_work_len(m, k, d, intercept)
    })
}

/// Fits a mixture of K linear regressions to m nodes whose samples share one latent component
/// (flexmix's `y ~ x | node`), by EM on the node statistics of `mk_mixreg_node_statistics`:
/// each iteration costs O(m K p^2 + K p^3), independent of the number of samples.
///
/// Parameters:
/// - `stats` (in): `m * mk_mixreg_node_stats_len(d, fit->intercept)` doubles, computed with the
///   same intercept flag; `m`, `d` > 0.
/// - `options` (in): see `mk_mixreg_options`.
/// - `start` (in, optional): a start of the output's shape (weights summing to 1, variances
///   > 0); NULL starts from `options->init`.
/// - `fit` (out): K, d (= `d`) and intercept in; weights, coefficients (row k: intercept first,
///   then slopes) and noise variances out.
/// - `posteriors_out` (out, optional): m*K node label posteriors at the returned parameters.
/// - `trace` (out, optional): `options->max_iter` log-likelihoods, one per iteration
///   (non-decreasing up to rounding, unless a component is emptied or a variance floored);
///   needs `options->n_init == 1`.
/// - `work` (scratch): `work_len` >= `mk_mixreg_fit_grouped_work_len(m, d, fit)`.
/// - `report` (out): see `mk_mixreg_report`.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched (the trace possibly written):
/// `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_SHAPE_MISMATCH` (`fit->d` differs from d, or `start` has another shape than
/// `fit`), `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (an unknown noise
/// model or init, a flag not 0/1, `symmetric` with K != 2 or an intercept, known_sigma <= 0,
/// tol < 0, max_iter or n_init 0, too few nodes with n_j >= p for the node least-squares
/// start), `MK_STATUS_NON_FINITE` (NaN or infinity in the statistics or the start),
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
    start: *const MkMixReg,
    fit: *const MkMixRegOut,
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
                d,
                m,
                options,
                start,
                fit,
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

/// Workspace length (doubles) of `mk_mixreg_fit` for n samples, d covariates and the output's K
/// and intercept; 0 if `fit` is NULL, a size is 0, d differs from `fit->d`, the intercept is
/// not 0/1, or the length overflows.
///
/// # Safety
/// A non-null `fit` must point to a valid `mk_mixreg_out`.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_fit_work_len(
    n: usize,
    d: usize,
    fit: *const MkMixRegOut,
) -> usize {
    work_len_for_c(|| {
        nonzero(&[n])?;
        // SAFETY: caller's contract.
        let (k, d, intercept, _) = unsafe { fit_shape(d, fit) }?;
        mlr::mixreg_fit_work_len(n, k, d, intercept)
    })
}

/// Fits an ordinary mixture of K linear regressions (each sample its own latent component:
/// R's `mixtools::regmixEM`, flexmix's `y ~ x`) by EM, streaming over the samples (no p x p
/// matrix per sample: K weighted Gram matrices are accumulated per iteration).
///
/// Parameters:
/// - `x` (in): n x d samples, row-major; `n`, `d` > 0. `y` (in): n responses.
/// - `options`, `start`, `fit`, `trace`, `report`: as in `mk_mixreg_fit_grouped`
///   (`MK_MIXREG_INIT_NODE_LEAST_SQUARES` is not available here: `MK_STATUS_BAD_PARAMETER`).
/// - `posteriors_out` (out, optional): n*K sample label posteriors.
/// - `work` (scratch): `work_len` >= `mk_mixreg_fit_work_len(n, d, fit)`.
///
/// Returns the statuses of `mk_mixreg_fit_grouped` (`MK_STATUS_NON_FINITE` for NaN or infinity
/// in x or y, `MK_STATUS_TOO_FEW_SAMPLES` for n < K, `MK_STATUS_DATA_SCALE` for x or y with a
/// spread below 1e-150, not 0, or a magnitude above 1e150), with the outputs untouched on
/// failure.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs, trace and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_fit(
    x: *const f64,
    n: usize,
    d: usize,
    y: *const f64,
    options: *const MkMixRegOptions,
    start: *const MkMixReg,
    fit: *const MkMixRegOut,
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
                d,
                n,
                options,
                start,
                fit,
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
