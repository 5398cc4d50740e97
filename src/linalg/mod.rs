//! Small dense linear algebra on row-major `f64` slices: the kernels every model builds on.
//!
//! Matrices are `d x d`, row-major, in slices of length at least `d * d`. Nothing allocates.

mod cholesky;
mod eigen;
mod vector;

pub(crate) use cholesky::solve_lower_portable;
#[cfg(test)]
pub(crate) use cholesky::tests::{lower_factor, random_spd, TEST_DIMS};
pub use cholesky::{
    cholesky, cholesky_solve, log_det_cholesky, solve_lower, solve_lower_transpose,
};
pub use eigen::sym_eigen;
pub(crate) use vector::chunk_sums4;
pub(crate) use vector::safe_norm;
pub use vector::{axpy, distance2, dot, norm2};
