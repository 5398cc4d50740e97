//! Cholesky factorization, triangular solves, log-determinant.
//!
//! All matrices are `d x d`, row-major, stored in the first `d * d` elements of their slice
//! (longer slices are fine; the rest is neither read nor written). Every entry of the factor is
//! L_ij = (a_ij - dot(L_i,<j, L_j,<j)) / L_jj with the operations of [`dot`]; the factorization
//! runs column by column, so that the entries of a column, which do not depend on each other,
//! are computed 4 rows at a time ([`chunk_sums4`]) and overlap instead of forming a chain of
//! dependent divisions. The forward substitution is blocked by 4 rows the same way; the
//! transposed solve is organised by rows (via [`axpy`]). The factorization and the forward
//! substitution are instantiated per fixed dimension and for AVX2 (`src/dispatch.rs`); every
//! instance gives the same bits.
use super::vector::{axpy, chunk_sums4, dot};
use crate::dispatch::{dim, dispatch_dim, with_avx2};
use crate::status::{checked_mul, ensure_len};
use crate::Status;

/// In-place lower Cholesky factor of the symmetric positive definite matrix `a` (`d x d`,
/// row-major, in `a[..d*d]`): on success `a` holds `L` with `L L^T = A`, a positive diagonal,
/// and its strict upper triangle set to zero.
///
/// Only the lower triangle (with the diagonal) of `a` is read: the matrix is taken to be
/// symmetric and its strict upper triangle is ignored and overwritten.
///
/// # Errors
/// - `Status::NotSpd` (with `a` in an unspecified state) when a pivot `p_j` (the diagonal entry
///   `a_jj` minus the squares already eliminated) is not finite, not positive, or numerically
///   zero: `p_j <= 4 d eps a_jj` with `eps = f64::EPSILON` and `a_jj` the original diagonal
///   entry. This rejects indefinite matrices, NaN or infinite entries in the lower triangle, and
///   (almost always) singular matrices such as a Gram matrix `X^T X` built from fewer than `d`
///   samples, whose last pivots are pure rounding error.
/// - `Status::SizeOverflow` if `d * d` overflows, `Status::BufferTooShort` if
///   `a.len() < d * d` (nothing is written in either case).
///
/// # Singular matrices
/// A pivot test cannot detect every singular matrix: the rounding noise left in a pivot that is
/// zero in exact arithmetic scales with the conditioning of the leading block, and it can exceed
/// `4 d eps a_jj`. For random `X^T X` one sample short of `d` (rank `d - 1`) about 5-9% pass,
/// for two or more short about 0.05% (measured with uniform entries). Callers that can count
/// samples should check `n >= d` themselves rather than rely on this test.
///
/// `d = 0` is the empty matrix and succeeds.
pub fn cholesky(a: &mut [f64], d: usize) -> Result<(), Status> {
    let dd = checked_mul(d, d)?;
    ensure_len(a.len(), dd)?;
    dispatch_dim!(d, cholesky_dispatched(&mut a[..dd], d))
}

