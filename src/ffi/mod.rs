//! The `extern "C"` layer: null and length checks, then the safe API. No mathematics here.
//!
//! The C API conventions (README's "The C API in five minutes" and the header preamble say the
//! same to C users):
//! - A mixture crosses the ABI as one descriptor that carries its own K, d and covariance kind:
//!   [`MkMixture`] (`mk_mixture`, read-only arrays) for inputs, [`MkMixtureOut`]
//!   (`mk_mixture_out`, writable arrays) for outputs; a single Gaussian as [`MkGaussian`]. m
//!   mixtures of one shape are one descriptor whose arrays hold the m mixtures concatenated.
//! - A sample matrix is its pointer followed by its rows and columns (`x, n, d`); a vector that
//!   belongs to the samples (y, sample weights) follows them. Output arrays whose lengths follow
//!   from the inputs carry no sizes of their own.
//! - One argument order: inputs, options, outputs, `work` and `work_len`, report. Sizes that
//!   must agree between arguments are checked (`MK_STATUS_SHAPE_MISMATCH`).
//! - `mk_X_work_len` takes exactly the size arguments and descriptors that `mk_X` takes, in the
//!   same order, and returns 0 when a size is zero, the shapes disagree or the length overflows.
//! - A fallible function returns an `int32_t` status: `MK_STATUS_OK` (0) or one failure code per
//!   cause (`mk_status_str` gives its message). Outputs are written only on success (a function
//!   that reports per-item outcomes says when it writes them anyway).
//! - Arrays are dense, row-major `double`, owned by the caller, naturally aligned, and must not
//!   overlap unless a function says so. Lengths are in elements.
//! - Under the `std` feature every body runs inside `catch_unwind`: a panic (a mixkern bug)
//!   becomes `MK_STATUS_PANIC` instead of unwinding into C. Without `std` a panic ends in the
//!   bare-metal panic handler (feature `panic-handler`, see `mk_set_panic_hook`).

use crate::gmm::{CovKind, Mixture};
use crate::Status;
use core::ffi::c_char;

mod cmlr;
mod distance;
mod gmm;
mod gmm_chunked;
mod gmm_stats;
mod mixreg;
mod mixreg_stats;
mod reduce;
mod robust;
mod wire;
pub use cmlr::*;
pub use distance::*;
pub use gmm::*;
pub use gmm_chunked::*;
pub use gmm_stats::*;
pub use mixreg::*;
pub use mixreg_stats::*;
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

/// A mixture as a C input: K components in d dimensions with covariance kind `cov_kind`
/// (`MK_COV_FULL` or `MK_COV_DIAG`), and its three read-only arrays: `weights` (K doubles, >= 0,
/// summing to 1 within 1e-9), `means` (K*d, row-major), `covs` (K*d*d symmetric positive
/// definite matrices, row-major, for `MK_COV_FULL`; K*d positive variances for `MK_COV_DIAG`).
/// Write it with designated initializers, each size once by name:
/// `mk_mixture g = { .k = 3, .d = 2, .cov_kind = MK_COV_FULL, .weights = w, .means = mu, .covs = s };`
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkMixture {
    /// Number of components K, > 0.
    pub k: usize,
    /// Dimension d, > 0.
    pub d: usize,
    /// `MK_COV_FULL` or `MK_COV_DIAG`.
    pub cov_kind: i32,
    /// K weights.
    pub weights: *const f64,
    /// K*d means, row-major.
    pub means: *const f64,
    /// K*d*d (`MK_COV_FULL`) or K*d (`MK_COV_DIAG`) covariance values.
    pub covs: *const f64,
}

/// A mixture as a C output: the shape the caller asks for (K, d, covariance kind) and three
/// writable arrays of K, K*d and K*d*d (`MK_COV_FULL`) or K*d (`MK_COV_DIAG`) doubles. The
/// descriptor itself is never written; its arrays are written only on success.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkMixtureOut {
    /// Number of components K, > 0.
    pub k: usize,
    /// Dimension d, > 0.
    pub d: usize,
    /// `MK_COV_FULL` or `MK_COV_DIAG`.
    pub cov_kind: i32,
    /// K weights (out).
    pub weights: *mut f64,
    /// K*d means, row-major (out).
    pub means: *mut f64,
    /// K*d*d (`MK_COV_FULL`) or K*d (`MK_COV_DIAG`) covariance values (out).
    pub covs: *mut f64,
}

