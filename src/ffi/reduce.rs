//! C ABI of the MM mixture reduction ([`crate::reduce`]).

use super::{
    mixture_in, mixture_out, optional_slice_mut, run, shape_in, shape_out, slice_mut,
    work_len_for_c, MkMixture, MkMixtureOut, Shape,
};
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

/// The shapes of a reduction, checked: the input's (M components) and the reduced one's (K),
/// with the start and the output of one shape and of the input's dimension and kind.
///
/// # Safety
/// Non-null descriptors must be valid.
unsafe fn reduce_shapes(
    input: *const MkMixture,
    start: *const MkMixture,
    out: *const MkMixtureOut,
) -> Result<(Shape, Shape), Status> {
    // SAFETY (all blocks): caller's contract.
    let (si, ss, so) = unsafe { (shape_in(input)?, shape_in(start)?, shape_out(out)?) };
    ss.expect(so)?;
    ss.expect(Shape { k: ss.k, ..si })?;
    Ok((si, ss))
}

/// Workspace length (doubles) of `mk_reduce_mm` for M input components (`input->k`) reduced to
/// K (`start->k`) in dimension d: M c + M K + K + K d + 2 K c + d p + d + 2 K + 2 M with
/// c = d*d (`MK_COV_FULL`) or d (`MK_COV_DIAG`), and p = d rounded up to a multiple of 4
/// (full) or 1 (diagonal); 0 if a descriptor is NULL, a size is 0, the shapes disagree, the kind
/// is unknown, or the length overflows size_t.
///
/// # Safety
/// Non-null descriptors must be valid.
#[no_mangle]
pub unsafe extern "C" fn mk_reduce_mm_work_len(
    input: *const MkMixture,
    start: *const MkMixture,
    out: *const MkMixtureOut,
) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let (si, ss) = unsafe { reduce_shapes(input, start, out) }?;
        reduce::reduce_mm_work_len(si.k, ss.k, si.d, si.kind)
    })
}

/// Reduces an M-component mixture to at most K components by the MM algorithm (composite
/// transportation divergence with KL cost): assign each input component to the reduced
/// component of smallest KL(input || reduced) (ties split; softmax with entropic_lambda > 0;
/// the mass `trim` of largest cost left out), then moment-match, until the objective stops
/// decreasing by more than tol relative, or max_iter.
///
/// Parameters:
/// - `input` (in): the M-component mixture to reduce.
/// - `start` (in): the K starting components, of the input's dimension and kind; K <= M.
/// - `options` (in, optional): see `mk_reduce_options`; NULL uses the defaults.
/// - `out` (out): of the start's shape; the first `report->kept` components are the result
///   (weights summing to 1), the rest zero.
/// - `trace` (out, optional): `options->max_iter` doubles, the objective of each iteration
///   (non-increasing); entries past the iterations run are not written.
/// - `work` (scratch): `work_len` >= `mk_reduce_mm_work_len(input, start, out)` doubles.
/// - `report` (out): see `mk_reduce_report`.
///
/// Returns `MK_STATUS_OK`, or with the outputs and report untouched (the trace possibly
/// written): `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_SHAPE_MISMATCH` (start and output shapes differ, or their d or kind differ from
/// the input's), `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown
/// covariance kind, K > M, tol negative or NaN, max_iter 0, entropic_lambda negative or not
/// finite, trim outside [0, 1)), `MK_STATUS_NON_FINITE`, `MK_STATUS_WEIGHTS`,
/// `MK_STATUS_NOT_SPD` (an invalid input or start mixture, or a cost or moment match that
/// overflows), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs, trace and
/// `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_reduce_mm(
    input: *const MkMixture,
    start: *const MkMixture,
    options: *const MkReduceOptions,
    out: *const MkMixtureOut,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkReduceReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        unsafe { reduce_shapes(input, start, out) }?;
        let input = unsafe { mixture_in(input) }?;
        let start = unsafe { mixture_in(start) }?;
        let opts = match unsafe { options.as_ref() } {
            Some(o) => ReduceOptions::from(o),
            None => ReduceOptions::default(),
        };
        let out = unsafe { mixture_out(out) }?;
        let trace = unsafe { optional_slice_mut(trace, opts.max_iter) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let report = unsafe { report.as_mut() }.ok_or(Status::NullPointer)?;
        let r = reduce::reduce_mm(
            &input,
            &start,
            &opts,
            out.weights,
            out.means,
            out.covs,
            trace,
            work,
        )?;
        *report = r.into();
        Ok(())
    })
}
