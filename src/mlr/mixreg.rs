//! General K-component mixtures of linear regressions, grouped (C-MLR: every node's samples share
//! one latent label) and ungrouped (each sample its own label: R's `mixtools::regmixEM`,
//! `flexmix`).
//!
//! # Model
//! Node j holds n_j pairs (x_ij in R^d, y_ij); its latent label z_j = k has probability pi_k and
//! then y_ij = w_ij^T theta_k + sigma_k eps_ij, eps ~ N(0, 1), with w_ij = (1, x_ij) (p = d + 1,
//! the intercept is coefficient 0, then the d slopes, as regmixEM and flexmix report them) or
//! w_ij = x_ij (p = d). The noise is [`Noise::PerComponent`] (sigma_k^2), [`Noise::Shared`] (one
//! sigma^2) or [`Noise::Known`] (a fixed sigma). The ungrouped model is the case n_j = 1.
//!
//! # Node sufficient statistics
//! Per node, [`node_stats_len`] = 2 + p + p^2 doubles: `[n_j, c_j = y^T y, b_j = W^T y (p),
//! G_j = W^T W (p x p, row-major, full)]`, written by [`node_sufficient_statistics`] in one pass.
//! They are all the grouped EM needs, so an edge node can send these 2 + p + p^2 numbers instead
//! of its n_j (d + 1) raw values (they reveal less and cost O(p^2), not O(n_j d), on the wire).
//! A fractional n_j (weighted data) is accepted; the stats of several nodes known to share a label
//! can be summed.
//!
//! # One EM iteration (both paths)
//! An iteration is an E-step at the current parameters followed by an M-step:
//! - E-step: log r_jk = log pi_k - (n_j/2) log(2 pi sigma_k^2) - RSS_jk / (2 sigma_k^2) with
//!   RSS_jk = c_j - 2 theta_k^T b_j + theta_k^T G_j theta_k (grouped; evaluated as
//!   (c_j - theta_k^T b_j) + (theta_k^T G_j theta_k - theta_k^T b_j) and clamped at 0: with
//!   sufficient statistics its absolute accuracy is about eps c_j) or RSS_ik = (y_i - w_i^T
//!   theta_k)^2 (ungrouped, from the residual itself), normalized by a max-shifted log-sum-exp.
//!   The E-step's log-likelihood sum_j log sum_k exp(...) is the iteration's trace value.
//! - M-step: pi_k = (1/m) sum_j r_jk; theta_k = (sum_j r_jk G_j)^-1 sum_j r_jk b_j (Cholesky);
//!   sigma_k^2 = sum_j r_jk RSS_jk(new theta_k) / sum_j r_jk n_j, or one shared
//!   sum_jk r_jk RSS_jk / sum_j n_j, or the known sigma^2. The solve is written as a correction
//!   of the current theta_k: delta = A_k^-1 sum_j r_jk (b_j - G_j theta_k), and the new residual
//!   sum is sum_j r_jk RSS_jk(theta_k) - delta^T sum_j r_jk (b_j - G_j theta_k) (exact algebra),
//!   which never forms the large, cancelling sum_j r_jk c_j - theta^T B.
//!
//! The grouped iteration costs O(m K p^2 + K p^3), independent of n; the ungrouped one streams
//! over the samples once per iteration (residuals, responsibilities and the K weighted Grams
//! sum_i r_ik w_i w_i^T in the same pass, never a p x p matrix per sample), O(N K p^2) time and
//! O(K p^2) memory.
//!
//! # Iteration count, trace, stopping, reported log-likelihood
//! With `max_iter = t` and `tol = 0` from [`MixRegInit::Given`], the fit runs exactly t E/M
//! iterations starting with an E-step at the given parameters and returns the parameters after
//! the t-th M-step (regmixEM's parameters after t iterations from the same start). `trace[i]`
//! is the log-likelihood (a total over the samples, not a mean) at the parameters before M-step
//! i + 1, so `trace[0]` is the log-likelihood of the start. The fit stops early (converged) after
//! the M-step of iteration t when |trace[t] - trace[t-1]| / N < tol (N = sum_j n_j).
//! `report.log_likelihood` is always the log-likelihood at the returned parameters (one more
//! E-step), and `posteriors_out` holds that E-step's responsibilities. From
//! [`MixRegInit::NodeLeastSquares`] or [`MixRegInit::Random`] the start is the result of one
//! M-step from the initial responsibilities; `trace[0]` is the log-likelihood there.
//!
//! # The tied (symmetric) model of the seed
//! `symmetric = true` (K = 2, no intercept): theta_2 = -theta_1, weights fixed at 1/2; the E-step
//! is the one above (r_j1 - r_j2 = tanh(theta^T b_j / sigma^2), computed from that argument, not
//! from differences of log-densities) and the M-step solves (sum_j G_j) theta = sum_j (r_j1 -
//! r_j2) b_j: exactly Algorithm 2 ([`super::alg2_step`]) with Known(sigma). Mirror-image
//! components have one noise level, so PerComponent means the same as Shared here: sigma^2 =
//! sum_jk r_jk RSS_jk / N. A Given start reads theta_1 = `coefs[..p]` (the second row is
//! ignored), `sigma2[0]`; its weights are checked but not used.
//!
//! # Degenerate cases
//! - Emptied component: if the responsibility mass of component k is below p samples
//!   (sum_j r_jk n_j < p, too little to determine p coefficients; never the heaviest
//!   component), its weight is set to 0 (the others renormalized) and it keeps its coefficients
//!   and sigma_k^2. A weight-0 component stays empty. `report.emptied` counts the components of
//!   the returned fit with weight 0. The log-likelihood can drop at the iteration that empties a
//!   component; otherwise the trace never decreases (up to rounding).
//! - Singular weighted Gram sum_j r_jk G_j (collinear or constant covariates, N < p, a
//!   component concentrated on fewer than p samples' directions): `Status::NotSpd`.
//! - Exact fits: sigma^2 (estimated, not Known) never goes below
//!   floor = max(1e-12 s_y^2 + 16 eps mean(y^2), 1e-150), with s_y^2 the sample variance of y
//!   (with an intercept) or mean(y^2) (without), nor below what rounding leaves of a residual
//!   sum computed from statistics, RSS_k = sum_j r_jk (c_j - 2 theta_k^T b_j + theta_k^T G_j
//!   theta_k): 16 eps (C_k + p sum_a theta_ka^2 A_k,aa) / sum_j r_jk n_j, the size of the terms
//!   that cancel (C_k = sum_j r_jk c_j, A_k = sum_j r_jk G_j, theta_ka the larger of the old and
//!   new coefficient; summed over the components and divided by N for a shared variance). The
//!   second floor binds when a component fits its samples (nearly) exactly, with large
//!   coefficients, as a component on p samples of one node does: there the residual sum and the
//!   log-likelihood would be rounding noise. `report.sigma_floored` counts the returned sigma^2
//!   values the last M-step set to a floor. Never NaN or infinity.
//! - Outputs (weights, coefs, sigma2, posteriors) are written only on success; the trace may
//!   have been written when an error occurs.

use super::{ensure_finite, inverse_noise_variance, ClusteredData};
use crate::dispatch::{dim, dispatch_dim, with_avx2};
use crate::linalg::{cholesky, cholesky_solve, dot};
use crate::rng::Rng;
use crate::special::log_of_sum;
use crate::special::{exp, sigmoid, tanh};
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// Samples per block in the ungrouped pass: the block's K x 64 residuals and log-densities stay
/// in L1 between the log-sum-exp and the accumulation.
const BLOCK: usize = 64;

/// Lloyd iterations (at most) after k-means++ seeding in [`MixRegInit::NodeLeastSquares`].
const LLOYD_ITER: usize = 50;

/// k-means runs (seeding + Lloyd) in [`MixRegInit::NodeLeastSquares`]; the lowest
/// within-cluster sum of squares is kept.
const KMEANS_RUNS: usize = 4;

/// The relative part of the noise-variance floor (see the module docs).
pub const SIGMA2_FLOOR_REL: f64 = 1e-12;

/// The rounding part of the noise-variance floor, in units of eps times the terms that cancel
/// in a residual sum computed from statistics (see the module docs).
const RSS_ROUNDING: f64 = 16.0;

/// The noise model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise {
    /// One sigma_k^2 per component.
    PerComponent,
    /// One sigma^2 shared by all components.
    Shared,
    /// A fixed, known noise standard deviation sigma (> 0; not the variance).
    Known(f64),
}

/// Where the (first) EM run starts.
#[derive(Clone, Copy, Debug)]
pub enum MixRegInit<'a> {
    /// The caller's parameters: `weights` (K, non-negative, summing to 1 within 1e-9), `coefs`
    /// (K x p row-major), `sigma2` (K noise variances, > 0; not read with `Noise::Known`; with
    /// `Noise::Shared` used as given by the first E-step). Lengths must be exactly K, K p, K.
    Given {
        /// Mixture weights pi_k.
        weights: &'a [f64],
        /// Coefficients theta_k, K x p row-major (intercept first when `intercept`).
        coefs: &'a [f64],
        /// Noise variances sigma_k^2.
        sigma2: &'a [f64],
    },
    /// Grouped fits only: least squares per node (nodes with n_j >= p and a non-singular G_j;
    /// at least K of them, else `BadParameter`), greedy k-means++ on those estimates (seeded;
    /// 2 + floor(ln K) D^2-drawn candidates per centre, the one of lowest potential kept), then
    /// Lloyd iterations until no label changes (at most 50); the best of 4 such runs (lowest
    /// within-cluster sum of squares) gives hard labels, and one M-step from them (the other
    /// nodes get uniform responsibilities): weights from the cluster sizes,
    /// theta_k pooled least squares, sigma^2 from the residuals.
    NodeLeastSquares,
    /// Random responsibilities, each row Dirichlet(1, ..., 1) from the run's generator
    /// (normalized -ln(1 - U) draws, K per node, in node order), then one M-step.
    Random,
}

/// Options of [`mixreg_fit_grouped`] and [`mixreg_fit`].
#[derive(Clone, Copy, Debug)]
pub struct MixRegOptions {
    /// Number of components K (>= 1).
    pub k: usize,
    /// Prepend an intercept column (p = d + 1; coefficient 0 is the intercept).
    pub intercept: bool,
    /// The noise model.
    pub noise: Noise,
    /// The seed's tie: K = 2, theta_2 = -theta_1, weights fixed at 1/2 (needs k == 2 and no
    /// intercept); see the module docs.
    pub symmetric: bool,
    /// Stop when the mean log-likelihood per sample changes by less than tol (>= 0; 0 runs to
    /// the cap).
    pub tol: f64,
    /// Iteration cap (>= 1).
    pub max_iter: usize,
    /// EM runs (>= 1), keeping the one of largest final log-likelihood (the first on ties). Run
    /// 0 starts from the given `init`; runs r >= 1 from [`MixRegInit::Random`]. Run r uses the
    /// generator `Rng::new(seed + r)` (wrapping).
    pub n_init: usize,
    /// Seed of the runs' generators.
    pub seed: u64,
}

impl Default for MixRegOptions {
    /// K = 2, no intercept, per-component noise, untied, tol 1e-8, max_iter 200, one run, seed 0.
    fn default() -> Self {
        MixRegOptions {
            k: 2,
            intercept: false,
            noise: Noise::PerComponent,
            symmetric: false,
            tol: 1e-8,
            max_iter: 200,
            n_init: 1,
            seed: 0,
        }
    }
}

/// What a fit did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MixRegReport {
    /// Log-likelihood (total over the samples) at the returned parameters.
    pub log_likelihood: f64,
    /// EM iterations (E-step + M-step) of the returned run.
    pub iterations: usize,
    /// Whether that run met the tolerance before the cap.
    pub converged: bool,
    /// Which run (0-based) was returned.
    pub best_restart: usize,
    /// -2 log-likelihood + (free parameters) ln N, N = sum_j n_j; free parameters:
    /// (K - 1) + K p + (K, 1 or 0 noise variances), or p + (1 or 0) when symmetric (emptied
    /// components still counted).
    pub bic: f64,
    /// Components of the returned fit with weight 0 (emptied; see the module docs).
    pub emptied: usize,
    /// Estimated noise variances of the returned fit held at a floor (exact fits; see the
    /// module docs).
    pub sigma_floored: usize,
}

