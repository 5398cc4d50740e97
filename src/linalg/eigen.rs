//! Symmetric eigen-decomposition (cyclic Jacobi) for small matrices.
//!
//! Cyclic Jacobi is slower than tridiagonalization + QR for large `d`, but for the small
//! matrices of this crate (`d` up to a few dozen) it is simple, allocation-free, accurate
//! (eigenvalues to a few ulps of the matrix norm, orthonormal eigenvectors) and fully
//! deterministic: the rotation order is fixed, so the same input gives the same bits.
use super::vector::norm2;
use crate::status::{checked_mul, ensure_len};
use crate::Status;

/// Most sweeps before giving up on further convergence. Cyclic Jacobi converges quadratically;
/// in practice it needs well under 15 sweeps for any `d` this crate uses.
const MAX_SWEEPS: usize = 100;

/// Two components of an eigenvector whose magnitudes agree to this relative tolerance count as
/// tied for the sign convention (so that ties that are exact in exact arithmetic stay ties after
/// rounding, and the lower index wins).
const SIGN_TIE_TOL: f64 = 1e-12;

/// Eigen-decomposition of the symmetric matrix `a` (`d x d`, row-major, in `a[..d*d]`).
///
/// The matrix is defined by the lower triangle (with the diagonal) of `a`; the strict upper
/// triangle is ignored. `a[..d*d]` is used as workspace and left in an unspecified state.
///
/// On success:
/// - `values[..d]` holds the eigenvalues in decreasing order;
/// - `vectors[..d*d]` holds the matching eigenvectors as its ROWS: row `k`,
///   `vectors[k*d..(k+1)*d]`, is a unit vector `v` with `A v = values[k] v`; the rows are
///   orthonormal;
/// - the sign of each eigenvector is fixed: its component of largest magnitude is positive
///   (on ties, within a relative `1e-12`, the one of lowest index). Within an eigenspace of a
///   repeated eigenvalue any orthonormal basis is correct; the one returned is deterministic
///   (for a diagonal input it is the identity, in the order of the sorted diagonal).
///
/// The method is cyclic Jacobi on a copy scaled by a power of two (exact, and safe from
/// overflow for entries of any magnitude), sweeping until the off-diagonal Frobenius norm is at
/// most `f64::EPSILON` times the Frobenius norm of the matrix, or 100 sweeps (never reached in
/// practice; the result is then returned as is). Nothing allocates. `d = 0` succeeds and
/// writes nothing.
///
/// # Errors
/// - `Status::NonFinite` if the lower triangle of `a` holds NaN or an infinity (nothing is
///   written to `values` or `vectors`).
/// - `Status::SizeOverflow` if `d * d` overflows; `Status::BufferTooShort` if `a` or
///   `vectors` is shorter than `d * d` or `values` is shorter than `d`.
pub fn sym_eigen(
    a: &mut [f64],
    d: usize,
    values: &mut [f64],
    vectors: &mut [f64],
) -> Result<(), Status> {
    let dd = checked_mul(d, d)?;
    ensure_len(a.len(), dd)?;
    ensure_len(values.len(), d)?;
    ensure_len(vectors.len(), dd)?;
    let a = &mut a[..dd];
    let values = &mut values[..d];
    let w = &mut vectors[..dd];

    // Validate the lower triangle and find the largest magnitude.
    let mut amax = 0.0_f64;
    for i in 0..d {
        for &v in &a[i * d..i * d + i + 1] {
            if !v.is_finite() {
                return Err(Status::NonFinite);
            }
            let av = libm::fabs(v);
            if av > amax {
                amax = av;
            }
        }
    }

    // Eigenvectors start as the identity (rows of W = V^T; rotations act on rows of W).
    w.fill(0.0);
    for i in 0..d {
        w[i * d + i] = 1.0;
    }

    if amax == 0.0 {
        values.fill(0.0);
        return Ok(());
    }

    // Scale by 2^-e so that the largest entry is in [0.5, 1): exact, and sums of squares cannot
    // overflow. Mirror the lower triangle into the upper one.
    let (_, e) = libm::frexp(amax);
    for i in 0..d {
        for j in 0..=i {
            let v = libm::scalbn(a[i * d + j], -e);
            a[i * d + j] = v;
            a[j * d + i] = v;
        }
    }

    let frob2: f64 = a.iter().map(|v| v * v).sum();
    let tol2 = f64::EPSILON * f64::EPSILON * frob2;
    for _ in 0..MAX_SWEEPS {
        if off_diagonal_sq(a, d) <= tol2 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                rotate(a, w, d, p, q);
            }
        }
    }

    for (i, v) in values.iter_mut().enumerate() {
        *v = libm::scalbn(a[i * d + i], e);
    }

    sort_decreasing(values, w, d);
    for row in w.chunks_exact_mut(d) {
        normalize_and_fix_sign(row);
    }
    Ok(())
}

