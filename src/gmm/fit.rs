//! Local EM fit of a Gaussian mixture (full or diagonal covariances), scikit-learn's semantics.
//!
//! One iteration is an E-step at the current parameters (whose mean log-likelihood is the
//! iteration's trace value, sklearn's `lower_bound_`) followed by an M-step:
//! n_k = sum_i r_ik + 10 eps, mu_k = sum_i r_ik x_i / n_k,
//! S_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / n_k + reg_covar I (diagonal: the diagonal only),
//! w_k = n_k / sum_l n_l. The fit stops when the mean log-likelihood changes by less than `tol`
//! between two iterations (`converged`) or after `max_iter` iterations (still returned).
//!
//! The DFMR authors' penalized MLE replaces the covariance update by
//! S_k = (scatter_k + 2 a_n S_x) / (n_k + 2 a_n), a_n = 1 / sqrt(n), with S_x the sample
//! covariance of all the data (and reg_covar still added). The covariance prior
//! (`prior_samples` nu) is the same shrinkage with nu pseudo-samples: S_k = (scatter_k +
//! nu S_x) / (n_k + nu) (both together: nu + 2 a_n). Its point is a floor at the node's own
//! data scale: S_k >= nu / (n_k + nu) S_x >= nu / (n + nu) S_x, so a component fitted on a
//! single sample has S_k >= nu / (1 + nu) S_x instead of a variance of 1e-6 (the degenerate
//! fits that break a distributed round; [`GmmFitOptions::for_round`] sets nu = 1).
//!
//! Degenerate components are handled, never propagated as NaN: a component whose n_k falls
//! below [`MIN_COMPONENT_MASS`] (or `min_component_samples`, if larger) is reseeded (mean at a
//! data point drawn by the run's generator: k-means++'s, or one seeded with 0 for the other
//! starts; covariance S_x + reg_covar I; mass one sample before renormalizing), and a
//! covariance that fails its Cholesky factorization gets max(reg_covar, 1e-12 x its mean
//! variance, 1e-12 x the data's mean variance) added to its diagonal, ten times more at each of
//! up to 10 tries; both are counted in the report. A
//! component collapsed onto one point (scikit-learn's "ill-defined empirical covariance") is so
//! repaired at the data's scale, not at the smallest double. Data whose scale double precision
//! cannot fit (spread below 1e-150, magnitude above 1e150) is rejected with `DataScale`.

use super::density::{factored_len, pass_scratch_len, FactoredMixture};
use super::mixture::{CovKind, Mixture};
use crate::dispatch::{dim, dispatch_dim, with_avx2};
use crate::linalg::axpy;
use crate::rng::Rng;
use crate::status::{check_data_scale, checked_add, checked_mul, ensure_len};
use crate::Status;

/// Components with less mass than this (in samples) are reseeded.
pub const MIN_COMPONENT_MASS: f64 = 1e-8;

/// Tolerance on the sums of a start's weights and of its responsibility rows: |sum - 1| <= 1e-6
/// (values stored in single precision are off by about K x 6e-8); a start within it is divided
/// by its sum.
pub const START_SUM_TOL: f64 = 1e-6;

