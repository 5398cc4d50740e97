//! Elementary functions that stay exact for arguments of any size and vectorize in loops.
//!
//! [`exp`], [`expm1`], [`tanh`] and [`sigmoid`] are written for hot loops over many samples
//! (EM responsibilities, the C-MLR tanh update): each is branch-free straight-line code (range
//! handling by selects between values that are all computed), with no table lookups and no
//! calls into `libm`, so that LLVM vectorizes a loop such as
//! `for (o, u) in out.iter_mut().zip(inp) { *o = tanh(*u) }` in the default release build
//! (x86_64 baseline SSE2: `mulpd`/`addpd`, one `divpd` per two values for `tanh` and
//! `sigmoid`). They use only IEEE add, multiply, divide, compare and bit operations, so the
//! results are bitwise identical on every platform (Rust never contracts to FMA).
//!
//! Method: n = round(x / ln 2) by the 1.5 * 2^52 magic-number trick; a Cody-Waite reduction
//! r + c = x - n ln2_hi - n ln2_lo with |r| <= ln2 / 2 and c the rounding error of r; the Taylor
//! series of e^r - 1 - r to degree 13 by Estrin's scheme (short dependency chains are what
//! keeps a vectorized loop fast); the scale 2^n built from the bits of the magic-number sum,
//! split into two factors so that the whole range from subnormal results to overflow is
//! covered. The leading terms are carried in double-double (Fast2Sum), and `tanh` and
//! `sigmoid` correct their one division to first order for the low parts, so each result
//! takes only a few roundings.
//!
//! Accuracy, measured against a double-double oracle (itself checked against correctly
//! rounded `mpmath` values) on 2 x 10^7 dense and random points per range, in ulps of the
//! true value (`tests/special.rs` asserts the bounds in brackets): `exp` 0.79 [0.85], `expm1`
//! 1.12 [1.2], `tanh` 1.42 [1.5], `sigmoid` 1.14 [1.2], subnormal results included.
//! NaN in gives NaN out in all four functions.

const SIGN: u64 = 1 << 63;
/// 1.5 * 2^52: adding it to |y| < 2^51 rounds y to the nearest integer (ties to even) and
/// leaves that integer in the low bits of the sum.
const SHIFT: f64 = 6_755_399_441_055_744.0;
const LOG2_E: f64 = core::f64::consts::LOG2_E;
/// ln 2 with the low 21 bits of the significand zero, so n * LN2_HI is exact for |n| < 2^21.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000); // 6.93147180369123816490e-1
/// ln 2 - LN2_HI.
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76); // 1.90821492927058770002e-10
/// The largest x with e^x finite in f64; above it `exp` and `expm1` return +inf.
const EXP_OVER: f64 = f64::from_bits(0x4086_2E42_FEFA_39EF); // 709.782712893383973096
/// Exponent bias of f64.
const BIAS: u64 = 1023;

// Taylor coefficients 1/k! of e^r - 1 (k = 2..13), each rounded once at compile time.
const C2: f64 = 1.0 / 2.0;
const C3: f64 = 1.0 / 6.0;
const C4: f64 = 1.0 / 24.0;
const C5: f64 = 1.0 / 120.0;
const C6: f64 = 1.0 / 720.0;
const C7: f64 = 1.0 / 5_040.0;
const C8: f64 = 1.0 / 40_320.0;
const C9: f64 = 1.0 / 362_880.0;
const C10: f64 = 1.0 / 3_628_800.0;
const C11: f64 = 1.0 / 39_916_800.0;
const C12: f64 = 1.0 / 479_001_600.0;
const C13: f64 = 1.0 / 6_227_020_800.0;

/// |x| by clearing the sign bit (NaN stays NaN).
#[inline(always)]
fn abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !SIGN)
}

