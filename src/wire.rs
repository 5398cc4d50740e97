//! The wire format of one local estimate: what an edge node sends to the centre.
//!
//! Version 1, all integers and doubles little-endian, no padding:
//!
//! | offset | size | field                                                       |
//! |-------:|-----:|-------------------------------------------------------------|
//! | 0      | 4    | magic `b"MKGM"`                                             |
//! | 4      | 2    | version (u16) = 1                                           |
//! | 6      | 1    | covariance kind (u8): 0 full, 1 diagonal                    |
//! | 7      | 1    | reserved (u8) = 0                                           |
//! | 8      | 4    | K (u32) > 0                                                 |
//! | 12     | 4    | d (u32) > 0                                                 |
//! | 16     | 8    | sample size n (u64) >= 1                                    |
//! | 24     | 8 P  | payload: K weights, K d means, K c covariances (f64)        |
//! | 24+8P  | 4    | CRC-32 (IEEE, as zlib's crc32) of every byte before it      |
//!
//! with P = K (1 + d + c), c = d (d + 1) / 2 for full covariances (each lower triangle packed
//! row by row: S_00, S_10, S_11, S_20, ...) and c = d for diagonal ones.
//!
//! [`encode`] writes a message from a checked [`Mixture`] (it does not factor the covariances:
//! an edge node sends what it fitted). [`read_header`] checks the framing of any byte string
//! (every framing problem is `BadMessage`), and [`decode`] checks the framing, the expected
//! shape (`ShapeMismatch`) and the content: every value finite (`NonFinite`), weights >= 0
//! summing to 1 within [`crate::gmm::WEIGHT_SUM_TOL`] (`Weights`), every covariance positive
//! definite (`NotSpd`, by a Cholesky factorization for full covariances). No byte string makes
//! these functions panic or read out of bounds: lengths derived from header fields use checked
//! arithmetic and are compared with the real length of the message before anything is read.

use crate::gmm::{CovKind, Mixture};
use crate::linalg::cholesky;
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// The first four bytes of every message.
pub const WIRE_MAGIC: [u8; 4] = *b"MKGM";
/// The version this library writes (and the only one it reads).
pub const WIRE_VERSION: u16 = 1;
/// Bytes before the payload.
pub const WIRE_HEADER_LEN: usize = 24;
/// Bytes of the trailing checksum.
const CRC_LEN: usize = 4;
/// Bytes per payload value.
const F64_LEN: usize = 8;

/// The covariance kind's byte in the header.
fn kind_byte(kind: CovKind) -> u8 {
    match kind {
        CovKind::Full => 0,
        CovKind::Diag => 1,
    }
}

/// The CRC-32 table of the reflected IEEE polynomial 0xEDB88320, computed at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The CRC-32 of `bytes`: IEEE 802.3 polynomial, reflected (0xEDB88320), initial value and final
/// XOR 0xFFFFFFFF; the checksum zlib's `crc32` (and Python's `zlib.crc32`) computes, e.g.
/// `crc32(b"123456789") == 0xCBF43926` and `crc32(b"") == 0`. Any length, never fails.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// What a message says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireHeader {
    /// The format version.
    pub version: u16,
    /// Covariance storage.
    pub kind: CovKind,
    /// Number of components K.
    pub k: usize,
    /// Dimension d.
    pub d: usize,
    /// Sample size n of the local fit.
    pub sample_size: u64,
}

/// Doubles per component covariance on the wire: d (d + 1) / 2 (full, packed lower triangle)
/// or d (diagonal); `SizeOverflow` only if d (d + 1) / 2 itself overflows.
fn packed_cov_len(d: usize, kind: CovKind) -> Result<usize, Status> {
    match kind {
        // One of d and d + 1 is even: halve it first, so only a true overflow is reported.
        CovKind::Full if d % 2 == 0 => checked_mul(d / 2, checked_add(d, 1)?),
        CovKind::Full => checked_mul(d, d / 2 + 1),
        CovKind::Diag => Ok(d),
    }
}