/// Where each EM run starts.
#[derive(Clone, Copy, Debug)]
pub enum GmmInit<'a> {
    /// k-means++ seeding from a seed, then `kmeans_iter` Lloyd iterations; the hard labels give
    /// the first M-step. Restart r uses seed `seed + r`.
    KMeansPlusPlus {
        /// The generator's seed.
        seed: u64,
    },
    /// The caller's parameters (with the fit's K, d and covariance kind).
    Params(Mixture<'a>),
    /// Some of the parameters (scikit-learn's `weights_init`, `means_init`, `precisions_init`):
    /// the start is the k-means++ start from `seed` (its first M-step), with each given part in
    /// place of the estimated one. Given weights (K, >= 0, summing to 1 within
    /// [`START_SUM_TOL`], renormalized), means (K d) and covariances (K cov_len(d), symmetric
    /// positive definite); all three given is [`GmmInit::Params`] with the looser weight
    /// tolerance.
    Partial {
        /// The k-means++ seed for the parts not given (restart r uses `seed + r`).
        seed: u64,
        /// K weights, or `None` for the estimated ones.
        weights: Option<&'a [f64]>,
        /// K d means, or `None`.
        means: Option<&'a [f64]>,
        /// K cov_len(d) covariances, or `None`.
        covs: Option<&'a [f64]>,
    },
    /// The caller's responsibilities, n x K row-major, rows non-negative summing to 1 (within
    /// [`START_SUM_TOL`], renormalized); the first M-step uses them.
    Responsibilities(&'a [f64]),
}

/// Options of [`gmm_fit`].
#[derive(Clone, Copy, Debug)]
pub struct GmmFitOptions {
    /// Full or diagonal covariances.
    pub kind: CovKind,
    /// Added to every covariance's diagonal (>= 0); sklearn's default 1e-6.
    pub reg_covar: f64,
    /// Stop when the mean log-likelihood changes by less than tol (>= 0; 0: run to the cap).
    pub tol: f64,
    /// Iteration cap; 0 returns the start itself (after its first M-step for a k-means++ or
    /// responsibilities start).
    pub max_iter: usize,
    /// Restarts keeping the best final log-likelihood (>= 1; only k-means++ starts differ).
    pub n_init: usize,
    /// Lloyd iterations after k-means++ seeding.
    pub kmeans_iter: usize,
    /// The DFMR authors' penalized covariance update.
    pub penalized: bool,
    /// The covariance prior's strength, in samples (>= 0 and finite; 0: none): every covariance
    /// update adds `prior_samples` S_x to its scatter and to its mass,
    /// S_k = (scatter_k + nu S_x) / (n_k + nu), so no covariance falls below nu / (n + nu) S_x,
    /// a floor at the node's own data scale (see the module docs). Adds to the pMLE's 2 / sqrt(n).
    pub prior_samples: f64,
    /// A component whose mass n_k falls below this many samples is reseeded (>= 0 and finite;
    /// below [`MIN_COMPONENT_MASS`] it is that constant).
    pub min_component_samples: f64,
    /// A warm start's previous mean log-likelihood (scikit-learn's `lower_bound_`): the first
    /// iteration's convergence test compares with it, so convergence is judged across calls.
    /// Not finite (the default, -inf): no previous value.
    pub previous_lower_bound: f64,
}

impl Default for GmmFitOptions {
    /// Full covariances, reg_covar 1e-6, tol 1e-3, max_iter 100, n_init 1, 10 Lloyd iterations,
    /// no penalty (scikit-learn's defaults).
    fn default() -> Self {
        GmmFitOptions {
            kind: CovKind::Full,
            reg_covar: 1e-6,
            tol: 1e-3,
            max_iter: 100,
            n_init: 1,
            kmeans_iter: 10,
            penalized: false,
            prior_samples: 0.0,
            min_component_samples: 0.0,
            previous_lower_bound: f64::NEG_INFINITY,
        }
    }
}

impl GmmFitOptions {
    /// The local fit of an edge node in a distributed round: full covariances, the covariance
    /// prior of one sample (`prior_samples` 1: no covariance below S_x / (n + 1), a
    /// one-sample component at S_x / 2), components kept at one sample or more
    /// (`min_component_samples` 1), 3 restarts, tol 1e-6, max_iter 500, reg_covar 1e-6.
    /// Its estimates pass the centre's default screening ([`crate::robust::Screening`]).
    pub fn for_round() -> Self {
        GmmFitOptions {
            tol: 1e-6,
            max_iter: 500,
            n_init: 3,
            prior_samples: 1.0,
            min_component_samples: 1.0,
            ..GmmFitOptions::default()
        }
    }
}

/// What a fit did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GmmFitReport {
    /// Log-likelihood sum_i log f(x_i) of the returned parameters.
    pub log_likelihood: f64,
    /// The same divided by n.
    pub mean_log_likelihood: f64,
    /// EM iterations of the returned run.
    pub iterations: usize,
    /// Whether that run met the tolerance before the cap.
    pub converged: bool,
    /// Components reseeded after emptying, over all iterations of the returned run.
    pub reseeded: usize,
    /// Covariances whose regularization had to be raised to factor them, same count.
    pub regularized: usize,
    /// Which restart (0-based) was returned.
    pub best_restart: usize,
    /// The covariance prior applied, in samples: `prior_samples`, plus 2 / sqrt(n) when
    /// `penalized` (0: plain EM).
    pub prior_samples: f64,
}

/// The parameter block of one mixture inside the workspace: weights, means, covariances.
fn params_len(k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    checked_add(
        checked_add(k, checked_mul(k, d)?)?,
        checked_mul(k, kind.cov_len(d)?)?,
    )
}

/// Workspace (doubles) of [`gmm_fit`]: responsibilities n K, the factored mixture, one pass's
/// scratch, two parameter blocks (current and best), the sample covariance, n distances for
/// k-means++ and 4 d for centred samples. `SizeOverflow` if that overflows.
pub fn gmm_fit_work_len(n: usize, k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    let mut len = checked_mul(n, k)?;
    len = checked_add(len, factored_len(k, d, kind)?)?;
    len = checked_add(len, pass_scratch_len(k, d)?)?;
    len = checked_add(len, checked_mul(2, params_len(k, d, kind)?)?)?;
    len = checked_add(len, kind.cov_len(d)?)?;
    checked_add(checked_add(len, n)?, checked_mul(4, d)?)
}

/// Mutable views of one parameter block.
struct Params<'a> {
    weights: &'a mut [f64],
    means: &'a mut [f64],
    covs: &'a mut [f64],
}

fn split_params(block: &mut [f64], k: usize, d: usize, cov_len: usize) -> Params<'_> {
    let (weights, rest) = block.split_at_mut(k);
    let (means, rest) = rest.split_at_mut(k * d);
    Params {
        weights,
        means,
        covs: &mut rest[..k * cov_len],
    }
}

/// The optional per-sample outputs of [`gmm_fit`], at the returned parameters.
#[derive(Debug, Default)]
pub struct GmmFitOutputs<'a> {
    /// n x K responsibilities (posterior probabilities, not multiplied by sample weights).
    pub responsibilities: Option<&'a mut [f64]>,
    /// n hard labels: the argmax of each responsibility row, lowest index on ties.
    pub labels: Option<&'a mut [usize]>,
    /// At least max_iter values: the mean log-likelihood at the start of each iteration of the
    /// returned run (non-decreasing up to rounding); entries past its iterations are unspecified.
    pub trace: Option<&'a mut [f64]>,
}

