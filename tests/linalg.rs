//! Tests of the dense kernels in `mixkern::linalg`: vector kernels against naive sums,
//! Cholesky and triangular solves against exact and high-precision references, rejection of
//! matrices that are not SPD, and the symmetric eigen-decomposition against reference values
//! and its defining properties.
//!
//! Reference values were computed independently with mpmath at 50 significant digits from the
//! exact double inputs. Random inputs come from a tiny LCG defined here (not the crate's rng).

use mixkern::linalg::{
    axpy, cholesky, cholesky_solve, dot, log_det_cholesky, norm2, solve_lower,
    solve_lower_transpose, sym_eigen,
};
use mixkern::Status;

/// Knuth's MMIX LCG; uniform doubles in [-1, 1) from the top 53 bits.
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Self {
        Lcg(seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0x2545_F491_4F6C_DD1D))
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }
    fn uniform(&mut self) -> f64 {
        let bits = self.next_u64() >> 11;
        2.0 * (bits as f64 / (1u64 << 53) as f64) - 1.0
    }
    fn fill(&mut self, v: &mut [f64]) {
        for x in v {
            *x = self.uniform();
        }
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0_f64, |m, x| m.max(x.abs()))
}

/// C = A B for d x d row-major matrices (naive reference).
fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            let mut s = 0.0;
            for k in 0..d {
                s += a[i * d + k] * b[k * d + j];
            }
            c[i * d + j] = s;
        }
    }
    c
}

fn transpose(a: &[f64], d: usize) -> Vec<f64> {
    let mut t = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            t[j * d + i] = a[i * d + j];
        }
    }
    t
}

/// Random SPD matrix B B^T + 0.1 I.
fn random_spd(rng: &mut Lcg, d: usize) -> Vec<f64> {
    let mut b = vec![0.0; d * d];
    rng.fill(&mut b);
    let mut a = matmul(&b, &transpose(&b, d), d);
    for i in 0..d {
        a[i * d + i] += 0.1;
    }
    a
}

/// Random symmetric matrix with entries in [-1, 1).
fn random_symmetric(rng: &mut Lcg, d: usize) -> Vec<f64> {
    let mut a = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let v = rng.uniform();
            a[i * d + j] = v;
            a[j * d + i] = v;
        }
    }
    a
}

fn assert_close(got: f64, want: f64, rel: f64, what: &str) {
    let tol = rel * want.abs().max(f64::MIN_POSITIVE);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, want {want:e}, |diff| {:e} > {tol:e}",
        (got - want).abs()
    );
}

// ---------------------------------------------------------------- vector kernels

#[test]
fn dot_matches_naive_sum_for_all_lengths() {
    let mut rng = Lcg::new(1);
    for n in 0..40 {
        for _ in 0..5 {
            let mut a = vec![0.0; n];
            let mut b = vec![0.0; n];
            rng.fill(&mut a);
            rng.fill(&mut b);
            let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            // The error scale of a sum of products is sum |a_i b_i|, not |sum a_i b_i|.
            let scale: f64 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
            let got = dot(&a, &b);
            assert!(
                (got - naive).abs() <= 1e-14 * scale,
                "n = {n}: dot {got} vs naive {naive}"
            );
            // Exact on integers (every partial sum is representable).
            let ai: Vec<f64> = (0..n).map(|i| (i as f64) - 7.0).collect();
            let bi: Vec<f64> = (0..n).map(|i| 3.0 - 2.0 * i as f64).collect();
            let exact: f64 = (0..n)
                .map(|i| ((i as f64) - 7.0) * (3.0 - 2.0 * i as f64))
                .sum();
            assert_eq!(dot(&ai, &bi), exact, "n = {n}: integer dot");
        }
    }
}

#[test]
fn axpy_matches_naive_update_for_all_lengths() {
    let mut rng = Lcg::new(2);
    for n in 0..40 {
        let alpha = rng.uniform() * 3.0;
        let mut x = vec![0.0; n];
        let mut y = vec![0.0; n];
        rng.fill(&mut x);
        rng.fill(&mut y);
        let want: Vec<f64> = x.iter().zip(&y).map(|(xi, yi)| yi + alpha * xi).collect();
        // A trailing element that must stay untouched when only a prefix is passed.
        y.push(42.0);
        axpy(alpha, &x, &mut y[..n]);
        for i in 0..n {
            assert_close(y[i], want[i], 1e-14, &format!("axpy n = {n}, i = {i}"));
        }
        assert_eq!(y[n], 42.0);
    }
}

