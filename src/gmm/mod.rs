//! Gaussian mixtures: checked views over caller buffers (more kernels arrive with issue 3).
//!
//! A mixture of K components in d dimensions is `weights[K]`, `means[K*d]` and either
//! `covs[K*d*d]` (full, symmetric, row-major) or `covs[K*d]` (diagonal). m mixtures with the same
//! (K, d) are the same arrays concatenated.

mod density;
mod mixture;

pub use mixture::{CovKind, Mixture};
