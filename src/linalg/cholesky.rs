//! Cholesky factorization, triangular solves, log-determinant.
//!
//! All matrices are `d x d`, row-major, stored in the first `d * d` elements of their slice
//! (longer slices are fine; the rest is neither read nor written). The factor is computed row by
//! row (Cholesky–Banachiewicz), so every inner product runs over contiguous rows and goes through
//! the vectorized [`dot`]; the transposed solve is organised by rows too (via [`axpy`]).
use super::vector::{axpy, dot};
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
    let a = &mut a[..dd];
    // 4 d eps, the relative size below which a pivot is indistinguishable from rounding.
    let rel_tol = 4.0 * d as f64 * f64::EPSILON;
    for i in 0..d {
        let (done, rest) = a.split_at_mut(i * d);
        let row_i = &mut rest[..d];
        for j in 0..i {
            let row_j = &done[j * d..j * d + j];
            let s = row_i[j] - dot(&row_i[..j], row_j);
            // row_j has length j, so its diagonal L_jj is read from `done` directly.
            row_i[j] = s / done[j * d + j];
        }
        let a_ii = row_i[i];
        let pivot = a_ii - dot(&row_i[..i], &row_i[..i]);
        // False for a NaN pivot or NaN a_ii; an infinite a_ii gives an infinite tolerance, so it
        // is rejected as well.
        let acceptable = pivot > rel_tol * a_ii && pivot.is_finite();
        if !acceptable {
            return Err(Status::NotSpd);
        }
        row_i[i] = libm::sqrt(pivot);
        row_i[i + 1..].fill(0.0);
    }
    Ok(())
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
    for i in 0..d {
        let row = &l[i * d..i * d + i];
        let (solved, rest) = b.split_at_mut(i);
        rest[0] = (rest[0] - dot(row, solved)) / l[i * d + i];
    }
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