#[test]
fn norm2_matches_naive_and_survives_extreme_scales() {
    let mut rng = Lcg::new(3);
    for n in 0..40 {
        let mut a = vec![0.0; n];
        rng.fill(&mut a);
        let naive = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n == 0 {
            assert_eq!(norm2(&a), 0.0);
        } else {
            assert_close(norm2(&a), naive, 1e-14, &format!("norm2 n = {n}"));
        }
        // Extreme scales, against the naive norm of the same vector brought back to [0.5, 1)
        // by exact power-of-two scaling.
        for &s in &[1e300, 1e-300, 2f64.powi(-1060)] {
            let b: Vec<f64> = a.iter().map(|x| x * s).collect();
            let m = max_abs(&b);
            if m > 0.0 {
                let e = m.log2().floor() as i32 + 1;
                let (p1, p2) = (2f64.powi(-e / 2), 2f64.powi(-e - (-e / 2)));
                let reference =
                    b.iter().map(|x| (x * p1 * p2).powi(2)).sum::<f64>().sqrt() / p1 / p2;
                assert_close(
                    norm2(&b),
                    reference,
                    1e-14,
                    &format!("norm2 n = {n}, s = {s:e}"),
                );
            }
        }
    }
    assert_close(
        norm2(&[1e200, 1e200]),
        2f64.sqrt() * 1e200,
        1e-15,
        "overflow",
    );
    assert_close(norm2(&[3e-200, 4e-200]), 5e-200, 1e-15, "underflow");
    // Squares in the subnormal range (nonzero but imprecise) must not be trusted either.
    assert_close(norm2(&[1e-160; 4]), 2e-160, 1e-15, "subnormal squares");
    assert_close(norm2(&[3e-160, 4e-160]), 5e-160, 1e-15, "subnormal squares");
    assert_eq!(norm2(&[5e-324]), 5e-324);
    assert_eq!(norm2(&[0.0, -0.0, 0.0]), 0.0);
    assert_eq!(norm2(&[-3.0, 4.0]), 5.0);
    assert!(norm2(&[1.0, f64::NAN, 2.0]).is_nan());
    assert!(norm2(&[f64::INFINITY, f64::NAN]).is_nan());
    assert_eq!(norm2(&[1.0, f64::NEG_INFINITY]), f64::INFINITY);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "length mismatch")]
fn dot_length_mismatch_is_caught_in_debug_builds() {
    let _ = dot(&[1.0, 2.0], &[1.0]);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "length mismatch")]
fn axpy_length_mismatch_is_caught_in_debug_builds() {
    let mut y = [0.0; 3];
    axpy(1.0, &[1.0, 2.0], &mut y);
}

// ---------------------------------------------------------------- Cholesky

/// A = L L^T with L = [[2,0,0],[6,1,0],[-8,5,3]]: every step is exact in binary.
const A3: [f64; 9] = [4.0, 12.0, -16.0, 12.0, 37.0, -43.0, -16.0, -43.0, 98.0];
const L3: [f64; 9] = [2.0, 0.0, 0.0, 6.0, 1.0, 0.0, -8.0, 5.0, 3.0];

#[test]
fn cholesky_known_3x3_is_exact_and_ignores_upper_triangle() {
    let mut a = A3;
    // Garbage in the strict upper triangle must be ignored and replaced by zeros.
    a[1] = f64::NAN;
    a[2] = 1e300;
    a[5] = -7.0;
    cholesky(&mut a, 3).unwrap();
    assert_eq!(a, L3);
    assert_close(
        log_det_cholesky(&a, 3),
        2.0 * 6f64.ln(),
        1e-15,
        "log det 3x3",
    );
}

