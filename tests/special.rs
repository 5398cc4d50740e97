//! Accuracy and edge-case tests for `mixkern::special`.
//!
//! Three independent references:
//! - tables of correctly rounded values computed with Python's `mpmath` at 200 bits (the
//!   script is in the comment above the tables);
//! - a double-double oracle in this file (about 100 correct bits: Cody-Waite reduction with ln 2
//!   in double-double, Taylor series of e^(r/256) - 1, eight exact squarings), itself checked
//!   against the mpmath tables, which measures the error of each result in real-valued ulps on
//!   dense grids and random points;
//! - `libm` and `std` (glibc), compared in whole ulps with bounds that add their own error.
//!
//! Bounds asserted against the oracle, in real-valued ulps of the true value, with the maxima
//! measured on 2 x 10^7 points per range in brackets: `exp` < 0.85 [0.79], `expm1` < 1.2
//! [1.12], `tanh` < 1.5 [1.42], `sigmoid` < 1.2 [1.14].

// The mpmath tables hold correctly rounded values, some of which are the f64 constants
// (e^-ln2/2 = FRAC_1_SQRT_2, e = E, ...): they are data, not approximations.
#![allow(clippy::approx_constant)]

use mixkern::special::{exp, expm1, sigmoid, tanh};

// ---------------------------------------------------------------------------------------------
// Double-double oracle.
// ---------------------------------------------------------------------------------------------

/// hi + lo with |lo| <= ulp(hi) / 2.
#[derive(Clone, Copy, Debug)]
struct Dd(f64, f64);

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd(s, (a - (s - bb)) + (b - bb))
}

fn quick_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd(s, b - (s - a))
}

fn two_prod(a: f64, b: f64) -> Dd {
    let p = a * b;
    Dd(p, a.mul_add(b, -p))
}

fn dd(x: f64) -> Dd {
    Dd(x, 0.0)
}

fn neg(x: Dd) -> Dd {
    Dd(-x.0, -x.1)
}

fn add(x: Dd, y: Dd) -> Dd {
    let s = two_sum(x.0, y.0);
    let t = two_sum(x.1, y.1);
    let s = quick_two_sum(s.0, s.1 + t.0);
    quick_two_sum(s.0, s.1 + t.1)
}

fn mul(x: Dd, y: Dd) -> Dd {
    let p = two_prod(x.0, y.0);
    quick_two_sum(p.0, p.1 + (x.0 * y.1 + x.1 * y.0))
}

fn div(x: Dd, y: Dd) -> Dd {
    let q1 = x.0 / y.0;
    let r = add(x, neg(mul(dd(q1), y)));
    let q2 = r.0 / y.0;
    let r = add(r, neg(mul(dd(q2), y)));
    let q3 = r.0 / y.0;
    add(quick_two_sum(q1, q2), dd(q3))
}