/// Argument reduction for x with |x| <= 746 (or NaN): returns (r, c, k) with
/// x = n ln 2 + r + c to about 2^-75 absolute, |r| <= ln2/2 + 1e-12, c the rounding error of r
/// (|c| <= 2^-54 |r|), and k = 1.5 * 2^52 + n, whose bit pattern is 0x4338_0000_0000_0000 + n.
/// For n = 0, r = x and c = 0.
#[inline(always)]
fn reduce(x: f64) -> (f64, f64, f64) {
    let k = x * LOG2_E + SHIFT;
    let n = k - SHIFT;
    // Exact: n * LN2_HI has at most 43 significant bits and is within a factor 2 of x.
    let hi = x - n * LN2_HI;
    let lo = n * LN2_LO;
    let r = hi - lo;
    let c = (hi - r) - lo;
    (r, c, k)
}

/// The Taylor series of (e^r - 1 - r) / r^2 to degree 11 (truncation error below 1.3e-17 |r|
/// for |r| <= 0.35), given r and r^2.
#[inline(always)]
fn tail_poly(r: f64, r2: f64) -> f64 {
    // Estrin's scheme: the same number of operations as Horner's rule but a dependency chain
    // of 4 multiply-adds instead of 11, which is what limits a vectorized loop.
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p0 = C2 + C3 * r;
    let p1 = C4 + C5 * r;
    let p2 = C6 + C7 * r;
    let p3 = C8 + C9 * r;
    let p4 = C10 + C11 * r;
    let p5 = C12 + C13 * r;
    let q0 = p0 + p1 * r2;
    let q1 = p2 + p3 * r2;
    let q2 = p4 + p5 * r2;
    (q0 + q1 * r4) + q2 * r8
}

/// s (e^(r + c) - 1 - r) for |r| <= 0.35, |c| <= 2^-54 |r| and a power of two s: the part of
/// 2^n (e^(r + c) - 1) beyond its first term, to be added last (so no 1 is ever added to it
/// and no leading bits are lost).
#[inline(always)]
fn expm1_tail_scaled(s: f64, r: f64, c: f64) -> f64 {
    let r2 = r * r;
    // s (c + c r) is the first-order effect of the rounding error of r; it is added first
    // because the polynomial is the last term ready.
    s * (c + c * r) + (s * r2) * tail_poly(r, r2)
}

/// a + b in double-double (hi, lo) for a == 0 or |a| >= |b| (Dekker's Fast2Sum).
#[inline(always)]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// 2^n for the n encoded in k = 1.5 * 2^52 + n, valid for -1022 <= n <= 1023.
#[inline(always)]
fn pow2(k: f64) -> f64 {
    // The magic constant's bits are shifted out; only n + 1023 lands in the exponent field.
    f64::from_bits(k.to_bits().wrapping_add(BIAS) << 52)
}

/// 2^n as two normal factors (2^n1, 2^n2), n1 + n2 = n, for -1076 <= n <= 1024.
#[inline(always)]
fn pow2_split(k: f64) -> (f64, f64) {
    let n = k - SHIFT;
    // n1 = round(n / 2) encoded like k; n2 = n - n1 by integer subtraction of the encodings.
    let h = n * 0.5 + SHIFT;
    let s1 = f64::from_bits(h.to_bits().wrapping_add(BIAS) << 52);
    let n2 = k.to_bits().wrapping_sub(h.to_bits());
    let s2 = f64::from_bits(n2.wrapping_add(BIAS) << 52);
    (s1, s2)
}

/// e^(r + c) for the reduced argument as h + l unevaluated, 1 + r carried in double-double.
#[inline(always)]
fn exp_reduced_parts(r: f64, c: f64) -> (f64, f64) {
    let (h, l) = fast_two_sum(1.0, r);
    (h, l + expm1_tail_scaled(1.0, r, c))
}

/// e^x for x in [-746, 710] (or NaN) as a double-double (hi, lo) with hi = e^x rounded.
///
/// Overflows to +inf and underflows gradually by itself (lo loses its meaning for subnormal
/// hi, where it is below the resolution of the result anyway).
#[inline(always)]
fn exp_core_dd(x: f64) -> (f64, f64) {
    let (r, c, k) = reduce(x);
    let (s1, s2) = pow2_split(k);
    let (h, l) = exp_reduced_parts(r, c);
    // |h| > |l|: exact. The scaling by s1 is exact (normal range); the one rounding to a
    // subnormal is in the product by s2.
    let (h, l) = fast_two_sum(h, l);
    (h * s1 * s2, l * s1 * s2)
}

