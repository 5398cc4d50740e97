//! C ABI of [`crate::distance`]: closed-form L2 distances between Gaussian mixtures, the
//! pairwise distance matrix, KL between Gaussians, moment matching. Mixtures are `mk_mixture`
//! descriptors, single Gaussians `mk_gaussian` descriptors.

use super::{
    gaussian_in, mixture_in, product, run, shape_in, slice_mut, stacked_in, work_len_for_c,
    MkGaussian, MkMixture,
};
use crate::distance;
use crate::Status;

/// Workspace length (doubles) of `mk_l2_distance_sq` and `mk_l2_distance`:
/// 8 (d (d + 1) / 2 + d) when either kind is `MK_COV_FULL`, 16 d when both are `MK_COV_DIAG`;
/// 0 if a descriptor is NULL, a size is 0, the dimensions differ, a kind is unknown, or the
/// length overflows size_t.
///
/// # Safety
/// Non-null `f` and `g` must point to valid `mk_mixture` descriptors.
#[no_mangle]
pub unsafe extern "C" fn mk_l2_distance_sq_work_len(
    f: *const MkMixture,
    g: *const MkMixture,
) -> usize {
    work_len_for_c(|| {
        // SAFETY (both blocks): caller's contract.
        let (sf, sg) = (unsafe { shape_in(f) }?, unsafe { shape_in(g) }?);
        sg.expect_dim(sf.d)?;
        distance::l2_distance_sq_work_len(sf.d, sf.kind, sg.kind)
    })
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
/// - `f`, `g` (in): the mixtures, of the same dimension d; their K and covariance kinds may
///   differ (a diagonal covariance is a diagonal matrix).
/// - `distance_out` (out): one double, the squared distance.
/// - `work` (scratch): `work_len` >= `mk_l2_distance_sq_work_len(f, g)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `distance_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (a K or d is 0), `MK_STATUS_SIZE_OVERFLOW` (K*d or K*d*d overflows),
/// `MK_STATUS_SHAPE_MISMATCH` (the dimensions differ), `MK_STATUS_BAD_PARAMETER` (an unknown
/// kind), `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_NON_FINITE` (NaN or infinity in an
/// input, or an overflowing result), `MK_STATUS_WEIGHTS` (a negative weight, or a sum not within
/// 1e-9 of 1), `MK_STATUS_NOT_SPD` (an asymmetric covariance, a non-positive variance, or a
/// covariance that is not positive definite), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `work` and `distance_out`
/// must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_l2_distance_sq(
    f: *const MkMixture,
    g: *const MkMixture,
    distance_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { l2(f, g, distance_out, work, work_len, distance::l2_distance_sq) }
}

/// L2 distance |F - G| = sqrt(max(0, |F - G|^2)) between two Gaussian mixtures: the square
/// root of what `mk_l2_distance_sq` computes, with a squared distance that cancellation left
/// slightly negative taken as 0. Bitwise-equal mixtures give exactly 0.
///
/// Parameters, workspace (`mk_l2_distance_sq_work_len(f, g)` doubles) and statuses are those
/// of `mk_l2_distance_sq`; `distance_out` (out) receives the distance, only on success.
///
/// # Safety
/// As for `mk_l2_distance_sq`.
#[no_mangle]
pub unsafe extern "C" fn mk_l2_distance(
    f: *const MkMixture,
    g: *const MkMixture,
    distance_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { l2(f, g, distance_out, work, work_len, distance::l2_distance) }
}

