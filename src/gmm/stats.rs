//! The sufficient statistics of a Gaussian-mixture EM: the E-step accumulates them over a chunk
//! of samples, statistics of chunks merge by adding, and the M-step computes the parameters from
//! them. [`gmm_fit`](super::gmm_fit) is a driver over these three pieces, and the same pieces
//! serve threads (chunks of one data set), processes and machines (a shard each, the statistics
//! summed by `MPI_Allreduce` or any transport) and data that never sits in memory at once.
//!
//! # Layout
//!
//! The statistics under a mixture with means a_1..a_K (the E-step's parameters) are, per
//! component k, one block of 1 + d + c doubles (c = d d full, d diagonal):
//! `[N_k, S1_k (d), S2_k (c)]` with N_k = sum_i w_i r_ik, S1_k = sum_i w_i r_ik (x_i - a_k) and
//! S2_k = sum_i w_i r_ik (x_i - a_k)(x_i - a_k)^T (full: the upper triangle, zeros below the
//! diagonal; diagonal: the squares), r_ik the responsibilities and w_i the sample weights (1
//! without); then three totals: the number of samples, sum_i w_i, and sum_i w_i log f(x_i).
//! Centring at a_k (the current means, which every party of a round knows) keeps the sums free
//! of the cancellation of raw moments: near convergence the new mean is a_k itself.
//!
//! # M-step
//!
//! n_k = N_k + 10 eps, delta_k = S1_k / n_k, mu_k = a_k + delta_k; the scatter about mu_k is
//! S2_k - delta_k S1_k^T - S1_k delta_k^T + N_k delta_k delta_k^T (exact for any a_k); then
//! S_k = (scatter_k + nu S_x) / (n_k + nu) + reg_covar I and w_k = n_k / sum_l n_l, as in the
//! module docs of the fit. A component of mass below the minimum is reseeded.

use super::density::{factored_len, pass_scratch_len, FactoredMixture};
use super::fit::{GmmFitOptions, MIN_COMPONENT_MASS};
use super::mixture::{CovKind, Mixture};
use crate::dispatch::{dim, dispatch_dim, with_avx2};
use crate::parallel::{add_into, chunk_range, sum_over_chunks, CHUNK};
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// The totals after the K component blocks: samples, sum of weights, weighted log-likelihood.
const TOTALS: usize = 3;

/// Length (doubles) of the statistics of a K-component mixture in d dimensions:
/// K (1 + d + c) + 3, c = d d (full) or d (diagonal). `SizeOverflow` if that overflows.
pub fn gmm_stats_len(k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    let block = checked_add(checked_add(1, d)?, kind.cov_len(d)?)?;
    checked_add(checked_mul(k, block)?, TOTALS)
}

/// Views of one set of statistics.
struct Stats<'a> {
    /// K blocks of 1 + d + c.
    blocks: &'a [f64],
    block: usize,
    samples: f64,
    weight: f64,
}

fn stats_view(stats: &[f64], k: usize, block: usize) -> Stats<'_> {
    let (blocks, totals) = stats.split_at(k * block);
    Stats {
        blocks,
        block,
        samples: totals[0],
        weight: totals[1],
    }
}

/// The mean log-likelihood of the samples the statistics hold, sum_i w_i log f(x_i) / sum_i w_i:
/// the E-step's trace value.
pub(crate) fn mean_log_likelihood(stats: &[f64]) -> f64 {
    let totals = &stats[stats.len() - TOTALS..];
    totals[2] / totals[1]
}

/// Mutable views of one parameter block: weights, means, covariances.
pub(crate) struct Params<'a> {
    pub(crate) weights: &'a mut [f64],
    pub(crate) means: &'a mut [f64],
    pub(crate) covs: &'a mut [f64],
}

/// The length of one parameter block: K + K d + K c.
pub(crate) fn params_len(k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    checked_add(
        checked_add(k, checked_mul(k, d)?)?,
        checked_mul(k, kind.cov_len(d)?)?,
    )
}

pub(crate) fn split_params(block: &mut [f64], k: usize, d: usize, cov_len: usize) -> Params<'_> {
    let (weights, rest) = block.split_at_mut(k);
    let (means, rest) = rest.split_at_mut(k * d);
    Params {
        weights,
        means,
        covs: &mut rest[..k * cov_len],
    }
}

/// Sample weights as the fit uses them: divided by `max` (the largest, in the fit, so that their
/// scale changes nothing; 1 in [`gmm_accumulate`], which takes them as given).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SampleWeights<'a> {
    pub(crate) w: &'a [f64],
    pub(crate) max: f64,
}

