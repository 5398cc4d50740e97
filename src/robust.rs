//! COAT, DFMR and the baseline aggregators of local mixture estimates.
//!
//! m machines each send a local estimate G_1..G_m: K components in d dimensions, all with the
//! same covariance storage, concatenated as in [`crate::gmm`]. D_ij = |G_i - G_j| is the L2
//! distance (not squared) of [`crate::distance::l2_distance`].
//!
//! - [`coat`]: h = floor(m/2) + 1, r_i = the h-th smallest of D_i1..D_im (D_ii = 0 counts);
//!   COAT = argmin_i r_i (lowest index on ties), r_COAT its radius: the smallest ball centred
//!   at a local estimate that holds a strict majority of them.
//! - [`dfmr_aggregate`]: S = { j valid : D_COAT,j <= rho r_COAT }; the components of S pooled
//!   with weights lambda_j w_jk, lambda_j = n_j / sum_{l in S} n_l, reduced to K by
//!   [`reduce_mm`] started from COAT's estimate.
//! - Baselines: [`vanilla_aggregate`] (the same reduction over every valid machine) and
//!   [`medoid`] (argmin_i sum_j D_ij^2).
//!
//! Byzantine inputs: in aggregation a malformed local estimate is not an error of the call.
//! Each machine is checked with [`Mixture::new`] and by the self distance |G_i - G_i|, which
//! factors every S_a + S_b of the machine (so a covariance that is not positive definite is
//! caught per machine, with `NotSpd`). A machine that fails is reported in
//! `machine_status_out` with the status code of the failure, treated as infinitely far from
//! every other machine, and never selected. Should the distance between two valid machines
//! overflow, that pair is taken as infinitely far too.
//!
//! The one failure that is the call's own (besides bad sizes and buffers): fewer than
//! floor(m/2) + 1 valid machines, or no finite COAT radius among them. No honest majority can
//! then be certified, and the call returns `Status::NonFinite` (the COAT radius would not be
//! finite) with every output untouched.

use crate::distance::{
    l2_distance, l2_distance_sq, l2_distance_sq_work_len, l2_pairwise, l2_pairwise_work_len,
};
use crate::gmm::{CovKind, Mixture};
use crate::reduce::{reduce_mm, reduce_mm_work_len, ReduceOptions, ReduceReport};
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// The majority size h = floor(m/2) + 1 used by [`coat`].
pub fn majority(m: usize) -> usize {
    m / 2 + 1
}

/// The filter radius factor the DFMR authors used: rho = max(1, sqrt(2 ln(m/2) ln ln m)).
///
/// For m <= 2 the logarithms are not both positive and the result is 1; the formula itself
/// stays below 1 up to m = 5, so `default_rho(m) == 1.0` for every m <= 5
/// (`default_rho(6)` is about 1.13, `default_rho(10)` about 1.64, `default_rho(20)` about 1.98).
pub fn default_rho(m: usize) -> f64 {
    if m <= 2 {
        return 1.0;
    }
    let mf = m as f64;
    let v = 2.0 * libm::log(mf / 2.0) * libm::log(libm::log(mf));
    let rho = libm::sqrt(if v > 0.0 { v } else { 0.0 });
    if rho > 1.0 {
        rho
    } else {
        1.0
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
/// `work`), `NonFinite` (a NaN entry, or no finite radius: every machine has fewer than h
/// finite entries in its row, i.e. no majority can be certified), `BadParameter` (a negative
/// entry).
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
        Err(Status::NonFinite)
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

/// What [`dfmr_aggregate`] and [`vanilla_aggregate`] report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DfmrReport {
    /// The index of the COAT machine (0-based, among all m).
    pub coat: usize,
    /// r_COAT, the COAT radius (finite).
    pub radius: f64,
    /// |S|, the number of machines pooled (>= 1).
    pub selected: usize,
    /// The number of machines whose estimate was valid.
    pub valid: usize,
    /// The report of the final [`reduce_mm`].
    pub reduce: ReduceReport,
}

/// What [`medoid`] reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MedoidReport {
    /// The index of the medoid machine (0-based, among all m).
    pub medoid: usize,
    /// sum_j D_medoid,j^2 over the valid machines j.
    pub cost: f64,
    /// The number of machines whose estimate was valid.
    pub valid: usize,
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
    /// A row copy for COAT: m.
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
            .max(reduce_mm_work_len(mk, k, d, kind)?);
        Ok(Layout {
            status: m,
            selected: m,
            dist: mm,
            compact: mm,
            weights: mk,
            means: checked_mul(mk, d)?,
            covs: checked_mul(mk, c)?,
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
            self.row,
            self.scratch,
        ]
        .iter()
        .try_fold(self.status, |acc, &n| checked_add(acc, n))
    }
}