/// Fits a K-component mixture to the n samples `x` (n x d, row-major) by EM, with `opts.n_init`
/// runs keeping the one of largest final log-likelihood, and writes its parameters to
/// `weights_out[..K]`, `means_out[..K d]`, `covs_out[..K cov_len(d)]`, and the optional
/// `outputs` (responsibilities, labels, trace of the returned run). `work` has length
/// [`gmm_fit_work_len`]`(n, K, d, kind)`.
///
/// Errors, with the outputs untouched (the trace may have been written): `ZeroSize` (n, K or d
/// zero), `SizeOverflow`, `BufferTooShort`, `TooFewSamples` (n < K), `DataScale` (every
/// coordinate's range below 1e-150, not all 0, or a magnitude above 1e150), `BadParameter`
/// (reg_covar or tol negative or NaN, prior_samples or min_component_samples negative or not
/// finite, n_init zero, given parameters of another K, d or kind),
/// `SampleWeights` (sample weights negative or summing to 0), `NonFinite` (NaN or infinity in
/// x, the sample weights or the given start, or a log-likelihood that is not finite), `Weights`
/// (start weights or responsibility rows negative or not summing to 1), `NotSpd` (a given
/// covariance that is not positive definite, or a covariance the fit computed that cannot be
/// factored even with the raised regularization).
#[allow(clippy::too_many_arguments)]
pub fn gmm_fit(
    x: &[f64],
    n: usize,
    d: usize,
    k: usize,
    opts: &GmmFitOptions,
    init: GmmInit,
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    sample_weights: Option<&[f64]>,
    outputs: GmmFitOutputs,
    work: &mut [f64],
) -> Result<GmmFitReport, Status> {
    if n == 0 || k == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    let kind = opts.kind;
    let cov_len = kind.cov_len(d)?;
    let len_x = checked_mul(n, d)?;
    ensure_len(x.len(), len_x)?;
    let x = &x[..len_x];
    if n < k {
        return Err(Status::TooFewSamples);
    }
    let reg_ok = opts.reg_covar >= 0.0 && opts.reg_covar.is_finite();
    let tol_ok = opts.tol >= 0.0;
    let prior_ok = opts.prior_samples >= 0.0
        && opts.prior_samples.is_finite()
        && opts.min_component_samples >= 0.0
        && opts.min_component_samples.is_finite();
    if !reg_ok || !tol_ok || !prior_ok || opts.n_init == 0 {
        return Err(Status::BadParameter);
    }
    let len_resp = checked_mul(n, k)?;
    ensure_len(weights_out.len(), k)?;
    ensure_len(means_out.len(), checked_mul(k, d)?)?;
    ensure_len(covs_out.len(), checked_mul(k, cov_len)?)?;
    let GmmFitOutputs {
        responsibilities: resp_out,
        labels: labels_out,
        mut trace,
    } = outputs;
    if let Some(t) = trace.as_deref() {
        ensure_len(t.len(), opts.max_iter)?;
    }
    if let Some(r) = resp_out.as_deref() {
        ensure_len(r.len(), len_resp)?;
    }
    if let Some(l) = labels_out.as_deref() {
        ensure_len(l.len(), n)?;
    }
    ensure_len(work.len(), gmm_fit_work_len(n, k, d, kind)?)?;
    if !x.iter().all(|v| v.is_finite()) {
        return Err(Status::NonFinite);
    }
    check_data_scale(x, d)?;
    match init {
        GmmInit::Params(mix) => {
            if (mix.n_components(), mix.dim(), mix.cov_kind()) != (k, d, kind) {
                return Err(Status::BadParameter);
            }
        }
        GmmInit::Partial {
            weights,
            means,
            covs,
            ..
        } => check_partial_start(weights, means, covs, k, d, cov_len)?,
        GmmInit::Responsibilities(resp) => check_responsibilities(resp, n, k)?,
        GmmInit::KMeansPlusPlus { .. } => {}
    }
    let sample_weights = match sample_weights {
        Some(w) => Some(check_sample_weights(w, n)?),
        None => None,
    };

    let plen = params_len(k, d, kind)?;
    let (resp, rest) = work.split_at_mut(len_resp);
    let (factored, rest) = rest.split_at_mut(factored_len(k, d, kind)?);
    let (scratch, rest) = rest.split_at_mut(pass_scratch_len(k, d)?);
    let (current, rest) = rest.split_at_mut(plen);
    let (best, rest) = rest.split_at_mut(plen);
    let (sample_cov, rest) = rest.split_at_mut(cov_len);
    if let GmmInit::Params(mix) = init {
        // A given start must be positive definite as given (the fit only regularizes covariances
        // it computed itself).
        FactoredMixture::new(&mix, factored)?;
    }
    let (distances, rest) = rest.split_at_mut(n);
    let centred = &mut rest[..4 * d];
    sample_covariance(x, n, d, kind, sample_cov, &mut centred[..d]);

    let mut em = Em {
        x,
        n,
        d,
        k,
        kind,
        opts,
        init,
        sample_weights,
        resp,
        factored,
        scratch,
        sample_cov,
        distances,
        centred,
    };
    // Only starts that draw k-means++ seeds differ between runs.
    let runs = match init {
        GmmInit::KMeansPlusPlus { .. } => opts.n_init,
        GmmInit::Partial {
            weights: Some(_),
            means: Some(_),
            covs: Some(_),
            ..
        } => 1,
        GmmInit::Partial { .. } => opts.n_init,
        _ => 1,
    };
    let mut best_report: Option<GmmFitReport> = None;
    for run in 0..runs {
        let report = em.run(run, current, trace.as_deref_mut())?;
        // The mean, not the total: the total of tiny sample weights can underflow to a tie.
        if best_report.is_none_or(|b| report.mean_log_likelihood > b.mean_log_likelihood) {
            best_report = Some(report);
            best.copy_from_slice(current);
        }
    }
    let report = best_report.ok_or(Status::BadParameter)?;
    if report.best_restart + 1 != runs {
        if let Some(t) = trace {
            // Runs are deterministic: rerunning the returned one rewrites its trace.
            em.run(report.best_restart, current, Some(t))?;
        }
    }
    let p = split_params(best, k, d, cov_len);
    if resp_out.is_some() || labels_out.is_some() {
        let fm = factored_mixture(&p, k, d, kind, em.factored)?;
        fm.responsibilities(x, n, em.resp, em.scratch)?;
        if let Some(out) = resp_out {
            out[..len_resp].copy_from_slice(em.resp);
        }
        if let Some(labels) = labels_out {
            for (label, row) in labels.iter_mut().zip(em.resp.chunks_exact(k)) {
                *label = argmax(row);
            }
        }
    }
    weights_out[..k].copy_from_slice(p.weights);
    means_out[..k * d].copy_from_slice(p.means);
    covs_out[..k * cov_len].copy_from_slice(p.covs);
    Ok(report)
}

