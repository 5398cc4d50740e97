//! Vector kernels: dot, axpy, Euclidean norm.
//!
//! `dot` and `axpy` are the hot loops of every model in the crate. They walk the slices in
//! chunks of four with four independent accumulators (floating-point addition is not
//! associative, so a single accumulator would forbid LLVM from vectorizing), and they slice
//! both operands to a common length once, so the loops carry no bounds checks. With the
//! default target features (SSE2 on x86-64) each chunk becomes two packed `f64x2` operations.

/// Dot product `sum_i a[i] * b[i]`.
///
/// The slices should have the same length (checked by `debug_assert_eq!`); in release builds
/// only the first `min(a.len(), b.len())` elements are used. Returns `0.0` for empty slices.
/// The summation order is fixed (four interleaved partial sums, then the tail), so the result
/// is deterministic for a given input.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len(), "dot: length mismatch");
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    for (x, y) in (&mut ca).zip(&mut cb) {
        s0 += x[0] * y[0];
        s1 += x[1] * y[1];
        s2 += x[2] * y[2];
        s3 += x[3] * y[3];
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    // Pairing (s0, s1) with (s2, s3) lane by lane matches the two SSE2 registers that hold
    // them, so the reduction is one packed add and one horizontal add, with no shuffles in the
    // loop. (Pairing s0 with s1 instead makes LLVM shuffle every chunk.)
    ((s0 + s2) + (s1 + s3)) + tail
}

/// For r < 4, the part of [`dot`]`(a[r], b[r])` over its chunks of four, ((s0 + s2) +
/// (s1 + s3)), with exactly [`dot`]'s operations; all slices have the length of `b[0]` (the
/// `a[r]` at least that), a multiple of 4 for the result to be [`dot`]'s before its sequential
/// tail, which the caller adds. Four independent sums in flight instead of one.
#[inline(always)]
pub(crate) fn chunk_sums4(a: [&[f64]; 4], b: [&[f64]; 4]) -> [f64; 4] {
    let n = b[0].len();
    let (a, b) = (a.map(|v| &v[..n]), b.map(|v| &v[..n]));
    let mut s = [[0.0; 4]; 4];
    for q in 0..n / 4 {
        for ((s_r, a_r), b_r) in s.iter_mut().zip(&a).zip(&b) {
            let (ac, bc) = (&a_r[q * 4..q * 4 + 4], &b_r[q * 4..q * 4 + 4]);
            for ((sv, x), y) in s_r.iter_mut().zip(ac).zip(bc) {
                *sv += x * y;
            }
        }
    }
    s.map(|s_r| (s_r[0] + s_r[2]) + (s_r[1] + s_r[3]))
}

/// `y[i] += alpha * x[i]` for every `i`.
///
/// The slices should have the same length (checked by `debug_assert_eq!`); in release builds
/// only the first `min(x.len(), y.len())` elements are touched.
#[inline]
pub fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    debug_assert_eq!(x.len(), y.len(), "axpy: length mismatch");
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &mut y[..n]);
    let mut cx = x.chunks_exact(4);
    let mut cy = y.chunks_exact_mut(4);
    for (xc, yc) in (&mut cx).zip(&mut cy) {
        yc[0] += alpha * xc[0];
        yc[1] += alpha * xc[1];
        yc[2] += alpha * xc[2];
        yc[3] += alpha * xc[3];
    }
    for (xi, yi) in cx.remainder().iter().zip(cy.into_remainder()) {
        *yi += alpha * xi;
    }
}

/// Euclidean norm `sqrt(sum_i a[i]^2)`, safe from overflow and underflow.
///
/// The fast path is `sqrt(dot(a, a))`. When that sum of squares overflows or is so small that
/// squares may have underflowed, the norm is recomputed with the entries scaled by their
/// largest magnitude, so e.g. `norm2(&[1e200, 1e200])` is `sqrt(2) * 1e200`, not infinity.
/// Returns `0.0` for an empty or all-zero slice, NaN if any entry is NaN, and infinity if any
/// entry is infinite (and none is NaN).
pub fn norm2(a: &[f64]) -> f64 {
    safe_norm(dot(a, a), a.len(), |i| a[i])
}

/// Euclidean distance `|a - b|` = `norm2(a - b)` without forming `a - b`: safe from overflow
/// and underflow of the squares in the same way (infinite only when a difference is).
pub fn distance2(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let ss: f64 = (0..n).map(|i| (a[i] - b[i]) * (a[i] - b[i])).sum();
    safe_norm(ss, n, |i| a[i] - b[i])
}

/// `sqrt(ss)` when the sum of squares `ss` of the n values `value(i)` is safely in range, else
/// the norm recomputed with the values scaled by their largest magnitude.
pub(crate) fn safe_norm(ss: f64, n: usize, value: impl Fn(usize) -> f64) -> f64 {
    /// Below this sum of squares, underflowed squares could matter: take the scaled path.
    const SMALL: f64 = 1e-280;
    if ss.is_finite() && ss > SMALL {
        return crate::special::sqrt(ss);
    }
    if ss.is_nan() {
        return f64::NAN;
    }
    let mut amax = 0.0_f64;
    for i in 0..n {
        let av = libm::fabs(value(i));
        if av > amax {
            amax = av;
        }
    }
    if amax == 0.0 {
        return 0.0;
    }
    if amax.is_infinite() {
        return f64::INFINITY;
    }
    // Divide rather than multiply by 1 / amax: that reciprocal overflows for subnormal amax.
    let mut scaled = 0.0;
    for i in 0..n {
        let t = value(i) / amax;
        scaled += t * t;
    }
    amax * crate::special::sqrt(scaled)
}