/// [`cholesky`] of the d x d matrix `a` (at least d d doubles) in the instance `D`
/// ([`dim`]): column by column, the pivot of row j, then L_ij for every i > j, 4 rows at a
/// time.
#[inline(always)]
fn cholesky_portable<const D: usize>(a: &mut [f64], d: usize) -> Result<(), Status> {
    let d = dim::<D>(d);
    let a = &mut a[..d * d];
    // 4 d eps, the relative size below which a pivot is indistinguishable from rounding.
    let rel_tol = 4.0 * d as f64 * f64::EPSILON;
    for j in 0..d {
        let (row_j, below) = a[j * d..].split_at_mut(d);
        let a_jj = row_j[j];
        let pivot = a_jj - dot(&row_j[..j], &row_j[..j]);
        // False for a NaN pivot or NaN a_jj; an infinite a_jj gives an infinite tolerance, so it
        // is rejected as well.
        let acceptable = pivot > rel_tol * a_jj && pivot.is_finite();
        if !acceptable {
            return Err(Status::NotSpd);
        }
        let l_jj = crate::special::sqrt(pivot);
        row_j[j] = l_jj;
        row_j[j + 1..].fill(0.0);
        let row_j = &row_j[..j];
        let n = j / 4 * 4;
        let mut groups = below.chunks_exact_mut(4 * d);
        for group in &mut groups {
            let (r0, rest) = group.split_at_mut(d);
            let (r1, rest) = rest.split_at_mut(d);
            let (r2, r3) = rest.split_at_mut(d);
            let chunks = chunk_sums4([&r0[..n], &r1[..n], &r2[..n], &r3[..n]], [&row_j[..n]; 4]);
            for (row, chunk) in [r0, r1, r2, r3].into_iter().zip(chunks) {
                let mut tail = 0.0;
                for (x, y) in row[n..j].iter().zip(&row_j[n..]) {
                    tail += x * y;
                }
                row[j] = (row[j] - (chunk + tail)) / l_jj;
            }
        }
        for row in groups.into_remainder().chunks_exact_mut(d) {
            row[j] = (row[j] - dot(&row[..j], row_j)) / l_jj;
        }
    }
    Ok(())
}

with_avx2! {
    /// [`cholesky_portable`], for the best instruction set the CPU has.
    fn cholesky_dispatched = cholesky_portable(a: &mut [f64], d: usize) -> Result<(), Status>
}

/// Solves `L x = b` in place by forward substitution: on entry `b[..d]` holds `b`, on exit `x`.
///
/// `l` is a lower triangular `d x d` matrix in `l[..d*d]` (row-major) with a nonzero diagonal,
/// e.g. a factor from [`cholesky`]; only its lower triangle is read. Elements of `b` past `d` are
/// untouched.
///
/// # Panics
/// If `l.len() < d * d` or `b.len() < d` (a caller bug: check lengths before calling).
pub fn solve_lower(l: &[f64], d: usize, b: &mut [f64]) {
    let b = &mut b[..d];
    // Saturating: an overflowing d * d then fails the slice bound instead of wrapping.
    let l = &l[..d.saturating_mul(d)];
    dispatch_dim!(d, solve_lower_dispatched(l, d, b));
}

/// [`solve_lower`] in the instance `D` ([`dim`]; `l` at least d d doubles, `b` at least d):
/// x_a = (b_a - dot(L_a,<a, x_<a)) / L_aa, the dots of 4 rows at a time (their chunks of four
/// all end at the same multiple of 4, [`chunk_sums4`]), then [`dot`]'s sequential tail of each.
#[inline(always)]
pub(crate) fn solve_lower_portable<const D: usize>(l: &[f64], d: usize, b: &mut [f64]) {
    let d = dim::<D>(d);
    let (l, b) = (&l[..d * d], &mut b[..d]);
    let mut a0 = 0;
    while a0 + 4 <= d {
        let rows: [&[f64]; 4] = core::array::from_fn(|r| &l[(a0 + r) * d..(a0 + r) * d + a0]);
        let (solved, rest) = b.split_at_mut(a0);
        let chunks = chunk_sums4(rows, [&*solved; 4]);
        for (r, chunk) in chunks.into_iter().enumerate() {
            let a = a0 + r;
            let row = &l[a * d..a * d + a];
            let mut tail = 0.0;
            for (lv, xv) in row[a0..].iter().zip(&rest[..r]) {
                tail += lv * xv;
            }
            rest[r] = (rest[r] - (chunk + tail)) / l[a * d + a];
        }
        a0 += 4;
    }
    for a in a0..d {
        let (solved, rest) = b.split_at_mut(a);
        rest[0] = (rest[0] - dot(&l[a * d..a * d + a], solved)) / l[a * d + a];
    }
}

with_avx2! {
    /// [`solve_lower_portable`], for the best instruction set the CPU has.
    fn solve_lower_dispatched = solve_lower_portable(l: &[f64], d: usize, b: &mut [f64])
}