impl MkMixture {
    /// A shape-only descriptor (NULL arrays), for the work-length queries.
    pub fn shape(k: usize, d: usize, cov_kind: i32) -> Self {
        MkMixture {
            k,
            d,
            cov_kind,
            weights: core::ptr::null(),
            means: core::ptr::null(),
            covs: core::ptr::null(),
        }
    }

    /// A descriptor over Rust slices, for Rust callers of the C ABI (tests, bindings). The
    /// slices must outlive every use of the descriptor.
    pub fn over(
        k: usize,
        d: usize,
        cov_kind: i32,
        weights: &[f64],
        means: &[f64],
        covs: &[f64],
    ) -> Self {
        MkMixture {
            k,
            d,
            cov_kind,
            weights: weights.as_ptr(),
            means: means.as_ptr(),
            covs: covs.as_ptr(),
        }
    }
}

impl MkMixtureOut {
    /// A descriptor over mutable Rust slices, for Rust callers of the C ABI. The slices must
    /// outlive every use of the descriptor, and not be used otherwise meanwhile.
    pub fn over(
        k: usize,
        d: usize,
        cov_kind: i32,
        weights: &mut [f64],
        means: &mut [f64],
        covs: &mut [f64],
    ) -> Self {
        MkMixtureOut {
            k,
            d,
            cov_kind,
            weights: weights.as_mut_ptr(),
            means: means.as_mut_ptr(),
            covs: covs.as_mut_ptr(),
        }
    }

    /// A shape-only descriptor (NULL arrays), for the work-length queries.
    pub fn shape(k: usize, d: usize, cov_kind: i32) -> Self {
        MkMixtureOut {
            k,
            d,
            cov_kind,
            weights: core::ptr::null_mut(),
            means: core::ptr::null_mut(),
            covs: core::ptr::null_mut(),
        }
    }
}

/// One Gaussian as a C input: dimension d > 0, covariance kind, `mean` (d doubles) and `cov`
/// (d*d symmetric positive definite, row-major, for `MK_COV_FULL`; d positive variances for
/// `MK_COV_DIAG`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkGaussian {
    /// Dimension d, > 0.
    pub d: usize,
    /// `MK_COV_FULL` or `MK_COV_DIAG`.
    pub cov_kind: i32,
    /// d doubles.
    pub mean: *const f64,
    /// d*d (`MK_COV_FULL`) or d (`MK_COV_DIAG`) doubles.
    pub cov: *const f64,
}

/// The shape of a mixture descriptor: (K, d, kind) with K, d > 0 and a known kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub k: usize,
    pub d: usize,
    pub kind: CovKind,
}

impl Shape {
    /// The checked shape: `ZeroSize` (K or d is 0), `BadParameter` (unknown kind),
    /// `SizeOverflow` (K*d or K*c overflows).
    fn new(k: usize, d: usize, kind_code: i32) -> Result<Shape, Status> {
        let kind = parse_cov_kind(kind_code)?;
        if k == 0 || d == 0 {
            return Err(Status::ZeroSize);
        }
        product(k, d)?;
        product(k, kind.cov_len(d)?)?;
        Ok(Shape { k, d, kind })
    }

    /// Doubles per covariance: d*d or d.
    pub fn c(&self) -> usize {
        // Checked in `new`.
        self.kind.cov_len(self.d).unwrap_or(0)
    }

    /// `ShapeMismatch` unless the dimension is `d`.
    pub fn expect_dim(&self, d: usize) -> Result<(), Status> {
        if self.d == d {
            Ok(())
        } else {
            Err(Status::ShapeMismatch)
        }
    }

    /// `ShapeMismatch` unless `other` has the same K, d and kind.
    pub fn expect(&self, other: Shape) -> Result<(), Status> {
        if *self == other {
            Ok(())
        } else {
            Err(Status::ShapeMismatch)
        }
    }
}

