//! MM (composite transportation) reduction of a weighted Gaussian mixture to K components.
//!
//! Given M weighted components phi_i = (w_i, mu_i, S_i) and K initial components, [`reduce_mm`]
//! alternates
//! - assignment: C_ik = KL(phi_i || phi~_k); pi_ik = w_i 1{k = argmin_k C_ik} (ties, exact
//!   equality, split equally among the minimizers), or with `entropic_lambda` = lambda > 0,
//!   pi_ik = w_i softmax_k(-C_ik / lambda) (computed with the minimum cost as shift);
//! - update: v_k = sum_i pi_ik, phi~_k = moment match of the phi_i with weights pi_ik / v_k; a
//!   component with v_k = 0 is dropped,
//!
//! until the objective drops by no more than `tol` times its previous (absolute) value, or
//! `max_iter` iterations.
//!
//! The objective is the composite transportation divergence of the current reduced mixture:
//! sum_ik pi_ik C_ik = sum_i w_i min_k C_ik with hard assignments, and, with lambda > 0, its
//! entropic version sum_ik pi_ik C_ik + lambda sum_ik pi_ik ln(pi_ik / w_i)
//! = -lambda sum_i w_i ln sum_k exp(-C_ik / lambda). Both never increase along the iterations
//! (the update minimizes sum_ik pi_ik C_ik over the phi~_k for fixed pi, the assignment
//! minimizes the objective over pi for fixed phi~). The plain transport cost sum pi C alone is
//! not monotone under entropic assignments, which is why the entropy term is included.
//!
//! Trimming (`trim` = alpha in (0, 1)): write e_i for input component i's own cost per unit
//! mass, its term of the objective divided by w_i: e_i = min_k C_ik (hard), or
//! e_i = c_min - lambda ln sum_k exp((c_min - C_ik) / lambda) with c_min = min_k C_ik
//! (entropic). Each assignment keeps only the input mass 1 - alpha (of the total) with the
//! smallest e_i: with t the smallest e_i at which the mass of {e_i <= t} reaches 1 - alpha,
//! components with e_i < t keep their whole row of pi, the components with e_i = t share the
//! remaining mass in proportion to their weights (their rows scaled by one common factor, so
//! the result does not depend on the order of the input), and the others get pi_ik = 0 (no
//! influence on the update). The objective is the trimmed one, sum_i w'_i e_i over the kept
//! masses w'_i. It never increases either, by the trimmed k-means argument: for fixed phi~ the
//! trimming minimizes over the kept masses (sum w'_i = (1 - alpha) sum w_i, 0 <= w'_i <= w_i),
//! and the update minimizes for fixed kept masses and pi. alpha = 1/2 is the DESIGN's Trim
//! baseline, the trimmed KL barycentre. `trim` = 0 runs exactly the untrimmed algorithm.
//!
//! Rounding: the objective is monotone in exact arithmetic. In floating point it is monotone up
//! to its rounding, which for full covariances grows with the condition number of the reduced
//! covariances: about eps cond(S~_k) per unit mass, through ln det S~_k. A moment match of
//! components much sharper than the distances between their means (spreads 1e-60 at distance 1)
//! is a covariance whose small eigenvalues lie below the rounding of its entries, as in any
//! dense double representation: its smallest eigenvalues, and the objective, are then rounding
//! (found by fuzzing: a trimmed objective that rose by 0.5%). The result is still finite and
//! positive definite (checked), accurate normwise.
//!
//! Costs: the input covariances are factored once per call, each reduced covariance once per
//! iteration ([`crate::linalg::cholesky`]); every C_ik then costs O(d^3 / 6) (full) or O(d)
//! (diagonal) with the kernel of [`crate::distance::kl_gaussian`], so with the same result bit
//! for bit: C = 0.5 ((off + diag) + z.z) with X = L1^-1 L0, off = sum_{a > b} X_ab^2 >= 0,
//! diag = sum_a (X_aa^2 - 1 - 2 ln X_aa) >= 0 and z = L1^-1 (mu1 - mu0).
//!
//! Screening: only min_k C_ik matters to hard assignments, so with full covariances and
//! lambda = 0 most C_ik are never computed. Each iteration bounds the spread of every reduced
//! component, B_k >= sigma_max(L_k)^2 (a power-iteration estimate of lambda_max(S~_k) certified
//! by a Cholesky factorization of t I - S~_k, or Gershgorin's bound, widened by the backward
//! errors of the factor and of the triangular solve: `spread_bound`), so that the computed
//! C_ik >= |mu~_k - mu_i|^2 / (2 B_k) up to a rounding margin that is included. The C_ik of a
//! row are visited in increasing order of that O(d) bound while it does not exceed the
//! smallest cost found; each visited one first gets its O(d^2) part 0.5 (diag + z.z), computed
//! as the cost computes it (so, rounding being monotone and off >= 0, a bound of the computed
//! cost with no margin at all), and only if that part does not exceed the smallest cost either,
//! its O(d^3) term off. The C_ik skipped are larger than the minimum (never equal: ties are
//! kept), so the assignments and the objective, hence the whole result, are the same bit for
//! bit as when every C_ik is computed (tested). Usually one O(d^3) cost per input component is
//! left. The next input's data is prefetched while the current one is worked on.

