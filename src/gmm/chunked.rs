//! The EM fit in memory that does not grow with the number of samples: the caller hands the
//! samples over in chunks, one pass over all of them per iteration (from a ring buffer, flash,
//! or a sensor that can replay its recording), and the fit keeps only their sufficient
//! statistics ([`gmm_accumulate`](super::gmm_accumulate), then [`gmm_m_step`]).
//!
//! Why passes and not an online (stepwise) EM: an iteration here is exactly an iteration of
//! [`gmm_fit`](super::gmm_fit) (E-step over all samples, M-step), so the two fits agree to
//! rounding from the same start (only the order of the sums differs), and every option means the
//! same. An online EM reads each sample once, but its estimate depends on the order of the
//! samples and on a step-size schedule, and it does not reach the batch optimum on a finite
//! sample. The price of passes is one read of the samples per iteration.

use super::density::{factored_len, FactoredMixture};
use super::fit::{GmmFitOptions, GmmFitReport};
use super::mixture::{CovKind, Mixture};
use super::stats::{
    accumulate_work_len, add_statistics, gmm_m_step, gmm_m_step_work_len, gmm_stats_len,
    mean_log_likelihood, params_len, prior_samples, split_params, Params,
};
use crate::status::{checked_add, checked_mul, ensure_len, Status};

/// The sample reader of [`gmm_fit_chunked`]: `read(first, out)` writes samples `first, first +
/// 1, ...` to the front of `out` (rows x d, row-major) and returns how many rows it wrote.
pub type ReadSamples<'a> = dyn FnMut(usize, &mut [f64]) -> Result<usize, Status> + 'a;

/// Workspace (doubles) of [`gmm_fit_chunked`]: the statistics, the work of
/// [`gmm_accumulate`](super::gmm_accumulate) for one chunk and of [`gmm_m_step`], one parameter
/// block and one chunk of `chunk_rows` samples. It does not depend on the number of samples.
pub fn gmm_fit_chunked_work_len(
    chunk_rows: usize,
    k: usize,
    d: usize,
    kind: CovKind,
) -> Result<usize, Status> {
    if chunk_rows == 0 || k == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    let mut len = gmm_stats_len(k, d, kind)?;
    len = checked_add(len, accumulate_work_len(k, d, kind, chunk_rows)?)?;
    len = checked_add(len, gmm_m_step_work_len(k, d, kind)?)?;
    len = checked_add(len, params_len(k, d, kind)?)?;
    checked_add(len, checked_mul(chunk_rows, d)?)
}