/// Workspace length (doubles) of [`dfmr_aggregate`], [`vanilla_aggregate`] and [`medoid`] for
/// m machines of K components in dimension d: 3 m + 2 m^2 + m K (1 + d + c) + the largest of
/// [`l2_pairwise_work_len`]`(m, K, d, kind)`, [`l2_distance_sq_work_len`]`(d, kind, kind)` and
/// [`reduce_mm_work_len`]`(m K, K, d, kind)`, with c = d d (full) or d (diagonal).
///
/// Errors: `ZeroSize` (m, K or d is 0), `SizeOverflow`.
pub fn dfmr_work_len(m: usize, k: usize, d: usize, kind: CovKind) -> Result<usize, Status> {
    Layout::new(m, k, d, kind)?.total()
}

/// The m concatenated local estimates.
struct Stack<'a> {
    weights: &'a [f64],
    means: &'a [f64],
    covs: &'a [f64],
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

    /// Machine i's estimate, checked by [`Mixture::new`] and by its self distance.
    fn check(&self, i: usize, scratch: &mut [f64]) -> Result<Mixture<'a>, Status> {
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
        let (row, rest) = rest.split_at_mut(layout.row);
        Parts {
            status,
            selected,
            dist,
            compact,
            weights,
            means,
            covs,
            row,
            scratch: &mut rest[..layout.scratch],
        }
    }
}