use crate::dispatch::{dim, dispatch_dim, with_avx2};
use crate::distance::{
    kl_combine, kl_diag, kl_from_factors, kl_off, kl_scratch_len, kl_zz, KL_DIAG_TERM_ERROR,
};
use crate::gmm::{CovKind, Mixture};
use crate::linalg::{cholesky, dot};
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// Options of [`reduce_mm`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceOptions {
    /// Relative tolerance: stop when the objective drops by no more than `tol` times the
    /// absolute value of its previous value. Must be >= 0 and not NaN. Default 1e-5.
    pub tol: f64,
    /// The largest number of iterations (assignment + update), > 0. Default 100.
    pub max_iter: usize,
    /// Entropic regularization lambda: 0 for hard assignments, > 0 (finite) for soft ones.
    /// Default 0.
    pub entropic_lambda: f64,
    /// Trimmed fraction alpha in [0, 1): each assignment keeps only the input mass 1 - alpha
    /// with the smallest costs (see the module documentation). 0 (default) trims nothing.
    pub trim: f64,
}

impl Default for ReduceOptions {
    fn default() -> Self {
        ReduceOptions {
            tol: 1e-5,
            max_iter: 100,
            entropic_lambda: 0.0,
            trim: 0.0,
        }
    }
}

/// What [`reduce_mm`] reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceReport {
    /// The objective at the last assignment step (see the module documentation); the returned
    /// mixture, produced by the update that followed, has an objective no larger.
    pub objective: f64,
    /// The number of iterations run (1 ..= `max_iter`).
    pub iterations: usize,
    /// Whether the relative-decrease criterion was met before `max_iter`.
    pub converged: bool,
    /// The number of components left with positive mass (1 ..= K): the first `kept` entries
    /// of the outputs.
    pub kept: usize,
}

/// Checks the options of [`reduce_mm`] (before any work): `tol` >= 0, `max_iter` > 0,
/// `entropic_lambda` >= 0 and finite, `trim` in [0, 1) (NaN fails every test).
///
/// Errors: `BadParameter`.
pub(crate) fn check_reduce_options(opts: &ReduceOptions) -> Result<(), Status> {
    let lambda_ok = opts.entropic_lambda >= 0.0 && opts.entropic_lambda.is_finite();
    let trim_ok = (0.0..1.0).contains(&opts.trim);
    if opts.tol >= 0.0 && opts.max_iter > 0 && lambda_ok && trim_ok {
        Ok(())
    } else {
        Err(Status::BadParameter)
    }
}

/// The parts of the workspace of [`reduce_mm`], in this order (lengths in doubles), with
/// c = d d (full) or d (diagonal).
struct Layout {
    /// Factors of the input covariances: M c (Cholesky factors, or standard deviations).
    input_factors: usize,
    /// Costs C_ik, then assignments pi_ik: M K.
    costs: usize,
    /// Current reduced weights (masses v_k): K.
    weights: usize,
    /// Current reduced means: K d.
    means: usize,
    /// Current reduced covariances: K c.
    covs: usize,
    /// Factors of the current reduced covariances: K c.
    factors: usize,
    /// Scratch of the costs, of [`spread_bound`] (d d + d) and of the moment matches (d): full,
    /// that of [`kl_from_factors`], d p + d with p = d rounded up to a multiple of 4 (X, then
    /// z); diagonal, 2 d.
    scratch: usize,
    /// Screening: the spread bounds B_k (K), then the cost bounds of one input component (K).
    bounds: usize,
    /// Trimming: the own costs e_i (M), then the input indices sorted by e_i (M).
    trimmed: usize,
}

impl Layout {
    fn new(m: usize, k: usize, d: usize, kind: CovKind) -> Result<Self, Status> {
        if m == 0 || k == 0 || d == 0 {
            return Err(Status::ZeroSize);
        }
        let c = kind.cov_len(d)?;
        Ok(Layout {
            input_factors: checked_mul(m, c)?,
            costs: checked_mul(m, k)?,
            weights: k,
            means: checked_mul(k, d)?,
            covs: checked_mul(k, c)?,
            factors: checked_mul(k, c)?,
            scratch: match kind {
                CovKind::Full => kl_scratch_len(d, kind)?,
                CovKind::Diag => checked_mul(2, d)?,
            },
            bounds: checked_mul(2, k)?,
            trimmed: checked_mul(2, m)?,
        })
    }

    fn total(&self) -> Result<usize, Status> {
        [
            self.costs,
            self.weights,
            self.means,
            self.covs,
            self.factors,
            self.scratch,
            self.bounds,
            self.trimmed,
        ]
        .iter()
        .try_fold(self.input_factors, |acc, &n| checked_add(acc, n))
    }
}

/// Workspace length (doubles) of [`reduce_mm`] for M input components, K reduced components in
/// dimension d: M c + M K + K + K d + 2 K c + d p + d + 2 K + 2 M with c = d d (full) or d
/// (diagonal), and p = d rounded up to a multiple of 4 (full) or 1 (diagonal).
///
/// Errors: `ZeroSize` (M, K or d is 0), `SizeOverflow`.
pub fn reduce_mm_work_len(m: usize, k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    Layout::new(m, k, d, kind)?.total()
}