/// p = d (+ 1 with an intercept); `ZeroSize` if d is zero, `SizeOverflow` on overflow.
fn n_coefs(d: usize, intercept: bool) -> Result<usize, Status> {
    if d == 0 {
        return Err(Status::ZeroSize);
    }
    checked_add(d, usize::from(intercept))
}

/// Doubles per node in the sufficient statistics: 2 + p + p^2 with p = d (+ 1 with an
/// intercept). `ZeroSize` if d is zero, `SizeOverflow` on overflow.
pub fn node_stats_len(d: usize, intercept: bool) -> Result<usize, Status> {
    let p = n_coefs(d, intercept)?;
    checked_add(checked_add(2, p)?, checked_mul(p, p)?)
}

/// One pass over clustered data: for each node j, `[n_j, c_j = y^T y, b_j = W^T y (p),
/// G_j = W^T W (p x p row-major, full)]` into `stats_out[j * len..(j + 1) * len]`,
/// len = [`node_stats_len`]`(d, intercept)`, with W = X_j or (1, X_j). These are what an edge
/// node can send instead of its raw data (see the module docs).
///
/// A scan for NaN, infinity and possible overflow (n_j max(|x|, |y|, 1)^2 not finite) precedes
/// the accumulation, so `stats_out` (at least m len long) is written only on success.
///
/// Errors, with `stats_out` untouched: `SizeOverflow`, `BufferTooShort` (stats_out), `NonFinite`,
/// `DataScale` (x or y with a spread below 1e-150 but not 0, or a magnitude above 1e150).
pub fn node_sufficient_statistics(
    data: &ClusteredData,
    intercept: bool,
    stats_out: &mut [f64],
) -> Result<(), Status> {
    let (d, m) = (data.dim(), data.n_nodes());
    let len = node_stats_len(d, intercept)?;
    let total = checked_mul(m, len)?;
    ensure_len(stats_out.len(), total)?;
    let (x, y) = (data.x(), data.y());
    ensure_finite(x)?;
    ensure_finite(y)?;
    crate::status::check_data_scale(x, d)?;
    crate::status::check_data_scale(y, 1)?;
    let max_abs = x.iter().chain(y).fold(
        1.0f64,
        |a, &v| if libm::fabs(v) > a { libm::fabs(v) } else { a },
    );
    let n_max = data.node_sizes().iter().copied().max().unwrap_or(0) as f64;
    if !(n_max * max_abs * max_abs).is_finite() {
        return Err(Status::NonFinite);
    }
    let out = &mut stats_out[..total];
    dispatch_dim!(
        d,
        node_stats_kernel(x, y, d, intercept, data.node_sizes(), out)
    );
    Ok(())
}

/// The accumulation of [`node_sufficient_statistics`], four samples at a time (each Gram entry
/// loaded and stored once per four samples).
#[inline(always)]
fn node_stats_kernel_portable<const D: usize>(
    x: &[f64],
    y: &[f64],
    d: usize,
    intercept: bool,
    node_sizes: &[usize],
    out: &mut [f64],
) {
    let d = dim::<D>(d);
    let off = usize::from(intercept);
    let p = d + off;
    let len = 2 + p + p * p;
    let mut start = 0;
    for (block, &n) in out.chunks_exact_mut(len).zip(node_sizes) {
        block.fill(0.0);
        let xs = &x[start * d..(start + n) * d];
        let ys = &y[start..start + n];
        let (head, g) = block.split_at_mut(2 + p);
        let (c_and_n, b_all) = head.split_at_mut(2);
        let (b0, bx) = b_all.split_at_mut(off);
        // g0: the intercept's row (empty without intercept); gx: the rows of the x part.
        let (g0, gx) = g.split_at_mut(off * p);
        let mut c = 0.0;
        let mut sy = 0.0;
        let mut quads = xs.chunks_exact(4 * d);
        let mut yq = ys.chunks_exact(4);
        for (rows, yv) in (&mut quads).zip(&mut yq) {
            let (r0, rest) = rows.split_at(d);
            let (r1, rest) = rest.split_at(d);
            let (r2, r3) = rest.split_at(d);
            c += (yv[0] * yv[0] + yv[1] * yv[1]) + (yv[2] * yv[2] + yv[3] * yv[3]);
            sy += (yv[0] + yv[1]) + (yv[2] + yv[3]);
            for a in 0..d {
                bx[a] += (yv[0] * r0[a] + yv[1] * r1[a]) + (yv[2] * r2[a] + yv[3] * r3[a]);
                if intercept {
                    g0[off + a] += (r0[a] + r1[a]) + (r2[a] + r3[a]);
                }
                let (x0, x1, x2, x3) = (r0[a], r1[a], r2[a], r3[a]);
                let row = &mut gx[a * p + off + a..a * p + p];
                let cols = r0[a..].iter().zip(&r1[a..]).zip(&r2[a..]).zip(&r3[a..]);
                for (gb, (((v0, v1), v2), v3)) in row.iter_mut().zip(cols) {
                    *gb += (x0 * v0 + x1 * v1) + (x2 * v2 + x3 * v3);
                }
            }
        }
        for (r, &yi) in quads.remainder().chunks_exact(d).zip(yq.remainder()) {
            c += yi * yi;
            sy += yi;
            for a in 0..d {
                bx[a] += yi * r[a];
                if intercept {
                    g0[off + a] += r[a];
                }
                let xa = r[a];
                let row = &mut gx[a * p + off + a..a * p + p];
                for (gb, vb) in row.iter_mut().zip(&r[a..]) {
                    *gb += xa * vb;
                }
            }
        }
        c_and_n[0] = n as f64;
        c_and_n[1] = c;
        if intercept {
            b0[0] = sy;
            g0[0] = n as f64;
        }
        mirror_upper(g, p);
        start += n;
    }
}

with_avx2! {
    /// [`node_stats_kernel_portable`], for the best instruction set the CPU has.
    fn node_stats_kernel = node_stats_kernel_portable(
        x: &[f64], y: &[f64], d: usize, intercept: bool, node_sizes: &[usize], out: &mut [f64],
    )
}

