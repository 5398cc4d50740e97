//! # mixkern
//!
//! Allocation-free kernels for learning finite mixture models where the data live, with a C ABI.
//!
//! The core is `#![no_std]` and never allocates: every buffer belongs to the caller, and an
//! operation that needs scratch space takes `work: &mut [f64]` together with a `*_work_len`
//! query computed by the same code the kernel uses. Arrays are dense, row-major `f64`.
//!
//! Module map:
//! - [`status`]: the status codes shared by the safe API and the C ABI.
//! - [`linalg`]: small dense kernels (dot, axpy, Cholesky, triangular solves, log-determinant,
//!   symmetric eigen-decomposition).
//! - [`special`]: `exp`, `expm1`, `tanh`, `sigmoid` that stay exact for arguments of any size
//!   and vectorize inside loops.
//! - [`rng`]: a seeded PRNG and Gaussian sampler, identical on every platform.
//! - [`gmm`]: Gaussian mixtures: checked views over caller buffers, densities.
//! - [`distance`]: closed-form L2 distances between mixtures, KL costs, moment matching.
//! - [`mlr`]: mixtures of linear regressions with clustered data (C-MLR): node statistics,
//!   Algorithm 1 and 2 EM steps and fits, initialization, simulation.
//! - [`ffi`]: the `extern "C"` layer (prefix `mk_`), a thin skin over the safe API.
//!
//! Feature `std` (default) only adds the panic boundary (`catch_unwind`) at the C ABI.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

mod cpu;
pub mod distance;
pub mod ffi;
pub mod gmm;
pub mod linalg;
pub mod mlr;
pub mod rng;
pub mod special;
pub mod status;

pub use status::Status;
