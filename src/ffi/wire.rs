//! C ABI of [`crate::wire`]: the versioned, checked byte format of one local estimate (what an
//! edge node sends to the centre).
//!
//! Version 1, little-endian, no padding: magic "MKGM" (4 bytes), version (uint16 = 1),
//! covariance kind (uint8: 0 full, 1 diagonal), reserved (uint8 = 0), K (uint32 > 0),
//! d (uint32 > 0), sample size n (uint64 >= 1), then K weights, K*d means and K*c covariance
//! values as doubles (c = d*(d+1)/2 for `MK_COV_FULL`, each lower triangle packed row by row:
//! S00, S10, S11, S20, ...; c = d for `MK_COV_DIAG`), then the CRC-32 (IEEE, as zlib's crc32)
//! of every preceding byte (uint32).

use super::{
    mixture, parse_cov_kind, product, run, slice, slice_mut, work_len_for_c, MK_COV_DIAG,
    MK_COV_FULL,
};
use crate::gmm::CovKind;
use crate::wire;
use crate::Status;

/// The wire format version this library writes, and the only one it reads.
pub const MK_WIRE_VERSION: u16 = 1;
/// Bytes of a wire message before its payload (magic, version, kind, reserved, K, d, n).
pub const MK_WIRE_HEADER_LEN: usize = 24;

// The C constants are literals (cbindgen copies them); they must be the Rust ones.
const _: () = assert!(MK_WIRE_VERSION == wire::WIRE_VERSION);
const _: () = assert!(MK_WIRE_HEADER_LEN == wire::WIRE_HEADER_LEN);

/// Length in bytes of a wire message for K components in dimension d:
/// 24 + 8 K (1 + d + c) + 4, with c = d (d + 1) / 2 (`MK_COV_FULL`) or d (`MK_COV_DIAG`);
/// 0 if K or d is 0, `cov_kind` is unknown, K or d exceeds UINT32_MAX, or the length overflows
/// size_t.
#[no_mangle]
pub extern "C" fn mk_wire_message_len(k: usize, d: usize, cov_kind: i32) -> usize {
    let len = parse_cov_kind(cov_kind).and_then(|kind| wire::message_len(k, d, kind));
    work_len_for_c(k > 0 && d > 0, len)
}

/// Encodes one mixture and its sample size as a wire message.
///
/// The values are sent bit for bit; a full covariance sends its lower triangle (the upper one,
/// equal within the symmetry tolerance, is not read). The covariances are not factored: positive
/// definiteness is checked by the receiver (`mk_wire_decode`).
///
/// Parameters:
/// - `weights` (in): K weights, >= 0, summing to 1 within 1e-9.
/// - `means` (in): K x d means, row-major, `k * d` doubles.
/// - `covs` (in): `k * d * d` doubles (`MK_COV_FULL`: symmetric, positive diagonal, row-major)
///   or `k * d` doubles (`MK_COV_DIAG`: variances > 0).
/// - `k`, `d`: K > 0 components, dimension d > 0, both at most UINT32_MAX.
/// - `cov_kind`: `MK_COV_FULL` or `MK_COV_DIAG`.
/// - `sample_size`: the number n >= 1 of samples of the local fit.
/// - `out` (out): `out_len` >= `mk_wire_message_len(k, d, cov_kind)` bytes; only the first
///   `*written_out` bytes are written.
/// - `written_out` (out): one size_t, the message length.
///
/// Returns `MK_STATUS_OK`, or with `out` and `written_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (K or d is 0), `MK_STATUS_SIZE_OVERFLOW` (a length overflows size_t,
/// or K or d exceeds UINT32_MAX), `MK_STATUS_BAD_PARAMETER` (an unknown kind, or `sample_size`
/// is 0), `MK_STATUS_BUFFER_TOO_SHORT` (`out`), `MK_STATUS_NON_FINITE` (NaN or infinity in an
/// input), `MK_STATUS_WEIGHTS` (a negative weight, or a sum not within 1e-9 of 1),
/// `MK_STATUS_NOT_SPD` (an asymmetric covariance or a non-positive variance),
/// `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `out` and `written_out` must
/// not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_wire_encode(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    k: usize,
    d: usize,
    cov_kind: i32,
    sample_size: u64,
    out: *mut u8,
    out_len: usize,
    written_out: *mut usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mixture = unsafe { mixture(weights, means, covs, k, d, cov_kind) }?;
        let out = unsafe { slice_mut(out, out_len) }?;
        let written_out = unsafe { written_out.as_mut() }.ok_or(Status::NullPointer)?;
        *written_out = wire::encode(&mixture, sample_size, out)?;
        Ok(())
    })
}