/// Sum of squares of the off-diagonal entries of the `d x d` matrix `a`.
fn off_diagonal_sq(a: &[f64], d: usize) -> f64 {
    let mut s = 0.0;
    for (i, row) in a.chunks_exact(d).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if i != j {
                s += v * v;
            }
        }
    }
    s
}

/// One Jacobi rotation in the plane `(p, q)`, `p < q`: `A <- J^T A J` with `(J^T A J)_pq = 0`,
/// and `W <- J^T W` (the eigenvectors are the rows of `W`). `a` must be symmetric; it stays so.
fn rotate(a: &mut [f64], w: &mut [f64], d: usize, p: usize, q: usize) {
    let apq = a[p * d + q];
    if apq == 0.0 {
        return;
    }
    let app = a[p * d + p];
    let aqq = a[q * d + q];
    // t = tan(theta), the smaller root of t^2 + 2 tau t - 1 = 0 (rotation angle <= pi/4).
    let tau = (aqq - app) / (2.0 * apq);
    let t = if tau >= 0.0 {
        1.0 / (tau + libm::hypot(1.0, tau))
    } else {
        -1.0 / (-tau + libm::hypot(1.0, tau))
    };
    let c = 1.0 / libm::hypot(1.0, t);
    let s = t * c;

    // Rows p and q of A (contiguous), then mirror them into columns p and q.
    {
        let (lo, hi) = a.split_at_mut(q * d);
        let row_p = &mut lo[p * d..p * d + d];
        let row_q = &mut hi[..d];
        for (x, y) in row_p.iter_mut().zip(row_q.iter_mut()) {
            let (xp, xq) = (*x, *y);
            *x = c * xp - s * xq;
            *y = s * xp + c * xq;
        }
    }
    for k in 0..d {
        a[k * d + p] = a[p * d + k];
        a[k * d + q] = a[q * d + k];
    }
    // The 2 x 2 block, in the numerically preferred form.
    a[p * d + p] = app - t * apq;
    a[q * d + q] = aqq + t * apq;
    a[p * d + q] = 0.0;
    a[q * d + p] = 0.0;

    // Rows p and q of W.
    let (lo, hi) = w.split_at_mut(q * d);
    let row_p = &mut lo[p * d..p * d + d];
    let row_q = &mut hi[..d];
    for (x, y) in row_p.iter_mut().zip(row_q.iter_mut()) {
        let (xp, xq) = (*x, *y);
        *x = c * xp - s * xq;
        *y = s * xp + c * xq;
    }
}

/// Sorts `values` decreasing, permuting the rows of `w` alongside. Insertion sort: stable
/// (equal values keep their order), no allocation, `O(d^3)` at worst like one Jacobi sweep.
fn sort_decreasing(values: &mut [f64], w: &mut [f64], d: usize) {
    for i in 1..d {
        let mut j = i;
        while j > 0 && values[j - 1] < values[j] {
            values.swap(j - 1, j);
            let (lo, hi) = w.split_at_mut(j * d);
            lo[(j - 1) * d..].swap_with_slice(&mut hi[..d]);
            j -= 1;
        }
    }
}

/// Rescales `v` to unit norm and flips its sign so that its largest-magnitude component (the
/// lowest index among those within `SIGN_TIE_TOL` of the largest) is positive.
fn normalize_and_fix_sign(v: &mut [f64]) {
    let n = norm2(v);
    let mut amax = 0.0_f64;
    for &x in v.iter() {
        amax = amax.max(libm::fabs(x));
    }
    let cutoff = amax * (1.0 - SIGN_TIE_TOL);
    let lead = v.iter().copied().find(|x| libm::fabs(*x) >= cutoff);
    let scale = match lead {
        Some(x) if x < 0.0 => -1.0 / n,
        _ => 1.0 / n,
    };
    for x in v.iter_mut() {
        *x *= scale;
    }
}