#[test]
fn cholesky_known_4x4_against_reference() {
    let a0 = [
        4.5, 1.2, -0.7, 0.3, 1.2, 3.1, 0.4, -0.9, -0.7, 0.4, 2.2, 0.5, 0.3, -0.9, 0.5, 1.9,
    ];
    // mpmath at 50 digits from the exact doubles above, rounded to the nearest double.
    let l_ref = [
        2.1213203435596424,
        0.0,
        0.0,
        0.0,
        0.565685424949238,
        1.6673332000533068,
        0.0,
        0.0,
        -0.3299831645537222,
        0.3518592844237194,
        1.40260691395556,
        0.0,
        0.1414213562373095,
        -0.5877649410259858,
        0.537197707161233,
        1.1162217510519286,
    ];
    // Slice longer than d*d: the tail is neither read nor written.
    let mut a = a0.to_vec();
    a.extend_from_slice(&[f64::NAN, 123.0]);
    cholesky(&mut a, 4).unwrap();
    for i in 0..16 {
        assert!(
            (a[i] - l_ref[i]).abs() <= 1e-15 * 4.0,
            "L[{i}] = {} vs {}",
            a[i],
            l_ref[i]
        );
    }
    assert!(a[16].is_nan() && a[17] == 123.0);
    assert_close(
        log_det_cholesky(&a, 4),
        3.4230925892260804,
        1e-14,
        "log det 4x4",
    );

    // A x = b with b = A (1.5, -2, .25, 3) rounded to doubles; mpmath's solution of the
    // rounded system.
    let mut b = [5.075, -7.0, 0.20000000000000007, 8.075, 99.0];
    cholesky_solve(&a, 4, &mut b[..4]);
    let x_ref = [1.5, -2.0, 0.2500000000000001, 2.9999999999999996];
    for i in 0..4 {
        assert_close(b[i], x_ref[i], 1e-14, &format!("solve x[{i}]"));
    }
    assert_eq!(b[4], 99.0);
}

#[test]
fn triangular_solves_known_solutions() {
    // L x = (2, 8, 11) and L^T x = (-10, 17, 9) both have x = (1, 2, 3), exactly.
    let mut b = [2.0, 8.0, 11.0];
    solve_lower(&L3, 3, &mut b);
    assert_eq!(b, [1.0, 2.0, 3.0]);
    let mut b = [-10.0, 17.0, 9.0];
    solve_lower_transpose(&L3, 3, &mut b);
    assert_eq!(b, [1.0, 2.0, 3.0]);
    // A x = (-20, -43, 192) with A = L L^T.
    let mut b = [-20.0, -43.0, 192.0];
    cholesky_solve(&L3, 3, &mut b);
    assert_eq!(b, [1.0, 2.0, 3.0]);
    // Only the lower triangle of L is read.
    let mut l_dirty = L3;
    l_dirty[1] = f64::NAN;
    l_dirty[2] = f64::INFINITY;
    l_dirty[5] = 1e308;
    let mut b = [-20.0, -43.0, 192.0];
    cholesky_solve(&l_dirty, 3, &mut b);
    assert_eq!(b, [1.0, 2.0, 3.0]);
}

#[test]
fn cholesky_reconstructs_random_spd_and_solves() {
    let mut rng = Lcg::new(4);
    for d in 1..=20 {
        for _ in 0..5 {
            let a = random_spd(&mut rng, d);
            let mut l = a.clone();
            cholesky(&mut l, d).unwrap();
            for i in 0..d {
                assert!(l[i * d + i] > 0.0);
                for j in i + 1..d {
                    assert_eq!(l[i * d + j], 0.0, "upper not zeroed");
                }
            }
            let llt = matmul(&l, &transpose(&l, d), d);
            let scale = max_abs(&a);
            for k in 0..d * d {
                assert!(
                    (llt[k] - a[k]).abs() <= 1e-12 * scale,
                    "d = {d}: (L L^T)[{k}] = {} vs {}",
                    llt[k],
                    a[k]
                );
            }

            // Known solution: b = A x, solve, compare x. The residual is the sharp check
            // (backward stable), the error in x is bounded by cond(A) * residual.
            let mut x = vec![0.0; d];
            rng.fill(&mut x);
            let b: Vec<f64> = (0..d).map(|i| dot(&a[i * d..(i + 1) * d], &x)).collect();
            let mut sol = b.clone();
            cholesky_solve(&l, d, &mut sol);
            let r: Vec<f64> = (0..d)
                .map(|i| dot(&a[i * d..(i + 1) * d], &sol) - b[i])
                .collect();
            assert!(max_abs(&r) <= 1e-12 * scale * max_abs(&sol).max(1.0));
            for i in 0..d {
                assert!((sol[i] - x[i]).abs() <= 1e-8, "d = {d}: x[{i}]");
            }

            // Separate triangular solves: b = L x and b = L^T x.
            let lx: Vec<f64> = (0..d)
                .map(|i| dot(&l[i * d..i * d + i + 1], &x[..=i]))
                .collect();
            let mut s = lx.clone();
            solve_lower(&l, d, &mut s);
            for i in 0..d {
                assert!((s[i] - x[i]).abs() <= 1e-9, "d = {d}: solve_lower x[{i}]");
            }
            let lt = transpose(&l, d);
            let ltx: Vec<f64> = (0..d).map(|i| dot(&lt[i * d..(i + 1) * d], &x)).collect();
            let mut s = ltx.clone();
            solve_lower_transpose(&l, d, &mut s);
            for i in 0..d {
                assert!(
                    (s[i] - x[i]).abs() <= 1e-9,
                    "d = {d}: solve_lower_transpose x[{i}]"
                );
            }

            // Scaling A by 4^k scales L by 2^k exactly.
            let mut a4 = a.iter().map(|v| v * 4f64.powi(-300)).collect::<Vec<_>>();
            cholesky(&mut a4, d).unwrap();
            for k in 0..d * d {
                assert_eq!(a4[k], l[k] * 2f64.powi(-300));
            }
        }
    }
}

