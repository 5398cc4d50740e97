//! C ABI of [`crate::distance`]: closed-form L2 distances between Gaussian mixtures, the
//! pairwise distance matrix, KL between Gaussians, moment matching.
//!
//! A mixture comes from C as `weights` (K doubles), `means` (K*d doubles, row-major), `covs`
//! (K*d*d doubles for `MK_COV_FULL`, symmetric row-major; K*d doubles for `MK_COV_DIAG`, the
//! variances), K, d and a covariance kind (`MK_COV_FULL` or `MK_COV_DIAG`; any other value is
//! `MK_STATUS_BAD_PARAMETER`).

use super::{mixture, parse_cov_kind, product, run, slice, slice_mut, work_len_for_c};
use crate::distance;
use crate::Status;

/// Workspace length (doubles) of `mk_l2_distance_sq` and `mk_l2_distance`:
/// 8 (d (d + 1) / 2 + d) when either kind is `MK_COV_FULL`, 16 d when both are `MK_COV_DIAG`;
/// 0 if d is 0, a kind is unknown, or the length overflows size_t.
#[no_mangle]
pub extern "C" fn mk_l2_distance_sq_work_len(d: usize, f_kind: i32, g_kind: i32) -> usize {
    let len = parse_cov_kind(f_kind).and_then(|f| {
        parse_cov_kind(g_kind).and_then(|g| distance::l2_distance_sq_work_len(d, f, g))
    });
    work_len_for_c(d > 0, len)
}

/// Squared L2 distance |F - G|^2 = int (f - g)^2 between two Gaussian mixtures in closed form:
/// a^T A a - 2 a^T C b + b^T B b, every entry a Gaussian product integral
/// phi(mu_i; nu_j, S_i + P_j) computed in the log domain through a Cholesky factor.
///
/// The value is returned as computed: for nearly equal mixtures, cancellation can leave it a
/// few ulps below 0 (`mk_l2_distance` clamps at 0 before the square root). Bitwise-equal
/// mixtures give exactly 0.
///
/// Parameters:
/// - `f_weights` (in): K_F weights, >= 0, summing to 1 within 1e-9.
/// - `f_means` (in): K_F x d means, row-major, `f_k * d` doubles.
/// - `f_covs` (in): `f_k * d * d` doubles (`MK_COV_FULL`: symmetric positive definite, only the
///   lower triangle is used once checked) or `f_k * d` doubles (`MK_COV_DIAG`: variances > 0).
/// - `f_k`: K_F > 0. `f_kind`: `MK_COV_FULL` or `MK_COV_DIAG`.
/// - `g_weights`, `g_means`, `g_covs`, `g_k`, `g_kind` (in): the same for G; the kinds may
///   differ (a diagonal covariance is a diagonal matrix).
/// - `d`: dimension of both, > 0.
/// - `work` (scratch): `work_len` >= `mk_l2_distance_sq_work_len(d, f_kind, g_kind)` doubles.
/// - `out` (out): one double, the squared distance.
///
/// Returns `MK_STATUS_OK`, or with `out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (a K or d is 0), `MK_STATUS_SIZE_OVERFLOW` (K*d or K*d*d overflows),
/// `MK_STATUS_BAD_PARAMETER` (an unknown kind), `MK_STATUS_BUFFER_TOO_SHORT` (work),
/// `MK_STATUS_NON_FINITE` (NaN or infinity in an input, or an overflowing result),
/// `MK_STATUS_WEIGHTS` (a negative weight, or a sum not within 1e-9 of 1), `MK_STATUS_NOT_SPD`
/// (an asymmetric covariance, a non-positive variance, or a covariance that is not positive
/// definite), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `work` and `out` must not
/// overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_l2_distance_sq(
    f_weights: *const f64,
    f_means: *const f64,
    f_covs: *const f64,
    f_k: usize,
    f_kind: i32,
    g_weights: *const f64,
    g_means: *const f64,
    g_covs: *const f64,
    g_k: usize,
    g_kind: i32,
    d: usize,
    work: *mut f64,
    work_len: usize,
    out: *mut f64,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let f = unsafe { mixture(f_weights, f_means, f_covs, f_k, d, f_kind) }?;
        let g = unsafe { mixture(g_weights, g_means, g_covs, g_k, d, g_kind) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let out = unsafe { out.as_mut() }.ok_or(Status::NullPointer)?;
        *out = distance::l2_distance_sq(&f, &g, work)?;
        Ok(())
    })
}

