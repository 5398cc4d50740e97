//! Closed-form L2 distances between Gaussian mixtures, pairwise matrices, KL between Gaussians,
//! moment matching.