#[test]
fn log_det_matches_sum_of_log_eigenvalues() {
    let mut rng = Lcg::new(5);
    for d in 1..=20 {
        let a = random_spd(&mut rng, d);
        let mut l = a.clone();
        cholesky(&mut l, d).unwrap();
        let mut work = a.clone();
        let mut values = vec![0.0; d];
        let mut vectors = vec![0.0; d * d];
        sym_eigen(&mut work, d, &mut values, &mut vectors).unwrap();
        let want: f64 = values.iter().map(|v| v.ln()).sum();
        let got = log_det_cholesky(&l, d);
        assert!(
            (got - want).abs() <= 1e-11 * (1.0 + want.abs()),
            "d = {d}: {got} vs {want}"
        );
    }
    assert_eq!(log_det_cholesky(&[], 0), 0.0);
}

#[test]
fn cholesky_rejects_matrices_that_are_not_spd() {
    // Indefinite.
    let mut a = [1.0, 2.0, 2.0, 1.0];
    assert_eq!(cholesky(&mut a, 2), Err(Status::NotSpd));
    // Negative definite, and a negative or zero diagonal entry up front.
    let mut a = [-1.0, 0.0, 0.0, -1.0];
    assert_eq!(cholesky(&mut a, 2), Err(Status::NotSpd));
    let mut a = [0.0, 0.0, 0.0, 1.0];
    assert_eq!(cholesky(&mut a, 2), Err(Status::NotSpd));
    // Exactly zero pivot: [[1,1],[1,1]] and the 3x3 all-ones matrix.
    let mut a = [1.0, 1.0, 1.0, 1.0];
    assert_eq!(cholesky(&mut a, 2), Err(Status::NotSpd));
    let mut a = [1.0; 9];
    assert_eq!(cholesky(&mut a, 3), Err(Status::NotSpd));
    // Zero matrix.
    let mut a = [0.0; 4];
    assert_eq!(cholesky(&mut a, 2), Err(Status::NotSpd));
    // NaN or infinity anywhere in the lower triangle.
    for pos in [0usize, 3, 4, 6, 7, 8] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut a = A3;
            a[pos] = bad;
            assert_eq!(
                cholesky(&mut a, 3),
                Err(Status::NotSpd),
                "{bad} at {pos} accepted"
            );
        }
    }
    // Short buffer.
    let mut a = [1.0; 8];
    assert_eq!(cholesky(&mut a, 3), Err(Status::BufferTooShort));
    assert_eq!(a, [1.0; 8]);
    // d = 0 is the empty matrix.
    assert_eq!(cholesky(&mut [], 0), Ok(()));
}

/// Gram matrix X^T X of the n x d row-major matrix `x`.
fn gram(x: &[f64], n: usize, d: usize) -> Vec<f64> {
    let mut g = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            g[i * d + j] = (0..n).map(|r| x[r * d + i] * x[r * d + j]).sum();
        }
    }
    g
}