/// Solves `L^T x = b` in place by back substitution: on entry `b[..d]` holds `b`, on exit `x`.
///
/// `l` is a lower triangular `d x d` matrix in `l[..d*d]` (row-major) with a nonzero diagonal,
/// e.g. a factor from [`cholesky`]; only its lower triangle is read. Elements of `b` past `d` are
/// untouched.
///
/// # Panics
/// If `l.len() < d * d` or `b.len() < d` (a caller bug: check lengths before calling).
pub fn solve_lower_transpose(l: &[f64], d: usize, b: &mut [f64]) {
    let b = &mut b[..d];
    // Saturating: an overflowing d * d then fails the slice bound instead of wrapping.
    let l = &l[..d.saturating_mul(d)];
    // Column-oriented: once x_i is known, remove its contribution x_i * L_ik from every b_k,
    // k < i. Row i of L holds exactly those L_ik, contiguously.
    for i in (0..d).rev() {
        let (head, rest) = b.split_at_mut(i);
        let xi = rest[0] / l[i * d + i];
        rest[0] = xi;
        axpy(-xi, &l[i * d..i * d + i], head);
    }
}

/// Solves `L L^T x = b` in place (`L` from [`cholesky`], so this solves `A x = b`).
///
/// Same preconditions and panics as [`solve_lower`] and [`solve_lower_transpose`].
pub fn cholesky_solve(l: &[f64], d: usize, b: &mut [f64]) {
    solve_lower(l, d, b);
    solve_lower_transpose(l, d, b);
}

/// `log det(L L^T) = 2 sum_i log L_ii`, the log-determinant of the matrix factored by
/// [`cholesky`]. Only the diagonal of `l` (`d x d`, row-major) is read; it should be positive
/// (a non-positive diagonal entry gives NaN or `-inf`). Returns `0.0` for `d = 0`.
///
/// Summing logarithms (rather than taking the log of a product) cannot overflow or underflow.
///
/// # Panics
/// If `l.len() < d * d` (a caller bug: check lengths before calling).
pub fn log_det_cholesky(l: &[f64], d: usize) -> f64 {
    // Saturating: an overflowing d * d then fails the slice bound instead of wrapping.
    let l = &l[..d.saturating_mul(d)];
    let mut s = 0.0;
    for i in 0..d {
        s += libm::log(l[i * d + i]);
    }
    2.0 * s
}

