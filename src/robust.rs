//! COAT, DFMR and the baseline aggregators of local mixture estimates.
//!
//! m machines each send a local estimate G_1..G_m: K components in d dimensions, all with the
//! same covariance storage, concatenated as in [`crate::gmm`]. D_ij = |G_i - G_j| is the L2
//! distance (not squared) of [`crate::distance::l2_distance`].
//!
//! - [`coat`]: h = floor(m/2) + 1, r_i = the h-th smallest of D_i1..D_im (D_ii = 0 counts);
//!   COAT = argmin_i r_i (lowest index on ties), r_COAT its radius: the smallest ball centred
//!   at a local estimate that holds a strict majority of them.
//! - [`aggregate`] with an [`Aggregator`]: DFMR(rho) (S = { j valid : D_COAT,j <= rho r_COAT };
//!   the components of S pooled with weights lambda_j w_jk, lambda_j = n_j / sum_{l in S} n_l,
//!   reduced to K by [`reduce_mm`] started from COAT's estimate) and the baselines: Vanilla
//!   (the same reduction over every valid machine), Trim (Vanilla with each MM iteration
//!   keeping the mass 1 - alpha of smallest cost), COAT's estimate, and the Medoid
//!   (argmin_i sum_j D_ij^2).
//! - [`aggregate_messages`]: the same over m wire messages ([`crate::wire`]), decoded and
//!   validated per machine.
//!
//! Byzantine inputs: in aggregation a malformed local estimate is not an error of the call.
//! A message that is missing or does not decode is rejected with the decoder's status. Each
//! other machine is checked with [`Mixture::new`] and by the self distance |G_i - G_i|, which
//! factors every S_a + S_b of the machine (so a covariance that is not positive definite is
//! caught per machine, with `NotSpd`). A machine that fails is reported in
//! `machine_status_out` with the status code of the failure, treated as infinitely far from
//! every other machine, and never selected. Should the distance between two valid machines
//! overflow, that pair is taken as infinitely far too.
//!
//! # Screening and smoothing
//!
//! On real data the published method lets attackers in (README, "Robust aggregation on real
//! data"): with few samples per machine an honest local fit can hold a component of near-zero
//! variance, whose L2 norm (about 1e10 for a variance of 1e-6 in d = 10) dominates every
//! distance it enters, and an attack that inflates covariances has a small norm, so it hides
//! inside the honest spread. A [`Screening`] adds two things, both relative to the pooled
//! scale: per dimension a, the lower medians over the valid machines of their mixtures'
//! centres c_a and variances v_a (a majority of honest machines fixes both):
//! - checks of each valid estimate, each with its own per-machine status: a component whose
//!   geometric-mean variance (det S_k / prod_a v_a)^(1/d) is below `sharp_ratio` (`TooSharp`),
//!   with a variance above `flat_ratio` v_a (`TooFlat`), with a mean more than `far_ratio`
//!   sqrt(v_a) from c_a (`TooFar`), or with a weight times the machine's sample size below
//!   `min_component_samples` (`TooLight`). Such an estimate is excluded like a malformed one.
//! - the distances between the estimates smoothed by N(0, H), H = `smoothing` diag(v): the L2
//!   distance of f * N(0, H) and g * N(0, H), in closed form every covariance plus H. It
//!   compares the mixtures at the resolution of the data's scale: a component sharper than H
//!   counts as a component of covariance about H, the honest spread shrinks, and flat attacks
//!   stand out. The reduction pools the estimates themselves, not the smoothed ones.
//!
//! [`Screening::default`] (smoothing 1, sharp_ratio 1e-3, flat_ratio 100, far_ratio 10,
//! min_component_samples 1) is the setting `tests/byzantine_real.rs` measures on real data and
//! `tests/dfmr_paper.rs` on the paper's simulation (within 7% of the Oracle's W1 there);
//! [`Screening::PAPER`] is the published method, bitwise.
//!
//! The one failure that is the call's own (besides bad sizes and buffers): fewer than
//! floor(m/2) + 1 valid machines, or no finite COAT radius among them. No honest majority can
//! then be certified: the call returns `Status::NoMajority` after writing every machine's status
//! (and `selected_out` all 0), so the caller learns which machines failed; the mixture outputs
//! are untouched.

use crate::distance::{
    l2_distance, l2_distance_sq, l2_distance_sq_work_len, l2_pairwise, l2_pairwise_work_len,
};
use crate::gmm::{CovKind, Mixture};
use crate::linalg::{cholesky, log_det_cholesky};
use crate::reduce::{
    check_reduce_options, reduce_mm, reduce_mm_work_len, ReduceOptions, ReduceReport,
};
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::wire::decode_into_slots;
use crate::Status;

/// The majority size h = floor(m/2) + 1 used by [`coat`].
pub fn majority(m: usize) -> usize {
    m / 2 + 1
}

/// The filter radius factor the DFMR authors used: rho = max(1, sqrt(ln(m/2) ln ln m / 2)).
///
/// The authors' code (RobustSCGMM, `ared_threshold`) keeps the machines whose *squared* L2
/// distance to COAT is at most ln(m/2) ln ln m times half the squared COAT radius; on the
/// distances themselves that is this rho. (The design brief's sqrt(2 ln(m/2) ln ln m) is 2x
/// larger; at m = 20 it, 2.25, lets component-level attacks into the pool; see
/// `tests/dfmr_paper.rs`.) The formula is below 1 up to m = 14, so `default_rho(m) == 1.0` for
/// every m <= 14 (`default_rho(20)` is about 1.12, `default_rho(50)` about 1.48).
pub fn default_rho(m: usize) -> f64 {
    if m <= 2 {
        return 1.0;
    }
    let mf = m as f64;
    let v = 0.5 * libm::log(mf / 2.0) * libm::log(libm::log(mf));
    let rho = crate::special::sqrt(if v > 0.0 { v } else { 0.0 });
    if rho > 1.0 {
        rho
    } else {
        1.0
    }
}

