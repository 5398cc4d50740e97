//! Mixtures of linear regressions with clustered data (C-MLR, seed 000).
//!
//! Model: m nodes; node j holds n_j pairs (x_ij in R^d, y_ij) that share one latent sign
//! xi_j in {+1, -1}: y_ij = xi_j <x_ij, theta*> + eps, eps ~ N(0, sigma^2), sigma known.
//!
//! - [`ClusteredData`]: a checked view over (X: N x d row-major, y: N, node sizes n_1..n_m).
//! - [`node_statistics`]: one pass over the data giving the node sums s_j = sum_i y_ij x_ij
//!   and the Cholesky factor of Sigma_hat = (1/N) sum x x^T: all that Algorithm 2 needs.
//! - [`alg1_step`] (ignores the clusters, one pass over the data per step) and [`alg2_step`]
//!   (honours them, O(m d) per step on the node sums); [`fit`] iterates either one.
//! - [`node_posteriors`]: P(xi_j = +1 | node j), the E-step of Algorithm 2.
//! - [`init_from_node_moments`]: a start that needs no knowledge of theta*.
//! - [`simulate`]: seeded data from the model, into caller buffers.
//! - [`mixreg_fit_grouped`] and [`mixreg_fit`]: general K-component mixtures of linear
//!   regressions (weights, coefficients with an optional intercept, noise per component, shared
//!   or known), on node sufficient statistics ([`node_sufficient_statistics`]) or streaming over
//!   ungrouped samples (R's regmixEM / flexmix model).
//!
//! Error metric: [`sign_invariant_distance`] = min(|theta - theta*|, |theta + theta*|).

mod data;
mod em;
mod init;
mod kernel;
mod mixreg;
mod simulate;

pub use data::{node_statistics, node_statistics_work_len, ClusteredData};
pub use em::{
    alg1_step, alg2_step, fit, fit_work_len, node_posteriors, step_work_len, Algorithm, FitOptions,
    FitReport, Init, Metric, Trace,
};
pub use init::{init_from_node_moments, init_work_len};
pub use mixreg::*;
pub use simulate::simulate;

/// min(|theta - theta_star|, |theta + theta_star|): the distance up to the model's sign symmetry.
/// Both slices have length d (the shorter length is used if they differ).
pub fn sign_invariant_distance(theta: &[f64], theta_star: &[f64]) -> f64 {
    let n = theta.len().min(theta_star.len());
    let (mut minus, mut plus) = (0.0, 0.0);
    for (a, b) in theta.iter().zip(theta_star) {
        minus += (a - b) * (a - b);
        plus += (a + b) * (a + b);
    }
    // Squares that overflow or underflow are redone scaled (|theta| near 1e154 and beyond).
    let minus = crate::linalg::safe_norm(minus, n, |i| theta[i] - theta_star[i]);
    let plus = crate::linalg::safe_norm(plus, n, |i| theta[i] + theta_star[i]);
    if minus < plus {
        minus
    } else {
        plus
    }
}

/// 1/sigma^2 after checking that sigma is positive and 1/sigma^2 is finite and positive.
fn inverse_noise_variance(sigma: f64) -> Result<f64, crate::Status> {
    let inv = 1.0 / (sigma * sigma);
    // `sigma > 0` is false for NaN; the bounds on `inv` reject under- and overflow of sigma^2.
    if sigma > 0.0 && inv.is_finite() && inv > 0.0 {
        Ok(inv)
    } else {
        Err(crate::Status::BadParameter)
    }
}

/// `Err(NonFinite)` unless every value is finite.
fn ensure_finite(values: &[f64]) -> Result<(), crate::Status> {
    // A sum of `v * 0` is 0 for finite values and NaN as soon as one is NaN or infinite;
    // unlike an early-exit search it vectorizes.
    let probe: f64 = values.iter().map(|v| v * 0.0).sum();
    if probe == 0.0 {
        Ok(())
    } else {
        Err(crate::Status::NonFinite)
    }
}

/// N = the sum of the node sizes: `NodeSizes` if one is zero or the sum overflows.
pub(crate) fn total_of_node_sizes(node_sizes: &[usize]) -> Result<usize, crate::Status> {
    node_sizes.iter().try_fold(0usize, |sum, &n| match n {
        0 => Err(crate::Status::NodeSizes),
        _ => sum.checked_add(n).ok_or(crate::Status::NodeSizes),
    })
}