/// The index of the largest value, the lowest on ties.
fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// One EM fit's data, options and scratch, shared by its runs.
struct Em<'a, 'w> {
    x: &'a [f64],
    n: usize,
    d: usize,
    k: usize,
    kind: CovKind,
    opts: &'a GmmFitOptions,
    init: GmmInit<'a>,
    sample_weights: Option<SampleWeights<'a>>,
    resp: &'w mut [f64],
    factored: &'w mut [f64],
    scratch: &'w mut [f64],
    sample_cov: &'w mut [f64],
    distances: &'w mut [f64],
    centred: &'w mut [f64],
}

impl Em<'_, '_> {
    /// Run `run` (restart index) from its start; leaves its parameters in `current`.
    fn run(
        &mut self,
        run: usize,
        current: &mut [f64],
        mut trace: Option<&mut [f64]>,
    ) -> Result<GmmFitReport, Status> {
        let (x, n, d, k, kind, opts) = (self.x, self.n, self.d, self.k, self.kind, self.opts);
        let cov_len = kind.cov_len(d)?;
        let sample_weights = self.sample_weights;
        // In the weights' own scale (the largest 1): the mean log-likelihood is scale-free.
        let total_weight = sample_weights.map_or(n as f64, |sw| (0..n).map(|i| sw.at(i)).sum());
        let mut rng = Rng::new(match self.init {
            GmmInit::KMeansPlusPlus { seed } | GmmInit::Partial { seed, .. } => {
                seed.wrapping_add(run as u64)
            }
            _ => 0,
        });
        let mut p = split_params(current, k, d, cov_len);
        let mut counts = (0usize, 0usize);
        // 1e-12 of the data's mean variance: the scale at which a collapsed component is repaired.
        let floor = 1e-12 * (0..d).map(|a| self.data_variance(a)).sum::<f64>() / d as f64;
        match self.init {
            GmmInit::Params(mix) => {
                p.weights.copy_from_slice(mix.weights());
                for c in 0..k {
                    p.means[c * d..(c + 1) * d].copy_from_slice(mix.mean(c));
                    p.covs[c * cov_len..(c + 1) * cov_len].copy_from_slice(mix.cov(c));
                }
            }
            GmmInit::Responsibilities(given) => {
                self.resp.copy_from_slice(&given[..n * k]);
                for row in self.resp.chunks_exact_mut(k) {
                    normalize(row);
                }
                weigh_rows(self.resp, k, sample_weights);
                counts.0 += self.m_step(&mut p, &mut rng);
            }
            GmmInit::KMeansPlusPlus { .. } => {
                self.kmeans_start(&mut p, &mut rng);
                counts.0 += self.m_step(&mut p, &mut rng);
            }
            GmmInit::Partial {
                weights,
                means,
                covs,
                ..
            } => {
                if weights.is_none() || means.is_none() || covs.is_none() {
                    self.kmeans_start(&mut p, &mut rng);
                    counts.0 += self.m_step(&mut p, &mut rng);
                }
                if let Some(w) = weights {
                    p.weights.copy_from_slice(&w[..k]);
                    normalize(p.weights);
                }
                if let Some(mu) = means {
                    p.means.copy_from_slice(&mu[..k * d]);
                }
                if let Some(s) = covs {
                    p.covs.copy_from_slice(&s[..k * cov_len]);
                    // Given covariances must be positive definite as given.
                    factored_mixture(&p, k, d, kind, self.factored)?;
                }
            }
        }
        let mut iterations = 0;
        let mut converged = false;
        let mut previous = opts.previous_lower_bound;
        for t in 0..opts.max_iter {
            counts.1 +=
                repair_covariances(&mut p, k, d, kind, opts.reg_covar, floor, self.factored)?;
            let fm = factored_mixture(&p, k, d, kind, self.factored)?;
            let mut ll = fm.e_step(x, n, self.resp, self.scratch)?;
            if let Some(sw) = sample_weights {
                ll = weighted_log_likelihood(&fm, x, n, sw, self.distances, self.scratch)?;
                weigh_rows(self.resp, k, sample_weights);
            }
            let mean_ll = ll / total_weight;
            if let Some(tr) = trace.as_deref_mut() {
                tr[t] = mean_ll;
            }
            counts.0 += self.m_step(&mut p, &mut rng);
            iterations = t + 1;
            if libm::fabs(mean_ll - previous) < opts.tol {
                converged = true;
                break;
            }
            previous = mean_ll;
        }
        counts.1 += repair_covariances(&mut p, k, d, kind, opts.reg_covar, floor, self.factored)?;
        let fm = factored_mixture(&p, k, d, kind, self.factored)?;
        let ll = match sample_weights {
            Some(sw) => weighted_log_likelihood(&fm, x, n, sw, self.distances, self.scratch)?,
            None => fm.log_likelihood(x, n, self.scratch)?,
        };
        // Back to the caller's scale: sum_i w_i log f(x_i).
        let total = ll * sample_weights.map_or(1.0, |sw| sw.max);
        if !total.is_finite() {
            return Err(Status::NonFinite);
        }
        Ok(GmmFitReport {
            log_likelihood: total,
            mean_log_likelihood: ll / total_weight,
            iterations,
            converged,
            reseeded: counts.0,
            regularized: counts.1,
            best_restart: run,
            prior_samples: prior_samples(opts, n),
        })
    }

