//! EM steps (Algorithm 1 and Algorithm 2 of the seed) and the fit loop.

use super::data::statistics_into;
use super::init::{init_into, init_work_len};
use super::kernel::{alg1_sum, alg2_sum, dispatch_dim};
use super::{ensure_finite, inverse_noise_variance, sign_invariant_distance, ClusteredData};
use crate::linalg::{cholesky_solve, distance2, dot, norm2};
use crate::special::sigmoid;
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// Which EM update to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// Algorithm 1: ignores the clusters; every step is a pass over all N samples.
    IgnoreClusters,
    /// Algorithm 2: honours the clusters; every step costs O(m d) on the node sums.
    HonourClusters,
}

/// The matrix the update is preconditioned with.
#[derive(Clone, Copy, Debug)]
pub enum Metric<'a> {
    /// Sigma_hat = (1/N) sum x x^T, given by its lower Cholesky factor (d x d, row-major, only
    /// the lower triangle is read), as [`super::node_statistics`] writes it.
    SigmaHat(&'a [f64]),
    /// The identity in place of Sigma_hat (the population covariance of the seed's model).
    Identity,
}

/// Where the fit starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// From the caller's theta.
    Given,
    /// From [`super::init_from_node_moments`] on the node statistics of the same pass.
    NodeMoments,
}

/// Options of [`fit`].
#[derive(Clone, Copy, Debug)]
pub struct FitOptions {
    /// The update to iterate.
    pub algorithm: Algorithm,
    /// Use the identity in place of Sigma_hat.
    pub use_identity: bool,
    /// Where to start.
    pub init: Init,
    /// The known noise standard deviation sigma (> 0).
    pub sigma: f64,
    /// Stop when |theta_{t+1} - theta_t| <= tol * |theta_{t+1}| (tol >= 0; 0 runs to an exact
    /// fixed point or the cap).
    pub tol: f64,
    /// The iteration cap (>= 1).
    pub max_iter: usize,
}

impl Default for FitOptions {
    /// Algorithm 2, Sigma_hat, node-moment start, sigma = 1, tol = 1e-10, max_iter = 100.
    fn default() -> Self {
        FitOptions {
            algorithm: Algorithm::HonourClusters,
            use_identity: false,
            init: Init::NodeMoments,
            sigma: 1.0,
            tol: 1e-10,
            max_iter: 100,
        }
    }
}

/// What a fit did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitReport {
    /// EM iterations run (1..=max_iter).
    pub iterations: usize,
    /// Whether the tolerance was met before the cap.
    pub converged: bool,
    /// |theta_T - theta_{T-1}| of the last iteration.
    pub last_step: f64,
}

/// Optional per-iteration traces of [`fit`], each of length at least `max_iter`; entry t is
/// written for t < iterations.
#[derive(Debug, Default)]
pub struct Trace<'a> {
    /// |theta_{t+1} - theta_t|.
    pub step: Option<&'a mut [f64]>,
    /// min(|theta_{t+1} - theta*|, |theta_{t+1} + theta*|); needs `theta_star`.
    pub error: Option<&'a mut [f64]>,
}

/// Workspace length (in f64) of [`alg1_step`] and [`alg2_step`]: d.
pub fn step_work_len(d: usize) -> usize {
    d
}

/// Workspace length (in f64) of [`fit`]: m d + d^2 + 2 d + [`init_work_len`]`(d)`.
/// `SizeOverflow` if that overflows.
pub fn fit_work_len(m: usize, d: usize) -> Result<usize, Status> {
    let len = checked_add(checked_mul(m, d)?, checked_mul(d, d)?)?;
    checked_add(checked_add(len, checked_mul(2, d)?)?, init_work_len(d)?)
}

/// What an update reads: the samples (Algorithm 1) or the node sums (Algorithm 2).
#[derive(Clone, Copy)]
enum Source<'a> {
    Samples { x: &'a [f64], y: &'a [f64] },
    NodeSums(&'a [f64]),
}

/// One EM update from `theta` into `out` (both length d), after all checks:
/// out = M^-1 (1/N) sum tanh(...) (...), M = Sigma_hat or the identity.
/// `NonFinite` (with `out` written) if the sum overflows.
fn update(
    source: Source,
    d: usize,
    n_total: usize,
    metric: Metric,
    inv_noise_var: f64,
    theta: &[f64],
    out: &mut [f64],
) -> Result<(), Status> {
    match source {
        Source::Samples { x, y } => dispatch_dim!(d, alg1_sum(x, y, d, theta, inv_noise_var, out)),
        Source::NodeSums(s) => dispatch_dim!(d, alg2_sum(s, d, theta, inv_noise_var, out)),
    }
    let inv_n = 1.0 / n_total as f64;
    for v in out.iter_mut() {
        *v *= inv_n;
    }
    if let Metric::SigmaHat(l) = metric {
        cholesky_solve(l, d, out);
    }
    ensure_finite(out)
}

