//! Closed-form L2 distances between Gaussian mixtures, pairwise matrices, KL between Gaussians,
//! moment matching.
//!
//! # L2 distance
//! For F = sum_i a_i phi(.; mu_i, S_i) and G = sum_j b_j phi(.; nu_j, P_j),
//! |F - G|^2 = a^T A a - 2 a^T C b + b^T B b, where every entry is the Gaussian product integral
//! int phi_i phi_j = phi(mu_i; nu_j, S_i + P_j)
//! = (2 pi)^{-d/2} |S_i + P_j|^{-1/2} exp(-1/2 delta^T (S_i + P_j)^-1 delta), delta = mu_i - nu_j.
//! Each entry is computed in the log domain through the Cholesky factor L of S_i + P_j:
//! log phi = -1/2 (d log 2 pi + log|S_i + P_j| + |L^-1 delta|^2), then exponentiated once.
//! Full and diagonal covariances mix freely (a diagonal one is a full diagonal matrix).
//!
//! Properties the implementation guarantees (and the tests check):
//! - Every product integral is evaluated once: the self terms a^T A a and b^T B b run over
//!   i <= j only (off-diagonal entries counted twice), and [`l2_pairwise`] computes each
//!   mixture's self term once and each cross term once.
//! - `l2_distance(F, F)` is exactly `0.0`: the cross term is summed in the same order as the
//!   self terms, entry (i, j) together with entry (j, i), so identical mixtures give three
//!   bitwise-equal terms.
//! - [`l2_pairwise`] gives bitwise the same numbers as [`l2_distance`] called pair by pair.
//! - Full storage of diagonal covariances gives bitwise the same results as diagonal storage.
//! - The result does not depend on the CPU: the AVX2 instance of the kernel performs the same
//!   IEEE operations in the same order as the baseline one.
//!
//! # Cancellation
//! For nearly equal mixtures the three terms cancel and rounding can leave a squared distance
//! slightly below zero (a few ulps of the self terms). [`l2_distance_sq`] returns the value as
//! computed, sign included; [`l2_distance`] and [`l2_pairwise`] take the square root of
//! max(0, squared distance).
//!
//! # Speed
//! The product integrals are evaluated eight at a time ("lanes"): the eight matrices
//! S_i + P_j are interleaved entry by entry in a packed lower triangle, so the Cholesky
//! factorization, the forward solve and the log-determinant run on eight independent problems
//! at once in contiguous, bounds-check-free loops that LLVM turns into packed SIMD (AVX2 when
//! the CPU has it, chosen at run time). The factorization works on 2 x 2 blocks of entries
//! (one load per multiply-add), and log-determinants are accumulated as products of pivots
//! (one logarithm per problem, not one per pivot). [`l2_pairwise`] interleaves each group of
//! eight components once ("a panel") and pairs every other component with the whole panel, so
//! no matrix is transposed per pair. Measured (`cargo bench --bench distance`, one core of an
//! AMD EPYC with AVX2): the 20 x 20 matrix of mixtures with K = 5, d = 10 in under a
//! millisecond, the 50 x 50 one with K = 10, d = 50 in about a quarter of a second of CPU time.
//!
//! # KL and moment matching
//! [`kl_gaussian`] is
//! KL(N0 || N1) = 1/2 [tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - d + ln|S1| - ln|S0|];
//! [`moment_match`] collapses weighted Gaussians into one with the same mean and covariance.

// The batched kernels index several per-lane arrays in lockstep (`x[l] op y[l]` for each lane
// l); that index form is exactly what LLVM's vectorizer turns into packed operations.
#![allow(clippy::needless_range_loop)]

use crate::dispatch::{dim, dispatch_dim, with_avx2};
use crate::gmm::{CovKind, Mixture};
use crate::linalg::{axpy, cholesky, chunk_sums4, dot, solve_lower_portable};
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// Product integrals evaluated together by one call of the batched kernel.
const LANES: usize = 8;

/// ln(2 pi).
const LN_2PI: f64 = 1.837_877_066_409_345_5;

// ---------------------------------------------------------------------------------------------
// Workspace lengths
// ---------------------------------------------------------------------------------------------

/// d (d + 1) / 2, the entries of a packed lower triangle, without overflowing in the product.
fn tri_len(d: usize) -> Result<usize, Status> {
    if d % 2 == 0 {
        checked_mul(d / 2, d + 1)
    } else {
        checked_mul(d, d.div_ceil(2))
    }
}

/// Scratch doubles of one batch of product integrals in dimension d: with a full covariance on
/// either side, LANES packed lower triangles (d (d + 1) / 2 each) plus LANES vectors of length
/// d; with two diagonal sides, 2 LANES vectors of length d.
fn batch_work_len(d: usize, any_full: bool) -> Result<usize, Status> {
    if d == 0 {
        return Err(Status::ZeroSize);
    }
    let per_lane = if any_full {
        checked_add(tri_len(d)?, d)?
    } else {
        checked_mul(2, d)?
    };
    checked_mul(LANES, per_lane)
}

/// Workspace length (doubles) of [`l2_distance_sq`] and [`l2_distance`] for two mixtures in
/// dimension `d` with covariances stored as `f_kind` and `g_kind`: 8 (d (d + 1) / 2 + d) when
/// either is full, 16 d when both are diagonal.
///
/// Errors: `ZeroSize` (d = 0), `SizeOverflow`.
pub fn l2_distance_sq_work_len(
    d: usize,
    f_kind: CovKind,
    g_kind: CovKind,
) -> Result<usize, Status> {
    batch_work_len(d, f_kind == CovKind::Full || g_kind == CovKind::Full)
}

/// The workspace of [`l2_pairwise`], part by part (lengths in doubles, in this order).
struct PairwiseLayout {
    /// m (m + 1) / 2 sums: self terms and cross terms, packed upper triangle.
    acc: usize,
    /// (K + LANES) columns of N = m K log product integrals, a ring of the recent columns.
    columns: usize,
    /// One panel of LANES covariances, interleaved: packed lower triangles or variances.
    panel_covs: usize,
    /// The panel's LANES means, interleaved.
    panel_means: usize,
    /// The LANES Cholesky factors (full covariances only).
    factors: usize,
    /// The LANES solutions z = L^-1 delta.
    solutions: usize,
    /// One covariance's packed lower triangle (full covariances only).
    base: usize,
}

impl PairwiseLayout {
    fn new(m: usize, k: usize, d: usize, kind: CovKind) -> Result<Self, Status> {
        if m == 0 || k == 0 || d == 0 {
            return Err(Status::ZeroSize);
        }
        let n = checked_mul(m, k)?;
        let tri = tri_len(d)?;
        let lanes_of_d = checked_mul(LANES, d)?;
        Ok(PairwiseLayout {
            acc: pair_count(m)?,
            columns: checked_mul(checked_add(k, LANES)?, n)?,
            panel_covs: match kind {
                CovKind::Full => checked_mul(LANES, tri)?,
                CovKind::Diag => lanes_of_d,
            },
            panel_means: lanes_of_d,
            factors: match kind {
                CovKind::Full => checked_mul(LANES, tri)?,
                CovKind::Diag => 0,
            },
            solutions: lanes_of_d,
            base: match kind {
                CovKind::Full => tri,
                CovKind::Diag => 0,
            },
        })
    }

    fn total(&self) -> Result<usize, Status> {
        let parts = [
            self.columns,
            self.panel_covs,
            self.panel_means,
            self.factors,
            self.solutions,
            self.base,
        ];
        parts
            .iter()
            .try_fold(self.acc, |sum, &part| checked_add(sum, part))
    }
}

/// Workspace length (doubles) of [`l2_pairwise`] for m mixtures of K components in dimension d:
/// m (m + 1) / 2 + (K + 8) m K + 8 (d (d + 1) + 2 d) + d (d + 1) / 2 (full) or
/// m (m + 1) / 2 + (K + 8) m K + 24 d (diagonal).
///
/// Errors: `ZeroSize` (m, K or d is 0), `SizeOverflow`.
pub fn l2_pairwise_work_len(m: usize, k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    PairwiseLayout::new(m, k, d, kind)?.total()
}

/// m (m + 1) / 2: the pairs a <= b among m mixtures.
fn pair_count(m: usize) -> Result<usize, Status> {
    if m % 2 == 0 {
        checked_mul(m / 2, m + 1)
    } else {
        checked_mul(m, m.div_ceil(2))
    }
}

/// Workspace length (doubles) of [`kl_gaussian`]: 2 d^2 + d p + d (full, p = d rounded up to
/// a multiple of 4), 3 d (diagonal).
///
/// Errors: `ZeroSize` (d = 0), `SizeOverflow`.
pub fn kl_gaussian_work_len(d: usize, kind: CovKind) -> Result<usize, Status> {
    if d == 0 {
        return Err(Status::ZeroSize);
    }
    checked_add(checked_mul(2, kind.cov_len(d)?)?, kl_scratch_len(d, kind)?)
}

/// Workspace length (doubles) of [`moment_match`]: 2 d + d^2 (full), 3 d (diagonal).
///
/// Errors: `ZeroSize` (d = 0), `SizeOverflow`.
pub fn moment_match_work_len(d: usize, kind: CovKind) -> Result<usize, Status> {
    if d == 0 {
        return Err(Status::ZeroSize);
    }
    checked_add(checked_mul(2, d)?, kind.cov_len(d)?)
}

// ---------------------------------------------------------------------------------------------
// Components: a mixture view, or m mixtures stacked
// ---------------------------------------------------------------------------------------------

/// Read access to weighted Gaussian components, all valid (checked by [`Mixture::new`]).
trait Components {
    fn kind(&self) -> CovKind;
    fn weight(&self, i: usize) -> f64;
    fn mean(&self, i: usize) -> &[f64];
    fn cov(&self, i: usize) -> &[f64];
}

impl Components for Mixture<'_> {
    fn kind(&self) -> CovKind {
        self.cov_kind()
    }
    fn weight(&self, i: usize) -> f64 {
        self.weights()[i]
    }
    fn mean(&self, i: usize) -> &[f64] {
        Mixture::mean(self, i)
    }
    fn cov(&self, i: usize) -> &[f64] {
        Mixture::cov(self, i)
    }
}

/// The components of m mixtures with the same (K, d, kind), concatenated: component p is
/// component p mod K of mixture p / K. Every mixture has been checked by [`Mixture::new`].
struct Stack<'a> {
    weights: &'a [f64],
    means: &'a [f64],
    covs: &'a [f64],
    d: usize,
    cov_len: usize,
    kind: CovKind,
}

impl Components for Stack<'_> {
    fn kind(&self) -> CovKind {
        self.kind
    }
    fn weight(&self, i: usize) -> f64 {
        self.weights[i]
    }
    fn mean(&self, i: usize) -> &[f64] {
        &self.means[i * self.d..(i + 1) * self.d]
    }
    fn cov(&self, i: usize) -> &[f64] {
        &self.covs[i * self.cov_len..(i + 1) * self.cov_len]
    }
}