/// Fits a mixture of `start`'s shape (K, d = `d`, `opts.kind`) to the samples that `read`
/// provides, in passes: `read(first, out)` fills the front of `out` (`chunk_rows` x d,
/// row-major) with the samples `first, first + 1, ...` and returns how many rows it wrote; a
/// pass starts at `first` = 0 and ends at the first call that returns fewer than `chunk_rows`
/// rows (0 included). Every pass must give the same n samples. The iterations, the stopping
/// rule (`opts.tol`, `opts.max_iter`, `opts.previous_lower_bound`), `reg_covar`, the covariance
/// prior and the trace are [`gmm_fit`](super::gmm_fit)'s from the start `start`, with two
/// differences: an emptied component is reseeded at the data mean (not at a random sample), and
/// there is one run (`n_init` and `kmeans_iter` are not used: a node without a start fits its
/// first chunk with `gmm_fit` and passes that). The data covariance of the prior and of the
/// collapse floor comes from each pass's statistics.
///
/// Writes the parameters to `weights_out[..K]`, `means_out[..K d]`, `covs_out[..K c]`, the
/// optional `trace` (at least max_iter values: the mean log-likelihood at the start of each
/// iteration) and returns the report (its log-likelihood from one more pass, at the returned
/// parameters). `work` has length [`gmm_fit_chunked_work_len`]`(chunk_rows, K, d, kind)`.
///
/// Errors, with the outputs untouched (the trace may have been written): `ZeroSize` (d or
/// `chunk_rows` zero), `SizeOverflow`, `BufferTooShort`, `TooFewSamples` (a pass of fewer than
/// K samples), `BadParameter` (options as for `gmm_fit`, a start of another d or kind),
/// `NonFinite` (a sample, or a sum, that is not finite), `NotSpd` (a start covariance that is
/// not positive definite, or a covariance that cannot be factored even regularized),
/// `ReadFailed` (`read` returned more rows than asked, or a pass gave another number of samples
/// than the first), and any error `read` returns.
#[allow(clippy::too_many_arguments)]
pub fn gmm_fit_chunked(
    read: &mut ReadSamples,
    d: usize,
    chunk_rows: usize,
    opts: &GmmFitOptions,
    start: &Mixture,
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    mut trace: Option<&mut [f64]>,
    work: &mut [f64],
) -> Result<GmmFitReport, Status> {
    let (k, kind) = (start.n_components(), opts.kind);
    if d == 0 || chunk_rows == 0 {
        return Err(Status::ZeroSize);
    }
    if (start.dim(), start.cov_kind()) != (d, kind) {
        return Err(Status::BadParameter);
    }
    opts.check()?;
    let cov_len = kind.cov_len(d)?;
    ensure_len(weights_out.len(), k)?;
    ensure_len(means_out.len(), checked_mul(k, d)?)?;
    ensure_len(covs_out.len(), checked_mul(k, cov_len)?)?;
    if let Some(t) = trace.as_deref() {
        ensure_len(t.len(), opts.max_iter)?;
    }
    ensure_len(
        work.len(),
        gmm_fit_chunked_work_len(chunk_rows, k, d, kind)?,
    )?;

    let stats_len = gmm_stats_len(k, d, kind)?;
    let (stats, rest) = work.split_at_mut(stats_len);
    let (accumulate_work, rest) = rest.split_at_mut(accumulate_work_len(k, d, kind, chunk_rows)?);
    let (m_step_work, rest) = rest.split_at_mut(gmm_m_step_work_len(k, d, kind)?);
    let (block, rest) = rest.split_at_mut(params_len(k, d, kind)?);
    let chunk = &mut rest[..chunk_rows * d];
    let p = split_params(block, k, d, cov_len);
    p.weights.copy_from_slice(start.weights());
    for c in 0..k {
        p.means[c * d..(c + 1) * d].copy_from_slice(start.mean(c));
        p.covs[c * cov_len..(c + 1) * cov_len].copy_from_slice(start.cov(c));
    }
    let (factored, chunk_work) = accumulate_work.split_at_mut(factored_len(k, d, kind)?);
    // The E-step over all samples, chunk by chunk, under the parameters `p` (factored once for
    // the pass); returns n.
    let mut pass = |p: &Params, stats: &mut [f64]| -> Result<usize, Status> {
        stats.fill(0.0);
        let mix = Mixture::new(p.weights, p.means, p.covs, k, d, kind)?;
        let fm = FactoredMixture::new(&mix, factored)?;
        let mut n = 0usize;
        loop {
            let rows = read(n, chunk)?;
            if rows > chunk_rows {
                return Err(Status::ReadFailed);
            }
            if rows > 0 {
                let samples = &chunk[..rows * d];
                if !samples.iter().all(|v| v.is_finite()) {
                    return Err(Status::NonFinite);
                }
                add_statistics(&fm, p.means, samples, rows, None, stats, chunk_work)?;
                n = checked_add(n, rows)?;
            }
            if rows < chunk_rows {
                return Ok(n);
            }
        }
    };
    // The first pass's n: every pass must read as many samples.
    let mut samples: Option<usize> = None;
    let mut same_samples = |n: usize| match samples {
        None if n < k => Err(Status::TooFewSamples),
        None => {
            samples = Some(n);
            Ok(n)
        }
        Some(first) if first == n => Ok(n),
        Some(_) => Err(Status::ReadFailed),
    };

    let (mut iterations, mut converged, mut reseeded, mut regularized) = (0, false, 0, 0);
    let mut previous = opts.previous_lower_bound;
    for t in 0..opts.max_iter {
        same_samples(pass(&p, stats)?)?;
        let mean_ll = mean_log_likelihood(stats);
        if let Some(tr) = trace.as_deref_mut() {
            tr[t] = mean_ll;
        }
        let r = gmm_m_step(
            stats,
            k,
            d,
            opts,
            p.weights,
            p.means,
            p.covs,
            None,
            m_step_work,
        )?;
        (reseeded, regularized) = (reseeded + r.reseeded, regularized + r.regularized);
        iterations = t + 1;
        if libm::fabs(mean_ll - previous) < opts.tol {
            converged = true;
            break;
        }
        previous = mean_ll;
    }
    let n = same_samples(pass(&p, stats)?)?;
    let log_likelihood = stats[stats_len - 1];
    weights_out[..k].copy_from_slice(p.weights);
    means_out[..k * d].copy_from_slice(p.means);
    covs_out[..k * cov_len].copy_from_slice(p.covs);
    Ok(GmmFitReport {
        log_likelihood,
        mean_log_likelihood: mean_log_likelihood(stats),
        iterations,
        converged,
        reseeded,
        regularized,
        best_restart: 0,
        prior_samples: prior_samples(opts, n as f64),
    })
}