#[test]
fn cholesky_rejects_rank_deficient_gram_matrices() {
    // G = X^T X with X of shape 3 x 5 has rank 3 < d = 5: the last two pivots are rounding
    // noise and one of them falls under 4 d eps a_jj. Not always: over 20000 uniform draws
    // about 1 in 2000 slips through (see the rate test below), so this checks a fixed set.
    let (n, d) = (3, 5);
    let mut rng = Lcg::new(6);
    for trial in 0..300 {
        let mut x = vec![0.0; n * d];
        rng.fill(&mut x);
        // Vary the column scales too: the threshold is relative to each diagonal entry.
        if trial % 2 == 1 {
            let scale = [1.0, 1e3, 1e-3, 1.0, 1e6];
            for r in 0..n {
                for c in 0..d {
                    x[r * d + c] *= scale[c];
                }
            }
        }
        let mut g = gram(&x, n, d);
        assert_eq!(
            cholesky(&mut g, d),
            Err(Status::NotSpd),
            "trial {trial}: a rank-3 Gram matrix in d = 5 was accepted"
        );
    }
    // Fewer samples still: rank 1 and 2.
    for n in 1..=2 {
        for _ in 0..100 {
            let mut x = vec![0.0; n * d];
            rng.fill(&mut x);
            let mut g = gram(&x, n, d);
            assert_eq!(cholesky(&mut g, d), Err(Status::NotSpd), "rank {n}");
        }
    }
    // With n = d + 2 samples the Gram matrix is (almost surely) SPD and accepted.
    let n = 7;
    for _ in 0..200 {
        let mut x = vec![0.0; n * d];
        rng.fill(&mut x);
        let mut g = gram(&x, n, d);
        assert_eq!(cholesky(&mut g, d), Ok(()));
    }
}

/// The pivot test `p <= 4 d eps a_jj` cannot catch every singular Gram matrix: the noise left
/// in a pivot that is zero in exact arithmetic is eps times the conditioning of the leading
/// block, which has no fixed bound. This measures (deterministically, fixed seed) how often a
/// rank-deficient X^T X is accepted, so a change of the threshold or of the summation order
/// shows up. Measured at the time of writing: 3 x 5 about 0.05%, 6 x 8 about 0.06%, and with
/// one sample short (4 x 5, 2 x 3, 19 x 20) 5% to 9%. Callers that can count samples must check
/// n >= d themselves.
#[test]
fn cholesky_rank_deficiency_detection_rate() {
    let mut rng = Lcg::new(99);
    for &(n, d, max_rate) in &[
        (3usize, 5usize, 0.002),
        (6, 8, 0.002),
        (4, 5, 0.12),
        (2, 3, 0.12),
    ] {
        let trials = 5000;
        let mut accepted = 0;
        for _ in 0..trials {
            let mut x = vec![0.0; n * d];
            rng.fill(&mut x);
            let mut g = gram(&x, n, d);
            if cholesky(&mut g, d).is_ok() {
                accepted += 1;
            }
        }
        let rate = accepted as f64 / trials as f64;
        assert!(
            rate <= max_rate,
            "{n} x {d}: {accepted} of {trials} rank-deficient Gram matrices accepted"
        );
    }
}

#[test]
fn cholesky_accepts_badly_scaled_but_spd_matrices() {
    // The threshold is relative to each diagonal entry, so tiny but genuine pivots pass.
    let mut a = [1.0, 0.0, 0.0, 1e-300];
    assert_eq!(cholesky(&mut a, 2), Ok(()));
    assert_eq!(a[3], 1e-150);
    let mut a = [1e200, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1e-200];
    assert_eq!(cholesky(&mut a, 3), Ok(()));
}

// ---------------------------------------------------------------- symmetric eigen