/// How the centre screens the local estimates and measures their distances, beyond the
/// published method (see the module docs, "Screening and smoothing").
///
/// [`Screening::default`] is the robust setting; [`Screening::PAPER`] is the DFMR paper's
/// method exactly (no screening, the plain L2 distance).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Screening {
    /// The L2 distances are taken between the mixtures smoothed by N(0, H), H = `smoothing`
    /// times the diagonal of the pooled per-dimension variances (closed form: H added to every
    /// covariance). >= 0 and finite; 0 is the plain L2 distance.
    pub smoothing: f64,
    /// A component is too sharp (`TooSharp`) when (det S_k / prod_a v_a)^(1/d), the geometric
    /// mean of its eigenvalues relative to the pooled variances v_a, is below this. In [0, 1];
    /// 0: no check.
    pub sharp_ratio: f64,
    /// A component is too flat (`TooFlat`) when one of its variances exceeds this times the
    /// pooled variance of that dimension. >= 1; +inf: no check.
    pub flat_ratio: f64,
    /// A component is too far (`TooFar`) when its mean lies more than this many pooled
    /// standard deviations sqrt(v_a) from the pooled centre c_a in some dimension a. >= 1;
    /// +inf: no check.
    pub far_ratio: f64,
    /// A component is too light (`TooLight`) when its weight times the machine's sample size is
    /// below this (only where sample sizes are known). >= 0 and finite; 0: no check.
    pub min_component_samples: f64,
}

impl Screening {
    /// The DFMR paper's method: no screening, the plain L2 distance.
    pub const PAPER: Screening = Screening {
        smoothing: 0.0,
        sharp_ratio: 0.0,
        flat_ratio: f64::INFINITY,
        far_ratio: f64::INFINITY,
        min_component_samples: 0.0,
    };
}

impl Default for Screening {
    /// The robust setting: smoothing 1, sharp_ratio 1e-3, flat_ratio 100, far_ratio 10,
    /// min_component_samples 1 (see the module docs for why).
    fn default() -> Self {
        Screening {
            smoothing: 1.0,
            sharp_ratio: 1e-3,
            flat_ratio: 100.0,
            far_ratio: 10.0,
            min_component_samples: 1.0,
        }
    }
}

/// Workspace length (doubles) of [`coat`]: m (one row copy).
///
/// Errors: `ZeroSize` (m = 0).
pub fn coat_work_len(m: usize) -> Result<usize, Status> {
    if m == 0 {
        Err(Status::ZeroSize)
    } else {
        Ok(m)
    }
}

/// The centre of the smallest majority ball: returns (COAT index, r_COAT).
///
/// `distances[m*m]` is the row-major matrix D_ij (distances, not squared, each >= 0 or +inf;
/// +inf marks an excluded machine or pair). Only row i is used for r_i, so the matrix need
/// not be symmetric; its diagonal is ignored and read as 0. r_i is the h-th smallest of row i,
/// h = [`majority`]`(m)`; the result is the lowest index with the smallest r_i. A machine
/// whose row is +inf off the diagonal has r_i = +inf (for m >= 2) and is never COAT; for
/// m = 1 the result is (0, 0). Cost O(m^2) (one selection per row).
///
/// `work` holds at least [`coat_work_len`]`(m)` doubles (scratch, never read before written).
///
/// Errors: `ZeroSize` (m = 0), `SizeOverflow` (m * m), `BufferTooShort` (`distances` or
/// `work`), `NonFinite` (a NaN entry), `NoMajority` (no finite radius: every machine has fewer
/// than h finite entries in its row, i.e. no majority can be certified), `BadParameter` (a
/// negative entry).
pub fn coat(distances: &[f64], m: usize, work: &mut [f64]) -> Result<(usize, f64), Status> {
    if m == 0 {
        return Err(Status::ZeroSize);
    }
    let mm = checked_mul(m, m)?;
    ensure_len(distances.len(), mm)?;
    ensure_len(work.len(), m)?;
    let distances = &distances[..mm];
    if distances.iter().any(|v| v.is_nan()) {
        return Err(Status::NonFinite);
    }
    if distances.iter().any(|&v| v < 0.0) {
        return Err(Status::BadParameter);
    }
    let (index, radius) = coat_unchecked(distances, m, &mut work[..m]);
    if radius.is_finite() {
        Ok((index, radius))
    } else {
        Err(Status::NoMajority)
    }
}

/// [`coat`] on a checked matrix (no NaN, no negative entry); `row` has length m. The radius
/// is +inf when no row has h finite entries.
fn coat_unchecked(distances: &[f64], m: usize, row: &mut [f64]) -> (usize, f64) {
    let h = majority(m);
    let mut best = (0, f64::INFINITY);
    for i in 0..m {
        row.copy_from_slice(&distances[i * m..(i + 1) * m]);
        row[i] = 0.0;
        let (_, r, _) = row.select_nth_unstable_by(h - 1, f64::total_cmp);
        let r = *r + 0.0; // -0.0 -> 0.0
        if r < best.1 {
            best = (i, r);
        }
    }
    best
}