/// Reduces the M-component mixture `input` to at most K = `init.n_components()` components by
/// the MM algorithm of the module documentation, starting from `init`.
///
/// Outputs: `weights_out[K]`, `means_out[K*d]`, `covs_out[K*c]` (c = d d full, d diagonal; the
/// storage of `input`). The first `kept` components are the result, in the order of `init`,
/// with weights renormalized to sum 1; the remaining K - `kept` entries are set to zero.
/// `trace`, if given, holds at least `max_iter` doubles: entry t receives the objective of
/// iteration t + 1 for t < `iterations` (it is written as the iterations go; later entries are
/// untouched, and on an error found during the iterations its contents are unspecified).
/// `work` holds at least [`reduce_mm_work_len`]`(M, K, d, kind)` doubles (scratch, never read
/// before written). The outputs are written only on success.
///
/// Errors: `ZeroSize`, `SizeOverflow`, `BufferTooShort` (an output, `trace` or `work`),
/// `BadParameter` (K > M, `init` differs from `input` in d or covariance storage, `tol` < 0 or
/// NaN, `max_iter` = 0, `entropic_lambda` < 0, NaN or infinite, `trim` < 0, >= 1 or NaN),
/// `NotSpd` (an input, initial or reduced covariance fails Cholesky), `NonFinite` (the
/// objective or a moment match overflows, or a cost is NaN). A cost may overflow to +inf (an
/// input infinitely far from every reduced component): with trimming such an input is left
/// out when the trimmed mass covers it, so the objective stays finite; without, the objective
/// is +inf and the call fails with `NonFinite`.
#[allow(clippy::too_many_arguments)]
pub fn reduce_mm(
    input: &Mixture,
    init: &Mixture,
    opts: &ReduceOptions,
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    trace: Option<&mut [f64]>,
    work: &mut [f64],
) -> Result<ReduceReport, Status> {
    reduce(
        input,
        init,
        opts,
        Screen::Bounds,
        weights_out,
        means_out,
        covs_out,
        trace,
        work,
    )
}

/// Whether [`reduce`] screens the costs of hard assignments (full covariances) or computes them
/// all (the reference the screening is tested against).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Screen {
    Bounds,
    #[cfg_attr(not(test), allow(dead_code))]
    AllCosts,
}

/// [`reduce_mm`], with the screening chosen.
#[allow(clippy::too_many_arguments)]
fn reduce(
    input: &Mixture,
    init: &Mixture,
    opts: &ReduceOptions,
    screen: Screen,
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    mut trace: Option<&mut [f64]>,
    work: &mut [f64],
) -> Result<ReduceReport, Status> {
    let (m, k, d, kind) = (
        input.n_components(),
        init.n_components(),
        input.dim(),
        input.cov_kind(),
    );
    if init.dim() != d || init.cov_kind() != kind || k > m {
        return Err(Status::BadParameter);
    }
    check_reduce_options(opts)?;
    let lambda = opts.entropic_lambda;
    let layout = Layout::new(m, k, d, kind)?;
    let c = kind.cov_len(d)?;
    ensure_len(weights_out.len(), k)?;
    ensure_len(means_out.len(), layout.means)?;
    ensure_len(covs_out.len(), layout.covs)?;
    if let Some(t) = trace.as_deref() {
        ensure_len(t.len(), opts.max_iter)?;
    }
    ensure_len(work.len(), layout.total()?)?;

    let (in_f, rest) = work.split_at_mut(layout.input_factors);
    let (costs, rest) = rest.split_at_mut(layout.costs);
    let (red_w, rest) = rest.split_at_mut(layout.weights);
    let (red_mu, rest) = rest.split_at_mut(layout.means);
    let (red_s, rest) = rest.split_at_mut(layout.covs);
    let (red_f, rest) = rest.split_at_mut(layout.factors);
    let (scratch, rest) = rest.split_at_mut(layout.scratch);
    let (bounds, rest) = rest.split_at_mut(layout.bounds);
    let (spread, row_bounds) = bounds.split_at_mut(k);
    let (own, order) = rest[..layout.trimmed].split_at_mut(m);

    for i in 0..m {
        if i + 1 < m {
            prefetch(input.cov(i + 1));
        }
        factor(input.cov(i), &mut in_f[i * c..(i + 1) * c], d, kind)?;
    }
    red_w.copy_from_slice(init.weights());
    for j in 0..k {
        red_mu[j * d..(j + 1) * d].copy_from_slice(init.mean(j));
        red_s[j * c..(j + 1) * c].copy_from_slice(init.cov(j));
    }

    let screened = screen == Screen::Bounds && kind == CovKind::Full && lambda == 0.0;
    let mut kk = k; // active reduced components
    let mut previous = 0.0;
    let mut objective = 0.0;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < opts.max_iter {
        // Costs against the current reduced components, each factored once.
        for j in 0..kk {
            factor(
                &red_s[j * c..(j + 1) * c],
                &mut red_f[j * c..(j + 1) * c],
                d,
                kind,
            )?;
        }
        match kind {
            CovKind::Full if screened => {
                for j in 0..kk {
                    spread[j] = spread_bound(
                        &red_s[j * c..(j + 1) * c],
                        &red_f[j * c..(j + 1) * c],
                        d,
                        scratch,
                    );
                }
                for i in 0..m {
                    if i + 1 < m {
                        prefetch(&in_f[(i + 1) * c..(i + 2) * c]);
                    }
                    screened_costs(
                        input.mean(i),
                        &in_f[i * c..(i + 1) * c],
                        &red_mu[..kk * d],
                        &red_f[..kk * c],
                        &spread[..kk],
                        d,
                        &mut costs[i * kk..(i + 1) * kk],
                        &mut row_bounds[..kk],
                        scratch,
                    )?;
                }
            }
            _ => {
                for i in 0..m {
                    let (mu0, l0) = (input.mean(i), &in_f[i * c..(i + 1) * c]);
                    for j in 0..kk {
                        let cost = kl_from_factors(
                            mu0,
                            l0,
                            &red_mu[j * d..(j + 1) * d],
                            &red_f[j * c..(j + 1) * c],
                            d,
                            kind,
                            scratch,
                        );
                        // +inf is a cost too (an input infinitely far from every reduced
                        // component: trimming can leave it out); only NaN is an error.
                        if cost.is_nan() {
                            return Err(Status::NonFinite);
                        }
                        costs[i * kk + j] = cost;
                    }
                }
            }
        }
        // Assignment (costs become pi_ik in place) and objective.
        let costs = &mut costs[..m * kk];
        if opts.trim == 0.0 {
            objective = 0.0;
            for (i, &w) in input.weights().iter().enumerate() {
                objective += w * assign_row(&mut costs[i * kk..(i + 1) * kk], w, lambda);
            }
        } else {
            objective = assign_trimmed(input.weights(), costs, kk, lambda, opts.trim, own, order);
        }
        if !objective.is_finite() {
            return Err(Status::NonFinite);
        }
        if let Some(t) = trace.as_deref_mut() {
            t[iterations] = objective;
        }
        iterations += 1;
        // Update: moment matches, compacting away components without mass.
        let mut kept = 0;
        for j in 0..kk {
            let mut v = 0.0;
            for i in 0..m {
                v += costs[i * kk + j];
            }
            if v > 0.0 {
                moment_match_column(
                    input,
                    costs,
                    kk,
                    j,
                    v,
                    &mut red_mu[kept * d..(kept + 1) * d],
                    &mut red_s[kept * c..(kept + 1) * c],
                    scratch,
                )?;
                red_w[kept] = v;
                kept += 1;
            }
        }
        kk = kept;
        if iterations >= 2 && previous - objective <= opts.tol * libm::fabs(previous) {
            converged = true;
            break;
        }
        previous = objective;
    }

    // What the last moment match produced is returned only if it is a valid mixture: the sums
    // of huge spreads can round to a covariance that is not positive definite.
    for j in 0..kk {
        let (cov, f) = (&red_s[j * c..(j + 1) * c], &mut red_f[j * c..(j + 1) * c]);
        factor(cov, f, d, kind)?;
    }
    let total: f64 = red_w[..kk].iter().sum();
    for (out, v) in weights_out[..kk].iter_mut().zip(red_w.iter()) {
        *out = *v / total;
    }
    weights_out[kk..k].fill(0.0);
    means_out[..kk * d].copy_from_slice(&red_mu[..kk * d]);
    means_out[kk * d..k * d].fill(0.0);
    covs_out[..kk * c].copy_from_slice(&red_s[..kk * c]);
    covs_out[kk * c..k * c].fill(0.0);
    Ok(ReduceReport {
        objective,
        iterations,
        converged,
        kept: kk,
    })
}