/// Checks a metric's factor: length >= d^2, lower triangle finite (`NonFinite`), diagonal
/// positive (`NotSpd`).
pub(super) fn check_metric(metric: Metric, d: usize) -> Result<(), Status> {
    if let Metric::SigmaHat(l) = metric {
        ensure_len(l.len(), checked_mul(d, d)?)?;
        for a in 0..d {
            ensure_finite(&l[a * d..a * d + a + 1])?;
            if l[a * d + a] <= 0.0 {
                return Err(Status::NotSpd);
            }
        }
    }
    Ok(())
}

/// Checks theta (length >= d, finite) and the workspace of a step.
fn check_theta_and_work(theta: &[f64], d: usize, work: &[f64]) -> Result<(), Status> {
    ensure_len(theta.len(), d)?;
    ensure_len(work.len(), step_work_len(d))?;
    ensure_finite(&theta[..d])
}

/// Algorithm 1 step in place: theta <- M^-1 (1/N) sum_i tanh(y_i <x_i, theta> / sigma^2) y_i x_i
/// over all N = `y.len()` samples (X: N x d row-major, `x.len() >= N d`). Returns
/// |theta_new - theta_old|.
///
/// Errors, with theta untouched: `ZeroSize` (d or N zero), `SizeOverflow`, `BufferTooShort`
/// (x, theta, `work` (length [`step_work_len`]) or the metric's factor short), `BadParameter`
/// (sigma not > 0, or 1/sigma^2 not finite), `NonFinite` (NaN or infinity in x, y, theta or the
/// factor, or an overflowing sum), `NotSpd` (a factor with a non-positive diagonal).
pub fn alg1_step(
    x: &[f64],
    y: &[f64],
    d: usize,
    metric: Metric,
    sigma: f64,
    theta: &mut [f64],
    work: &mut [f64],
) -> Result<f64, Status> {
    let n_total = y.len();
    if d == 0 || n_total == 0 {
        return Err(Status::ZeroSize);
    }
    let len_x = checked_mul(n_total, d)?;
    ensure_len(x.len(), len_x)?;
    let inv_noise_var = inverse_noise_variance(sigma)?;
    check_metric(metric, d)?;
    check_theta_and_work(theta, d, work)?;
    let source = Source::Samples { x: &x[..len_x], y };
    commit_update(source, d, n_total, metric, inv_noise_var, theta, work)
}

/// Algorithm 2 step in place: theta <- M^-1 (1/N) sum_j tanh(<s_j, theta> / sigma^2) s_j over
/// the m node sums (`node_sums`: m x d row-major) of N samples in all. O(m d). Returns
/// |theta_new - theta_old|.
///
/// Errors, with theta untouched: `ZeroSize` (m, d or N zero), `SizeOverflow`, `BufferTooShort`
/// (node sums, theta, `work` or the factor short), `BadParameter` (sigma), `NonFinite`
/// (NaN or infinity in the node sums, theta or the factor), `NotSpd` (factor diagonal).
#[allow(clippy::too_many_arguments)]
pub fn alg2_step(
    node_sums: &[f64],
    m: usize,
    d: usize,
    n_total: usize,
    metric: Metric,
    sigma: f64,
    theta: &mut [f64],
    work: &mut [f64],
) -> Result<f64, Status> {
    if m == 0 || d == 0 || n_total == 0 {
        return Err(Status::ZeroSize);
    }
    let len_s = checked_mul(m, d)?;
    ensure_len(node_sums.len(), len_s)?;
    let inv_noise_var = inverse_noise_variance(sigma)?;
    check_metric(metric, d)?;
    check_theta_and_work(theta, d, work)?;
    let source = Source::NodeSums(&node_sums[..len_s]);
    commit_update(source, d, n_total, metric, inv_noise_var, theta, work)
}

/// Runs one checked update into `work[..d]` and copies it to theta on success.
fn commit_update(
    source: Source,
    d: usize,
    n_total: usize,
    metric: Metric,
    inv_noise_var: f64,
    theta: &mut [f64],
    work: &mut [f64],
) -> Result<f64, Status> {
    let next = &mut work[..d];
    update(source, d, n_total, metric, inv_noise_var, &theta[..d], next)?;
    let step = distance2(&theta[..d], next);
    theta[..d].copy_from_slice(next);
    Ok(step)
}