impl SampleWeights<'_> {
    /// w_i / max.
    pub(crate) fn at(&self, i: usize) -> f64 {
        self.w[i] / self.max
    }
}

/// The rows of the largest chunk of n samples: min(n, [`CHUNK`]).
pub(crate) fn chunk_rows(n: usize) -> usize {
    n.min(CHUNK)
}

/// Scratch of one chunk's E-step for chunks of up to `rows` samples: the density pass's scratch,
/// the chunk's responsibilities (rows x K) and log-densities (rows), and 4 d for centred
/// samples.
pub(crate) fn chunk_scratch_len(k: usize, d: usize, rows: usize) -> Result<usize, Status> {
    let len = checked_add(pass_scratch_len(k, d)?, checked_mul(rows, k)?)?;
    checked_add(checked_add(len, rows)?, checked_mul(4, d)?)
}

pub(crate) struct ChunkScratch<'a> {
    pub(crate) pass: &'a mut [f64],
    pub(crate) resp: &'a mut [f64],
    pub(crate) log_f: &'a mut [f64],
    pub(crate) centred: &'a mut [f64],
}

/// The parts of a [`chunk_scratch_len`]`(k, d, rows)` scratch.
pub(crate) fn split_chunk_scratch(
    s: &mut [f64],
    k: usize,
    d: usize,
    rows: usize,
) -> ChunkScratch<'_> {
    let pass_len = pass_scratch_len(k, d).unwrap_or(0);
    let (pass, rest) = s.split_at_mut(pass_len);
    let (resp, rest) = rest.split_at_mut(rows * k);
    let (log_f, rest) = rest.split_at_mut(rows);
    ChunkScratch {
        pass,
        resp,
        log_f,
        centred: &mut rest[..4 * d],
    }
}

/// Adds to `stats` the E-step statistics of the n samples `x` under `fm` (whose means are
/// `refs`, K d), chunk by chunk ([`sum_over_chunks`]: the same result for any `threads`).
/// `work` holds `stats.len()` + [`chunk_scratch_len`]`(K, d, chunk_rows(n))` doubles. Samples
/// and weights must have been checked (finite); `NonFinite` when a log-density is not finite.
#[allow(clippy::too_many_arguments)]
pub(crate) fn accumulate(
    threads: usize,
    fm: &FactoredMixture,
    refs: &[f64],
    x: &[f64],
    n: usize,
    sample_weights: Option<SampleWeights>,
    stats: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let (k, d, kind) = (fm.n_components(), fm.dim(), fm.cov_kind());
    let max_rows = chunk_rows(n);
    let scratch_len = chunk_scratch_len(k, d, max_rows)?;
    sum_over_chunks(threads, n, stats, work, scratch_len, |c, slot, scratch| {
        let rows = chunk_range(c, n);
        let s = split_chunk_scratch(scratch, k, d, max_rows);
        let m = rows.len();
        let xc = &x[rows.start * d..rows.end * d];
        let resp = &mut s.resp[..m * k];
        let (weight, log_likelihood) = match sample_weights {
            None => (m as f64, fm.e_step(xc, m, resp, s.pass)?),
            Some(sw) => {
                let log_f = &mut s.log_f[..m];
                fm.log_density(xc, m, log_f, s.pass)?;
                fm.e_step(xc, m, resp, s.pass)?;
                let (mut weight, mut total) = (0.0, 0.0);
                for (i, (row, l)) in resp.chunks_exact_mut(k).zip(log_f.iter()).enumerate() {
                    let wi = sw.at(rows.start + i);
                    row.iter_mut().for_each(|r| *r *= wi);
                    weight += wi;
                    total += wi * l;
                }
                (weight, total)
            }
        };
        add_weighted(xc, resp, k, d, kind, refs, slot, s.centred);
        let blocks = slot.len() - TOTALS;
        let totals = &mut slot[blocks..];
        totals[0] += m as f64;
        totals[1] += weight;
        totals[2] += log_likelihood;
        if log_likelihood.is_finite() {
            Ok(())
        } else {
            Err(Status::NonFinite)
        }
    })
}