/// Copies the upper triangle of a p x p matrix to its lower triangle.
fn mirror_upper(g: &mut [f64], p: usize) {
    for a in 0..p {
        for b in a + 1..p {
            g[b * p + a] = g[a * p + b];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Workspace layout

/// One parameter block: weights (K), coefficients (K p), noise variances (K).
fn params_len(k: usize, p: usize) -> Result<usize, Status> {
    checked_mul(k, checked_add(p, 2)?)
}

/// The M-step accumulators: K upper-triangular Grams (K p^2), K correction vectors (K p),
/// residual sums, masses and sample masses (3 K).
fn acc_len(k: usize, p: usize) -> Result<usize, Status> {
    let kp = checked_mul(k, p)?;
    checked_add(checked_add(checked_mul(kp, p)?, kp)?, checked_mul(3, k)?)
}

/// Shared part: two parameter blocks, the accumulators, two p x p factors, a p-vector, the 3 K
/// E-step constants, and per-node scratch (K p + 3 K).
fn common_work_len(k: usize, p: usize) -> Result<usize, Status> {
    let mut len = checked_mul(2, params_len(k, p)?)?;
    len = checked_add(len, acc_len(k, p)?)?;
    len = checked_add(len, checked_add(checked_mul(2, checked_mul(p, p)?)?, p)?)?;
    len = checked_add(len, checked_mul(3, k)?)?;
    checked_add(len, checked_add(checked_mul(k, p)?, checked_mul(3, k)?)?)
}

/// Workspace (doubles) of [`mixreg_fit_grouped`]: the sum of 2 K (p + 2), K p^2, 2 K p, 9 K,
/// 2 p^2, p, and m (p + 3), K p, p^2 for the node least-squares start. `ZeroSize` if m, K or d
/// is zero, `SizeOverflow` on overflow.
pub fn mixreg_fit_grouped_work_len(
    m: usize,
    k: usize,
    d: usize,
    intercept: bool,
) -> Result<usize, Status> {
    if m == 0 || k == 0 {
        return Err(Status::ZeroSize);
    }
    let p = n_coefs(d, intercept)?;
    let extra = checked_add(
        checked_mul(m, checked_add(p, 3)?)?,
        checked_add(checked_mul(k, p)?, checked_mul(p, p)?)?,
    )?;
    checked_add(common_work_len(k, p)?, extra)
}

/// Workspace (doubles) of [`mixreg_fit`]: the grouped fit's shared part plus
/// 64 (2 p + 2 K + 6) for one block of samples; independent of n. `ZeroSize` if n, K or d is
/// zero, `SizeOverflow` on overflow.
pub fn mixreg_fit_work_len(n: usize, k: usize, d: usize, intercept: bool) -> Result<usize, Status> {
    if n == 0 || k == 0 {
        return Err(Status::ZeroSize);
    }
    let p = n_coefs(d, intercept)?;
    let per_sample = checked_add(checked_mul(2, checked_add(p, k)?)?, 6)?;
    let extra = checked_mul(BLOCK, per_sample)?;
    checked_add(common_work_len(k, p)?, extra)
}

/// Mutable views of the accumulators.
struct Acc<'a> {
    /// K Grams sum_j r_jk G_j (upper triangles read), K x p x p.
    a: &'a mut [f64],
    /// K vectors sum_j r_jk (b_j - G_j theta_k) (symmetric: s1[..p] = sum_j (r_j1 - r_j2) b_j).
    s1: &'a mut [f64],
    /// K residual sums sum_j r_jk RSS_jk(theta_k) (symmetric: the total in s0[0]).
    s0: &'a mut [f64],
    /// K masses sum_j r_jk.
    mass: &'a mut [f64],
    /// K sample masses sum_j r_jk n_j.
    nmass: &'a mut [f64],
    /// The component whose Gram is not accumulated (>= K: none): the M-step takes it as
    /// sum_j G_j minus the others (responsibilities sum to 1), which saves 1/K of the work.
    skip: usize,
}

impl<'a> Acc<'a> {
    fn new(buf: &'a mut [f64], k: usize, p: usize) -> Self {
        let (a, rest) = buf.split_at_mut(k * p * p);
        let (s1, rest) = rest.split_at_mut(k * p);
        let (s0, rest) = rest.split_at_mut(k);
        let (mass, rest) = rest.split_at_mut(k);
        Acc {
            a,
            s1,
            s0,
            mass,
            nmass: &mut rest[..k],
            skip: usize::MAX,
        }
    }

    fn clear(&mut self) {
        self.a.fill(0.0);
        self.s1.fill(0.0);
        self.s0.fill(0.0);
        self.mass.fill(0.0);
        self.nmass.fill(0.0);
    }
}

/// What every pass needs to know about the problem.
#[derive(Clone, Copy)]
struct Ctx {
    k: usize,
    p: usize,
    symmetric: bool,
    noise: Noise,
    /// The known sigma^2 (Noise::Known), else 0.
    known_s2: f64,
    /// The noise-variance floor.
    floor: f64,
    /// The default noise variance of a start (s_y^2, or 1 when that is 0).
    scale: f64,
    /// N = sum_j n_j.
    n_total: f64,
}

/// Splits a parameter block into (weights, coefs, sigma2).
fn split_params(block: &mut [f64], k: usize, p: usize) -> (&mut [f64], &mut [f64], &mut [f64]) {
    let (w, rest) = block.split_at_mut(k);
    let (c, rest) = rest.split_at_mut(k * p);
    (w, c, &mut rest[..k])
}

/// The floor and the default variance from N, sum y^2 and (with an intercept) sum y.
fn floor_and_scale(n_total: f64, sum_sq: f64, sum_y: Option<f64>) -> (f64, f64) {
    let msq = sum_sq / n_total;
    let var = match sum_y {
        Some(s) => {
            let mean = s / n_total;
            let v = msq - mean * mean;
            if v > 0.0 {
                v
            } else {
                0.0
            }
        }
        None => msq,
    };
    let floor = (SIGMA2_FLOOR_REL * var + 16.0 * f64::EPSILON * msq).max(1e-150);
    let scale = if var > 0.0 { var } else { 1.0 };
    (floor, scale)
}

// ---------------------------------------------------------------------------------------------
// Small vector helpers, written for fixed lengths (inlined into the const-generic kernels).

#[inline(always)]
fn dotp(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}

/// One row of random responsibilities: Dirichlet(1, ..., 1) from normalized -ln(1 - U).
fn random_row(rng: &mut Rng, r: &mut [f64]) {
    let mut sum = 0.0;
    for v in r.iter_mut() {
        *v = -libm::log(1.0 - rng.uniform());
        sum += *v;
    }
    if sum > 0.0 {
        r.iter_mut().for_each(|v| *v /= sum);
    } else {
        let u = 1.0 / r.len() as f64;
        r.fill(u);
    }
}

/// The E-step constants: ln pi_k, (1/2) ln(2 pi sigma_k^2), 1 / (2 sigma_k^2).
fn e_step_constants(ctx: &Ctx, params: &[f64], consts: &mut [f64]) {
    let (k, p) = (ctx.k, ctx.p);
    let (w, rest) = params.split_at(k);
    let s2 = &rest[k * p..k * p + k];
    for c in 0..k {
        consts[c] = libm::log(w[c]);
        consts[k + c] = 0.5 * libm::log(2.0 * core::f64::consts::PI * s2[c]);
        consts[2 * k + c] = 0.5 / s2[c];
    }
}

// ---------------------------------------------------------------------------------------------
// The data sources: node statistics (grouped) and raw samples (ungrouped).

/// What the EM driver needs from the data.
trait Source {
    /// E-step at `params` (E-step constants in `consts`): the total log-likelihood; accumulates
    /// the M-step sums into `acc` and writes the responsibilities to `post` if given.
    fn e_pass(
        &self,
        ctx: &Ctx,
        params: &[f64],
        consts: &[f64],
        acc: Option<&mut Acc>,
        post: Option<&mut [f64]>,
        scratch: &mut [f64],
    ) -> f64;
    /// Accumulates the M-step sums from random responsibilities, relative to theta = 0.
    fn random_pass(&self, ctx: &Ctx, rng: &mut Rng, acc: &mut Acc, scratch: &mut [f64]);
    /// The node least-squares start's accumulation, relative to theta = 0.
    fn node_ls_pass(
        &self,
        ctx: &Ctx,
        rng: &mut Rng,
        acc: &mut Acc,
        scratch: &mut [f64],
    ) -> Result<(), Status>;
    /// The upper triangle of sum_j G_j into `out` (p x p).
    fn total_gram(&self, ctx: &Ctx, out: &mut [f64]);
}

/// Accumulates one unit's responsibilities `r` (K) into the M-step sums: `u` (K p) holds
/// G_j theta_k (None: theta = 0), `rss` (K) the residual sums RSS_jk(theta_k).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn accumulate_node<const P: usize>(
    acc: &mut Acc,
    p: usize,
    nj: f64,
    b: &[f64],
    g: &[f64],
    u: Option<&[f64]>,
    rss: &[f64],
    r: &[f64],
) {
    let p = dim::<P>(p);
    let b = &b[..p];
    let g = &g[..p * p];
    for (c, &rc) in r.iter().enumerate() {
        if rc == 0.0 {
            continue;
        }
        acc.mass[c] += rc;
        acc.nmass[c] += rc * nj;
        acc.s0[c] += rc * rss[c];
        let s1 = &mut acc.s1[c * p..(c + 1) * p];
        match u {
            Some(u) => {
                let uc = &u[c * p..(c + 1) * p];
                for ((s, &bv), &uv) in s1.iter_mut().zip(b).zip(uc) {
                    *s += rc * (bv - uv);
                }
            }
            None => {
                for (s, &bv) in s1.iter_mut().zip(b) {
                    *s += rc * bv;
                }
            }
        }
        if c == acc.skip {
            continue;
        }
        let a = &mut acc.a[c * p * p..(c + 1) * p * p];
        for row in 0..p {
            let dst = &mut a[row * p + row..(row + 1) * p];
            let src = &g[row * p + row..(row + 1) * p];
            for (dv, &sv) in dst.iter_mut().zip(src) {
                *dv += rc * sv;
            }
        }
    }
}

/// The grouped E-step pass (untied model); see [`Source::e_pass`]. `scratch` holds K p + 3 K.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn grouped_pass_portable<const P: usize>(
    stats: &[f64],
    m: usize,
    p: usize,
    k: usize,
    coefs: &[f64],
    consts: &[f64],
    mut acc: Option<&mut Acc>,
    mut post: Option<&mut [f64]>,
    scratch: &mut [f64],
) -> f64 {
    let p = dim::<P>(p);
    let len = 2 + p + p * p;
    let (u, rest) = scratch.split_at_mut(k * p);
    let (rss, rest) = rest.split_at_mut(k);
    let lp = &mut rest[..k];
    let (logpi, rest) = consts.split_at(k);
    let (half_log, inv2s) = rest.split_at(k);
    let coefs = &coefs[..k * p];
    let mut ll = 0.0;
    for (j, node) in stats[..m * len].chunks_exact(len).enumerate() {
        let (nj, cj) = (node[0], node[1]);
        let b = &node[2..2 + p];
        let g = &node[2 + p..len];
        // u_c = G_j theta_c as a sum of G's rows (G is symmetric): contiguous, independent lanes.
        u.fill(0.0);
        for a in 0..p {
            let row = &g[a * p..(a + 1) * p];
            for c in 0..k {
                let ta = coefs[c * p + a];
                for (uv, &gv) in u[c * p..(c + 1) * p].iter_mut().zip(row) {
                    *uv += ta * gv;
                }
            }
        }
        let mut mx = f64::NEG_INFINITY;
        for c in 0..k {
            let th = &coefs[c * p..(c + 1) * p];
            let uc = &u[c * p..(c + 1) * p];
            let q = dotp(th, uc);
            let l = dotp(th, b);
            let r = (cj - l) + (q - l);
            let r = if r > 0.0 { r } else { 0.0 };
            rss[c] = r;
            let v = logpi[c] - nj * half_log[c] - r * inv2s[c];
            lp[c] = v;
            mx = if v > mx { v } else { mx };
        }
        let shift = if mx == f64::NEG_INFINITY { 0.0 } else { mx };
        let mut s = 0.0;
        for v in lp.iter_mut() {
            *v = exp(*v - shift);
            s += *v;
        }
        ll += shift + log_of_sum(s);
        let inv = 1.0 / s;
        lp.iter_mut().for_each(|v| *v *= inv);
        if let Some(po) = post.as_deref_mut() {
            po[j * k..(j + 1) * k].copy_from_slice(lp);
        }
        if let Some(acc) = acc.as_deref_mut() {
            accumulate_node::<P>(acc, p, nj, b, g, Some(&*u), rss, lp);
        }
    }
    ll
}

with_avx2! {
    /// [`grouped_pass_portable`], for the best instruction set the CPU has.
    fn grouped_pass = grouped_pass_portable(
        stats: &[f64], m: usize, p: usize, k: usize, coefs: &[f64], consts: &[f64],
        acc: Option<&mut Acc>, post: Option<&mut [f64]>, scratch: &mut [f64],
    ) -> f64
}

/// The grouped E-step pass of the tied model: theta = `coefs[..p]`, sigma^2 = `s2`.
/// Accumulates s1[..p] += (r_j1 - r_j2) b_j and s0[0] += sum_k r_jk RSS_jk(theta_k).
#[allow(clippy::too_many_arguments)]
fn grouped_sym_pass(
    stats: &[f64],
    m: usize,
    p: usize,
    theta: &[f64],
    s2: f64,
    mut acc: Option<&mut Acc>,
    mut post: Option<&mut [f64]>,
    u: &mut [f64],
) -> f64 {
    let len = 2 + p + p * p;
    let inv = 1.0 / s2;
    let half_log = 0.5 * libm::log(2.0 * core::f64::consts::PI * s2);
    let u = &mut u[..p];
    let mut ll = 0.0;
    for (j, node) in stats[..m * len].chunks_exact(len).enumerate() {
        let (nj, cj) = (node[0], node[1]);
        let b = &node[2..2 + p];
        let g = &node[2 + p..len];
        for (a, ua) in u.iter_mut().enumerate() {
            *ua = dotp(&g[a * p..(a + 1) * p], theta);
        }
        let q = dotp(theta, u);
        let l = crate::linalg::dot(b, theta);
        let arg = l * inv;
        let t = tanh(arg);
        let base = -core::f64::consts::LN_2 - nj * half_log - 0.5 * (cj + q) * inv;
        let abs_arg = libm::fabs(arg);
        ll += base + abs_arg + log_of_sum(1.0 + exp(-2.0 * abs_arg));
        let (r1, r2) = (sigmoid(2.0 * arg), sigmoid(-2.0 * arg));
        if let Some(po) = post.as_deref_mut() {
            po[2 * j] = r1;
            po[2 * j + 1] = r2;
        }
        if let Some(acc) = acc.as_deref_mut() {
            let rss1 = ((cj - l) + (q - l)).max(0.0);
            let rss2 = ((cj + l) + (q + l)).max(0.0);
            acc.s0[0] += r1 * rss1 + r2 * rss2;
            for (s, &bv) in acc.s1[..p].iter_mut().zip(b) {
                *s += t * bv;
            }
        }
    }
    ll
}

/// Node statistics with their shape.
struct Grouped<'a> {
    stats: &'a [f64],
    m: usize,
}

impl Grouped<'_> {
    fn node(&self, p: usize, j: usize) -> &[f64] {
        let len = 2 + p + p * p;
        &self.stats[j * len..(j + 1) * len]
    }
}