/// e^(-2a) - 1 for a in [0, 22.5] (or NaN) as a double-double (hi, lo) with |lo| <= ulp(hi) / 2,
/// accurate to about 2^-104 absolute for a >= 1/2 (so that 1 + hi + lo = e^(-2a) keeps its
/// relative accuracy even where 2^n - 1 is not exact) and to a few 2^-53 |hi| relative near 0.
#[inline(always)]
fn expm1_neg2_dd(a: f64) -> (f64, f64) {
    // reduce(-2a), with -2 folded into the constant (same rounding: the factor is a power of
    // two) so that the chain to k is one multiply shorter.
    let k = a * (-2.0 * LOG2_E) + SHIFT;
    let n = k - SHIFT;
    let hi = -2.0 * a - n * LN2_HI;
    let lo = n * LN2_LO;
    let r = hi - lo;
    let c = (hi - r) - lo;
    let s = pow2(k);
    // s - 1 exactly (n <= 0, so |-1| >= s; for n = 0 both parts are 0).
    let (h0, l0) = fast_two_sum(-1.0, s);
    // |h0| >= 1/2 >= |s r| for n < 0, and h0 = 0 for n = 0: exact.
    let (h, l1) = fast_two_sum(h0, s * r);
    let l = (l0 + l1) + expm1_tail_scaled(s, r, c);
    fast_two_sum(h, l)
}

/// 2^n (e^(r + c) - 1) + (2^n - 1) for -65 <= n <= 65 with s = 2^n, as h + l unevaluated.
#[inline(always)]
fn expm1_scaled_parts(s: f64, r: f64, c: f64) -> (f64, f64) {
    // s - 1 is exact for |n| <= 53 (beyond, its rounding costs at most 1/4 ulp of a result
    // near 2^n or near -1, which rounds to -1 anyway); s * r is exact; their sum
    // is carried in double-double (|s - 1| >= |s r| unless n = 0, where s - 1 = 0), so only
    // the final addition rounds at full size and the result is accurate near 0.
    let (h, l) = fast_two_sum(s - 1.0, s * r);
    (h, l + expm1_tail_scaled(s, r, c))
}

/// e^x.
///
/// Accuracy: below 0.85 ulp (0.79 measured) over the whole range, subnormal results included.
///
/// Edge cases: `exp(x) = +inf` for `x > 709.782712893384` (the largest argument with a finite
/// result) and for `+inf`; results are subnormal below about -708.40 and 0 below about
/// -745.13 (where the true value rounds to 0) and for `-inf`; `exp(+-0) = 1`; NaN gives NaN.
///
/// Branch-free, no tables, no calls: vectorizes inside loops.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Clamp with comparisons that are false for NaN, so NaN flows through.
    let xc = if x > 710.0 { 710.0 } else { x };
    let xc = if xc < -746.0 { -746.0 } else { xc };
    let (y, _) = exp_core_dd(xc);
    if x > EXP_OVER {
        f64::INFINITY
    } else {
        y
    }
}

