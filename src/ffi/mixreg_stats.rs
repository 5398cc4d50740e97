//! C ABI of the regression-mixture EM's sufficient statistics ([`crate::mlr::mixreg_accumulate`],
//! [`crate::mlr::mixreg_accumulate_grouped`], [`crate::mlr::mixreg_m_step`]): the pieces of an EM
//! whose samples or nodes are spread over threads, processes or machines. Statistics merge by
//! adding, element by element (`MPI_Allreduce` with `MPI_SUM`, or a loop).

use super::mixreg::{mixreg_shape, MkMixReg, MkMixRegOptions, MkMixRegOut};
use super::{nonzero, product, run, slice, slice_mut, work_len_for_c};
use crate::mlr;
use crate::Status;

/// The checked shape (K, d, intercept, p) of an input descriptor, with d checked against the
/// data's.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixreg`.
unsafe fn input_shape(d: usize, mix: *const MkMixReg) -> Result<(usize, bool, usize), Status> {
    // SAFETY: caller's contract.
    let m = unsafe { mix.as_ref() }.ok_or(Status::NullPointer)?;
    let (k, md, intercept, p) = mixreg_shape(m.k, m.d, m.intercept)?;
    if md != d {
        return Err(Status::ShapeMismatch);
    }
    Ok((k, intercept, p))
}

/// Length (doubles) of the statistics of a regression mixture of `mix`'s shape (only `k`, `d`
/// and `intercept` are read): K p^2 + K p + 3 K + 4, p = d + intercept. Per component the Gram
/// sum_j r_jk G_j (p x p, upper triangle), then K vectors sum_j r_jk (b_j - G_j theta_k) (p),
/// K residual sums at theta_k, K masses sum_j r_jk, K sample masses sum_j r_jk n_j; then the
/// number of samples, sum y^2, sum y and the log-likelihood. 0 if `mix` is NULL, K or d is 0,
/// the intercept is not 0/1, or the length overflows.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixreg`.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_stats_len(mix: *const MkMixReg) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let m = unsafe { mix.as_ref() }.ok_or(Status::NullPointer)?;
        let (k, d, intercept, _) = mixreg_shape(m.k, m.d, m.intercept)?;
        mlr::mixreg_stats_len(k, d, intercept)
    })
}

/// Workspace length (doubles) of `mk_mixreg_accumulate`: K (p + 2) + (K p^2 + K p + 3 K + 4) +
/// 3 K + 64 (2 p + 2 K + 6), independent of n; 0 if `mix` is NULL, n or d is 0, d differs from
/// `mix->d`, the intercept is not 0/1, or the length overflows.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixreg`.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_accumulate_work_len(
    n: usize,
    d: usize,
    mix: *const MkMixReg,
) -> usize {
    work_len_for_c(|| {
        nonzero(&[n])?;
        // SAFETY: caller's contract.
        let (k, intercept, _) = unsafe { input_shape(d, mix) }?;
        mlr::mixreg_accumulate_work_len(k, d, intercept)
    })
}

/// The options and parameters of an accumulation, from the C arguments.
///
/// # Safety
/// As documented for `mk_mixreg_accumulate`.
unsafe fn accumulate_args<'a>(
    d: usize,
    options: *const MkMixRegOptions,
    mix: *const MkMixReg,
) -> Result<(mlr::MixRegOptions, [&'a [f64]; 3]), Status> {
    // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
    let (k, intercept, p) = unsafe { input_shape(d, mix) }?;
    let m = unsafe { &*mix };
    let o = *unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
    let params = [
        unsafe { slice(m.weights, k) }?,
        unsafe { slice(m.coefs, product(k, p)?) }?,
        unsafe { slice(m.sigma2, k) }?,
    ];
    Ok((o.to_options(k, intercept)?, params))
}

/// The E-step of `mk_mixreg_fit` as statistics: adds to `stats` (`mk_mixreg_stats_len(mix)`
/// doubles, zeroed before the first chunk of an iteration) the statistics of the n samples under
/// the mixture `mix`. Calls on the chunks of a data set (on any thread, process or machine) add
/// up to the statistics of the whole, to rounding.
///
/// Parameters:
/// - `x` (in): n x d samples, row-major; `y` (in): n responses.
/// - `options` (in): `noise` and `known_sigma` are read; `symmetric` must be 0 (the statistics
///   serve the general model).
/// - `mix` (in): the current parameters (K, d, intercept, weights, coefficients, variances).
/// - `stats` (in/out): added to. `work` (scratch): `work_len` >= `mk_mixreg_accumulate_work_len`.
///
/// Returns `MK_STATUS_OK`, or with `stats` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_SHAPE_MISMATCH` (d differs from
/// `mix->d`), `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown noise
/// code, symmetric, known_sigma or a variance not > 0, intercept not 0/1), `MK_STATUS_WEIGHTS`,
/// `MK_STATUS_NON_FINITE` (inputs, or sums, also with what `stats` held, not finite),
/// `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; `stats` and `work`
/// must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_accumulate(
    x: *const f64,
    n: usize,
    d: usize,
    y: *const f64,
    options: *const MkMixRegOptions,
    mix: *const MkMixReg,
    stats: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        nonzero(&[n, d])?;
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (opts, [w, c, s2]) = unsafe { accumulate_args(d, options, mix) }?;
        let x = unsafe { slice(x, product(n, d)?) }?;
        let y = unsafe { slice(y, n) }?;
        let len = mlr::mixreg_stats_len(opts.k, d, opts.intercept)?;
        let stats = unsafe { slice_mut(stats, len) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        mlr::mixreg_accumulate(x, y, n, d, &opts, w, c, s2, stats, work)
    })
}