// ---------------------------------------------------------------------------------------------
// The batched kernel: log phi(mu_p; nu_q, S_p + P_q) for up to LANES pairs (p, q)
// ---------------------------------------------------------------------------------------------

/// One value per lane.
type Lanes = [f64; LANES];

/// Views `v[..n * LANES]` as n groups of LANES values (entry c of lane l at `[c][l]`).
///
/// # Panics
/// If `v` is shorter than `n * LANES` (a caller bug).
fn as_lanes_mut(v: &mut [f64], n: usize) -> &mut [Lanes] {
    let v = &mut v[..n * LANES];
    // SAFETY: `[f64; LANES]` has the size of LANES `f64` and the alignment of `f64`, and `v`
    // holds exactly n * LANES initialized `f64`; its exclusive borrow moves to the result.
    unsafe { core::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<Lanes>(), n) }
}

// Dot products over interleaved vectors. Every one sums c = 0, 1, 2, ... in order into a single
// accumulator per lane, so the blocked variants below give bitwise the result of `lane_dot`, and
// the kernels bitwise the result of the textbook row-by-row algorithm (a test checks it). The
// independent chains that keep the floating-point units busy come from the lanes and from the
// blocking, not from splitting the sums.

/// Lane-wise sum_c x[c][l] y[c][l] over the common length.
#[inline(always)]
fn lane_dot(x: &[Lanes], y: &[Lanes]) -> Lanes {
    let mut acc = [0.0; LANES];
    for (xc, yc) in x.iter().zip(y) {
        for l in 0..LANES {
            acc[l] += xc[l] * yc[l];
        }
    }
    acc
}

/// [`lane_dot`] of `x0` and of `x1` with the same `y`, over the length of `y` (both `x` are at
/// least as long): `y` is loaded once for both.
#[inline(always)]
fn lane_dot2(x0: &[Lanes], x1: &[Lanes], y: &[Lanes]) -> (Lanes, Lanes) {
    let n = y.len();
    let (x0, x1) = (&x0[..n], &x1[..n]);
    let (mut acc0, mut acc1) = ([0.0; LANES], [0.0; LANES]);
    for ((a, b), c) in x0.iter().zip(x1).zip(y) {
        for l in 0..LANES {
            acc0[l] += a[l] * c[l];
            acc1[l] += b[l] * c[l];
        }
    }
    (acc0, acc1)
}

/// The four [`lane_dot`]s of `x0`, `x1` with `y0`, `y1`, over the length of `y0` (the others
/// are at least as long): [x0.y0, x1.y0, x0.y1, x1.y1]. One load per multiply-add, against
/// 1.5 for [`lane_dot2`] and 2 for [`lane_dot`]: loads are what the Cholesky step is bound by.
#[inline(always)]
fn lane_dot2x2(x0: &[Lanes], x1: &[Lanes], y0: &[Lanes], y1: &[Lanes]) -> [Lanes; 4] {
    let n = y0.len();
    let (x0, x1, y1) = (&x0[..n], &x1[..n], &y1[..n]);
    let mut acc = [[0.0; LANES]; 4];
    for (((a, b), c), e) in x0.iter().zip(x1).zip(y0).zip(y1) {
        for l in 0..LANES {
            acc[0][l] += a[l] * c[l];
            acc[1][l] += b[l] * c[l];
            acc[2][l] += a[l] * e[l];
            acc[3][l] += b[l] * e[l];
        }
    }
    acc
}

/// Lane-wise log-determinants accumulated from pivots: the pivots are multiplied together while
/// the product stays within [1e-150, 1e150], and a logarithm is taken only when it would leave
/// that range (or a pivot is outside it), so a d x d factorization costs about one logarithm
/// per lane instead of d, without ever overflowing or underflowing.
struct LogDet {
    log_sum: Lanes,
    product: Lanes,
}

impl LogDet {
    const LOW: f64 = 1e-150;
    const HIGH: f64 = 1e150;

    #[inline(always)]
    fn new() -> Self {
        LogDet {
            log_sum: [0.0; LANES],
            product: [1.0; LANES],
        }
    }

    /// Adds log(pivot) lane-wise; every pivot is positive and finite.
    #[inline(always)]
    fn push(&mut self, pivot: &Lanes) {
        for l in 0..LANES {
            let p = pivot[l];
            if p > Self::LOW && p < Self::HIGH {
                // Both factors in [1e-150, 1e150]: the product cannot overflow or underflow.
                let q = self.product[l] * p;
                if q > Self::LOW && q < Self::HIGH {
                    self.product[l] = q;
                } else {
                    self.log_sum[l] += libm::log(q);
                    self.product[l] = 1.0;
                }
            } else {
                self.log_sum[l] += libm::log(p);
            }
        }
    }

    #[inline(never)]
    fn finish(&self) -> Lanes {
        let mut out = [0.0; LANES];
        for l in 0..LANES {
            out[l] = self.log_sum[l] + libm::log(self.product[l]);
        }
        out
    }
}

/// Accepts one row's pivots and returns 1 / sqrt(pivot) lane-wise, adding log(pivot) to
/// `log_det`. The pivot test is that of [`crate::linalg::cholesky`]: `NonFinite` if a pivot is
/// NaN or infinite (S_p + P_q overflowed), `NotSpd` if one is not above 4 d eps times its
/// diagonal entry.
///
/// Not inlined on purpose: it holds the scalar work of a row (`libm::sqrt`, branches,
/// logarithms), which would otherwise keep LLVM from vectorizing the kernels' loops.
#[inline(never)]
fn accept_pivots(
    pivot: &Lanes,
    diagonal: &Lanes,
    rel_tol: f64,
    log_det: &mut LogDet,
) -> Result<Lanes, Status> {
    let mut non_finite = false;
    let mut not_spd = false;
    for l in 0..LANES {
        // False for a NaN pivot, like the test of `linalg::cholesky`.
        let accepted = pivot[l] > rel_tol * diagonal[l];
        non_finite |= !pivot[l].is_finite();
        not_spd |= !accepted;
    }
    if non_finite {
        return Err(Status::NonFinite);
    }
    if not_spd {
        return Err(Status::NotSpd);
    }
    log_det.push(pivot);
    let mut inv_root = [0.0; LANES];
    for l in 0..LANES {
        inv_root[l] = 1.0 / crate::special::sqrt(pivot[l]);
    }
    Ok(inv_root)
}

/// -1/2 (d log 2 pi + log det + quad), lane-wise.
#[inline(always)]
fn log_gaussian(d: usize, log_det: &Lanes, quad: &Lanes) -> Lanes {
    let constant = d as f64 * LN_2PI;
    let mut out = [0.0; LANES];
    for l in 0..LANES {
        out[l] = -0.5 * ((constant + log_det[l]) + quad[l]);
    }
    out
}

/// Where a batch's LANES matrices M = S_x + S_y and mean differences delta = mu_x - mu_y come
/// from. Both sources perform the same additions and subtractions on the same operands, so a
/// product integral comes out bitwise the same whichever source a batch uses.
trait BatchSource {
    /// Entry (a, b), b <= a, of the LANES matrices, at packed index `idx`; `held` is what the
    /// kernel's input array holds there (the value itself for [`Filled`]).
    fn entry(&self, held: &Lanes, a: usize, b: usize, idx: usize) -> Lanes;
    /// delta_a of the LANES problems; `held` is what `z[a]` holds on entry.
    fn delta(&self, held: &Lanes, a: usize) -> Lanes;
}

/// The matrices and deltas were written into the kernel's arrays beforehand
/// ([`fill_matrices`]).
struct Filled;

impl BatchSource for Filled {
    #[inline(always)]
    fn entry(&self, held: &Lanes, _a: usize, _b: usize, _idx: usize) -> Lanes {
        *held
    }
    #[inline(always)]
    fn delta(&self, held: &Lanes, _a: usize) -> Lanes {
        *held
    }
}

/// One component x (`base_cov`, `base_mean`) against a panel of LANES components y, stored
/// interleaved once and reused for every x: M = S_x + S_y and delta = mu_x - mu_y are formed as
/// the kernel reads them. `base_cov` and `covs` hold packed lower triangles (full covariances)
/// or variances (diagonal ones), entry `idx` of x against lanes `covs[idx]`.
struct Panel<'a> {
    base_cov: &'a [f64],
    base_mean: &'a [f64],
    covs: &'a [Lanes],
    means: &'a [Lanes],
}

impl BatchSource for Panel<'_> {
    #[inline(always)]
    fn entry(&self, _held: &Lanes, _a: usize, _b: usize, idx: usize) -> Lanes {
        let (u, v) = (self.base_cov[idx], &self.covs[idx]);
        let mut m = [0.0; LANES];
        for l in 0..LANES {
            m[l] = u + v[l];
        }
        m
    }
    #[inline(always)]
    fn delta(&self, _held: &Lanes, a: usize) -> Lanes {
        let (u, v) = (self.base_mean[a], &self.means[a]);
        let mut delta = [0.0; LANES];
        for l in 0..LANES {
            delta[l] = u - v[l];
        }
        delta
    }
}