/// Which aggregator [`aggregate`] runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregator {
    /// DFMR(rho): reduce the pooled estimates of the machines within rho r_COAT of COAT
    /// (rho >= 1 and finite; see [`default_rho`]).
    Dfmr {
        /// The filter radius factor.
        rho: f64,
    },
    /// Reduce the pooled estimates of every valid machine. Not robust: one valid estimate that
    /// is far enough (means near 1e300) makes a cost or the objective overflow, and the call
    /// fails with `NonFinite` ("a result would not be finite"); Trim leaves such an estimate out.
    Vanilla,
    /// The trimmed KL barycentre: reduce the pooled estimates of every valid machine, each MM
    /// iteration keeping only the input mass 1 - alpha of smallest cost (alpha in [0, 1); the
    /// DFMR paper's baseline uses 1/2). Overrides `reduce_opts.trim`.
    Trim {
        /// The trimmed fraction of mass.
        alpha: f64,
    },
    /// COAT's own estimate.
    Coat,
    /// The estimate of the medoid: the valid machine with the smallest sum_j D_ij^2 over the
    /// valid machines j (lowest index on ties).
    Medoid,
}

/// What [`aggregate`] reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AggregateReport {
    /// The machine whose estimate is returned (`Coat`, `Medoid`) or starts the reduction
    /// (COAT, for `Dfmr`, `Vanilla`, `Trim`); 0-based among all m.
    pub chosen: usize,
    /// The index of the COAT machine (0-based, among all m).
    pub coat: usize,
    /// r_COAT, the COAT radius (finite).
    pub radius: f64,
    /// The number of machines pooled (1 for `Coat` and `Medoid`).
    pub selected: usize,
    /// The number of machines whose estimate was valid.
    pub valid: usize,
    /// The report of the final [`reduce_mm`]; for `Coat` and `Medoid`, which reduce nothing:
    /// objective 0, iterations 0, converged, K kept.
    pub reduce: ReduceReport,
}

/// The workspace of the aggregators, part by part (doubles, in this order).
struct Layout {
    /// Per-machine status code (as f64): m.
    status: usize,
    /// Per-machine selection flag: m.
    selected: usize,
    /// The m x m distance matrix (+inf for invalid machines).
    dist: usize,
    /// The distances among the valid machines, compact: m m.
    compact: usize,
    /// Valid machines' weights, compact (then the pooled weights): m K.
    weights: usize,
    /// Valid machines' means, compact: m K d.
    means: usize,
    /// Valid machines' covariances, compact: m K c.
    covs: usize,
    /// The same smoothed (H added to each), for the distances: m K c.
    smoothed: usize,
    /// The pooled centre, then the pooled variances, per dimension: 2 d.
    scale: usize,
    /// A row copy for COAT and the medians of the pooled scale: m.
    row: usize,
    /// Scratch of l2_pairwise, l2_distance_sq and reduce_mm (the largest).
    scratch: usize,
}

impl Layout {
    fn new(m: usize, k: usize, d: usize, kind: CovKind) -> Result<Self, Status> {
        if m == 0 || k == 0 || d == 0 {
            return Err(Status::ZeroSize);
        }
        let c = kind.cov_len(d)?;
        let mm = checked_mul(m, m)?;
        let mk = checked_mul(m, k)?;
        let scratch = l2_pairwise_work_len(m, k, d, kind)?
            .max(l2_distance_sq_work_len(d, kind, kind)?)
            .max(reduce_mm_work_len(mk, k, d, kind)?)
            .max(checked_mul(d, d)?);
        Ok(Layout {
            status: m,
            selected: m,
            dist: mm,
            compact: mm,
            weights: mk,
            means: checked_mul(mk, d)?,
            covs: checked_mul(mk, c)?,
            smoothed: checked_mul(mk, c)?,
            scale: checked_mul(2, d)?,
            row: m,
            scratch,
        })
    }

    fn total(&self) -> Result<usize, Status> {
        [
            self.selected,
            self.dist,
            self.compact,
            self.weights,
            self.means,
            self.covs,
            self.smoothed,
            self.scale,
            self.row,
            self.scratch,
        ]
        .iter()
        .try_fold(self.status, |acc, &n| checked_add(acc, n))
    }
}

/// Workspace length (doubles) of [`aggregate`] for m machines of K components in dimension d:
/// 3 m + 2 m^2 + m K (1 + d + 2 c) + 2 d + the largest of
/// [`l2_pairwise_work_len`]`(m, K, d, kind)`, [`l2_distance_sq_work_len`]`(d, kind, kind)`,
/// [`reduce_mm_work_len`]`(m K, K, d, kind)` and d d, with c = d d (full) or d (diagonal).
///
/// Errors: `ZeroSize` (m, K or d is 0), `SizeOverflow`.
pub fn aggregate_work_len(m: usize, k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    Layout::new(m, k, d, kind)?.total()
}

/// The m concatenated local estimates, and the machines rejected before validation (a
/// message that did not decode), by status code (0: not rejected).
struct Stack<'a> {
    weights: &'a [f64],
    means: &'a [f64],
    covs: &'a [f64],
    rejected: Option<&'a [f64]>,
    k: usize,
    d: usize,
    c: usize,
    kind: CovKind,
}

impl<'a> Stack<'a> {
    /// Machine i's (weights, means, covs) slices.
    fn machine(&self, i: usize) -> (&'a [f64], &'a [f64], &'a [f64]) {
        let (k, kd, kc) = (self.k, self.k * self.d, self.k * self.c);
        (
            &self.weights[i * k..(i + 1) * k],
            &self.means[i * kd..(i + 1) * kd],
            &self.covs[i * kc..(i + 1) * kc],
        )
    }

