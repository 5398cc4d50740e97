//! C ABI of the MM mixture reduction ([`crate::reduce`]).

use super::{mixture, optional_slice_mut, parse_cov_kind, product, run, slice_mut, work_len_for_c};
use crate::reduce::{self, ReduceOptions, ReduceReport};
use crate::Status;

/// Options of `mk_reduce_mm` (and of the reduction inside `mk_aggregate`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkReduceOptions {
    /// Stop when the objective drops by no more than tol times its previous absolute value;
    /// >= 0. Default 1e-5.
    pub tol: f64,
    /// The largest number of iterations, > 0. Default 100.
    pub max_iter: usize,
    /// Entropic regularization lambda: 0 for hard assignments, > 0 (finite) for soft ones.
    /// Default 0.
    pub entropic_lambda: f64,
    /// Trimmed fraction of the input mass in [0, 1): each assignment keeps only the mass
    /// 1 - trim of smallest cost. Default 0.
    pub trim: f64,
}

impl From<&MkReduceOptions> for ReduceOptions {
    fn from(o: &MkReduceOptions) -> Self {
        ReduceOptions {
            tol: o.tol,
            max_iter: o.max_iter,
            entropic_lambda: o.entropic_lambda,
            trim: o.trim,
        }
    }
}

impl From<ReduceOptions> for MkReduceOptions {
    fn from(o: ReduceOptions) -> Self {
        MkReduceOptions {
            tol: o.tol,
            max_iter: o.max_iter,
            entropic_lambda: o.entropic_lambda,
            trim: o.trim,
        }
    }
}

/// What `mk_reduce_mm` reports.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkReduceReport {
    /// The objective at the last assignment step (the returned mixture's is no larger).
    pub objective: f64,
    /// Iterations run (0 when nothing was reduced, in `mk_aggregate` with COAT or Medoid).
    pub iterations: usize,
    /// 1 if the tolerance was met before max_iter, else 0.
    pub converged: i32,
    /// The number of components left with positive mass: the first `kept` of the outputs.
    pub kept: usize,
}

impl From<ReduceReport> for MkReduceReport {
    fn from(r: ReduceReport) -> Self {
        MkReduceReport {
            objective: r.objective,
            iterations: r.iterations,
            converged: i32::from(r.converged),
            kept: r.kept,
        }
    }
}

/// The defaults: tol 1e-5, max_iter 100, hard assignments (entropic_lambda 0), no trimming.
#[no_mangle]
pub extern "C" fn mk_reduce_options_default() -> MkReduceOptions {
    ReduceOptions::default().into()
}

/// Workspace length (doubles) of `mk_reduce_mm` for M input components reduced to K in
/// dimension d: M c + M K + M + K + K d + 2 K c + c + d, c = d*d (`MK_COV_FULL`) or d
/// (`MK_COV_DIAG`); 0 if M, K or d is 0, `cov_kind` is unknown, or the length overflows size_t.
#[no_mangle]
pub extern "C" fn mk_reduce_mm_work_len(m: usize, k: usize, d: usize, cov_kind: i32) -> usize {
    let len = parse_cov_kind(cov_kind).and_then(|kind| reduce::reduce_mm_work_len(m, k, d, kind));
    work_len_for_c(m > 0 && k > 0 && d > 0, len)
}

/// Reduces an M-component mixture to at most K components by the MM algorithm (composite
/// transportation divergence with KL cost): assign each input component to the reduced
/// component of smallest KL(input || reduced) (ties split; softmax with entropic_lambda > 0;
/// the mass `trim` of largest cost left out), then moment-match, until the objective stops
/// decreasing by more than tol relative, or max_iter.
///
/// Parameters:
/// - `in_weights` (in): M doubles, >= 0, summing to 1; `in_means` (in): M*d; `in_covs` (in):
///   M*c, c = d*d (`MK_COV_FULL`, symmetric positive definite) or d (`MK_COV_DIAG`, > 0).
/// - `init_weights`, `init_means`, `init_covs` (in): the K starting components, a valid
///   mixture of the same `cov_kind` (K, K*d, K*c doubles). K <= M.
/// - `options` (in, optional): see `mk_reduce_options`; NULL uses the defaults.
/// - `weights_out` (out): K doubles; `means_out` (out): K*d; `covs_out` (out): K*c. The first
///   `report->kept` components are the result (weights summing to 1), the rest zero.
/// - `trace` (out, optional): `max_iter` doubles, the objective of each iteration
///   (non-increasing); entries past the iterations run are not written.
/// - `work` (scratch): `work_len` >= `mk_reduce_mm_work_len(m, k, d, cov_kind)` doubles.
/// - `report` (out): see `mk_reduce_report`.
///
/// Returns `MK_STATUS_OK`, or with the outputs and report untouched (the trace possibly
/// written): `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown cov_kind, K > M, tol
/// negative or NaN, max_iter 0, entropic_lambda negative or not finite, trim outside [0, 1)),
/// `MK_STATUS_NON_FINITE`, `MK_STATUS_WEIGHTS`, `MK_STATUS_NOT_SPD` (an invalid input or start
/// mixture, or a cost or moment match that overflows), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs, trace and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_reduce_mm(
    in_weights: *const f64,
    in_means: *const f64,
    in_covs: *const f64,
    m: usize,
    init_weights: *const f64,
    init_means: *const f64,
    init_covs: *const f64,
    k: usize,
    d: usize,
    cov_kind: i32,
    options: *const MkReduceOptions,
    weights_out: *mut f64,
    means_out: *mut f64,
    covs_out: *mut f64,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkReduceReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let input = unsafe { mixture(in_weights, in_means, in_covs, m, d, cov_kind) }?;
        let init = unsafe { mixture(init_weights, init_means, init_covs, k, d, cov_kind) }?;
        let kind = input.cov_kind();
        let opts = match unsafe { options.as_ref() } {
            Some(o) => ReduceOptions::from(o),
            None => ReduceOptions::default(),
        };
        let weights_out = unsafe { slice_mut(weights_out, k) }?;
        let means_out = unsafe { slice_mut(means_out, product(k, d)?) }?;
        let covs_out = unsafe { slice_mut(covs_out, product(k, kind.cov_len(d)?)?) }?;
        let trace = unsafe { optional_slice_mut(trace, opts.max_iter) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let report = unsafe { report.as_mut() }.ok_or(Status::NullPointer)?;
        let r = reduce::reduce_mm(
            &input,
            &init,
            &opts,
            weights_out,
            means_out,
            covs_out,
            trace,
            work,
        )?;
        *report = r.into();
        Ok(())
    })
}