/// Checks the defining properties of a decomposition of the symmetric matrix `a`.
fn check_eigen(a: &[f64], d: usize, values: &[f64], vectors: &[f64], tol: f64) {
    let scale = max_abs(a).max(f64::MIN_POSITIVE);
    for k in 0..d {
        let v = &vectors[k * d..(k + 1) * d];
        // A v = lambda v.
        for i in 0..d {
            let av = dot(&a[i * d..(i + 1) * d], v);
            assert!(
                (av - values[k] * v[i]).abs() <= tol * scale * d as f64,
                "d = {d}, k = {k}: residual {:e}",
                (av - values[k] * v[i]).abs()
            );
        }
        // Orthonormal rows.
        for j in 0..d {
            let g = dot(v, &vectors[j * d..(j + 1) * d]);
            let want = if j == k { 1.0 } else { 0.0 };
            assert!(
                (g - want).abs() <= tol * d as f64,
                "d = {d}: <v{k}, v{j}> = {g}"
            );
        }
        // Sign convention: the largest-magnitude component is positive.
        let amax = max_abs(v);
        let lead = v.iter().find(|x| x.abs() >= amax * (1.0 - 1e-12)).unwrap();
        assert!(*lead > 0.0, "d = {d}, k = {k}: leading component {lead}");
        // Decreasing order.
        if k > 0 {
            assert!(values[k - 1] >= values[k], "not decreasing at {k}");
        }
    }
    // Trace is preserved.
    let tr: f64 = (0..d).map(|i| a[i * d + i]).sum();
    let sum: f64 = values.iter().sum();
    assert!((tr - sum).abs() <= tol * scale * d as f64);
}

fn eigen_of(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut work = a.to_vec();
    // Dirty outputs: everything must be written.
    let mut values = vec![f64::NAN; d];
    let mut vectors = vec![f64::NAN; d * d];
    sym_eigen(&mut work, d, &mut values, &mut vectors).unwrap();
    (values, vectors)
}

#[test]
fn sym_eigen_tridiagonal_3x3_exact_values_and_vectors() {
    // Eigenvalues 2 + sqrt2, 2, 2 - sqrt2; vectors (1, -sqrt2, 1)/2, (1, 0, -1)/sqrt2,
    // (1, sqrt2, 1)/2, with signs fixed by the convention (ties go to the lower index).
    let a = [2.0, -1.0, 0.0, -1.0, 2.0, -1.0, 0.0, -1.0, 2.0];
    let (values, vectors) = eigen_of(&a, 3);
    let s2 = 2f64.sqrt();
    let want_values = [2.0 + s2, 2.0, 2.0 - s2];
    let h = 0.5;
    let r = 1.0 / s2;
    let want_vectors = [-h, r, -h, r, 0.0, -r, h, r, h];
    for k in 0..3 {
        assert!((values[k] - want_values[k]).abs() <= 1e-14, "value {k}");
    }
    for k in 0..9 {
        assert!(
            (vectors[k] - want_vectors[k]).abs() <= 1e-14,
            "vector entry {k}: {} vs {}",
            vectors[k],
            want_vectors[k]
        );
    }
    check_eigen(&a, 3, &values, &vectors, 1e-14);
}

#[test]
fn sym_eigen_known_5x5_against_reference() {
    let a = [
        4.0, 1.0, -2.0, 0.5, 0.0, 1.0, 3.0, 0.25, -1.0, 2.0, -2.0, 0.25, -1.0, 0.75, 1.5, 0.5,
        -1.0, 0.75, 2.5, -0.5, 0.0, 2.0, 1.5, -0.5, 0.1,
    ];
    // mpmath eigsy at 50 digits, sorted decreasing, signs by the convention.
    let want_values = [
        5.167184848621602,
        4.3976549360105865,
        2.3120361727907714,
        -0.5762792053880774,
        -2.7005967520348833,
    ];
    let want_vectors = [
        [
            0.7592865239023792,
            0.5700012710464668,
            -0.19844283810931745,
            -0.16131844160736106,
            0.18215193116227363,
        ],
        [
            -0.52851034027466,
            0.5502349381881718,
            0.2734947520081348,
            -0.426820359429511,
            0.40117743508364684,
        ],
        [
            -0.003326957719377859,
            0.2729210893721986,
            0.3460783466058563,
            0.8497027762489566,
            0.2893751550731304,
        ],
        [
            0.2926481983280311,
            -0.5410736090301335,
            0.34948119414053763,
            -0.19840773438329135,
            0.6783020326561441,
        ],
        [
            0.241881702926649,
            0.07136870735462134,
            0.8024423553002351,
            -0.17447149952224406,
            -0.5119040063083171,
        ],
    ];
    let (values, vectors) = eigen_of(&a, 5);
    for k in 0..5 {
        assert_close(values[k], want_values[k], 1e-12, &format!("value {k}"));
        for i in 0..5 {
            assert!(
                (vectors[k * 5 + i] - want_vectors[k][i]).abs() <= 1e-12,
                "vector {k}[{i}]: {} vs {}",
                vectors[k * 5 + i],
                want_vectors[k][i]
            );
        }
    }
    check_eigen(&a, 5, &values, &vectors, 1e-14);
}