/// Workspace length (doubles) of `mk_mixreg_accumulate_grouped`: as
/// `mk_mixreg_accumulate_work_len`, independent of m.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixreg`.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_accumulate_grouped_work_len(
    m: usize,
    d: usize,
    mix: *const MkMixReg,
) -> usize {
    // SAFETY: caller's contract.
    unsafe { mk_mixreg_accumulate_work_len(m, d, mix) }
}

/// The E-step of `mk_mixreg_fit_grouped` as statistics, over m nodes' statistics
/// (`node_stats`: m x `mk_mixreg_node_stats_len(d, mix->intercept)`, checked as that fit checks
/// them); otherwise as `mk_mixreg_accumulate`. Also returns `MK_STATUS_NODE_SIZES` and
/// `MK_STATUS_NOT_SPD` for node statistics no data can produce.
///
/// # Safety
/// As for `mk_mixreg_accumulate`, with `node_stats` valid for m node records.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_accumulate_grouped(
    node_stats: *const f64,
    m: usize,
    d: usize,
    options: *const MkMixRegOptions,
    mix: *const MkMixReg,
    stats: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        nonzero(&[m, d])?;
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (opts, [w, c, s2]) = unsafe { accumulate_args(d, options, mix) }?;
        let node_len = mlr::node_stats_len(d, opts.intercept)?;
        let node_stats = unsafe { slice(node_stats, product(m, node_len)?) }?;
        let len = mlr::mixreg_stats_len(opts.k, d, opts.intercept)?;
        let stats = unsafe { slice_mut(stats, len) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        mlr::mixreg_accumulate_grouped(node_stats, m, d, &opts, w, c, s2, stats, work)
    })
}

/// Workspace length (doubles) of `mk_mixreg_m_step`: K (p + 2) + (K p^2 + K p + 3 K + 4) +
/// 2 p^2 + p; 0 if `fit` is NULL, K or d is 0, the intercept is not 0/1, or the length
/// overflows.
///
/// # Safety
/// A non-null `fit` must point to a valid `mk_mixreg_out`.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_m_step_work_len(fit: *const MkMixRegOut) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let f = unsafe { fit.as_ref() }.ok_or(Status::NullPointer)?;
        let (k, d, intercept, _) = mixreg_shape(f.k, f.d, f.intercept)?;
        mlr::mixreg_m_step_work_len(k, d, intercept)
    })
}

/// The M-step of the regression-mixture fits from statistics (weights, coefficients, noise
/// variances with their floors, emptied components, as `mk_mixreg_fit` computes them).
///
/// Parameters:
/// - `stats` (in): the merged statistics of all the data under the parameters in `fit`.
/// - `options` (in): `noise`, `known_sigma`; `symmetric` must be 0.
/// - `fit` (in/out): K, d, intercept; `coefs` and `sigma2` hold the E-step's parameters on entry
///   and the new ones on return (an emptied component keeps its own); `weights` the new weights.
/// - `work` (scratch): `work_len` >= `mk_mixreg_m_step_work_len(fit)`.
/// - `sigma_floored_out` (out): how many noise variances were set to a floor.
///
/// Returns `MK_STATUS_OK`, or with `fit`'s arrays untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE`, `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_BUFFER_TOO_SHORT`,
/// `MK_STATUS_BAD_PARAMETER` (options, negative masses), `MK_STATUS_NON_FINITE`,
/// `MK_STATUS_NOT_SPD` (fewer samples than coefficients, a singular weighted Gram),
/// `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; `fit`'s arrays, `work`
/// and `sigma_floored_out` must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_mixreg_m_step(
    stats: *const f64,
    options: *const MkMixRegOptions,
    fit: *const MkMixRegOut,
    work: *mut f64,
    work_len: usize,
    sigma_floored_out: *mut usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let f = unsafe { fit.as_ref() }.ok_or(Status::NullPointer)?;
        let (k, d, intercept, p) = mixreg_shape(f.k, f.d, f.intercept)?;
        let o = *unsafe { options.as_ref() }.ok_or(Status::NullPointer)?;
        let opts = o.to_options(k, intercept)?;
        let stats = unsafe { slice(stats, mlr::mixreg_stats_len(k, d, intercept)?) }?;
        let weights = unsafe { slice_mut(f.weights, k) }?;
        let coefs = unsafe { slice_mut(f.coefs, product(k, p)?) }?;
        let sigma2 = unsafe { slice_mut(f.sigma2, k) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let floored_out = unsafe { sigma_floored_out.as_mut() }.ok_or(Status::NullPointer)?;
        *floored_out = mlr::mixreg_m_step(stats, d, &opts, weights, coefs, sigma2, work)?;
        Ok(())
    })
}
