//! Seeded data from the seed's C-MLR model, into caller buffers.

use super::{ensure_finite, total_of_node_sizes};
use crate::linalg::dot;
use crate::rng::Rng;
use crate::status::{checked_mul, ensure_len};
use crate::Status;

/// Draws clustered regression data: node j gets one fair sign xi_j, each of its n_j samples
/// x ~ N(0, I_d) and y = xi_j <x, theta*> + sigma eps, eps ~ N(0, 1). Nodes are laid out one
/// after another, as [`super::ClusteredData`] expects. Writes X to `x_out[..N*d]`, y to
/// `y_out[..N]` with N = sum of `node_sizes`, and the signs to `labels_out[..m]` if given.
/// The same seed gives the same data on every platform.
///
/// Draw order (part of the contract, so other implementations can reproduce it): per node, the
/// sign, then per sample the d coordinates of x and then eps, all from [`Rng::new`]`(seed)`.
///
/// Errors, with the outputs untouched: `ZeroSize` (d or m zero), `NodeSizes` (a zero node size
/// or an overflowing sum), `SizeOverflow` (N d), `BufferTooShort` (theta*, x_out, y_out,
/// labels_out), `BadParameter` (sigma negative, NaN or infinite; 0 gives noiseless data),
/// `NonFinite` (theta* not finite, or 16 (|theta*|_1 + sigma) overflows, so y could).
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    seed: u64,
    theta_star: &[f64],
    d: usize,
    sigma: f64,
    node_sizes: &[usize],
    x_out: &mut [f64],
    y_out: &mut [f64],
    labels_out: Option<&mut [f64]>,
) -> Result<(), Status> {
    if d == 0 || node_sizes.is_empty() {
        return Err(Status::ZeroSize);
    }
    let n_total = total_of_node_sizes(node_sizes)?;
    let len_x = checked_mul(n_total, d)?;
    ensure_len(theta_star.len(), d)?;
    ensure_len(x_out.len(), len_x)?;
    ensure_len(y_out.len(), n_total)?;
    if let Some(labels) = labels_out.as_deref() {
        ensure_len(labels.len(), node_sizes.len())?;
    }
    if !(sigma >= 0.0 && sigma.is_finite()) {
        return Err(Status::BadParameter);
    }
    let theta_star = &theta_star[..d];
    ensure_finite(theta_star)?;
    // A normal draw of this generator never exceeds 16 in magnitude, so |y| <= 16 (|theta*|_1
    // + sigma): when that bound overflows, the data could, and nothing is written.
    let bound = 16.0 * (theta_star.iter().map(|v| libm::fabs(*v)).sum::<f64>() + sigma);
    if !bound.is_finite() {
        return Err(Status::NonFinite);
    }

    let mut rng = Rng::new(seed);
    let mut rows = x_out[..len_x]
        .chunks_exact_mut(d)
        .zip(y_out[..n_total].iter_mut());
    let mut labels = labels_out;
    for (j, &n) in node_sizes.iter().enumerate() {
        let xi = rng.sign();
        if let Some(l) = labels.as_deref_mut() {
            l[j] = xi;
        }
        for (row, y) in rows.by_ref().take(n) {
            for v in row.iter_mut() {
                *v = rng.normal();
            }
            *y = xi * dot(row, theta_star) + sigma * rng.normal();
        }
    }
    Ok(())
}
