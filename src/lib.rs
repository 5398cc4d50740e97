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
//!   Algorithm 1 and 2 EM steps and fits, initialization, simulation; and mixtures of K
//!   regressions, grouped (on per-node sufficient statistics) or not (streaming).
//! - [`parallel`]: sums over fixed chunks of the data, the same on any number of threads.
//! - [`reduce`]: MM reduction of a weighted mixture to K components (KL cost).
//! - [`robust`]: COAT, DFMR and the baseline aggregators of local estimates.
//! - [`wire`]: the versioned, checked byte format of one local estimate.
//! - [`ffi`]: the `extern "C"` layer (prefix `mk_`), a thin skin over the safe API.
//!
//! Feature `std` (default) adds the panic boundary (`catch_unwind`) at the C ABI and threads
//! for the fits' passes over the samples (`threads` in their options).
//!
//! A clustered regression fit from the safe API, without knowing theta*:
//!
//! ```
//! use mixkern::mlr::{self, ClusteredData, FitOptions, Trace};
//!
//! let (m, n, d) = (100, 20, 5);
//! let theta_star = [2.0, -1.0, 0.5, 3.0, -2.0];
//! let sizes = vec![n; m];
//! let (mut x, mut y) = (vec![0.0; m * n * d], vec![0.0; m * n]);
//! mlr::simulate(7, &theta_star, d, 1.0, &sizes, &mut x, &mut y, None)?;
//!
//! let data = ClusteredData::new(&x, &y, d, &sizes)?;
//! let mut work = vec![0.0; mlr::fit_work_len(m, d)?];
//! let mut theta = [0.0; 5]; // ignored: the default start is the node moments
//! let report = mlr::fit(&data, &FitOptions::default(), &mut theta, None, Trace::default(), &mut work)?;
//! assert!(report.converged && report.iterations <= 5);
//! // Statistical accuracy sigma sqrt(d / N) = 0.05; theta and -theta are the same model.
//! assert!(mlr::sign_invariant_distance(&theta, &theta_star) < 0.15);
//! # Ok::<(), mixkern::Status>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

mod cpu;
mod dispatch;
pub mod distance;
pub mod ffi;
pub mod gmm;
pub mod linalg;
pub mod mlr;
pub mod parallel;
pub mod reduce;
pub mod rng;
pub mod robust;
pub mod special;
pub mod status;
pub mod wire;

pub use status::Status;
