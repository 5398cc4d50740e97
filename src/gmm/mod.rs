//! Gaussian mixtures: checked views over caller buffers, densities, the local EM fit, its
//! sufficient statistics (E-step, merge, M-step) and the fit over samples read in chunks.
//!
//! A mixture of K components in d dimensions is `weights[K]`, `means[K*d]` and either
//! `covs[K*d*d]` (full, symmetric, row-major) or `covs[K*d]` (diagonal). m mixtures with the same
//! (K, d) are the same arrays concatenated.

mod chunked;
mod density;
mod fit;
mod mixture;
mod stats;

pub use chunked::{gmm_fit_chunked, gmm_fit_chunked_work_len, ReadSamples};
pub use density::{
    bic, density_work_len, factored_len, hard_labels, log_density, log_likelihood,
    n_free_parameters, pass_scratch_len, responsibilities, simulate, simulate_work_len,
    FactoredMixture, LogLikelihood,
};
pub use fit::{
    gmm_fit, gmm_fit_work_len, GmmFitOptions, GmmFitOutputs, GmmFitReport, GmmInit,
    MIN_COMPONENT_MASS, START_SUM_TOL,
};
pub use mixture::{CovKind, Mixture, SYMMETRY_TOL, WEIGHT_SUM_TOL};
pub use stats::{
    gmm_accumulate, gmm_accumulate_work_len, gmm_m_step, gmm_m_step_work_len, gmm_merge_stats,
    gmm_stats_len, GmmMStepReport,
};
