//! Local EM fit of a Gaussian mixture (full or diagonal covariances), scikit-learn's semantics.
//!
//! One iteration is an E-step at the current parameters (whose mean log-likelihood is the
//! iteration's trace value, sklearn's `lower_bound_`) followed by an M-step:
//! n_k = sum_i r_ik + 10 eps, mu_k = sum_i r_ik x_i / n_k,
//! S_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / n_k + reg_covar I (diagonal: the diagonal only),
//! w_k = n_k / sum_l n_l. The fit stops when the mean log-likelihood changes by less than `tol`
//! between two iterations (`converged`) or after `max_iter` iterations (still returned).
//!
//! The fit is a driver over the EM's sufficient statistics ([`super::stats`]): each iteration
//! accumulates the statistics of the samples, chunk by chunk ([`crate::parallel`]), and runs the
//! M-step on them, so one pass over the samples per iteration; `threads` spreads the chunks over
//! threads with the same result, bit for bit.
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

use super::density::{factored_len, FactoredMixture};
use super::mixture::{CovKind, Mixture};
use super::stats::{
    accumulate, add_weighted, chunk_rows, chunk_scratch_len, gmm_stats_len, log_likelihood, m_step,
    mean_log_likelihood, params_len, prior_samples, repair_covariances, sample_covariance,
    split_chunk_scratch, split_params, Params, SampleWeights,
};
use crate::linalg::axpy;
use crate::parallel::check_threads;
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
    /// Threads for the passes over the samples (>= 1; more than 1 needs the `std` feature).
    /// The samples are cut into chunks of [`crate::parallel::CHUNK`] whatever the count, and
    /// their statistics merged in chunk order, so every thread count gives the same fit, bit
    /// for bit. With more than 1, the fit allocates a statistics slot per chunk and a chunk's
    /// scratch per thread from the heap.
    pub threads: usize,
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
            threads: 1,
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

    /// `BadParameter` unless reg_covar, tol, prior_samples and min_component_samples are in
    /// range, n_init >= 1 and the thread count possible ([`GmmFitOptions`]'s fields).
    pub(crate) fn check(&self) -> Result<(), Status> {
        let reg_ok = self.reg_covar >= 0.0 && self.reg_covar.is_finite();
        let tol_ok = self.tol >= 0.0;
        let prior_ok = self.prior_samples >= 0.0
            && self.prior_samples.is_finite()
            && self.min_component_samples >= 0.0
            && self.min_component_samples.is_finite();
        if !reg_ok || !tol_ok || !prior_ok || self.n_init == 0 {
            return Err(Status::BadParameter);
        }
        check_threads(self.threads)
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

/// Workspace (doubles) of [`gmm_fit`]: responsibilities n K (the start and the optional
/// outputs), the factored mixture, two parameter blocks (current and best), the sample
/// covariance, n distances for k-means++, two sets of statistics (the total and one chunk's)
/// and one chunk's scratch (chunks of min(n, 4096) samples). `SizeOverflow` if that overflows.
pub fn gmm_fit_work_len(n: usize, k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    let mut len = checked_mul(n, k)?;
    len = checked_add(len, factored_len(k, d, kind)?)?;
    len = checked_add(len, checked_mul(2, params_len(k, d, kind)?)?)?;
    len = checked_add(len, kind.cov_len(d)?)?;
    len = checked_add(len, n)?;
    len = checked_add(len, checked_mul(2, gmm_stats_len(k, d, kind)?)?)?;
    checked_add(len, chunk_scratch_len(k, d, chunk_rows(n))?)
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
    opts.check()?;
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
    let (current, rest) = rest.split_at_mut(plen);
    let (best, rest) = rest.split_at_mut(plen);
    let (sample_cov, rest) = rest.split_at_mut(cov_len);
    if let GmmInit::Params(mix) = init {
        // A given start must be positive definite as given (the fit only regularizes covariances
        // it computed itself).
        FactoredMixture::new(&mix, factored)?;
    }
    let (distances, rest) = rest.split_at_mut(n);
    let stats_len = gmm_stats_len(k, d, kind)?;
    let (stats, rest) = rest.split_at_mut(stats_len);
    // One chunk's statistics, then one chunk's scratch: the work of `accumulate`.
    let chunk_work = &mut rest[..stats_len + chunk_scratch_len(k, d, chunk_rows(n))?];
    sample_covariance(opts.threads, x, n, d, kind, sample_cov, stats, chunk_work)?;

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
        sample_cov,
        distances,
        stats,
        chunk_work,
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
        let scratch = split_chunk_scratch(&mut em.chunk_work[stats_len..], k, d, chunk_rows(n));
        fm.responsibilities(x, n, em.resp, scratch.pass)?;
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
    sample_cov: &'w mut [f64],
    distances: &'w mut [f64],
    /// The statistics of the current E-step.
    stats: &'w mut [f64],
    /// One chunk's statistics and scratch.
    chunk_work: &'w mut [f64],
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
                counts.0 += self.m_step_from_responsibilities(&mut p, &mut rng);
            }
            GmmInit::KMeansPlusPlus { .. } => {
                self.kmeans_start(&mut p, &mut rng);
                counts.0 += self.m_step_from_responsibilities(&mut p, &mut rng);
            }
            GmmInit::Partial {
                weights,
                means,
                covs,
                ..
            } => {
                if weights.is_none() || means.is_none() || covs.is_none() {
                    self.kmeans_start(&mut p, &mut rng);
                    counts.0 += self.m_step_from_responsibilities(&mut p, &mut rng);
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
        let prior = prior_samples(opts, n as f64);
        for t in 0..opts.max_iter {
            counts.1 +=
                repair_covariances(p.covs, k, d, kind, opts.reg_covar, floor, self.factored)?;
            let fm = factored_mixture(&p, k, d, kind, self.factored)?;
            self.stats.fill(0.0);
            let (stats, work) = (&mut *self.stats, &mut *self.chunk_work);
            accumulate(
                opts.threads,
                &fm,
                p.means,
                x,
                n,
                sample_weights,
                stats,
                work,
            )?;
            let mean_ll = mean_log_likelihood(self.stats);
            if let Some(tr) = trace.as_deref_mut() {
                tr[t] = mean_ll;
            }
            let mut reseed = |_| {
                let i = rng.below(n as u64) as usize;
                &x[i * d..(i + 1) * d]
            };
            let (sample_cov, stats) = (&*self.sample_cov, &*self.stats);
            counts.0 += m_step(
                stats,
                k,
                d,
                kind,
                opts,
                prior,
                sample_cov,
                &mut p,
                &mut reseed,
            );
            iterations = t + 1;
            if libm::fabs(mean_ll - previous) < opts.tol {
                converged = true;
                break;
            }
            previous = mean_ll;
        }
        counts.1 += repair_covariances(p.covs, k, d, kind, opts.reg_covar, floor, self.factored)?;
        let fm = factored_mixture(&p, k, d, kind, self.factored)?;
        // One slot (the log-likelihood), then the chunk scratch.
        let work = &mut self.chunk_work[self.stats.len() - 1..];
        let ll = log_likelihood(opts.threads, &fm, x, n, sample_weights, work)?;
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
            prior_samples: prior,
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

    /// The first M-step, from the responsibilities in `resp`: statistics about the
    /// responsibility-weighted means, then [`m_step`]. Returns how many components were
    /// reseeded.
    fn m_step_from_responsibilities(&mut self, p: &mut Params, rng: &mut Rng) -> usize {
        let (x, n, d, k, kind) = (self.x, self.n, self.d, self.k, self.kind);
        let (resp, stats_len) = (&*self.resp, self.stats.len());
        p.means.fill(0.0);
        let mass = &mut *p.weights;
        mass.fill(0.0);
        for (row, r) in x.chunks_exact(d).zip(resp.chunks_exact(k)) {
            for (c, &rc) in r.iter().enumerate() {
                mass[c] += rc;
                axpy(rc, row, &mut p.means[c * d..(c + 1) * d]);
            }
        }
        for (mean, &m) in p.means.chunks_exact_mut(d).zip(mass.iter()) {
            if m > 0.0 {
                mean.iter_mut().for_each(|v| *v /= m);
            }
        }
        self.stats.fill(0.0);
        let scratch = &mut self.chunk_work[stats_len..];
        let centred = split_chunk_scratch(scratch, k, d, chunk_rows(n)).centred;
        add_weighted(x, resp, k, d, kind, p.means, self.stats, centred);
        let mut reseed = |_| {
            let i = rng.below(n as u64) as usize;
            &x[i * d..(i + 1) * d]
        };
        let prior = prior_samples(self.opts, n as f64);
        m_step(
            self.stats,
            k,
            d,
            kind,
            self.opts,
            prior,
            self.sample_cov,
            p,
            &mut reseed,
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