/// The assignment of one input component of weight `w`: `row` holds its costs C_i. on entry
/// and its pi_i. on exit (see the module documentation). Returns its own cost e_i, its term of
/// the objective divided by `w`.
#[inline]
fn assign_row(row: &mut [f64], w: f64, lambda: f64) -> f64 {
    let c_min = row.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    // Every cost infinite (with entropic regularization too): the component's mass is split
    // equally and its own cost is +inf, which only trimming can leave out of the objective.
    if lambda == 0.0 || c_min == f64::INFINITY {
        let ties = row.iter().filter(|&&v| v == c_min).count();
        let share = w / ties as f64;
        for v in row.iter_mut() {
            *v = if *v == c_min { share } else { 0.0 };
        }
        c_min
    } else {
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = libm::exp((c_min - *v) / lambda);
            sum += *v;
        }
        let scale = w / sum;
        for v in row.iter_mut() {
            *v *= scale;
        }
        c_min - lambda * libm::log(sum)
    }
}

/// The trimmed assignment (see the module documentation): `costs` (M x kk) holds the C_ik on
/// entry and the trimmed pi_ik on exit; `own` and `order` (M each) are scratch. Returns the
/// trimmed objective.
fn assign_trimmed(
    weights: &[f64],
    costs: &mut [f64],
    kk: usize,
    lambda: f64,
    alpha: f64,
    own: &mut [f64],
    order: &mut [f64],
) -> f64 {
    let m = weights.len();
    for (i, (&w, e)) in weights.iter().zip(own.iter_mut()).enumerate() {
        *e = assign_row(&mut costs[i * kk..(i + 1) * kk], w, lambda);
    }
    // The input indices (exact as doubles) by increasing e_i; the sums below run in this
    // order, so they do not depend on the order of the input (up to the order within ties).
    for (i, o) in order.iter_mut().enumerate() {
        *o = i as f64;
    }
    order.sort_unstable_by(|&a, &b| own[a as usize].total_cmp(&own[b as usize]));
    let total: f64 = order.iter().map(|&i| weights[i as usize]).sum();
    let target = (1.0 - alpha) * total;
    let (mut kept, mut objective, mut p) = (0.0, 0.0, 0);
    while p < m {
        // The group of equal own costs order[p..q].
        let t = own[order[p] as usize];
        let (mut q, mut mass) = (p, 0.0);
        while q < m && own[order[q] as usize] == t {
            mass += weights[order[q] as usize];
            q += 1;
        }
        if kept + mass < target {
            kept += mass;
            objective += t * mass;
            p = q;
            continue;
        }
        // The threshold group shares the remaining mass; everything after it is trimmed.
        let rest = target - kept;
        // An infinite own cost adds nothing when none of its mass is kept (inf * 0 is NaN).
        if rest > 0.0 {
            objective += t * rest;
        }
        let share = rest / mass;
        for &i in &order[p..q] {
            let i = i as usize;
            for v in &mut costs[i * kk..(i + 1) * kk] {
                *v *= share;
            }
        }
        for &i in &order[q..] {
            let i = i as usize;
            costs[i * kk..(i + 1) * kk].fill(0.0);
        }
        break;
    }
    objective
}

