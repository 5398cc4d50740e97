//! Mixture densities in the log domain: per-sample log-density, log-likelihood,
//! responsibilities, hard labels, BIC.