impl Source for Grouped<'_> {
    fn e_pass(
        &self,
        ctx: &Ctx,
        params: &[f64],
        consts: &[f64],
        acc: Option<&mut Acc>,
        post: Option<&mut [f64]>,
        scratch: &mut [f64],
    ) -> f64 {
        let (k, p) = (ctx.k, ctx.p);
        let coefs = &params[k..k + k * p];
        if ctx.symmetric {
            let s2 = params[k + k * p];
            return grouped_sym_pass(self.stats, self.m, p, &coefs[..p], s2, acc, post, scratch);
        }
        dispatch_dim!(
            p,
            grouped_pass(self.stats, self.m, p, k, coefs, consts, acc, post, scratch)
        )
    }

    fn random_pass(&self, ctx: &Ctx, rng: &mut Rng, acc: &mut Acc, scratch: &mut [f64]) {
        let (k, p) = (ctx.k, ctx.p);
        let (r, rest) = scratch.split_at_mut(k);
        let rss = &mut rest[..k];
        for j in 0..self.m {
            let node = self.node(p, j);
            random_row(rng, r);
            accumulate_unit(ctx, acc, node, r, rss);
        }
    }

    fn node_ls_pass(
        &self,
        ctx: &Ctx,
        rng: &mut Rng,
        acc: &mut Acc,
        scratch: &mut [f64],
    ) -> Result<(), Status> {
        let (k, p, m) = (ctx.k, ctx.p, self.m);
        let (betas, rest) = scratch.split_at_mut(m * p);
        let (dist, rest) = rest.split_at_mut(m);
        let (labels, rest) = rest.split_at_mut(m);
        let (best_labels, rest) = rest.split_at_mut(m);
        let (centres, rest) = rest.split_at_mut(k * p);
        let (chol, rest) = rest.split_at_mut(p * p);
        let (r, rest) = rest.split_at_mut(k);
        let (rss, rest) = rest.split_at_mut(k);
        let counts = &mut rest[..k];
        // Per-node least squares; label -1 marks a node without one.
        let mut eligible = 0usize;
        for j in 0..m {
            let node = self.node(p, j);
            labels[j] = -1.0;
            if node[0] < p as f64 {
                continue;
            }
            chol.copy_from_slice(&node[2 + p..]);
            if cholesky(chol, p).is_err() {
                continue;
            }
            let beta = &mut betas[j * p..(j + 1) * p];
            beta.copy_from_slice(&node[2..2 + p]);
            cholesky_solve(chol, p, beta);
            if beta.iter().all(|v| v.is_finite()) {
                labels[j] = 0.0;
                eligible += 1;
            }
        }
        if eligible < k {
            return Err(Status::BadParameter);
        }
        // The best (lowest within-cluster sum of squares) of KMEANS_RUNS seedings.
        let mut best_inertia = f64::INFINITY;
        for _ in 0..KMEANS_RUNS {
            let inertia =
                kmeans_plus_plus(betas, labels, dist, centres, counts, m, p, k, eligible, rng);
            if inertia < best_inertia {
                best_inertia = inertia;
                best_labels.copy_from_slice(labels);
            }
        }
        let labels = &*best_labels;
        for j in 0..m {
            let node = self.node(p, j);
            if labels[j] < 0.0 {
                r.fill(1.0 / k as f64);
            } else {
                r.fill(0.0);
                r[labels[j] as usize] = 1.0;
            }
            accumulate_unit(ctx, acc, node, r, rss);
        }
        Ok(())
    }

    fn total_gram(&self, ctx: &Ctx, out: &mut [f64]) {
        let p = ctx.p;
        out[..p * p].fill(0.0);
        for j in 0..self.m {
            let g = &self.node(p, j)[2 + p..];
            for (o, v) in out[..p * p].iter_mut().zip(g) {
                *o += v;
            }
        }
    }
}

/// Accumulates one node's (or one sample's, as a node) responsibilities `r` relative to
/// theta = 0 (RSS = c_j); in the tied model s1 += (r_1 - r_2) b_j, s0[0] += c_j.
fn accumulate_unit(ctx: &Ctx, acc: &mut Acc, node: &[f64], r: &[f64], rss: &mut [f64]) {
    let p = ctx.p;
    let (nj, cj) = (node[0], node[1]);
    let b = &node[2..2 + p];
    if ctx.symmetric {
        let t = r[0] - r[1];
        acc.s0[0] += cj;
        for (s, &bv) in acc.s1[..p].iter_mut().zip(b) {
            *s += t * bv;
        }
        return;
    }
    rss.fill(cj);
    accumulate_node::<0>(acc, p, nj, b, &node[2 + p..], None, rss, r);
}

/// k-means++ seeding on the eligible rows of `points` (m x p; `labels[j] >= 0` marks them),
/// then Lloyd iterations until no label changes (at most [`LLOYD_ITER`]); leaves the labels
/// (0..K) of the eligible rows in `labels`.
#[allow(clippy::too_many_arguments)]
fn kmeans_plus_plus(
    points: &[f64],
    labels: &mut [f64],
    dist: &mut [f64],
    centres: &mut [f64],
    counts: &mut [f64],
    m: usize,
    p: usize,
    k: usize,
    eligible: usize,
    rng: &mut Rng,
) -> f64 {
    let sq =
        |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum() };
    let nth_eligible = |labels: &[f64], i: usize| -> usize {
        labels
            .iter()
            .enumerate()
            .filter(|(_, &l)| l >= 0.0)
            .nth(i)
            .map_or(0, |(j, _)| j)
    };
    let first = nth_eligible(labels, rng.below(eligible as u64) as usize);
    centres[..p].copy_from_slice(&points[first * p..(first + 1) * p]);
    for j in 0..m {
        dist[j] = if labels[j] >= 0.0 {
            sq(&points[j * p..(j + 1) * p], &centres[..p])
        } else {
            0.0
        };
    }
    // Greedy k-means++ (as scikit-learn): 2 + floor(ln K) candidates drawn by D^2 per centre,
    // keeping the one that lowers the potential sum_j min(D_j^2, |beta_j - candidate|^2) most.
    let trials = 2 + libm::log(k as f64) as usize;
    for c in 1..k {
        let total: f64 = dist.iter().sum();
        let mut pick = 0;
        let mut best_potential = f64::INFINITY;
        for _ in 0..trials {
            let candidate = if total > 0.0 {
                let target = rng.uniform() * total;
                let mut acc = 0.0;
                dist.iter()
                    .position(|&dv| {
                        acc += dv;
                        acc > target
                    })
                    .unwrap_or_else(|| nth_eligible(labels, eligible - 1))
            } else {
                nth_eligible(labels, rng.below(eligible as u64) as usize)
            };
            let cand = &points[candidate * p..(candidate + 1) * p];
            let potential: f64 = (0..m)
                .filter(|&j| labels[j] >= 0.0)
                .map(|j| dist[j].min(sq(&points[j * p..(j + 1) * p], cand)))
                .sum();
            if potential < best_potential {
                best_potential = potential;
                pick = candidate;
            }
        }
        centres[c * p..(c + 1) * p].copy_from_slice(&points[pick * p..(pick + 1) * p]);
        for j in 0..m {
            if labels[j] >= 0.0 {
                let dc = sq(&points[j * p..(j + 1) * p], &centres[c * p..(c + 1) * p]);
                if dc < dist[j] {
                    dist[j] = dc;
                }
            }
        }
    }
    let mut inertia = 0.0;
    for it in 0..=LLOYD_ITER {
        let mut changed = false;
        inertia = 0.0;
        for j in 0..m {
            if labels[j] < 0.0 {
                continue;
            }
            let row = &points[j * p..(j + 1) * p];
            let mut best = (0usize, f64::INFINITY);
            for (c, centre) in centres.chunks_exact(p).enumerate() {
                let dc = sq(row, centre);
                if dc < best.1 {
                    best = (c, dc);
                }
            }
            changed |= labels[j] != best.0 as f64 || it == 0;
            labels[j] = best.0 as f64;
            inertia += best.1;
        }
        if !changed || it == LLOYD_ITER {
            break;
        }
        counts.fill(0.0);
        for &l in labels.iter().filter(|&&l| l >= 0.0) {
            counts[l as usize] += 1.0;
        }
        for (c, &cnt) in counts.iter().enumerate() {
            if cnt > 0.0 {
                centres[c * p..(c + 1) * p].fill(0.0);
            }
        }
        for j in 0..m {
            if labels[j] >= 0.0 {
                let c = labels[j] as usize;
                let w = 1.0 / counts[c];
                for (o, v) in centres[c * p..(c + 1) * p]
                    .iter_mut()
                    .zip(&points[j * p..(j + 1) * p])
                {
                    *o += w * v;
                }
            }
        }
    }
    inertia
}

// ---------------------------------------------------------------------------------------------
// Ungrouped: raw samples, streamed block by block.

/// Raw samples: x (n x d), y (n).
struct Ungrouped<'a> {
    x: &'a [f64],
    y: &'a [f64],
    n: usize,
    d: usize,
}

/// Rows of the transposed block: p, padded by 3 zero rows so that a tile of four rows starting
/// at any row < p stays in bounds.
fn padded_rows(p: usize) -> usize {
    p + 3
}

/// The ungrouped pass (untied model): E-step at `coefs`/`consts` (or, with `rng`, random
/// responsibilities and residuals at theta = 0), log-likelihood, posteriors, accumulation of
/// every component's sums except the Gram of `acc.skip`. Works on blocks of 64 samples held
/// transposed (`zt[a * 64 + t]` = coordinate a of sample t), so every inner loop runs across
/// the block's samples: contiguous, independent lanes, vectorized. `scratch` holds
/// 64 (2 p + 2 K + 6) doubles.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn ungrouped_pass_portable<const P: usize>(
    x: &[f64],
    y: &[f64],
    n: usize,
    d: usize,
    p: usize,
    k: usize,
    coefs: &[f64],
    consts: &[f64],
    mut acc: Option<&mut Acc>,
    mut post: Option<&mut [f64]>,
    mut rng: Option<&mut Rng>,
    scratch: &mut [f64],
) -> f64 {
    let p = dim::<P>(p);
    let off = p - d;
    let (zt, rest) = scratch.split_at_mut(padded_rows(p) * BLOCK);
    let (wz, rest) = rest.split_at_mut(p * BLOCK);
    let (e, rest) = rest.split_at_mut(k * BLOCK);
    let (lp, rest) = rest.split_at_mut(k * BLOCK);
    let (lse, rest) = rest.split_at_mut(BLOCK);
    let (sums, rest) = rest.split_at_mut(BLOCK);
    let w = &mut rest[..BLOCK];
    // The intercept's row of ones and the padding rows never change.
    zt.fill(0.0);
    if off == 1 {
        zt[..BLOCK].fill(1.0);
    }
    let mut ll = 0.0;
    for (bi, (xb, yb)) in x[..n * d]
        .chunks(BLOCK * d)
        .zip(y[..n].chunks(BLOCK))
        .enumerate()
    {
        let cnt = yb.len();
        // Transpose: strided loads, contiguous stores.
        for a in 0..d {
            let dst = &mut zt[(a + off) * BLOCK..(a + off) * BLOCK + cnt];
            for (o, row) in dst.iter_mut().zip(xb.chunks_exact(d)) {
                *o = row[a];
            }
        }
        match rng.as_deref_mut() {
            None => {
                let (logpi, rest) = consts.split_at(k);
                let (half_log, inv2s) = rest.split_at(k);
                for c in 0..k {
                    let th = &coefs[c * p..(c + 1) * p];
                    let ec = &mut e[c * BLOCK..c * BLOCK + cnt];
                    ec.copy_from_slice(yb);
                    for (a, &ta) in th.iter().enumerate() {
                        let za = &zt[a * BLOCK..a * BLOCK + cnt];
                        for (ev, &zv) in ec.iter_mut().zip(za) {
                            *ev -= ta * zv;
                        }
                    }
                    let (lg, iv) = (logpi[c] - half_log[c], inv2s[c]);
                    let lc = &mut lp[c * BLOCK..c * BLOCK + cnt];
                    for (lv, &ev) in lc.iter_mut().zip(ec.iter()) {
                        *lv = lg - ev * ev * iv;
                    }
                }
                // Max-shifted log-sum-exp across the block's samples.
                let shift = &mut lse[..cnt];
                let sums = &mut sums[..cnt];
                shift.copy_from_slice(&lp[..cnt]);
                for c in 1..k {
                    for (mv, &v) in shift.iter_mut().zip(&lp[c * BLOCK..c * BLOCK + cnt]) {
                        *mv = if v > *mv { v } else { *mv };
                    }
                }
                for mv in shift.iter_mut() {
                    *mv = if *mv == f64::NEG_INFINITY { 0.0 } else { *mv };
                }
                sums.fill(0.0);
                for c in 0..k {
                    let row = &mut lp[c * BLOCK..c * BLOCK + cnt];
                    for ((v, &mv), s) in row.iter_mut().zip(shift.iter()).zip(sums.iter_mut()) {
                        let ev = exp(*v - mv);
                        *v = ev;
                        *s += ev;
                    }
                }
                // lse = shift + log(sum) and the reciprocal sums, lane by lane (vectorized);
                // the block's total afterwards (a sequential sum would not vectorize).
                for (mv, s) in shift.iter_mut().zip(sums.iter_mut()) {
                    *mv += log_of_sum(*s);
                    *s = 1.0 / *s;
                }
                ll += shift.iter().sum::<f64>();
                for c in 0..k {
                    let row = &mut lp[c * BLOCK..c * BLOCK + cnt];
                    for (v, &inv) in row.iter_mut().zip(sums.iter()) {
                        *v *= inv;
                    }
                }
            }
            Some(rng) => {
                // Random rows as in `random_row`, written column-wise; residuals at theta = 0.
                for t in 0..cnt {
                    let mut sum = 0.0;
                    for c in 0..k {
                        let v = -libm::log(1.0 - rng.uniform());
                        lp[c * BLOCK + t] = v;
                        e[c * BLOCK + t] = yb[t];
                        sum += v;
                    }
                    for c in 0..k {
                        lp[c * BLOCK + t] = if sum > 0.0 {
                            lp[c * BLOCK + t] / sum
                        } else {
                            1.0 / k as f64
                        };
                    }
                }
            }
        }
        if let Some(po) = post.as_deref_mut() {
            let first = bi * BLOCK;
            for (t, out) in po[first * k..(first + cnt) * k]
                .chunks_exact_mut(k)
                .enumerate()
            {
                for (c, o) in out.iter_mut().enumerate() {
                    *o = lp[c * BLOCK + t];
                }
            }
        }
        if let Some(acc) = acc.as_deref_mut() {
            for c in 0..k {
                let r = &lp[c * BLOCK..c * BLOCK + cnt];
                let ec = &e[c * BLOCK..c * BLOCK + cnt];
                let w = &mut w[..cnt];
                let (mut mass, mut s0) = (0.0, 0.0);
                for ((wv, &rv), &ev) in w.iter_mut().zip(r).zip(ec) {
                    mass += rv;
                    s0 += rv * ev * ev;
                    *wv = rv * ev;
                }
                acc.mass[c] += mass;
                acc.nmass[c] += mass;
                acc.s0[c] += s0;
                let s1 = &mut acc.s1[c * p..(c + 1) * p];
                for (a, sv) in s1.iter_mut().enumerate() {
                    *sv += dot(w, &zt[a * BLOCK..a * BLOCK + cnt]);
                }
                if c != acc.skip {
                    let a = &mut acc.a[c * p * p..(c + 1) * p * p];
                    weighted_gram_block::<P>(zt, wz, r, cnt, p, a);
                }
            }
        }
    }
    ll
}