/// The relative rounding margin of the screening bounds, 16 (d + 2) eps: it covers the
/// gamma_n = n eps / (1 - n eps) factors (n <= d + 1) of the backward errors of Cholesky and of
/// the triangular solve, and the rounding of the sums and products that compute the bounds.
fn screening_slack(d: usize) -> f64 {
    16.0 * (d as f64 + 2.0) * f64::EPSILON
}

/// The power iterations of [`spread_bound`]'s estimate of lambda_max.
const POWER_STEPS: usize = 12;

/// B >= sigma_max(L + E)^2 for every E with |E| <= gamma_d |L| entrywise, where L is the
/// Cholesky factor `l` of the d x d covariance `s` (as computed). `scratch` holds d d + d
/// doubles.
///
/// First an upper bound u of lambda_max(S): a power-iteration estimate theta <= lambda_max,
/// widened to t = 1.05 theta (then 1.25 t, twice, if needed), is certified by the Cholesky
/// factorization of T = t I - S succeeding: its backward error gives
/// lambda_max(S) <= t + gamma_{d+1} || |L_T| |L_T|^T ||_inf + eps max_a |t - s_aa| (the last term
/// for the rounding of T's diagonal). Without a certificate, or when it is larger, u is the
/// Gershgorin bound max_a sum_b |s_ab|. Then with G = || |L| |L|^T ||_inf (>= || |L| ||_2^2),
/// lambda_max(L L^T) <= u + gamma_{d+1} G (the backward error of L: S = L L^T + F with
/// |F| <= gamma_{d+1} |L| |L|^T), and sigma_max(L + E) <= sigma_max(L) + gamma_d sqrt(G).
fn spread_bound(s: &[f64], l: &[f64], d: usize, scratch: &mut [f64]) -> f64 {
    let slack = screening_slack(d);
    let s = &s[..d * d];
    let mut u = 0.0_f64;
    for row in s.chunks_exact(d) {
        u = u.max(row.iter().map(|v| libm::fabs(*v)).sum());
    }
    let (v, rest) = scratch.split_at_mut(d);
    let w = &mut rest[..d];
    v.fill(1.0);
    let mut theta = 0.0;
    for _ in 0..POWER_STEPS {
        for (wa, row) in w.iter_mut().zip(s.chunks_exact(d)) {
            *wa = dot(row, v);
        }
        theta = dot(v, w) / dot(v, v);
        let norm = crate::special::sqrt(dot(w, w));
        if !(norm > 0.0 && norm.is_finite()) {
            break;
        }
        for (va, wa) in v.iter_mut().zip(w.iter()) {
            *va = wa / norm;
        }
    }
    let mut t = 1.05 * theta;
    for _ in 0..3 {
        if t.partial_cmp(&u) != Some(core::cmp::Ordering::Less) {
            break; // Gershgorin is as good (or theta is NaN)
        }
        let (tm, colsum) = scratch.split_at_mut(d * d);
        let mut diag_error = 0.0_f64;
        for (a, (t_row, s_row)) in tm.chunks_exact_mut(d).zip(s.chunks_exact(d)).enumerate() {
            for (tv, sv) in t_row.iter_mut().zip(s_row) {
                *tv = -sv;
            }
            t_row[a] = t - s_row[a];
            diag_error = diag_error.max(libm::fabs(t_row[a]));
        }
        if cholesky(tm, d).is_ok() {
            let g_t = abs_gram_norm(tm, d, &mut colsum[..d]);
            let certified = (t + slack * g_t + f64::EPSILON * diag_error) * (1.0 + slack);
            u = u.min(certified);
            break;
        }
        t *= 1.25;
    }
    let g = abs_gram_norm(l, d, &mut scratch[..d]);
    let root =
        crate::special::sqrt(u * (1.0 + slack) + slack * g) + slack * crate::special::sqrt(g);
    root * root * (1.0 + slack)
}

/// || |L| |L|^T ||_inf = max_a sum_b |L_ab| (sum_c |L_cb|) for the d x d lower triangular `l`
/// (an upper bound of || |L| ||_2^2), with `colsum` (d doubles) as scratch.
fn abs_gram_norm(l: &[f64], d: usize, colsum: &mut [f64]) -> f64 {
    colsum.fill(0.0);
    for a in 0..d {
        for (cs, v) in colsum.iter_mut().zip(&l[a * d..a * d + a + 1]) {
            *cs += libm::fabs(*v);
        }
    }
    let mut g = 0.0_f64;
    for a in 0..d {
        let row = &l[a * d..a * d + a + 1];
        g = g.max(
            row.iter()
                .zip(colsum.iter())
                .map(|(v, cs)| libm::fabs(*v) * cs)
                .sum(),
        );
    }
    g
}