    /// The sample variance of coordinate a.
    fn data_variance(&self, a: usize) -> f64 {
        self.sample_cov[self.kind.variance_index(self.d, a)]
    }

    /// k-means++ seeding and Lloyd iterations; hard labels as responsibilities in `resp`.
    fn kmeans_start(&mut self, p: &mut Params, rng: &mut Rng) {
        let (x, n, d, k) = (self.x, self.n, self.d, self.k);
        let kmeans_iter = self.opts.kmeans_iter;
        kmeans_labels(x, n, d, k, kmeans_iter, rng, p, self.distances, self.resp);
    }

    /// The M-step from `resp`; returns how many components were reseeded.
    fn m_step(&mut self, p: &mut Params, rng: &mut Rng) -> usize {
        m_step(
            self.x,
            self.n,
            self.d,
            self.k,
            self.kind,
            self.opts,
            self.resp,
            self.sample_cov,
            self.centred,
            p,
            rng,
        )
    }
}

/// Divides the values by their sum (a start within [`START_SUM_TOL`] of summing to 1).
fn normalize(values: &mut [f64]) {
    let sum: f64 = values.iter().sum();
    values.iter_mut().for_each(|v| *v /= sum);
}

/// Checks a partial start's lengths, finiteness and weights (covariances are factored when the
/// start is assembled).
fn check_partial_start(
    weights: Option<&[f64]>,
    means: Option<&[f64]>,
    covs: Option<&[f64]>,
    k: usize,
    d: usize,
    cov_len: usize,
) -> Result<(), Status> {
    let parts = [
        (weights, k),
        (means, checked_mul(k, d)?),
        (covs, checked_mul(k, cov_len)?),
    ];
    for (part, len) in parts {
        if let Some(values) = part {
            ensure_len(values.len(), len)?;
            if !values[..len].iter().all(|v| v.is_finite()) {
                return Err(Status::NonFinite);
            }
        }
    }
    if let Some(w) = weights {
        check_sums_to_one(&w[..k])?;
    }
    Ok(())
}

/// `Weights` unless the values are non-negative and sum to 1 within [`START_SUM_TOL`].
fn check_sums_to_one(values: &[f64]) -> Result<(), Status> {
    let sum: f64 = values.iter().sum();
    // The values are finite, so the sum is a number (+inf at worst, rejected here too).
    if values.iter().any(|&v| v < 0.0) || libm::fabs(sum - 1.0) > START_SUM_TOL {
        return Err(Status::Weights);
    }
    Ok(())
}

/// The factored form of the current parameters, in `storage`.
fn factored_mixture<'w>(
    p: &Params,
    k: usize,
    d: usize,
    kind: CovKind,
    storage: &'w mut [f64],
) -> Result<FactoredMixture<'w>, Status> {
    let mix = Mixture::new(p.weights, p.means, p.covs, k, d, kind)?;
    FactoredMixture::new(&mix, storage)
}

/// Makes every covariance factorizable: one that fails Cholesky (or has a non-positive
/// variance, or one below `data_floor`) gets `max(reg_covar, 1e-12 * its mean variance, data_floor)` times 10^j added to
/// its diagonal, j = 0..=9, until it factors, where `data_floor` is 1e-12 times the data's mean
/// variance: a component collapsed onto a point (variance 0 with reg_covar 0) is repaired at the
/// data's scale, not at 2.2e-308, and counted. Returns how many were raised; `NotSpd` if one
/// never factors, or if there is no scale to repair it at (every sample identical, reg_covar 0).
/// `scratch` holds at least d * d doubles.
fn repair_covariances(
    p: &mut Params,
    k: usize,
    d: usize,
    kind: CovKind,
    reg_covar: f64,
    data_floor: f64,
    scratch: &mut [f64],
) -> Result<usize, Status> {
    let cov_len = p.covs.len() / k;
    let mut raised = 0;
    for cov in p.covs.chunks_exact_mut(cov_len) {
        let diagonal = |cov: &[f64], a: usize| match kind {
            CovKind::Full => cov[a * d + a],
            CovKind::Diag => cov[a],
        };
        let mean_variance = (0..d).map(|a| diagonal(cov, a)).sum::<f64>() / d as f64;
        let mut bump = reg_covar
            .max(1e-12 * libm::fabs(mean_variance))
            .max(data_floor);
        // A variance below the data floor is a component collapsed onto a point, even when it
        // factors (a diagonal one of 1e-30 does): it is repaired too.
        let collapsed = |cov: &[f64]| (0..d).any(|a| diagonal(cov, a) < data_floor);
        let mut attempts = 0;
        while collapsed(cov) || !factorizes(cov, d, kind, scratch) {
            if attempts == 10 || bump <= 0.0 {
                return Err(Status::NotSpd);
            }
            for a in 0..d {
                match kind {
                    CovKind::Full => cov[a * d + a] += bump,
                    CovKind::Diag => cov[a] += bump,
                }
            }
            bump *= 10.0;
            attempts += 1;
        }
        raised += usize::from(attempts > 0);
    }
    Ok(raised)
}