/// The upper triangle of `a` (p x p) += sum_t r_t z_t z_t^T over the block's `cnt` samples,
/// `zt` transposed (row a at `a * 64`, padded rows zero), `wz` scratch (p x 64). Tiles of one
/// row by four columns: four independent sums across the samples, so the loop is bound by
/// loads and multiplies, not by addition latency.
#[inline(always)]
fn weighted_gram_block<const P: usize>(
    zt: &[f64],
    wz: &mut [f64],
    r: &[f64],
    cnt: usize,
    p: usize,
    a: &mut [f64],
) {
    let p = dim::<P>(p);
    let a = &mut a[..p * p];
    for row in 0..p {
        let src = &zt[row * BLOCK..row * BLOCK + cnt];
        let dst = &mut wz[row * BLOCK..row * BLOCK + cnt];
        for ((o, &zv), &rv) in dst.iter_mut().zip(src).zip(r) {
            *o = rv * zv;
        }
    }
    for i in 0..p {
        let wi = &wz[i * BLOCK..i * BLOCK + cnt];
        let mut j = i;
        while j < p {
            let z0 = &zt[j * BLOCK..j * BLOCK + cnt];
            let z1 = &zt[(j + 1) * BLOCK..(j + 1) * BLOCK + cnt];
            let z2 = &zt[(j + 2) * BLOCK..(j + 2) * BLOCK + cnt];
            let z3 = &zt[(j + 3) * BLOCK..(j + 3) * BLOCK + cnt];
            let (mut s0, mut s1, mut s2, mut s3) =
                ([0.0f64; 4], [0.0f64; 4], [0.0f64; 4], [0.0; 4]);
            let mut wc = wi.chunks_exact(4);
            let mut c0 = z0.chunks_exact(4);
            let mut c1 = z1.chunks_exact(4);
            let mut c2 = z2.chunks_exact(4);
            let mut c3 = z3.chunks_exact(4);
            for ((((wv, v0), v1), v2), v3) in (&mut wc)
                .zip(&mut c0)
                .zip(&mut c1)
                .zip(&mut c2)
                .zip(&mut c3)
            {
                // One accumulator at a time, so each becomes one 4-lane register.
                for l in 0..4 {
                    s0[l] += wv[l] * v0[l];
                }
                for l in 0..4 {
                    s1[l] += wv[l] * v1[l];
                }
                for l in 0..4 {
                    s2[l] += wv[l] * v2[l];
                }
                for l in 0..4 {
                    s3[l] += wv[l] * v3[l];
                }
            }
            let mut tail = [0.0f64; 4];
            let rests = [
                c0.remainder(),
                c1.remainder(),
                c2.remainder(),
                c3.remainder(),
            ];
            for (q, &wv) in wc.remainder().iter().enumerate() {
                for (tv, rv) in tail.iter_mut().zip(rests) {
                    *tv += wv * rv[q];
                }
            }
            for (q, (sq, tq)) in [s0, s1, s2, s3].iter().zip(tail).enumerate() {
                if j + q < p {
                    a[i * p + j + q] += ((sq[0] + sq[2]) + (sq[1] + sq[3])) + tq;
                }
            }
            j += 4;
        }
    }
}

with_avx2! {
    /// [`ungrouped_pass_portable`], for the best instruction set the CPU has.
    fn ungrouped_pass = ungrouped_pass_portable(
        x: &[f64], y: &[f64], n: usize, d: usize, p: usize, k: usize, coefs: &[f64],
        consts: &[f64], acc: Option<&mut Acc>, post: Option<&mut [f64]>, rng: Option<&mut Rng>,
        scratch: &mut [f64],
    ) -> f64
}