/// Checks the sizes and buffers shared by the aggregators, validates every machine (status
/// codes into `p.status`, valid estimates compacted into `p.weights`, `p.means`, `p.covs`) and
/// fills `p.dist` with the m x m distances (+inf for invalid machines and overflowing pairs).
/// Returns the number of valid machines.
fn prepare(stack: &Stack, m: usize, p: &mut Parts) -> Result<usize, Status> {
    let (k, d, c) = (stack.k, stack.d, stack.c);
    let (kd, kc) = (k * d, k * c);
    let mut nv = 0;
    for i in 0..m {
        match stack.check(i, p.scratch) {
            Ok(_) => {
                let (w, mu, s) = stack.machine(i);
                p.weights[nv * k..(nv + 1) * k].copy_from_slice(w);
                p.means[nv * kd..(nv + 1) * kd].copy_from_slice(mu);
                p.covs[nv * kc..(nv + 1) * kc].copy_from_slice(s);
                p.status[i] = 0.0;
                nv += 1;
            }
            Err(e) => p.status[i] = f64::from(e.code()),
        }
    }
    if nv > 0 {
        let compact = &mut p.compact[..nv * nv];
        let (cw, cmu, cs) = (
            &p.weights[..nv * k],
            &p.means[..nv * kd],
            &p.covs[..nv * kc],
        );
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

/// Validates the shapes shared by the aggregators; returns (c, layout).
#[allow(clippy::too_many_arguments)]
fn check_shapes(
    weights: &[f64],
    means: &[f64],
    covs: &[f64],
    m: usize,
    k: usize,
    d: usize,
    kind: CovKind,
    machine_status_out: &[i32],
    weights_out: &[f64],
    means_out: &[f64],
    covs_out: &[f64],
    work: &[f64],
) -> Result<(usize, Layout), Status> {
    let layout = Layout::new(m, k, d, kind)?;
    let c = kind.cov_len(d)?;
    let mk = checked_mul(m, k)?;
    ensure_len(weights.len(), mk)?;
    ensure_len(means.len(), checked_mul(mk, d)?)?;
    ensure_len(covs.len(), checked_mul(mk, c)?)?;
    ensure_len(machine_status_out.len(), m)?;
    ensure_len(weights_out.len(), k)?;
    ensure_len(means_out.len(), checked_mul(k, d)?)?;
    ensure_len(covs_out.len(), checked_mul(k, c)?)?;
    ensure_len(work.len(), layout.total()?)?;
    Ok((c, layout))
}

/// DFMR: the reduction of the pooled estimates of the machines within rho r_COAT of COAT.
///
/// Inputs: the m local estimates concatenated, `weights[m*K]`, `means[m*K*d]`,
/// `covs[m*K*c]` (c = d d full, d diagonal, as `kind` says); `sample_sizes[m]` (n_j, each
/// finite and > 0), or `None` for equal sizes; `rho` >= 1 (finite; see [`default_rho`]);
/// `reduce_opts` for the final [`reduce_mm`].
///
/// Each machine is validated (see the [module docs](self)); an invalid one is reported, not an
/// error. Among the valid machines: the distances D, COAT and r_COAT ([`coat`] over all m,
/// invalid machines at +inf), S = { j valid : D_COAT,j <= rho r_COAT } (COAT is in S), the
/// pooled mixture of the |S| K components of S with weights lambda_j w_jk, lambda_j =
/// n_j / sum_{l in S} n_l (renormalized to sum 1 against rounding), and its reduction to K
/// components by [`reduce_mm`] started from COAT's estimate.
///
/// Outputs, written only on success: `machine_status_out[m]` (0 for a valid machine, else the
/// [`Status`] code of why its estimate was rejected: `NonFinite`, `Weights`, `NotSpd`, ...),
/// `selected_out[m]` (1 if the machine is in S, else 0), and the reduced mixture
/// `weights_out[K]`, `means_out[K*d]`, `covs_out[K*c]` as [`reduce_mm`] writes it (the first
/// `reduce.kept` components, the rest zero). `work` holds at least
/// [`dfmr_work_len`]`(m, K, d, kind)` doubles (scratch, never read before written).
///
/// Errors: `ZeroSize` (m, K or d is 0), `SizeOverflow`, `BufferTooShort` (an input, output or
/// `work`), `BadParameter` (`rho` < 1 or not finite, a sample size that is not finite and > 0,
/// or a bad `reduce_opts`), `NonFinite` (fewer than floor(m/2) + 1 valid machines, or no
/// finite COAT radius: no honest majority can be certified), any error of [`reduce_mm`] on
/// the pooled mixture (`NotSpd`, `NonFinite`).
#[allow(clippy::too_many_arguments)]
pub fn dfmr_aggregate(
    weights: &[f64],
    means: &[f64],
    covs: &[f64],
    m: usize,
    k: usize,
    d: usize,
    kind: CovKind,
    sample_sizes: Option<&[f64]>,
    rho: f64,
    reduce_opts: &ReduceOptions,
    machine_status_out: &mut [i32],
    selected_out: &mut [u8],
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    work: &mut [f64],
) -> Result<DfmrReport, Status> {
    if !(rho >= 1.0 && rho.is_finite()) {
        return Err(Status::BadParameter);
    }
    pooled_reduce(
        Stack::from_parts(weights, means, covs, k, d, kind)?,
        m,
        sample_sizes,
        Some(rho),
        reduce_opts,
        machine_status_out,
        selected_out,
        weights_out,
        means_out,
        covs_out,
        work,
    )
}

/// Vanilla: the reduction of the pooled estimates of every valid machine, started from COAT's
/// estimate.
///
/// The same inputs, outputs, workspace ([`dfmr_work_len`]) and errors as [`dfmr_aggregate`]
/// without `rho`: S is every valid machine (`selected_out` marks them all, and
/// `selected == valid` in the report). The honest-majority requirement stays, since the
/// reduction starts from COAT's estimate.
#[allow(clippy::too_many_arguments)]
pub fn vanilla_aggregate(
    weights: &[f64],
    means: &[f64],
    covs: &[f64],
    m: usize,
    k: usize,
    d: usize,
    kind: CovKind,
    sample_sizes: Option<&[f64]>,
    reduce_opts: &ReduceOptions,
    machine_status_out: &mut [i32],
    selected_out: &mut [u8],
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    work: &mut [f64],
) -> Result<DfmrReport, Status> {
    pooled_reduce(
        Stack::from_parts(weights, means, covs, k, d, kind)?,
        m,
        sample_sizes,
        None,
        reduce_opts,
        machine_status_out,
        selected_out,
        weights_out,
        means_out,
        covs_out,
        work,
    )
}

impl<'a> Stack<'a> {
    fn from_parts(
        weights: &'a [f64],
        means: &'a [f64],
        covs: &'a [f64],
        k: usize,
        d: usize,
        kind: CovKind,
    ) -> Result<Self, Status> {
        Ok(Stack {
            weights,
            means,
            covs,
            k,
            d,
            c: kind.cov_len(d)?,
            kind,
        })
    }
}

/// DFMR (`rho` = Some) or vanilla (`rho` = None).
#[allow(clippy::too_many_arguments)]
fn pooled_reduce(
    stack: Stack,
    m: usize,
    sample_sizes: Option<&[f64]>,
    rho: Option<f64>,
    reduce_opts: &ReduceOptions,
    machine_status_out: &mut [i32],
    selected_out: &mut [u8],
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    work: &mut [f64],
) -> Result<DfmrReport, Status> {
    let (k, d, kind) = (stack.k, stack.d, stack.kind);
    let (c, layout) = check_shapes(
        stack.weights,
        stack.means,
        stack.covs,
        m,
        k,
        d,
        kind,
        machine_status_out,
        weights_out,
        means_out,
        covs_out,
        work,
    )?;
    ensure_len(selected_out.len(), m)?;
    if let Some(n) = sample_sizes {
        ensure_len(n.len(), m)?;
        if !n[..m].iter().all(|&v| v > 0.0 && v.is_finite()) {
            return Err(Status::BadParameter);
        }
    }
    // The checks of reduce_mm, made before any work (NaN fails every comparison).
    let lambda_ok = reduce_opts.entropic_lambda >= 0.0 && reduce_opts.entropic_lambda.is_finite();
    let tol_ok = reduce_opts.tol >= 0.0;
    if !tol_ok || reduce_opts.max_iter == 0 || !lambda_ok {
        return Err(Status::BadParameter);
    }
    let mut p = Parts::split(&layout, work);
    let valid = prepare(&stack, m, &mut p)?;
    let (coat_index, radius) = coat_unchecked(p.dist, m, p.row);
    if valid < majority(m) || !radius.is_finite() {
        return Err(Status::NonFinite);
    }

    // S and the total sample size over S.
    let size = |i: usize| sample_sizes.map_or(1.0, |n| n[i]);
    let row = &p.dist[coat_index * m..(coat_index + 1) * m];
    let mut total_n = 0.0;
    for (i, &d_coat_i) in row.iter().enumerate() {
        let keep = p.status[i] == 0.0 && rho.is_none_or(|rho| d_coat_i <= rho * radius);
        p.selected[i] = if keep { 1.0 } else { 0.0 };
        if keep {
            total_n += size(i);
        }
    }

    // Pool S in place: compact index ci -> pooled index s <= ci.
    let (kd, kc) = (k * d, k * c);
    let (mut ci, mut s) = (0, 0);
    for i in 0..m {
        if p.status[i] != 0.0 {
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
    let reduce = reduce_mm(
        &input,
        &init,
        reduce_opts,
        weights_out,
        means_out,
        covs_out,
        None,
        p.scratch,
    )?;
    for i in 0..m {
        machine_status_out[i] = p.status[i] as i32;
        selected_out[i] = u8::from(p.selected[i] == 1.0);
    }
    Ok(DfmrReport {
        coat: coat_index,
        radius,
        selected: s,
        valid,
        reduce,
    })
}

/// Medoid: the valid machine with the smallest sum_j D_ij^2 over the valid machines j (lowest
/// index on ties); its estimate is copied to the outputs.
///
/// The same inputs as [`dfmr_aggregate`] (without sample sizes, `rho` and reduction options),
/// the same per-machine validation, and the same workspace ([`dfmr_work_len`]). Outputs,
/// written only on success: `machine_status_out[m]` (0 or the rejection status code),
/// `weights_out[K]`, `means_out[K*d]`, `covs_out[K*c]`.
///
/// Errors: `ZeroSize`, `SizeOverflow`, `BufferTooShort` (an input, output or `work`),
/// `NonFinite` (no valid machine, or every valid machine has an infinite sum).
#[allow(clippy::too_many_arguments)]
pub fn medoid(
    weights: &[f64],
    means: &[f64],
    covs: &[f64],
    m: usize,
    k: usize,
    d: usize,
    kind: CovKind,
    machine_status_out: &mut [i32],
    weights_out: &mut [f64],
    means_out: &mut [f64],
    covs_out: &mut [f64],
    work: &mut [f64],
) -> Result<MedoidReport, Status> {
    let stack = Stack::from_parts(weights, means, covs, k, d, kind)?;
    let (c, layout) = check_shapes(
        weights,
        means,
        covs,
        m,
        k,
        d,
        kind,
        machine_status_out,
        weights_out,
        means_out,
        covs_out,
        work,
    )?;
    let mut p = Parts::split(&layout, work);
    let valid = prepare(&stack, m, &mut p)?;
    let mut best = (0, f64::INFINITY);
    for i in (0..m).filter(|&i| p.status[i] == 0.0) {
        let row = &p.dist[i * m..(i + 1) * m];
        let cost: f64 = (0..m)
            .filter(|&j| p.status[j] == 0.0)
            .map(|j| row[j] * row[j])
            .sum();
        if cost < best.1 {
            best = (i, cost);
        }
    }
    if !best.1.is_finite() {
        return Err(Status::NonFinite);
    }
    let (w, mu, s) = stack.machine(best.0);
    weights_out[..k].copy_from_slice(w);
    means_out[..k * d].copy_from_slice(mu);
    covs_out[..k * c].copy_from_slice(s);
    for (out, &code) in machine_status_out.iter_mut().zip(p.status.iter()) {
        *out = code as i32;
    }
    Ok(MedoidReport {
        medoid: best.0,
        cost: best.1,
        valid,
    })
}