/// One row of hard-assignment costs with full covariances, screened: `row[j]` receives
/// C_ij = KL(N(mu0, L0 L0^T) || reduced j) for the j the screening cannot exclude and +inf for
/// the others, whose costs exceed the row's minimum (see the module documentation). `means`
/// and `factors` hold the kk reduced means and Cholesky factors, `spread` their bounds B_j
/// ([`spread_bound`]); `bounds` (kk) and `scratch` ([`kl_scratch_len`]`(d, Full)` doubles)
/// are scratch.
///
/// Why the bounds hold for the computed cost [`kl_combine`]`(off, diag, zz)`: off >= 0 as
/// computed (a sum of squares), and rounding is monotone, so the cost is at least
/// 0.5 (diag + zz) as computed (the second tier, no margin). diag is a sum of d terms, each
/// nonnegative exactly and computed with an error below [`KL_DIAG_TERM_ERROR`], so the cost is
/// at least 0.5 (zz - 2 d KL_DIAG_TERM_ERROR) (1 - 2 eps) (the test before the logarithms); z is
/// solved
/// with a backward error (L1 + E) z = mu1 - mu0, |E| <= gamma_d |L1|, so
/// zz >= |mu1 - mu0|^2 / B_j up to the relative [`screening_slack`] (the first tier). A bound
/// that is not finite excludes nothing: the cost is computed (and reported if it overflows).
#[allow(clippy::too_many_arguments)]
fn screened_costs(
    mu0: &[f64],
    l0: &[f64],
    means: &[f64],
    factors: &[f64],
    spread: &[f64],
    d: usize,
    row: &mut [f64],
    bounds: &mut [f64],
    scratch: &mut [f64],
) -> Result<(), Status> {
    let slack = screening_slack(d);
    let diag_margin = d as f64 * KL_DIAG_TERM_ERROR;
    for (j, (b, &spread_j)) in bounds.iter_mut().zip(spread).enumerate() {
        let mu1 = &means[j * d..(j + 1) * d];
        let mut dist2 = 0.0;
        for (m1, m0) in mu1.iter().zip(&mu0[..d]) {
            let delta = m1 - m0;
            dist2 += delta * delta;
        }
        let bound = (0.5 * dist2 / spread_j) * (1.0 - slack) - diag_margin;
        // An overflowing (or NaN) bound says nothing: the cost is then computed.
        *b = if bound.is_finite() { bound } else { 0.0 };
    }
    row.fill(f64::INFINITY);
    let mut best = f64::INFINITY;
    let (x, z) = scratch.split_at_mut(scratch.len() - d);
    loop {
        // The candidate with the smallest bound not yet computed.
        let mut next = None;
        let mut smallest = f64::INFINITY;
        for (j, &b) in bounds.iter().enumerate() {
            if b < smallest {
                smallest = b;
                next = Some(j);
            }
        }
        let Some(j) = next else { break };
        if smallest > best {
            break;
        }
        bounds[j] = f64::INFINITY;
        let (mu1, l1) = (
            &means[j * d..(j + 1) * d],
            &factors[j * d * d..(j + 1) * d * d],
        );
        // The second tier: the cost without its O(d^3) term off >= 0, exactly as computed
        // (rounding is monotone), first without diag >= -KL_DIAG_TERM_ERROR d either.
        let zz = kl_zz(mu0, mu1, l1, d, z);
        if 0.5 * (zz - 2.0 * diag_margin) * (1.0 - 2.0 * f64::EPSILON) > best && zz.is_finite() {
            continue;
        }
        let diag = kl_diag(l0, l1, d);
        let lower = 0.5 * (diag + zz);
        if lower > best && lower.is_finite() {
            continue;
        }
        let cost = kl_combine(kl_off(l0, l1, d, x), diag, zz);
        // +inf (an overflowing cost) is kept as the cost it is; only NaN is an error.
        if cost.is_nan() {
            return Err(Status::NonFinite);
        }
        row[j] = cost;
        best = best.min(cost);
    }
    Ok(())
}

/// The factor of one covariance: its Cholesky factor (full) or standard deviations (diagonal).
fn factor(cov: &[f64], out: &mut [f64], d: usize, kind: CovKind) -> Result<(), Status> {
    match kind {
        CovKind::Full => {
            out.copy_from_slice(cov);
            cholesky(out, d)
        }
        CovKind::Diag => {
            for (o, &s) in out.iter_mut().zip(cov) {
                if s.is_nan() || s <= 0.0 {
                    return Err(Status::NotSpd);
                }
                *o = crate::special::sqrt(s);
            }
            Ok(())
        }
    }
}