/// The body of `mk_l2_distance_sq` and `mk_l2_distance`, with the safe kernel to call.
///
/// # Safety
/// As for `mk_l2_distance_sq`.
unsafe fn l2(
    f: *const MkMixture,
    g: *const MkMixture,
    distance_out: *mut f64,
    work: *mut f64,
    work_len: usize,
    kernel: fn(&crate::gmm::Mixture, &crate::gmm::Mixture, &mut [f64]) -> Result<f64, Status>,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let sf = unsafe { shape_in(f) }?;
        unsafe { shape_in(g) }?.expect_dim(sf.d)?;
        let f = unsafe { mixture_in(f) }?;
        let g = unsafe { mixture_in(g) }?;
        let out = unsafe { distance_out.as_mut() }.ok_or(Status::NullPointer)?;
        let work = unsafe { slice_mut(work, work_len) }?;
        *out = kernel(&f, &g, work)?;
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_l2_pairwise`, for the descriptor's K, d, kind and m:
/// m (m + 1) / 2 + (K + 8) m K + 8 (d (d + 1) + 2 d) + d (d + 1) / 2 (`MK_COV_FULL`) or
/// m (m + 1) / 2 + (K + 8) m K + 24 d (`MK_COV_DIAG`); 0 if `mixtures` is NULL, m, K or d is 0,
/// the kind is unknown, or the length overflows size_t.
///
/// # Safety
/// A non-null `mixtures` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_l2_pairwise_work_len(mixtures: *const MkMixture, m: usize) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let s = unsafe { shape_in(mixtures) }?;
        distance::l2_pairwise_work_len(m, s.k, s.d, s.kind)
    })
}

/// All pairwise L2 distances D_ab = |G_a - G_b| of m Gaussian mixtures of one shape: each
/// mixture's self term and each cross term is computed once, and every entry is bitwise what
/// `mk_l2_distance` gives for that pair.
///
/// Parameters:
/// - `mixtures` (in): the shape (K, d, kind) of each mixture, and arrays holding the m mixtures
///   concatenated: `m * K` weights (each mixture's >= 0, summing to 1 within 1e-9),
///   `m * K * d` means, `m * K * c` covariance values.
/// - `m` (in): number of mixtures, > 0.
/// - `distances_out` (out): m x m distances, row-major, `m * m` doubles; symmetric with a zero
///   diagonal.
/// - `work` (scratch): `work_len` >= `mk_l2_pairwise_work_len(mixtures, m)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `distances_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (m, K or d is 0), `MK_STATUS_SIZE_OVERFLOW` (m*K, m*K*d, m*K*d*d or
/// m*m overflows), `MK_STATUS_BAD_PARAMETER` (an unknown kind), `MK_STATUS_BUFFER_TOO_SHORT`
/// (work), and for the first invalid mixture: `MK_STATUS_NON_FINITE` (NaN or infinity; also an
/// overflowing result), `MK_STATUS_WEIGHTS`, `MK_STATUS_NOT_SPD`; `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `distances_out` and `work`
/// must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_l2_pairwise(
    mixtures: *const MkMixture,
    m: usize,
    distances_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let st = unsafe { stacked_in(mixtures, m) }?;
        let out = unsafe { slice_mut(distances_out, product(m, m)?) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let s = st.shape;
        distance::l2_pairwise(
            st.weights, st.means, st.covs, m, s.k, s.d, s.kind, out, work,
        )
    })
}

/// Workspace length (doubles) of `mk_kl_gaussian`: 2 d^2 + d p + d with p = d rounded up to a
/// multiple of 4 (`MK_COV_FULL`) or 3 d (`MK_COV_DIAG`); 0 if a descriptor is NULL, d is 0,
/// the shapes differ, the kind is unknown, or the length overflows size_t.
///
/// # Safety
/// Non-null `p` and `q` must point to valid `mk_gaussian` descriptors.
#[no_mangle]
pub unsafe extern "C" fn mk_kl_gaussian_work_len(
    p: *const MkGaussian,
    q: *const MkGaussian,
) -> usize {
    work_len_for_c(|| {
        // SAFETY (both blocks): caller's contract (the arrays are not read: lengths only).
        let (sp, sq) = unsafe { (kl_shape(p)?, kl_shape(q)?) };
        sp.expect(sq)?;
        distance::kl_gaussian_work_len(sp.d, sp.kind)
    })
}

/// The shape of a Gaussian descriptor without reading its arrays.
///
/// # Safety
/// A non-null `desc` must point to a valid `mk_gaussian`.
unsafe fn kl_shape(desc: *const MkGaussian) -> Result<super::Shape, Status> {
    // SAFETY: caller's contract.
    let desc = unsafe { desc.as_ref() }.ok_or(Status::NullPointer)?;
    super::Shape::new(1, desc.d, desc.cov_kind)
}