/// The payload's length in doubles, P = K (1 + d + c).
fn payload_values(k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    let per_component = checked_add(checked_add(1, d)?, packed_cov_len(d, kind)?)?;
    checked_mul(k, per_component)
}

/// The length in bytes of a message for K components in dimension d:
/// 24 + 8 K (1 + d + c) + 4, with c = d (d + 1) / 2 (`CovKind::Full`) or d (`CovKind::Diag`).
///
/// Errors: `ZeroSize` (K or d is 0), `SizeOverflow` (K or d exceeds `u32::MAX`, so it cannot be
/// written in the header, or the length overflows `usize`).
pub fn message_len(k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    if k == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    if u32::try_from(k).is_err() || u32::try_from(d).is_err() {
        return Err(Status::SizeOverflow);
    }
    let payload = checked_mul(payload_values(k, d, kind)?, F64_LEN)?;
    checked_add(checked_add(WIRE_HEADER_LEN, payload)?, CRC_LEN)
}

/// Copies `bytes` to `out[*pos..]` and advances `pos`; the caller has checked the length.
fn put(out: &mut [u8], pos: &mut usize, bytes: &[u8]) {
    out[*pos..*pos + bytes.len()].copy_from_slice(bytes);
    *pos += bytes.len();
}

/// Encodes `mixture` with `sample_size` into `out`; returns the number of bytes written, which
/// is `message_len(K, d, kind)`.
///
/// Parameters:
/// - `mixture`: a checked view (finite values, valid weights, symmetric covariances with a
///   positive diagonal). Its values are sent as they are, bit for bit; a full covariance sends
///   its lower triangle (its upper triangle, equal within [`crate::gmm::SYMMETRY_TOL`], is not
///   read). The covariances are not factored: positive definiteness is checked by [`decode`].
/// - `sample_size`: the number n of samples of the local fit, >= 1.
/// - `out`: at least `message_len(K, d, kind)` bytes; only `out[..len]` is written.
///
/// Errors, with `out` untouched: `BadParameter` (`sample_size` is 0), `SizeOverflow` (K or d
/// exceeds `u32::MAX`, or the length overflows), `BufferTooShort` (`out`).
pub fn encode(mixture: &Mixture, sample_size: u64, out: &mut [u8]) -> Result<usize, Status> {
    let (k, d, kind) = (mixture.n_components(), mixture.dim(), mixture.cov_kind());
    let len = message_len(k, d, kind)?;
    if sample_size == 0 {
        return Err(Status::BadParameter);
    }
    ensure_len(out.len(), len)?;
    let out = &mut out[..len];
    // message_len checked that K and d fit in u32.
    let (k32, d32) = (k as u32, d as u32);
    let mut pos = 0;
    put(out, &mut pos, &WIRE_MAGIC);
    put(out, &mut pos, &WIRE_VERSION.to_le_bytes());
    put(out, &mut pos, &[kind_byte(kind), 0]);
    put(out, &mut pos, &k32.to_le_bytes());
    put(out, &mut pos, &d32.to_le_bytes());
    put(out, &mut pos, &sample_size.to_le_bytes());
    for &w in mixture.weights() {
        put(out, &mut pos, &w.to_le_bytes());
    }
    for i in 0..k {
        for &m in mixture.mean(i) {
            put(out, &mut pos, &m.to_le_bytes());
        }
    }
    for i in 0..k {
        let cov = mixture.cov(i);
        match kind {
            CovKind::Diag => {
                for &v in cov {
                    put(out, &mut pos, &v.to_le_bytes());
                }
            }
            CovKind::Full => {
                for a in 0..d {
                    for &v in &cov[a * d..a * d + a + 1] {
                        put(out, &mut pos, &v.to_le_bytes());
                    }
                }
            }
        }
    }
    let crc = crc32(&out[..pos]);
    put(out, &mut pos, &crc.to_le_bytes());
    debug_assert_eq!(pos, len);
    Ok(len)
}