/// Moment match of the input components with weights pi_ij / v (column j of the M x kk matrix
/// `pi`, whose sum is v > 0) into `mean` (d) and `cov` (c; full: lower triangle computed and
/// mirrored). Components with zero weight are skipped. `scratch` holds at least d doubles.
#[allow(clippy::too_many_arguments)]
fn moment_match_column(
    input: &Mixture,
    pi: &[f64],
    kk: usize,
    j: usize,
    v: f64,
    mean: &mut [f64],
    cov: &mut [f64],
    scratch: &mut [f64],
) -> Result<(), Status> {
    let (m, d, kind) = (input.n_components(), input.dim(), input.cov_kind());
    let diff = &mut scratch[..d];
    // The weight l = pi_ij / v of input i, with v > 0; the test of pi_ij first skips the
    // division for the (many) zeros of hard assignments.
    let weight = |i: usize| {
        let p = pi[i * kk + j];
        if p > 0.0 {
            p / v
        } else {
            0.0
        }
    };
    // The mean about a pivot (the first component with weight): mu_r + sum_i l_i (mu_i - mu_r).
    // Equal means then give exactly that mean, whatever the rounding of the weights' sum; the
    // plain sum_i l_i mu_i can be off by an ulp of |mu|, and for tiny covariances that ulp, as
    // a spread (mu_i - mu)^2, dwarfs them and makes the objective rise.
    let Some(pivot) = (0..m).find(|&i| weight(i) > 0.0) else {
        return Err(Status::NonFinite);
    };
    let mu_r = input.mean(pivot);
    mean.fill(0.0);
    for i in 0..m {
        let l = weight(i);
        if l > 0.0 && i != pivot {
            for ((acc, mi), r) in mean.iter_mut().zip(input.mean(i)).zip(mu_r) {
                *acc += l * (mi - r);
            }
        }
    }
    for (acc, r) in mean.iter_mut().zip(mu_r) {
        *acc += r;
    }
    cov.fill(0.0);
    // The components with weight l > 0 (not NaN), in order, each prefetched during the work on
    // the one before.
    let mut next = (0..m).find(|&i| weight(i) > 0.0);
    while let Some(i) = next {
        let l = weight(i);
        next = (i + 1..m).find(|&t| weight(t) > 0.0);
        if let Some(t) = next {
            prefetch(input.cov(t));
        }
        for ((di, mi), mu) in diff.iter_mut().zip(input.mean(i)).zip(mean.iter()) {
            *di = mi - mu;
        }
        let s = input.cov(i);
        match kind {
            CovKind::Full => dispatch_dim!(d, scatter_full_dispatched(cov, s, diff, l, d)),
            CovKind::Diag => {
                for ((cv, sv), da) in cov.iter_mut().zip(s).zip(diff.iter()) {
                    *cv += l * (sv + da * da);
                }
            }
        }
    }
    if kind == CovKind::Full {
        for a in 0..d {
            for b in 0..a {
                cov[b * d + a] = cov[a * d + b];
            }
        }
    }
    if mean.iter().all(|x| x.is_finite()) && cov.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Status::NonFinite)
    }
}