/// L2 distance |F - G| = sqrt(max(0, |F - G|^2)) between two Gaussian mixtures: the square
/// root of what `mk_l2_distance_sq` computes, with a squared distance that cancellation left
/// slightly negative taken as 0. Bitwise-equal mixtures give exactly 0.
///
/// Parameters, workspace (`mk_l2_distance_sq_work_len(d, f_kind, g_kind)` doubles) and statuses
/// are those of `mk_l2_distance_sq`; `out` (out) receives the distance, only on success.
///
/// # Safety
/// As for `mk_l2_distance_sq`.
#[no_mangle]
pub unsafe extern "C" fn mk_l2_distance(
    f_weights: *const f64,
    f_means: *const f64,
    f_covs: *const f64,
    f_k: usize,
    f_kind: i32,
    g_weights: *const f64,
    g_means: *const f64,
    g_covs: *const f64,
    g_k: usize,
    g_kind: i32,
    d: usize,
    work: *mut f64,
    work_len: usize,
    out: *mut f64,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let f = unsafe { mixture(f_weights, f_means, f_covs, f_k, d, f_kind) }?;
        let g = unsafe { mixture(g_weights, g_means, g_covs, g_k, d, g_kind) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let out = unsafe { out.as_mut() }.ok_or(Status::NullPointer)?;
        *out = distance::l2_distance(&f, &g, work)?;
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_l2_pairwise`:
/// m (m + 1) / 2 + (K + 8) m K + 8 (d (d + 1) + 2 d) + d (d + 1) / 2 (`MK_COV_FULL`) or
/// m (m + 1) / 2 + (K + 8) m K + 24 d (`MK_COV_DIAG`); 0 if m, K or d is 0, the kind is
/// unknown, or the length overflows size_t.
#[no_mangle]
pub extern "C" fn mk_l2_pairwise_work_len(m: usize, k: usize, d: usize, kind: i32) -> usize {
    let len = parse_cov_kind(kind).and_then(|kind| distance::l2_pairwise_work_len(m, k, d, kind));
    work_len_for_c(m > 0 && k > 0 && d > 0, len)
}

/// All pairwise L2 distances D_ab = |G_a - G_b| of m Gaussian mixtures with the same K, d and
/// covariance kind: each mixture's self term and each cross term is computed once, and every
/// entry is bitwise what `mk_l2_distance` gives for that pair.
///
/// Parameters:
/// - `weights` (in): the m weight vectors concatenated, `m * k` doubles; each >= 0 and summing
///   to 1 within 1e-9.
/// - `means` (in): the m mean matrices concatenated, `m * k * d` doubles.
/// - `covs` (in): `m * k * d * d` doubles (`MK_COV_FULL`) or `m * k * d` (`MK_COV_DIAG`).
/// - `m`, `k`, `d`: number of mixtures, components per mixture, dimension; all > 0.
/// - `kind`: `MK_COV_FULL` or `MK_COV_DIAG`.
/// - `out` (out): m x m distances, row-major, `m * m` doubles; symmetric with a zero diagonal.
/// - `work` (scratch): `work_len` >= `mk_l2_pairwise_work_len(m, k, d, kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (m, K or d is 0), `MK_STATUS_SIZE_OVERFLOW` (m*K, m*K*d, m*K*d*d or m*m
/// overflows), `MK_STATUS_BAD_PARAMETER` (an unknown kind), `MK_STATUS_BUFFER_TOO_SHORT` (work),
/// and for the first invalid mixture: `MK_STATUS_NON_FINITE` (NaN or infinity; also an
/// overflowing result), `MK_STATUS_WEIGHTS`, `MK_STATUS_NOT_SPD`; `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `out` and `work` must not
/// overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_l2_pairwise(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    m: usize,
    k: usize,
    d: usize,
    kind: i32,
    out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        let kind = parse_cov_kind(kind)?;
        // Every length is computed before any slice is formed.
        let n = product(m, k)?;
        let (len_means, len_covs) = (product(n, d)?, product(n, kind.cov_len(d)?)?);
        let len_out = product(m, m)?;
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let weights = unsafe { slice(weights, n) }?;
        let means = unsafe { slice(means, len_means) }?;
        let covs = unsafe { slice(covs, len_covs) }?;
        let out = unsafe { slice_mut(out, len_out) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        distance::l2_pairwise(weights, means, covs, m, k, d, kind, out, work)
    })
}

/// Workspace length (doubles) of `mk_kl_gaussian`: 2 d^2 + d p + d with p = d rounded up to a
/// multiple of 4 (`MK_COV_FULL`) or 3 d (`MK_COV_DIAG`); 0 if d is 0, the kind is unknown, or
/// the length overflows size_t.
#[no_mangle]
pub extern "C" fn mk_kl_gaussian_work_len(d: usize, kind: i32) -> usize {
    let len = parse_cov_kind(kind).and_then(|kind| distance::kl_gaussian_work_len(d, kind));
    work_len_for_c(d > 0, len)
}

/// KL(N0 || N1) = 1/2 [tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - d + ln|S1| - ln|S0|]
/// between two Gaussians, computed from Cholesky factors as a sum of non-negative terms and
/// clamped at 0 (identical Gaussians give exactly 0).
///
/// Parameters:
/// - `mean0`, `mean1` (in): d doubles each.
/// - `cov0`, `cov1` (in): `d * d` doubles each (`MK_COV_FULL`: symmetric positive definite,
///   row-major) or d doubles each (`MK_COV_DIAG`: variances > 0).
/// - `d`: dimension, > 0. `kind`: `MK_COV_FULL` or `MK_COV_DIAG`, for both covariances.
/// - `work` (scratch): `work_len` >= `mk_kl_gaussian_work_len(d, kind)` doubles.
/// - `out` (out): one double, the divergence.
///
/// Returns `MK_STATUS_OK`, or with `out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (d is 0), `MK_STATUS_SIZE_OVERFLOW` (d*d overflows),
/// `MK_STATUS_BAD_PARAMETER` (an unknown kind), `MK_STATUS_BUFFER_TOO_SHORT` (work),
/// `MK_STATUS_NON_FINITE` (NaN or infinity in an input, or an overflowing result),
/// `MK_STATUS_NOT_SPD` (an asymmetric covariance, a non-positive variance, or a covariance that
/// is not positive definite), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `work` and `out` must not
/// overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_kl_gaussian(
    mean0: *const f64,
    cov0: *const f64,
    mean1: *const f64,
    cov1: *const f64,
    d: usize,
    kind: i32,
    work: *mut f64,
    work_len: usize,
    out: *mut f64,
) -> i32 {
    run(|| {
        let kind = parse_cov_kind(kind)?;
        let cov_len = kind.cov_len(d)?;
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let mean0 = unsafe { slice(mean0, d) }?;
        let cov0 = unsafe { slice(cov0, cov_len) }?;
        let mean1 = unsafe { slice(mean1, d) }?;
        let cov1 = unsafe { slice(cov1, cov_len) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let out = unsafe { out.as_mut() }.ok_or(Status::NullPointer)?;
        *out = distance::kl_gaussian(mean0, cov0, mean1, cov1, d, kind, work)?;
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_moment_match`: 2 d + d^2 (`MK_COV_FULL`) or 3 d
/// (`MK_COV_DIAG`); 0 if d is 0, the kind is unknown, or the length overflows size_t.
#[no_mangle]
pub extern "C" fn mk_moment_match_work_len(d: usize, kind: i32) -> usize {
    let len = parse_cov_kind(kind).and_then(|kind| distance::moment_match_work_len(d, kind));
    work_len_for_c(d > 0, len)
}

/// Moment matching: the single Gaussian with the mean and covariance of the mixture
/// sum_i l_i N(mu_i, S_i): mu = sum_i l_i mu_i, Sigma = sum_i l_i [S_i + (mu_i - mu)(mu_i - mu)^T]
/// (for `MK_COV_DIAG`, only the diagonal of each outer product).
///
/// Parameters:
/// - `weights` (in): the m weights l_i, `m` doubles, >= 0, summing to 1 within 1e-9 (used as
///   given).
/// - `means` (in): m x d means, row-major, `m * d` doubles.
/// - `covs` (in): `m * d * d` doubles (`MK_COV_FULL`) or `m * d` (`MK_COV_DIAG`).
/// - `m`, `d`: number of Gaussians and dimension, > 0. `kind`: `MK_COV_FULL` or `MK_COV_DIAG`.
/// - `mean_out` (out): d doubles.
/// - `cov_out` (out): `d * d` doubles (`MK_COV_FULL`, exactly symmetric) or d doubles
///   (`MK_COV_DIAG`).
/// - `work` (scratch): `work_len` >= `mk_moment_match_work_len(d, kind)` doubles.
///
/// Returns `MK_STATUS_OK`, or with both outputs untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (m or d is 0), `MK_STATUS_SIZE_OVERFLOW` (m*d, d*d or m*d*d
/// overflows), `MK_STATUS_BAD_PARAMETER` (an unknown kind), `MK_STATUS_BUFFER_TOO_SHORT`
/// (work), `MK_STATUS_NON_FINITE` (NaN or infinity in an input, or an overflowing result),
/// `MK_STATUS_WEIGHTS` (a negative weight, or a sum not within 1e-9 of 1), `MK_STATUS_NOT_SPD`
/// (an asymmetric covariance or a non-positive variance), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; the outputs and `work` must
/// not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_moment_match(
    weights: *const f64,
    means: *const f64,
    covs: *const f64,
    m: usize,
    d: usize,
    kind: i32,
    mean_out: *mut f64,
    cov_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        let kind = parse_cov_kind(kind)?;
        // Every length is computed before any slice is formed.
        let cov_len = kind.cov_len(d)?;
        let (len_means, len_covs) = (product(m, d)?, product(m, cov_len)?);
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let weights = unsafe { slice(weights, m) }?;
        let means = unsafe { slice(means, len_means) }?;
        let covs = unsafe { slice(covs, len_covs) }?;
        let mean_out = unsafe { slice_mut(mean_out, d) }?;
        let cov_out = unsafe { slice_mut(cov_out, cov_len) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        distance::moment_match(weights, means, covs, m, d, kind, mean_out, cov_out, work)
    })
}
