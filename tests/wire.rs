//! The wire format of one local estimate: golden messages built byte by byte (with a bitwise CRC
//! written here and CRCs computed by Python's `zlib.crc32`), bitwise round trips, one test per
//! framing and content error with every output left untouched, seeded fuzzing of random and
//! mutated messages, and the C ABI (null pointers, bad kinds, short buffers, round trip).

use mixkern::ffi::*;
use mixkern::gmm::{CovKind, Mixture};
use mixkern::linalg::cholesky;
use mixkern::wire::{
    crc32, decode, decode_work_len, encode, majority_shape, message_len, read_header, WireHeader,
    WIRE_HEADER_LEN, WIRE_VERSION,
};
use mixkern::Status;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::ptr::{null, null_mut};

const SENTINEL: f64 = -12345.678;
const SENTINEL_BYTE: u8 = 0xA5;
const KINDS: [CovKind; 2] = [CovKind::Full, CovKind::Diag];

// ---------------------------------------------------------------------------------------------
// Helpers owned by the tests: an independent CRC, mixtures, message surgery.
// ---------------------------------------------------------------------------------------------

/// CRC-32 bit by bit (reflected polynomial 0xEDB88320, no table): independent of the crate's.
fn crc_ref(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            let mask = (c & 1).wrapping_neg();
            c = (c >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !c
}

/// Rewrites the last four bytes with the CRC of the rest (a "valid" checksum after surgery).
fn recrc(msg: &mut [u8]) {
    let n = msg.len();
    let c = crc_ref(&msg[..n - 4]);
    msg[n - 4..].copy_from_slice(&c.to_le_bytes());
}

fn kind_code(kind: CovKind) -> i32 {
    match kind {
        CovKind::Full => MK_COV_FULL,
        CovKind::Diag => MK_COV_DIAG,
    }
}

fn other(kind: CovKind) -> CovKind {
    match kind {
        CovKind::Full => CovKind::Diag,
        CovKind::Diag => CovKind::Full,
    }
}

/// Doubles per covariance on the wire.
fn packed(d: usize, kind: CovKind) -> usize {
    match kind {
        CovKind::Full => d * (d + 1) / 2,
        CovKind::Diag => d,
    }
}

/// A mixture's buffers (full covariances exactly symmetric).
#[derive(Clone, Debug)]
struct Mix {
    w: Vec<f64>,
    mu: Vec<f64>,
    cov: Vec<f64>,
    k: usize,
    d: usize,
    kind: CovKind,
}

impl Mix {
    fn random(rng: &mut StdRng, k: usize, d: usize, kind: CovKind) -> Mix {
        let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.05..1.0)).collect();
        let total: f64 = raw.iter().sum();
        let w = raw.iter().map(|x| x / total).collect();
        let mu = (0..k * d).map(|_| rng.random_range(-10.0..10.0)).collect();
        let cov = match kind {
            CovKind::Diag => (0..k * d).map(|_| rng.random_range(0.1..5.0)).collect(),
            CovKind::Full => {
                let mut cov = vec![0.0; k * d * d];
                for s in cov.chunks_exact_mut(d * d) {
                    let a: Vec<f64> = (0..d * d).map(|_| rng.random_range(-1.0..1.0)).collect();
                    for i in 0..d {
                        for j in 0..=i {
                            let v: f64 = (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum::<f64>()
                                + if i == j { 0.5 } else { 0.0 };
                            s[i * d + j] = v;
                            s[j * d + i] = v;
                        }
                    }
                }
                cov
            }
        };
        Mix {
            w,
            mu,
            cov,
            k,
            d,
            kind,
        }
    }

    fn view(&self) -> Mixture<'_> {
        Mixture::new(&self.w, &self.mu, &self.cov, self.k, self.d, self.kind).expect("valid")
    }

    fn encode(&self, n: u64) -> Vec<u8> {
        let mut out = vec![0u8; message_len(self.k, self.d, self.kind).unwrap()];
        let written = encode(&self.view(), n, &mut out).expect("encode");
        assert_eq!(written, out.len());
        out
    }

    /// Byte offsets of weight i, mean (i, j), and packed covariance value (i, t).
    fn weight_at(&self, i: usize) -> usize {
        WIRE_HEADER_LEN + 8 * i
    }
    fn mean_at(&self, i: usize, j: usize) -> usize {
        WIRE_HEADER_LEN + 8 * (self.k + i * self.d + j)
    }
    fn cov_at(&self, i: usize, t: usize) -> usize {
        WIRE_HEADER_LEN + 8 * (self.k + self.k * self.d + i * packed(self.d, self.kind) + t)
    }
}