/// Reads and checks the framing of a wire message (not its payload's values): at least 28
/// bytes, magic "MKGM", version 1, a covariance kind byte of 0 or 1, a reserved byte of 0,
/// K > 0, d > 0, n >= 1, a length of exactly `mk_wire_message_len(K, d, kind)` bytes, and a
/// matching CRC-32.
///
/// Parameters:
/// - `message` (in): `message_len` bytes, the whole message (any bytes).
/// - `k_out`, `d_out` (out): one size_t each, the message's K and d.
/// - `cov_kind_out` (out): one int32_t, `MK_COV_FULL` or `MK_COV_DIAG`.
/// - `sample_size_out` (out): one uint64_t, the message's n.
///
/// Returns `MK_STATUS_OK`, or with every output untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_SIZE_OVERFLOW` (`message_len` exceeds PTRDIFF_MAX), `MK_STATUS_BAD_MESSAGE`
/// (any framing problem: length, magic, version, kind, reserved byte, K, d, n, checksum),
/// `MK_STATUS_PANIC`.
///
/// # Safety
/// `message` must be valid for reads of `message_len` bytes; the outputs must be valid for one
/// element each and must not overlap each other or `message`.
#[no_mangle]
pub unsafe extern "C" fn mk_wire_read_header(
    message: *const u8,
    message_len: usize,
    k_out: *mut usize,
    d_out: *mut usize,
    cov_kind_out: *mut i32,
    sample_size_out: *mut u64,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let message = unsafe { slice(message, message_len) }?;
        let k_out = unsafe { k_out.as_mut() }.ok_or(Status::NullPointer)?;
        let d_out = unsafe { d_out.as_mut() }.ok_or(Status::NullPointer)?;
        let cov_kind_out = unsafe { cov_kind_out.as_mut() }.ok_or(Status::NullPointer)?;
        let sample_size_out = unsafe { sample_size_out.as_mut() }.ok_or(Status::NullPointer)?;
        let header = wire::read_header(message)?;
        *k_out = header.k;
        *d_out = header.d;
        *cov_kind_out = match header.kind {
            CovKind::Full => MK_COV_FULL,
            CovKind::Diag => MK_COV_DIAG,
        };
        *sample_size_out = header.sample_size;
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_wire_decode`: K (1 + d + d*d) + d*d (`MK_COV_FULL`:
/// the unpacked message and a Cholesky scratch matrix) or K (1 + 2 d) (`MK_COV_DIAG`); 0 if K or
/// d is 0, `cov_kind` is unknown, or the length overflows size_t.
#[no_mangle]
pub extern "C" fn mk_wire_decode_work_len(k: usize, d: usize, cov_kind: i32) -> usize {
    let len = parse_cov_kind(cov_kind).and_then(|kind| wire::decode_work_len(k, d, kind));
    work_len_for_c(k > 0 && d > 0, len)
}

/// Decodes and validates a wire message of the expected shape (K, d, covariance kind).
///
/// The message is unpacked and checked in `work`; the outputs are written only on success.
/// Checks: the framing (as `mk_wire_read_header`), the shape, every value finite, weights >= 0
/// summing to 1 within 1e-9, every covariance positive definite (a Cholesky factorization for
/// `MK_COV_FULL`, every variance > 0 for `MK_COV_DIAG`).
///
/// Parameters:
/// - `message` (in): `message_len` bytes, the whole message (any bytes).
/// - `k`, `d`: the expected K > 0 and d > 0.
/// - `cov_kind`: the expected kind, `MK_COV_FULL` or `MK_COV_DIAG`.
/// - `weights_out` (out): K doubles.
/// - `means_out` (out): K x d means, row-major, `k * d` doubles.
/// - `covs_out` (out): `k * d * d` doubles (`MK_COV_FULL`: each an exactly symmetric d x d
///   row-major matrix, mirrored from the sent lower triangle) or `k * d` (`MK_COV_DIAG`).
/// - `sample_size_out` (out): one uint64_t, the sample size n >= 1.
/// - `work` (scratch): `work_len` >= `mk_wire_decode_work_len(k, d, cov_kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with every output untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (K or d is 0), `MK_STATUS_SIZE_OVERFLOW` (a length overflows size_t),
/// `MK_STATUS_BAD_PARAMETER` (an unknown kind), `MK_STATUS_BUFFER_TOO_SHORT` (`work`),
/// `MK_STATUS_BAD_MESSAGE` (the framing: length, magic, version, kind, reserved byte, K, d, n,
/// checksum), `MK_STATUS_SHAPE_MISMATCH` (the message's K, d or kind is not the expected one),
/// `MK_STATUS_NON_FINITE` (a NaN or infinite value), `MK_STATUS_WEIGHTS` (a negative weight, or
/// a sum not within 1e-9 of 1), `MK_STATUS_NOT_SPD` (a covariance that is not positive
/// definite), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; the outputs and `work` must
/// not overlap each other or `message`.
#[no_mangle]
pub unsafe extern "C" fn mk_wire_decode(
    message: *const u8,
    message_len: usize,
    k: usize,
    d: usize,
    cov_kind: i32,
    weights_out: *mut f64,
    means_out: *mut f64,
    covs_out: *mut f64,
    sample_size_out: *mut u64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        let kind = parse_cov_kind(cov_kind)?;
        // Every length is computed before any slice is formed.
        let (len_means, len_covs) = (product(k, d)?, product(k, kind.cov_len(d)?)?);
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let message = unsafe { slice(message, message_len) }?;
        let weights_out = unsafe { slice_mut(weights_out, k) }?;
        let means_out = unsafe { slice_mut(means_out, len_means) }?;
        let covs_out = unsafe { slice_mut(covs_out, len_covs) }?;
        let sample_size_out = unsafe { sample_size_out.as_mut() }.ok_or(Status::NullPointer)?;
        let work = unsafe { slice_mut(work, work_len) }?;
        *sample_size_out =
            wire::decode(message, k, d, kind, weights_out, means_out, covs_out, work)?;
        Ok(())
    })
}