/// Fits theta by iterating Algorithm 1 or 2 from the raw data: one statistics pass (node sums
/// and Sigma_hat's factor, see [`super::node_statistics`]), the start (the caller's theta or the
/// node-moment initializer), then updates until |theta_{t+1} - theta_t| <= tol |theta_{t+1}| or
/// `max_iter`. A fit that reaches the cap still returns its theta (`converged = false`).
///
/// `theta` (length >= d) is read when `opts.init == Init::Given` and written on success.
/// `theta_star` (length >= d) is only used for `trace.error`. `work` has length at least
/// [`fit_work_len`]`(m, d)`.
///
/// Errors, with theta untouched (trace entries may have been written): those of
/// [`ClusteredData::new`]-checked data passes (`NonFinite`, `NotSpd` for a singular Sigma_hat,
/// even with `use_identity`, since Sigma_hat is always factored), `BadParameter` (sigma, tol
/// negative or NaN, `max_iter == 0`, `trace.error` without `theta_star`), `BufferTooShort`
/// (theta, theta_star, a trace or work short), `NonFinite` (NaN or infinity in a given theta or
/// in theta_star, or an iterate or step whose norm exceeds the double range).
pub fn fit(
    data: &ClusteredData,
    opts: &FitOptions,
    theta: &mut [f64],
    theta_star: Option<&[f64]>,
    mut trace: Trace,
    work: &mut [f64],
) -> Result<FitReport, Status> {
    let (d, m, n_total) = (data.dim(), data.n_nodes(), data.n_total());
    let inv_noise_var = inverse_noise_variance(opts.sigma)?;
    // `tol >= 0` is false for NaN.
    let tol_ok = opts.tol >= 0.0;
    if !tol_ok || opts.max_iter == 0 {
        return Err(Status::BadParameter);
    }
    ensure_len(theta.len(), d)?;
    if opts.init == Init::Given {
        ensure_finite(&theta[..d])?;
    }
    if let Some(star) = theta_star {
        ensure_len(star.len(), d)?;
        ensure_finite(&star[..d])?;
    }
    if trace.error.is_some() && theta_star.is_none() {
        return Err(Status::BadParameter);
    }
    for t in [trace.step.as_deref(), trace.error.as_deref()]
        .into_iter()
        .flatten()
    {
        ensure_len(t.len(), opts.max_iter)?;
    }
    ensure_len(work.len(), fit_work_len(m, d)?)?;

    let (node_sums, rest) = work.split_at_mut(m * d);
    let (chol, rest) = rest.split_at_mut(d * d);
    let (current, rest) = rest.split_at_mut(d);
    let (next, scratch) = rest.split_at_mut(d);
    statistics_into(data, node_sums, chol)?;
    let metric = if opts.use_identity {
        Metric::Identity
    } else {
        Metric::SigmaHat(chol)
    };
    match opts.init {
        Init::Given => current.copy_from_slice(&theta[..d]),
        Init::NodeMoments => init_into(node_sums, data.node_sizes(), d, metric, current, scratch)?,
    }
    let source = match opts.algorithm {
        Algorithm::IgnoreClusters => Source::Samples {
            x: data.x(),
            y: data.y(),
        },
        Algorithm::HonourClusters => Source::NodeSums(node_sums),
    };

    let mut report = FitReport {
        iterations: 0,
        converged: false,
        last_step: 0.0,
    };
    for t in 0..opts.max_iter {
        update(source, d, n_total, metric, inv_noise_var, current, next)?;
        let step = distance2(current, next);
        current.copy_from_slice(next);
        if let Some(tr) = trace.step.as_deref_mut() {
            tr[t] = step;
        }
        if let (Some(tr), Some(star)) = (trace.error.as_deref_mut(), theta_star) {
            tr[t] = sign_invariant_distance(current, &star[..d]);
        }
        report = FitReport {
            iterations: t + 1,
            converged: false,
            last_step: step,
        };
        // Both norms are scaled, so they overflow only when the norm itself exceeds the double
        // range: then the iteration has left it, and no result is returned.
        let norm = norm2(current);
        if !step.is_finite() || !norm.is_finite() {
            return Err(Status::NonFinite);
        }
        if step <= opts.tol * norm {
            report.converged = true;
            break;
        }
    }
    theta[..d].copy_from_slice(current);
    Ok(report)
}

/// The E-step of Algorithm 2 made visible: `out[j]` = P(xi_j = +1 | node j) =
/// sigmoid(2 <s_j, theta> / sigma^2) for the m node sums (m x d). Exact (0 or 1, never NaN)
/// however large the node sums grow.
///
/// Errors, with `out` untouched: `ZeroSize` (m or d zero), `SizeOverflow`, `BufferTooShort`
/// (node sums, theta or out), `BadParameter` (sigma), `NonFinite` (node sums or theta).
pub fn node_posteriors(
    node_sums: &[f64],
    m: usize,
    d: usize,
    theta: &[f64],
    sigma: f64,
    out: &mut [f64],
) -> Result<(), Status> {
    if m == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    let len_s = checked_mul(m, d)?;
    ensure_len(node_sums.len(), len_s)?;
    ensure_len(theta.len(), d)?;
    ensure_len(out.len(), m)?;
    let inv_noise_var = inverse_noise_variance(sigma)?;
    ensure_finite(&node_sums[..len_s])?;
    ensure_finite(&theta[..d])?;
    for (p, s) in out.iter_mut().zip(node_sums[..len_s].chunks_exact(d)) {
        *p = sigmoid(2.0 * dot(s, &theta[..d]) * inv_noise_var);
    }
    Ok(())
}