fn put_f64(msg: &mut [u8], at: usize, v: f64) {
    msg[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// What one decode left behind.
struct Decoded {
    result: Result<u64, Status>,
    w: Vec<f64>,
    mu: Vec<f64>,
    cov: Vec<f64>,
}

impl Decoded {
    fn untouched(&self) -> bool {
        self.w
            .iter()
            .chain(&self.mu)
            .chain(&self.cov)
            .all(|v| v.to_bits() == SENTINEL.to_bits())
    }
}

/// Decodes into sentinel-filled outputs, with a NaN-filled (dirty) workspace.
fn decode_dirty(msg: &[u8], k: usize, d: usize, kind: CovKind) -> Decoded {
    let cov_len = kind.cov_len(d).unwrap();
    let mut w = vec![SENTINEL; k];
    let mut mu = vec![SENTINEL; k * d];
    let mut cov = vec![SENTINEL; k * cov_len];
    let mut work = vec![f64::NAN; decode_work_len(k, d, kind).unwrap()];
    let result = decode(msg, k, d, kind, &mut w, &mut mu, &mut cov, &mut work);
    Decoded { result, w, mu, cov }
}

/// A header filled with recognizable values, to see whether a failing call wrote it.
fn sentinel_header() -> MkWireHeader {
    MkWireHeader {
        version: 6,
        cov_kind: 9,
        k: 7,
        d: 8,
        sample_size: 10,
    }
}

/// The header's fields as a comparable tuple.
fn header_fields(h: &MkWireHeader) -> (u16, i32, usize, usize, u64) {
    (h.version, h.cov_kind, h.k, h.d, h.sample_size)
}

/// The same through the C ABI: status, outputs, sample size.
fn decode_ffi(msg: &[u8], k: usize, d: usize, kind: CovKind) -> (i32, Decoded, u64) {
    let code = kind_code(kind);
    let cov_len = kind.cov_len(d).unwrap();
    let mut w = vec![SENTINEL; k];
    let mut mu = vec![SENTINEL; k * d];
    let mut cov = vec![SENTINEL; k * cov_len];
    let mut n = 0xDEAD_BEEFu64;
    let out = MkMixtureOut::over(k, d, code, &mut w, &mut mu, &mut cov);
    // SAFETY: a valid descriptor.
    let mut work = vec![f64::NAN; unsafe { mk_wire_decode_work_len(msg.len(), &out) }];
    // SAFETY: every buffer has the documented length.
    let status = unsafe {
        mk_wire_decode(
            msg.as_ptr(),
            msg.len(),
            &out,
            &mut n,
            work.as_mut_ptr(),
            work.len(),
        )
    };
    let result = if status == 0 {
        Ok(n)
    } else {
        Err(Status::from_code(status).expect("known status"))
    };
    (status, Decoded { result, w, mu, cov }, n)
}

/// `msg` decoded as (k, d, kind) fails with `status` through Rust and C, every output untouched;
/// a framing error (`BadMessage`) also fails `read_header`, in Rust and C.
fn assert_rejected(msg: &[u8], k: usize, d: usize, kind: CovKind, status: Status, what: &str) {
    let got = decode_dirty(msg, k, d, kind);
    assert_eq!(got.result, Err(status), "{what}");
    assert!(got.untouched(), "{what}: outputs written on failure");
    let (code, got, n) = decode_ffi(msg, k, d, kind);
    assert_eq!(code, status.code(), "{what} (C)");
    assert!(got.untouched(), "{what} (C): outputs written on failure");
    assert_eq!(n, 0xDEAD_BEEF, "{what} (C): sample size written on failure");
    if status == Status::BadMessage || status == Status::MissingMessage {
        assert_eq!(read_header(msg), Err(status), "{what}");
        let mut header = sentinel_header();
        // SAFETY: `msg` is valid for its length; the output is a local.
        let code = unsafe { mk_wire_read_header(msg.as_ptr(), msg.len(), &mut header) };
        assert_eq!(code, status.code(), "{what} (C header)");
        assert_eq!(
            header_fields(&header),
            header_fields(&sentinel_header()),
            "{what}: header outputs written"
        );
    }
}

/// The properties every accepted message has: finite values, valid weights, covariances that
/// factor (full) or are positive (diagonal).
fn assert_valid(out: &Decoded, k: usize, d: usize, kind: CovKind) {
    assert!(out
        .w
        .iter()
        .chain(&out.mu)
        .chain(&out.cov)
        .all(|v| v.is_finite()));
    assert!(out.w.iter().all(|&w| w >= 0.0));
    assert!((out.w.iter().sum::<f64>() - 1.0).abs() <= 1e-9);
    Mixture::new(&out.w, &out.mu, &out.cov, k, d, kind).expect("a valid mixture");
    match kind {
        CovKind::Diag => assert!(out.cov.iter().all(|&v| v > 0.0)),
        CovKind::Full => {
            for s in out.cov.chunks_exact(d * d) {
                let mut l = s.to_vec();
                cholesky(&mut l, d).expect("positive definite");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checksum and the lengths.
// ---------------------------------------------------------------------------------------------

#[test]
fn crc32_is_zlibs() {
    // zlib.crc32(b"123456789") == 0xCBF43926, the CRC-32 check value.
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc_ref(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
    // zlib.crc32(b"The quick brown fox jumps over the lazy dog") == 0x414FA339.
    assert_eq!(
        crc32(b"The quick brown fox jumps over the lazy dog"),
        0x414F_A339
    );
    let mut rng = StdRng::seed_from_u64(1);
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        assert_eq!(crc32(&bytes), crc_ref(&bytes), "length {len}");
    }
}

#[test]
fn message_and_work_lengths_follow_their_formulas() {
    assert_eq!(message_len(1, 1, CovKind::Diag), Ok(24 + 8 * 3 + 4));
    assert_eq!(message_len(1, 1, CovKind::Full), Ok(24 + 8 * 3 + 4));
    assert_eq!(message_len(2, 2, CovKind::Full), Ok(124));
    assert_eq!(message_len(3, 4, CovKind::Full), Ok(24 + 8 * 3 * 15 + 4));
    assert_eq!(message_len(3, 4, CovKind::Diag), Ok(24 + 8 * 3 * 9 + 4));
    for kind in KINDS {
        assert_eq!(message_len(0, 3, kind), Err(Status::ZeroSize));
        assert_eq!(message_len(3, 0, kind), Err(Status::ZeroSize));
        assert_eq!(
            message_len(usize::MAX, usize::MAX, kind),
            Err(Status::SizeOverflow)
        );
        assert_eq!(
            message_len(u32::MAX as usize, u32::MAX as usize, kind),
            Err(Status::SizeOverflow)
        );
        if usize::BITS > 32 {
            // Fits in usize but not in the header's u32 fields.
            let big = u32::MAX as usize + 1;
            assert_eq!(message_len(big, 1, kind), Err(Status::SizeOverflow));
            assert_eq!(message_len(1, big, kind), Err(Status::SizeOverflow));
            assert!(message_len(u32::MAX as usize, 1, kind).is_ok());
        }
        assert_eq!(decode_work_len(0, 3, kind), Err(Status::ZeroSize));
        assert_eq!(decode_work_len(3, 0, kind), Err(Status::ZeroSize));
        assert_eq!(
            decode_work_len(usize::MAX, 2, kind),
            Err(Status::SizeOverflow)
        );
    }
    assert_eq!(
        decode_work_len(3, 4, CovKind::Full),
        Ok(3 * (1 + 4 + 16) + 16)
    );
    assert_eq!(decode_work_len(3, 4, CovKind::Diag), Ok(3 * (1 + 4 + 4)));
}

// ---------------------------------------------------------------------------------------------
// Golden messages and round trips.
// ---------------------------------------------------------------------------------------------

#[test]
fn golden_full_message_k2_d2_matches_bytes_built_by_hand() {
    // weights (0.25, 0.75); means (1, -2), (0.5, 3); covs [[2, .5], [.5, 1]], [[1, 0], [0, 4]].
    let mix = Mix {
        w: vec![0.25, 0.75],
        mu: vec![1.0, -2.0, 0.5, 3.0],
        cov: vec![2.0, 0.5, 0.5, 1.0, 1.0, 0.0, 0.0, 4.0],
        k: 2,
        d: 2,
        kind: CovKind::Full,
    };
    let mut expected: Vec<u8> = vec![b'M', b'K', b'G', b'M', 1, 0, 0, 0];
    expected.extend([2, 0, 0, 0, 2, 0, 0, 0]); // K, d
    expected.extend([0xE8, 0x03, 0, 0, 0, 0, 0, 0]); // n = 1000
                                                     // IEEE 754 bit patterns, little-endian: weights, means, packed lower triangles.
    let bits: [u64; 12] = [
        0x3FD0_0000_0000_0000, // 0.25
        0x3FE8_0000_0000_0000, // 0.75
        0x3FF0_0000_0000_0000, // 1
        0xC000_0000_0000_0000, // -2
        0x3FE0_0000_0000_0000, // 0.5
        0x4008_0000_0000_0000, // 3
        0x4000_0000_0000_0000, // S0: 2
        0x3FE0_0000_0000_0000, //     0.5
        0x3FF0_0000_0000_0000, //     1
        0x3FF0_0000_0000_0000, // S1: 1
        0x0000_0000_0000_0000, //     0
        0x4010_0000_0000_0000, //     4
    ];
    for b in bits {
        for byte in 0..8 {
            expected.push((b >> (8 * byte)) as u8);
        }
    }
    let crc = crc_ref(&expected);
    // Python: zlib.crc32(message[:-4]) == 0xD7BE3330.
    assert_eq!(crc, 0xD7BE_3330);
    expected.extend(crc.to_le_bytes());
    assert_eq!(expected.len(), 124);

    let msg = mix.encode(1000);
    assert_eq!(msg, expected);
    assert_eq!(
        read_header(&msg),
        Ok(WireHeader {
            version: 1,
            kind: CovKind::Full,
            k: 2,
            d: 2,
            sample_size: 1000
        })
    );
    let out = decode_dirty(&msg, 2, 2, CovKind::Full);
    assert_eq!(out.result, Ok(1000));
    assert_eq!((out.w, out.mu, out.cov), (mix.w, mix.mu, mix.cov));
}

#[test]
fn golden_diag_message_k1_d1_matches_pythons_bytes() {
    // Python: m = b"MKGM" + struct.pack("<HBBIIQ", 1, 1, 0, 1, 1, 7)
    //             + struct.pack("<3d", 1.0, -0.5, 2.0); m += struct.pack("<I", zlib.crc32(m))
    let expected: [u8; 52] = [
        0x4d, 0x4b, 0x47, 0x4d, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xf0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x40, 0xf6, 0x31, 0xf4, 0xd1,
    ];
    let mix = Mix {
        w: vec![1.0],
        mu: vec![-0.5],
        cov: vec![2.0],
        k: 1,
        d: 1,
        kind: CovKind::Diag,
    };
    assert_eq!(mix.encode(7), expected);
    let out = decode_dirty(&expected, 1, 1, CovKind::Diag);
    assert_eq!(out.result, Ok(7));
    assert_eq!((out.w, out.mu, out.cov), (vec![1.0], vec![-0.5], vec![2.0]));
}

#[test]
fn random_mixtures_round_trip_bit_for_bit_in_rust_and_c() {
    let mut rng = StdRng::seed_from_u64(2024);
    let shapes = [(1, 1), (1, 5), (2, 2), (3, 4), (5, 10), (8, 3), (4, 1)];
    for kind in KINDS {
        for &(k, d) in &shapes {
            for rep in 0..3 {
                let mix = Mix::random(&mut rng, k, d, kind);
                let n: u64 = rng.random_range(1..u64::MAX);
                let len = message_len(k, d, kind).unwrap();
                // A longer buffer: the tail stays untouched.
                let mut buf = vec![SENTINEL_BYTE; len + 16];
                assert_eq!(encode(&mix.view(), n, &mut buf), Ok(len));
                assert!(buf[len..].iter().all(|&b| b == SENTINEL_BYTE));
                let msg = &buf[..len];
                let header = read_header(msg).unwrap();
                assert_eq!(
                    header,
                    WireHeader {
                        version: WIRE_VERSION,
                        kind,
                        k,
                        d,
                        sample_size: n
                    }
                );
                let out = decode_dirty(msg, k, d, kind);
                assert_eq!(out.result, Ok(n));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&out.w), bits(&mix.w), "{kind:?} {k} {d} {rep}");
                assert_eq!(bits(&out.mu), bits(&mix.mu));
                assert_eq!(bits(&out.cov), bits(&mix.cov));

                // The C ABI writes the same bytes and decodes to the same values.
                let code = kind_code(kind);
                let desc = MkMixture::over(k, d, code, &mix.w, &mix.mu, &mix.cov);
                // SAFETY: a valid descriptor.
                assert_eq!(unsafe { mk_wire_message_len(&desc) }, len);
                let mut c_buf = vec![SENTINEL_BYTE; len];
                let mut written = 0usize;
                // SAFETY: buffers of the documented lengths.
                let status = unsafe {
                    mk_wire_encode(&desc, n, c_buf.as_mut_ptr(), c_buf.len(), &mut written)
                };
                assert_eq!((status, written), (0, len));
                assert_eq!(c_buf, msg);
                let (status, c_out, c_n) = decode_ffi(msg, k, d, kind);
                assert_eq!((status, c_n), (0, n));
                assert_eq!(bits(&c_out.w), bits(&mix.w));
                assert_eq!(bits(&c_out.mu), bits(&mix.mu));
                assert_eq!(bits(&c_out.cov), bits(&mix.cov));
                let mut header = sentinel_header();
                // SAFETY: as above.
                let status = unsafe { mk_wire_read_header(msg.as_ptr(), len, &mut header) };
                assert_eq!((status, header_fields(&header)), (0, (1, code, k, d, n)));
            }
        }
    }
}

#[test]
fn full_covariances_send_their_lower_triangle() {
    // Asymmetric within the symmetry tolerance: the upper triangle is not sent.
    let upper = 0.3 * (1.0 + 1e-14);
    let mix = Mix {
        w: vec![1.0],
        mu: vec![0.0, 0.0],
        cov: vec![1.0, upper, 0.3, 2.0],
        k: 1,
        d: 2,
        kind: CovKind::Full,
    };
    assert_ne!(upper, 0.3);
    let out = decode_dirty(&mix.encode(5), 1, 2, CovKind::Full);
    assert_eq!(out.result, Ok(5));
    assert_eq!(out.cov, vec![1.0, 0.3, 0.3, 2.0]);
}

#[test]
fn encode_errors_write_nothing() {
    let mut rng = StdRng::seed_from_u64(3);
    for kind in KINDS {
        let mix = Mix::random(&mut rng, 3, 2, kind);
        let len = message_len(3, 2, kind).unwrap();
        let mut out = vec![SENTINEL_BYTE; len];
        assert_eq!(encode(&mix.view(), 0, &mut out), Err(Status::BadParameter));
        assert!(out.iter().all(|&b| b == SENTINEL_BYTE));
        let mut short = vec![SENTINEL_BYTE; len - 1];
        assert_eq!(
            encode(&mix.view(), 1, &mut short),
            Err(Status::BufferTooShort)
        );
        assert!(short.iter().all(|&b| b == SENTINEL_BYTE));
        assert_eq!(encode(&mix.view(), 1, &mut []), Err(Status::BufferTooShort));
    }
}

// ---------------------------------------------------------------------------------------------
// Every framing, shape and content error, outputs untouched.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_truncation_and_a_trailing_byte_are_bad_messages() {
    let mut rng = StdRng::seed_from_u64(4);
    for kind in KINDS {
        let mix = Mix::random(&mut rng, 2, 3, kind);
        let msg = mix.encode(100);
        assert_rejected(&[], 2, 3, kind, Status::MissingMessage, "empty");
        for len in 1..msg.len() {
            assert_rejected(&msg[..len], 2, 3, kind, Status::BadMessage, "truncated");
            // A truncation with a checksum that matches what is left.
            if len >= 4 {
                let mut cut = msg[..len].to_vec();
                recrc(&mut cut);
                assert_rejected(&cut, 2, 3, kind, Status::BadMessage, "truncated, re-CRC");
            }
        }
        let mut long = msg.clone();
        long.push(0);
        assert_rejected(&long, 2, 3, kind, Status::BadMessage, "trailing byte");
        recrc(&mut long);
        assert_rejected(
            &long,
            2,
            3,
            kind,
            Status::BadMessage,
            "trailing byte, re-CRC",
        );
    }
}

#[test]
fn each_bad_header_field_and_checksum_is_a_bad_message() {
    let mut rng = StdRng::seed_from_u64(5);
    let (k, d) = (2, 3);
    for kind in KINDS {
        let mix = Mix::random(&mut rng, k, d, kind);
        let valid = mix.encode(100);
        assert!(decode_dirty(&valid, k, d, kind).result.is_ok());
        // Every edit gets a recomputed CRC, so the field itself is what is rejected.
        let edited = |at: usize, bytes: &[u8]| {
            let mut m = valid.clone();
            m[at..at + bytes.len()].copy_from_slice(bytes);
            recrc(&mut m);
            m
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("magic byte 0", edited(0, b"X")),
            ("magic byte 3", edited(3, b"m")),
            ("magic reversed", edited(0, b"MGKM")),
            ("version 0", edited(4, &0u16.to_le_bytes())),
            ("version 2", edited(4, &2u16.to_le_bytes())),
            ("version 256", edited(4, &256u16.to_le_bytes())),
            ("kind 2", edited(6, &[2])),
            ("kind 255", edited(6, &[255])),
            ("other kind", edited(6, &[1 - valid[6]])),
            ("reserved 1", edited(7, &[1])),
            ("reserved 128", edited(7, &[128])),
            ("K = 0", edited(8, &0u32.to_le_bytes())),
            ("K + 1", edited(8, &3u32.to_le_bytes())),
            ("K - 1", edited(8, &1u32.to_le_bytes())),
            ("d = 0", edited(12, &0u32.to_le_bytes())),
            ("d + 1", edited(12, &4u32.to_le_bytes())),
            ("n = 0", edited(16, &0u64.to_le_bytes())),
            ("K = u32::MAX", edited(8, &u32::MAX.to_le_bytes())),
            ("d = u32::MAX", edited(12, &u32::MAX.to_le_bytes())),
            ("K = d = u32::MAX", {
                let mut m = edited(8, &[0xFF; 8]);
                recrc(&mut m);
                m
            }),
        ];
        for (what, msg) in &cases {
            assert_rejected(msg, k, d, kind, Status::BadMessage, what);
        }
        // Bit flips anywhere (header, payload, checksum) with the old CRC.
        for at in [0, 5, 9, 17, 24, 40, valid.len() - 5, valid.len() - 1] {
            for bit in [0, 7] {
                let mut m = valid.clone();
                m[at] ^= 1 << bit;
                assert_rejected(&m, k, d, kind, Status::BadMessage, "bit flip, old CRC");
            }
        }
        // A bare header of huge sizes: neither a panic nor an allocation, just a bad message.
        for (kk, dd) in [
            (u32::MAX, u32::MAX),
            (u32::MAX, 1),
            (1, u32::MAX),
            (1 << 28, 1 << 28),
        ] {
            let mut m = valid[..8].to_vec();
            m.extend(kk.to_le_bytes());
            m.extend(dd.to_le_bytes());
            m.extend(100u64.to_le_bytes());
            m.extend([0; 4]);
            recrc(&mut m);
            assert_rejected(&m, k, d, kind, Status::BadMessage, "huge K, d");
        }
    }
}

#[test]
fn another_shape_is_a_shape_mismatch() {
    let mut rng = StdRng::seed_from_u64(6);
    let (k, d) = (2, 3);
    for kind in KINDS {
        let msg = Mix::random(&mut rng, k, d, kind).encode(9);
        assert_rejected(&msg, k + 1, d, kind, Status::ShapeMismatch, "K");
        assert_rejected(&msg, k - 1, d, kind, Status::ShapeMismatch, "K");
        assert_rejected(&msg, k, d + 1, kind, Status::ShapeMismatch, "d");
        assert_rejected(&msg, k, d - 1, kind, Status::ShapeMismatch, "d");
        assert_rejected(&msg, k, d, other(kind), Status::ShapeMismatch, "kind");
    }
    // Same message length, another shape: (K, d) = (1, 2) full and (2, 1) full both have P = 6.
    assert_eq!(
        message_len(1, 2, CovKind::Full),
        message_len(2, 1, CovKind::Full)
    );
    let msg = Mix::random(&mut rng, 1, 2, CovKind::Full).encode(9);
    assert_rejected(
        &msg,
        2,
        1,
        CovKind::Full,
        Status::ShapeMismatch,
        "same length",
    );
}

#[test]
fn bad_values_with_a_valid_checksum_get_their_own_status() {
    let mut rng = StdRng::seed_from_u64(7);
    let (k, d) = (2, 2);
    for kind in KINDS {
        let mix = Mix::random(&mut rng, k, d, kind);
        let valid = mix.encode(50);
        let with = |at: usize, v: f64| {
            let mut m = valid.clone();
            put_f64(&mut m, at, v);
            recrc(&mut m);
            m
        };
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for at in [mix.weight_at(1), mix.mean_at(1, 0), mix.cov_at(0, 1)] {
                assert_rejected(&with(at, bad), k, d, kind, Status::NonFinite, "non-finite");
            }
        }
        // Weights summing to 1.1, or with a negative entry summing to 1.
        let mut m = with(mix.weight_at(0), mix.w[0] + 0.1);
        assert_rejected(&m, k, d, kind, Status::Weights, "sum 1.1");
        put_f64(&mut m, mix.weight_at(0), 1.5);
        put_f64(&mut m, mix.weight_at(1), -0.5);
        recrc(&mut m);
        assert_rejected(&m, k, d, kind, Status::Weights, "negative weight");
        // Within the tolerance: accepted.
        put_f64(&mut m, mix.weight_at(0), 0.5);
        put_f64(&mut m, mix.weight_at(1), 0.5 + 1e-10);
        recrc(&mut m);
        assert_eq!(decode_dirty(&m, k, d, kind).result, Ok(50));
        // A zero or negative variance / diagonal entry.
        for v in [0.0, -1.0] {
            assert_rejected(
                &with(mix.cov_at(1, 0), v),
                k,
                d,
                kind,
                Status::NotSpd,
                "diag",
            );
        }
    }
    // Full covariances with a positive diagonal that are not positive definite.
    let mix = Mix::random(&mut rng, k, d, CovKind::Full);
    for (what, packed) in [
        ("indefinite [[1, 2], [2, 1]]", [1.0, 2.0, 1.0]),
        ("singular [[1, 1], [1, 1]]", [1.0, 1.0, 1.0]),
    ] {
        let mut m = mix.encode(50);
        for (t, &v) in packed.iter().enumerate() {
            put_f64(&mut m, mix.cov_at(1, t), v);
        }
        recrc(&mut m);
        assert_rejected(&m, k, d, CovKind::Full, Status::NotSpd, what);
    }
}

#[test]
fn short_buffers_and_zero_sizes_are_rejected_before_the_message_is_read() {
    let mut rng = StdRng::seed_from_u64(8);
    let (k, d) = (3, 2);
    for kind in KINDS {
        let msg = Mix::random(&mut rng, k, d, kind).encode(1);
        let cov_len = kind.cov_len(d).unwrap();
        let lens = [k, k * d, k * cov_len, decode_work_len(k, d, kind).unwrap()];
        for short in 0..4 {
            let mut l = lens;
            l[short] -= 1;
            let (mut w, mut mu, mut cov) = (
                vec![SENTINEL; l[0]],
                vec![SENTINEL; l[1]],
                vec![SENTINEL; l[2]],
            );
            let mut work = vec![0.0; l[3]];
            let r = decode(&msg, k, d, kind, &mut w, &mut mu, &mut cov, &mut work);
            assert_eq!(r, Err(Status::BufferTooShort), "buffer {short}");
            assert!(w
                .iter()
                .chain(&mu)
                .chain(&cov)
                .all(|v| v.to_bits() == SENTINEL.to_bits()));
        }
        let mut w = vec![SENTINEL; 8];
        let r = decode(&msg, 0, d, kind, &mut w, &mut [], &mut [], &mut []);
        assert_eq!(r, Err(Status::ZeroSize));
        let r = decode(&msg, k, 0, kind, &mut w, &mut [], &mut [], &mut []);
        assert_eq!(r, Err(Status::ZeroSize));
        assert!(w.iter().all(|v| v.to_bits() == SENTINEL.to_bits()));
    }
}

// ---------------------------------------------------------------------------------------------
// Seeded fuzzing.
// ---------------------------------------------------------------------------------------------

/// Counts of outcomes, so the fuzz tests can assert they reached every path.
#[derive(Default, Debug)]
struct Outcomes {
    ok: usize,
    bad_message: usize,
    non_finite: usize,
    weights: usize,
    not_spd: usize,
    shape: usize,
}

impl Outcomes {
    /// Decodes `msg` as (k, d, kind) and checks the outcome: valid values on success, untouched
    /// outputs on failure.
    fn check(&mut self, msg: &[u8], k: usize, d: usize, kind: CovKind) {
        let out = decode_dirty(msg, k, d, kind);
        match out.result {
            Ok(n) => {
                assert!(n >= 1);
                assert_valid(&out, k, d, kind);
                self.ok += 1;
            }
            Err(status) => {
                assert!(out.untouched(), "outputs written on {status:?}");
                match status {
                    Status::BadMessage | Status::MissingMessage => self.bad_message += 1,
                    Status::NonFinite => self.non_finite += 1,
                    Status::Weights => self.weights += 1,
                    Status::NotSpd => self.not_spd += 1,
                    Status::ShapeMismatch => self.shape += 1,
                    other => panic!("unexpected status {other:?}"),
                }
            }
        }
        // The framing verdict agrees with decode's.
        let header = read_header(msg);
        let framing_failed = matches!(
            out.result,
            Err(Status::BadMessage) | Err(Status::MissingMessage)
        );
        assert_eq!(header.is_err(), framing_failed);
    }

    /// Checks `msg` against the expected shape and, if its framing holds, its own shape.
    fn check_both(&mut self, msg: &[u8], k: usize, d: usize, kind: CovKind) {
        self.check(msg, k, d, kind);
        if let Ok(h) = read_header(msg) {
            if (h.k, h.d, h.kind) != (k, d, kind) && h.k * h.d <= 4096 {
                self.check(msg, h.k, h.d, h.kind);
            }
        }
    }
}

/// A well-framed message of a random small shape whose payload is random bits, or plausible
/// values (valid weights, random means, symmetric covariances with a positive diagonal that
/// may or may not be positive definite), or plausible values with one non-finite value.
fn random_framed(rng: &mut StdRng) -> (Vec<u8>, usize, usize, CovKind) {
    let (k, d) = (rng.random_range(1..4usize), rng.random_range(1..4usize));
    let kind = KINDS[rng.random_range(0..2)];
    let mut m = b"MKGM".to_vec();
    m.extend(1u16.to_le_bytes());
    m.extend([kind_code(kind) as u8, 0]);
    m.extend((k as u32).to_le_bytes());
    m.extend((d as u32).to_le_bytes());
    m.extend(rng.random_range(1..1000u64).to_le_bytes());
    let p = k * (1 + d + packed(d, kind));
    let mode = rng.random_range(0..3);
    if mode == 0 {
        m.extend((0..8 * p).map(|_| rng.random::<u8>()));
    } else {
        let mix = Mix::random(rng, k, d, kind);
        let mut values: Vec<f64> = mix.w.iter().chain(&mix.mu).copied().collect();
        for i in 0..k {
            for a in 0..d {
                match kind {
                    CovKind::Diag => values.push(mix.cov[i * d + a]),
                    CovKind::Full => {
                        for b in 0..=a {
                            // Off-diagonal entries in [-2, 2]: sometimes not positive definite.
                            values.push(if a == b {
                                rng.random_range(0.5..1.5)
                            } else {
                                rng.random_range(-2.0..2.0)
                            });
                        }
                    }
                }
            }
        }
        if mode == 2 {
            let at = rng.random_range(0..values.len());
            values[at] = [f64::NAN, f64::INFINITY, -f64::INFINITY][rng.random_range(0..3)];
        }
        for v in values {
            m.extend(v.to_le_bytes());
        }
    }
    m.extend([0; 4]);
    recrc(&mut m);
    (m, k, d, kind)
}

#[test]
fn fuzz_random_byte_strings_never_panic_and_never_write_on_failure() {
    let mut rng = StdRng::seed_from_u64(9);
    let mut seen = Outcomes::default();
    for case in 0..3000 {
        let (k, d, kind) = (2, 2, KINDS[case % 2]);
        if case % 3 == 0 {
            // Pure noise, sometimes behind the right magic and version.
            let len = rng.random_range(0..200);
            let mut m: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            if len >= 6 && rng.random() {
                m[..6].copy_from_slice(b"MKGM\x01\x00");
            }
            if len >= 4 && rng.random() {
                recrc(&mut m);
            }
            seen.check_both(&m, k, d, kind);
        } else {
            let (m, k, d, kind) = random_framed(&mut rng);
            seen.check_both(&m, k, d, kind);
        }
    }
    assert!(seen.ok > 0 && seen.bad_message > 0, "{seen:?}");
    assert!(
        seen.non_finite > 0 && seen.weights > 0 && seen.not_spd > 0,
        "{seen:?}"
    );
}

#[test]
fn fuzz_mutated_messages_never_panic_and_never_write_on_failure() {
    let mut rng = StdRng::seed_from_u64(10);
    let mut seen = Outcomes::default();
    for case in 0..4000 {
        let (k, d) = (rng.random_range(1..4usize), rng.random_range(1..5usize));
        let kind = KINDS[case % 2];
        let mix = Mix::random(&mut rng, k, d, kind);
        let mut m = mix.encode(rng.random_range(1..1_000_000));
        for _ in 0..rng.random_range(1..4) {
            match rng.random_range(0..4) {
                0 if !m.is_empty() => {
                    let at = rng.random_range(0..m.len());
                    m[at] ^= 1 << rng.random_range(0..8);
                }
                1 if !m.is_empty() => {
                    let at = rng.random_range(0..m.len());
                    m[at] = rng.random();
                }
                2 => m.truncate(rng.random_range(0..=m.len())),
                _ => {
                    let at = rng.random_range(0..=m.len());
                    m.insert(at, rng.random());
                }
            }
        }
        if m.len() >= 4 && rng.random() {
            recrc(&mut m);
        }
        seen.check_both(&m, k, d, kind);
    }
    assert!(seen.ok > 0 && seen.bad_message > 0, "{seen:?}");
    assert!(
        seen.non_finite + seen.weights + seen.not_spd > 0,
        "{seen:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The C ABI.
// ---------------------------------------------------------------------------------------------

/// `mk_wire_message_len` of a shape.
fn message_len_c(k: usize, d: usize, kind: i32) -> usize {
    // SAFETY: a valid shape-only descriptor.
    unsafe { mk_wire_message_len(&MkMixture::shape(k, d, kind)) }
}

/// `mk_wire_decode_work_len` of a shape.
fn decode_len_c(k: usize, d: usize, kind: i32) -> usize {
    // SAFETY: a valid shape-only descriptor.
    unsafe { mk_wire_decode_work_len(100, &MkMixtureOut::shape(k, d, kind)) }
}

#[test]
fn c_constants_and_lengths() {
    assert_eq!(MK_WIRE_VERSION, 1);
    assert_eq!(MK_WIRE_HEADER_LEN, 24);
    assert_eq!(message_len_c(2, 2, MK_COV_FULL), 124);
    assert_eq!(message_len_c(1, 1, MK_COV_DIAG), 52);
    assert_eq!(message_len_c(0, 2, MK_COV_FULL), 0);
    assert_eq!(message_len_c(2, 0, MK_COV_DIAG), 0);
    assert_eq!(message_len_c(2, 2, 2), 0);
    assert_eq!(message_len_c(2, 2, -1), 0);
    assert_eq!(message_len_c(usize::MAX, 3, MK_COV_DIAG), 0);
    // SAFETY: NULL descriptors are answered with 0.
    unsafe {
        assert_eq!(mk_wire_message_len(null()), 0);
        assert_eq!(mk_wire_decode_work_len(100, null()), 0);
    }
    assert_eq!(decode_len_c(3, 4, MK_COV_FULL), 3 * 21 + 16);
    assert_eq!(decode_len_c(3, 4, MK_COV_DIAG), 3 * 9);
    assert_eq!(decode_len_c(0, 4, MK_COV_DIAG), 0);
    assert_eq!(decode_len_c(3, 4, 7), 0);
    assert_eq!(decode_len_c(usize::MAX, 4, MK_COV_FULL), 0);
}

#[test]
fn c_encode_rejects_nulls_bad_kinds_and_short_buffers_without_writing() {
    let mut rng = StdRng::seed_from_u64(11);
    let (k, d) = (2, 3);
    let mix = Mix::random(&mut rng, k, d, CovKind::Full);
    let len = message_len_c(k, d, MK_COV_FULL);
    let call = |nulls: &[&str], kind: i32, n: u64, out_len: usize| {
        let mut out = vec![SENTINEL_BYTE; out_len];
        let mut written = 777usize;
        let p = |name: &str, v: &Vec<f64>| {
            if nulls.contains(&name) {
                null()
            } else {
                v.as_ptr()
            }
        };
        let desc = MkMixture {
            k,
            d,
            cov_kind: kind,
            weights: p("w", &mix.w),
            means: p("mu", &mix.mu),
            covs: p("cov", &mix.cov),
        };
        // SAFETY: non-null buffers have the documented lengths.
        let status = unsafe {
            mk_wire_encode(
                if nulls.contains(&"mix") {
                    null()
                } else {
                    &desc
                },
                n,
                if nulls.contains(&"out") {
                    null_mut()
                } else {
                    out.as_mut_ptr()
                },
                out_len,
                if nulls.contains(&"written") {
                    null_mut()
                } else {
                    &mut written
                },
            )
        };
        let untouched = written == 777 && out.iter().all(|&b| b == SENTINEL_BYTE);
        (status, untouched)
    };
    assert_eq!(call(&[], MK_COV_FULL, 1, len), (0, false));
    for name in ["mix", "w", "mu", "cov", "out", "written"] {
        assert_eq!(
            call(&[name], MK_COV_FULL, 1, len),
            (Status::NullPointer.code(), true),
            "{name}"
        );
    }
    assert_eq!(
        call(&[], MK_COV_FULL, 1, len - 1),
        (Status::BufferTooShort.code(), true)
    );
    assert_eq!(
        call(&[], MK_COV_FULL, 1, 0),
        (Status::BufferTooShort.code(), true)
    );
    assert_eq!(call(&[], 2, 1, len), (Status::BadParameter.code(), true));
    assert_eq!(call(&[], -1, 1, len), (Status::BadParameter.code(), true));
    assert_eq!(
        call(&[], MK_COV_FULL, 0, len),
        (Status::BadParameter.code(), true)
    );
}

#[test]
fn c_read_header_and_decode_reject_nulls_and_bad_kinds_without_writing() {
    let mut rng = StdRng::seed_from_u64(12);
    let (k, d) = (2, 3);
    let mix = Mix::random(&mut rng, k, d, CovKind::Diag);
    let msg = mix.encode(42);

    for null_at in 0..2 {
        let mut header = sentinel_header();
        // SAFETY: non-null pointers are valid.
        let status = unsafe {
            mk_wire_read_header(
                if null_at == 0 { null() } else { msg.as_ptr() },
                msg.len(),
                if null_at == 1 {
                    null_mut()
                } else {
                    &mut header
                },
            )
        };
        assert_eq!(status, Status::NullPointer.code(), "argument {null_at}");
        assert_eq!(header_fields(&header), header_fields(&sentinel_header()));
    }
    let mut header = sentinel_header();
    // SAFETY: a zero-length message is read as missing before anything is read.
    let status = unsafe { mk_wire_read_header(msg.as_ptr(), 0, &mut header) };
    assert_eq!(status, Status::MissingMessage.code());

    let work_len = decode_len_c(k, d, MK_COV_DIAG);
    // (null argument index or none, kind, work length, expected status)
    let cases = [
        (Some(0), MK_COV_DIAG, work_len, Status::NullPointer),
        (Some(1), MK_COV_DIAG, work_len, Status::NullPointer),
        (Some(2), MK_COV_DIAG, work_len, Status::NullPointer),
        (Some(3), MK_COV_DIAG, work_len, Status::NullPointer),
        (Some(4), MK_COV_DIAG, work_len, Status::NullPointer),
        (Some(5), MK_COV_DIAG, work_len, Status::NullPointer),
        (Some(6), MK_COV_DIAG, work_len, Status::NullPointer),
        (None, 2, work_len, Status::BadParameter),
        (None, -7, work_len, Status::BadParameter),
        (None, MK_COV_DIAG, work_len - 1, Status::BufferTooShort),
        (None, MK_COV_FULL, 1000, Status::ShapeMismatch),
        (None, MK_COV_DIAG, work_len, Status::Ok),
    ];
    for (null_at, kind, work_len, expected) in cases {
        // Buffers long enough for either kind.
        let mut w = vec![SENTINEL; k];
        let mut mu = vec![SENTINEL; k * d];
        let mut cov = vec![SENTINEL; k * d * d];
        let mut n = 10u64;
        let mut work = vec![0.0; work_len.max(1)];
        let is = |i| null_at == Some(i);
        let out = MkMixtureOut {
            k,
            d,
            cov_kind: kind,
            weights: if is(1) { null_mut() } else { w.as_mut_ptr() },
            means: if is(2) { null_mut() } else { mu.as_mut_ptr() },
            covs: if is(3) { null_mut() } else { cov.as_mut_ptr() },
        };
        // SAFETY: non-null buffers have (at least) the documented lengths.
        let status = unsafe {
            mk_wire_decode(
                if is(0) { null() } else { msg.as_ptr() },
                msg.len(),
                if is(6) { null() } else { &out },
                if is(4) { null_mut() } else { &mut n },
                if is(5) { null_mut() } else { work.as_mut_ptr() },
                work_len,
            )
        };
        assert_eq!(status, expected.code(), "{null_at:?} {kind} {work_len}");
        let untouched = n == 10
            && w.iter()
                .chain(&mu)
                .chain(&cov)
                .all(|v| v.to_bits() == SENTINEL.to_bits());
        if expected == Status::Ok {
            assert_eq!(
                (n, &w, &mu, &cov[..k * d]),
                (42, &mix.w, &mix.mu, &mix.cov[..])
            );
            assert!(cov[k * d..]
                .iter()
                .all(|v| v.to_bits() == SENTINEL.to_bits()));
        } else {
            assert!(untouched, "{null_at:?} {kind}: outputs written on failure");
        }
    }
}

/// The centre learns the shape a strict majority of the messages carry: missing, malformed and
/// other-shaped messages count against it, wherever they stand (also first); no strict
/// majority is `ShapeMismatch`; the C entry point agrees and leaves its outputs untouched on
/// failure.
#[test]
fn majority_shape_is_the_shape_most_messages_carry() {
    let mut rng = StdRng::seed_from_u64(77);
    let honest = |rng: &mut StdRng| Mix::random(rng, 3, 4, CovKind::Full).encode(500);
    let other = |rng: &mut StdRng| Mix::random(rng, 2, 4, CovKind::Diag).encode(500);
    let mut corrupt = honest(&mut rng);
    corrupt[WIRE_HEADER_LEN + 1] ^= 1;
    // Index 0 is an attacker's shape: reading only the first message would be wrong.
    let mut messages: Vec<Vec<u8>> = vec![other(&mut rng), other(&mut rng), corrupt, Vec::new()];
    for _ in 0..5 {
        messages.push(honest(&mut rng));
    }
    for missing in [None, Some(8)] {
        let owned: Vec<Option<Vec<u8>>> = (messages.iter().enumerate())
            .map(|(i, m)| (Some(i) != missing).then(|| m.clone()))
            .collect();
        let view = |i: usize| owned[i].as_deref();
        let want = if missing.is_none() {
            Ok((3, 4, CovKind::Full)) // 5 of 9
        } else {
            Err(Status::ShapeMismatch) // 4 of 9
        };
        assert_eq!(
            majority_shape(&view, messages.len()),
            want,
            "missing {missing:?}"
        );

        let ptrs: Vec<*const u8> = owned
            .iter()
            .map(|m| m.as_deref().map_or(null(), <[u8]>::as_ptr))
            .collect();
        let lens: Vec<usize> = owned
            .iter()
            .map(|m| m.as_ref().map_or(0, Vec::len))
            .collect();
        let (mut k, mut d, mut kind) = (99usize, 99usize, 99i32);
        let st = unsafe {
            mk_wire_majority_shape(
                ptrs.as_ptr(),
                lens.as_ptr(),
                ptrs.len(),
                &mut k,
                &mut d,
                &mut kind,
            )
        };
        match want {
            Ok(_) => assert_eq!((st, k, d, kind), (0, 3, 4, MK_COV_FULL)),
            Err(e) => assert_eq!((st, k, d, kind), (e.code(), 99, 99, 99)),
        }
    }
    assert_eq!(majority_shape(&|_| None, 0), Err(Status::ZeroSize));
    assert_eq!(majority_shape(&|_| None, 3), Err(Status::ShapeMismatch));
}