/// Whether a covariance is usable: finite with positive variances, and (full) factors.
fn factorizes(cov: &[f64], d: usize, kind: CovKind, scratch: &mut [f64]) -> bool {
    match kind {
        CovKind::Diag => cov.iter().all(|&v| v > 0.0 && v.is_finite()),
        CovKind::Full => {
            let s = &mut scratch[..d * d];
            s.copy_from_slice(&cov[..d * d]);
            crate::linalg::cholesky(s, d).is_ok()
        }
    }
}

/// Sample weights as the fit uses them: divided by the largest, so that their scale (1e-300 or
/// 1e300) changes nothing, neither the sklearn-style `+ 10 eps` of each component's mass nor a
/// sum that would underflow or overflow. Uniform weights of any scale become exactly 1.
#[derive(Clone, Copy, Debug)]
struct SampleWeights<'a> {
    w: &'a [f64],
    max: f64,
}

impl SampleWeights<'_> {
    /// w_i / max, in (0, 1].
    fn at(&self, i: usize) -> f64 {
        self.w[i] / self.max
    }
}

/// The first n sample weights when they are finite (`NonFinite`), non-negative and not all 0
/// (`SampleWeights`); `BufferTooShort` when fewer than n.
fn check_sample_weights(w: &[f64], n: usize) -> Result<SampleWeights<'_>, Status> {
    ensure_len(w.len(), n)?;
    let w = &w[..n];
    if !w.iter().all(|v| v.is_finite()) {
        return Err(Status::NonFinite);
    }
    let max = w.iter().fold(0.0_f64, |m, &v| m.max(v));
    if w.iter().any(|&v| v < 0.0) || max <= 0.0 {
        return Err(Status::SampleWeights);
    }
    Ok(SampleWeights { w, max })
}

/// Multiplies row i of `resp` (n x K) by the scaled sample weight w_i / max (nothing without
/// weights).
fn weigh_rows(resp: &mut [f64], k: usize, sample_weights: Option<SampleWeights>) {
    if let Some(sw) = sample_weights {
        for (i, row) in resp.chunks_exact_mut(k).enumerate() {
            let wi = sw.at(i);
            row.iter_mut().for_each(|r| *r *= wi);
        }
    }
}

/// sum_i (w_i / max) log f(x_i), with `log_f` (n doubles) as scratch for the per-sample values.
fn weighted_log_likelihood(
    fm: &FactoredMixture,
    x: &[f64],
    n: usize,
    sw: SampleWeights,
    log_f: &mut [f64],
    scratch: &mut [f64],
) -> Result<f64, Status> {
    fm.log_density(x, n, log_f, scratch)?;
    let total: f64 = log_f.iter().enumerate().map(|(i, l)| sw.at(i) * l).sum();
    if total.is_finite() {
        Ok(total)
    } else {
        Err(Status::NonFinite)
    }
}

/// `Ok` when `resp` holds n rows of K finite (`NonFinite`), non-negative values summing to 1
/// within [`START_SUM_TOL`] (`Weights`).
fn check_responsibilities(resp: &[f64], n: usize, k: usize) -> Result<(), Status> {
    let len = checked_mul(n, k)?;
    ensure_len(resp.len(), len)?;
    if !resp[..len].iter().all(|v| v.is_finite()) {
        return Err(Status::NonFinite);
    }
    resp[..len].chunks_exact(k).try_for_each(check_sums_to_one)
}

/// The sample covariance of all the data, (1/n) sum (x_i - xbar)(x_i - xbar)^T (diagonal: its
/// diagonal), into `out`; `mean` (d doubles) is scratch.
fn sample_covariance(
    x: &[f64],
    n: usize,
    d: usize,
    kind: CovKind,
    out: &mut [f64],
    mean: &mut [f64],
) {
    mean.fill(0.0);
    for row in x.chunks_exact(d) {
        axpy(1.0 / n as f64, row, mean);
    }
    out.fill(0.0);
    for row in x.chunks_exact(d) {
        add_scatter(out, row, mean, 1.0 / n as f64, d, kind);
    }
    mirror_upper(out, d, kind);
}