/// Adds to the component blocks of `stats` the sums N_k, S1_k, S2_k of the rows of `x` with
/// weights `resp` (rows x K) about `refs` (K d); `centred` holds 4 d doubles. The totals are
/// left to the caller.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_weighted(
    x: &[f64],
    resp: &[f64],
    k: usize,
    d: usize,
    kind: CovKind,
    refs: &[f64],
    stats: &mut [f64],
    centred: &mut [f64],
) {
    let cov_len = stats.len().saturating_sub(TOTALS) / k - 1 - d;
    for (c, block) in stats.chunks_exact_mut(1 + d + cov_len).take(k).enumerate() {
        let (mass, rest) = block.split_at_mut(1);
        let (s1, s2) = rest.split_at_mut(d);
        mass[0] += resp.chunks_exact(k).map(|r| r[c]).sum::<f64>();
        let a = &refs[c * d..(c + 1) * d];
        match kind {
            CovKind::Full => {
                dispatch_dim!(
                    d,
                    weighted_scatter_full(x, resp, k, c, a, d, s1, s2, centred)
                )
            }
            CovKind::Diag => {
                for (row, r) in x.chunks_exact(d).zip(resp.chunks_exact(k)) {
                    add_centred(s1, s2, row, a, r[c], d, kind);
                }
            }
        }
    }
}

/// `s1 += w (x - a)` and `s2 += w (x - a)(x - a)^T` (the upper triangle, full; the diagonal,
/// diag).
#[inline]
fn add_centred(
    s1: &mut [f64],
    s2: &mut [f64],
    x: &[f64],
    a: &[f64],
    w: f64,
    d: usize,
    kind: CovKind,
) {
    for ((s, &xa), &aa) in s1.iter_mut().zip(x).zip(a) {
        *s += w * (xa - aa);
    }
    add_scatter(s2, x, a, w, d, kind);
}

/// `out += w (x - mu)(x - mu)^T`: the upper triangle (full) or the diagonal (diag).
#[inline]
pub(crate) fn add_scatter(out: &mut [f64], x: &[f64], mu: &[f64], w: f64, d: usize, kind: CovKind) {
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

/// Adds sum_i r_ic (x_i - a) to `s1` and the upper triangle of sum_i r_ic (x_i - a)(x_i - a)^T to
/// `s2` (d x d) over the rows of `x`, r_ic = `resp[i*k + c]`. Four samples at a time, so each
/// entry is loaded and stored once per four samples; `centred` (4 d doubles) holds their centred
/// rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weighted_scatter_full_portable<const D: usize>(
    x: &[f64],
    resp: &[f64],
    k: usize,
    c: usize,
    a: &[f64],
    d: usize,
    s1: &mut [f64],
    s2: &mut [f64],
    centred: &mut [f64],
) {
    let d = dim::<D>(d);
    let a = &a[..d];
    let s1 = &mut s1[..d];
    let s2 = &mut s2[..d * d];
    let centred = &mut centred[..4 * d];
    let mut rows = x.chunks_exact(4 * d);
    let mut weights = resp.chunks_exact(4 * k);
    for (quad, r) in (&mut rows).zip(&mut weights) {
        for (v, (&xv, &m)) in centred.iter_mut().zip(quad.iter().zip(a.iter().cycle())) {
            *v = xv - m;
        }
        let w = [r[c], r[k + c], r[2 * k + c], r[3 * k + c]];
        let (v0, rest) = centred.split_at(d);
        let (v1, rest) = rest.split_at(d);
        let (v2, v3) = rest.split_at(d);
        for b in 0..d {
            let (u0, u1, u2, u3) = (w[0] * v0[b], w[1] * v1[b], w[2] * v2[b], w[3] * v3[b]);
            s1[b] += (u0 + u1) + (u2 + u3);
            let cols = v0[b..].iter().zip(&v1[b..]).zip(&v2[b..]).zip(&v3[b..]);
            for (g, (((b0, b1), b2), b3)) in s2[b * d + b..(b + 1) * d].iter_mut().zip(cols) {
                *g += (u0 * b0 + u1 * b1) + (u2 * b2 + u3 * b3);
            }
        }
    }
    for (row, r) in rows
        .remainder()
        .chunks_exact(d)
        .zip(weights.remainder().chunks_exact(k))
    {
        add_centred(s1, s2, row, a, r[c], d, CovKind::Full);
    }
}

with_avx2! {
    /// [`weighted_scatter_full_portable`], for the best instruction set the CPU has.
    fn weighted_scatter_full = weighted_scatter_full_portable(
        x: &[f64], resp: &[f64], k: usize, c: usize, a: &[f64], d: usize, s1: &mut [f64],
        s2: &mut [f64], centred: &mut [f64],
    )
}

