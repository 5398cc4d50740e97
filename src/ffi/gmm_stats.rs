//! C ABI of the Gaussian-mixture EM's sufficient statistics ([`crate::gmm::gmm_accumulate`],
//! [`crate::gmm::gmm_merge_stats`], [`crate::gmm::gmm_m_step`]): the pieces of an EM whose
//! samples are spread over threads, processes or machines, or stream past in chunks.

use super::gmm::MkGmmFitOptions;
use super::{
    mixture_in, mixture_out, nonzero, optional_slice, product, run, shape_in, shape_out, slice,
    slice_mut, work_len_for_c, MkMixture, MkMixtureOut,
};
use crate::gmm;
use crate::Status;

/// Length (doubles) of the statistics of a mixture of `mix`'s shape: K (1 + d + c) + 3, c = d*d
/// (`MK_COV_FULL`) or d (`MK_COV_DIAG`); only `mix->k`, `mix->d` and `mix->cov_kind` are read. 0
/// if `mix` is NULL, K or d is 0, the kind is unknown or the length overflows size_t.
///
/// The layout, per component k: N_k = sum_i w_i r_ik, then S1_k = sum_i w_i r_ik (x_i - a_k) (d),
/// then S2_k = sum_i w_i r_ik (x_i - a_k)(x_i - a_k)^T (c; full: upper triangle, zeros below),
/// with a_k the E-step mixture's means; then the number of samples, sum_i w_i and
/// sum_i w_i log f(x_i). Statistics of disjoint samples under one mixture add.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_stats_len(mix: *const MkMixture) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let s = unsafe { shape_in(mix) }?;
        gmm::gmm_stats_len(s.k, s.d, s.kind)
    })
}

/// Workspace length (doubles) of `mk_gmm_accumulate`: K (2d + c + 1) + 2 (K (1 + d + c) + 3) +
/// (36 d + 4160 K + 4224), independent of n; 0 as for `mk_gmm_stats_len`, or if n is 0 or d
/// differs from `mix->d`.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_accumulate_work_len(
    n: usize,
    d: usize,
    mix: *const MkMixture,
) -> usize {
    work_len_for_c(|| {
        nonzero(&[n, d])?;
        // SAFETY: caller's contract.
        let s = unsafe { shape_in(mix) }?;
        s.expect_dim(d)?;
        gmm::gmm_accumulate_work_len(s.k, s.d, s.kind)
    })
}

/// The E-step as statistics: adds to `stats` the statistics (see `mk_gmm_stats_len`) of the n
/// samples `x` under the mixture `mix`. Zero `stats` before the first chunk of an iteration;
/// calls on the chunks of a data set (on any thread, process or machine) add up, after
/// `mk_gmm_merge_stats` or `MPI_Allreduce` with `MPI_SUM`, to the statistics of the whole, to
/// rounding.
///
/// Parameters:
/// - `x` (in): n x d samples, row-major; `sample_weights` (in, optional): n doubles, finite,
///   >= 0; NULL weighs every sample 1.
/// - `mix` (in): the current mixture (K, d, kind and its arrays).
/// - `stats` (in/out): `mk_gmm_stats_len(mix)` doubles, added to.
/// - `work` (scratch): `work_len` >= `mk_gmm_accumulate_work_len(n, d, mix)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `stats` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_SHAPE_MISMATCH` (d differs from
/// `mix->d`), `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown kind), the
/// mixture's statuses (`MK_STATUS_WEIGHTS`, `MK_STATUS_NOT_SPD`, ...), `MK_STATUS_NON_FINITE`
/// (NaN or infinity in x or the weights, a log-density that is not finite, or sums that
/// overflow, also with what `stats` held),
/// `MK_STATUS_SAMPLE_WEIGHTS` (a negative weight), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; `stats` and `work`
/// must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_accumulate(
    x: *const f64,
    n: usize,
    d: usize,
    sample_weights: *const f64,
    mix: *const MkMixture,
    stats: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        nonzero(&[n, d])?;
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let s = unsafe { shape_in(mix) }?;
        s.expect_dim(d)?;
        let mix = unsafe { mixture_in(mix) }?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let sample_weights = unsafe { optional_slice(sample_weights, n) }?;
        let stats = unsafe { slice_mut(stats, gmm::gmm_stats_len(s.k, s.d, s.kind)?) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        gmm::gmm_accumulate(&mix, x, n, sample_weights, stats, work)
    })
}