/// Full kernel. Factors the LANES matrices of `src` into `mat` (LANES interleaved packed lower
/// triangles: entry (a, b), b <= a, of lane l at `mat[a (a + 1) / 2 + b][l]`; each diagonal
/// slot receives 1 / L_aa) by Cholesky-Banachiewicz, solves L z = delta into `z` (entry a of
/// lane l at `z[a][l]`), and returns the lane-wise log phi. With [`Filled`], `mat` and `z`
/// hold the inputs on entry.
///
/// Rows are factored two at a time and their entries two columns at a time: the 2 x 2 block
/// (a, a + 1) x (b, b + 1) needs rows b and b + 1, and loading the four rows once for four dot
/// products halves the loads per multiply-add. The result is bitwise that of the textbook
/// row-by-row algorithm (a test checks it against `tests::full_kernel_row_by_row`).
#[inline(always)]
fn full_kernel_portable<S: BatchSource>(
    src: &S,
    mat: &mut [Lanes],
    z: &mut [Lanes],
    d: usize,
) -> Result<Lanes, Status> {
    let rel_tol = 4.0 * d as f64 * f64::EPSILON;
    let mut log_det = LogDet::new();
    let mut quad = [0.0; LANES];
    let mut a = 0;
    while a + 1 < d {
        // Rows a and a + 1 are adjacent in the packed triangle.
        let (ta, ta1) = (a * (a + 1) / 2, (a + 1) * (a + 2) / 2);
        let (done, rest) = mat.split_at_mut(ta);
        let (row_a, rest) = rest.split_at_mut(a + 1);
        let row_a1 = &mut rest[..a + 2];
        let mut b = 0;
        while b + 1 < a {
            // Rows b and b + 1 are adjacent too: b + 1 entries, then b + 2.
            let start_b = b * (b + 1) / 2;
            let (row_b, rest_b) = done[start_b..start_b + 2 * b + 3].split_at(b + 1);
            let [s0, s1, t0, t1] = lane_dot2x2(row_a, row_a1, &row_b[..b], rest_b);
            let (inv_b, inv_b1, below_b) = (&row_b[b], &rest_b[b + 1], &rest_b[b]);
            let m0 = src.entry(&row_a[b], a, b, ta + b);
            let m1 = src.entry(&row_a1[b], a + 1, b, ta1 + b);
            let n0 = src.entry(&row_a[b + 1], a, b + 1, ta + b + 1);
            let n1 = src.entry(&row_a1[b + 1], a + 1, b + 1, ta1 + b + 1);
            for l in 0..LANES {
                // Column b, then column b + 1 with its last term c = b (sums stay in c order).
                let e0 = (m0[l] - s0[l]) * inv_b[l];
                let e1 = (m1[l] - s1[l]) * inv_b[l];
                row_a[b][l] = e0;
                row_a1[b][l] = e1;
                let u0 = t0[l] + e0 * below_b[l];
                let u1 = t1[l] + e1 * below_b[l];
                row_a[b + 1][l] = (n0[l] - u0) * inv_b1[l];
                row_a1[b + 1][l] = (n1[l] - u1) * inv_b1[l];
            }
            b += 2;
        }
        if b < a {
            let start_b = b * (b + 1) / 2;
            let (prefix_b, inv_diag_b) = done[start_b..start_b + b + 1].split_at(b);
            let (s0, s1) = lane_dot2(row_a, row_a1, prefix_b);
            let inv = &inv_diag_b[0];
            let m0 = src.entry(&row_a[b], a, b, ta + b);
            let m1 = src.entry(&row_a1[b], a + 1, b, ta1 + b);
            for l in 0..LANES {
                row_a[b][l] = (m0[l] - s0[l]) * inv[l];
                row_a1[b][l] = (m1[l] - s1[l]) * inv[l];
            }
        }
        // Row a's diagonal, and entry (a + 1, a), which needs it.
        let (prefix_a, diag_a) = row_a.split_at_mut(a);
        let (s_diag, s_below) = lane_dot2(prefix_a, row_a1, prefix_a);
        let (z_done, z_rest) = z.split_at_mut(a);
        let sz = lane_dot(prefix_a, z_done);
        let m = src.entry(&diag_a[0], a, a, ta + a);
        let delta = src.delta(&z_rest[0], a);
        let row = RowEnd {
            m_diag: &m,
            s: &s_diag,
            delta: &delta,
            sz: &sz,
        };
        let inv_a = row.finish(
            &mut diag_a[0],
            &mut z_rest[0],
            rel_tol,
            &mut log_det,
            &mut quad,
        )?;
        let m = src.entry(&row_a1[a], a + 1, a, ta1 + a);
        for l in 0..LANES {
            row_a1[a][l] = (m[l] - s_below[l]) * inv_a[l];
        }
        // Row a + 1's diagonal.
        let (prefix_a1, diag_a1) = row_a1.split_at_mut(a + 1);
        let s = lane_dot(prefix_a1, prefix_a1);
        let (z_done, z_rest) = z.split_at_mut(a + 1);
        let sz = lane_dot(prefix_a1, z_done);
        let m = src.entry(&diag_a1[0], a + 1, a + 1, ta1 + a + 1);
        let delta = src.delta(&z_rest[0], a + 1);
        let row = RowEnd {
            m_diag: &m,
            s: &s,
            delta: &delta,
            sz: &sz,
        };
        row.finish(
            &mut diag_a1[0],
            &mut z_rest[0],
            rel_tol,
            &mut log_det,
            &mut quad,
        )?;
        a += 2;
    }
    if a < d {
        // The last row of an odd dimension.
        let ta = a * (a + 1) / 2;
        let (done, rest) = mat.split_at_mut(ta);
        let row_a = &mut rest[..a + 1];
        for b in 0..a {
            let start_b = b * (b + 1) / 2;
            let (prefix_b, inv_diag_b) = done[start_b..start_b + b + 1].split_at(b);
            let s = lane_dot(row_a, prefix_b);
            let m = src.entry(&row_a[b], a, b, ta + b);
            let inv = &inv_diag_b[0];
            for l in 0..LANES {
                row_a[b][l] = (m[l] - s[l]) * inv[l];
            }
        }
        let (prefix_a, diag_a) = row_a.split_at_mut(a);
        let s = lane_dot(prefix_a, prefix_a);
        let (z_done, z_rest) = z.split_at_mut(a);
        let sz = lane_dot(prefix_a, z_done);
        let m = src.entry(&diag_a[0], a, a, ta + a);
        let delta = src.delta(&z_rest[0], a);
        let row = RowEnd {
            m_diag: &m,
            s: &s,
            delta: &delta,
            sz: &sz,
        };
        row.finish(
            &mut diag_a[0],
            &mut z_rest[0],
            rel_tol,
            &mut log_det,
            &mut quad,
        )?;
    }
    Ok(log_gaussian(d, &log_det.finish(), &quad))
}

/// What the end of row a needs: M_aa, s = sum_c L_ac^2, delta_a and sz = sum_c L_ac z_c.
struct RowEnd<'r> {
    m_diag: &'r Lanes,
    s: &'r Lanes,
    delta: &'r Lanes,
    sz: &'r Lanes,
}

impl RowEnd<'_> {
    /// pivot = M_aa - s, checked and accepted; `diag` receives 1 / L_aa; `z_a` receives
    /// (delta_a - sz) / L_aa; quad += z_a^2. Returns 1 / L_aa.
    #[inline(always)]
    fn finish(
        &self,
        diag: &mut Lanes,
        z_a: &mut Lanes,
        rel_tol: f64,
        log_det: &mut LogDet,
        quad: &mut Lanes,
    ) -> Result<Lanes, Status> {
        let mut pivot = [0.0; LANES];
        for l in 0..LANES {
            pivot[l] = self.m_diag[l] - self.s[l];
        }
        let inv_root = accept_pivots(&pivot, self.m_diag, rel_tol, log_det)?;
        for l in 0..LANES {
            diag[l] = inv_root[l];
            let za = (self.delta[l] - self.sz[l]) * inv_root[l];
            z_a[l] = za;
            quad[l] += za * za;
        }
        Ok(inv_root)
    }
}

/// Diagonal kernel: the LANES summed variances come from `src` (with [`Filled`], `var` holds
/// them, entry a of lane l at `var[a][l]`; `var` must have d entries either way), the deltas
/// too; `z` receives z = delta / sqrt(var). The same operations as [`full_kernel_portable`] on
/// a diagonal matrix (whose dot products are all +0.0), so both storages agree bit for bit.
#[inline(always)]
fn diag_kernel_portable<S: BatchSource>(
    src: &S,
    var: &[Lanes],
    z: &mut [Lanes],
    d: usize,
) -> Result<Lanes, Status> {
    let rel_tol = 4.0 * d as f64 * f64::EPSILON;
    let mut log_det = LogDet::new();
    let mut quad = [0.0; LANES];
    let zero = [0.0; LANES];
    for (a, (held, z_a)) in var.iter().zip(z.iter_mut()).take(d).enumerate() {
        let m = src.entry(held, a, a, a);
        let delta = src.delta(z_a, a);
        let row = RowEnd {
            m_diag: &m,
            s: &zero,
            delta: &delta,
            sz: &zero,
        };
        let mut slot = [0.0; LANES];
        row.finish(&mut slot, z_a, rel_tol, &mut log_det, &mut quad)?;
    }
    Ok(log_gaussian(d, &log_det.finish(), &quad))
}

/// [`full_kernel_portable`], compiled for AVX2 when the CPU has it (same results bit for bit).
fn full_kernel<S: BatchSource>(
    src: &S,
    mat: &mut [Lanes],
    z: &mut [Lanes],
    d: usize,
) -> Result<Lanes, Status> {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2() {
        #[target_feature(enable = "avx2")]
        fn avx2<S: BatchSource>(
            src: &S,
            mat: &mut [Lanes],
            z: &mut [Lanes],
            d: usize,
        ) -> Result<Lanes, Status> {
            full_kernel_portable(src, mat, z, d)
        }
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { avx2(src, mat, z, d) };
    }
    full_kernel_portable(src, mat, z, d)
}

/// [`diag_kernel_portable`], compiled for AVX2 when the CPU has it (same results bit for bit).
fn diag_kernel<S: BatchSource>(
    src: &S,
    var: &[Lanes],
    z: &mut [Lanes],
    d: usize,
) -> Result<Lanes, Status> {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2() {
        #[target_feature(enable = "avx2")]
        fn avx2<S: BatchSource>(
            src: &S,
            var: &[Lanes],
            z: &mut [Lanes],
            d: usize,
        ) -> Result<Lanes, Status> {
            diag_kernel_portable(src, var, z, d)
        }
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { avx2(src, var, z, d) };
    }
    diag_kernel_portable(src, var, z, d)
}

/// Writes S_p + P_q for the active lanes l < `sx.len()` (covariances `sx[l]` of kind `kx` and
/// `sy[l]` of kind `ky`) and the identity for the idle lanes into the packed interleaved lower
/// triangles `mat`. Only the lower triangle of a full covariance is read; a diagonal one adds
/// to the diagonal only. Row by row, so each row of `mat` is completed while it is in cache.
fn fill_matrices(
    mat: &mut [Lanes],
    sx: &[&[f64]],
    kx: CovKind,
    sy: &[&[f64]],
    ky: CovKind,
    d: usize,
) {
    let n = sx.len().min(sy.len()).min(LANES);
    for a in 0..d {
        let start = a * (a + 1) / 2;
        let row = &mut mat[start..start + a + 1];
        let lower = a * d..a * d + a + 1;
        for l in 0..LANES {
            if l >= n {
                for dst in row.iter_mut() {
                    dst[l] = 0.0;
                }
                row[a][l] = 1.0;
                continue;
            }
            let (sx, sy) = (sx[l], sy[l]);
            match (kx, ky) {
                (CovKind::Full, CovKind::Full) => {
                    let (rx, ry) = (&sx[lower.clone()], &sy[lower.clone()]);
                    for ((dst, u), v) in row.iter_mut().zip(rx).zip(ry) {
                        dst[l] = u + v;
                    }
                }
                (CovKind::Full, CovKind::Diag) => {
                    let rx = &sx[lower.clone()];
                    for (dst, u) in row.iter_mut().zip(rx) {
                        dst[l] = *u;
                    }
                    row[a][l] = rx[a] + sy[a];
                }
                (CovKind::Diag, CovKind::Full) => {
                    let ry = &sy[lower.clone()];
                    for (dst, v) in row.iter_mut().zip(ry) {
                        dst[l] = *v;
                    }
                    row[a][l] = sx[a] + ry[a];
                }
                (CovKind::Diag, CovKind::Diag) => {
                    for dst in row.iter_mut() {
                        dst[l] = 0.0;
                    }
                    row[a][l] = sx[a] + sy[a];
                }
            }
        }
    }
}