/// Copies the upper triangle of a full d x d matrix to its lower triangle (nothing for diag).
pub(crate) fn mirror_upper(m: &mut [f64], d: usize, kind: CovKind) {
    if kind == CovKind::Full {
        for a in 0..d {
            for b in a + 1..d {
                m[b * d + a] = m[a * d + b];
            }
        }
    }
}

/// The M-step from statistics (module docs). On entry `p.means` holds the references a_k the
/// statistics were taken about; on return the new parameters. `sample_cov` is S_x, `prior` the
/// covariance prior in samples; a component below the minimum mass gets mean `reseed(k)` and
/// covariance S_x + reg_covar I with a mass of one sample. Returns how many were reseeded.
#[allow(clippy::too_many_arguments)]
pub(crate) fn m_step<'r>(
    stats: &[f64],
    k: usize,
    d: usize,
    kind: CovKind,
    opts: &GmmFitOptions,
    prior: f64,
    sample_cov: &[f64],
    p: &mut Params,
    reseed: &mut dyn FnMut(usize) -> &'r [f64],
) -> usize {
    let cov_len = sample_cov.len();
    let s = stats_view(stats, k, 1 + d + cov_len);
    let min_mass = opts.min_component_samples.max(MIN_COMPONENT_MASS);
    let mut reseeded = 0;
    for c in 0..k {
        let block = &s.blocks[c * s.block..(c + 1) * s.block];
        let (mass, s1, s2) = (block[0], &block[1..1 + d], &block[1 + d..]);
        // sklearn adds 10 eps so that no n_k is exactly 0.
        let nk = mass + 10.0 * f64::EPSILON;
        let mean = &mut p.means[c * d..(c + 1) * d];
        let cov = &mut p.covs[c * cov_len..(c + 1) * cov_len];
        if nk < min_mass {
            // An empty component: restart it at a data point with the data's covariance.
            mean.copy_from_slice(&reseed(c)[..d]);
            cov.copy_from_slice(sample_cov);
            add_to_diagonal(cov, d, kind, opts.reg_covar);
            p.weights[c] = 1.0;
            reseeded += 1;
            continue;
        }
        p.weights[c] = nk;
        cov.copy_from_slice(s2);
        let delta = |a: usize| s1[a] / nk;
        match kind {
            CovKind::Full => {
                for a in 0..d {
                    for b in a..d {
                        cov[a * d + b] +=
                            -delta(a) * s1[b] - s1[a] * delta(b) + mass * delta(a) * delta(b);
                    }
                }
            }
            CovKind::Diag => {
                for (a, v) in cov.iter_mut().enumerate() {
                    *v += -2.0 * delta(a) * s1[a] + mass * delta(a) * delta(a);
                }
            }
        }
        for (a, m) in mean.iter_mut().enumerate() {
            *m += delta(a);
        }
        mirror_upper(cov, d, kind);
        let denominator = nk + prior;
        for (v, &sx) in cov.iter_mut().zip(sample_cov) {
            *v = (*v + prior * sx) / denominator;
        }
        add_to_diagonal(cov, d, kind, opts.reg_covar);
    }
    let total: f64 = p.weights.iter().sum();
    for w in p.weights.iter_mut() {
        *w /= total;
    }
    reseeded
}

/// The covariance prior's pseudo-samples for n samples: `prior_samples` plus the pMLE's
/// 2 / sqrt(n) when `penalized`.
pub(crate) fn prior_samples(opts: &GmmFitOptions, n: f64) -> f64 {
    let pmle = if opts.penalized {
        2.0 / crate::special::sqrt(n)
    } else {
        0.0
    };
    opts.prior_samples + pmle
}

/// Adds `v` to the diagonal of a covariance (full or diag).
pub(crate) fn add_to_diagonal(cov: &mut [f64], d: usize, kind: CovKind, v: f64) {
    (0..d).for_each(|a| cov[kind.variance_index(d, a)] += v);
}

