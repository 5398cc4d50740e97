//! The `extern "C"` layer: null and length checks, then the safe API. No mathematics here.
//!
//! Conventions of every `mk_*` function (the header repeats them per function):
//! - Arrays are dense, row-major `double`, owned by the caller, naturally aligned, and must not
//!   overlap unless a function says so. Lengths are in elements.
//! - A fallible function returns an `int32_t` status: `MK_STATUS_OK` (0) or one failure code
//!   (`mk_status_str` gives its message). Outputs are written only on success.
//! - Scratch space is a caller buffer `work` of `work_len` doubles; `mk_*_work_len` gives the
//!   length needed (0 when the sizes are zero or the length overflows `size_t`).
//! - Under the `std` feature every body runs inside `catch_unwind`: a panic (a mixkern bug)
//!   becomes `MK_STATUS_PANIC` instead of unwinding into C.

use crate::gmm::{CovKind, Mixture};
use crate::Status;
use core::ffi::c_char;

mod cmlr;
mod distance;
mod gmm;
mod mixreg;
mod reduce;
mod robust;
mod wire;
pub use cmlr::*;
pub use distance::*;
pub use gmm::*;
pub use mixreg::*;
pub use reduce::*;
pub use robust::*;
pub use wire::*;

/// Covariance kind: full d x d symmetric positive definite matrices, row-major (d*d doubles
/// per component).
pub const MK_COV_FULL: i32 = 0;
/// Covariance kind: diagonal covariances, the d positive variances (d doubles per component).
pub const MK_COV_DIAG: i32 = 1;

/// The covariance kind from its C code: `BadParameter` for an unknown code.
pub(crate) fn parse_cov_kind(code: i32) -> Result<CovKind, Status> {
    match code {
        MK_COV_FULL => Ok(CovKind::Full),
        MK_COV_DIAG => Ok(CovKind::Diag),
        _ => Err(Status::BadParameter),
    }
}

/// The checked mixture view over C buffers: `BadParameter` (kind), `SizeOverflow`,
/// `NullPointer`, then the checks of [`Mixture::new`].
///
/// # Safety
/// Non-null pointers must be valid for reads of K, K*d and K*c doubles (c = d*d for full, d for
/// diagonal covariances) for `'a`.
pub(crate) unsafe fn mixture<'a>(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    k: usize,
    d: usize,
    kind_code: i32,
) -> Result<Mixture<'a>, Status> {
    let kind = parse_cov_kind(kind_code)?;
    // Every length is computed before any slice is formed.
    let len_means = product(k, d)?;
    let len_covs = product(k, kind.cov_len(d)?)?;
    // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
    let weights = unsafe { slice(weights, k) }?;
    let means = unsafe { slice(means, len_means) }?;
    let covs = unsafe { slice(covs, len_covs) }?;
    Mixture::new(weights, means, covs, k, d, kind)
}

/// Runs an FFI body and turns its outcome into a status code, catching panics under `std`.
fn run(body: impl FnOnce() -> Result<(), Status>) -> i32 {
    #[cfg(feature = "std")]
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(Err(Status::Panic));
    #[cfg(not(feature = "std"))]
    let outcome = body();
    match outcome {
        Ok(()) => Status::Ok.code(),
        Err(status) => status.code(),
    }
}

/// Checks that `len` elements of `T` fit in `isize::MAX` bytes, as slices require.
fn check_span<T>(len: usize) -> Result<(), Status> {
    if len > isize::MAX as usize / core::mem::size_of::<T>().max(1) {
        Err(Status::SizeOverflow)
    } else {
        Ok(())
    }
}

/// A shared slice from a C pointer: `NullPointer` if null, `SizeOverflow` if too long.
///
/// # Safety
/// A non-null `ptr` must be valid for reads of `len` elements for `'a`, and not be written
/// through another pointer meanwhile.
unsafe fn slice<'a, T>(ptr: *const T, len: usize) -> Result<&'a [T], Status> {
    if ptr.is_null() {
        return Err(Status::NullPointer);
    }
    check_span::<T>(len)?;
    // SAFETY: non-null, valid for `len` reads (caller's contract), span checked above.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// A mutable slice from a C pointer: `NullPointer` if null, `SizeOverflow` if too long.
///
/// # Safety
/// A non-null `ptr` must be valid for reads and writes of `len` elements for `'a`, and not be
/// accessed through another pointer meanwhile.
unsafe fn slice_mut<'a, T>(ptr: *mut T, len: usize) -> Result<&'a mut [T], Status> {
    if ptr.is_null() {
        return Err(Status::NullPointer);
    }
    check_span::<T>(len)?;
    // SAFETY: non-null, valid for `len` reads and writes, unaliased (caller's contract).
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// Like [`slice`], but a null pointer is `None` (an optional argument).
///
/// # Safety
/// As for [`slice`].
unsafe fn optional_slice<'a, T>(ptr: *const T, len: usize) -> Result<Option<&'a [T]>, Status> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { slice(ptr, len) }.map(Some)
    }
}

/// Like [`slice_mut`], but a null pointer is `None` (an optional output).
///
/// # Safety
/// As for [`slice_mut`].
unsafe fn optional_slice_mut<'a, T>(
    ptr: *mut T,
    len: usize,
) -> Result<Option<&'a mut [T]>, Status> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { slice_mut(ptr, len) }.map(Some)
    }
}

/// `n * k`, or `SizeOverflow`.
fn product(n: usize, k: usize) -> Result<usize, Status> {
    n.checked_mul(k).ok_or(Status::SizeOverflow)
}

/// A C boolean flag: 0 is false, 1 is true, anything else is `BadParameter`.
fn flag(value: i32) -> Result<bool, Status> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Status::BadParameter),
    }
}

/// A work length for C: the length, or 0 when the sizes are zero or the length overflows.
fn work_len_for_c(dims_nonzero: bool, len: Result<usize, Status>) -> usize {
    match len {
        Ok(n) if dims_nonzero => n,
        _ => 0,
    }
}

/// The message of a status code: a static NUL-terminated string, never NULL. Unknown codes give
/// "unknown mixkern status code".
#[no_mangle]
pub extern "C" fn mk_status_str(code: i32) -> *const c_char {
    match Status::from_code(code) {
        Some(status) => status.c_message().as_ptr(),
        None => c"unknown mixkern status code".as_ptr(),
    }
}

/// The library version, "MAJOR.MINOR.PATCH": a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn mk_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