    /// Machine i's estimate, checked by [`Mixture::new`] and by its self distance, unless it
    /// was rejected already.
    fn check(&self, i: usize, scratch: &mut [f64]) -> Result<Mixture<'a>, Status> {
        if let Some(code) = self.rejected.map(|r| r[i]).filter(|&c| c != 0.0) {
            return Err(Status::from_code(code as i32).unwrap_or(Status::BadMessage));
        }
        let (w, mu, s) = self.machine(i);
        let g = Mixture::new(w, mu, s, self.k, self.d, self.kind)?;
        l2_distance_sq(&g, &g, scratch)?;
        Ok(g)
    }
}

/// The split workspace.
struct Parts<'w> {
    status: &'w mut [f64],
    selected: &'w mut [f64],
    dist: &'w mut [f64],
    compact: &'w mut [f64],
    weights: &'w mut [f64],
    means: &'w mut [f64],
    covs: &'w mut [f64],
    smoothed: &'w mut [f64],
    scale: &'w mut [f64],
    row: &'w mut [f64],
    scratch: &'w mut [f64],
}

impl<'w> Parts<'w> {
    fn split(layout: &Layout, work: &'w mut [f64]) -> Self {
        let (status, rest) = work.split_at_mut(layout.status);
        let (selected, rest) = rest.split_at_mut(layout.selected);
        let (dist, rest) = rest.split_at_mut(layout.dist);
        let (compact, rest) = rest.split_at_mut(layout.compact);
        let (weights, rest) = rest.split_at_mut(layout.weights);
        let (means, rest) = rest.split_at_mut(layout.means);
        let (covs, rest) = rest.split_at_mut(layout.covs);
        let (smoothed, rest) = rest.split_at_mut(layout.smoothed);
        let (scale, rest) = rest.split_at_mut(layout.scale);
        let (row, rest) = rest.split_at_mut(layout.row);
        Parts {
            status,
            selected,
            dist,
            compact,
            weights,
            means,
            covs,
            smoothed,
            scale,
            row,
            scratch: &mut rest[..layout.scratch],
        }
    }
}

/// Validates every machine (status codes into `p.status`, valid estimates compacted into
/// `p.weights`, `p.means`, `p.covs`), screens the valid ones against the pooled scale
/// (`screening`, see the module docs) and fills `p.dist` with the m x m distances (+inf for
/// invalid machines and overflowing pairs), between the smoothed estimates when smoothing
/// applies. Returns the number of valid machines.
fn prepare(
    stack: &Stack,
    m: usize,
    sample_sizes: Option<&[f64]>,
    screening: &Screening,
    p: &mut Parts,
) -> Result<usize, Status> {
    let (k, d, c) = (stack.k, stack.d, stack.c);
    let (kd, kc) = (k * d, k * c);
    for i in 0..m {
        p.status[i] = match stack.check(i, p.scratch) {
            Ok(_) => 0.0,
            Err(e) => f64::from(e.code()),
        };
    }
    let has_scale = pooled_scale(stack, m, p.status, p.row, p.scale);
    let mut nv = 0;
    for i in 0..m {
        if p.status[i] != 0.0 {
            continue;
        }
        let scale = if has_scale { Some(&*p.scale) } else { None };
        let n = sample_sizes.map(|n| n[i]);
        if let Err(e) = screen(stack, i, n, screening, scale, p.scratch) {
            p.status[i] = f64::from(e.code());
            continue;
        }
        let (w, mu, s) = stack.machine(i);
        p.weights[nv * k..(nv + 1) * k].copy_from_slice(w);
        p.means[nv * kd..(nv + 1) * kd].copy_from_slice(mu);
        p.covs[nv * kc..(nv + 1) * kc].copy_from_slice(s);
        nv += 1;
    }
    let smooth = has_scale && screening.smoothing > 0.0;
    if smooth {
        let smoothed = &mut p.smoothed[..nv * kc];
        smoothed.copy_from_slice(&p.covs[..nv * kc]);
        for cov in smoothed.chunks_exact_mut(c) {
            for (a, &v) in p.scale[d..].iter().enumerate() {
                cov[stack.kind.variance_index(d, a)] += screening.smoothing * v;
            }
        }
    }
    if nv > 0 {
        let compact = &mut p.compact[..nv * nv];
        let (cw, cmu) = (&p.weights[..nv * k], &p.means[..nv * kd]);
        let cs = if smooth {
            &p.smoothed[..nv * kc]
        } else {
            &p.covs[..nv * kc]
        };
        if l2_pairwise(cw, cmu, cs, nv, k, d, stack.kind, compact, p.scratch).is_err() {
            // Every machine passed its own checks, so only a cross term can fail (overflow):
            // take such a pair as infinitely far, the others as l2_pairwise would (bitwise).
            let view = |a: usize| {
                Mixture::new(
                    &cw[a * k..(a + 1) * k],
                    &cmu[a * kd..(a + 1) * kd],
                    &cs[a * kc..(a + 1) * kc],
                    k,
                    d,
                    stack.kind,
                )
            };
            for a in 0..nv {
                compact[a * nv + a] = 0.0;
                for b in 0..a {
                    let dab = match (view(a), view(b)) {
                        (Ok(ga), Ok(gb)) => l2_distance(&ga, &gb, p.scratch),
                        _ => Err(Status::NonFinite),
                    }
                    .unwrap_or(f64::INFINITY);
                    compact[a * nv + b] = dab;
                    compact[b * nv + a] = dab;
                }
            }
        }
    }
    let mut ci = 0;
    for i in 0..m {
        let vi = p.status[i] == 0.0;
        let mut cj = 0;
        for j in 0..m {
            let vj = p.status[j] == 0.0;
            p.dist[i * m + j] = if i == j {
                0.0
            } else if vi && vj {
                p.compact[ci * nv + cj]
            } else {
                f64::INFINITY
            };
            cj += usize::from(vj);
        }
        ci += usize::from(vi);
    }
    Ok(nv)
}