impl Source for Ungrouped<'_> {
    fn e_pass(
        &self,
        ctx: &Ctx,
        params: &[f64],
        consts: &[f64],
        mut acc: Option<&mut Acc>,
        mut post: Option<&mut [f64]>,
        scratch: &mut [f64],
    ) -> f64 {
        let (k, p, d) = (ctx.k, ctx.p, self.d);
        let coefs = &params[k..k + k * p];
        if ctx.symmetric {
            // Tied model (p = d): per sample a = y <x, theta> / sigma^2.
            let theta = &coefs[..p];
            let s2 = params[k + k * p];
            let inv = 1.0 / s2;
            let half_log = 0.5 * libm::log(2.0 * core::f64::consts::PI * s2);
            let mut ll = 0.0;
            for (i, (row, &yv)) in self.x[..self.n * d]
                .chunks_exact(d)
                .zip(&self.y[..self.n])
                .enumerate()
            {
                let f = crate::linalg::dot(row, theta);
                let arg = yv * f * inv;
                let abs_arg = libm::fabs(arg);
                let base = -core::f64::consts::LN_2 - half_log - 0.5 * (yv * yv + f * f) * inv;
                ll += base + abs_arg + log_of_sum(1.0 + exp(-2.0 * abs_arg));
                let (r1, r2) = (sigmoid(2.0 * arg), sigmoid(-2.0 * arg));
                if let Some(po) = post.as_deref_mut() {
                    po[2 * i] = r1;
                    po[2 * i + 1] = r2;
                }
                if let Some(acc) = acc.as_deref_mut() {
                    let t = tanh(arg);
                    acc.s0[0] += r1 * (yv - f) * (yv - f) + r2 * (yv + f) * (yv + f);
                    for (s, &xv) in acc.s1[..p].iter_mut().zip(row) {
                        *s += t * yv * xv;
                    }
                }
            }
            return ll;
        }
        dispatch_dim!(
            p,
            ungrouped_pass(
                self.x, self.y, self.n, d, p, k, coefs, consts, acc, post, None, scratch
            )
        )
    }

    fn random_pass(&self, ctx: &Ctx, rng: &mut Rng, acc: &mut Acc, scratch: &mut [f64]) {
        let (k, p, d) = (ctx.k, ctx.p, self.d);
        if ctx.symmetric {
            let r = &mut scratch[..2];
            for (row, &yv) in self.x[..self.n * d].chunks_exact(d).zip(&self.y[..self.n]) {
                random_row(rng, r);
                let t = r[0] - r[1];
                acc.s0[0] += yv * yv;
                for (s, &xv) in acc.s1[..p].iter_mut().zip(row) {
                    *s += t * yv * xv;
                }
            }
            return;
        }
        // Residuals at theta = 0 are y; coefficients and constants are not read.
        dispatch_dim!(
            p,
            ungrouped_pass(
                self.x,
                self.y,
                self.n,
                d,
                p,
                k,
                &[],
                &[],
                Some(acc),
                None,
                Some(rng),
                scratch
            )
        );
    }

    fn node_ls_pass(
        &self,
        _ctx: &Ctx,
        _rng: &mut Rng,
        _acc: &mut Acc,
        _scratch: &mut [f64],
    ) -> Result<(), Status> {
        Err(Status::BadParameter)
    }

    fn total_gram(&self, ctx: &Ctx, out: &mut [f64]) {
        let (p, d) = (ctx.p, self.d);
        let off = p - d;
        let out = &mut out[..p * p];
        out.fill(0.0);
        for row in self.x[..self.n * d].chunks_exact(d) {
            if off == 1 {
                out[0] += 1.0;
                for (o, &xv) in out[1..p].iter_mut().zip(row) {
                    *o += xv;
                }
            }
            for a in 0..d {
                let xa = row[a];
                let r = (a + off) * p + a + off;
                for (o, &xb) in out[r..(a + off + 1) * p].iter_mut().zip(&row[a..]) {
                    *o += xa * xb;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The M-steps and the EM driver.

/// Copies the upper triangle of `a` (p x p) into the lower triangle of `chol` and factors it.
fn factor_upper(a: &[f64], p: usize, chol: &mut [f64]) -> Result<(), Status> {
    for i in 0..p {
        for j in i..p {
            chol[j * p + i] = a[i * p + j];
        }
    }
    cholesky(chol, p)
}

/// The untied M-step (see the module docs); `delta` holds p doubles, `total` the upper
/// triangle of sum_j G_j (for the Gram of `acc.skip`). Returns how many noise variances it set
/// to their floor.
fn m_step(
    ctx: &Ctx,
    params: &mut [f64],
    acc: &mut Acc,
    total: &[f64],
    chol: &mut [f64],
    delta: &mut [f64],
) -> Result<usize, Status> {
    let (k, p) = (ctx.k, ctx.p);
    let (w, coefs, s2) = split_params(params, k, p);
    let heaviest = (0..k).fold(0, |best, c| {
        if acc.nmass[c] > acc.nmass[best] {
            c
        } else {
            best
        }
    });
    let mut rss_total = 0.0;
    // The rounding floor of the shared variance: the kept components' terms (an emptied one's
    // Gram is not factored; its mass is below p samples).
    let mut rounding_total = 0.0;
    let mut floored = 0;
    let mut kept = 0.0;
    for c in 0..k {
        if acc.nmass[c] < p as f64 && c != heaviest {
            // Emptied: weight 0, parameters kept; RSS at the kept theta is s0.
            w[c] = 0.0;
            rss_total += acc.s0[c];
            continue;
        }
        let s1 = &acc.s1[c * p..(c + 1) * p];
        ensure_finite(s1)?;
        if c == acc.skip {
            // sum_j r_jc G_j = sum_j G_j - sum_{other c'} sum_j r_jc' G_j, into chol's lower
            // triangle.
            let mut probe = 0.0;
            for i in 0..p {
                for j in i..p {
                    let mut v = total[i * p + j];
                    for o in (0..k).filter(|&o| o != c) {
                        v -= acc.a[o * p * p + i * p + j];
                    }
                    chol[j * p + i] = v;
                    probe += v * 0.0;
                }
            }
            if probe != 0.0 {
                return Err(Status::NonFinite);
            }
            cholesky(chol, p)?;
        } else {
            let a = &acc.a[c * p * p..(c + 1) * p * p];
            ensure_finite(a)?;
            factor_upper(a, p, chol)?;
        }
        let delta = &mut delta[..p];
        delta.copy_from_slice(s1);
        cholesky_solve(chol, p, delta);
        let decrease = dotp(delta, s1);
        let rss = acc.s0[c] - decrease;
        let rss = if rss > 0.0 { rss } else { 0.0 };
        let theta = &mut coefs[c * p..(c + 1) * p];
        // sum_j r_jc c_j = s0 + 2 theta^T s1 + theta^T A theta at the old theta.
        let y_sq = acc.s0[c] + 2.0 * dotp(theta, s1) + quad_form(chol, p, theta);
        for (t, dv) in theta.iter_mut().zip(delta.iter()) {
            *t += dv;
        }
        let rounding = rss_rounding(chol, p, theta, delta, y_sq);
        w[c] = acc.mass[c];
        kept += acc.mass[c];
        rss_total += rss;
        rounding_total += rounding;
        if ctx.noise == Noise::PerComponent {
            let (v, floor) = (rss / acc.nmass[c], ctx.floor.max(rounding / acc.nmass[c]));
            s2[c] = if v > floor { v } else { floor };
            floored += usize::from(v <= floor);
        }
    }
    w.iter_mut().for_each(|v| *v /= kept);
    match ctx.noise {
        Noise::Shared => {
            let (v, floor) = (
                rss_total / ctx.n_total,
                ctx.floor.max(rounding_total / ctx.n_total),
            );
            s2.fill(if v > floor { v } else { floor });
            floored = if v <= floor { k } else { 0 };
        }
        Noise::Known(_) => s2.fill(ctx.known_s2),
        Noise::PerComponent => {}
    }
    ensure_finite(params)?;
    Ok(floored)
}

/// theta^T A theta = |L^T theta|^2 for A = L L^T, `chol` holding L (p x p, lower triangle).
fn quad_form(chol: &[f64], p: usize, theta: &[f64]) -> f64 {
    (0..p)
        .map(|b| {
            let v: f64 = (b..p).map(|a| chol[a * p + b] * theta[a]).sum();
            v * v
        })
        .sum()
}

/// How far rounding can move a residual sum computed from statistics (see the module docs):
/// `RSS_ROUNDING` eps (y_sq + p sum_a t_a^2 A_aa), the size of the terms that cancel in
/// RSS = C - 2 theta^T b + theta^T A theta, with A = L L^T (`chol` holding L), t_a the larger of
/// the new coefficient `theta[a]` and the old one `theta[a] - step[a]` in magnitude, and
/// `y_sq` = C, the sum of the squared responses (clamped at 0: it is recovered from the
/// accumulators up to that same rounding).
fn rss_rounding(chol: &[f64], p: usize, theta: &[f64], step: &[f64], y_sq: f64) -> f64 {
    let mut coef_terms = 0.0;
    for a in 0..p {
        let t = libm::fabs(theta[a]).max(libm::fabs(theta[a] - step[a]));
        let a_aa: f64 = chol[a * p..a * p + a + 1].iter().map(|l| l * l).sum();
        coef_terms += t * t * a_aa;
    }
    RSS_ROUNDING * f64::EPSILON * (y_sq.max(0.0) + p as f64 * coef_terms)
}

/// The tied M-step: theta = (sum_j G_j)^-1 sum_j (r_j1 - r_j2) b_j with the fixed factor.
/// Returns how many noise variances it set to their floor (0 or 2).
fn sym_m_step(
    ctx: &Ctx,
    params: &mut [f64],
    acc: &mut Acc,
    fixed: &[f64],
    delta: &mut [f64],
) -> Result<usize, Status> {
    let p = ctx.p;
    let (w, coefs, s2) = split_params(params, 2, p);
    ensure_finite(&acc.s1[..p])?;
    // sum_j c_j = s0 + 2 theta^T s1 - theta^T G theta at the old theta (r_j1 + r_j2 = 1).
    let old = &coefs[..p];
    let y_sq = acc.s0[0] + 2.0 * dotp(old, &acc.s1[..p]) - quad_form(fixed, p, old);
    let delta = &mut delta[..p];
    delta.copy_from_slice(&acc.s1[..p]);
    cholesky_solve(fixed, p, delta);
    // delta <- theta_new - theta_old, theta <- theta_new; decrease = |L^T delta|^2.
    for (dv, t) in delta.iter_mut().zip(coefs[..p].iter_mut()) {
        let new = *dv;
        *dv = new - *t;
        *t = new;
    }
    let decrease = quad_form(fixed, p, delta);
    let rounding = rss_rounding(fixed, p, &coefs[..p], delta, y_sq);
    let (first, second) = coefs.split_at_mut(p);
    for (s, f) in second[..p].iter_mut().zip(first.iter()) {
        *s = -f;
    }
    w.fill(0.5);
    let mut floored = 0;
    let v = match ctx.noise {
        Noise::Known(_) => ctx.known_s2,
        _ => {
            let rss = acc.s0[0] - decrease;
            let v = if rss > 0.0 { rss } else { 0.0 } / ctx.n_total;
            let floor = ctx.floor.max(rounding / ctx.n_total);
            if v > floor {
                v
            } else {
                floored = 2;
                floor
            }
        }
    };
    s2.fill(v);
    ensure_finite(params)?;
    Ok(floored)
}

/// Checks a Given start against K, p and the noise model.
fn check_given(ctx: &Ctx, init: &MixRegInit) -> Result<(), Status> {
    if let MixRegInit::Given {
        weights,
        coefs,
        sigma2,
    } = *init
    {
        let (k, p) = (ctx.k, ctx.p);
        if weights.len() != k || coefs.len() != checked_mul(k, p)? || sigma2.len() != k {
            return Err(Status::BadParameter);
        }
        ensure_finite(weights)?;
        ensure_finite(coefs)?;
        let sum: f64 = weights.iter().sum();
        if weights.iter().any(|&v| v < 0.0) || libm::fabs(sum - 1.0) > 1e-9 {
            return Err(Status::Weights);
        }
        if !matches!(ctx.noise, Noise::Known(_)) {
            ensure_finite(sigma2)?;
            // In the tied model only sigma2[0] is read.
            let used = if ctx.symmetric { &sigma2[..1] } else { sigma2 };
            if used.iter().any(|&v| v <= 0.0) {
                return Err(Status::BadParameter);
            }
        }
    }
    Ok(())
}

/// Writes the start of a run without an M-step (Given) or the defaults before an init M-step:
/// weights 1/K, coefficients 0, noise variance the data's scale (or the known one).
fn set_start(ctx: &Ctx, init: Option<&MixRegInit>, params: &mut [f64]) {
    let (k, p) = (ctx.k, ctx.p);
    let (w, coefs, s2) = split_params(params, k, p);
    match init {
        Some(MixRegInit::Given {
            weights,
            coefs: given,
            sigma2,
        }) => {
            w.copy_from_slice(weights);
            coefs.copy_from_slice(given);
            s2.copy_from_slice(sigma2);
            if ctx.symmetric {
                w.fill(0.5);
                let (first, second) = coefs.split_at_mut(p);
                for (s, f) in second.iter_mut().zip(first.iter()) {
                    *s = -f;
                }
                s2.fill(sigma2[0]);
            }
        }
        _ => {
            w.fill(1.0 / k as f64);
            coefs.fill(0.0);
            s2.fill(ctx.scale);
        }
    }
    if let Noise::Known(_) = ctx.noise {
        s2.fill(ctx.known_s2);
    }
}

/// Output buffers of a fit.
struct Outputs<'o> {
    weights: &'o mut [f64],
    coefs: &'o mut [f64],
    sigma2: &'o mut [f64],
    posteriors: Option<&'o mut [f64]>,
}

/// Checks the options, the outputs, the trace and the workspace length shared by both fits;
/// returns the context ([`model_context`]).
fn check_options(
    opts: &MixRegOptions,
    d: usize,
    units: usize,
    outs: &Outputs,
    trace: Option<&[f64]>,
    work_len: usize,
    need_work: usize,
) -> Result<Ctx, Status> {
    let k = opts.k;
    let p = n_coefs(d, opts.intercept)?;
    let tol_ok = opts.tol >= 0.0;
    let sym_ok = !opts.symmetric || (k == 2 && !opts.intercept);
    if !tol_ok || opts.max_iter == 0 || opts.n_init == 0 || !sym_ok {
        return Err(Status::BadParameter);
    }
    if units < k {
        return Err(Status::TooFewSamples);
    }
    let ctx = model_context(opts, d)?;
    if let Some(t) = trace {
        if opts.n_init > 1 {
            return Err(Status::BadParameter);
        }
        ensure_len(t.len(), opts.max_iter)?;
    }
    ensure_len(outs.weights.len(), k)?;
    ensure_len(outs.coefs.len(), checked_mul(k, p)?)?;
    ensure_len(outs.sigma2.len(), k)?;
    if let Some(po) = outs.posteriors.as_deref() {
        ensure_len(po.len(), checked_mul(units, k)?)?;
    }
    ensure_len(work_len, need_work)?;
    Ok(ctx)
}

/// The model's context from the options, without the data-dependent floor, scale and N:
/// K, p (`ZeroSize` for d = 0, `SizeOverflow`), and the known noise variance (`BadParameter`
/// for a Known sigma not > 0 or whose square is not finite).
fn model_context(opts: &MixRegOptions, d: usize) -> Result<Ctx, Status> {
    let p = n_coefs(d, opts.intercept)?;
    let known_s2 = match opts.noise {
        Noise::Known(sigma) => {
            inverse_noise_variance(sigma)?;
            let v = sigma * sigma;
            if !(v.is_finite() && v > 0.0) {
                return Err(Status::BadParameter);
            }
            v
        }
        _ => 0.0,
    };
    Ok(Ctx {
        k: opts.k,
        p,
        symmetric: opts.symmetric,
        noise: opts.noise,
        known_s2,
        floor: 0.0,
        scale: 1.0,
        n_total: 0.0,
    })
}

/// The component of largest weight in a parameter block (the lowest index on ties): its Gram is
/// the one taken as the complement, so its relative rounding error is at most about K eps.
fn heaviest_weight(params: &[f64], k: usize) -> usize {
    (0..k).fold(0, |b, c| if params[c] > params[b] { c } else { b })
}

/// The EM driver shared by both fits: runs, iterations, best run, outputs.
fn drive<S: Source>(
    src: &S,
    ctx: &Ctx,
    opts: &MixRegOptions,
    init: MixRegInit,
    mut trace: Option<&mut [f64]>,
    work: &mut [f64],
    outs: Outputs,
) -> Result<MixRegReport, Status> {
    let (k, p) = (ctx.k, ctx.p);
    let plen = k * (p + 2);
    let (current, rest) = work.split_at_mut(plen);
    let (best, rest) = rest.split_at_mut(plen);
    let (acc_buf, rest) = rest.split_at_mut(k * p * p + k * p + 3 * k);
    let (chol, rest) = rest.split_at_mut(p * p);
    let (fixed, rest) = rest.split_at_mut(p * p);
    let (delta, rest) = rest.split_at_mut(p);
    let (consts, scratch) = rest.split_at_mut(3 * k);
    // Tied model: `fixed` holds the factor of sum_j G_j; untied: its upper triangle.
    src.total_gram(ctx, fixed);
    ensure_finite(fixed)?;
    if ctx.symmetric {
        let upper = &mut *chol;
        upper.copy_from_slice(fixed);
        factor_upper(upper, p, fixed)?;
    }
    let mut acc = Acc::new(acc_buf, k, p);
    let mut best_report: Option<MixRegReport> = None;
    for run in 0..opts.n_init {
        let mut rng = Rng::new(opts.seed.wrapping_add(run as u64));
        // Noise variances the last M-step set to their floor.
        let mut floored = 0;
        match (run, &init) {
            (0, MixRegInit::Given { .. }) => set_start(ctx, Some(&init), current),
            _ => {
                set_start(ctx, None, current);
                acc.clear();
                acc.skip = heaviest_weight(current, k);
                if run == 0 && matches!(init, MixRegInit::NodeLeastSquares) {
                    src.node_ls_pass(ctx, &mut rng, &mut acc, scratch)?;
                } else {
                    src.random_pass(ctx, &mut rng, &mut acc, scratch);
                }
                floored = if ctx.symmetric {
                    sym_m_step(ctx, current, &mut acc, fixed, delta)?
                } else {
                    m_step(ctx, current, &mut acc, fixed, chol, delta)?
                };
            }
        }
        let mut iterations = 0;
        let mut converged = false;
        let mut previous = f64::NAN;
        for t in 0..opts.max_iter {
            e_step_constants(ctx, current, consts);
            acc.clear();
            acc.skip = heaviest_weight(current, k);
            let ll = src.e_pass(ctx, current, consts, Some(&mut acc), None, scratch);
            if !ll.is_finite() {
                return Err(Status::NonFinite);
            }
            if let Some(tr) = trace.as_deref_mut() {
                tr[t] = ll;
            }
            floored = if ctx.symmetric {
                sym_m_step(ctx, current, &mut acc, fixed, delta)?
            } else {
                m_step(ctx, current, &mut acc, fixed, chol, delta)?
            };
            iterations = t + 1;
            if libm::fabs(ll - previous) / ctx.n_total < opts.tol {
                converged = true;
                break;
            }
            previous = ll;
        }
        e_step_constants(ctx, current, consts);
        let ll = src.e_pass(ctx, current, consts, None, None, scratch);
        if !ll.is_finite() {
            return Err(Status::NonFinite);
        }
        let report = MixRegReport {
            log_likelihood: ll,
            iterations,
            converged,
            best_restart: run,
            bic: 0.0,
            emptied: 0,
            sigma_floored: floored,
        };
        if best_report.is_none_or(|b| report.log_likelihood > b.log_likelihood) {
            best_report = Some(report);
            best.copy_from_slice(current);
        }
    }
    let mut report = best_report.ok_or(Status::BadParameter)?;
    if let Some(po) = outs.posteriors {
        e_step_constants(ctx, best, consts);
        src.e_pass(ctx, best, consts, None, Some(po), scratch);
    }
    let (w, coefs, s2) = split_params(best, k, p);
    report.emptied = w.iter().filter(|&&v| v == 0.0).count();
    let noise_params = match ctx.noise {
        Noise::PerComponent if !ctx.symmetric => k,
        Noise::Known(_) => 0,
        _ => 1,
    };
    let free = if ctx.symmetric {
        p + noise_params
    } else {
        (k - 1) + k * p + noise_params
    };
    report.bic = -2.0 * report.log_likelihood + free as f64 * libm::log(ctx.n_total);
    // A log-likelihood near -1e308 (responses near 1e154) leaves no room for the penalty.
    if !report.bic.is_finite() {
        return Err(Status::NonFinite);
    }
    outs.weights[..k].copy_from_slice(w);
    outs.coefs[..k * p].copy_from_slice(coefs);
    outs.sigma2[..k].copy_from_slice(s2);
    Ok(report)
}

/// The checks of one node's statistics from another machine (see [`mixreg_fit_grouped`]):
/// `NodeSizes` (n_j not a whole number in [1, 2^53]), `BadParameter` (c_j < 0, or an intercept
/// column whose G_j[0][0] is not n_j), then [`check_gram`].
fn check_node(node: &[f64], p: usize, intercept: bool) -> Result<(), Status> {
    let (nj, cj) = (node[0], node[1]);
    // Also rejects NaN.
    if nj.partial_cmp(&0.0) != Some(core::cmp::Ordering::Greater) {
        return Err(Status::NodeSizes);
    }
    // A count is a whole number of samples, at most 2^53 (where doubles stop counting).
    if nj != libm::floor(nj) || nj > 9_007_199_254_740_992.0 {
        return Err(Status::NodeSizes);
    }
    if cj < 0.0 || (intercept && node[2 + p] != nj) {
        return Err(Status::BadParameter);
    }
    check_gram(node, p)
}

/// `NotSpd` unless one node's statistics [n, c, b (p), G (p x p)] pass the checks data always
/// passes: G's diagonal >= 0, and the Cauchy-Schwarz bounds b_a^2 <= c G_aa and
/// G_ab^2 <= G_aa G_bb within a relative rounding slack of 1e-9.
fn check_gram(node: &[f64], p: usize) -> Result<(), Status> {
    const SLACK: f64 = 1.0 + 1e-9;
    let (c, b, g) = (node[1], &node[2..2 + p], &node[2 + p..2 + p + p * p]);
    for a in 0..p {
        let gaa = g[a * p + a];
        if gaa < 0.0 || b[a] * b[a] > c * gaa * SLACK {
            return Err(Status::NotSpd);
        }
        for t in 0..a {
            if g[a * p + t] * g[a * p + t] > gaa * g[t * p + t] * SLACK {
                return Err(Status::NotSpd);
            }
        }
    }
    Ok(())
}

/// Fits a K-component mixture of linear regressions to m nodes' sufficient statistics
/// (`stats`: m x [`node_stats_len`]`(d, opts.intercept)`, as [`node_sufficient_statistics`]
/// writes them, computed with the same `intercept`), every node's samples sharing one label.
/// Writes `weights_out[..K]`, `coefs_out[..K p]` (row k = theta_k, intercept first),
/// `sigma2_out[..K]` (K equal values for Shared and Known), and `posteriors_out[..m K]` (node
/// label posteriors at the returned parameters) if given; `trace[..iterations]` (at least
/// `max_iter` long, `n_init == 1` only) receives the log-likelihood at the start of each
/// iteration. See the module docs for the iteration, the stopping rule and the degenerate cases.
/// `work` has length [`mixreg_fit_grouped_work_len`]`(m, K, d, intercept)`.
///
/// Statistics may come from other machines, so what data could not produce is rejected: a
/// count n_j that is not a whole number in [1, 2^53] (`NodeSizes`), c_j < 0 or an intercept
/// column whose G_j[0][0] is not n_j (`BadParameter`), and a Gram matrix [X y]^T [X y] that is
/// visibly not positive semidefinite: a negative diagonal entry of G_j, or a Cauchy-Schwarz
/// bound broken beyond rounding, b_ja^2 > c_j G_j[a][a] or G_j[a][b]^2 > G_j[a][a] G_j[b][b]
/// (`NotSpd`). Statistics that pass these checks can still be inconsistent (the full positive
/// semidefiniteness is not tested); they then give a fit of those numbers.
///
/// Errors, with the outputs untouched: `ZeroSize` (m, K or d zero); `SizeOverflow`;
/// `BufferTooShort` (stats, an output, the trace or work short); `TooFewSamples` (m < K); `BadParameter` (tol
/// negative or NaN, max_iter or n_init zero, a trace with n_init > 1, symmetric with K != 2 or
/// an intercept, Known(sigma) with sigma not > 0 or sigma^2 not finite, a Given start of other
/// lengths or with a sigma2 not > 0, NodeLeastSquares with fewer than K nodes having their own
/// least squares, a node with c_j < 0, or with an intercept a node whose `G_j[0][0] != n_j`);
/// `NodeSizes` (an n_j not a whole number in [1, 2^53]); `NonFinite` (NaN or infinity in the
/// stats or the Given start, or a log-likelihood or M-step result that is not finite);
/// `Weights` (Given weights negative or not summing to 1); `NotSpd` (a node's Gram matrix that
/// no data can produce, a singular weighted Gram, or sum_j n_j < p); `NonFinite` also when the
/// BIC overflows (a log-likelihood near -1e308).
#[allow(clippy::too_many_arguments)]
pub fn mixreg_fit_grouped(
    stats: &[f64],
    m: usize,
    d: usize,
    opts: &MixRegOptions,
    init: MixRegInit,
    weights_out: &mut [f64],
    coefs_out: &mut [f64],
    sigma2_out: &mut [f64],
    posteriors_out: Option<&mut [f64]>,
    trace: Option<&mut [f64]>,
    work: &mut [f64],
) -> Result<MixRegReport, Status> {
    if m == 0 || opts.k == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    let len = node_stats_len(d, opts.intercept)?;
    let total = checked_mul(m, len)?;
    ensure_len(stats.len(), total)?;
    let stats = &stats[..total];
    let outs = Outputs {
        weights: weights_out,
        coefs: coefs_out,
        sigma2: sigma2_out,
        posteriors: posteriors_out,
    };
    let need = mixreg_fit_grouped_work_len(m, opts.k, d, opts.intercept)?;
    let mut ctx = check_options(opts, d, m, &outs, trace.as_deref(), work.len(), need)?;
    check_given(&ctx, &init)?;
    ensure_finite(stats)?;
    let p = ctx.p;
    let (mut n_total, mut sum_sq, mut sum_y) = (0.0, 0.0, 0.0);
    for node in stats.chunks_exact(len) {
        check_node(node, p, opts.intercept)?;
        n_total += node[0];
        sum_sq += node[1];
        sum_y += node[2];
    }
    if !(n_total.is_finite() && sum_sq.is_finite()) {
        return Err(Status::NonFinite);
    }
    if n_total < p as f64 {
        return Err(Status::NotSpd);
    }
    let (floor, scale) = floor_and_scale(n_total, sum_sq, opts.intercept.then_some(sum_y));
    ctx.floor = floor;
    ctx.scale = scale;
    ctx.n_total = n_total;
    let src = Grouped { stats, m };
    drive(&src, &ctx, opts, init, trace, work, outs)
}

/// Fits a K-component mixture of linear regressions to n samples (`x`: n x d row-major, `y`:
/// n), each sample its own label (R's `mixtools::regmixEM`, `flexmix`): the grouped EM with
/// n_j = 1, streaming over the samples once per iteration (see the module docs). Outputs,
/// trace and errors as in [`mixreg_fit_grouped`], with `posteriors_out[..n K]` per sample;
/// [`MixRegInit::NodeLeastSquares`] is `BadParameter` here, n < K is `TooFewSamples`, and x or y
/// with a spread below 1e-150 (not 0) or a magnitude above 1e150 is `DataScale`.
/// `work` has length [`mixreg_fit_work_len`]`(n, K, d, intercept)`, independent of n.
#[allow(clippy::too_many_arguments)]
pub fn mixreg_fit(
    x: &[f64],
    y: &[f64],
    n: usize,
    d: usize,
    opts: &MixRegOptions,
    init: MixRegInit,
    weights_out: &mut [f64],
    coefs_out: &mut [f64],
    sigma2_out: &mut [f64],
    posteriors_out: Option<&mut [f64]>,
    trace: Option<&mut [f64]>,
    work: &mut [f64],
) -> Result<MixRegReport, Status> {
    if n == 0 || opts.k == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    let len_x = checked_mul(n, d)?;
    ensure_len(x.len(), len_x)?;
    ensure_len(y.len(), n)?;
    let (x, y) = (&x[..len_x], &y[..n]);
    let outs = Outputs {
        weights: weights_out,
        coefs: coefs_out,
        sigma2: sigma2_out,
        posteriors: posteriors_out,
    };
    let need = mixreg_fit_work_len(n, opts.k, d, opts.intercept)?;
    let mut ctx = check_options(opts, d, n, &outs, trace.as_deref(), work.len(), need)?;
    if matches!(init, MixRegInit::NodeLeastSquares) {
        return Err(Status::BadParameter);
    }
    check_given(&ctx, &init)?;
    ensure_finite(x)?;
    ensure_finite(y)?;
    crate::status::check_data_scale(x, d)?;
    crate::status::check_data_scale(y, 1)?;
    let sum_sq: f64 = y.iter().map(|v| v * v).sum();
    let sum_y: f64 = y.iter().sum();
    if !sum_sq.is_finite() {
        return Err(Status::NonFinite);
    }
    if n < ctx.p {
        return Err(Status::NotSpd);
    }
    let n_total = n as f64;
    let (floor, scale) = floor_and_scale(n_total, sum_sq, opts.intercept.then_some(sum_y));
    ctx.floor = floor;
    ctx.scale = scale;
    ctx.n_total = n_total;
    let src = Ungrouped { x, y, n, d };
    drive(&src, &ctx, opts, init, trace, work, outs)
}

// ---------------------------------------------------------------------------------------------
// The EM's sufficient statistics, for drivers outside this module (threads, processes,
// machines, streams): the same E-step passes and M-step the fits run, with every component's
// Gram accumulated (no complement), so that statistics of chunks add up.

/// The totals after the accumulators: samples N, sum y^2, sum y, log-likelihood.
const MIXREG_TOTALS: usize = 4;

/// Length (doubles) of the statistics of a K-component regression mixture with p = d (+ 1 with
/// an intercept) coefficients: K p^2 + K p + 3 K + 4. Per component: the Gram
/// A_k = sum_j r_jk G_j (K p x p; upper triangle, zeros below), then the vectors
/// s1_k = sum_j r_jk (b_j - G_j theta_k) (K p), the residual sums s0_k = sum_j r_jk RSS_jk(theta_k)
/// (K), the masses sum_j r_jk (K) and the sample masses sum_j r_jk n_j (K), all at the E-step's
/// coefficients theta_k; then N = sum_j n_j, sum y^2, sum y and the log-likelihood. Statistics of
/// disjoint data under the same parameters add.
pub fn mixreg_stats_len(k: usize, d: usize, intercept: bool) -> Result<usize, Status> {
    if k == 0 {
        return Err(Status::ZeroSize);
    }
    checked_add(acc_len(k, n_coefs(d, intercept)?)?, MIXREG_TOTALS)
}

/// Workspace (doubles) of [`mixreg_accumulate`] and [`mixreg_accumulate_grouped`]: one
/// parameter block, a copy of the statistics, the 3 K E-step constants and one pass's scratch,
/// 64 (2 p + 2 K + 6) doubles; independent of n and m.
pub fn mixreg_accumulate_work_len(k: usize, d: usize, intercept: bool) -> Result<usize, Status> {
    let p = n_coefs(d, intercept)?;
    let mut len = checked_add(params_len(k, p)?, mixreg_stats_len(k, d, intercept)?)?;
    len = checked_add(len, checked_mul(3, k)?)?;
    let per_sample = checked_add(checked_mul(2, checked_add(p, k)?)?, 6)?;
    checked_add(len, checked_mul(BLOCK, per_sample)?)
}

/// The context of the statistics functions: the checked options (the untied model only) and
/// the parameters' lengths.
fn spine_context(opts: &MixRegOptions, d: usize) -> Result<Ctx, Status> {
    if opts.k == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    if opts.symmetric {
        return Err(Status::BadParameter);
    }
    model_context(opts, d)
}

/// The E-step as statistics over one data source: checks the parameters, runs the fit's pass
/// with every Gram accumulated, and adds the result and the totals to `stats`.
#[allow(clippy::too_many_arguments)]
fn accumulate_source<S: Source>(
    src: &S,
    ctx: &Ctx,
    totals: [f64; 3],
    weights: &[f64],
    coefs: &[f64],
    sigma2: &[f64],
    stats: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let (k, p) = (ctx.k, ctx.p);
    let given = MixRegInit::Given {
        weights: weights.get(..k).ok_or(Status::BufferTooShort)?,
        coefs: coefs.get(..k * p).ok_or(Status::BufferTooShort)?,
        sigma2: sigma2.get(..k).ok_or(Status::BufferTooShort)?,
    };
    check_given(ctx, &given)?;
    let stats_len = checked_add(acc_len(k, p)?, MIXREG_TOTALS)?;
    ensure_len(stats.len(), stats_len)?;
    let (params, rest) = work.split_at_mut(params_len(k, p)?);
    let (sums, rest) = rest.split_at_mut(stats_len);
    let (consts, scratch) = rest.split_at_mut(3 * k);
    set_start(ctx, Some(&given), params);
    e_step_constants(ctx, params, consts);
    sums.fill(0.0);
    let (acc_buf, sum_totals) = sums.split_at_mut(stats_len - MIXREG_TOTALS);
    let mut acc = Acc::new(acc_buf, k, p);
    let ll = src.e_pass(ctx, params, consts, Some(&mut acc), None, scratch);
    sum_totals[..3].copy_from_slice(&totals);
    sum_totals[3] = ll;
    crate::parallel::add_into(sums, &stats[..stats_len]);
    if !sums.iter().all(|v| v.is_finite()) {
        return Err(Status::NonFinite);
    }
    stats[..stats_len].copy_from_slice(sums);
    Ok(())
}

/// The E-step of the ungrouped fit ([`mixreg_fit`]) as statistics: adds to `stats`
/// ([`mixreg_stats_len`] doubles, zeroed by the caller before the first chunk) the statistics of
/// the n samples (`x`: n x d, `y`: n) under the parameters `weights` (K), `coefs` (K p) and
/// `sigma2` (K; ignored for Known noise). Calls on the chunks of a data set add up to the
/// statistics of the whole, to rounding. The untied model only (`opts.symmetric` is
/// `BadParameter`); `opts.k`, `intercept` and `noise` are read.
///
/// Errors, with `stats` untouched: `ZeroSize`, `SizeOverflow`, `BufferTooShort`, `BadParameter`
/// (symmetric, Known sigma not > 0, sigma2 not > 0), `Weights`, `NonFinite` (data, parameters
/// or a result not finite, also the sum with what `stats` held).
#[allow(clippy::too_many_arguments)]
pub fn mixreg_accumulate(
    x: &[f64],
    y: &[f64],
    n: usize,
    d: usize,
    opts: &MixRegOptions,
    weights: &[f64],
    coefs: &[f64],
    sigma2: &[f64],
    stats: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let ctx = spine_context(opts, d)?;
    if n == 0 {
        return Err(Status::ZeroSize);
    }
    let len_x = checked_mul(n, d)?;
    ensure_len(x.len(), len_x)?;
    ensure_len(y.len(), n)?;
    ensure_len(
        work.len(),
        mixreg_accumulate_work_len(ctx.k, d, opts.intercept)?,
    )?;
    let (x, y) = (&x[..len_x], &y[..n]);
    ensure_finite(x)?;
    ensure_finite(y)?;
    let totals = [n as f64, y.iter().map(|v| v * v).sum(), y.iter().sum()];
    let src = Ungrouped { x, y, n, d };
    accumulate_source(&src, &ctx, totals, weights, coefs, sigma2, stats, work)
}

/// The E-step of the grouped fit ([`mixreg_fit_grouped`]) as statistics, over m nodes'
/// sufficient statistics (m x [`node_stats_len`], checked as that fit checks them); otherwise
/// as [`mixreg_accumulate`]. Errors also `NodeSizes` and `NotSpd` as for the grouped fit.
#[allow(clippy::too_many_arguments)]
pub fn mixreg_accumulate_grouped(
    node_stats: &[f64],
    m: usize,
    d: usize,
    opts: &MixRegOptions,
    weights: &[f64],
    coefs: &[f64],
    sigma2: &[f64],
    stats: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let ctx = spine_context(opts, d)?;
    if m == 0 {
        return Err(Status::ZeroSize);
    }
    let len = node_stats_len(d, opts.intercept)?;
    let total = checked_mul(m, len)?;
    ensure_len(node_stats.len(), total)?;
    ensure_len(
        work.len(),
        mixreg_accumulate_work_len(ctx.k, d, opts.intercept)?,
    )?;
    let node_stats = &node_stats[..total];
    ensure_finite(node_stats)?;
    let mut totals = [0.0; 3];
    for node in node_stats.chunks_exact(len) {
        check_node(node, ctx.p, opts.intercept)?;
        totals[0] += node[0];
        totals[1] += node[1];
        totals[2] += node[2];
    }
    let src = Grouped {
        stats: node_stats,
        m,
    };
    accumulate_source(&src, &ctx, totals, weights, coefs, sigma2, stats, work)
}

/// Workspace (doubles) of [`mixreg_m_step`]: one parameter block, a copy of the statistics,
/// 2 p^2 + p.
pub fn mixreg_m_step_work_len(k: usize, d: usize, intercept: bool) -> Result<usize, Status> {
    let p = n_coefs(d, intercept)?;
    let len = checked_add(params_len(k, p)?, mixreg_stats_len(k, d, intercept)?)?;
    checked_add(len, checked_add(checked_mul(2, checked_mul(p, p)?)?, p)?)
}

/// The M-step from statistics, as the fits compute it (module docs: weights, coefficients as a
/// correction of the E-step's, noise variances with their floors, emptied components).
/// `coefs` (K p) and `sigma2` (K) hold on entry the parameters the statistics were taken at
/// and receive the new ones (an emptied component keeps its own); `weights_out` (K) the new
/// weights. Returns how many noise variances were set to a floor.
///
/// Errors, with the outputs untouched: `ZeroSize`, `SizeOverflow`, `BufferTooShort`,
/// `BadParameter` (symmetric, Known sigma not > 0, negative masses), `NonFinite`, `NotSpd` (N < p
/// or a singular weighted Gram).
#[allow(clippy::too_many_arguments)]
pub fn mixreg_m_step(
    stats: &[f64],
    d: usize,
    opts: &MixRegOptions,
    weights_out: &mut [f64],
    coefs: &mut [f64],
    sigma2: &mut [f64],
    work: &mut [f64],
) -> Result<usize, Status> {
    let mut ctx = spine_context(opts, d)?;
    let (k, p) = (ctx.k, ctx.p);
    let stats_len = mixreg_stats_len(k, d, opts.intercept)?;
    ensure_len(stats.len(), stats_len)?;
    ensure_len(weights_out.len(), k)?;
    ensure_len(coefs.len(), checked_mul(k, p)?)?;
    ensure_len(sigma2.len(), k)?;
    ensure_len(work.len(), mixreg_m_step_work_len(k, d, opts.intercept)?)?;
    let stats = &stats[..stats_len];
    ensure_finite(stats)?;
    ensure_finite(&coefs[..k * p])?;
    ensure_finite(&sigma2[..k])?;
    let totals = &stats[stats_len - MIXREG_TOTALS..];
    let (n_total, sum_sq, sum_y) = (totals[0], totals[1], totals[2]);
    let masses = &stats[k * p * p + k * p + k..stats_len - MIXREG_TOTALS];
    if masses.iter().any(|&v| v < 0.0) || sum_sq < 0.0 {
        return Err(Status::BadParameter);
    }
    if n_total < p as f64 {
        return Err(Status::NotSpd);
    }
    let (floor, scale) = floor_and_scale(n_total, sum_sq, opts.intercept.then_some(sum_y));
    (ctx.floor, ctx.scale, ctx.n_total) = (floor, scale, n_total);
    let (params, rest) = work.split_at_mut(params_len(k, p)?);
    let (sums, rest) = rest.split_at_mut(stats_len);
    let (chol, rest) = rest.split_at_mut(p * p);
    let (total_gram, delta) = rest.split_at_mut(p * p);
    sums.copy_from_slice(stats);
    let (w, old_coefs, s2) = split_params(params, k, p);
    w.fill(0.0);
    old_coefs.copy_from_slice(&coefs[..k * p]);
    s2.copy_from_slice(&sigma2[..k]);
    let mut acc = Acc::new(&mut sums[..stats_len - MIXREG_TOTALS], k, p);
    let floored = m_step(&ctx, params, &mut acc, total_gram, chol, &mut delta[..p])?;
    let (w, new_coefs, s2) = split_params(params, k, p);
    weights_out[..k].copy_from_slice(w);
    coefs[..k * p].copy_from_slice(new_coefs);
    sigma2[..k].copy_from_slice(s2);
    Ok(floored)
}