#[cfg(test)]
pub(crate) mod tests {
    //! The fixed-d and AVX2 instances of the factorization and of the forward substitution
    //! against the portable `D = 0` ones (as compiled for the baseline), bit for bit and status
    //! for status. (Their accuracy is tested against mpmath references in `tests/linalg.rs`.)
    use super::*;
    use crate::rng::Rng;
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    /// The dimensions the kernels' unit tests run in: every fixed-d instance, and the portable
    /// one on both sides of the blocks of 4 and 16. (Shared by the kernels' unit tests.)
    pub(crate) const TEST_DIMS: [usize; 24] = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 23, 24, 31, 33, 48, 50,
    ];

    /// A random SPD d x d matrix A A^T / d + I with rows and columns scaled by 10^(spread u),
    /// u uniform in [-1, 1] (spread 0: well conditioned). (Shared by the kernels' unit tests.)
    pub(crate) fn random_spd(rng: &mut Rng, d: usize, spread: f64) -> Vec<f64> {
        let a: Vec<f64> = (0..d * d).map(|_| rng.normal()).collect();
        let scale: Vec<f64> = (0..d)
            .map(|_| libm::pow(10.0, spread * (2.0 * rng.uniform() - 1.0)))
            .collect();
        let mut s = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                let v: f64 = (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum();
                let v = v / d as f64 + if i == j { 1.0 } else { 0.0 };
                s[i * d + j] = v * scale[i] * scale[j];
            }
        }
        s
    }

    /// The Cholesky factor of the SPD `s` (d x d). (Shared by the kernels' unit tests.)
    pub(crate) fn lower_factor(s: &[f64], d: usize) -> Vec<f64> {
        let mut l = s.to_vec();
        cholesky(&mut l, d).unwrap();
        l
    }

    /// A factorization instance, and a forward-substitution instance.
    type Factor = fn(&mut [f64], usize) -> Result<(), Status>;
    type Solve = fn(&[f64], usize, &mut [f64]);

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Every instance of the factorization on `m`: the statuses and, on success, the factors.
    fn assert_instances_agree(m: &[f64], d: usize, what: &str) {
        let mut portable = m.to_vec();
        let expected = cholesky_portable::<0>(&mut portable, d);
        let runs: [Factor; 3] = [
            |a, d| cholesky(a, d),
            |a, d| dispatch_dim!(d, cholesky_portable(a, d)),
            |a, d| cholesky_dispatched::<0>(a, d),
        ];
        for (t, run) in runs.iter().enumerate() {
            let mut a = m.to_vec();
            assert_eq!(run(&mut a, d), expected, "{what} d {d} instance {t}");
            if expected.is_ok() {
                assert_eq!(bits(&a), bits(&portable), "{what} d {d} instance {t}");
            }
        }
    }

    #[test]
    fn cholesky_instances_match_the_portable_one_bit_for_bit_and_status() {
        let mut rng = Rng::new(71);
        for d in core::iter::once(0).chain(TEST_DIMS) {
            for spread in [0.0, 1.0, 3.0] {
                let s = random_spd(&mut rng, d, spread);
                assert_instances_agree(&s, d, "spd");
                // The strict upper triangle is not read.
                let mut junk = s.clone();
                for i in 0..d {
                    for j in i + 1..d {
                        junk[i * d + j] = f64::NAN;
                    }
                }
                let (mut a, mut b) = (s.clone(), junk);
                cholesky(&mut a, d).unwrap();
                cholesky(&mut b, d).unwrap();
                assert_eq!(bits(&a), bits(&b), "d {d}");
            }
            // Not SPD: a negative diagonal entry, a NaN, and an indefinite matrix (a symmetric
            // perturbation of an SPD one), at each position in turn.
            for row in 0..d {
                let mut negative = random_spd(&mut rng, d, 0.0);
                negative[row * d + row] = -1.0;
                let mut nan = random_spd(&mut rng, d, 0.0);
                nan[row * d] = f64::NAN;
                nan[row] = f64::NAN;
                let mut indefinite = random_spd(&mut rng, d, 0.0);
                if row > 0 {
                    indefinite[row * d + row - 1] = 10.0;
                    indefinite[(row - 1) * d + row] = 10.0;
                }
                for m in [negative, nan, indefinite] {
                    assert_instances_agree(&m, d, "not spd");
                }
            }
        }
    }

    #[test]
    fn solve_lower_instances_match_the_portable_one_bit_for_bit() {
        let mut rng = Rng::new(72);
        for d in core::iter::once(0).chain(TEST_DIMS) {
            for spread in [0.0, 2.0] {
                let mut l = random_spd(&mut rng, d, spread);
                cholesky(&mut l, d).unwrap();
                let b: Vec<f64> = (0..d).map(|_| 5.0 * rng.normal()).collect();
                let mut expected = b.clone();
                solve_lower_portable::<0>(&l, d, &mut expected);
                let runs: [Solve; 3] = [
                    |l, d, x| solve_lower(l, d, x),
                    |l, d, x| dispatch_dim!(d, solve_lower_portable(l, d, x)),
                    |l, d, x| solve_lower_dispatched::<0>(l, d, x),
                ];
                for (t, run) in runs.iter().enumerate() {
                    let mut x = b.clone();
                    x.push(7.0);
                    run(&l, d, &mut x);
                    assert_eq!(bits(&x[..d]), bits(&expected), "d {d} instance {t}");
                    assert_eq!(x[d], 7.0, "past d untouched");
                }
            }
        }
    }
}