/// log phi(mu_p; nu_q, S_p + P_q) for the pairs (xs[l], ys[l]), l < xs.len() <= LANES
/// (entries past that are unspecified). `work` holds at least
/// `batch_work_len(d, either kind full)` doubles.
fn log_products<X: Components, Y: Components>(
    x: &X,
    xs: &[usize],
    y: &Y,
    ys: &[usize],
    d: usize,
    work: &mut [f64],
) -> Result<Lanes, Status> {
    let n = xs.len().min(ys.len()).min(LANES);
    let (kx, ky) = (x.kind(), y.kind());
    if kx == CovKind::Diag && ky == CovKind::Diag {
        let (var, rest) = work.split_at_mut(d * LANES);
        let (var, z) = (as_lanes_mut(var, d), as_lanes_mut(rest, d));
        for l in 0..LANES {
            if l < n {
                let (mx, my) = (x.mean(xs[l]), y.mean(ys[l]));
                let (sx, sy) = (x.cov(xs[l]), y.cov(ys[l]));
                for a in 0..d {
                    var[a][l] = sx[a] + sy[a];
                    z[a][l] = mx[a] - my[a];
                }
            } else {
                // An idle lane: the standard normal at 0, which factors without trouble.
                for a in 0..d {
                    var[a][l] = 1.0;
                    z[a][l] = 0.0;
                }
            }
        }
        diag_kernel(&Filled, var, z, d)
    } else {
        let tri = d * (d + 1) / 2;
        let (mat, rest) = work.split_at_mut(tri * LANES);
        let (mat, z) = (as_lanes_mut(mat, tri), as_lanes_mut(rest, d));
        let empty: &[f64] = &[];
        let (mut sx, mut sy) = ([empty; LANES], [empty; LANES]);
        for l in 0..LANES {
            if l < n {
                let (mx, my) = (x.mean(xs[l]), y.mean(ys[l]));
                for a in 0..d {
                    z[a][l] = mx[a] - my[a];
                }
                (sx[l], sy[l]) = (x.cov(xs[l]), y.cov(ys[l]));
            } else {
                // An idle lane: the standard normal at 0, which factors without trouble.
                for a in 0..d {
                    z[a][l] = 0.0;
                }
            }
        }
        fill_matrices(mat, &sx[..n], kx, &sy[..n], ky, d);
        full_kernel(&Filled, mat, z, d)
    }
}

// ---------------------------------------------------------------------------------------------
// Streams of pairs and their weighted sums
// ---------------------------------------------------------------------------------------------

/// The term w_x w_y phi of one product integral given as log phi, in the one order every sum
/// uses.
#[inline(always)]
fn pair_term(w_x: f64, w_y: f64, log_phi: f64) -> f64 {
    (w_x * w_y) * libm::exp(log_phi)
}

/// What happens to a pair's term w_p w_q phi_pq when its batch is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// `total += term`.
    Add,
    /// `total += 2 term` (an off-diagonal entry of a self term).
    Double,
    /// Kept until the next pair, its mirror entry: `pending = term`.
    First,
    /// `total += pending + term`.
    Second,
}

/// One sum of weighted product integrals over pairs (p of X, q of Y), evaluated LANES pairs at
/// a time by the batched kernel. Terms are added in the order the pairs were pushed, whatever
/// the batching.
struct PairSum<'s, X, Y> {
    x: &'s X,
    y: &'s Y,
    d: usize,
    work: &'s mut [f64],
    xs: [usize; LANES],
    ys: [usize; LANES],
    role: [Role; LANES],
    queued: usize,
    pending: f64,
    total: f64,
}

impl<'s, X: Components, Y: Components> PairSum<'s, X, Y> {
    fn new(x: &'s X, y: &'s Y, d: usize, work: &'s mut [f64]) -> Self {
        PairSum {
            x,
            y,
            d,
            work,
            xs: [0; LANES],
            ys: [0; LANES],
            role: [Role::Add; LANES],
            queued: 0,
            pending: 0.0,
            total: 0.0,
        }
    }

    fn push(&mut self, p: usize, q: usize, role: Role) -> Result<(), Status> {
        let i = self.queued;
        self.xs[i] = p;
        self.ys[i] = q;
        self.role[i] = role;
        self.queued += 1;
        if self.queued == LANES {
            self.flush()
        } else {
            Ok(())
        }
    }

    fn flush(&mut self) -> Result<(), Status> {
        let n = self.queued;
        if n == 0 {
            return Ok(());
        }
        self.queued = 0;
        let (xs, ys) = (&self.xs[..n], &self.ys[..n]);
        let log_phi = log_products(self.x, xs, self.y, ys, self.d, self.work)?;
        for l in 0..n {
            let (w_x, w_y) = (self.x.weight(xs[l]), self.y.weight(ys[l]));
            let term = pair_term(w_x, w_y, log_phi[l]);
            match self.role[l] {
                Role::Add => self.total += term,
                Role::Double => self.total += 2.0 * term,
                Role::First => self.pending = term,
                Role::Second => self.total += self.pending + term,
            }
        }
        Ok(())
    }

    /// The sum over every pushed pair.
    fn finish(mut self) -> Result<f64, Status> {
        self.flush()?;
        Ok(self.total)
    }

    /// The self term sum_{i, j} w_i w_j phi_ij of X's first K components (X = Y), as
    /// sum_i [w_i^2 phi_ii + sum_{j > i} 2 w_i w_j phi_ij].
    fn push_self(&mut self, k: usize) -> Result<(), Status> {
        for i in 0..k {
            self.push(i, i, Role::Add)?;
            for j in i + 1..k {
                self.push(i, j, Role::Double)?;
            }
        }
        Ok(())
    }

    /// The cross term sum_{i < kx, j < ky} a_i b_j phi(X_i, Y_j), in the order of
    /// [`Self::push_self`]: entry (i, j) then its mirror (j, i), added together. With X = Y this
    /// reproduces the self term bit for bit, and swapping X and Y gives the same sum bit for
    /// bit.
    fn push_cross(&mut self, kx: usize, ky: usize) -> Result<(), Status> {
        let n = kx.max(ky);
        for i in 0..n {
            for j in i..n {
                let forward = i < kx && j < ky;
                let mirror = j != i && j < kx && i < ky;
                match (forward, mirror) {
                    (true, true) => {
                        self.push(i, j, Role::First)?;
                        self.push(j, i, Role::Second)?;
                    }
                    (true, false) => self.push(i, j, Role::Add)?,
                    (false, true) => self.push(j, i, Role::Add)?,
                    (false, false) => {}
                }
            }
        }
        Ok(())
    }
}

/// sum_{i,j} w_i w_j phi(mu_i; mu_j, S_i + S_j) of one mixture.
fn self_term(f: &Mixture, work: &mut [f64]) -> Result<f64, Status> {
    let mut sum = PairSum::new(f, f, f.dim(), work);
    sum.push_self(f.n_components())?;
    sum.finish()
}

/// sum_{i,j} a_i b_j phi(mu_i; nu_j, S_i + P_j).
fn cross_term(f: &Mixture, g: &Mixture, work: &mut [f64]) -> Result<f64, Status> {
    let mut sum = PairSum::new(f, g, f.dim(), work);
    sum.push_cross(f.n_components(), g.n_components())?;
    sum.finish()
}

// ---------------------------------------------------------------------------------------------
// L2 distance
// ---------------------------------------------------------------------------------------------

/// The squared L2 distance |F - G|^2 = int (f - g)^2 between two Gaussian mixtures, in closed
/// form (see the [module docs](self)); the covariances may be full, diagonal, or one of each.
///
/// The value is returned as computed: for nearly equal mixtures cancellation can make it
/// slightly negative (a few ulps of the self terms). It is exactly `0.0` when F and G are
/// the same buffers or bitwise-equal ones.
///
/// `work` holds at least [`l2_distance_sq_work_len`]`(d, f.cov_kind(), g.cov_kind())` doubles
/// (scratch, never read before written).
///
/// Errors: `BadParameter` (F and G differ in dimension), `BufferTooShort` (work), `NotSpd` (a
/// covariance that is not positive definite, found when S_i + S_i fails to factor),
/// `NonFinite` (a sum of covariances or the result overflows).
pub fn l2_distance_sq(f: &Mixture, g: &Mixture, work: &mut [f64]) -> Result<f64, Status> {
    if f.dim() != g.dim() {
        return Err(Status::BadParameter);
    }
    ensure_len(
        work.len(),
        l2_distance_sq_work_len(f.dim(), f.cov_kind(), g.cov_kind())?,
    )?;
    let self_f = self_term(f, work)?;
    let cross = cross_term(f, g, work)?;
    let self_g = self_term(g, work)?;
    let sq = combine(self_f, cross, self_g);
    if sq.is_finite() {
        Ok(sq)
    } else {
        Err(Status::NonFinite)
    }
}

/// a^T A a - 2 a^T C b + b^T B b, in the one order every function uses: (A + B) - 2 C, which
/// is symmetric in F and G bit for bit, and exactly 0 when A = B = C.
#[inline]
fn combine(self_f: f64, cross: f64, self_g: f64) -> f64 {
    (self_f + self_g) - 2.0 * cross
}

/// The L2 distance |F - G| = sqrt(max(0, [`l2_distance_sq`])): a squared distance that
/// cancellation left slightly negative gives 0. Same workspace and errors as
/// [`l2_distance_sq`].
pub fn l2_distance(f: &Mixture, g: &Mixture, work: &mut [f64]) -> Result<f64, Status> {
    l2_distance_sq(f, g, work).map(sqrt_clamped)
}

/// sqrt(max(0, x)).
#[inline]
fn sqrt_clamped(x: f64) -> f64 {
    crate::special::sqrt(if x > 0.0 { x } else { 0.0 })
}

