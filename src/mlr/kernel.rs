//! The hot loops of C-MLR, written once and instantiated per dimension and instruction set
//! (see [`crate::dispatch`]).

pub(crate) use crate::dispatch::dispatch_dim;
use crate::dispatch::{dim, with_avx2, MAX_FIXED_DIM};
use crate::linalg::{axpy, dot};
use crate::special::tanh;

/// Rows handled per block: the block's rows stay in L1 between the dot products, the
/// vectorized tanh and the accumulation.
const BLOCK: usize = 64;

/// Overwrites `gram[..d*d]` with the upper triangle (diagonal included) of sum_i x_i x_i^T
/// (strict lower triangle zero) and `node_sums[..m*d]` with s_j = sum_{i in node j} y_i x_i.
/// `x` holds N rows of length d, `y` N values, and the node sizes add up to N (checked by
/// [`super::ClusteredData::new`]).
#[inline(always)]
pub(crate) fn gram_and_node_sums_portable<const D: usize>(
    x: &[f64],
    y: &[f64],
    d: usize,
    node_sizes: &[usize],
    gram: &mut [f64],
    node_sums: &mut [f64],
) {
    let d = dim::<D>(d);
    let gram = &mut gram[..d * d];
    gram.fill(0.0);
    let mut start = 0;
    for (s, &n) in node_sums.chunks_exact_mut(d).zip(node_sizes) {
        s.fill(0.0);
        let xs = &x[start * d..(start + n) * d];
        let ys = &y[start..start + n];
        // Four rows at a time: each Gram entry is loaded and stored once per four samples.
        let mut quads = xs.chunks_exact(4 * d);
        let mut yq = ys.chunks_exact(4);
        for (rows, yv) in (&mut quads).zip(&mut yq) {
            let (r0, rest) = rows.split_at(d);
            let (r1, rest) = rest.split_at(d);
            let (r2, r3) = rest.split_at(d);
            for a in 0..d {
                s[a] += (yv[0] * r0[a] + yv[1] * r1[a]) + (yv[2] * r2[a] + yv[3] * r3[a]);
                let (x0, x1, x2, x3) = (r0[a], r1[a], r2[a], r3[a]);
                let g = &mut gram[a * d + a..(a + 1) * d];
                let cols = r0[a..].iter().zip(&r1[a..]).zip(&r2[a..]).zip(&r3[a..]);
                for (gb, (((b0, b1), b2), b3)) in g.iter_mut().zip(cols) {
                    *gb += (x0 * b0 + x1 * b1) + (x2 * b2 + x3 * b3);
                }
            }
        }
        for (row, &yi) in quads.remainder().chunks_exact(d).zip(yq.remainder()) {
            for a in 0..d {
                s[a] += yi * row[a];
                let xa = row[a];
                let g = &mut gram[a * d + a..(a + 1) * d];
                for (gb, xb) in g.iter_mut().zip(&row[a..]) {
                    *gb += xa * xb;
                }
            }
        }
        start += n;
    }
}

/// Overwrites `acc[..d]` with sum_i tanh(c_i <r_i, theta> / sigma^2) c_i r_i over the rows r_i of
/// `rows` (n rows of length d), where c_i = `scales[i]` when `SCALED` and 1 otherwise.
///
/// Algorithm 1 is the scaled form with r_i = x_i, c_i = y_i; Algorithm 2 the unscaled form
/// with r_j = s_j. The sum is exactly odd in theta: negating theta negates every product.
#[inline(always)]
fn tanh_weighted_sum<const D: usize, const SCALED: bool>(
    rows: &[f64],
    scales: &[f64],
    d: usize,
    theta: &[f64],
    inv_noise_var: f64,
    acc: &mut [f64],
) {
    let d = dim::<D>(d);
    let theta = &theta[..d];
    // Fixed d: accumulate in a local array the compiler keeps in registers; runtime d: in `acc`.
    let mut local = [0.0f64; MAX_FIXED_DIM];
    let sum = if D > 0 {
        &mut local[..d]
    } else {
        &mut acc[..d]
    };
    sum.fill(0.0);
    let mut weights = [0.0f64; BLOCK];
    for (b, block) in rows.chunks(BLOCK * d).enumerate() {
        let w = &mut weights[..block.len() / d];
        for (wk, row) in w.iter_mut().zip(block.chunks_exact(d)) {
            *wk = dot(row, theta);
        }
        if SCALED {
            let c = &scales[b * BLOCK..b * BLOCK + w.len()];
            for (wk, &ck) in w.iter_mut().zip(c) {
                *wk = tanh(*wk * ck * inv_noise_var) * ck;
            }
        } else {
            for wk in w.iter_mut() {
                *wk = tanh(*wk * inv_noise_var);
            }
        }
        for (&wk, row) in w.iter().zip(block.chunks_exact(d)) {
            axpy(wk, row, sum);
        }
    }
    if D > 0 {
        acc[..d].copy_from_slice(&local[..d]);
    }
}

