//! C ABI of the fit over samples read in chunks ([`crate::gmm::gmm_fit_chunked`]): memory that
//! does not grow with the number of samples.

use super::gmm::{MkGmmFitOptions, MkGmmFitReport};
use super::{
    mixture_in, mixture_out, nonzero, optional_slice_mut, run, shape_in, shape_out, slice_mut,
    work_len_for_c, MkMixture, MkMixtureOut, Shape,
};
use crate::gmm;
use crate::Status;
use core::ffi::c_void;

/// The sample reader of `mk_gmm_fit_chunked`: writes the samples `first, first + 1, ...` to
/// `out` (`max_rows` x d doubles, row-major), at most `max_rows` of them, stores how many it
/// wrote in `*rows_out`, and returns 0; any other return value stops the fit
/// (`MK_STATUS_READ_FAILED`). `context` is the fit's `context` argument, passed through.
pub type MkReadSamples = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        first: usize,
        max_rows: usize,
        out: *mut f64,
        rows_out: *mut usize,
    ) -> i32,
>;

/// Workspace length (doubles) of `mk_gmm_fit_chunked`, for its sizes and descriptors:
/// 3 (K (1 + d + c) + 3) + K (2d + c + 1) + (36 d + 64 K + 128 + r (K + 1)) +
/// 2 K (1 + d + c) + c + d + d*d + `chunk_rows` d, r = min(`chunk_rows`, 4096), c = d*d (full)
/// or d (diagonal): the statistics, one chunk's E-step, the M-step, one parameter block and one
/// chunk of samples. It does not depend on the number of samples. 0 if a descriptor is NULL, d,
/// `chunk_rows` or K is 0, d differs from a descriptor's, the shapes or kinds differ, or the
/// length overflows size_t.
///
/// # Safety
/// Non-null descriptors must be valid.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_fit_chunked_work_len(
    d: usize,
    chunk_rows: usize,
    start: *const MkMixture,
    fit: *const MkMixtureOut,
) -> usize {
    work_len_for_c(|| {
        nonzero(&[d, chunk_rows])?;
        // SAFETY: caller's contract.
        let s = unsafe { chunked_shape(d, start, fit) }?;
        gmm::gmm_fit_chunked_work_len(chunk_rows, s.k, d, s.kind)
    })
}

/// The shape `start` and `fit` share, of dimension d.
///
/// # Safety
/// Non-null descriptors must be valid.
unsafe fn chunked_shape(
    d: usize,
    start: *const MkMixture,
    fit: *const MkMixtureOut,
) -> Result<Shape, Status> {
    // SAFETY: caller's contract.
    let (a, b) = unsafe { (shape_in(start)?, shape_out(fit)?) };
    a.expect_dim(d)?;
    b.expect_dim(d)?;
    if (a.k, a.kind) != (b.k, b.kind) {
        return Err(Status::ShapeMismatch);
    }
    Ok(b)
}

/// Fits a Gaussian mixture to samples that `read` hands over in chunks, in memory that does not
/// grow with their number: each iteration is one pass over all the samples (from a ring buffer,
/// flash, or a sensor that replays its recording), which keeps only their sufficient statistics
/// (`mk_gmm_accumulate`, then `mk_gmm_m_step`). From the same start it is `mk_gmm_fit` to
/// rounding: the same iterations, stopping rule, `reg_covar`, prior and trace; one run (the
/// start's; `n_init`, `kmeans_iter`, `seed` and the `init_*` pointers are not used: a node
/// without a start fits its first chunk with `mk_gmm_fit`), emptied components reseeded at the
/// data mean.
///
/// A pass calls `read` with `first` = 0, then with `first` advanced by the rows returned, until
/// a call returns fewer than `chunk_rows` rows (0 included); every pass must give the same
/// number n >= K of samples.
///
/// Parameters:
/// - `read` (in): the sample reader (see `mk_read_samples`); `context` (in, optional): passed
///   to it.
/// - `d` (in): the dimension, > 0; `chunk_rows` (in): rows per call, > 0.
/// - `options` (in): see `mk_gmm_fit_options` (reg_covar, tol, max_iter, prior_samples,
///   penalized, min_component_samples, previous_lower_bound are used).
/// - `start` (in): the starting mixture, of `fit`'s shape.
/// - `fit` (out): K, d (= `d`) and the kind in; the fitted weights, means and covariances out.
/// - `trace` (out, optional): `options->max_iter` doubles, the mean log-likelihood at the start
///   of each iteration; entries past `report->iterations` are unspecified.
/// - `work` (scratch): `work_len` >= `mk_gmm_fit_chunked_work_len(d, chunk_rows, start, fit)`.
/// - `report` (out): as for `mk_gmm_fit` (`best_restart` 0; the log-likelihood from one more
///   pass, at the returned parameters).
///
/// Returns `MK_STATUS_OK`, or with the outputs and report untouched (the trace possibly
/// written): `MK_STATUS_NULL_POINTER` (`read`, `options`, `start`, `fit`, `work` or `report`),
/// `MK_STATUS_ZERO_SIZE` (d, `chunk_rows` or K is 0), `MK_STATUS_SIZE_OVERFLOW`,
/// `MK_STATUS_SHAPE_MISMATCH` (d differs from a descriptor's, or `start` and `fit` differ in K
/// or kind), `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_TOO_FEW_SAMPLES` (a pass of fewer
/// than K samples), `MK_STATUS_BAD_PARAMETER` (options as for `mk_gmm_fit`),
/// `MK_STATUS_NON_FINITE` (a sample or the start not finite, or sums that overflow),
/// `MK_STATUS_WEIGHTS`, `MK_STATUS_NOT_SPD` (a start covariance that is not positive definite,
/// or a covariance that cannot be factored even regularized), `MK_STATUS_READ_FAILED` (`read`
/// returned non-zero, more rows than asked, or a pass gave another number of samples than the
/// first), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; `read` must honour
/// its contract; outputs, trace and `work` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_gmm_fit_chunked(
    read: MkReadSamples,
    context: *mut c_void,
    d: usize,
    chunk_rows: usize,
    options: *const MkGmmFitOptions,
    start: *const MkMixture,
    fit: *const MkMixtureOut,
    trace: *mut f64,
    work: *mut f64,
    work_len: usize,
    report: *mut MkGmmFitReport,
) -> i32 {
    run(|| {
        let read_c = read.ok_or(Status::NullPointer)?;
        nonzero(&[d, chunk_rows])?;
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let o = unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
        let s = unsafe { chunked_shape(d, start, fit) }?;
        let start = unsafe { mixture_in(start) }?;
        let out = unsafe { mixture_out(fit) }?;
        let trace = unsafe { optional_slice_mut(trace, o.max_iter) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let report = unsafe { report.as_mut() }.ok_or(Status::NullPointer)?;
        let opts = o.to_rust(s.kind)?;
        let mut read = |first: usize, chunk: &mut [f64]| {
            let max_rows = chunk.len() / d;
            let mut rows = usize::MAX;
            // SAFETY: `chunk` holds max_rows x d doubles; the reader's contract.
            let code = unsafe { read_c(context, first, max_rows, chunk.as_mut_ptr(), &mut rows) };
            if code != 0 || rows > max_rows {
                return Err(Status::ReadFailed);
            }
            Ok(rows)
        };
        let r = gmm::gmm_fit_chunked(
            &mut read,
            d,
            chunk_rows,
            &opts,
            &start,
            out.weights,
            out.means,
            out.covs,
            trace,
            work,
        )?;
        *report = MkGmmFitReport::from(r);
        Ok(())
    })
}