/// All pairwise L2 distances D_ab = |G_a - G_b| of m mixtures with the same (K, d, kind).
///
/// Inputs: the m mixtures concatenated, `weights[m*K]`, `means[m*K*d]`, `covs[m*K*d*d]` (full)
/// or `covs[m*K*d]` (diagonal). Output: `out[m*m]`, row-major, symmetric, zero diagonal; it is
/// written only on success (and only after everything was computed). Each mixture's self term
/// is computed once and each cross term once, so every product integral is evaluated exactly
/// once; the entries are bitwise those of [`l2_distance`] on the same pair (in either order),
/// and D_ab is exactly 0 when mixtures a and b are bitwise equal.
///
/// How: the N = m K components are taken LANES at a time as a "panel" (their covariances and
/// means interleaved once), and every component p up to the panel's last one is paired with
/// the whole panel in one batch, so nothing is transposed per pair. The log integrals of the
/// recent columns are kept until a mixture's columns are complete, then its blocks are summed
/// in the order [`l2_distance`] uses.
///
/// `work` holds at least [`l2_pairwise_work_len`]`(m, K, d, kind)` doubles (scratch, never read
/// before written).
///
/// Errors: `ZeroSize` (m, K or d is 0), `SizeOverflow`, `BufferTooShort` (an input shorter than
/// its formula, `out`, or `work`), any status of [`Mixture::new`] for an invalid mixture
/// (`NonFinite`, `Weights`, `NotSpd`), `NotSpd` (a covariance that is not positive definite),
/// `NonFinite` (an overflowing sum of covariances or a non-finite distance).
#[allow(clippy::too_many_arguments)]
pub fn l2_pairwise(
    weights: &[f64],
    means: &[f64],
    covs: &[f64],
    m: usize,
    k: usize,
    d: usize,
    kind: CovKind,
    out: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let layout = PairwiseLayout::new(m, k, d, kind)?;
    let work_len = layout.total()?;
    let n = checked_mul(m, k)?;
    let cov_len = kind.cov_len(d)?;
    let mk_d = checked_mul(n, d)?;
    let mk_cov = checked_mul(n, cov_len)?;
    let mm = checked_mul(m, m)?;
    ensure_len(weights.len(), n)?;
    ensure_len(means.len(), mk_d)?;
    ensure_len(covs.len(), mk_cov)?;
    ensure_len(out.len(), mm)?;
    ensure_len(work.len(), work_len)?;
    let (k_d, k_cov) = (k * d, k * cov_len);
    for a in 0..m {
        Mixture::new(
            &weights[a * k..(a + 1) * k],
            &means[a * k_d..(a + 1) * k_d],
            &covs[a * k_cov..(a + 1) * k_cov],
            k,
            d,
            kind,
        )?;
    }
    let stack = Stack {
        weights: &weights[..n],
        means: &means[..mk_d],
        covs: &covs[..mk_cov],
        d,
        cov_len,
        kind,
    };
    let (acc, rest) = work.split_at_mut(layout.acc);
    let (columns, rest) = rest.split_at_mut(layout.columns);
    let (panel_covs, rest) = rest.split_at_mut(layout.panel_covs);
    let (panel_means, rest) = rest.split_at_mut(layout.panel_means);
    let (factors, rest) = rest.split_at_mut(layout.factors);
    let (solutions, rest) = rest.split_at_mut(layout.solutions);
    let base = &mut rest[..layout.base];
    let panel_covs = as_lanes_mut(panel_covs, layout.panel_covs / LANES);
    let panel_means = as_lanes_mut(panel_means, d);
    let factors = as_lanes_mut(factors, layout.factors / LANES);
    let solutions = as_lanes_mut(solutions, d);
    acc.fill(0.0);
    let ring = k + LANES;
    let mut summed = 0;
    for first in (0..n).step_by(LANES) {
        fill_panel(&stack, first, panel_covs, panel_means);
        // Every component p up to the panel's last one, against the whole panel.
        let rows = (first + LANES).min(n);
        for p in 0..rows {
            let log_phi = match kind {
                CovKind::Full => {
                    // S_p's lower triangle, packed: one streaming read instead of scattered
                    // ones from deep in the cache hierarchy while the kernel runs.
                    let cov = stack.cov(p);
                    for a in 0..d {
                        let start = a * (a + 1) / 2;
                        base[start..start + a + 1].copy_from_slice(&cov[a * d..a * d + a + 1]);
                    }
                    let src = Panel {
                        base_cov: base,
                        base_mean: stack.mean(p),
                        covs: panel_covs,
                        means: panel_means,
                    };
                    full_kernel(&src, factors, solutions, d)?
                }
                CovKind::Diag => {
                    let src = Panel {
                        base_cov: stack.cov(p),
                        base_mean: stack.mean(p),
                        covs: panel_covs,
                        means: panel_means,
                    };
                    diag_kernel(&src, panel_covs, solutions, d)?
                }
            };
            for (l, &value) in log_phi.iter().enumerate() {
                let q = first + l;
                if q < n && p <= q {
                    columns[(q % ring) * n + p] = value;
                }
            }
        }
        // Mixtures whose columns are complete: their columns are still in the ring, since at
        // most K + LANES - 1 columns were written since their first one.
        while summed < m && (summed + 1) * k <= rows {
            let log_phi = |p: usize, q: usize| columns[(q % ring) * n + p];
            sum_blocks(&stack, summed, m, k, &log_phi, acc);
            summed += 1;
        }
    }
    // Squared distances into the cross slots; nothing is written to `out` unless all are finite.
    for a in 0..m {
        for b in a + 1..m {
            let sq = combine(
                acc[packed_index(m, a, a)],
                acc[packed_index(m, a, b)],
                acc[packed_index(m, b, b)],
            );
            if !sq.is_finite() {
                return Err(Status::NonFinite);
            }
            acc[packed_index(m, a, b)] = sq;
        }
    }
    let out = &mut out[..mm];
    for a in 0..m {
        out[a * m + a] = 0.0;
        for b in a + 1..m {
            let dist = sqrt_clamped(acc[packed_index(m, a, b)]);
            out[a * m + b] = dist;
            out[b * m + a] = dist;
        }
    }
    Ok(())
}

/// Interleaves components `first..first + LANES` of `stack` into a panel: covariances (packed
/// lower triangles, or variances) and means; lanes past the last component get the standard
/// normal (identity covariance, zero mean), which factors without trouble.
fn fill_panel(stack: &Stack, first: usize, covs: &mut [Lanes], means: &mut [Lanes]) {
    let (d, n) = (stack.d, stack.weights.len());
    for l in 0..LANES {
        let q = first + l;
        if q < n {
            let (cov, mean) = (stack.cov(q), stack.mean(q));
            match stack.kind {
                CovKind::Full => {
                    for a in 0..d {
                        let start = a * (a + 1) / 2;
                        let row = &mut covs[start..start + a + 1];
                        for (dst, v) in row.iter_mut().zip(&cov[a * d..a * d + a + 1]) {
                            dst[l] = *v;
                        }
                    }
                }
                CovKind::Diag => {
                    for (dst, v) in covs.iter_mut().zip(cov) {
                        dst[l] = *v;
                    }
                }
            }
            for (dst, v) in means.iter_mut().zip(mean) {
                dst[l] = *v;
            }
        } else {
            match stack.kind {
                CovKind::Full => {
                    for a in 0..d {
                        let start = a * (a + 1) / 2;
                        let row = &mut covs[start..start + a + 1];
                        for dst in row.iter_mut() {
                            dst[l] = 0.0;
                        }
                        row[a][l] = 1.0;
                    }
                }
                CovKind::Diag => {
                    for dst in covs.iter_mut() {
                        dst[l] = 1.0;
                    }
                }
            }
            for dst in means.iter_mut() {
                dst[l] = 0.0;
            }
        }
    }
}

/// Adds mixture b's self term and its cross terms with every mixture a < b to `acc`, from the
/// log integrals `log_phi(p, q)` (p <= q, global component indices), in exactly the order and
/// with exactly the operations of [`PairSum::push_self`] and [`PairSum::push_cross`].
fn sum_blocks(
    stack: &Stack,
    b: usize,
    m: usize,
    k: usize,
    log_phi: &impl Fn(usize, usize) -> f64,
    acc: &mut [f64],
) {
    let w = stack.weights;
    let (gb, target) = (b * k, packed_index(m, b, b));
    for i in 0..k {
        for j in i..k {
            let term = pair_term(w[gb + i], w[gb + j], log_phi(gb + i, gb + j));
            acc[target] += if i == j { term } else { 2.0 * term };
        }
    }
    for a in 0..b {
        let (ga, target) = (a * k, packed_index(m, a, b));
        for i in 0..k {
            for j in i..k {
                let forward = pair_term(w[ga + i], w[gb + j], log_phi(ga + i, gb + j));
                if i == j {
                    acc[target] += forward;
                } else {
                    let mirror = pair_term(w[ga + j], w[gb + i], log_phi(ga + j, gb + i));
                    acc[target] += forward + mirror;
                }
            }
        }
    }
}

/// Index of (a, b), a <= b < m, in a packed upper triangle stored row by row.
#[inline]
fn packed_index(m: usize, a: usize, b: usize) -> usize {
    a * m - a * (a + 1) / 2 + b
}

// ---------------------------------------------------------------------------------------------
// KL between Gaussians
// ---------------------------------------------------------------------------------------------

/// KL(N0 || N1) = 1/2 [tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - d + ln|S1| - ln|S0|]
/// for N0 = N(mean0, cov0), N1 = N(mean1, cov1) in dimension d, both stored as `kind` (full:
/// d*d row-major, symmetric; diagonal: d variances).
///
/// Computed as 1/2 [sum_{a != b} X_ab^2 + sum_a (X_aa^2 - 1 - 2 ln X_aa) + |z|^2] with
/// X = L1^-1 L0, z = L1^-1 (m1 - m0) and L0, L1 the Cholesky factors: every term is
/// non-negative, so no large log-determinants cancel. Rounding can still leave a value a few
/// ulps below 0; the result is clamped at 0. Identical Gaussians give exactly 0, and full
/// storage of diagonal covariances gives bitwise the diagonal result.
///
/// `work` holds at least [`kl_gaussian_work_len`]`(d, kind)` doubles (scratch).
///
/// Errors: `ZeroSize` (d = 0), `SizeOverflow`, `BufferTooShort` (an input or `work`),
/// `NonFinite` (NaN or infinity in an input, or an overflowing result), `NotSpd` (a
/// covariance that is asymmetric, has a non-positive diagonal entry, or fails to factor).
pub fn kl_gaussian(
    mean0: &[f64],
    cov0: &[f64],
    mean1: &[f64],
    cov1: &[f64],
    d: usize,
    kind: CovKind,
    work: &mut [f64],
) -> Result<f64, Status> {
    let work_len = kl_gaussian_work_len(d, kind)?;
    // A one-component mixture with weight 1 checks lengths, finiteness, symmetry, diagonal.
    Mixture::new(&[1.0], mean0, cov0, 1, d, kind)?;
    Mixture::new(&[1.0], mean1, cov1, 1, d, kind)?;
    ensure_len(work.len(), work_len)?;
    let (mean0, mean1) = (&mean0[..d], &mean1[..d]);
    let c = kind.cov_len(d)?;
    let (l1, rest) = work.split_at_mut(c);
    let (l0, scratch) = rest.split_at_mut(c);
    for (l, cov) in [(&mut *l1, cov1), (&mut *l0, cov0)] {
        match kind {
            CovKind::Full => {
                l.copy_from_slice(&cov[..c]);
                cholesky(l, d)?;
            }
            CovKind::Diag => {
                for (f, &v) in l.iter_mut().zip(cov) {
                    *f = crate::special::sqrt(v);
                }
            }
        }
    }
    let kl = kl_from_factors(mean0, l0, mean1, l1, d, kind, scratch);
    if kl.is_finite() {
        Ok(kl)
    } else {
        Err(Status::NonFinite)
    }
}