/// Merges statistics: `into[i] += from[i]` for the `mk_gmm_stats_len(mix)` doubles of each.
///
/// Returns `MK_STATUS_OK`, or with `into` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_BAD_PARAMETER` (unknown kind), `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_NON_FINITE` (a sum that is not finite), `MK_STATUS_PANIC`.
///
/// # Safety
/// `from` and `into` must be valid for `mk_gmm_stats_len(mix)` doubles and not overlap; a
/// non-null `mix` must point to a valid `mk_mixture` (only its shape is read).
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_merge_stats(
    from: *const f64,
    mix: *const MkMixture,
    into: *mut f64,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let s = unsafe { shape_in(mix) }?;
        let len = gmm::gmm_stats_len(s.k, s.d, s.kind)?;
        let from = unsafe { slice(from, len) }?;
        let into = unsafe { slice_mut(into, len) }?;
        gmm::gmm_merge_stats(into, from, s.k, s.d, s.kind)
    })
}

/// What `mk_gmm_m_step` did.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkGmmMStepReport {
    /// Components reseeded because their mass fell below the minimum.
    pub reseeded: usize,
    /// Covariances whose regularization had to be raised to factor them.
    pub regularized: usize,
}

/// Workspace length (doubles) of `mk_gmm_m_step`: K (1 + d + c) + c + d + d*d; 0 if `fit` is
/// NULL, K or d is 0, the kind is unknown or the length overflows size_t.
///
/// # Safety
/// A non-null `fit` must point to a valid `mk_mixture_out`.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_m_step_work_len(fit: *const MkMixtureOut) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let s = unsafe { shape_out(fit) }?;
        gmm::gmm_m_step_work_len(s.k, s.d, s.kind)
    })
}

/// The M-step from statistics, as `mk_gmm_fit` computes it (reg_covar, the covariance prior,
/// raised regularization for a covariance that does not factor). S_x (the data covariance of
/// the prior, of reseeding and of the collapse floor) is computed from the statistics: the
/// weighted covariance of the samples behind them.
///
/// Parameters:
/// - `stats` (in): `mk_gmm_stats_len` doubles, the merged statistics of every sample under the
///   mixture whose means `fit->means` holds.
/// - `reseed_points` (in, optional): K x d points; an emptied component restarts at its row
///   (with covariance S_x + reg_covar I); NULL: at the data mean.
/// - `options` (in): reg_covar, penalized, prior_samples, min_component_samples (the start,
///   tolerance, iteration and thread fields are not used; n_init must be >= 1 and threads
///   valid, as for `mk_gmm_fit`).
/// - `fit` (in/out): K, d, kind; `means` holds the E-step's means on entry; weights, means and
///   covariances receive the new parameters.
/// - `work` (scratch): `work_len` >= `mk_gmm_m_step_work_len(fit)` doubles.
/// - `report` (out): see `mk_gmm_m_step_report`.
///
/// Returns `MK_STATUS_OK`, or with `fit`'s arrays and `report` untouched:
/// `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown kind, options out of
/// their domain, statistics with a negative mass, no samples or a weight sum not positive),
/// `MK_STATUS_NON_FINITE` (statistics, means or reseed points not finite), `MK_STATUS_NOT_SPD`
/// (a covariance that never factors), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; `fit`'s arrays,
/// `work` and `report` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_m_step(
    stats: *const f64,
    reseed_points: *const f64,
    options: *const MkGmmFitOptions,
    fit: *const MkMixtureOut,
    work: *mut f64,
    work_len: usize,
    report: *mut MkGmmMStepReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let s = unsafe { shape_out(fit) }?;
        let o = unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
        let opts = o.to_rust(s.kind)?;
        let stats = unsafe { slice(stats, gmm::gmm_stats_len(s.k, s.d, s.kind)?) }?;
        let reseed_points = unsafe { optional_slice(reseed_points, product(s.k, s.d)?) }?;
        let out = unsafe { mixture_out(fit) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let report = unsafe { report.as_mut() }.ok_or(Status::NullPointer)?;
        let r = gmm::gmm_m_step(
            stats,
            s.k,
            s.d,
            &opts,
            out.weights,
            out.means,
            out.covs,
            reseed_points,
            work,
        )?;
        *report = MkGmmMStepReport {
            reseeded: r.reseeded,
            regularized: r.regularized,
        };
        Ok(())
    })
}
