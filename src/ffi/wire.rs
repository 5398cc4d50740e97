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
    mixture_in, mixture_out, run, shape_in, shape_out, slice, slice_mut, work_len_for_c, MkMixture,
    MkMixtureOut, MK_COV_DIAG, MK_COV_FULL,
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

/// What the header of a wire message says (`mk_wire_read_header`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkWireHeader {
    /// The format version (`MK_WIRE_VERSION`).
    pub version: u16,
    /// `MK_COV_FULL` or `MK_COV_DIAG`.
    pub cov_kind: i32,
    /// Number of components K.
    pub k: usize,
    /// Dimension d.
    pub d: usize,
    /// Sample size n >= 1 of the local fit.
    pub sample_size: u64,
}

/// Length in bytes of the wire message of a mixture of the descriptor's shape:
/// 24 + 8 K (1 + d + c) + 4, with c = d (d + 1) / 2 (`MK_COV_FULL`) or d (`MK_COV_DIAG`);
/// only the descriptor's K, d and kind are read. 0 if `mix` is NULL, K or d is 0, the kind is
/// unknown, K or d exceeds UINT32_MAX, or the length overflows size_t.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_wire_message_len(mix: *const MkMixture) -> usize {
    // SAFETY: caller's contract.
    work_len_for_c(|| {
        let s = unsafe { shape_in(mix) }?;
        wire::message_len(s.k, s.d, s.kind)
    })
}

/// Encodes one mixture and its sample size as a wire message.
///
/// The values are sent bit for bit; a full covariance sends its lower triangle (the upper one,
/// equal within the symmetry tolerance, is not read). The covariances are not factored: positive
/// definiteness is checked by the receiver (`mk_wire_decode`).
///
/// Parameters:
/// - `mix` (in): the mixture; K and d at most UINT32_MAX.
/// - `sample_size` (in): the number n >= 1 of samples of the local fit.
/// - `out` (out): `out_len` >= `mk_wire_message_len(mix)` bytes; only the first
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
    mix: *const MkMixture,
    sample_size: u64,
    out: *mut u8,
    out_len: usize,
    written_out: *mut usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mixture = unsafe { mixture_in(mix) }?;
        let out = unsafe { slice_mut(out, out_len) }?;
        let written_out = unsafe { written_out.as_mut() }.ok_or(Status::NullPointer)?;
        *written_out = wire::encode(&mixture, sample_size, out)?;
        Ok(())
    })
}