/// The shape of an input descriptor: `NullPointer`, then [`Shape::new`].
///
/// # Safety
/// A non-null `desc` must point to a valid `MkMixture`.
pub(crate) unsafe fn shape_in(desc: *const MkMixture) -> Result<Shape, Status> {
    // SAFETY: caller's contract.
    let desc = unsafe { desc.as_ref() }.ok_or(Status::NullPointer)?;
    Shape::new(desc.k, desc.d, desc.cov_kind)
}

/// The shape of an output descriptor: `NullPointer`, then [`Shape::new`].
///
/// # Safety
/// A non-null `desc` must point to a valid `MkMixtureOut`.
pub(crate) unsafe fn shape_out(desc: *const MkMixtureOut) -> Result<Shape, Status> {
    // SAFETY: caller's contract.
    let desc = unsafe { desc.as_ref() }.ok_or(Status::NullPointer)?;
    Shape::new(desc.k, desc.d, desc.cov_kind)
}

/// The arrays of m mixtures of one shape, concatenated (m = 1 for one mixture).
pub(crate) struct Stacked<'a> {
    pub shape: Shape,
    pub weights: &'a [f64],
    pub means: &'a [f64],
    pub covs: &'a [f64],
}

/// The arrays of m concatenated mixtures of an input descriptor's shape, unchecked beyond
/// their lengths.
///
/// # Safety
/// A non-null `desc` must point to a valid `MkMixture` whose non-null arrays are valid for
/// reads of m K, m K d and m K c doubles for `'a`.
pub(crate) unsafe fn stacked_in<'a>(
    desc: *const MkMixture,
    m: usize,
) -> Result<Stacked<'a>, Status> {
    // SAFETY (all blocks below): caller's contract; every length is computed before a slice.
    let shape = unsafe { shape_in(desc) }?;
    let desc = unsafe { &*desc };
    let mk = product(m, shape.k)?;
    let (len_means, len_covs) = (product(mk, shape.d)?, product(mk, shape.c())?);
    Ok(Stacked {
        shape,
        weights: unsafe { slice(desc.weights, mk) }?,
        means: unsafe { slice(desc.means, len_means) }?,
        covs: unsafe { slice(desc.covs, len_covs) }?,
    })
}

/// The checked mixture view of an input descriptor: the statuses of [`shape_in`], `NullPointer`
/// for a null array, then those of [`Mixture::new`].
///
/// # Safety
/// As for [`stacked_in`] with m = 1.
pub(crate) unsafe fn mixture_in<'a>(desc: *const MkMixture) -> Result<Mixture<'a>, Status> {
    // SAFETY: forwarded contract.
    let m = unsafe { stacked_in(desc, 1) }?;
    let s = m.shape;
    Mixture::new(m.weights, m.means, m.covs, s.k, s.d, s.kind)
}

/// The writable arrays of an output descriptor.
pub(crate) struct MixtureOut<'a> {
    pub shape: Shape,
    pub weights: &'a mut [f64],
    pub means: &'a mut [f64],
    pub covs: &'a mut [f64],
}

/// The arrays of an output descriptor: the statuses of [`shape_out`], `NullPointer` for a null
/// array.
///
/// # Safety
/// A non-null `desc` must point to a valid `MkMixtureOut` whose arrays are valid for reads and
/// writes of K, K d and K c doubles for `'a` and not accessed otherwise meanwhile.
pub(crate) unsafe fn mixture_out<'a>(desc: *const MkMixtureOut) -> Result<MixtureOut<'a>, Status> {
    // SAFETY (all blocks below): caller's contract; lengths checked by `shape_out`.
    let shape = unsafe { shape_out(desc) }?;
    let desc = unsafe { &*desc };
    Ok(MixtureOut {
        shape,
        weights: unsafe { slice_mut(desc.weights, shape.k) }?,
        means: unsafe { slice_mut(desc.means, shape.k * shape.d) }?,
        covs: unsafe { slice_mut(desc.covs, shape.k * shape.c()) }?,
    })
}

