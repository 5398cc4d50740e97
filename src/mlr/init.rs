//! A start for the EM that needs no knowledge of theta*: node-level moments.
//!
//! For the seed's model, v_j = s_j / n_j has
//! E[v_j v_j^T] = (1 + 1/n) theta* theta*^T + ((|theta*|^2 + sigma^2) / n) I,
//! so the top eigenvector u of M = (1/m) sum_j v_j v_j^T is the direction of +-theta*. The
//! scale is least squares along u with the node labels read off the signs of <s_j, u>:
//! c = sum_j |<s_j, u>| / (N u^T Sigma_hat u), and the start is c u.

use super::em::{check_metric, Metric};
use super::ensure_finite;
use crate::linalg::{dot, sym_eigen};
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// Workspace length (in f64) of [`init_from_node_moments`]: 2 d^2 + 2 d.
/// `SizeOverflow` if that overflows.
pub fn init_work_len(d: usize) -> Result<usize, Status> {
    checked_add(checked_mul(2, checked_mul(d, d)?)?, checked_mul(2, d)?)
}

/// The node-moment start: writes c u to `theta_out[..d]` (see the module docs). `node_sums` is
/// m x d (row j = s_j, as [`super::node_statistics`] writes it), `node_sizes` the m node sizes,
/// `metric` the Sigma_hat factor or the identity, `work` of length [`init_work_len`]`(d)`.
/// The sign of u is fixed (its largest component is positive), so the result is deterministic;
/// theta and -theta are the same model. If every node sum is zero (y == 0), the start is 0.
///
/// Errors, with `theta_out` untouched: `ZeroSize` (m or d zero), `SizeOverflow`,
/// `BufferTooShort` (node sums, theta_out, work, factor), `NodeSizes` (a zero node size),
/// `NonFinite` (NaN or infinity in the node sums or the factor), `NotSpd` (factor diagonal).
pub fn init_from_node_moments(
    node_sums: &[f64],
    node_sizes: &[usize],
    d: usize,
    metric: Metric,
    theta_out: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let m = node_sizes.len();
    if m == 0 || d == 0 {
        return Err(Status::ZeroSize);
    }
    let len_s = checked_mul(m, d)?;
    ensure_len(node_sums.len(), len_s)?;
    ensure_len(theta_out.len(), d)?;
    ensure_len(work.len(), init_work_len(d)?)?;
    if node_sizes.contains(&0) {
        return Err(Status::NodeSizes);
    }
    ensure_finite(&node_sums[..len_s])?;
    check_metric(metric, d)?;
    let (out, scratch) = work.split_at_mut(d);
    init_into(&node_sums[..len_s], node_sizes, d, metric, out, scratch)?;
    theta_out[..d].copy_from_slice(out);
    Ok(())
}

/// The initializer after all checks; `scratch` has length >= 2 d^2 + d.
pub(crate) fn init_into(
    node_sums: &[f64],
    node_sizes: &[usize],
    d: usize,
    metric: Metric,
    out: &mut [f64],
    scratch: &mut [f64],
) -> Result<(), Status> {
    let (moments, rest) = scratch.split_at_mut(d * d);
    let (vectors, rest) = rest.split_at_mut(d * d);
    let values = &mut rest[..d];
    // M = (1/m) sum_j s_j s_j^T / n_j^2, upper triangle then mirrored.
    moments.fill(0.0);
    let inv_m = 1.0 / node_sizes.len() as f64;
    for (s, &n) in node_sums.chunks_exact(d).zip(node_sizes) {
        let w = inv_m / (n as f64 * n as f64);
        for a in 0..d {
            let wa = w * s[a];
            for (mb, sb) in moments[a * d + a..(a + 1) * d].iter_mut().zip(&s[a..]) {
                *mb += wa * sb;
            }
        }
    }
    for a in 0..d {
        for b in a + 1..d {
            moments[b * d + a] = moments[a * d + b];
        }
    }
    sym_eigen(moments, d, values, vectors)?;
    let u = &vectors[..d];
    let n_total: f64 = node_sizes.iter().map(|&n| n as f64).sum();
    let projected: f64 = node_sums
        .chunks_exact(d)
        .map(|s| libm::fabs(dot(s, u)))
        .sum();
    let u_metric_u = match metric {
        Metric::Identity => dot(u, u),
        // u^T L L^T u = |L^T u|^2, (L^T u)_a = sum_{b >= a} L_ba u_b.
        Metric::SigmaHat(l) => (0..d)
            .map(|a| {
                let v: f64 = (a..d).map(|b| l[b * d + a] * u[b]).sum();
                v * v
            })
            .sum(),
    };
    let scale = projected / (n_total * u_metric_u);
    for (o, &ua) in out.iter_mut().zip(u) {
        *o = scale * ua;
    }
    ensure_finite(out)
}