/// KL(P || Q) = 1/2 [tr(S_Q^-1 S_P) + (m_Q - m_P)^T S_Q^-1 (m_Q - m_P) - d + ln|S_Q| - ln|S_P|]
/// between two Gaussians, computed from Cholesky factors as a sum of non-negative terms and
/// clamped at 0 (identical Gaussians give exactly 0).
///
/// Parameters:
/// - `p`, `q` (in): the Gaussians, of the same dimension and covariance kind.
/// - `kl_out` (out): one double, the divergence.
/// - `work` (scratch): `work_len` >= `mk_kl_gaussian_work_len(p, q)` doubles.
///
/// Returns `MK_STATUS_OK`, or with `kl_out` untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (d is 0), `MK_STATUS_SIZE_OVERFLOW` (d*d overflows),
/// `MK_STATUS_SHAPE_MISMATCH` (d or kind differ), `MK_STATUS_BAD_PARAMETER` (an unknown kind),
/// `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_NON_FINITE` (NaN or infinity in an input, or
/// an overflowing result), `MK_STATUS_NOT_SPD` (an asymmetric covariance, a non-positive
/// variance, or a covariance that is not positive definite), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every pointer must be valid for the stated number of elements; `work` and `kl_out` must not
/// overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_kl_gaussian(
    p: *const MkGaussian,
    q: *const MkGaussian,
    kl_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let (sp, mean_p, cov_p) = unsafe { gaussian_in(p) }?;
        let (sq, mean_q, cov_q) = unsafe { gaussian_in(q) }?;
        sp.expect(sq)?;
        let out = unsafe { kl_out.as_mut() }.ok_or(Status::NullPointer)?;
        let work = unsafe { slice_mut(work, work_len) }?;
        *out = distance::kl_gaussian(mean_p, cov_p, mean_q, cov_q, sp.d, sp.kind, work)?;
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_moment_match`: 2 d + d^2 (`MK_COV_FULL`) or 3 d
/// (`MK_COV_DIAG`); 0 if `mix` is NULL, K or d is 0, the kind is unknown, or the length
/// overflows size_t.
///
/// # Safety
/// A non-null `mix` must point to a valid `mk_mixture`.
#[no_mangle]
pub unsafe extern "C" fn mk_moment_match_work_len(mix: *const MkMixture) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let s = unsafe { shape_in(mix) }?;
        distance::moment_match_work_len(s.d, s.kind)
    })
}

/// Moment matching: the single Gaussian with the mean and covariance of the mixture
/// sum_i w_i N(mu_i, S_i): mu = sum_i w_i mu_i, Sigma = sum_i w_i [S_i + (mu_i - mu)(mu_i - mu)^T]
/// (for `MK_COV_DIAG`, only the diagonal of each outer product).
///
/// Parameters:
/// - `mix` (in): the mixture (weights used as given).
/// - `mean_out` (out): d doubles.
/// - `cov_out` (out): `d * d` doubles (`MK_COV_FULL`, exactly symmetric) or d doubles
///   (`MK_COV_DIAG`).
/// - `work` (scratch): `work_len` >= `mk_moment_match_work_len(mix)` doubles.
///
/// Returns `MK_STATUS_OK`, or with both outputs untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (K or d is 0), `MK_STATUS_SIZE_OVERFLOW` (K*d, d*d or K*d*d
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
    mix: *const MkMixture,
    mean_out: *mut f64,
    cov_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let st = unsafe { stacked_in(mix, 1) }?;
        let s = st.shape;
        let mean_out = unsafe { slice_mut(mean_out, s.d) }?;
        let cov_out = unsafe { slice_mut(cov_out, s.c()) }?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let (w, mu, cov) = (st.weights, st.means, st.covs);
        distance::moment_match(w, mu, cov, s.k, s.d, s.kind, mean_out, cov_out, work)
    })
}