/// 2^k exactly, for -1074 <= k <= 1023.
fn pow2(k: i32) -> f64 {
    assert!((-1074..=1023).contains(&k));
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// x * 2^k without intermediate overflow or underflow when the result is normal.
fn scale(x: f64, k: i32) -> f64 {
    let h = k / 2;
    x * pow2(h) * pow2(k - h)
}

fn scale_dd(x: Dd, k: i32) -> Dd {
    Dd(scale(x.0, k), scale(x.1, k))
}

const LN2: Dd = Dd(std::f64::consts::LN_2, 2.319_046_813_846_299_6e-17);

/// (m, n) with e^x = 2^n (1 + m) to about 2^-100 relative, for normal or zero x, |x| <= 750.
fn em1_reduced(x: f64) -> (Dd, i32) {
    let n = (x / std::f64::consts::LN_2).round();
    let p = two_prod(n, LN2.0);
    let r = add(add(dd(x), neg(p)), dd(-n * LN2.1));
    let m = Dd(r.0 / 256.0, r.1 / 256.0);
    let mut term = m;
    let mut s = m;
    for k in 2..=12 {
        term = div(mul(term, m), dd(k as f64));
        s = add(s, term);
    }
    for _ in 0..8 {
        // (1 + s)^2 - 1 = 2 s + s^2, exact doubling.
        s = add(Dd(2.0 * s.0, 2.0 * s.1), mul(s, s));
    }
    (s, n as i32)
}

/// A reference value w * 2^n.
#[derive(Clone, Copy, Debug)]
struct Ref {
    w: Dd,
    n: i32,
}

fn exp_ref(x: f64) -> Ref {
    let (m, n) = em1_reduced(x);
    Ref {
        w: add(dd(1.0), m),
        n,
    }
}

/// For -60 <= x <= 709.78.
fn expm1_ref(x: f64) -> Ref {
    let (m, n) = em1_reduced(x);
    // 2^n (1 + m) - 1 = 2^n (m + (1 - 2^-n)), with 1 - 2^-n exact in double-double.
    Ref {
        w: add(m, two_sum(1.0, -pow2(-n))),
        n,
    }
}

fn tanh_ref(x: f64) -> Ref {
    let a = x.abs();
    let v = if a < 1e-9 {
        // a - a^3 / 3 + 2 a^5 / 15, the rest is below 2^-120 relative.
        let a2 = mul(dd(a), dd(a));
        let a3 = mul(a2, dd(a));
        let a5 = mul(a3, a2);
        add(
            add(dd(a), neg(div(a3, dd(3.0)))),
            div(Dd(2.0 * a5.0, 2.0 * a5.1), dd(15.0)),
        )
    } else if a > 40.0 {
        Dd(1.0, -2.0 * (-2.0 * a).exp())
    } else {
        let Ref { w, n } = expm1_ref(-2.0 * a);
        let t = scale_dd(w, n);
        div(neg(t), add(dd(2.0), t))
    };
    let v = if x < 0.0 { neg(v) } else { v };
    Ref { w: v, n: 0 }
}

fn sigmoid_ref(x: f64) -> Ref {
    let a = x.abs();
    let (m, n) = em1_reduced(-a);
    let ew = add(dd(1.0), m);
    // e = e^-|x| = ew * 2^n; its f64 value is enough inside 1 + e when e is tiny.
    let e = if a <= 700.0 {
        scale_dd(ew, n)
    } else {
        dd(scale(ew.0, n))
    };
    let d = add(dd(1.0), e);
    if x < 0.0 {
        Ref { w: div(ew, d), n }
    } else {
        Ref {
            w: div(dd(1.0), d),
            n: 0,
        }
    }
}

/// Error of y against the reference in real-valued units in the last place of the true value
/// (the ulp of the binade of the true value, 2^-1074 for subnormals).
fn ulps(y: f64, r: Ref) -> f64 {
    if !y.is_finite() {
        return f64::INFINITY;
    }
    let Dd(hi, lo) = r.w;
    if hi == 0.0 {
        return if y == 0.0 { 0.0 } else { y.abs() / pow2(-1074) };
    }
    // Exponent of hi (subnormals share the exponent of the smallest normal).
    let mut e = (((hi.abs().to_bits() >> 52) as i32) - 1023).max(-1022);
    if hi.abs().to_bits() & ((1u64 << 52) - 1) == 0 && lo != 0.0 && (lo < 0.0) != (hi < 0.0) {
        // hi is a power of two and the true value lies just below it in magnitude.
        e -= 1;
    }
    let k = (e - 52).max(-1074 - r.n);
    let ys = scale(y, -r.n);
    ((ys - hi) - lo).abs() / pow2(k)
}

/// Distance in representable numbers between two finite f64.
fn int_ulps(a: f64, b: f64) -> u64 {
    fn ordered(x: f64) -> i64 {
        let b = x.to_bits() as i64;
        if b < 0 {
            i64::MIN - b
        } else {
            b
        }
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    if a == b {
        return 0;
    }
    ordered(a).abs_diff(ordered(b))
}

/// Dense grid (every point of lo + (hi - lo) i / n) and as many uniform random points.
fn points(lo: f64, hi: f64, n: usize, seed: u64) -> impl Iterator<Item = f64> {
    let mut rng = mixkern::rng::Rng::new(seed);
    (0..=n)
        .map(move |i| lo + (hi - lo) * (i as f64 / n as f64))
        .chain((0..n).map(move |_| lo + (hi - lo) * rng.uniform()))
        .collect::<Vec<_>>()
        .into_iter()
}

/// Max error in real-valued ulps of f against the oracle, and where.
fn max_err(f: fn(f64) -> f64, r: fn(f64) -> Ref, xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut worst = (0.0, f64::NAN);
    for x in xs {
        let e = ulps(f(x), r(x));
        if e.is_nan() || e > worst.0 {
            worst = (e, x);
        }
    }
    worst
}

/// Max whole-ulp distance of f from g, and where.
fn max_int(f: fn(f64) -> f64, g: fn(f64) -> f64, xs: impl Iterator<Item = f64>) -> (u64, f64) {
    let mut worst = (0, f64::NAN);
    for x in xs {
        let d = int_ulps(f(x), g(x));
        if d > worst.0 {
            worst = (d, x);
        }
    }
    worst
}

const N: usize = 200_000;

// ---------------------------------------------------------------------------------------------
// Correctly rounded tables (mpmath), the oracle against them, the functions against them.
// ---------------------------------------------------------------------------------------------

fn check_table(name: &str, table: &[(f64, f64)], f: fn(f64) -> f64, r: fn(f64) -> Ref, bound: f64) {
    for &(x, y) in table {
        // The oracle agrees with the correctly rounded value to within half an ulp (plus its
        // own error): this validates the oracle used by the dense tests below.
        let e_table = ulps(y, r(x));
        assert!(
            e_table <= 0.5 + 1e-6,
            "{name} oracle vs mpmath at {x:e}: {e_table} ulp"
        );
        // The function is within one representable number of the correctly rounded value.
        let got = f(x);
        assert!(
            int_ulps(got, y) <= 1,
            "{name}({x:e}) = {got:e}, correctly rounded {y:e}"
        );
        let e = ulps(got, r(x));
        assert!(e < bound, "{name}({x:e}): {e} ulp");
    }
}

#[test]
fn exp_matches_correctly_rounded_table() {
    check_table("exp", EXP_TABLE, exp, exp_ref, EXP_BOUND);
}

#[test]
fn expm1_matches_correctly_rounded_table() {
    check_table("expm1", EXPM1_TABLE, expm1, expm1_ref, EXPM1_BOUND);
}

#[test]
fn tanh_matches_correctly_rounded_table() {
    check_table("tanh", TANH_TABLE, tanh, tanh_ref, TANH_BOUND);
    let neg: Vec<(f64, f64)> = TANH_TABLE.iter().map(|&(x, y)| (-x, -y)).collect();
    check_table("tanh", &neg, tanh, tanh_ref, TANH_BOUND);
}

#[test]
fn sigmoid_matches_correctly_rounded_table() {
    check_table(
        "sigmoid",
        SIGMOID_TABLE,
        sigmoid,
        sigmoid_ref,
        SIGMOID_BOUND,
    );
}

// ---------------------------------------------------------------------------------------------
// Dense grids and random points against the oracle (real-valued ulps) and libm / std.
// ---------------------------------------------------------------------------------------------

const EXP_BOUND: f64 = 0.85;
const EXPM1_BOUND: f64 = 1.2;
const TANH_BOUND: f64 = 1.5;
const SIGMOID_BOUND: f64 = 1.2;

#[test]
fn exp_accuracy() {
    // Whole finite range, subnormal results included.
    let (e, x) = max_err(exp, exp_ref, points(-745.1332, 709.7827, N, 1));
    assert!(e < EXP_BOUND, "exp: {e} ulp at {x:e}");
    let (e, x) = max_err(exp, exp_ref, points(-2.0, 2.0, N, 2));
    assert!(e < EXP_BOUND, "exp: {e} ulp at {x:e}");
    let (e, x) = max_err(exp, exp_ref, points(-745.1332, -708.0, N / 4, 3));
    assert!(e < EXP_BOUND, "exp (subnormal results): {e} ulp at {x:e}");
    // Against libm (< 1 ulp) and glibc (< 1 ulp): at most one representable number apart.
    let (d, x) = max_int(exp, libm::exp, points(-745.1332, 709.7827, N, 4));
    assert!(d <= 1, "exp vs libm: {d} at {x:e}");
    let (d, x) = max_int(exp, f64::exp, points(-745.1332, 709.7827, N, 5));
    assert!(d <= 1, "exp vs std: {d} at {x:e}");
}

#[test]
fn expm1_accuracy() {
    let (e, x) = max_err(expm1, expm1_ref, points(-50.0, 709.78, N, 11));
    assert!(e < EXPM1_BOUND, "expm1: {e} ulp at {x:e}");
    let (e, x) = max_err(expm1, expm1_ref, points(-2.0, 2.0, N, 12));
    assert!(e < EXPM1_BOUND, "expm1: {e} ulp at {x:e}");
    let (e, x) = max_err(expm1, expm1_ref, points(-1e-3, 1e-3, N / 4, 13));
    assert!(e < EXPM1_BOUND, "expm1 near 0: {e} ulp at {x:e}");
    // Relative accuracy down to tiny arguments.
    let tiny = (1..300)
        .map(|k| 10f64.powi(-k))
        .flat_map(|x| [x, -x, 3.7 * x, -3.7 * x]);
    let (e, x) = max_err(expm1, expm1_ref, tiny);
    assert!(e < EXPM1_BOUND, "expm1 tiny: {e} ulp at {x:e}");
    let (d, x) = max_int(expm1, libm::expm1, points(-50.0, 709.78, N, 14));
    assert!(d <= 2, "expm1 vs libm: {d} at {x:e}");
    let (d, x) = max_int(expm1, f64::exp_m1, points(-50.0, 709.78, N, 15));
    assert!(d <= 2, "expm1 vs std: {d} at {x:e}");
}

#[test]
fn tanh_accuracy() {
    let (e, x) = max_err(tanh, tanh_ref, points(-40.0, 40.0, N, 21));
    assert!(e < TANH_BOUND, "tanh: {e} ulp at {x:e}");
    let (e, x) = max_err(tanh, tanh_ref, points(-1.5, 1.5, N, 22));
    assert!(e < TANH_BOUND, "tanh: {e} ulp at {x:e}");
    let (e, x) = max_err(tanh, tanh_ref, points(-0.01, 0.01, N / 4, 23));
    assert!(e < TANH_BOUND, "tanh near 0: {e} ulp at {x:e}");
    let (e, x) = max_err(tanh, tanh_ref, points(17.0, 20.0, N / 4, 24));
    assert!(e < TANH_BOUND, "tanh near 1: {e} ulp at {x:e}");
    // Relative accuracy near 0, down to the smallest normal.
    let tiny = (1..308)
        .map(|k| 10f64.powi(-k))
        .flat_map(|x| [x, -x, 3.7 * x, -3.7 * x]);
    let (e, x) = max_err(tanh, tanh_ref, tiny);
    assert!(e < TANH_BOUND, "tanh tiny: {e} ulp at {x:e}");
    for x in [1e-300, 1e-10, 1e-5] {
        let rel = (tanh(x) - (x - x * x * x / 3.0)).abs() / x;
        assert!(rel < 2.3e-16, "tanh({x:e}) relative error {rel:e}");
    }
    // libm's and glibc's tanh have up to about 2 ulp of error of their own.
    let (d, x) = max_int(tanh, libm::tanh, points(-40.0, 40.0, N, 25));
    assert!(d <= 3, "tanh vs libm: {d} at {x:e}");
    let (d, x) = max_int(tanh, f64::tanh, points(-40.0, 40.0, N, 26));
    assert!(d <= 3, "tanh vs std: {d} at {x:e}");
}

/// sigmoid by the two-branch formula through libm::exp (about 2 ulp).
fn sigmoid_libm(x: f64) -> f64 {
    let e = libm::exp(-x.abs());
    if x < 0.0 {
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + e)
    }
}

#[test]
fn sigmoid_accuracy() {
    let (e, x) = max_err(sigmoid, sigmoid_ref, points(-800.0, 800.0, N, 31));
    assert!(e < SIGMOID_BOUND, "sigmoid: {e} ulp at {x:e}");
    let (e, x) = max_err(sigmoid, sigmoid_ref, points(-40.0, 40.0, N, 32));
    assert!(e < SIGMOID_BOUND, "sigmoid: {e} ulp at {x:e}");
    let (e, x) = max_err(sigmoid, sigmoid_ref, points(-746.0, -700.0, N / 4, 33));
    assert!(
        e < SIGMOID_BOUND,
        "sigmoid (subnormal results): {e} ulp at {x:e}"
    );
    let (d, x) = max_int(sigmoid, sigmoid_libm, points(-800.0, 800.0, N, 34));
    assert!(d <= 3, "sigmoid vs libm formula: {d} at {x:e}");
}

// ---------------------------------------------------------------------------------------------
// Exact values, identities, special inputs.
// ---------------------------------------------------------------------------------------------

#[test]
fn exp_edges() {
    assert_eq!(exp(0.0), 1.0);
    assert_eq!(exp(-0.0), 1.0);
    assert_eq!(exp(f64::INFINITY), f64::INFINITY);
    assert_eq!(exp(f64::NEG_INFINITY).to_bits(), 0);
    // The largest argument with a finite result, and the next one up.
    let big = 709.782_712_893_384;
    assert!(exp(big).is_finite() && exp(big) > 1.79e308);
    assert_eq!(exp(f64::from_bits(big.to_bits() + 1)), f64::INFINITY);
    assert_eq!(exp(710.0), f64::INFINITY);
    assert_eq!(exp(1e300), f64::INFINITY);
    assert_eq!(exp(f64::MAX), f64::INFINITY);
    // Gradual underflow down to the smallest subnormal, then 0.
    assert_eq!(exp(-745.133_219_101_941), 5e-324);
    assert_eq!(exp(-745.2), 0.0);
    assert_eq!(exp(-746.0), 0.0);
    assert_eq!(exp(-1e300), 0.0);
    assert_eq!(exp(f64::MIN), 0.0);
    assert!(exp(-740.0) > 0.0 && exp(-740.0) < f64::MIN_POSITIVE);
    let mut x = -745.13;
    while x < -700.0 {
        assert!(exp(x) > 0.0, "exp({x}) underflowed");
        x += 0.01;
    }
}

#[test]
fn expm1_edges() {
    assert_eq!(expm1(0.0).to_bits(), 0.0f64.to_bits());
    assert_eq!(expm1(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(expm1(f64::INFINITY), f64::INFINITY);
    assert_eq!(expm1(f64::NEG_INFINITY), -1.0);
    assert_eq!(expm1(709.782_712_893_384), exp(709.782_712_893_384));
    assert_eq!(expm1(709.8), f64::INFINITY);
    assert_eq!(expm1(1e300), f64::INFINITY);
    for x in [-38.0, -40.0, -45.0, -50.0, -745.0, -1e300, f64::MIN] {
        assert_eq!(expm1(x), -1.0, "expm1({x:e})");
    }
    // expm1(x) = x for |x| below 2^-54, subnormals included.
    for x in [
        1e-17,
        -1e-17,
        1e-300,
        -1e-300,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
    ] {
        assert_eq!(expm1(x), x, "expm1({x:e})");
    }
}

#[test]
fn tanh_is_exactly_odd() {
    for x in points(-50.0, 50.0, 100_000, 41).chain((1..300).map(|k| 10f64.powi(-k))) {
        assert_eq!(
            tanh(-x).to_bits(),
            (-tanh(x)).to_bits(),
            "tanh not odd at {x:e}"
        );
    }
    assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
    assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
}

#[test]
fn tanh_saturates_exactly() {
    let mut x = 19.1;
    while x < 100.0 {
        assert_eq!(tanh(x), 1.0, "tanh({x})");
        assert_eq!(tanh(-x), -1.0, "tanh({x})");
        x += 0.013;
    }
    for x in [1e3, 1e10, 1e300, f64::MAX, f64::INFINITY] {
        assert_eq!(tanh(x), 1.0);
        assert_eq!(tanh(-x), -1.0);
    }
    // Just below the saturation point the result is not yet 1.
    assert!(tanh(18.0) < 1.0);
}

#[test]
fn tanh_tiny_arguments() {
    assert_eq!(tanh(1e-300), 1e-300);
    assert_eq!(tanh(f64::MIN_POSITIVE), f64::MIN_POSITIVE);
    assert_eq!(tanh(5e-324), 5e-324);
    assert_eq!(tanh(-5e-324), -5e-324);
    assert_eq!(tanh(1e-10), 1e-10 - 1e-30 / 3.0);
}

#[test]
fn sigmoid_edges_and_symmetry() {
    assert_eq!(sigmoid(0.0), 0.5);
    assert_eq!(sigmoid(-0.0), 0.5);
    assert_eq!(sigmoid(f64::INFINITY), 1.0);
    assert_eq!(sigmoid(f64::NEG_INFINITY), 0.0);
    for x in [38.0, 40.0, 100.0, 745.0, 1e300, f64::MAX] {
        assert_eq!(sigmoid(x), 1.0, "sigmoid({x:e})");
    }
    assert!(sigmoid(36.0) < 1.0);
    // Positive wherever the true value does not underflow, 0 only beyond.
    let mut x = -745.1;
    while x < 0.0 {
        assert!(sigmoid(x) > 0.0, "sigmoid({x}) underflowed");
        x += 0.37;
    }
    assert!(sigmoid(-745.0) > 0.0);
    assert_eq!(sigmoid(-745.2), 0.0);
    assert_eq!(sigmoid(-1e300), 0.0);
    assert_eq!(sigmoid(f64::MIN), 0.0);
    // sigmoid(x) + sigmoid(-x) = 1 within one ulp of 1.
    for x in points(-60.0, 60.0, 100_000, 42) {
        let s = sigmoid(x) + sigmoid(-x);
        assert!(
            (s - 1.0).abs() <= f64::EPSILON,
            "sigmoid({x}) + sigmoid(-{x}) = {s}"
        );
    }
}

#[test]
fn nan_propagates() {
    let nans = [
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7FF0_0000_0000_0001),
        f64::from_bits(0xFFF8_0000_0000_1234),
    ];
    for x in nans {
        assert!(exp(x).is_nan());
        assert!(expm1(x).is_nan());
        assert!(tanh(x).is_nan());
        assert!(sigmoid(x).is_nan());
    }
}

#[test]
fn vectorized_loop_matches_scalar_calls() {
    // The same code runs in a loop the compiler vectorizes; results must not depend on it.
    let xs: Vec<f64> = points(-50.0, 50.0, 10_000, 51)
        .chain([
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            5e-324,
        ])
        .collect();
    let mut out = vec![0.0; xs.len()];
    for (f, name) in [
        (exp as fn(f64) -> f64, "exp"),
        (expm1, "expm1"),
        (tanh, "tanh"),
        (sigmoid, "sigmoid"),
    ] {
        for (o, x) in out.iter_mut().zip(&xs) {
            *o = f(*x);
        }
        for (o, x) in out.iter().zip(&xs) {
            let y = std::hint::black_box(f)(std::hint::black_box(*x));
            assert!(o.to_bits() == y.to_bits(), "{name}({x:e}): {o:e} vs {y:e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Correctly rounded values from mpmath (200-bit precision), generated by:
//
//   import mpmath as mp, random; mp.mp.prec = 200
//   def rnd(v):  # round the real v to the nearest f64, subnormals included
//       s = -1 if v < 0 else 1; v = abs(v); e = int(mp.floor(mp.log(v, 2)))
//       while 2**mp.mpf(e) > v: e -= 1
//       while 2**mp.mpf(e + 1) <= v: e += 1
//       q = max(e - 52, -1074); return s * float(mp.nint(v / mp.mpf(2)**q) * mp.mpf(2)**q)
//   # for each function f, chosen points plus 12 random.uniform(lo, hi) (random.seed(12345)):
//   print((x, rnd(f(mp.mpf(x)))))
//
// with f = mp.exp, mp.expm1, mp.tanh and 1 / (1 + mp.exp(-x)).
// ---------------------------------------------------------------------------------------------

const EXP_TABLE: &[(f64, f64)] = &[
    (-745.1332191019411, 5e-324),
    (-745.13, 5e-324),
    (-744.9, 5e-324),
    (-744.44, 5e-324),
    (-740.0, 4.2e-322),
    (-720.5, 1.2326102893e-313),
    (-709.1, 1.10098875270993e-308),
    (-708.4, 2.217119081664265e-308),
    (-708.39, 2.2394014988804677e-308),
    (-700.0, 9.85967654375977e-305),
    (-500.25, 5.548625684622169e-218),
    (-100.0, 3.720075976020836e-44),
    (-20.5, 1.2501528663867426e-09),
    (-1.0, 0.36787944117144233),
    (-0.5, 0.6065306597126334),
    (-0.3465735902799726, 0.7071067811865476),
    (-1e-05, 0.9999900000499998),
    (-1e-20, 1.0),
    (1e-300, 1.0),
    (1e-10, 1.0000000001),
    (0.1, 1.1051709180756477),
    (0.34657359027997264, 1.414213562373095),
    (0.5, 1.6487212707001282),
    (1.0, 2.718281828459045),
    (2.0, 7.38905609893065),
    (10.0, 22026.465794806718),
    (88.7, 3.325986980250579e+38),
    (100.0, 2.6881171418161356e+43),
    (500.0, 1.4035922178528375e+217),
    (700.0, 1.0142320547350045e+304),
    (709.7, 1.6549840276802644e+308),
    (709.782712893384, 1.7976931348622732e+308),
    (-139.2347053190739, 3.3973147954988954e-61),
    (-730.2140276094226, 7.44864e-318),
    (454.8502644549426, 3.459074733057677e+197),
    (-310.7776505397921, 1.0739430991802547e-135),
    (-209.32940348375632, 1.2285565930438726e-91),
    (-463.41639848846205, 5.505735110590898e-202),
    (77.97587733176431, 7.319699410280997e+33),
    (-509.9059040066986, 3.553690489388166e-222),
    (-564.3159502517472, 8.330992733665916e-246),
    (-115.5106663135823, 6.828967078392763e-51),
    (72.2621216622756, 2.4156871467782665e+31),
    (-491.50446270769396, 3.485972969430676e-214),
];
const EXPM1_TABLE: &[(f64, f64)] = &[
    (-50.0, -1.0),
    (-37.0, -0.9999999999999999),
    (-20.0, -0.9999999979388464),
    (-2.0, -0.8646647167633873),
    (-1.0, -0.6321205588285577),
    (-0.6931471805599453, -0.5),
    (-0.35, -0.29531191028128656),
    (-0.3465735902799726, -0.2928932188134524),
    (-0.1, -0.09516258196404043),
    (-1e-05, -9.999950000166666e-06),
    (-1e-10, -9.999999999500001e-11),
    (-1e-300, -1e-300),
    (1e-300, 1e-300),
    (1e-17, 1e-17),
    (1e-10, 1.00000000005e-10),
    (1e-05, 1.0000050000166668e-05),
    (0.1, 0.10517091807564763),
    (0.3465735902799726, 0.414213562373095),
    (0.35, 0.41906754859325723),
    (0.5, 0.6487212707001282),
    (0.6931471805599453, 1.0),
    (1.0, 1.7182818284590453),
    (2.0, 6.38905609893065),
    (10.0, 22025.465794806718),
    (38.0, 3.1855931757113756e+16),
    (40.5, 3.8808469624362035e+17),
    (100.0, 2.6881171418161356e+43),
    (709.7, 1.6549840276802644e+308),
    (5.322108556932982, 203.81529171047166),
    (-14.509861366340125, -0.9999995006014518),
    (45.80647850995486, 7.825297407623566e+19),
    (-40.87059011232649, -1.0),
    (47.863999557041, 6.124503532088859e+20),
    (-8.7880607060699, -0.9998474564922782),
    (0.3935368110037487, 0.48221384450725635),
    (-35.185383106981085, -0.9999999999999994),
    (21.896714030088503, 3233121867.28817),
    (-31.002862127817966, -0.9999999999999657),
    (-15.843957422644785, -0.9999998684603385),
    (-47.647878185779945, -1.0),
];
const TANH_TABLE: &[(f64, f64)] = &[
    (5e-324, 5e-324),
    (1e-300, 1e-300),
    (1e-20, 1e-20),
    (1e-10, 1e-10),
    (1e-05, 9.999999999666668e-06),
    (0.001, 0.0009999996666668),
    (0.01, 0.00999966667999946),
    (0.1, 0.09966799462495582),
    (0.17504999999999993, 0.17328365689353703),
    (0.18576000000000004, 0.18365242579601043),
    (0.25, 0.24491866240370913),
    (0.5, 0.46211715726000974),
    (0.5493061443340549, 0.5),
    (0.55, 0.5005202111902353),
    (0.75, 0.6351489523872873),
    (1.0, 0.7615941559557649),
    (2.0, 0.9640275800758169),
    (5.0, 0.9999092042625951),
    (10.0, 0.9999999958776927),
    (18.0, 0.9999999999999996),
    (18.5, 0.9999999999999998),
    (19.0, 0.9999999999999999),
    (19.06, 0.9999999999999999),
    (-6.419289104083173, -0.9999946874238191),
    (18.699298355194856, 0.9999999999999999),
    (19.151938167426273, 1.0),
    (9.781201605641385, 0.9999999936146277),
    (-19.86181556979618, -1.0),
    (17.60954012390971, 0.999999999999999),
    (14.83067875021905, 0.9999999999997374),
    (10.833373540672433, 0.9999999992214593),
    (-12.845049415059396, -0.9999999999860697),
    (-16.020014687615543, -0.9999999999999757),
    (-3.4187012595256903, -0.9978565265321209),
    (15.421458685819182, 0.9999999999999194),
];
const SIGMOID_TABLE: &[(f64, f64)] = &[
    (-745.1, 5e-324),
    (-745.0, 5e-324),
    (-740.0, 4.2e-322),
    (-709.5, 7.38014831401258e-309),
    (-708.0, 3.307553003638408e-308),
    (-500.0, 7.124576406741286e-218),
    (-100.0, 3.720075976020836e-44),
    (-37.0, 8.533047625744065e-17),
    (-30.804000000000002, 4.187866023451022e-14),
    (-10.0, 4.5397868702434395e-05),
    (-1.0, 0.2689414213699951),
    (-1e-10, 0.499999999975),
    (1e-10, 0.500000000025),
    (1.0, 0.7310585786300049),
    (10.0, 0.9999546021312976),
    (30.0, 0.9999999999999064),
    (36.0, 0.9999999999999998),
    (37.0, 0.9999999999999999),
    (100.0, 1.0),
    (117.12904104948484, 1.0),
    (354.8733224161233, 1.0),
    (-401.0683451573885, 6.580074823133888e-175),
    (35.39637024698766, 0.9999999999999996),
    (314.0796562261976, 1.0),
    (487.2509203466709, 1.0),
    (460.68679958862435, 1.0),
    (-401.5378305338068, 4.1146786558288326e-175),
    (559.7849506798188, 1.0),
    (-425.4293545649329, 1.7313260866677477e-185),
    (452.84885640497146, 1.0),
    (82.62794840756612, 1.0),
];