/// The pooled scale: for each dimension a, the lower medians over the machines with status 0
/// of their mixtures' centres c_ia = sum_k w_k mu_ka (into `scale[a]`) and variances
/// v_ia = sum_k w_k (S_k,aa + (mu_ka - c_ia)^2) (into `scale[d + a]`); `row[m]` is scratch.
/// Returns whether every pooled value is finite and every pooled variance > 0 (false also
/// when no machine is valid).
fn pooled_scale(
    stack: &Stack,
    m: usize,
    status: &[f64],
    row: &mut [f64],
    scale: &mut [f64],
) -> bool {
    let (k, d, c) = (stack.k, stack.d, stack.c);
    let valid = (0..m).filter(|&i| status[i] == 0.0).count();
    if valid == 0 {
        return false;
    }
    let median = |row: &mut [f64]| {
        *row.select_nth_unstable_by((valid - 1) / 2, f64::total_cmp)
            .1
    };
    for a in 0..d {
        let centre = |i: usize| {
            let (w, mu, _) = stack.machine(i);
            (0..k).map(|j| w[j] * mu[j * d + a]).sum::<f64>()
        };
        for (slot, i) in (0..m).filter(|&i| status[i] == 0.0).enumerate() {
            row[slot] = centre(i);
        }
        scale[a] = median(&mut row[..valid]);
        for (slot, i) in (0..m).filter(|&i| status[i] == 0.0).enumerate() {
            let (w, mu, s) = stack.machine(i);
            let ci = centre(i);
            row[slot] = (0..k)
                .map(|j| {
                    let dev = mu[j * d + a] - ci;
                    w[j] * (s[j * c + stack.kind.variance_index(d, a)] + dev * dev)
                })
                .sum();
        }
        scale[d + a] = median(&mut row[..valid]);
    }
    scale[..2 * d].iter().all(|v| v.is_finite()) && scale[d..2 * d].iter().all(|&v| v > 0.0)
}

/// Screens machine i's estimate (valid by [`Stack::check`]) against the pooled scale
/// (centres then variances, see [`pooled_scale`]; `None`: not usable, so no sharp, flat or far
/// check) and its sample size n (`None`: unknown, so no weight check). `scratch` holds at least
/// d d doubles.
fn screen(
    stack: &Stack,
    i: usize,
    n: Option<f64>,
    screening: &Screening,
    scale: Option<&[f64]>,
    scratch: &mut [f64],
) -> Result<(), Status> {
    let (k, d, c) = (stack.k, stack.d, stack.c);
    let (w, mu, s) = stack.machine(i);
    if let Some(scale) = scale {
        let (centre, var) = scale[..2 * d].split_at(d);
        let log_sharp = libm::log(screening.sharp_ratio);
        let log_scale: f64 = var.iter().map(|&v| libm::log(v)).sum();
        for (cov, mean) in s.chunks_exact(c).zip(mu.chunks_exact(d)).take(k) {
            if screening.sharp_ratio > 0.0 {
                let log_det = match stack.kind {
                    CovKind::Full => {
                        let l = &mut scratch[..c];
                        l.copy_from_slice(cov);
                        cholesky(l, d).map_err(|_| Status::TooSharp)?;
                        log_det_cholesky(l, d)
                    }
                    CovKind::Diag => cov.iter().map(|&v| libm::log(v)).sum(),
                };
                if (log_det - log_scale) / (d as f64) < log_sharp {
                    return Err(Status::TooSharp);
                }
            }
            let flat = (0..d)
                .any(|a| cov[stack.kind.variance_index(d, a)] > screening.flat_ratio * var[a]);
            if flat {
                return Err(Status::TooFlat);
            }
            let far = (0..d).any(|a| {
                let dev = mean[a] - centre[a];
                dev * dev > screening.far_ratio * screening.far_ratio * var[a]
            });
            if far {
                return Err(Status::TooFar);
            }
        }
    }
    if let Some(n) = n {
        if w.iter().any(|&wk| wk * n < screening.min_component_samples) {
            return Err(Status::TooLight);
        }
    }
    Ok(())
}

/// Checks what does not depend on the data: the method's parameter, the reduction options and
/// the sample sizes.
fn check_parameters(
    method: Aggregator,
    reduce_opts: &ReduceOptions,
    screening: &Screening,
    m: usize,
    sample_sizes: Option<&[f64]>,
) -> Result<(), Status> {
    let method_ok = match method {
        Aggregator::Dfmr { rho } => rho >= 1.0 && rho.is_finite(),
        Aggregator::Trim { alpha } => (0.0..1.0).contains(&alpha),
        Aggregator::Vanilla | Aggregator::Coat | Aggregator::Medoid => true,
    };
    let s = screening;
    let screening_ok = s.smoothing >= 0.0
        && s.smoothing.is_finite()
        && (0.0..=1.0).contains(&s.sharp_ratio)
        && s.flat_ratio >= 1.0
        && s.far_ratio >= 1.0
        && s.min_component_samples >= 0.0
        && s.min_component_samples.is_finite();
    if !method_ok || !screening_ok {
        return Err(Status::BadParameter);
    }
    check_reduce_options(reduce_opts)?;
    if let Some(n) = sample_sizes {
        ensure_len(n.len(), m)?;
        if !n[..m].iter().all(|&v| v > 0.0 && v.is_finite()) {
            return Err(Status::SampleWeights);
        }
    }
    Ok(())
}