/// e^x - 1, accurate near 0.
///
/// Accuracy: below 1.2 ulp (1.12 measured) over the whole range, with relative accuracy near 0
/// (`expm1(x) == x` for |x| < 2^-54, subnormals included).
///
/// Edge cases: `expm1(x) = +inf` for `x > 709.782712893384` and for `+inf`; `expm1(x) = -1`
/// exactly for `x < -37.43` (where the true value rounds to -1) and for `-inf`;
/// `expm1(+-0) = +-0`; NaN gives NaN.
///
/// Branch-free, no tables, no calls: vectorizes inside loops.
#[inline(always)]
pub fn expm1(x: f64) -> f64 {
    let xc = if x > 710.0 { 710.0 } else { x };
    let xc = if xc < -45.0 { -45.0 } else { xc };
    let (r, c, k) = reduce(xc);
    // Moderate n: 2^n (e^r - 1) + (2^n - 1) with one exact scale.
    let (h, l) = expm1_scaled_parts(pow2(k), r, c);
    let small = h + l;
    // Large n (x > 40: e^x - 1 rounds like e^x): the exp path with a split scale.
    let (s1, s2) = pow2_split(k);
    let (eh, el) = exp_reduced_parts(r, c);
    let large = (eh + el) * s1 * s2;
    let y = if xc > 40.0 { large } else { small };
    // Keep the sign of a zero argument (expm1(-0) = -0).
    let y = if x == 0.0 { x } else { y };
    if x > EXP_OVER {
        f64::INFINITY
    } else {
        y
    }
}

/// Hyperbolic tangent; exactly +-1 for large |x|, exactly odd.
///
/// Computed on a = |x|, then given the sign of x, so `tanh(-x) == -tanh(x)` bitwise and
/// `tanh(+-0) = +-0`. With t = e^(-2a) - 1 in double-double (exact scaling, so it keeps its
/// accuracy both near 0 and near -1), tanh a = -t / (2 + t), one division corrected to first
/// order for the low parts. a is clamped at 20, where tanh is 1.0 in f64.
///
/// Accuracy: below 1.5 ulp (1.42 measured) everywhere, with relative accuracy near 0
/// (`tanh(1e-300) == 1e-300`, a subnormal argument gives itself).
///
/// Edge cases: `tanh(x) == 1.0` exactly for `x > 19.06` (where the true value rounds to 1),
/// including huge x and `+inf`, and `-1.0` for the negatives; NaN gives NaN.
///
/// Branch-free, no tables, no calls: vectorizes inside loops.
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    let a = abs(x);
    let a = if a > 20.0 { 20.0 } else { a };
    // t + tl = e^(-2a) - 1 in double-double, t in [-1, 0].
    let (t, tl) = expm1_neg2_dd(a);
    // d + e = 2 + t + tl (Fast2Sum: |t| <= 2).
    let (d, e) = fast_two_sum(2.0, t);
    let e = e + tl;
    // tanh a = -(t + tl) / (d + e) = q + (-tl - q e) / d to first order, where
    // 1 / d = (1 + q) / 2 (as 1 + tanh a = 2 / (2 + t)): one division.
    let q = -t / d;
    let inv_d = (1.0 + q) * 0.5;
    let y = q + (-tl - q * e) * inv_d;
    // y >= 0 (or NaN): give it the sign of x.
    f64::from_bits((y.to_bits() & !SIGN) | (x.to_bits() & SIGN))
}

/// Logistic sigmoid 1 / (1 + e^-x), finite for any finite x.
///
/// With e = e^-|x| in double-double (which never overflows), q = e / (1 + e) = sigmoid(-|x|),
/// one division corrected to first order for the low parts; the result is q for x < 0 and
/// 1 - q otherwise, so no branch loses accuracy or overflows.
///
/// Accuracy: below 1.2 ulp (1.14 measured) everywhere, including the subnormal results for x
/// in about [-745.13, -708.40]; `sigmoid(x) + sigmoid(-x)` is 1 within 1 ulp.
///
/// Edge cases: `sigmoid(x) == 1.0` exactly for `x > 37.43` (where the true value rounds to 1)
/// and for `+inf`; `sigmoid(x) > 0` wherever the true value does not round to 0 (x above about
/// -745.13) and 0 below and for `-inf`; `sigmoid(+-0) = 0.5`; NaN gives NaN.
///
/// Branch-free, no tables, no calls: vectorizes inside loops.
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    let na = -abs(x);
    let na = if na < -746.0 { -746.0 } else { na };
    // e + el = e^-|x| in double-double, e in [0, 1].
    let (e, el) = exp_core_dd(na);
    // d + de = 1 + e + el (Fast2Sum: e <= 1).
    let (d, de) = fast_two_sum(1.0, e);
    let de = de + el;
    // q = (e + el) / (d + de) = sigmoid(-|x|), corrected to first order for the low parts
    // with 1 / d = 1 - q: one division.
    let q = e / d;
    let q = q + (el - q * de) * (1.0 - q);
    // sigmoid(|x|) = 1 - sigmoid(-|x|): exact for q = 1/2, one rounding of a result in
    // [1/2, 1] otherwise.
    if x < 0.0 {
        q
    } else {
        1.0 - q
    }
}