#[test]
fn sym_eigen_random_symmetric_properties() {
    let mut rng = Lcg::new(7);
    for d in 1..=20 {
        for _ in 0..5 {
            let a = random_symmetric(&mut rng, d);
            let (values, vectors) = eigen_of(&a, d);
            check_eigen(&a, d, &values, &vectors, 1e-14);

            // Deterministic, and only the lower triangle is read.
            let mut dirty = a.clone();
            for i in 0..d {
                for j in i + 1..d {
                    dirty[i * d + j] = if (i + j) % 2 == 0 { f64::NAN } else { 7.0 };
                }
            }
            let (v2, w2) = eigen_of(&dirty, d);
            assert_eq!(values, v2);
            assert_eq!(vectors, w2);

            // Scaling by 2^k is exact: values scale, vectors are bit-identical.
            let scaled: Vec<f64> = a.iter().map(|x| x * 2f64.powi(900)).collect();
            let (v3, w3) = eigen_of(&scaled, d);
            for k in 0..d {
                assert_eq!(v3[k], values[k] * 2f64.powi(900));
            }
            assert_eq!(vectors, w3);

            // Non-power-of-two huge and tiny scales: relative agreement.
            for s in [1e300, 1e-300] {
                let scaled: Vec<f64> = a.iter().map(|x| x * s).collect();
                let (v4, w4) = eigen_of(&scaled, d);
                check_eigen(&scaled, d, &v4, &w4, 1e-14);
                for k in 0..d {
                    assert!((v4[k] / s - values[k]).abs() <= 1e-13 * d as f64);
                }
            }
        }
    }
}

#[test]
fn sym_eigen_repeated_eigenvalues() {
    // Identity: all ones, eigenvectors the identity.
    for d in 1..=8 {
        let mut a = vec![0.0; d * d];
        for i in 0..d {
            a[i * d + i] = 1.0;
        }
        let (values, vectors) = eigen_of(&a, d);
        assert_eq!(values, vec![1.0; d]);
        assert_eq!(vectors, a);
    }
    // Diagonal: sorted diagonal, the matching unit vectors.
    let a = [1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 2.0];
    let (values, vectors) = eigen_of(&a, 3);
    assert_eq!(values, [3.0, 2.0, 1.0]);
    assert_eq!(vectors, [0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    // Q diag(2, 2, 2, -1, -1) Q^T for a random orthogonal Q (from a previous decomposition).
    let mut rng = Lcg::new(8);
    let d = 5;
    let (_, q) = eigen_of(&random_symmetric(&mut rng, d), d);
    let lambda = [2.0, 2.0, 2.0, -1.0, -1.0];
    let mut a = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            a[i * d + j] = (0..d)
                .map(|k| q[k * d + i] * lambda[k] * q[k * d + j])
                .sum();
        }
    }
    let (values, vectors) = eigen_of(&a, d);
    for k in 0..d {
        assert!(
            (values[k] - lambda[k]).abs() <= 1e-14,
            "value {k} = {}",
            values[k]
        );
    }
    check_eigen(&a, d, &values, &vectors, 1e-14);
    // A rank-one matrix u u^T: one eigenvalue |u|^2, the rest 0, top vector +-u/|u|.
    let u = [0.3, -1.2, 0.5, 2.0];
    let d = 4;
    let mut a = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            a[i * d + j] = u[i] * u[j];
        }
    }
    let (values, vectors) = eigen_of(&a, d);
    let nu = norm2(&u);
    assert_close(values[0], nu * nu, 1e-14, "rank one");
    for v in &values[1..] {
        assert!(v.abs() <= 1e-15 * nu * nu);
    }
    for i in 0..d {
        assert!((vectors[i] - u[i] / nu).abs() <= 1e-14);
    }
}