/// Aggregates m local estimates into one K-component mixture with `method`.
///
/// Inputs: the m local estimates concatenated, `weights[m*K]`, `means[m*K*d]`,
/// `covs[m*K*c]` (c = d d full, d diagonal, as `kind` says); `sample_sizes[m]` (n_j, each
/// finite and > 0), or `None` for equal sizes; `reduce_opts` for the final [`reduce_mm`]
/// (`Dfmr`, `Vanilla`, `Trim`).
///
/// Each machine is validated and screened by `screening` (see the [module docs](self)); an
/// invalid one is reported, not an error. Among the valid machines: the distances D (between
/// the smoothed estimates if `screening.smoothing` > 0) and COAT with r_COAT ([`coat`] over all
/// m, invalid machines at +inf), then by `method`:
/// - `Dfmr { rho }`: S = { j valid : D_COAT,j <= rho r_COAT } (COAT is in S);
/// - `Vanilla`, `Trim`: S = every valid machine;
///
/// the pooled mixture of the |S| K components of S with weights lambda_j w_jk,
/// lambda_j = n_j / sum_{l in S} n_l (renormalized to sum 1 against rounding), reduced to K
/// components by [`reduce_mm`] started from COAT's estimate (`Trim`: with `trim` = alpha);
/// - `Coat`, `Medoid`: that machine's estimate, copied.
///
/// Every method needs an honest majority: floor(m/2) + 1 valid machines and a finite COAT
/// radius.
///
/// Outputs, written only on success (`machine_status_out` and `selected_out` also with
/// `NoMajority`): `machine_status_out[m]` (0 for a valid machine, else the
/// [`Status`] code of why its estimate was rejected: `NonFinite`, `Weights`, `NotSpd`,
/// `TooSharp`, `TooFlat`, `TooFar`, `TooLight`, ...), `selected_out[m]` (1 if the machine's
/// estimate is in the result: S, or the chosen machine, else 0), `coat_distance_out[m]` if
/// given (D_COAT,j for every machine j, +inf for a rejected one), and the mixture `weights_out[K]`, `means_out[K*d]`, `covs_out[K*c]` (after a
/// reduction: the first `reduce.kept` components, the rest zero). `work` holds at least
/// [`aggregate_work_len`]`(m, K, d, kind)` doubles (scratch, never read before written).
///
/// Errors: `ZeroSize` (m, K or d is 0), `SizeOverflow`, `BufferTooShort` (an input, output or
/// `work`, `coat_distance_out`), `BadParameter` (`rho` < 1 or not finite, `alpha` outside
/// [0, 1), a bad `reduce_opts`, or a screening value outside its range: see [`Screening`]), `SampleWeights` (a sample size that is not finite and > 0), `NoMajority`
/// (fewer than floor(m/2) + 1 valid machines, or no finite COAT radius: no honest majority can
/// be certified; the machine statuses are written), any error
/// of [`reduce_mm`] on the pooled mixture (`NotSpd`, `NonFinite`).
#[allow(clippy::too_many_arguments)]
pub fn aggregate(
    method: Aggregator,
    weights: &[f64],
    means: &[f64],
    covs: &[f64],
    m: usize,
    k: usize,
    d: usize,
    kind: CovKind,
    sample_sizes: Option<&[f64]>,
    reduce_opts: &ReduceOptions,
    screening: &Screening,
    machine_status_out: &mut [i32],
    selected_out: &mut [u8],
    coat_distance_out: Option<&mut [f64]>,
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    work: &mut [f64],
) -> Result<AggregateReport, Status> {
    let layout = Layout::new(m, k, d, kind)?;
    let c = kind.cov_len(d)?;
    let mk = checked_mul(m, k)?;
    ensure_len(weights.len(), mk)?;
    ensure_len(means.len(), checked_mul(mk, d)?)?;
    ensure_len(covs.len(), checked_mul(mk, c)?)?;
    check_outputs(
        m,
        k,
        d,
        c,
        machine_status_out,
        selected_out,
        coat_distance_out.as_deref(),
        weights_out,
        means_out,
        covs_out,
    )?;
    ensure_len(work.len(), layout.total()?)?;
    check_parameters(method, reduce_opts, screening, m, sample_sizes)?;
    let stack = Stack {
        weights,
        means,
        covs,
        rejected: None,
        k,
        d,
        c,
        kind,
    };
    let mut parts = Parts::split(&layout, work);
    run(
        method,
        &stack,
        m,
        sample_sizes,
        reduce_opts,
        screening,
        &mut parts,
        machine_status_out,
        selected_out,
        coat_distance_out,
        weights_out,
        means_out,
        covs_out,
    )
}

/// Checks the output lengths shared by [`aggregate`] and [`aggregate_messages`].
#[allow(clippy::too_many_arguments)]
fn check_outputs(
    m: usize,
    k: usize,
    d: usize,
    c: usize,
    machine_status_out: &[i32],
    selected_out: &[u8],
    coat_distance_out: Option<&[f64]>,
    weights_out: &[f64],
    means_out: &[f64],
    covs_out: &[f64],
) -> Result<(), Status> {
    ensure_len(machine_status_out.len(), m)?;
    ensure_len(selected_out.len(), m)?;
    if let Some(out) = coat_distance_out {
        ensure_len(out.len(), m)?;
    }
    ensure_len(weights_out.len(), k)?;
    ensure_len(means_out.len(), checked_mul(k, d)?)?;
    ensure_len(covs_out.len(), checked_mul(k, c)?)
}