/// The lanes of the blocked triangular solve in [`kl_off`]: X is stored with its row stride
/// rounded up to a multiple of this.
const SOLVE_LANES: usize = 4;

/// The row stride p of X in [`kl_off`]: d rounded up to a multiple of [`SOLVE_LANES`].
pub(crate) fn x_stride(d: usize) -> Result<usize, Status> {
    checked_mul(d.div_ceil(SOLVE_LANES), SOLVE_LANES)
}

/// Scratch length (doubles) of [`kl_from_factors`]: d p + d (full, p = [`x_stride`]`(d)`: X,
/// then z), d (diagonal: z).
pub(crate) fn kl_scratch_len(d: usize, kind: CovKind) -> Result<usize, Status> {
    match kind {
        CovKind::Full => checked_add(checked_mul(d, x_stride(d)?)?, d),
        CovKind::Diag => Ok(d),
    }
}

/// KL(N0 || N1) from the factors of the covariances, the formula [`kl_gaussian`] and the MM
/// reduction share: 1/2 [(off + diag) + z.z] with X = L1^-1 L0, z = L1^-1 (mu1 - mu0),
/// off = sum_{a > b} X_ab^2 ([`kl_off`]), diag = sum_a (X_aa^2 - 1 - 2 ln X_aa) ([`kl_diag`]) and
/// z.z ([`kl_zz`]): a sum of non-negative terms (no log-determinants cancel), clamped at 0 (NaN
/// is kept for the caller to report; [`kl_combine`]).
///
/// `l0` and `l1` are the factors of S0 and S1 (full: d x d lower Cholesky factors with zero
/// upper triangles, as [`cholesky`] leaves them; diagonal: the d standard deviations), not
/// modified. `scratch` holds at least [`kl_scratch_len`]`(d, kind)` doubles (full: z is in its
/// last d, X before).
pub(crate) fn kl_from_factors(
    mu0: &[f64],
    l0: &[f64],
    mu1: &[f64],
    l1: &[f64],
    d: usize,
    kind: CovKind,
    scratch: &mut [f64],
) -> f64 {
    match kind {
        CovKind::Full => {
            let (x, z) = scratch.split_at_mut(scratch.len() - d);
            let zz = kl_zz(mu0, mu1, l1, d, z);
            kl_combine(kl_off(l0, l1, d, x), kl_diag(l0, l1, d), zz)
        }
        CovKind::Diag => {
            let z = &mut scratch[..d];
            let mut diag = 0.0;
            for (((zi, m1), m0), (&l0a, &l1a)) in z
                .iter_mut()
                .zip(&mu1[..d])
                .zip(&mu0[..d])
                .zip(l0[..d].iter().zip(&l1[..d]))
            {
                *zi = (m1 - m0) / l1a;
                diag += kl_diagonal_term(l0a / l1a);
            }
            kl_combine(0.0, diag, dot(z, z))
        }
    }
}

/// The cost from its parts, as [`kl_from_factors`] adds them: 0.5 ((off + diag) + zz), clamped
/// at 0 (NaN kept). For off >= 0 it is at least 0.5 (diag + zz) as computed (rounding is
/// monotone), which is what the MM reduction's screening uses.
#[inline]
pub(crate) fn kl_combine(off: f64, diag: f64, zz: f64) -> f64 {
    let kl = 0.5 * ((off + diag) + zz);
    if kl > 0.0 || kl.is_nan() {
        kl
    } else {
        0.0
    }
}

/// x^2 - 1 - 2 ln x (>= 0, zero at x = 1), for a diagonal entry x > 0 of L1^-1 L0.
#[inline]
fn kl_diagonal_term(x: f64) -> f64 {
    (x * x - 1.0) - 2.0 * libm::log(x)
}

/// A bound of the rounding error of one term of [`kl_diag`] (whose exact value is >= 0): for
/// x in [1/2, 2] it is at most about 11 eps < 2.5e-15, and outside the terms exceed 0.6.
pub(crate) const KL_DIAG_TERM_ERROR: f64 = 4e-15;

/// The Mahalanobis part of the cost: z.z with z = L1^-1 (mu1 - mu0) computed into `z` (d
/// doubles) by [`crate::linalg::solve_lower`]'s forward substitution, in the instance `D`.
#[inline(always)]
fn kl_zz_portable<const D: usize>(
    mu0: &[f64],
    mu1: &[f64],
    l1: &[f64],
    d: usize,
    z: &mut [f64],
) -> f64 {
    let d = dim::<D>(d);
    let z = &mut z[..d];
    for ((zi, m1), m0) in z.iter_mut().zip(&mu1[..d]).zip(&mu0[..d]) {
        *zi = m1 - m0;
    }
    solve_lower_portable::<D>(l1, d, z);
    dot(z, z)
}

/// The log-determinant part of the cost, sum_a (x_a^2 - 1) - 2 ln x_a with x_a = L0_aa / L1_aa
/// (the diagonal of X = L1^-1 L0), in the instance `D`. Each term is >= 0 in exact arithmetic
/// and computed with an error below [`KL_DIAG_TERM_ERROR`].
#[inline(always)]
fn kl_diag_portable<const D: usize>(l0: &[f64], l1: &[f64], d: usize) -> f64 {
    let d = dim::<D>(d);
    let (l0, l1) = (&l0[..d * d], &l1[..d * d]);
    let mut diag = 0.0;
    for a in 0..d {
        diag += kl_diagonal_term(l0[a * d + a] / l1[a * d + a]);
    }
    diag
}

/// The O(d^3) part of the cost, off = sum_a |X_a,<a|^2 (each row's [`dot`], added in row order)
/// with X = L1^-1 L0 computed into `x` (d p doubles, p = [`x_stride`]`(d)`) by blocks of 4 rows
/// x [`SOLVE_LANES`] columns held in registers ([`solve_block`]), in the instance `D`. Every
/// entry of X receives the operations of the row-by-row forward substitution
/// X_aj = (((L0_aj - L1_aj X_jj) - ...) - L1_a,a-1 X_a-1,j) / L1_aa, in that order, plus
/// additions of zero products (entries of the strict upper triangle, which are +-0): those can
/// only change the sign of a zero, which no later operation sees (zeros are only squared or
/// multiplied).
#[inline(always)]
fn kl_off_portable<const D: usize>(l0: &[f64], l1: &[f64], d: usize, x: &mut [f64]) -> f64 {
    let d = dim::<D>(d);
    let p = d.div_ceil(SOLVE_LANES) * SOLVE_LANES;
    let (l0, l1, x) = (&l0[..d * d], &l1[..d * d], &mut x[..d * p]);
    let mut a0 = 0;
    while a0 < d {
        match d - a0 {
            1 => solve_block::<1>(l0, l1, d, p, a0, x),
            2 => solve_block::<2>(l0, l1, d, p, a0, x),
            3 => solve_block::<3>(l0, l1, d, p, a0, x),
            _ => solve_block::<4>(l0, l1, d, p, a0, x),
        }
        a0 += 4;
    }
    // The rows' dots, 4 rows at a time: their chunks of four all end at a0.
    let mut off = 0.0;
    let mut a0 = 0;
    while a0 + 4 <= d {
        let rows: [&[f64]; 4] = core::array::from_fn(|r| &x[(a0 + r) * p..(a0 + r) * p + a0]);
        let chunks = chunk_sums4(rows, rows);
        for (r, chunk) in chunks.into_iter().enumerate() {
            let row = &x[(a0 + r) * p + a0..(a0 + r) * p + a0 + r];
            let mut tail = 0.0;
            for v in row {
                tail += v * v;
            }
            off += chunk + tail;
        }
        a0 += 4;
    }
    for a in a0..d {
        let row = &x[a * p..a * p + a];
        off += dot(row, row);
    }
    off
}

/// Rows a0 .. a0 + R of X = L1^-1 L0 (row stride p, columns 0 .. a0 + [`SOLVE_LANES`], the
/// entries right of the diagonal being +-0), given rows 0 .. a0 (see [`kl_off_portable`]).
/// `l0` and `l1` are d x d lower triangular (zero upper triangles, as [`cholesky`] leaves
/// them); a0 is a multiple of [`SOLVE_LANES`].
///
/// First the products with the rows 0 .. a0 already done (c < a0), by blocks of R rows x
/// [`SOLVE_LANES`] columns held in registers; then the triangle of the block, one row after the
/// other, each over the whole width (c = a0 .. a - 1, then the division by L1_aa).
#[inline(always)]
fn solve_block<const R: usize>(
    l0: &[f64],
    l1: &[f64],
    d: usize,
    p: usize,
    a0: usize,
    x: &mut [f64],
) {
    let (done, rows) = x.split_at_mut(a0 * p);
    let rows = &mut rows[..R * p];
    let width = a0 + SOLVE_LANES;
    let l1_rows: [&[f64]; R] = core::array::from_fn(|r| &l1[(a0 + r) * d..(a0 + r + 1) * d]);
    let mut j0 = 0;
    while j0 < a0 {
        let mut acc = [[0.0; SOLVE_LANES]; R];
        for (r, acc_r) in acc.iter_mut().enumerate() {
            acc_r.copy_from_slice(&l0[(a0 + r) * d + j0..(a0 + r) * d + j0 + SOLVE_LANES]);
        }
        for (c, x_row) in done[j0 * p..].chunks_exact(p).enumerate() {
            let c = j0 + c;
            let xc: &[f64; SOLVE_LANES] = x_row[j0..j0 + SOLVE_LANES].try_into().unwrap();
            for (acc_r, l1_row) in acc.iter_mut().zip(&l1_rows) {
                let m = -l1_row[c];
                for (v, xv) in acc_r.iter_mut().zip(xc) {
                    *v += m * xv;
                }
            }
        }
        for (acc_r, row) in acc.iter().zip(rows.chunks_exact_mut(p)) {
            row[j0..j0 + SOLVE_LANES].copy_from_slice(acc_r);
        }
        j0 += SOLVE_LANES;
    }
    for (r, row) in rows.chunks_exact_mut(p).enumerate() {
        let l0_row = &l0[(a0 + r) * d..(a0 + r + 1) * d];
        for (lane, v) in row[a0..a0 + SOLVE_LANES].iter_mut().enumerate() {
            *v = l0_row.get(a0 + lane).copied().unwrap_or(0.0);
        }
    }
    for r in 0..R {
        let (before, from_r) = rows.split_at_mut(r * p);
        let row_r = &mut from_r[..width];
        for (r2, row_r2) in before.chunks_exact(p).enumerate() {
            let m = -l1_rows[r][a0 + r2];
            for (v, xv) in row_r.iter_mut().zip(&row_r2[..width]) {
                *v += m * xv;
            }
        }
        let diag = l1_rows[r][a0 + r];
        for v in row_r.iter_mut() {
            *v /= diag;
        }
    }
}

