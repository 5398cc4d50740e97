//! Status codes shared by the safe API (`Result<_, Status>`) and the C ABI (`int32_t`).

use core::ffi::CStr;

/// The outcome of a mixkern call. `Ok` is 0; every failure has its own stable code.
///
/// Through the C ABI a status travels as an `int32_t` with these values (the header
/// names them `MK_STATUS_*`); `mk_status_str` turns any integer into a message.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was null.
    NullPointer = 1,
    /// A size argument (N, d, m, K, an iteration cap, ...) was zero.
    ZeroSize = 2,
    /// A product of sizes overflows `size_t`.
    SizeOverflow = 3,
    /// A caller buffer (workspace or output) is shorter than required.
    BufferTooShort = 4,
    /// Node sizes are zero or do not add up to the number of samples.
    NodeSizes = 5,
    /// An input holds NaN or infinity, or a result would not be finite.
    NonFinite = 6,
    /// A scalar parameter is outside its domain (sigma <= 0, tol < 0, unknown option, ...).
    BadParameter = 7,
    /// A matrix that must be symmetric positive definite is not (e.g. a singular Gram matrix).
    NotSpd = 8,
    /// Mixture weights are negative or do not sum to 1 (within 1e-9).
    Weights = 9,
    /// A wire message is malformed: bad magic, unknown version, bad field, wrong length
    /// (truncated or with trailing bytes) or a checksum mismatch.
    BadMessage = 10,
    /// Shapes disagree: two arguments (descriptors, a sample matrix, or a wire message and the
    /// expected shape) differ in K, d or covariance kind.
    ShapeMismatch = 11,
    /// An aggregation found fewer than floor(m/2) + 1 valid estimates, or no finite COAT
    /// radius: no honest majority can be certified. The per-machine statuses are written.
    NoMajority = 12,
    /// A machine sent no message (a NULL pointer or a zero length).
    MissingMessage = 13,
    /// Fewer samples than the model needs (n < K for a mixture fit).
    TooFewSamples = 14,
    /// Sample weights (or sample sizes) are negative, not finite, or sum to 0.
    SampleWeights = 15,
    /// The library is not compatible with the version of the header the caller was built with.
    VersionMismatch = 16,
    /// The data's scale is outside what the computation can represent in double precision
    /// (spreads below 1e-150 or magnitudes above 1e150): rescale the data.
    DataScale = 17,
    /// An aggregation rejected a local estimate with a component far sharper than the machines'
    /// pooled scale: the geometric mean of its covariance's eigenvalues, relative to the pooled
    /// per-dimension variances, is below the screening's `sharp_ratio`.
    TooSharp = 18,
    /// An aggregation rejected a local estimate with a component far flatter than the machines'
    /// pooled scale: one of its variances exceeds `flat_ratio` times the pooled variance.
    TooFlat = 19,
    /// An aggregation rejected a local estimate with a component lighter than its stated sample
    /// size supports: weight times sample size below `min_component_samples`.
    TooLight = 20,
    /// An aggregation rejected a local estimate with a component whose mean lies far outside the
    /// machines' pooled range: more than `far_ratio` pooled standard deviations from the pooled
    /// centre in some dimension.
    TooFar = 21,
    /// The caller's sample reader reported a failure (a chunked fit stops with this status when
    /// its read callback returns non-zero).
    ReadFailed = 22,
    /// A Rust panic was caught at the C boundary: a bug in mixkern, please report it.
    Panic = 99,
}

impl Status {
    /// A static message describing the status.
    pub fn message(self) -> &'static str {
        self.c_message().to_str().unwrap_or("")
    }

    /// The same message, NUL-terminated for the C ABI.
    pub const fn c_message(self) -> &'static CStr {
        match self {
            Status::Ok => c"ok",
            Status::NullPointer => c"a required pointer argument is null",
            Status::ZeroSize => c"a size argument is zero",
            Status::SizeOverflow => c"a product of sizes overflows size_t",
            Status::BufferTooShort => c"a workspace or output buffer is too short",
            Status::NodeSizes => c"node sizes are zero or do not add up to the number of samples",
            Status::NonFinite => c"an input is NaN or infinite, or a result is not finite",
            Status::BadParameter => c"a scalar parameter is outside its domain",
            Status::NotSpd => {
                c"a matrix is not symmetric positive definite (singular or indefinite)"
            }
            Status::Weights => c"mixture weights are negative or do not sum to 1",
            Status::BadMessage => {
                c"a wire message is malformed (magic, version, field, length or checksum)"
            }
            Status::ShapeMismatch => {
                c"shapes disagree: K, d or covariance kind differ between arguments"
            }
            Status::NoMajority => {
                c"no honest majority: fewer than floor(m/2) + 1 valid estimates, or no finite radius"
            }
            Status::MissingMessage => c"a machine sent no message (NULL or zero length)",
            Status::TooFewSamples => c"fewer samples than the model needs (n < K)",
            Status::SampleWeights => {
                c"sample weights or sizes are negative, not finite, or sum to zero"
            }
            Status::VersionMismatch => {
                c"the mixkern library is not compatible with the header the caller was built with"
            }
            Status::DataScale => {
                c"the data's scale is outside what double precision can fit (spread < 1e-150 or magnitude > 1e150): rescale it"
            }
            Status::TooSharp => {
                c"implausible estimate: a component is far sharper than the machines' pooled scale"
            }
            Status::TooFlat => {
                c"implausible estimate: a component is far flatter than the machines' pooled scale"
            }
            Status::TooLight => {
                c"implausible estimate: a component's weight is below what its sample size supports"
            }
            Status::TooFar => {
                c"implausible estimate: a component's mean is far outside the machines' pooled range"
            }
            Status::ReadFailed => c"the caller's sample reader reported a failure",
            Status::Panic => {
                c"internal error: a panic was caught at the C boundary (a mixkern bug)"
            }
        }
    }

    /// The status with this integer code, if there is one.
    pub const fn from_code(code: i32) -> Option<Status> {
        Some(match code {
            0 => Status::Ok,
            1 => Status::NullPointer,
            2 => Status::ZeroSize,
            3 => Status::SizeOverflow,
            4 => Status::BufferTooShort,
            5 => Status::NodeSizes,
            6 => Status::NonFinite,
            7 => Status::BadParameter,
            8 => Status::NotSpd,
            9 => Status::Weights,
            10 => Status::BadMessage,
            11 => Status::ShapeMismatch,
            12 => Status::NoMajority,
            13 => Status::MissingMessage,
            14 => Status::TooFewSamples,
            15 => Status::SampleWeights,
            16 => Status::VersionMismatch,
            17 => Status::DataScale,
            18 => Status::TooSharp,
            19 => Status::TooFlat,
            20 => Status::TooLight,
            21 => Status::TooFar,
            22 => Status::ReadFailed,
            99 => Status::Panic,
            _ => return None,
        })
    }

    /// The integer code of this status, as the C ABI returns it.
    pub const fn code(self) -> i32 {
        self as i32
    }
}