/// `out += w (x - mu)(x - mu)^T`: the upper triangle (full) or the diagonal (diag).
#[inline]
fn add_scatter(out: &mut [f64], x: &[f64], mu: &[f64], w: f64, d: usize, kind: CovKind) {
    match kind {
        CovKind::Diag => {
            for ((o, &xa), &ma) in out.iter_mut().zip(x).zip(mu) {
                *o += w * (xa - ma) * (xa - ma);
            }
        }
        CovKind::Full => {
            for a in 0..d {
                let wa = w * (x[a] - mu[a]);
                for ((o, &xb), &mb) in out[a * d + a..(a + 1) * d]
                    .iter_mut()
                    .zip(&x[a..])
                    .zip(&mu[a..])
                {
                    *o += wa * (xb - mb);
                }
            }
        }
    }
}

/// Overwrites the upper triangle of `cov` (d x d) with sum_i r_ic (x_i - mu)(x_i - mu)^T over the
/// n rows of `x`, r_ic = `resp[i*k + c]`; the strict lower triangle is left as it was.
/// Four samples at a time, so each entry is loaded and stored once per four samples;
/// `centred` (4 d doubles) holds their centred rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weighted_scatter_full_portable<const D: usize>(
    x: &[f64],
    resp: &[f64],
    k: usize,
    c: usize,
    mean: &[f64],
    d: usize,
    cov: &mut [f64],
    centred: &mut [f64],
) {
    let d = dim::<D>(d);
    let mean = &mean[..d];
    let cov = &mut cov[..d * d];
    for a in 0..d {
        cov[a * d + a..(a + 1) * d].fill(0.0);
    }
    let centred = &mut centred[..4 * d];
    let mut rows = x.chunks_exact(4 * d);
    let mut weights = resp.chunks_exact(4 * k);
    for (quad, r) in (&mut rows).zip(&mut weights) {
        for (v, (&xv, &m)) in centred.iter_mut().zip(quad.iter().zip(mean.iter().cycle())) {
            *v = xv - m;
        }
        let w = [r[c], r[k + c], r[2 * k + c], r[3 * k + c]];
        let (v0, rest) = centred.split_at(d);
        let (v1, rest) = rest.split_at(d);
        let (v2, v3) = rest.split_at(d);
        for a in 0..d {
            let (u0, u1, u2, u3) = (w[0] * v0[a], w[1] * v1[a], w[2] * v2[a], w[3] * v3[a]);
            let cols = v0[a..].iter().zip(&v1[a..]).zip(&v2[a..]).zip(&v3[a..]);
            for (g, (((b0, b1), b2), b3)) in cov[a * d + a..(a + 1) * d].iter_mut().zip(cols) {
                *g += (u0 * b0 + u1 * b1) + (u2 * b2 + u3 * b3);
            }
        }
    }
    for (row, r) in rows
        .remainder()
        .chunks_exact(d)
        .zip(weights.remainder().chunks_exact(k))
    {
        add_scatter(cov, row, mean, r[c], d, CovKind::Full);
    }
}

with_avx2! {
    /// [`weighted_scatter_full_portable`], for the best instruction set the CPU has.
    fn weighted_scatter_full = weighted_scatter_full_portable(
        x: &[f64], resp: &[f64], k: usize, c: usize, mean: &[f64], d: usize, cov: &mut [f64],
        centred: &mut [f64],
    )
}

/// Copies the upper triangle of a full d x d matrix to its lower triangle (nothing for diag).
fn mirror_upper(m: &mut [f64], d: usize, kind: CovKind) {
    if kind == CovKind::Full {
        for a in 0..d {
            for b in a + 1..d {
                m[b * d + a] = m[a * d + b];
            }
        }
    }
}

/// The M-step from the responsibilities (see the module docs). Returns how many components were
/// reseeded because their mass fell below [`MIN_COMPONENT_MASS`].
#[allow(clippy::too_many_arguments)]
fn m_step(
    x: &[f64],
    n: usize,
    d: usize,
    k: usize,
    kind: CovKind,
    opts: &GmmFitOptions,
    resp: &[f64],
    sample_cov: &[f64],
    centred: &mut [f64],
    p: &mut Params,
    rng: &mut Rng,
) -> usize {
    let cov_len = sample_cov.len();
    // n_k (sklearn adds 10 eps so that no n_k is exactly 0) and the weighted sums of x.
    let nk = &mut *p.weights;
    nk.fill(10.0 * f64::EPSILON);
    p.means.fill(0.0);
    for (row, r) in x.chunks_exact(d).zip(resp.chunks_exact(k)) {
        for (c, &rc) in r.iter().enumerate() {
            nk[c] += rc;
            axpy(rc, row, &mut p.means[c * d..(c + 1) * d]);
        }
    }
    let mut reseeded = 0;
    let penalty = prior_samples(opts, n);
    let min_mass = opts.min_component_samples.max(MIN_COMPONENT_MASS);
    for c in 0..k {
        let mean = &mut p.means[c * d..(c + 1) * d];
        let cov = &mut p.covs[c * cov_len..(c + 1) * cov_len];
        if nk[c] < min_mass {
            // An empty component: restart it at a data point with the data's covariance.
            let i = rng.below(n as u64) as usize;
            mean.copy_from_slice(&x[i * d..(i + 1) * d]);
            cov.copy_from_slice(sample_cov);
            add_to_diagonal(cov, d, kind, opts.reg_covar);
            nk[c] = 1.0;
            reseeded += 1;
            continue;
        }
        for m in mean.iter_mut() {
            *m /= nk[c];
        }
        match kind {
            CovKind::Full => {
                dispatch_dim!(
                    d,
                    weighted_scatter_full(x, resp, k, c, mean, d, cov, centred)
                )
            }
            CovKind::Diag => {
                cov.fill(0.0);
                for (row, r) in x.chunks_exact(d).zip(resp.chunks_exact(k)) {
                    add_scatter(cov, row, mean, r[c], d, kind);
                }
            }
        }
        mirror_upper(cov, d, kind);
        let denominator = nk[c] + penalty;
        for (v, &s) in cov.iter_mut().zip(sample_cov) {
            *v = (*v + penalty * s) / denominator;
        }
        add_to_diagonal(cov, d, kind, opts.reg_covar);
    }
    let total: f64 = nk.iter().sum();
    for w in nk.iter_mut() {
        *w /= total;
    }
    reseeded
}

