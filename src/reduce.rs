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
//! Costs: the input covariances are factored once per call, each reduced covariance once per
//! iteration; every C_ik then costs O(d^3 / 3) (full) or O(d) (diagonal) with the same
//! cancellation-free formula as [`crate::distance::kl_gaussian`].

use crate::distance::kl_from_factors;
use crate::gmm::{CovKind, Mixture};
use crate::linalg::{axpy, cholesky};
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
    /// X = L1^-1 L0 (full: d d; diagonal: d) and z = L1^-1 (m1 - m0) (d).
    scratch: usize,
    /// Trimming: the own costs e_i and their order (M each).
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
            scratch: checked_add(c, d)?,
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
            self.trimmed,
        ]
        .iter()
        .try_fold(self.input_factors, |acc, &n| checked_add(acc, n))
    }
}

/// Workspace length (doubles) of [`reduce_mm`] for M input components, K reduced components in
/// dimension d: M c + M K + K + K d + 2 K c + c + d + 2 M with c = d d (full) or d (diagonal).
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
/// `NotSpd` (an input, initial or
/// reduced covariance fails Cholesky), `NonFinite` (a cost, the objective or a moment match
/// overflows).
#[allow(clippy::too_many_arguments)]
pub fn reduce_mm(
    input: &Mixture,
    init: &Mixture,
    opts: &ReduceOptions,
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
    let (own, order) = rest[..layout.trimmed].split_at_mut(m);

    for i in 0..m {
        factor(input.cov(i), &mut in_f[i * c..(i + 1) * c], d, kind)?;
    }
    red_w.copy_from_slice(init.weights());
    for j in 0..k {
        red_mu[j * d..(j + 1) * d].copy_from_slice(init.mean(j));
        red_s[j * c..(j + 1) * c].copy_from_slice(init.cov(j));
    }

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
        for i in 0..m {
            let (mu0, l0) = (input.mean(i), &in_f[i * c..(i + 1) * c]);
            for j in 0..kk {
                let (l0_copy, z) = scratch.split_at_mut(c);
                l0_copy.copy_from_slice(l0);
                let cost = kl_from_factors(
                    mu0,
                    l0_copy,
                    &red_mu[j * d..(j + 1) * d],
                    &red_f[j * c..(j + 1) * c],
                    d,
                    kind,
                    &mut z[..d],
                );
                if !cost.is_finite() {
                    return Err(Status::NonFinite);
                }
                costs[i * kk + j] = cost;
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
    if lambda == 0.0 {
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
        objective += t * rest;
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
                *o = libm::sqrt(s);
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
    mean.fill(0.0);
    for i in 0..m {
        let l = pi[i * kk + j] / v;
        if l > 0.0 {
            axpy(l, input.mean(i), mean);
        }
    }
    cov.fill(0.0);
    for i in 0..m {
        let l = pi[i * kk + j] / v;
        if l.is_nan() || l <= 0.0 {
            continue;
        }
        for ((di, mi), mu) in diff.iter_mut().zip(input.mean(i)).zip(mean.iter()) {
            *di = mi - mu;
        }
        let s = input.cov(i);
        match kind {
            CovKind::Full => {
                for a in 0..d {
                    let da = diff[a];
                    let row = &mut cov[a * d..a * d + a + 1];
                    let s_row = &s[a * d..a * d + a + 1];
                    for ((cv, sv), db) in row.iter_mut().zip(s_row).zip(&diff[..a + 1]) {
                        *cv += l * (sv + da * db);
                    }
                }
            }
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