with_avx2! {
    /// [`kl_zz_portable`], for the best instruction set the CPU has.
    fn kl_zz_dispatched = kl_zz_portable(
        mu0: &[f64], mu1: &[f64], l1: &[f64], d: usize, z: &mut [f64],
    ) -> f64
}

with_avx2! {
    /// [`kl_off_portable`], for the best instruction set the CPU has.
    fn kl_off_dispatched = kl_off_portable(l0: &[f64], l1: &[f64], d: usize, x: &mut [f64]) -> f64
}

/// [`kl_zz_portable`] for the instance of d: z.z with z = L1^-1 (mu1 - mu0) computed into `z`
/// (d doubles), for full covariances.
pub(crate) fn kl_zz(mu0: &[f64], mu1: &[f64], l1: &[f64], d: usize, z: &mut [f64]) -> f64 {
    dispatch_dim!(d, kl_zz_dispatched(mu0, mu1, l1, d, z))
}

/// [`kl_diag_portable`] for the instance of d (no vector instructions to gain), for full
/// covariances.
pub(crate) fn kl_diag(l0: &[f64], l1: &[f64], d: usize) -> f64 {
    dispatch_dim!(d, kl_diag_portable(l0, l1, d))
}

/// [`kl_off_portable`] for the instance of d, for full covariances: `x` holds at least d p
/// doubles, p = [`x_stride`]`(d)`.
pub(crate) fn kl_off(l0: &[f64], l1: &[f64], d: usize, x: &mut [f64]) -> f64 {
    dispatch_dim!(d, kl_off_dispatched(l0, l1, d, x))
}

// ---------------------------------------------------------------------------------------------
// Moment matching
// ---------------------------------------------------------------------------------------------