/// Makes every covariance factorizable: one that fails Cholesky (or has a non-positive
/// variance, or one below `data_floor`) gets `max(reg_covar, 1e-12 * its mean variance,
/// data_floor)` times 10^j added to its diagonal, j = 0..=9, until it factors, where
/// `data_floor` is 1e-12 times the data's mean variance: a component collapsed onto a point
/// (variance 0 with reg_covar 0) is repaired at the data's scale, not at 2.2e-308, and counted.
/// Returns how many were raised; `NotSpd` if one never factors, or if there is no scale to
/// repair it at (every sample identical, reg_covar 0). `scratch` holds at least d * d doubles.
pub(crate) fn repair_covariances(
    covs: &mut [f64],
    k: usize,
    d: usize,
    kind: CovKind,
    reg_covar: f64,
    data_floor: f64,
    scratch: &mut [f64],
) -> Result<usize, Status> {
    let cov_len = covs.len() / k;
    let mut raised = 0;
    for cov in covs.chunks_exact_mut(cov_len) {
        let variance = |cov: &[f64], a: usize| cov[kind.variance_index(d, a)];
        let mean_variance = (0..d).map(|a| variance(cov, a)).sum::<f64>() / d as f64;
        let mut bump = reg_covar
            .max(1e-12 * libm::fabs(mean_variance))
            .max(data_floor);
        // A variance below the data floor is a component collapsed onto a point, even when it
        // factors (a diagonal one of 1e-30 does): it is repaired too.
        let collapsed = |cov: &[f64]| (0..d).any(|a| variance(cov, a) < data_floor);
        let mut attempts = 0;
        while collapsed(cov) || !factorizes(cov, d, kind, scratch) {
            if attempts == 10 || bump <= 0.0 {
                return Err(Status::NotSpd);
            }
            add_to_diagonal(cov, d, kind, bump);
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

/// Workspace (doubles) of [`gmm_accumulate`]: the factored mixture, two sets of statistics (the
/// call's total and one chunk's) and one chunk's scratch; independent of n (enough for any n).
pub fn gmm_accumulate_work_len(k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    accumulate_work_len(k, d, kind, CHUNK)
}

/// What [`gmm_accumulate`] needs for n samples: its chunk scratch for min(n, 4096) of them, so
/// that a caller of small chunks (the chunked fit) needs little.
pub(crate) fn accumulate_work_len(
    k: usize,
    d: usize,
    kind: CovKind,
    n: usize,
) -> Result<usize, Status> {
    let stats = checked_mul(2, gmm_stats_len(k, d, kind)?)?;
    let len = checked_add(factored_len(k, d, kind)?, stats)?;
    checked_add(len, chunk_scratch_len(k, d, chunk_rows(n))?)
}

/// The E-step of an EM as statistics: adds to `stats` ([`gmm_stats_len`] doubles, zeroed by the
/// caller before the first chunk) the statistics (module docs) of the n samples `x` (n x d,
/// row-major) under `mix`, with optional sample weights (n, finite, >= 0). Calls on the chunks
/// of a data set, under the same mixture, add up to the statistics of the whole, to rounding.
/// `work` holds [`gmm_accumulate_work_len`] doubles (n samples need the chunk scratch of
/// min(n, 4096) only: (4096 - n) (K + 1) fewer below 4096).
///
/// Errors, with `stats` untouched: `ZeroSize` (n = 0), `SizeOverflow`, `BufferTooShort`,
/// `NonFinite` (NaN or infinity in x or the weights, a log-density that is not finite, or sums
/// that overflow: samples too large for their squares, or `stats` already near the maximum),
/// `SampleWeights` (a negative weight), `NotSpd` (a covariance that does not factor).
pub fn gmm_accumulate(
    mix: &Mixture,
    x: &[f64],
    n: usize,
    sample_weights: Option<&[f64]>,
    stats: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let (k, d, kind) = (mix.n_components(), mix.dim(), mix.cov_kind());
    if n == 0 {
        return Err(Status::ZeroSize);
    }
    let stats_len = gmm_stats_len(k, d, kind)?;
    let len_x = checked_mul(n, d)?;
    ensure_len(x.len(), len_x)?;
    ensure_len(stats.len(), stats_len)?;
    ensure_len(work.len(), accumulate_work_len(k, d, kind, n)?)?;
    let x = &x[..len_x];
    if !x.iter().all(|v| v.is_finite()) {
        return Err(Status::NonFinite);
    }
    let sample_weights = match sample_weights {
        Some(w) => {
            ensure_len(w.len(), n)?;
            if !w[..n].iter().all(|v| v.is_finite()) {
                return Err(Status::NonFinite);
            }
            if w[..n].iter().any(|&v| v < 0.0) {
                return Err(Status::SampleWeights);
            }
            Some(SampleWeights {
                w: &w[..n],
                max: 1.0,
            })
        }
        None => None,
    };
    let (factored, rest) = work.split_at_mut(factored_len(k, d, kind)?);
    let fm = FactoredMixture::new(mix, factored)?;
    add_statistics(&fm, mix.means(), x, n, sample_weights, stats, rest)
}

/// The body of [`gmm_accumulate`] under a mixture already factored (the chunked fit factors once
/// per pass, not once per chunk): adds the statistics of the n checked samples `x` to `stats`,
/// unless a sum is not finite (`NonFinite`, `stats` untouched). `work` holds one set of
/// statistics and the chunk scratch of min(n, 4096) samples.
pub(crate) fn add_statistics(
    fm: &FactoredMixture,
    means: &[f64],
    x: &[f64],
    n: usize,
    sample_weights: Option<SampleWeights>,
    stats: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let stats_len = gmm_stats_len(fm.n_components(), fm.dim(), fm.cov_kind())?;
    let (total, rest) = work.split_at_mut(stats_len);
    total.fill(0.0);
    accumulate(1, fm, means, x, n, sample_weights, total, rest)?;
    add_into(total, &stats[..stats_len]);
    if !total.iter().all(|v| v.is_finite()) {
        return Err(Status::NonFinite);
    }
    stats[..stats_len].copy_from_slice(total);
    Ok(())
}

/// Merges statistics: `into += from`, element by element (both [`gmm_stats_len`] doubles).
/// Statistics of disjoint chunks under the same mixture merge to those of their union; merging
/// in a fixed order gives a fixed result.
///
/// Errors, with `into` untouched: `SizeOverflow`, `BufferTooShort`, `NonFinite` (a sum that is not
/// finite).
pub fn gmm_merge_stats(
    into: &mut [f64],
    from: &[f64],
    k: usize,
    d: usize,
    kind: CovKind,
) -> Result<(), Status> {
    let len = gmm_stats_len(k, d, kind)?;
    ensure_len(into.len(), len)?;
    ensure_len(from.len(), len)?;
    let (into, from) = (&mut into[..len], &from[..len]);
    if !into.iter().zip(from).all(|(a, b)| (a + b).is_finite()) {
        return Err(Status::NonFinite);
    }
    add_into(into, from);
    Ok(())
}

/// What [`gmm_m_step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GmmMStepReport {
    /// Components reseeded because their mass fell below the minimum.
    pub reseeded: usize,
    /// Covariances whose regularization had to be raised to factor them.
    pub regularized: usize,
}

/// Workspace (doubles) of [`gmm_m_step`]: one parameter block, S_x, the data mean and d d.
pub fn gmm_m_step_work_len(k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    let len = checked_add(params_len(k, d, kind)?, kind.cov_len(d)?)?;
    checked_add(len, checked_add(d, checked_mul(d, d)?)?)
}

/// The M-step from statistics: `means` (K d) holds on entry the means of the mixture the
/// statistics were taken under, and receives the new means; `weights_out` (K) and `covs_out`
/// (K c) the new weights and covariances, regularized as the fit does (`opts.reg_covar`, the
/// covariance prior of `opts`, raised regularization for a covariance that does not factor).
/// S_x, the data covariance of the prior, reseeding and the collapse floor, is computed from
/// the statistics (the weighted covariance of the samples; with unit weights the fit's). An
/// emptied component is reseeded at `reseed_points[k]` (K d, optional), or at the data mean.
///
/// Errors, with the outputs untouched: `ZeroSize`, `SizeOverflow`, `BufferTooShort`,
/// `BadParameter` (options as for [`gmm_fit`](super::gmm_fit), or statistics with a negative
/// mass, no samples or a weight sum not positive), `NonFinite` (statistics, means or reseed
/// points not finite), `NotSpd` (a covariance that never factors).
#[allow(clippy::too_many_arguments)]
pub fn gmm_m_step(
    stats: &[f64],
    k: usize,
    d: usize,
    opts: &GmmFitOptions,
    weights_out: &mut [f64],
    means: &mut [f64],
    covs_out: &mut [f64],
    reseed_points: Option<&[f64]>,
    work: &mut [f64],
) -> Result<GmmMStepReport, Status> {
    if k == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    let kind = opts.kind;
    opts.check()?;
    let cov_len = kind.cov_len(d)?;
    let stats_len = gmm_stats_len(k, d, kind)?;
    let kd = checked_mul(k, d)?;
    ensure_len(stats.len(), stats_len)?;
    ensure_len(weights_out.len(), k)?;
    ensure_len(means.len(), kd)?;
    ensure_len(covs_out.len(), checked_mul(k, cov_len)?)?;
    ensure_len(work.len(), gmm_m_step_work_len(k, d, kind)?)?;
    if let Some(points) = reseed_points {
        ensure_len(points.len(), kd)?;
        if !points[..kd].iter().all(|v| v.is_finite()) {
            return Err(Status::NonFinite);
        }
    }
    let stats = &stats[..stats_len];
    if !stats.iter().all(|v| v.is_finite()) || !means[..kd].iter().all(|v| v.is_finite()) {
        return Err(Status::NonFinite);
    }
    let block = 1 + d + cov_len;
    let s = stats_view(stats, k, block);
    let masses_ok = s.blocks.chunks_exact(block).all(|b| b[0] >= 0.0);
    if !masses_ok || s.samples < 1.0 || s.weight <= 0.0 {
        return Err(Status::BadParameter);
    }
    let plen = params_len(k, d, kind)?;
    let (block_params, rest) = work.split_at_mut(plen);
    let (sample_cov, rest) = rest.split_at_mut(cov_len);
    let (data_mean, scratch) = rest.split_at_mut(d);
    data_covariance(stats, k, d, kind, &means[..kd], data_mean, sample_cov);
    let mut p = split_params(block_params, k, d, cov_len);
    p.means.copy_from_slice(&means[..kd]);
    let prior = prior_samples(opts, s.samples);
    let data_mean: &[f64] = data_mean;
    let mut reseed = |c: usize| match reseed_points {
        Some(points) => &points[c * d..(c + 1) * d],
        None => data_mean,
    };
    let reseeded = m_step(
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
    let floor = 1e-12
        * (0..d)
            .map(|a| sample_cov[kind.variance_index(d, a)])
            .sum::<f64>()
        / d as f64;
    let regularized = repair_covariances(p.covs, k, d, kind, opts.reg_covar, floor, scratch)?;
    weights_out[..k].copy_from_slice(p.weights);
    means[..kd].copy_from_slice(p.means);
    covs_out[..k * cov_len].copy_from_slice(p.covs);
    Ok(GmmMStepReport {
        reseeded,
        regularized,
    })
}

/// The weighted mean and covariance of the samples behind `stats` (taken about `refs`), by the
/// law of total variance: x - m = (x - a_k) + (a_k - m) in every component's sums.
fn data_covariance(
    stats: &[f64],
    k: usize,
    d: usize,
    kind: CovKind,
    refs: &[f64],
    mean: &mut [f64],
    cov: &mut [f64],
) {
    let cov_len = cov.len();
    let s = stats_view(stats, k, 1 + d + cov_len);
    let block = |c: usize| &s.blocks[c * s.block..(c + 1) * s.block];
    let total: f64 = (0..k).map(|c| block(c)[0]).sum();
    mean.fill(0.0);
    for c in 0..k {
        let (b, a) = (block(c), &refs[c * d..(c + 1) * d]);
        for (m, (&s1, &aa)) in mean.iter_mut().zip(b[1..1 + d].iter().zip(a)) {
            *m += (b[0] * aa + s1) / total;
        }
    }
    cov.fill(0.0);
    for c in 0..k {
        let (b, a) = (block(c), &refs[c * d..(c + 1) * d]);
        let (mass, s1, s2) = (b[0], &b[1..1 + d], &b[1 + d..]);
        let e = |i: usize| a[i] - mean[i];
        for i in 0..d {
            let js = match kind {
                CovKind::Full => i..d,
                CovKind::Diag => i..i + 1,
            };
            for j in js {
                let index = match kind {
                    CovKind::Full => i * d + j,
                    CovKind::Diag => i,
                };
                cov[index] +=
                    (s2[index] + e(i) * s1[j] + s1[i] * e(j) + mass * e(i) * e(j)) / total;
            }
        }
    }
    mirror_upper(cov, d, kind);
}

/// The sample covariance of the n samples `x`, (1/n) sum_i (x_i - xbar)(x_i - xbar)^T (diagonal:
/// its diagonal), into `out` (c doubles): the mean, then the statistics about it of one component
/// that owns every sample, both chunk by chunk ([`sum_over_chunks`]: the same result for any
/// `threads`). `total` holds at least 1 + d + c + 3 doubles and `work` that many plus
/// [`chunk_scratch_len`]`(1, d, chunk_rows(n))` (scratch).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sample_covariance(
    threads: usize,
    x: &[f64],
    n: usize,
    d: usize,
    kind: CovKind,
    out: &mut [f64],
    total: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let c = out.len();
    let sum = &mut total[..d];
    sum.fill(0.0);
    sum_over_chunks(threads, n, sum, work, 0, |chunk, slot, _| {
        let rows = chunk_range(chunk, n);
        for row in x[rows.start * d..rows.end * d].chunks_exact(d) {
            add_into(slot, row);
        }
        Ok(())
    })?;
    // The mean waits in `out` until the scatter replaces it.
    for (m, &s) in out.iter_mut().zip(sum.iter()) {
        *m = s / n as f64;
    }
    let mean = &out[..d];
    let block = &mut total[..1 + d + c + TOTALS];
    block.fill(0.0);
    let max_rows = chunk_rows(n);
    let scratch_len = chunk_scratch_len(1, d, max_rows)?;
    sum_over_chunks(
        threads,
        n,
        block,
        work,
        scratch_len,
        |chunk, slot, scratch| {
            let rows = chunk_range(chunk, n);
            let s = split_chunk_scratch(scratch, 1, d, max_rows);
            let ones = &mut s.resp[..rows.len()];
            ones.fill(1.0);
            let xc = &x[rows.start * d..rows.end * d];
            add_weighted(xc, ones, 1, d, kind, mean, slot, s.centred);
            Ok(())
        },
    )?;
    for (o, &s2) in out.iter_mut().zip(&block[1 + d..1 + d + c]) {
        *o = s2 / n as f64;
    }
    mirror_upper(out, d, kind);
    Ok(())
}

/// sum_i w_i log f(x_i) over the n samples `x` under `fm` (w_i = 1 without sample weights),
/// chunk by chunk as [`accumulate`] (the same result for any `threads`). `work` holds
/// 1 + [`chunk_scratch_len`]`(K, d, chunk_rows(n))` doubles. `NonFinite` when the sum is not
/// finite.
pub(crate) fn log_likelihood(
    threads: usize,
    fm: &FactoredMixture,
    x: &[f64],
    n: usize,
    sample_weights: Option<SampleWeights>,
    work: &mut [f64],
) -> Result<f64, Status> {
    let (k, d) = (fm.n_components(), fm.dim());
    let max_rows = chunk_rows(n);
    let scratch_len = chunk_scratch_len(k, d, max_rows)?;
    let mut total = [0.0];
    sum_over_chunks(
        threads,
        n,
        &mut total,
        work,
        scratch_len,
        |c, slot, scratch| {
            let rows = chunk_range(c, n);
            let s = split_chunk_scratch(scratch, k, d, max_rows);
            let (m, xc) = (rows.len(), &x[rows.start * d..rows.end * d]);
            slot[0] = match sample_weights {
                None => fm.log_likelihood(xc, m, s.pass)?,
                Some(sw) => {
                    let log_f = &mut s.log_f[..m];
                    fm.log_density(xc, m, log_f, s.pass)?;
                    log_f
                        .iter()
                        .enumerate()
                        .map(|(i, l)| sw.at(rows.start + i) * l)
                        .sum()
                }
            };
            Ok(())
        },
    )?;
    if total[0].is_finite() {
        Ok(total[0])
    } else {
        Err(Status::NonFinite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The four-at-a-time scatter (every fixed-d instance, the runtime-d one, AVX2 or not)
    /// against the plain per-sample definition, added to what the sums held.
    #[test]
    fn weighted_scatter_matches_its_definition() {
        let mut rng = Rng::new(3);
        for d in [1usize, 3, 10, 16, 17, 23] {
            let (n, k, c) = (43usize, 3usize, 1usize);
            let x: std::vec::Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
            let resp: std::vec::Vec<f64> = (0..n * k).map(|_| rng.uniform()).collect();
            let a: std::vec::Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            let mut s1 = std::vec![0.5; d];
            let mut s2 = std::vec![0.25; d * d];
            let mut centred = std::vec![f64::NAN; 4 * d];
            dispatch_dim!(
                d,
                weighted_scatter_full(&x, &resp, k, c, &a, d, &mut s1, &mut s2, &mut centred)
            );
            let r = |i: usize| resp[i * k + c];
            for i in 0..d {
                let want: f64 = 0.5 + (0..n).map(|s| r(s) * (x[s * d + i] - a[i])).sum::<f64>();
                assert!(
                    (s1[i] - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "d={d} {i}"
                );
                for j in i..d {
                    let want: f64 = 0.25
                        + (0..n)
                            .map(|s| r(s) * (x[s * d + i] - a[i]) * (x[s * d + j] - a[j]))
                            .sum::<f64>();
                    let got = s2[i * d + j];
                    assert!(
                        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                        "d={d} ({i},{j})"
                    );
                }
            }
        }
    }
}