/// `a * b` as a `Status::SizeOverflow` error when it overflows.
pub(crate) fn checked_mul(a: usize, b: usize) -> Result<usize, Status> {
    a.checked_mul(b).ok_or(Status::SizeOverflow)
}

/// `a + b` as a `Status::SizeOverflow` error when it overflows.
pub(crate) fn checked_add(a: usize, b: usize) -> Result<usize, Status> {
    a.checked_add(b).ok_or(Status::SizeOverflow)
}

/// `Err(Status::BufferTooShort)` unless `have >= need`.
pub(crate) fn ensure_len(have: usize, need: usize) -> Result<(), Status> {
    if have < need {
        Err(Status::BufferTooShort)
    } else {
        Ok(())
    }
}

/// Below this spread (the largest range of a coordinate) squared deviations underflow.
const MIN_DATA_SPREAD: f64 = 1e-150;
/// Above this magnitude squared deviations overflow.
const MAX_DATA_MAGNITUDE: f64 = 1e150;

/// `DataScale` unless the samples can be fit in double precision: the largest range of a
/// coordinate is 0 (identical samples) or at least [`MIN_DATA_SPREAD`], and every |x| is at
/// most [`MAX_DATA_MAGNITUDE`]. (The samples are n rows of d values.) The fits check their data
/// with it: data scaled by 1e-300 used to give a Gaussian-mixture fit with every covariance at
/// the 2.2e-308 floor and a wrong log-likelihood; the fits do not rescale the data, since that
/// would take a copy of it.
pub(crate) fn check_data_scale(x: &[f64], d: usize) -> Result<(), Status> {
    // Up to 16 coordinates per pass over the samples, their ranges side by side.
    const GROUP: usize = 16;
    let mut spread = 0.0_f64;
    for first in (0..d).step_by(GROUP) {
        let width = GROUP.min(d - first);
        let (mut lo, mut hi) = ([f64::INFINITY; GROUP], [f64::NEG_INFINITY; GROUP]);
        for row in x.chunks_exact(d) {
            let values = &row[first..first + width];
            for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(values) {
                *l = l.min(v);
                *h = h.max(v);
            }
        }
        for (&l, &h) in lo.iter().zip(&hi).take(width) {
            if h.max(-l) > MAX_DATA_MAGNITUDE {
                return Err(Status::DataScale);
            }
            spread = spread.max(h - l);
        }
    }
    if spread > 0.0 && spread < MIN_DATA_SPREAD {
        return Err(Status::DataScale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_messages_are_distinct() {
        let all = [
            Status::Ok,
            Status::NullPointer,
            Status::ZeroSize,
            Status::SizeOverflow,
            Status::BufferTooShort,
            Status::NodeSizes,
            Status::NonFinite,
            Status::BadParameter,
            Status::NotSpd,
            Status::Weights,
            Status::BadMessage,
            Status::ShapeMismatch,
            Status::NoMajority,
            Status::MissingMessage,
            Status::TooFewSamples,
            Status::SampleWeights,
            Status::VersionMismatch,
            Status::DataScale,
            Status::TooSharp,
            Status::TooFlat,
            Status::TooLight,
            Status::TooFar,
            Status::Panic,
        ];
        for (i, a) in all.iter().enumerate() {
            assert_eq!(Status::from_code(a.code()), Some(*a));
            for b in &all[i + 1..] {
                assert_ne!(a.code(), b.code());
                assert_ne!(a.message(), b.message());
            }
        }
        assert_eq!(Status::from_code(12345), None);
    }
}