/// A Gaussian descriptor's shape (d, kind) and arrays: `NullPointer`, `ZeroSize` (d = 0),
/// `BadParameter` (kind), `SizeOverflow`.
///
/// # Safety
/// A non-null `desc` must point to a valid `MkGaussian` whose non-null arrays are valid for
/// reads of d and c doubles for `'a`.
pub(crate) unsafe fn gaussian_in<'a>(
    desc: *const MkGaussian,
) -> Result<(Shape, &'a [f64], &'a [f64]), Status> {
    // SAFETY (all blocks below): caller's contract; lengths checked by `Shape::new`.
    let desc = unsafe { desc.as_ref() }.ok_or(Status::NullPointer)?;
    let shape = Shape::new(1, desc.d, desc.cov_kind)?;
    let mean = unsafe { slice(desc.mean, shape.d) }?;
    let cov = unsafe { slice(desc.cov, shape.c()) }?;
    Ok((shape, mean, cov))
}

/// A work length for C from the checked sizes: the length, or 0 on any error (a zero size,
/// disagreeing shapes, an unknown kind, an overflow).
fn work_len_for_c(len: impl FnOnce() -> Result<usize, Status>) -> usize {
    len().unwrap_or(0)
}

/// `ZeroSize` unless every size is positive.
fn nonzero(sizes: &[usize]) -> Result<(), Status> {
    if sizes.contains(&0) {
        Err(Status::ZeroSize)
    } else {
        Ok(())
    }
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

/// The major version of the header (and of the library it was generated with).
pub const MK_VERSION_MAJOR: u32 = 0;
/// The minor version of the header. While the major version is 0, a new minor version may
/// break the API (semantic versioning for 0.x).
pub const MK_VERSION_MINOR: u32 = 4;
/// The patch version of the header.
pub const MK_VERSION_PATCH: u32 = 1;

/// Checks at run time that the linked library can serve a caller compiled against the header
/// of version `header_major.header_minor`: pass `MK_VERSION_MAJOR, MK_VERSION_MINOR`.
///
/// Compatible means: the same major version, and a library minor version at least the
/// header's (for major version 0: exactly the header's, since 0.x minor versions may break).
///
/// Returns `MK_STATUS_OK` or `MK_STATUS_VERSION_MISMATCH`.
#[no_mangle]
pub extern "C" fn mk_check_version(header_major: u32, header_minor: u32) -> i32 {
    let compatible = header_major == MK_VERSION_MAJOR
        && if MK_VERSION_MAJOR == 0 {
            header_minor == MK_VERSION_MINOR
        } else {
            header_minor <= MK_VERSION_MINOR
        };
    if compatible {
        Status::Ok.code()
    } else {
        Status::VersionMismatch.code()
    }
}

/// A bare-metal panic hook: receives the source line of the panic inside mixkern (0 when
/// unknown). It must not return (reset, halt, or loop).
pub type MkPanicHook = Option<unsafe extern "C" fn(line: u32) -> !>;

/// The hook installed by `mk_set_panic_hook`, as an address (0: none).
static PANIC_HOOK: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Installs the function that the bare-metal panic handler calls (feature `panic-handler`,
/// builds without `std`): a panic is a mixkern bug, and without `std` there is no boundary that
/// could turn it into `MK_STATUS_PANIC`, so it ends in this hook. NULL removes the hook; without
/// a hook the handler loops forever (a watchdog can then reset the device). Under `std` panics
/// are caught at the boundary instead and the hook is never called.
///
/// Parameters:
/// - `hook` (in, optional): the function to call; it must not return.
#[no_mangle]
pub extern "C" fn mk_set_panic_hook(hook: MkPanicHook) {
    let address = hook.map_or(0, |f| f as usize);
    PANIC_HOOK.store(address, core::sync::atomic::Ordering::Release);
}

/// The bare-metal panic handler: calls the hook from `mk_set_panic_hook`, or loops forever.
#[cfg(all(not(feature = "std"), feature = "panic-handler"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let address = PANIC_HOOK.load(core::sync::atomic::Ordering::Acquire);
    if address != 0 {
        // SAFETY: a non-zero address was stored from a `MkPanicHook` function pointer.
        let hook: unsafe extern "C" fn(u32) -> ! = unsafe { core::mem::transmute(address) };
        let line = info.location().map_or(0, |l| l.line());
        // SAFETY: the hook's contract (a C function that does not return).
        unsafe { hook(line) }
    }
    loop {
        core::hint::spin_loop();
    }
}