/// The `N` bytes at `message[at..at + N]`; the caller has checked the length.
fn field<const N: usize>(message: &[u8], at: usize) -> Result<[u8; N], Status> {
    message
        .get(at..at + N)
        .and_then(|b| b.try_into().ok())
        .ok_or(Status::BadMessage)
}

/// Reads and checks a message's framing; does not look at the payload's values.
///
/// `message` is the whole message, of any length (its exact length is part of the check); an
/// empty one is no message at all (`MissingMessage`). Checks, each failing with `BadMessage`: at least 28 bytes (header and checksum), the magic
/// `b"MKGM"`, version 1 (the only one this library reads), a covariance kind byte of 0 (full)
/// or 1 (diagonal), a reserved byte of 0, K > 0, d > 0, n >= 1, a total length equal to
/// [`message_len`]`(K, d, kind)` (a truncated message, trailing bytes, or a K and d whose
/// length overflows), and a CRC-32 equal to [`crc32`] of every byte before it.
pub fn read_header(message: &[u8]) -> Result<WireHeader, Status> {
    if message.is_empty() {
        return Err(Status::MissingMessage);
    }
    if message.len() < WIRE_HEADER_LEN + CRC_LEN {
        return Err(Status::BadMessage);
    }
    if field::<4>(message, 0)? != WIRE_MAGIC {
        return Err(Status::BadMessage);
    }
    let version = u16::from_le_bytes(field(message, 4)?);
    if version != WIRE_VERSION {
        return Err(Status::BadMessage);
    }
    let kind = match field::<1>(message, 6)?[0] {
        0 => CovKind::Full,
        1 => CovKind::Diag,
        _ => return Err(Status::BadMessage),
    };
    if field::<1>(message, 7)?[0] != 0 {
        return Err(Status::BadMessage);
    }
    let k =
        usize::try_from(u32::from_le_bytes(field(message, 8)?)).map_err(|_| Status::BadMessage)?;
    let d =
        usize::try_from(u32::from_le_bytes(field(message, 12)?)).map_err(|_| Status::BadMessage)?;
    let sample_size = u64::from_le_bytes(field(message, 16)?);
    if k == 0 || d == 0 || sample_size == 0 {
        return Err(Status::BadMessage);
    }
    // A length that overflows cannot be the length of a real slice.
    let expected = message_len(k, d, kind).map_err(|_| Status::BadMessage)?;
    if expected != message.len() {
        return Err(Status::BadMessage);
    }
    let (body, crc) = message.split_at(message.len() - CRC_LEN);
    if crc32(body) != u32::from_le_bytes(field(crc, 0)?) {
        return Err(Status::BadMessage);
    }
    Ok(WireHeader {
        version,
        kind,
        k,
        d,
        sample_size,
    })
}

/// The shape (K, d, covariance kind) that a strict majority of m messages carry in a valid
/// header ([`read_header`]): what a centre that knows nothing in advance aggregates with.
/// `messages(i)` is machine i's message, `None` if it sent none; a missing message or one whose
/// framing fails counts against every shape, so Byzantine machines cannot impose theirs while an
/// honest majority remains. O(m) header reads, no scratch (Boyer-Moore majority vote).
///
/// Errors: `ZeroSize` (m = 0), `ShapeMismatch` (no shape held by more than m / 2 messages).
pub fn majority_shape<'a>(
    messages: &dyn Fn(usize) -> Option<&'a [u8]>,
    m: usize,
) -> Result<(usize, usize, CovKind), Status> {
    if m == 0 {
        return Err(Status::ZeroSize);
    }
    let shape = |i: usize| {
        let header = read_header(messages(i)?).ok()?;
        Some((header.k, header.d, header.kind))
    };
    let (mut candidate, mut votes) = (None, 0usize);
    for i in 0..m {
        let s = shape(i);
        if votes == 0 {
            candidate = s;
            votes = 1;
        } else if s == candidate {
            votes += 1;
        } else {
            votes -= 1;
        }
    }
    let candidate = candidate.ok_or(Status::ShapeMismatch)?;
    let held = (0..m).filter(|&i| shape(i) == Some(candidate)).count();
    if held > m / 2 {
        Ok(candidate)
    } else {
        Err(Status::ShapeMismatch)
    }
}