/// The part of the workspace of [`aggregate_messages`] before [`aggregate`]'s: the decoded
/// estimates m K (1 + d + c), their sample sizes m, the decoding statuses m, and the
/// decoder's scratch d d (full) or 0 (diagonal).
fn decoded_len(m: usize, k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    let per_machine = checked_add(checked_add(1, d)?, kind.cov_len(d)?)?;
    let estimates = checked_mul(checked_mul(m, k)?, per_machine)?;
    let scratch = match kind {
        CovKind::Full => checked_mul(d, d)?,
        CovKind::Diag => 0,
    };
    checked_add(checked_add(estimates, checked_mul(2, m)?)?, scratch)
}

/// Workspace length (doubles) of [`aggregate_messages`]: m K (1 + d + c) + 2 m + (d d for
/// full covariances) + [`aggregate_work_len`]`(m, K, d, kind)`.
///
/// Errors: `ZeroSize` (m, K or d is 0), `SizeOverflow`.
pub fn aggregate_messages_work_len(
    m: usize,
    k: usize,
    d: usize,
    kind: CovKind,
) -> Result<usize, Status> {
    checked_add(
        aggregate_work_len(m, k, d, kind)?,
        decoded_len(m, k, d, kind)?,
    )
}

/// [`aggregate`] over m wire messages (see [`crate::wire`]), one per machine.
///
/// `messages(i)` gives machine i's message for i in 0..m, or `None` if it sent none. Each
/// message is decoded and validated for the expected shape (K, d, `kind`); a missing message
/// (status `MissingMessage`: `None`, or an empty slice), one that does not decode (`BadMessage`, `ShapeMismatch`,
/// `NonFinite`, `Weights`, `NotSpd`) or one whose estimate fails the aggregator's own checks
/// is a Byzantine input: excluded, reported in `machine_status_out`, and the aggregation goes
/// on. The sample sizes n_j are the messages' own. `method`, `reduce_opts`, `screening`, the outputs and
/// the errors are those of [`aggregate`] (with `sample_sizes` taken from the messages);
/// `work` holds at least [`aggregate_messages_work_len`]`(m, K, d, kind)` doubles.
#[allow(clippy::too_many_arguments)]
pub fn aggregate_messages<'a>(
    method: Aggregator,
    messages: &dyn Fn(usize) -> Option<&'a [u8]>,
    m: usize,
    k: usize,
    d: usize,
    kind: CovKind,
    reduce_opts: &ReduceOptions,
    screening: &Screening,
    machine_status_out: &mut [i32],
    selected_out: &mut [u8],
    coat_distance_out: Option<&mut [f64]>,
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    work: &mut [f64],
) -> Result<AggregateReport, Status> {
    let layout = Layout::new(m, k, d, kind)?;
    let c = kind.cov_len(d)?;
    check_outputs(
        m,
        k,
        d,
        c,
        machine_status_out,
        selected_out,
        coat_distance_out.as_deref(),
        weights_out,
        means_out,
        covs_out,
    )?;
    let decoded = decoded_len(m, k, d, kind)?;
    ensure_len(work.len(), checked_add(decoded, layout.total()?)?)?;
    check_parameters(method, reduce_opts, screening, m, None)?;

    let (decoded, work) = work.split_at_mut(decoded);
    let (weights, rest) = decoded.split_at_mut(m * k);
    let (means, rest) = rest.split_at_mut(m * k * d);
    let (covs, rest) = rest.split_at_mut(m * k * c);
    let (sizes, rest) = rest.split_at_mut(m);
    let (rejected, scratch) = rest.split_at_mut(m);
    let (kd, kc) = (k * d, k * c);
    for i in 0..m {
        let outcome = match messages(i) {
            None | Some([]) => Err(Status::MissingMessage),
            Some(bytes) => decode_into_slots(
                bytes,
                k,
                d,
                kind,
                &mut weights[i * k..(i + 1) * k],
                &mut means[i * kd..(i + 1) * kd],
                &mut covs[i * kc..(i + 1) * kc],
                scratch,
            ),
        };
        (sizes[i], rejected[i]) = match outcome {
            // n >= 1; as f64 it is finite and > 0 (rounded above 2^53).
            Ok(n) => (n as f64, 0.0),
            Err(e) => (1.0, f64::from(e.code())),
        };
    }
    let stack = Stack {
        weights,
        means,
        covs,
        rejected: Some(rejected),
        k,
        d,
        c,
        kind,
    };
    let mut parts = Parts::split(&layout, work);
    run(
        method,
        &stack,
        m,
        Some(sizes),
        reduce_opts,
        screening,
        &mut parts,
        machine_status_out,
        selected_out,
        coat_distance_out,
        weights_out,
        means_out,
        covs_out,
    )
}