/// The single Gaussian with the mean and covariance of the mixture sum_i l_i N(mu_i, S_i):
/// mu = sum_i l_i mu_i, Sigma = sum_i l_i [S_i + (mu_i - mu)(mu_i - mu)^T].
///
/// Inputs: `weights[m]` (l_i >= 0, summing to 1 within 1e-9; used as given, not renormalized),
/// `means[m*d]`, `covs[m*d*d]` (full) or `covs[m*d]` (diagonal). Outputs: `mean_out[d]` and
/// `cov_out[d*d]` (full: symmetric, computed on the lower triangle and mirrored) or
/// `cov_out[d]` (diagonal: only the diagonals of the outer products). Outputs are written only
/// on success.
///
/// `work` holds at least [`moment_match_work_len`]`(d, kind)` doubles (scratch).
///
/// Errors: those of [`Mixture::new`] on the inputs (`ZeroSize`, `SizeOverflow`,
/// `BufferTooShort`, `NonFinite`, `Weights`, `NotSpd` for an asymmetric covariance or a
/// non-positive diagonal entry), `BufferTooShort` (an output or `work`), `NonFinite` (the
/// result overflows).
#[allow(clippy::too_many_arguments)]
pub fn moment_match(
    weights: &[f64],
    means: &[f64],
    covs: &[f64],
    m: usize,
    d: usize,
    kind: CovKind,
    mean_out: &mut [f64],
    cov_out: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let mixture = Mixture::new(weights, means, covs, m, d, kind)?;
    let work_len = moment_match_work_len(d, kind)?;
    let cov_len = kind.cov_len(d)?;
    ensure_len(mean_out.len(), d)?;
    ensure_len(cov_out.len(), cov_len)?;
    ensure_len(work.len(), work_len)?;
    let (mean, rest) = work.split_at_mut(d);
    let (cov, rest) = rest.split_at_mut(cov_len);
    let diff = &mut rest[..d];
    mean.fill(0.0);
    for i in 0..m {
        axpy(mixture.weights()[i], mixture.mean(i), mean);
    }
    cov.fill(0.0);
    for i in 0..m {
        let l = mixture.weights()[i];
        for ((di, mi), mu) in diff.iter_mut().zip(mixture.mean(i)).zip(mean.iter()) {
            *di = mi - mu;
        }
        let s = mixture.cov(i);
        match kind {
            CovKind::Full => {
                for a in 0..d {
                    let da = diff[a];
                    let row = &mut cov[a * d..a * d + a + 1];
                    let s_row = &s[a * d..a * d + a + 1];
                    for ((c, sv), db) in row.iter_mut().zip(s_row).zip(&diff[..a + 1]) {
                        *c += l * (sv + da * db);
                    }
                }
            }
            CovKind::Diag => {
                for ((c, sv), da) in cov.iter_mut().zip(s).zip(diff.iter()) {
                    *c += l * (sv + da * da);
                }
            }
        }
    }
    if kind == CovKind::Full {
        for a in 0..d {
            for b in 0..a {
                cov[b * d + a] = cov[a * d + b];
            }
        }
    }
    if !(mean.iter().all(|v| v.is_finite()) && cov.iter().all(|v| v.is_finite())) {
        return Err(Status::NonFinite);
    }
    mean_out[..d].copy_from_slice(mean);
    cov_out[..cov_len].copy_from_slice(cov);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::{log_det_cholesky, lower_factor, random_spd, solve_lower, TEST_DIMS};
    use crate::rng::Rng;
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    /// A shared view of `v[..n * LANES]` as n groups of LANES values, like [`as_lanes_mut`].
    fn as_lanes(v: &[f64], n: usize) -> &[Lanes] {
        let v = &v[..n * LANES];
        // SAFETY: as in `as_lanes_mut`, with a shared borrow.
        unsafe { core::slice::from_raw_parts(v.as_ptr().cast::<Lanes>(), n) }
    }

    /// A random SPD matrix A A^T / d + c I (full) or random positive variances (diagonal).
    fn random_cov(rng: &mut Rng, d: usize, kind: CovKind, c: f64) -> Vec<f64> {
        match kind {
            CovKind::Full => {
                let a: Vec<f64> = (0..d * d).map(|_| rng.normal()).collect();
                let mut s = vec![0.0; d * d];
                for i in 0..d {
                    for j in 0..d {
                        let v: f64 = (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum();
                        s[i * d + j] = v / d as f64 + if i == j { c } else { 0.0 };
                    }
                }
                s
            }
            CovKind::Diag => (0..d).map(|_| c + rng.uniform() * 2.0).collect(),
        }
    }

    /// log phi(mu; nu, S + P) straight from the formula with the scalar linalg kernels.
    fn reference_log_product(mu: &[f64], s: &[f64], nu: &[f64], p: &[f64], d: usize) -> f64 {
        let mut sum: Vec<f64> = s.iter().zip(p).map(|(a, b)| a + b).collect();
        cholesky(&mut sum, d).unwrap();
        let mut z: Vec<f64> = mu.iter().zip(nu).map(|(a, b)| a - b).collect();
        solve_lower(&sum, d, &mut z);
        -0.5 * (d as f64 * LN_2PI + log_det_cholesky(&sum, d) + dot(&z, &z))
    }

    /// The batched kernel against the scalar reference, for every lane count 1..=LANES and
    /// dimensions on both sides of the chunk sizes.
    #[test]
    fn batched_kernel_matches_the_scalar_reference() {
        let mut rng = Rng::new(3);
        for d in [1usize, 2, 3, 7, 8, 16, 17, 33] {
            let n = 11;
            let weights = vec![1.0 / n as f64; n];
            let means: Vec<f64> = (0..n * d).map(|_| rng.normal()).collect();
            let covs: Vec<f64> = (0..n)
                .flat_map(|_| random_cov(&mut rng, d, CovKind::Full, 0.5))
                .collect();
            let f = Mixture::new(&weights, &means, &covs, n, d, CovKind::Full).unwrap();
            let mut work = vec![f64::NAN; batch_work_len(d, true).unwrap()];
            for count in 1..=LANES {
                let xs: Vec<usize> = (0..count).map(|l| (l * 3) % n).collect();
                let ys: Vec<usize> = (0..count).map(|l| (l * 5 + 1) % n).collect();
                let got = log_products(&f, &xs, &f, &ys, d, &mut work).unwrap();
                for l in 0..count {
                    let (p, q) = (xs[l], ys[l]);
                    let want = reference_log_product(f.mean(p), f.cov(p), f.mean(q), f.cov(q), d);
                    assert!(
                        (got[l] - want).abs() <= 1e-12 * want.abs().max(1.0),
                        "d={d} l={l}"
                    );
                }
            }
        }
    }

    /// The AVX2 instance (where the CPU has it) and the baseline agree bit for bit.
    #[test]
    fn dispatched_kernels_match_the_baseline_bit_for_bit() {
        let mut rng = Rng::new(5);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for d in [1usize, 5, 10, 23] {
            let tri = d * (d + 1) / 2;
            let mut mat = vec![0.0; tri * LANES];
            let covs: Vec<Vec<f64>> = (0..LANES)
                .map(|_| random_cov(&mut rng, d, CovKind::Full, 1.0))
                .collect();
            let sx: Vec<&[f64]> = covs.iter().map(|c| &c[..]).collect();
            let lanes = as_lanes_mut(&mut mat, tri);
            fill_matrices(lanes, &sx, CovKind::Full, &sx, CovKind::Full, d);
            let z: Vec<f64> = (0..d * LANES).map(|_| rng.normal()).collect();
            let (mut m1, mut z1) = (mat.clone(), z.clone());
            let (mut m2, mut z2) = (mat.clone(), z.clone());
            let a = full_kernel(
                &Filled,
                as_lanes_mut(&mut m1, tri),
                as_lanes_mut(&mut z1, d),
                d,
            )
            .unwrap();
            let b = full_kernel_portable(
                &Filled,
                as_lanes_mut(&mut m2, tri),
                as_lanes_mut(&mut z2, d),
                d,
            )
            .unwrap();
            assert_eq!(bits(&a), bits(&b));
            assert_eq!(bits(&m1), bits(&m2));
            assert_eq!(bits(&z1), bits(&z2));
            let var: Vec<f64> = (0..d * LANES).map(|_| 0.5 + rng.uniform()).collect();
            let (mut z1, mut z2) = (z.clone(), z.clone());
            let a = diag_kernel(&Filled, as_lanes(&var, d), as_lanes_mut(&mut z1, d), d).unwrap();
            let b = diag_kernel_portable(&Filled, as_lanes(&var, d), as_lanes_mut(&mut z2, d), d)
                .unwrap();
            assert_eq!(bits(&a), bits(&b));
            assert_eq!(bits(&z1), bits(&z2));
        }
    }

    /// The textbook kernel, one row and one entry at a time: the reference for the blocked one.
    pub(super) fn full_kernel_row_by_row(
        mat: &mut [Lanes],
        z: &mut [Lanes],
        d: usize,
    ) -> Result<Lanes, Status> {
        let rel_tol = 4.0 * d as f64 * f64::EPSILON;
        let mut log_det = LogDet::new();
        let mut quad = [0.0; LANES];
        for a in 0..d {
            let (done, rest) = mat.split_at_mut(a * (a + 1) / 2);
            let row_a = &mut rest[..a + 1];
            for b in 0..a {
                let start_b = b * (b + 1) / 2;
                let (prefix_b, inv_diag_b) = done[start_b..start_b + b + 1].split_at(b);
                let s = lane_dot(&row_a[..b], prefix_b);
                for l in 0..LANES {
                    row_a[b][l] = (row_a[b][l] - s[l]) * inv_diag_b[0][l];
                }
            }
            let (prefix_a, diag) = row_a.split_at_mut(a);
            let s = lane_dot(prefix_a, prefix_a);
            let (z_done, z_rest) = z.split_at_mut(a);
            let sz = lane_dot(prefix_a, z_done);
            let (diag, z_a) = (&mut diag[0], &mut z_rest[0]);
            let (m, delta) = (*diag, *z_a);
            let row = RowEnd {
                m_diag: &m,
                s: &s,
                delta: &delta,
                sz: &sz,
            };
            row.finish(diag, z_a, rel_tol, &mut log_det, &mut quad)?;
        }
        Ok(log_gaussian(d, &log_det.finish(), &quad))
    }

    /// The blocked kernel gives bitwise the row-by-row factor, solve and log phi.
    #[test]
    fn blocked_kernel_matches_row_by_row_bit_for_bit() {
        let mut rng = Rng::new(9);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for d in 1..=12usize {
            let tri = d * (d + 1) / 2;
            let covs: Vec<Vec<f64>> = (0..LANES)
                .map(|_| random_cov(&mut rng, d, CovKind::Full, 0.3))
                .collect();
            let sx: Vec<&[f64]> = covs.iter().map(|c| &c[..]).collect();
            let mut mat = vec![0.0; tri * LANES];
            fill_matrices(
                as_lanes_mut(&mut mat, tri),
                &sx,
                CovKind::Full,
                &sx,
                CovKind::Full,
                d,
            );
            let z: Vec<f64> = (0..d * LANES).map(|_| rng.normal()).collect();
            let (mut m1, mut z1, mut m2, mut z2) = (mat.clone(), z.clone(), mat, z);
            let a = full_kernel_portable(
                &Filled,
                as_lanes_mut(&mut m1, tri),
                as_lanes_mut(&mut z1, d),
                d,
            )
            .unwrap();
            let b = full_kernel_row_by_row(as_lanes_mut(&mut m2, tri), as_lanes_mut(&mut z2, d), d)
                .unwrap();
            assert_eq!(bits(&a), bits(&b), "d={d}");
            assert_eq!(bits(&m1), bits(&m2), "d={d}");
            assert_eq!(bits(&z1), bits(&z2), "d={d}");
        }
    }

    /// Log-determinants of extreme scale stay exact: pivots far outside [1e-150, 1e150].
    #[test]
    fn log_det_survives_extreme_pivots() {
        let mut acc = LogDet::new();
        let pivots = [1e-300, 1e300, 1e120, 1e120, 1e-200, 3.0, 1e149, 1e149];
        let mut want = 0.0;
        for &p in &pivots {
            acc.push(&[p; LANES]);
            want += libm::log(p);
        }
        for v in acc.finish() {
            assert!((v - want).abs() <= 1e-12 * want.abs());
        }
    }

    #[test]
    fn packed_index_enumerates_the_upper_triangle() {
        let m = 7;
        let mut next = 0;
        for a in 0..m {
            for b in a..m {
                assert_eq!(packed_index(m, a, b), next);
                next += 1;
            }
        }
        assert_eq!(next, pair_count(m).unwrap());
    }

    #[test]
    fn work_lengths_overflow_cleanly() {
        assert_eq!(batch_work_len(0, true), Err(Status::ZeroSize));
        assert_eq!(batch_work_len(usize::MAX, true), Err(Status::SizeOverflow));
        assert_eq!(
            batch_work_len(usize::MAX / 4, false),
            Err(Status::SizeOverflow)
        );
        assert_eq!(batch_work_len(3, true), Ok(LANES * 9));
        assert_eq!(pair_count(usize::MAX), Err(Status::SizeOverflow));
        assert_eq!(pair_count(5), Ok(15));
    }

    /// The textbook lower Cholesky factor, row by row with plain sequential sums.
    fn naive_cholesky(s: &[f64], d: usize) -> Vec<f64> {
        let mut l = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..=i {
                let sum: f64 = (0..j).map(|t| l[i * d + t] * l[j * d + t]).sum();
                l[i * d + j] = if i == j {
                    (s[i * d + i] - sum).sqrt()
                } else {
                    (s[i * d + j] - sum) / l[j * d + j]
                };
            }
        }
        l
    }

    /// KL(N(mu0, S0) || N(mu1, S1)) by the textbook formula
    /// 1/2 [tr(S1^-1 S0) + dm^T S1^-1 dm - d + ln|S1| - ln|S0|], with S1^-1 = L1^-T L1^-1 from
    /// the explicit inverse of a naive Cholesky factor, and the terms (all plain sums).
    fn textbook_kl(mu0: &[f64], s0: &[f64], mu1: &[f64], s1: &[f64], d: usize) -> f64 {
        let (l0, l1) = (naive_cholesky(s0, d), naive_cholesky(s1, d));
        // M = L1^-1, column by column by forward substitution of the unit vectors.
        let mut m = vec![0.0; d * d];
        for c in 0..d {
            for i in c..d {
                let e = if i == c { 1.0 } else { 0.0 };
                let sum: f64 = (c..i).map(|t| l1[i * d + t] * m[t * d + c]).sum();
                m[i * d + c] = (e - sum) / l1[i * d + i];
            }
        }
        let inv = |a: usize, b: usize| -> f64 { (0..d).map(|t| m[t * d + a] * m[t * d + b]).sum() };
        let mut trace = 0.0;
        let mut quad = 0.0;
        for a in 0..d {
            for b in 0..d {
                let p = inv(a, b);
                trace += p * s0[b * d + a];
                quad += (mu1[a] - mu0[a]) * p * (mu1[b] - mu0[b]);
            }
        }
        let log_det = |l: &[f64]| -> f64 { (0..d).map(|a| 2.0 * l[a * d + a].ln()).sum() };
        0.5 * (trace + quad - d as f64 + log_det(&l1) - log_det(&l0))
    }

    #[test]
    fn kl_from_factors_matches_the_textbook_formula() {
        let mut rng = Rng::new(61);
        for d in TEST_DIMS {
            let mut scratch = vec![f64::NAN; kl_scratch_len(d, CovKind::Full).unwrap() + 3];
            for spread in [0.0, 0.3] {
                let (s0, s1) = (
                    random_spd(&mut rng, d, spread),
                    random_spd(&mut rng, d, spread),
                );
                let mu0: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
                let mu1: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
                let (l0, l1) = (lower_factor(&s0, d), lower_factor(&s1, d));
                let l0_before = l0.clone();
                let got = kl_from_factors(&mu0, &l0, &mu1, &l1, d, CovKind::Full, &mut scratch);
                let want = textbook_kl(&mu0, &s0, &mu1, &s1, d);
                assert!(want > 0.1, "d {d}: {want}");
                assert!(
                    (got - want).abs() <= 1e-12 * want,
                    "d {d} spread {spread}: {got} vs {want}"
                );
                assert_eq!(l0, l0_before, "l0 is not modified");
                // The same Gaussian: exactly 0.
                let same = kl_from_factors(&mu0, &l0, &mu0, &l0, d, CovKind::Full, &mut scratch);
                assert_eq!(same.to_bits(), 0.0f64.to_bits(), "d {d}");
            }
            // Diagonal storage against the textbook formula on the diagonal matrices.
            let (v0, v1) = (
                random_cov(&mut rng, d, CovKind::Diag, 0.2),
                random_cov(&mut rng, d, CovKind::Diag, 0.2),
            );
            let mu0: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            let mu1: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            let full = |v: &[f64]| -> Vec<f64> {
                (0..d * d)
                    .map(|t| if t / d == t % d { v[t / d] } else { 0.0 })
                    .collect()
            };
            let sd = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x.sqrt()).collect() };
            let got = kl_from_factors(
                &mu0,
                &sd(&v0),
                &mu1,
                &sd(&v1),
                d,
                CovKind::Diag,
                &mut scratch,
            );
            let want = textbook_kl(&mu0, &full(&v0), &mu1, &full(&v1), d);
            assert!((got - want).abs() <= 1e-12 * want, "d {d}: {got} vs {want}");
        }
    }

    /// The fixed-d and AVX2 instances of the KL kernels against the portable `D = 0` one (as
    /// compiled for the baseline), bit for bit, on well and badly conditioned covariances.
    #[test]
    fn kl_kernel_instances_match_the_portable_one_bit_for_bit() {
        let mut rng = Rng::new(62);
        for d in TEST_DIMS {
            let p = x_stride(d).unwrap();
            for spread in [0.0, 0.5, 2.0] {
                let l0 = lower_factor(&random_spd(&mut rng, d, spread), d);
                let l1 = lower_factor(&random_spd(&mut rng, d, spread), d);
                let mu0: Vec<f64> = (0..d).map(|_| 3.0 * rng.normal()).collect();
                let mu1: Vec<f64> = (0..d).map(|_| 3.0 * rng.normal()).collect();
                let (mut x, mut z) = (vec![f64::NAN; d * p], vec![f64::NAN; d]);
                let portable = [
                    kl_off_portable::<0>(&l0, &l1, d, &mut x),
                    kl_zz_portable::<0>(&mu0, &mu1, &l1, d, &mut z),
                    kl_diag_portable::<0>(&l0, &l1, d),
                ]
                .map(f64::to_bits);
                let instances = [
                    // Fixed d (for d <= 16) with the CPU's best instruction set.
                    [
                        kl_off(&l0, &l1, d, &mut x),
                        kl_zz(&mu0, &mu1, &l1, d, &mut z),
                        kl_diag(&l0, &l1, d),
                    ],
                    // Fixed d, baseline.
                    [
                        dispatch_dim!(d, kl_off_portable(&l0, &l1, d, &mut x)),
                        dispatch_dim!(d, kl_zz_portable(&mu0, &mu1, &l1, d, &mut z)),
                        kl_diag_portable::<0>(&l0, &l1, d),
                    ],
                    // Any d, the CPU's best instruction set.
                    [
                        kl_off_dispatched::<0>(&l0, &l1, d, &mut x),
                        kl_zz_dispatched::<0>(&mu0, &mu1, &l1, d, &mut z),
                        kl_diag_portable::<0>(&l0, &l1, d),
                    ],
                ];
                for (t, parts) in instances.iter().enumerate() {
                    assert_eq!(parts.map(f64::to_bits), portable, "d {d} instance {t}");
                }
            }
        }
    }
}