/// Asks the CPU to start loading `v` into its caches (x86_64; elsewhere nothing). The inputs
/// are walked once per iteration, and with d = 50 one covariance or factor is 20 kB: loading the
/// next one during the work on the current one hides the memory latency (about a quarter of
/// the run time of the 500 -> 10 bench).
#[inline]
#[allow(unused_unsafe)] // `_mm_prefetch` is a safe function in newer compilers
fn prefetch(v: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    for line in v.chunks(8) {
        // SAFETY: SSE is part of x86_64; a prefetch is a hint that never faults nor writes.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr().cast(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// cov += l (S + diff diff^T) on the lower triangle of the d x d `cov` (row by row, the
/// operations of [`moment_match_column`] for full covariances).
#[inline(always)]
fn scatter_full_portable<const D: usize>(
    cov: &mut [f64],
    s: &[f64],
    diff: &[f64],
    l: f64,
    d: usize,
) {
    let d = dim::<D>(d);
    let (cov, s, diff) = (&mut cov[..d * d], &s[..d * d], &diff[..d]);
    for a in 0..d {
        let da = diff[a];
        let row = &mut cov[a * d..a * d + a + 1];
        let s_row = &s[a * d..a * d + a + 1];
        for ((cv, sv), db) in row.iter_mut().zip(s_row).zip(&diff[..a + 1]) {
            *cv += l * (sv + da * db);
        }
    }
}

with_avx2! {
    /// [`scatter_full_portable`], for the best instruction set the CPU has.
    fn scatter_full_dispatched = scatter_full_portable(
        cov: &mut [f64], s: &[f64], diff: &[f64], l: f64, d: usize,
    )
}

#[cfg(test)]
mod tests {
    //! The screened reduction against the one that computes every cost, bit for bit, the
    //! screening's spectral bound against eigenvalues, and the moment-match scatter's AVX2 and
    //! fixed-d instances against the portable `D = 0` one. (The cost kernels and the Cholesky
    //! factorization are tested where they live, in `distance` and `linalg`.)
    use super::*;
    use crate::distance::x_stride;
    use crate::linalg::{lower_factor, random_spd, sym_eigen, TEST_DIMS};
    use crate::rng::Rng;
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn spread_bound_is_an_upper_bound_of_the_largest_eigenvalue() {
        let mut rng = Rng::new(53);
        for d in TEST_DIMS {
            for spread in [0.0, 0.5, 2.0] {
                let s = random_spd(&mut rng, d, spread);
                let l = lower_factor(&s, d);
                // lambda_max(L L^T), which the bound must exceed.
                let mut llt = vec![0.0; d * d];
                for a in 0..d {
                    for b in 0..d {
                        llt[a * d + b] = (0..d).map(|t| l[a * d + t] * l[b * d + t]).sum();
                    }
                }
                let (mut values, mut vectors) = (vec![0.0; d], vec![0.0; d * d]);
                sym_eigen(&mut llt, d, &mut values, &mut vectors).unwrap();
                let lambda_max = values.iter().fold(0.0_f64, |a, &b| a.max(b));
                let mut scratch = vec![f64::NAN; d * x_stride(d).unwrap() + d];
                let bound = spread_bound(&s, &l, d, &mut scratch);
                assert!(bound >= lambda_max, "d {d}: {bound} < {lambda_max}");
                if spread == 0.0 && d >= 4 {
                    // Certified near the power-iteration estimate, not Gershgorin's.
                    assert!(bound < 1.6 * lambda_max, "d {d}: {bound} vs {lambda_max}");
                }
            }
        }
    }

    /// A random full-covariance mixture with `k` components around `centres` (spread `sd`).
    fn mixture(rng: &mut Rng, k: usize, d: usize, centres: &[f64], sd: f64) -> [Vec<f64>; 3] {
        let raw: Vec<f64> = (0..k).map(|_| 0.2 + rng.uniform()).collect();
        let total: f64 = raw.iter().sum();
        let w = raw.iter().map(|v| v / total).collect();
        let mu = (0..k * d)
            .map(|i| centres[(i / d) % centres.len()] + sd * rng.normal())
            .collect();
        let cov = (0..k).flat_map(|_| random_spd(rng, d, 0.3)).collect();
        [w, mu, cov]
    }

    /// Both reductions, every output and the trace compared bit for bit.
    fn assert_screening_exact(
        input: &[Vec<f64>; 3],
        init: &[Vec<f64>; 3],
        d: usize,
        opts: &ReduceOptions,
    ) {
        let m = input[0].len();
        let k = init[0].len();
        let input = Mixture::new(&input[0], &input[1], &input[2], m, d, CovKind::Full).unwrap();
        let init = Mixture::new(&init[0], &init[1], &init[2], k, d, CovKind::Full).unwrap();
        let run = |screen| {
            let mut work = vec![f64::NAN; reduce_mm_work_len(m, k, d, CovKind::Full).unwrap()];
            let mut out = [
                vec![f64::NAN; k],
                vec![f64::NAN; k * d],
                vec![f64::NAN; k * d * d],
            ];
            let mut trace = vec![f64::NAN; opts.max_iter];
            let [w, mu, cov] = &mut out;
            let report = reduce(
                &input,
                &init,
                opts,
                screen,
                w,
                mu,
                cov,
                Some(&mut trace),
                &mut work,
            )
            .unwrap();
            let bits: Vec<Vec<u64>> = out
                .iter()
                .chain([&trace])
                .map(|v| v.iter().map(|x| x.to_bits()).collect())
                .collect();
            (report, bits)
        };
        let (a, b) = (run(Screen::Bounds), run(Screen::AllCosts));
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
    }

    #[test]
    fn screened_reduction_matches_computing_every_cost_bit_for_bit() {
        let mut rng = Rng::new(54);
        for &d in &[1, 2, 3, 5, 8, 13, 17, 24] {
            for &trim in &[0.0, 0.3] {
                // Clustered inputs (the screening prunes) and overlapping ones (it does not).
                for sd in [0.5, 4.0] {
                    let input = mixture(&mut rng, 30, d, &[-6.0, 0.0, 6.0], sd);
                    let init = mixture(&mut rng, 3, d, &[-6.0, 0.0, 6.0], sd);
                    let opts = ReduceOptions {
                        tol: 0.0,
                        max_iter: 8,
                        trim,
                        ..ReduceOptions::default()
                    };
                    assert_screening_exact(&input, &init, d, &opts);
                }
            }
            // Exact ties: every component twice, and two identical initial components.
            let [w, mu, cov] = mixture(&mut rng, 6, d, &[-3.0, 3.0], 1.0);
            let twice = |v: &Vec<f64>| [v.clone(), v.clone()].concat();
            let input = [
                w.iter()
                    .map(|x| x / 2.0)
                    .chain(w.iter().map(|x| x / 2.0))
                    .collect(),
                twice(&mu),
                twice(&cov),
            ];
            let init = [
                vec![0.25, 0.25, 0.5],
                [&mu[..d], &mu[..d], &mu[d..2 * d]].concat(),
                [&cov[..d * d], &cov[..d * d], &cov[d * d..2 * d * d]].concat(),
            ];
            assert_screening_exact(&input, &init, d, &ReduceOptions::default());
            assert_screening_exact(&input, &input, d, &ReduceOptions::default());
        }
    }

    #[test]
    fn screening_skips_far_components_and_keeps_the_minimum() {
        let mut rng = Rng::new(55);
        for &d in &[3, 10, 50] {
            let k = 6;
            let p = x_stride(d).unwrap();
            // Reduced components far apart; the input component near the third one.
            let centres: Vec<f64> = (0..k).map(|j| 40.0 * j as f64).collect();
            let [_, means, covs] = mixture(&mut rng, k, d, &centres, 0.1);
            let factors: Vec<f64> = covs
                .chunks_exact(d * d)
                .flat_map(|s| lower_factor(s, d))
                .collect();
            let mu0: Vec<f64> = means[2 * d..3 * d].iter().map(|v| v + 0.3).collect();
            let l0 = lower_factor(&random_spd(&mut rng, d, 0.0), d);
            let mut scratch = vec![f64::NAN; d * p + d];
            let spread: Vec<f64> = covs
                .chunks_exact(d * d)
                .zip(factors.chunks_exact(d * d))
                .map(|(s, l)| spread_bound(s, l, d, &mut scratch))
                .collect();
            let (mut row, mut bounds) = (vec![f64::NAN; k], vec![f64::NAN; k]);
            screened_costs(
                &mu0,
                &l0,
                &means,
                &factors,
                &spread,
                d,
                &mut row,
                &mut bounds,
                &mut scratch,
            )
            .unwrap();
            let all: Vec<f64> = (0..k)
                .map(|j| {
                    kl_from_factors(
                        &mu0,
                        &l0,
                        &means[j * d..(j + 1) * d],
                        &factors[j * d * d..(j + 1) * d * d],
                        d,
                        CovKind::Full,
                        &mut scratch,
                    )
                })
                .collect();
            assert_eq!(row[2].to_bits(), all[2].to_bits());
            assert!(all.iter().all(|&c| c >= all[2]));
            let computed = row.iter().filter(|v| v.is_finite()).count();
            assert_eq!(computed, 1, "d {d}: {row:?}");
        }
    }
}