/// Algorithm 1's sum: `acc = sum_i tanh(y_i <x_i, theta> / sigma^2) y_i x_i`.
#[inline(always)]
pub(crate) fn alg1_sum_portable<const D: usize>(
    x: &[f64],
    y: &[f64],
    d: usize,
    theta: &[f64],
    inv_noise_var: f64,
    acc: &mut [f64],
) {
    tanh_weighted_sum::<D, true>(x, y, d, theta, inv_noise_var, acc)
}

/// Algorithm 2's sum: `acc = sum_j tanh(<s_j, theta> / sigma^2) s_j`.
#[inline(always)]
pub(crate) fn alg2_sum_portable<const D: usize>(
    node_sums: &[f64],
    d: usize,
    theta: &[f64],
    inv_noise_var: f64,
    acc: &mut [f64],
) {
    tanh_weighted_sum::<D, false>(node_sums, &[], d, theta, inv_noise_var, acc)
}

with_avx2! {
    /// [`gram_and_node_sums_portable`], for the best instruction set the CPU has.
    pub(crate) fn gram_and_node_sums = gram_and_node_sums_portable(
        x: &[f64], y: &[f64], d: usize, node_sizes: &[usize], gram: &mut [f64], node_sums: &mut [f64],
    )
}
with_avx2! {
    /// [`alg1_sum_portable`], for the best instruction set the CPU has.
    pub(crate) fn alg1_sum = alg1_sum_portable(
        x: &[f64], y: &[f64], d: usize, theta: &[f64], inv_noise_var: f64, acc: &mut [f64],
    )
}
with_avx2! {
    /// [`alg2_sum_portable`], for the best instruction set the CPU has.
    pub(crate) fn alg2_sum = alg2_sum_portable(
        node_sums: &[f64], d: usize, theta: &[f64], inv_noise_var: f64, acc: &mut [f64],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(rng: &mut Rng, n: usize) -> [f64; 4096] {
        let mut v = [0.0; 4096];
        for x in v.iter_mut().take(n) {
            *x = rng.normal();
        }
        v
    }

    fn close(a: &[f64], b: &[f64], rel: f64) -> bool {
        let scale = a.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= rel * scale)
    }

    /// Every fixed-dimension instance agrees with the runtime-d instance.
    #[test]
    fn fast_paths_match_the_portable_path() {
        let mut rng = Rng::new(7);
        for d in 1..=17usize {
            let n = 4096 / 17 - 3; // not a multiple of 4 nor of BLOCK
            let x = random(&mut rng, n * d);
            let y = random(&mut rng, n);
            let theta = random(&mut rng, d);
            let sizes = [n / 3, n / 3, n - 2 * (n / 3)];
            let (mut g_fast, mut g_ref) = ([f64::NAN; 17 * 17], [f64::NAN; 17 * 17]);
            let (mut s_fast, mut s_ref) = ([f64::NAN; 3 * 17], [f64::NAN; 3 * 17]);
            let x = &x[..n * d];
            let y = &y[..n];
            dispatch_dim!(
                d,
                gram_and_node_sums(x, y, d, &sizes, &mut g_fast, &mut s_fast)
            );
            gram_and_node_sums::<0>(x, y, d, &sizes, &mut g_ref, &mut s_ref);
            assert!(
                close(&g_fast[..d * d], &g_ref[..d * d], 1e-14),
                "gram d={d}"
            );
            assert!(
                close(&s_fast[..3 * d], &s_ref[..3 * d], 1e-14),
                "sums d={d}"
            );
            // the strict lower triangle is written (zero), never left dirty
            assert!(g_fast[..d * d].iter().all(|v| v.is_finite()));

            let (mut a_fast, mut a_ref) = ([f64::NAN; 17], [f64::NAN; 17]);
            dispatch_dim!(d, alg1_sum(x, y, d, &theta[..d], 0.7, &mut a_fast));
            alg1_sum::<0>(x, y, d, &theta[..d], 0.7, &mut a_ref);
            assert!(close(&a_fast[..d], &a_ref[..d], 1e-14), "alg1 d={d}");
            dispatch_dim!(d, alg2_sum(x, d, &theta[..d], 0.7, &mut a_fast));
            alg2_sum::<0>(x, d, &theta[..d], 0.7, &mut a_ref);
            assert!(close(&a_fast[..d], &a_ref[..d], 1e-14), "alg2 d={d}");
        }
    }

    /// The instance the CPU dispatch picks (AVX2 where available) and the baseline instance
    /// agree bit for bit: same operations, same order, only wider registers.
    #[test]
    fn dispatched_kernels_match_the_baseline_bit_for_bit() {
        let mut rng = Rng::new(13);
        for d in [1usize, 3, 8, 10, 16, 21] {
            let n = 4096 / 21 - 1;
            let x = random(&mut rng, n * d);
            let y = random(&mut rng, n);
            let theta = random(&mut rng, d);
            let (x, y, theta) = (&x[..n * d], &y[..n], &theta[..d]);
            let sizes = [n / 2, n - n / 2];
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<std::vec::Vec<_>>();
            let (mut a, mut b) = ([0.0; 21], [0.0; 21]);
            dispatch_dim!(d, alg1_sum(x, y, d, theta, 1.3, &mut a));
            dispatch_dim!(d, alg1_sum_portable(x, y, d, theta, 1.3, &mut b));
            assert_eq!(bits(&a[..d]), bits(&b[..d]), "alg1 d={d}");
            dispatch_dim!(d, alg2_sum(x, d, theta, 1.3, &mut a));
            dispatch_dim!(d, alg2_sum_portable(x, d, theta, 1.3, &mut b));
            assert_eq!(bits(&a[..d]), bits(&b[..d]), "alg2 d={d}");
            let (mut ga, mut gb) = ([0.0; 21 * 21], [0.0; 21 * 21]);
            let (mut sa, mut sb) = ([0.0; 2 * 21], [0.0; 2 * 21]);
            dispatch_dim!(d, gram_and_node_sums(x, y, d, &sizes, &mut ga, &mut sa));
            dispatch_dim!(
                d,
                gram_and_node_sums_portable(x, y, d, &sizes, &mut gb, &mut sb)
            );
            assert_eq!(bits(&ga[..d * d]), bits(&gb[..d * d]), "gram d={d}");
            assert_eq!(bits(&sa[..2 * d]), bits(&sb[..2 * d]), "sums d={d}");
        }
    }

    /// The kernels against a plain per-sample reference written from the formulas.
    #[test]
    fn sums_match_the_formulas() {
        let mut rng = Rng::new(11);
        let (n, d) = (150usize, 5usize);
        let x = random(&mut rng, n * d);
        let y = random(&mut rng, n);
        let theta = random(&mut rng, d);
        let inv = 1.0 / 0.8;
        let mut acc = [0.0; 5];
        alg1_sum::<5>(&x[..n * d], &y[..n], d, &theta[..d], inv, &mut acc);
        let mut expect = [0.0; 5];
        for i in 0..n {
            let row = &x[i * d..(i + 1) * d];
            let u: f64 = row.iter().zip(&theta[..d]).map(|(a, b)| a * b).sum::<f64>() * y[i] * inv;
            for a in 0..d {
                expect[a] += libm::tanh(u) * y[i] * row[a];
            }
        }
        assert!(close(&acc, &expect, 1e-13));
        let mut g = [0.0; 25];
        let mut s = [0.0; 10];
        gram_and_node_sums::<5>(&x[..n * d], &y[..n], d, &[100, 50], &mut g, &mut s);
        for a in 0..d {
            for b in 0..d {
                let full: f64 = (0..n).map(|i| x[i * d + a] * x[i * d + b]).sum();
                let want = if b >= a { full } else { 0.0 };
                assert!((g[a * d + b] - want).abs() <= 1e-12 * full.abs().max(1.0));
            }
            let s0: f64 = (0..100).map(|i| y[i] * x[i * d + a]).sum();
            let s1: f64 = (100..150).map(|i| y[i] * x[i * d + a]).sum();
            assert!((s[a] - s0).abs() <= 1e-12 && (s[d + a] - s1).abs() <= 1e-12);
        }
    }
}