/// The covariance prior's pseudo-samples for n samples: `prior_samples` plus the pMLE's
/// 2 / sqrt(n) when `penalized`.
fn prior_samples(opts: &GmmFitOptions, n: usize) -> f64 {
    let pmle = if opts.penalized {
        2.0 / crate::special::sqrt(n as f64)
    } else {
        0.0
    };
    opts.prior_samples + pmle
}

/// Adds `v` to the diagonal of a covariance (full or diag).
fn add_to_diagonal(cov: &mut [f64], d: usize, kind: CovKind, v: f64) {
    (0..d).for_each(|a| cov[kind.variance_index(d, a)] += v);
}

/// Squared Euclidean distance.
#[inline]
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// k-means++ seeding then `iterations` Lloyd iterations; writes the final hard assignment as
/// one-hot rows of `resp` (n x K). `p.means` holds the centres, `p.weights` the cluster sizes
/// (scratch); `dist` (n) is scratch.
#[allow(clippy::too_many_arguments)]
fn kmeans_labels(
    x: &[f64],
    n: usize,
    d: usize,
    k: usize,
    iterations: usize,
    rng: &mut Rng,
    p: &mut Params,
    dist: &mut [f64],
    resp: &mut [f64],
) {
    let centers = &mut *p.means;
    let first = rng.below(n as u64) as usize;
    centers[..d].copy_from_slice(&x[first * d..(first + 1) * d]);
    for (dv, row) in dist.iter_mut().zip(x.chunks_exact(d)) {
        *dv = squared_distance(row, &centers[..d]);
    }
    for c in 1..k {
        let total: f64 = dist.iter().sum();
        let pick = if total > 0.0 {
            // The first sample where the cumulative D^2 passes a uniform fraction of the total.
            let target = rng.uniform() * total;
            let mut acc = 0.0;
            dist.iter()
                .position(|&dv| {
                    acc += dv;
                    acc > target
                })
                .unwrap_or(n - 1)
        } else {
            rng.below(n as u64) as usize
        };
        centers[c * d..(c + 1) * d].copy_from_slice(&x[pick * d..(pick + 1) * d]);
        for (dv, row) in dist.iter_mut().zip(x.chunks_exact(d)) {
            let dc = squared_distance(row, &centers[c * d..(c + 1) * d]);
            if dc < *dv {
                *dv = dc;
            }
        }
    }
    for it in 0..=iterations {
        // Assignment (lowest index on ties), as one-hot rows.
        for (row, r) in x.chunks_exact(d).zip(resp.chunks_exact_mut(k)) {
            let mut best = (0, f64::INFINITY);
            for (c, center) in centers.chunks_exact(d).enumerate() {
                let dc = squared_distance(row, center);
                if dc < best.1 {
                    best = (c, dc);
                }
            }
            r.fill(0.0);
            r[best.0] = 1.0;
        }
        if it == iterations {
            break;
        }
        // Update; an empty cluster keeps its centre.
        let counts = &mut *p.weights;
        counts.fill(0.0);
        for r in resp.chunks_exact(k) {
            for (cnt, &rc) in counts.iter_mut().zip(r) {
                *cnt += rc;
            }
        }
        for (c, &cnt) in counts.iter().enumerate() {
            if cnt > 0.0 {
                centers[c * d..(c + 1) * d].fill(0.0);
            }
        }
        for (row, r) in x.chunks_exact(d).zip(resp.chunks_exact(k)) {
            let c = r.iter().position(|&v| v == 1.0).unwrap_or(0);
            axpy(1.0 / counts[c], row, &mut centers[c * d..(c + 1) * d]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four-at-a-time scatter (every fixed-d instance, the runtime-d one, AVX2 or not)
    /// against the plain per-sample definition.
    #[test]
    fn weighted_scatter_matches_its_definition() {
        let mut rng = Rng::new(3);
        for d in [1usize, 3, 10, 16, 17, 23] {
            let (n, k, c) = (43usize, 3usize, 1usize);
            let x: std::vec::Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
            let resp: std::vec::Vec<f64> = (0..n * k).map(|_| rng.uniform()).collect();
            let mean: std::vec::Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            let mut cov = std::vec![f64::NAN; d * d];
            let mut centred = std::vec![f64::NAN; 4 * d];
            dispatch_dim!(
                d,
                weighted_scatter_full(&x, &resp, k, c, &mean, d, &mut cov, &mut centred)
            );
            for a in 0..d {
                for b in a..d {
                    let want: f64 = (0..n)
                        .map(|i| {
                            resp[i * k + c] * (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b])
                        })
                        .sum();
                    assert!(
                        (cov[a * d + b] - want).abs() <= 1e-12 * want.abs().max(1.0),
                        "d={d} ({a},{b})"
                    );
                }
            }
        }
    }
}