#[test]
fn sym_eigen_2x2_tie_sign_and_small_sizes() {
    // [[2,1],[1,2]]: (1,1)/sqrt2 for 3 and (1,-1)/sqrt2 for 1 (tie: index 0 is positive).
    let r = 1.0 / 2f64.sqrt();
    let (values, vectors) = eigen_of(&[2.0, 1.0, 1.0, 2.0], 2);
    assert!((values[0] - 3.0).abs() <= 1e-15 && (values[1] - 1.0).abs() <= 1e-15);
    for (g, w) in vectors.iter().zip([r, r, r, -r]) {
        assert!((g - w).abs() <= 1e-15, "{vectors:?}");
    }
    // H^T diag(4, 3, 2, 1) H / 4 with H the 4 x 4 Hadamard matrix: every eigenvector has four
    // components of magnitude 1/2, tied in exact arithmetic (not necessarily after rounding);
    // the convention makes the first one positive.
    let h = [
        [1.0, 1.0, 1.0, 1.0],
        [1.0, -1.0, 1.0, -1.0],
        [1.0, 1.0, -1.0, -1.0],
        [1.0, -1.0, -1.0, 1.0],
    ];
    let lambda = [4.0, 3.0, 2.0, 1.0];
    let mut a = [0.0; 16];
    for i in 0..4 {
        for j in 0..4 {
            a[i * 4 + j] = (0..4).map(|k| h[k][i] * lambda[k] * h[k][j]).sum::<f64>() / 4.0;
        }
    }
    let (values, vectors) = eigen_of(&a, 4);
    for k in 0..4 {
        assert!((values[k] - lambda[k]).abs() <= 1e-14);
        for i in 0..4 {
            assert!(
                (vectors[k * 4 + i] - 0.5 * h[k][i]).abs() <= 1e-14,
                "Hadamard vector {k}: {:?}",
                &vectors[k * 4..k * 4 + 4]
            );
        }
    }
    // d = 1.
    let (values, vectors) = eigen_of(&[-3.5], 1);
    assert_eq!(values, [-3.5]);
    assert_eq!(vectors, [1.0]);
    // d = 0.
    assert_eq!(sym_eigen(&mut [], 0, &mut [], &mut []), Ok(()));
    // Zero matrix: zero values, identity vectors.
    let (values, vectors) = eigen_of(&[0.0; 4], 2);
    assert_eq!(values, [0.0, 0.0]);
    assert_eq!(vectors, [1.0, 0.0, 0.0, 1.0]);
}

#[test]
fn sym_eigen_rejects_bad_input_and_respects_buffers() {
    for pos in [0usize, 3, 4, 8] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut a = [2.0, -1.0, 0.0, -1.0, 2.0, -1.0, 0.0, -1.0, 2.0];
            a[pos] = bad;
            let mut values = [7.0; 3];
            let mut vectors = [7.0; 9];
            assert_eq!(
                sym_eigen(&mut a, 3, &mut values, &mut vectors),
                Err(Status::NonFinite)
            );
            assert_eq!(values, [7.0; 3], "values written on error");
            assert_eq!(vectors, [7.0; 9], "vectors written on error");
        }
    }
    let mut a = [1.0; 9];
    let mut values = [0.0; 3];
    let mut vectors = [0.0; 9];
    assert_eq!(
        sym_eigen(&mut a[..8], 3, &mut values, &mut vectors),
        Err(Status::BufferTooShort)
    );
    assert_eq!(
        sym_eigen(&mut a, 3, &mut values[..2], &mut vectors),
        Err(Status::BufferTooShort)
    );
    assert_eq!(
        sym_eigen(&mut a, 3, &mut values, &mut vectors[..8]),
        Err(Status::BufferTooShort)
    );
    // Longer buffers: tails untouched.
    let mut a = vec![2.0, 1.0, 1.0, 2.0, 55.0];
    let mut values = vec![0.0, 0.0, 66.0];
    let mut vectors = vec![0.0; 6];
    vectors[4] = 77.0;
    vectors[5] = 88.0;
    sym_eigen(&mut a, 2, &mut values, &mut vectors).unwrap();
    assert_eq!(a[4], 55.0);
    assert_eq!(values[2], 66.0);
    assert_eq!(&vectors[4..], &[77.0, 88.0]);
}