/// Reads and checks the framing of a wire message (not its payload's values): at least 28
/// bytes, magic "MKGM", version 1, a covariance kind byte of 0 or 1, a reserved byte of 0,
/// K > 0, d > 0, n >= 1, a length of exactly the message length of that shape, and a matching
/// CRC-32. The centre uses it to learn K, d and the covariance kind from a message.
///
/// Parameters:
/// - `message` (in): `message_len` bytes, the whole message (any bytes).
/// - `header_out` (out): the message's version, kind, K, d and sample size.
///
/// Returns `MK_STATUS_OK`, or with `header_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_MISSING_MESSAGE` (`message_len` is 0), `MK_STATUS_SIZE_OVERFLOW` (`message_len`
/// exceeds PTRDIFF_MAX), `MK_STATUS_BAD_MESSAGE` (any framing problem: length, magic, version,
/// kind, reserved byte, K, d, n, checksum), `MK_STATUS_PANIC`.
///
/// # Safety
/// `message` must be valid for reads of `message_len` bytes; `header_out` must be valid for one
/// element and must not overlap `message`.
#[no_mangle]
pub unsafe extern "C" fn mk_wire_read_header(
    message: *const u8,
    message_len: usize,
    header_out: *mut MkWireHeader,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let message = unsafe { slice(message, message_len) }?;
        let header_out = unsafe { header_out.as_mut() }.ok_or(Status::NullPointer)?;
        let header = wire::read_header(message)?;
        *header_out = MkWireHeader {
            version: header.version,
            cov_kind: match header.kind {
                CovKind::Full => MK_COV_FULL,
                CovKind::Diag => MK_COV_DIAG,
            },
            k: header.k,
            d: header.d,
            sample_size: header.sample_size,
        };
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_wire_decode`: K (1 + d + d*d) + d*d (`MK_COV_FULL`:
/// the unpacked message and a Cholesky scratch matrix) or K (1 + 2 d) (`MK_COV_DIAG`), for the
/// K, d and kind of `out` (`message_len` does not change it); 0 if `out` is NULL, K or d is 0,
/// the kind is unknown, or the length overflows size_t.
///
/// # Safety
/// A non-null `out` must point to a valid `mk_mixture_out`.
#[no_mangle]
pub unsafe extern "C" fn mk_wire_decode_work_len(
    message_len: usize,
    out: *const MkMixtureOut,
) -> usize {
    let _ = message_len;
    // SAFETY: caller's contract.
    work_len_for_c(|| {
        let s = unsafe { shape_out(out) }?;
        wire::decode_work_len(s.k, s.d, s.kind)
    })
}

/// Decodes and validates a wire message of the shape `out` describes (K, d, covariance kind).
///
/// The message is unpacked and checked in `work`; the outputs are written only on success.
/// Checks: the framing (as `mk_wire_read_header`), the shape, every value finite, weights >= 0
/// summing to 1 within 1e-9, every covariance positive definite (a Cholesky factorization for
/// `MK_COV_FULL`, every variance > 0 for `MK_COV_DIAG`).
///
/// Parameters:
/// - `message` (in): `message_len` bytes, the whole message (any bytes).
/// - `out` (out): the expected shape, and the arrays that receive the mixture (`MK_COV_FULL`:
///   each covariance an exactly symmetric d x d row-major matrix, mirrored from the sent lower
///   triangle).
/// - `sample_size_out` (out): one uint64_t, the sample size n >= 1.
/// - `work` (scratch): `work_len` >= `mk_wire_decode_work_len(message_len, out)` doubles.
///
/// Returns `MK_STATUS_OK`, or with every output untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_MISSING_MESSAGE` (`message_len` is 0), `MK_STATUS_ZERO_SIZE` (K or d is 0),
/// `MK_STATUS_SIZE_OVERFLOW` (a length overflows size_t), `MK_STATUS_BAD_PARAMETER` (an unknown
/// kind), `MK_STATUS_BUFFER_TOO_SHORT` (`work`), `MK_STATUS_BAD_MESSAGE` (the framing: length,
/// magic, version, kind, reserved byte, K, d, n, checksum), `MK_STATUS_SHAPE_MISMATCH` (the
/// message's K, d or kind is not the expected one), `MK_STATUS_NON_FINITE` (a NaN or infinite
/// value), `MK_STATUS_WEIGHTS` (a negative weight, or a sum not within 1e-9 of 1),
/// `MK_STATUS_NOT_SPD` (a covariance that is not positive definite), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; the outputs and `work` must
/// not overlap each other or `message`.
#[no_mangle]
pub unsafe extern "C" fn mk_wire_decode(
    message: *const u8,
    message_len: usize,
    out: *const MkMixtureOut,
    sample_size_out: *mut u64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let message = unsafe { slice(message, message_len) }?;
        let out = unsafe { mixture_out(out) }?;
        let sample_size_out = unsafe { sample_size_out.as_mut() }.ok_or(Status::NullPointer)?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let s = out.shape;
        *sample_size_out = wire::decode(
            message,
            s.k,
            s.d,
            s.kind,
            out.weights,
            out.means,
            out.covs,
            work,
        )?;
        Ok(())
    })
}

/// The shape that a strict majority of m messages carry in a valid header: how a centre that
/// knows nothing in advance learns K, d and the covariance kind to aggregate with. A missing
/// message (NULL or zero length) or one whose framing fails (see `mk_wire_read_header`) counts
/// against every shape, so Byzantine machines cannot impose theirs while an honest majority
/// remains.
///
/// Parameters:
/// - `messages` (in): m pointers, `messages[i]` to `message_lens[i]` bytes (NULL, a zero length
///   or a length over PTRDIFF_MAX: missing); `message_lens` (in): m lengths.
/// - `k_out`, `d_out`, `cov_kind_out` (out): the majority's K, d and kind (`MK_COV_FULL` or
///   `MK_COV_DIAG`).
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: `MK_STATUS_NULL_POINTER` (`messages`,
/// `message_lens` or an output), `MK_STATUS_ZERO_SIZE` (m = 0), `MK_STATUS_SHAPE_MISMATCH` (no
/// shape is carried by more than m / 2 messages), `MK_STATUS_PANIC`.
///
/// # Safety
/// `messages` and `message_lens` must be valid for m elements, each non-null `messages[i]` for
/// `message_lens[i]` bytes, and each output for one element.
#[no_mangle]
pub unsafe extern "C" fn mk_wire_majority_shape(
    messages: *const *const u8,
    message_lens: *const usize,
    m: usize,
    k_out: *mut usize,
    d_out: *mut usize,
    cov_kind_out: *mut i32,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let messages = unsafe { slice(messages, m) }?;
        let message_lens = unsafe { slice(message_lens, m) }?;
        let k_out = unsafe { k_out.as_mut() }.ok_or(Status::NullPointer)?;
        let d_out = unsafe { d_out.as_mut() }.ok_or(Status::NullPointer)?;
        let cov_kind_out = unsafe { cov_kind_out.as_mut() }.ok_or(Status::NullPointer)?;
        // SAFETY: messages[i] is valid for message_lens[i] bytes when non-null (contract).
        let message = |i: usize| unsafe { slice(messages[i], message_lens[i]) }.ok();
        let (k, d, kind) = wire::majority_shape(&message, m)?;
        *k_out = k;
        *d_out = d;
        *cov_kind_out = match kind {
            CovKind::Full => MK_COV_FULL,
            CovKind::Diag => MK_COV_DIAG,
        };
        Ok(())
    })
}