/// Workspace length (doubles) of [`decode`]: K (1 + d + c) + s, with c = d d and s = d d
/// (`CovKind::Full`: unpacked covariances and a Cholesky scratch matrix) or c = d and s = 0
/// (`CovKind::Diag`).
///
/// Errors: `ZeroSize` (K or d is 0), `SizeOverflow` (the length overflows `usize`).
pub fn decode_work_len(k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    Ok(WorkLayout::new(k, d, kind)?.total)
}

/// The workspace of [`decode`], part by part (lengths in doubles, in this order).
struct WorkLayout {
    /// K weights.
    weights: usize,
    /// K d means.
    means: usize,
    /// K cov_len(d) covariances.
    covs: usize,
    /// d d (full) or 0 (diagonal): the Cholesky scratch matrix.
    scratch: usize,
    /// The sum of the parts.
    total: usize,
}

impl WorkLayout {
    fn new(k: usize, d: usize, kind: CovKind) -> Result<Self, Status> {
        if k == 0 || d == 0 {
            return Err(Status::ZeroSize);
        }
        let means = checked_mul(k, d)?;
        let covs = checked_mul(k, kind.cov_len(d)?)?;
        let scratch = match kind {
            CovKind::Full => checked_mul(d, d)?,
            CovKind::Diag => 0,
        };
        let total = checked_add(checked_add(checked_add(k, means)?, covs)?, scratch)?;
        Ok(WorkLayout {
            weights: k,
            means,
            covs,
            scratch,
            total,
        })
    }
}

/// Decodes and validates a message of the expected shape; returns its sample size n.
///
/// Parameters:
/// - `message`: the whole message (see the module documentation), any bytes.
/// - `k`, `d`, `kind`: the shape the caller expects, K > 0 and d > 0.
/// - `weights_out` (out): at least K doubles.
/// - `means_out` (out): at least K d doubles, row-major.
/// - `covs_out` (out): at least K d d doubles (`CovKind::Full`: each covariance a full,
///   exactly symmetric d x d row-major matrix, mirrored from the sent lower triangle) or K d
///   (`CovKind::Diag`: the variances).
/// - `work` (scratch): at least [`decode_work_len`]`(K, d, kind)` doubles; the message is
///   unpacked and checked there, so the outputs are written only on success (then their first
///   K, K d and K c values; the rest is untouched).
///
/// Errors, in the order checked, with every output untouched: `ZeroSize` (K or d is 0),
/// `SizeOverflow` (a length overflows), `BufferTooShort` (an output or `work`), `MissingMessage`
/// (an empty message), `BadMessage`
/// (the framing: see [`read_header`]), `ShapeMismatch` (the message's K, d or covariance kind
/// is not the expected one), `NonFinite` (a NaN or infinite weight, mean or covariance value),
/// `Weights` (a negative weight or a sum not within [`crate::gmm::WEIGHT_SUM_TOL`] of 1),
/// `NotSpd` (a covariance that is not positive definite: a non-positive variance or diagonal
/// entry, or a failed Cholesky factorization).
#[allow(clippy::too_many_arguments)]
pub fn decode(
    message: &[u8],
    k: usize,
    d: usize,
    kind: CovKind,
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    work: &mut [f64],
) -> Result<u64, Status> {
    let layout = WorkLayout::new(k, d, kind)?;
    ensure_len(weights_out.len(), layout.weights)?;
    ensure_len(means_out.len(), layout.means)?;
    ensure_len(covs_out.len(), layout.covs)?;
    ensure_len(work.len(), layout.total)?;
    let (weights, rest) = work[..layout.total].split_at_mut(layout.weights);
    let (means, rest) = rest.split_at_mut(layout.means);
    let (covs, scratch) = rest.split_at_mut(layout.covs);
    debug_assert_eq!(scratch.len(), layout.scratch);
    let sample_size = decode_into_slots(message, k, d, kind, weights, means, covs, scratch)?;
    weights_out[..layout.weights].copy_from_slice(weights);
    means_out[..layout.means].copy_from_slice(means);
    covs_out[..layout.covs].copy_from_slice(covs);
    Ok(sample_size)
}