// fdlibm's coefficients of log(1 + f) = 2 atanh(s), s = f / (2 + f), in s^2.
const LG1: f64 = 6.666_666_666_666_735e-1;
const LG2: f64 = 3.999_999_999_940_942e-1;
const LG3: f64 = 2.857_142_874_366_239e-1;
const LG4: f64 = 2.222_219_843_214_978_4e-1;
const LG5: f64 = 1.818_357_216_161_805e-1;
const LG6: f64 = 1.531_383_769_920_937_3e-1;
const LG7: f64 = 1.479_819_860_511_658_6e-1;

/// ln x for a positive normal x (and `-inf` for x = 0): fdlibm's `log` (the reduction to
/// `[sqrt(2)/2, sqrt(2))` and its degree-14 polynomial) written branch-free, so loops over samples
/// vectorize (mixture densities, regression mixtures); accurate to about 1 ulp. The sums of a log-sum-exp are 0 or in
/// `[1, K]`, always in that domain.
#[inline(always)]
pub(crate) fn log_of_sum(x: f64) -> f64 {
    let bits = x.to_bits();
    let high = bits >> 32;
    let mantissa_high = high & 0x000f_ffff;
    // 1 when the mantissa is at least sqrt(2): the value is then halved and the exponent grows.
    let carry = (mantissa_high + 0x9_5f64) & 0x10_0000;
    let m = f64::from_bits(((mantissa_high | (carry ^ 0x3ff0_0000)) << 32) | (bits & 0xffff_ffff));
    // The biased exponent (plus the carry) converted exactly through the 2^52 magic number.
    let biased = (high >> 20) + (carry >> 20);
    let k = f64::from_bits(0x4330_0000_0000_0000 | biased) - (4_503_599_627_370_496.0 + 1023.0);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let y = k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f);
    if x > 0.0 {
        y
    } else {
        f64::NEG_INFINITY
    }
}

/// Square root, correctly rounded: libm's, which on x86 is the SSE2 instruction through inline
/// assembly. Under Miri, which cannot interpret inline assembly, it is std's, correctly rounded
/// too, so every value is the same.
#[inline(always)]
pub(crate) fn sqrt(x: f64) -> f64 {
    #[cfg(all(miri, feature = "std"))]
    {
        x.sqrt()
    }
    #[cfg(not(all(miri, feature = "std")))]
    {
        libm::sqrt(x)
    }
}

#[cfg(test)]
mod tests {
    use super::log_of_sum;

    #[test]
    fn log_of_sum_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = 1.0f64;
        while x < 1e6 {
            let sqrt2 = core::f64::consts::SQRT_2;
            // Both sides of the reduction's switch at sqrt(2), and points in between.
            for y in [
                x,
                x * 1.000_001,
                x * sqrt2 * 0.999_999_9,
                x * sqrt2 * 1.000_000_1,
                x * 1.9,
            ] {
                let (a, b) = (log_of_sum(y), libm::log(y));
                worst = worst.max((a - b).abs() / b.abs().max(f64::MIN_POSITIVE));
            }
            x *= 1.003;
        }
        assert!(worst <= 2.5e-16, "{worst:e}");
        assert_eq!(log_of_sum(1.0), 0.0);
        assert_eq!(log_of_sum(2.0), core::f64::consts::LN_2);
        assert_eq!(log_of_sum(0.0), f64::NEG_INFINITY);
        assert!((log_of_sum(1e-300) - libm::log(1e-300)).abs() < 1e-13);
    }
}