/// The aggregation proper, on checked sizes, buffers and parameters.
#[allow(clippy::too_many_arguments)]
fn run(
    method: Aggregator,
    stack: &Stack,
    m: usize,
    sample_sizes: Option<&[f64]>,
    reduce_opts: &ReduceOptions,
    screening: &Screening,
    p: &mut Parts,
    machine_status_out: &mut [i32],
    selected_out: &mut [u8],
    coat_distance_out: Option<&mut [f64]>,
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
) -> Result<AggregateReport, Status> {
    let (k, d, c, kind) = (stack.k, stack.d, stack.c, stack.kind);
    let valid = prepare(stack, m, sample_sizes, screening, p)?;
    let (coat_index, radius) = coat_unchecked(p.dist, m, p.row);
    if valid < majority(m) || !radius.is_finite() {
        for i in 0..m {
            machine_status_out[i] = p.status[i] as i32;
            selected_out[i] = 0;
        }
        return Err(Status::NoMajority);
    }
    let is_valid = |status: &[f64], i: usize| status[i] == 0.0;

    // Methods that return one machine's estimate.
    let pick = match method {
        Aggregator::Coat => Some(coat_index),
        Aggregator::Medoid => {
            let mut best = (0, f64::INFINITY);
            for i in (0..m).filter(|&i| is_valid(p.status, i)) {
                let row = &p.dist[i * m..(i + 1) * m];
                let cost: f64 = (0..m)
                    .filter(|&j| is_valid(p.status, j))
                    .map(|j| row[j] * row[j])
                    .sum();
                if cost < best.1 {
                    best = (i, cost);
                }
            }
            // COAT's sum is finite (a finite radius), so some sum is.
            Some(best.0)
        }
        Aggregator::Dfmr { .. } | Aggregator::Vanilla | Aggregator::Trim { .. } => None,
    };
    if let Some(chosen) = pick {
        let (w, mu, s) = stack.machine(chosen);
        weights_out[..k].copy_from_slice(w);
        means_out[..k * d].copy_from_slice(mu);
        covs_out[..k * c].copy_from_slice(s);
        p.selected[..m]
            .iter_mut()
            .enumerate()
            .for_each(|(i, s)| *s = f64::from(u8::from(i == chosen)));
        write_machines(
            p,
            m,
            coat_index,
            machine_status_out,
            selected_out,
            coat_distance_out,
        );
        return Ok(AggregateReport {
            chosen,
            coat: coat_index,
            radius,
            selected: 1,
            valid,
            reduce: ReduceReport {
                objective: 0.0,
                iterations: 0,
                converged: true,
                kept: k,
            },
        });
    }

    // S and the total sample size over S.
    // Sizes relative to the largest, so that their sum cannot overflow (sizes near 1e308) and
    // lambda_j = n_j / sum n is the same for sizes of any scale.
    // Over the valid machines only: what invalid ones claim changes nothing.
    let largest = sample_sizes.map_or(1.0, |n| {
        (0..m)
            .filter(|&i| is_valid(p.status, i))
            .fold(0.0_f64, |a, i| a.max(n[i]))
    });
    let size = |i: usize| sample_sizes.map_or(1.0, |n| n[i] / largest);
    let row = &p.dist[coat_index * m..(coat_index + 1) * m];
    let mut total_n = 0.0;
    for (i, &d_coat_i) in row.iter().enumerate() {
        let keep = is_valid(p.status, i)
            && match method {
                Aggregator::Dfmr { rho } => d_coat_i <= rho * radius,
                _ => true,
            };
        p.selected[i] = if keep { 1.0 } else { 0.0 };
        if keep {
            total_n += size(i);
        }
    }

    // Pool S in place: compact index ci -> pooled index s <= ci.
    let (kd, kc) = (k * d, k * c);
    let (mut ci, mut s) = (0, 0);
    for i in 0..m {
        if !is_valid(p.status, i) {
            continue;
        }
        if p.selected[i] == 1.0 {
            let lambda = size(i) / total_n;
            p.weights.copy_within(ci * k..(ci + 1) * k, s * k);
            p.means.copy_within(ci * kd..(ci + 1) * kd, s * kd);
            p.covs.copy_within(ci * kc..(ci + 1) * kc, s * kc);
            for w in &mut p.weights[s * k..(s + 1) * k] {
                *w *= lambda;
            }
            s += 1;
        }
        ci += 1;
    }
    let pooled_w = &mut p.weights[..s * k];
    let sum: f64 = pooled_w.iter().sum();
    for w in pooled_w.iter_mut() {
        *w /= sum;
    }
    let input = Mixture::new(
        &p.weights[..s * k],
        &p.means[..s * kd],
        &p.covs[..s * kc],
        s * k,
        d,
        kind,
    )?;
    let (w0, mu0, s0) = stack.machine(coat_index);
    let init = Mixture::new(w0, mu0, s0, k, d, kind)?;
    let opts = match method {
        Aggregator::Trim { alpha } => ReduceOptions {
            trim: alpha,
            ..*reduce_opts
        },
        _ => *reduce_opts,
    };
    let reduce = reduce_mm(
        &input,
        &init,
        &opts,
        weights_out,
        means_out,
        covs_out,
        None,
        p.scratch,
    )?;
    write_machines(
        p,
        m,
        coat_index,
        machine_status_out,
        selected_out,
        coat_distance_out,
    );
    Ok(AggregateReport {
        chosen: coat_index,
        coat: coat_index,
        radius,
        selected: s,
        valid,
        reduce,
    })
}

/// Writes the per-machine outputs of a successful aggregation: statuses, selection flags (from
/// `p.selected`) and, if asked, the distances to COAT.
fn write_machines(
    p: &Parts,
    m: usize,
    coat_index: usize,
    machine_status_out: &mut [i32],
    selected_out: &mut [u8],
    coat_distance_out: Option<&mut [f64]>,
) {
    for i in 0..m {
        machine_status_out[i] = p.status[i] as i32;
        selected_out[i] = u8::from(p.selected[i] == 1.0);
    }
    if let Some(out) = coat_distance_out {
        out[..m].copy_from_slice(&p.dist[coat_index * m..(coat_index + 1) * m]);
    }
}