/// Decodes a message straight into caller slots, then validates it; returns its sample size n.
/// For aggregation, whose slots are scratch: the slots are written as soon as the framing and
/// the shape are checked, so on a content error (`NonFinite`, `Weights`, `NotSpd`) they hold
/// the unvalidated values.
///
/// Slots: `weights` K doubles, `means` K d, `covs` K cov_len(d) (full: d x d row-major
/// matrices, mirrored from the packed lower triangle), `scratch` d d doubles for full
/// covariances (may be empty for diagonal ones); longer slots keep their tail untouched.
///
/// Errors, in the order checked: `BadMessage` (framing, see [`read_header`]), `ShapeMismatch`
/// (K, d or kind differ from the expected ones), `BufferTooShort` (a slot or `scratch`; nothing
/// written), `NonFinite`, `Weights`, `NotSpd` (as for [`decode`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_into_slots(
    message: &[u8],
    k: usize,
    d: usize,
    kind: CovKind,
    weights: &mut [f64],
    means: &mut [f64],
    covs: &mut [f64],
    scratch: &mut [f64],
) -> Result<u64, Status> {
    let header = read_header(message)?;
    if (header.k, header.d, header.kind) != (k, d, kind) {
        return Err(Status::ShapeMismatch);
    }
    // The framing holds, so these products are bounded by the message's length; still checked.
    let len_means = checked_mul(k, d)?;
    let cov_len = kind.cov_len(d)?;
    let len_covs = checked_mul(k, cov_len)?;
    let len_scratch = match kind {
        CovKind::Full => checked_mul(d, d)?,
        CovKind::Diag => 0,
    };
    ensure_len(weights.len(), k)?;
    ensure_len(means.len(), len_means)?;
    ensure_len(covs.len(), len_covs)?;
    ensure_len(scratch.len(), len_scratch)?;
    let (weights, means, covs) = (
        &mut weights[..k],
        &mut means[..len_means],
        &mut covs[..len_covs],
    );

    // read_header checked the length: exactly the payload lies between header and checksum.
    let payload = message
        .get(WIRE_HEADER_LEN..message.len() - CRC_LEN)
        .ok_or(Status::BadMessage)?;
    let mut values = payload
        .chunks_exact(F64_LEN)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
    let mut next = || values.next().ok_or(Status::BadMessage);
    for w in weights.iter_mut() {
        *w = next()?;
    }
    for m in means.iter_mut() {
        *m = next()?;
    }
    for cov in covs.chunks_exact_mut(cov_len) {
        match kind {
            CovKind::Diag => {
                for v in cov.iter_mut() {
                    *v = next()?;
                }
            }
            CovKind::Full => {
                for a in 0..d {
                    for b in 0..=a {
                        let v = next()?;
                        cov[a * d + b] = v;
                        cov[b * d + a] = v;
                    }
                }
            }
        }
    }

    // Finiteness, weights, symmetry and a positive diagonal: the rules of every mixture input.
    Mixture::new(weights, means, covs, k, d, kind)?;
    if kind == CovKind::Full {
        let scratch = &mut scratch[..len_scratch];
        for cov in covs.chunks_exact(cov_len) {
            scratch.copy_from_slice(cov);
            cholesky(scratch, d)?;
        }
    }
    Ok(header.sample_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn packed_len_is_exact_near_overflow() {
        assert_eq!(packed_cov_len(4, CovKind::Full), Ok(10));
        assert_eq!(packed_cov_len(5, CovKind::Full), Ok(15));
        // d (d + 1) overflows but d (d + 1) / 2 does not.
        let d = 1usize << (usize::BITS / 2);
        assert_eq!(packed_cov_len(d, CovKind::Full), Ok((d / 2) * (d + 1)));
    }
}
