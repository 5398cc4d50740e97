//! The fuzz harness: turns libFuzzer's bytes into calls of mixkern's C entry points and checks
//! the contract every call keeps:
//! - never `MK_STATUS_PANIC`, and every status a known code;
//! - on an error, every output exactly as it was (sentinel-filled before the call; the
//!   per-machine statuses of `MK_STATUS_NO_MAJORITY` aside);
//! - on OK, every output finite, weights summing to 1, covariances that factor (Cholesky), and
//!   the traces documented as monotone non-decreasing or non-increasing, to a stated rounding
//!   tolerance.
//!
//! Most targets read their input as: sizes and options (one byte each), a seed from which a
//! valid problem is drawn (so the OK paths are reached), then mutations, each a position and a
//! value (raw bits, a scaling by a power of 2, a sign flip, a zero, a copy), applied to the
//! problem's numbers until the bytes run out. The seed corpus (`fuzz/corpus/<target>/`) holds
//! inputs without mutations, which are valid calls.

use mixkern::ffi::*;
use mixkern::rng::Rng;
use mixkern::Status;

/// What outputs hold before a call: a NaN whose payload no computation produces.
pub const SENTINEL: f64 = f64::from_bits(0x7ff8_dead_beef_cafe);

/// Whether every value still holds the sentinel.
pub fn untouched(values: &[f64]) -> bool {
    values.iter().all(|v| v.to_bits() == SENTINEL.to_bits())
}

/// A status must be a known code other than `MK_STATUS_PANIC`.
pub fn check_status(code: i32) {
    let status = Status::from_code(code).unwrap_or_else(|| panic!("unknown status {code}"));
    assert_ne!(status, Status::Panic, "a panic was caught: a mixkern bug");
}

/// The fuzz input, read front to back; an exhausted input reads as zeros.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// The reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether bytes remain.
    pub fn remaining(&self) -> bool {
        !self.data.is_empty()
    }

    /// The next byte (0 when exhausted).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A size in lo..=hi.
    pub fn size(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.byte() as usize % (hi - lo + 1)
    }

    /// One of the values.
    pub fn pick<T: Copy>(&mut self, values: &[T]) -> T {
        values[self.byte() as usize % values.len()]
    }

    /// A u64 from the next 8 bytes (little-endian, zero-padded).
    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |acc, i| acc | (u64::from(self.byte()) << (8 * i)))
    }

    /// Applies the remaining bytes as mutations to `values` (nothing for an empty slice);
    /// returns how many were applied.
    pub fn mutate(&mut self, values: &mut [f64]) -> usize {
        let mut count = 0;
        while self.remaining() && !values.is_empty() {
            count += 1;
            let at = (usize::from(self.byte()) | usize::from(self.byte()) << 8) % values.len();
            match self.byte() % 6 {
                0 => values[at] = f64::from_bits(self.u64()),
                1 => values[at] *= libm_ldexp(self.byte() as i8),
                2 => values[at] = -values[at],
                3 => values[at] = 0.0,
                4 => {
                    let from = self.byte() as usize % values.len();
                    values[at] = values[from];
                }
                _ => values[at] += f64::from(self.byte() as i8) / 16.0,
            }
        }
        count
    }
}

/// 2^e for a small exponent.
fn libm_ldexp(e: i8) -> f64 {
    f64::powi(2.0, i32::from(e) * 4)
}

/// A valid mixture of K components in d dimensions drawn from `rng`: weights bounded away from
/// 0, means N(0, 3^2), covariances A A^T + 0.1 I (full) or variances in [0.1, 2.1] (diagonal).
pub fn random_mixture(
    rng: &mut Rng,
    k: usize,
    d: usize,
    full: bool,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut w: Vec<f64> = (0..k).map(|_| 0.2 + rng.uniform()).collect();
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= total);
    let mu: Vec<f64> = (0..k * d).map(|_| 3.0 * rng.normal()).collect();
    let c = if full { d * d } else { d };
    let mut s = vec![0.0; k * c];
    for j in 0..k {
        if full {
            let a: Vec<f64> = (0..d * d).map(|_| rng.normal()).collect();
            for r in 0..d {
                for t in 0..d {
                    let v: f64 = (0..d).map(|u| a[r * d + u] * a[t * d + u]).sum();
                    s[j * c + r * d + t] = v + if r == t { 0.1 } else { 0.0 };
                }
            }
        } else {
            for r in 0..d {
                s[j * c + r] = 0.1 + 2.0 * rng.uniform();
            }
        }
    }
    (w, mu, s)
}

/// n samples from a valid mixture, through `mk_gmm_simulate`.
pub fn samples(
    mix: &(Vec<f64>, Vec<f64>, Vec<f64>),
    k: usize,
    d: usize,
    full: bool,
    n: usize,
    seed: u64,
) -> Vec<f64> {
    let kind = if full { MK_COV_FULL } else { MK_COV_DIAG };
    let desc = MkMixture::over(k, d, kind, &mix.0, &mix.1, &mix.2);
    let mut x = vec![0.0; n * d];
    // SAFETY: a valid descriptor and buffers of the documented lengths.
    let status = unsafe {
        let mut work = vec![0.0; mk_gmm_simulate_work_len(&desc, n)];
        mk_gmm_simulate(
            &desc,
            n,
            seed,
            x.as_mut_ptr(),
            std::ptr::null_mut(),
            work.as_mut_ptr(),
            work.len(),
        )
    };
    assert_eq!(status, 0, "simulating a valid mixture failed");
    x
}

/// Whether a symmetric d x d matrix (row-major) factors by mixkern's Cholesky, the test its
/// documentation promises (`MK_STATUS_NOT_SPD` otherwise).
pub fn factorizable(s: &[f64], d: usize) -> bool {
    let mut l = s[..d * d].to_vec();
    mixkern::linalg::cholesky(&mut l, d).is_ok()
}

/// The checks of a mixture an OK call returns: `k` components valid (finite, weights >= 0
/// summing to 1 within 1e-9, covariances positive definite), the rest of the arrays zero.
pub fn check_mixture(w: &[f64], mu: &[f64], s: &[f64], k: usize, d: usize, full: bool) {
    let c = if full { d * d } else { d };
    assert!(
        w.iter().chain(mu).chain(s).all(|v| v.is_finite()),
        "non-finite output"
    );
    assert!(w[..k].iter().all(|&v| v >= 0.0), "negative weight {w:?}");
    let total: f64 = w[..k].iter().sum();
    assert!((total - 1.0).abs() <= 1e-9, "weights sum to {total}");
    for j in 0..k {
        let cov = &s[j * c..(j + 1) * c];
        if full {
            assert!(
                factorizable(cov, d),
                "covariance {j} does not factor: {cov:?}"
            );
        } else {
            assert!(cov.iter().all(|&v| v > 0.0), "variance <= 0: {cov:?}");
        }
    }
}

/// The condition number of a symmetric positive definite d x d matrix (row-major): its largest
/// eigenvalue over its smallest (+inf when that is not positive).
pub fn condition(s: &[f64], d: usize) -> f64 {
    let (mut a, mut values, mut vectors) = (s[..d * d].to_vec(), vec![0.0; d], vec![0.0; d * d]);
    mixkern::linalg::sym_eigen(&mut a, d, &mut values, &mut vectors).expect("finite matrix");
    if values[d - 1] > 0.0 {
        values[0] / values[d - 1]
    } else {
        f64::INFINITY
    }
}

/// Checks that a trace moves one way only, up to rounding: each step may go the wrong way by at
/// most `rel` of the larger magnitude plus `abs`.
pub fn check_monotone(trace: &[f64], increasing: bool, rel: f64, abs: f64) {
    assert!(
        trace.iter().all(|v| v.is_finite()),
        "non-finite trace {trace:?}"
    );
    for pair in trace.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let wrong_way = if increasing { a - b } else { b - a };
        let slack = rel * a.abs().max(b.abs()) + abs;
        assert!(wrong_way <= slack, "trace not monotone: {trace:?}");
    }
}

/// The regression-mixture targets' problem and checks.
pub mod regression {
    use super::{Input, SENTINEL};
    use mixkern::ffi::*;
    use mixkern::rng::Rng;

    /// A regression mixture's data, drawn from a seed, and the fit's shape and options.
    pub struct Problem {
        pub k: usize,
        pub d: usize,
        pub intercept: i32,
        pub x: Vec<f64>,
        pub y: Vec<f64>,
        pub node_sizes: Vec<usize>,
        pub options: MkMixRegOptions,
    }

    impl Problem {
        /// Reads the sizes and options, then draws m nodes of up to `max_node` samples each
        /// (their labels shared within a node), y = [1, x] theta_k + sigma eps.
        pub fn read(input: &mut Input, max_node: usize) -> Problem {
            let (k, d, intercept) = (
                input.size(1, 3),
                input.size(1, 3),
                i32::from(input.byte() % 2),
            );
            let m = input.size(1, 30);
            let node_sizes: Vec<usize> = (0..m).map(|_| input.size(1, max_node)).collect();
            let noise = input.pick(&[MK_NOISE_PER_COMPONENT, MK_NOISE_SHARED, MK_NOISE_KNOWN]);
            let options = MkMixRegOptions {
                noise,
                known_sigma: 0.5,
                tol: input.pick(&[1e-8, 0.0]),
                max_iter: input.size(1, 30),
                n_init: input.size(1, 2),
                seed: u64::from(input.byte()),
                ..mk_mixreg_options_default()
            };
            let mut rng = Rng::new(input.u64());
            let p = d + intercept as usize;
            let thetas: Vec<f64> = (0..k * p).map(|_| 3.0 * rng.normal()).collect();
            let n: usize = node_sizes.iter().sum();
            let (mut x, mut y) = (vec![0.0; n * d], vec![0.0; n]);
            let mut i = 0;
            for &size in &node_sizes {
                let label = rng.below(k as u64) as usize;
                for _ in 0..size {
                    let theta = &thetas[label * p..(label + 1) * p];
                    let mut v = if intercept == 1 { theta[0] } else { 0.0 };
                    for a in 0..d {
                        x[i * d + a] = rng.normal();
                        v += x[i * d + a] * theta[a + intercept as usize];
                    }
                    y[i] = v + 0.5 * rng.normal();
                    i += 1;
                }
            }
            Problem {
                k,
                d,
                intercept,
                x,
                y,
                node_sizes,
                options,
            }
        }
    }

    /// The outputs of one fit, sentinel-filled.
    pub struct Fit {
        pub w: Vec<f64>,
        pub coefs: Vec<f64>,
        pub sigma2: Vec<f64>,
        pub posteriors: Vec<f64>,
        pub trace: Vec<f64>,
        k: usize,
        /// The trace is passed (and checked) only with one start, as the fits require.
        traced: bool,
        /// Whether the trace must be monotone: EM's guarantee holds in exact arithmetic for
        /// statistics of real data (unmutated). A nearly exact fit, whose residual sum computed
        /// from statistics is rounding, is held at the rounding floor and reported
        /// (`sigma_floored`), and then not checked.
        pub monotone: bool,
    }

    impl Fit {
        /// A bound on the rounding of the log-likelihood near the returned fit: 64 eps times
        /// the terms that cancel in each residual, sum_i sum_k r_ik (y_i^2 + p sum_a
        /// theta_ka^2 z_ia^2) / (2 sigma_k^2), with z_i = [1, x_i] or x_i, the posteriors of
        /// sample i (or of its node) r_ik. A component's residual sum from node statistics
        /// (c - 2 theta^T b + theta^T G theta) is only that accurate.
        fn log_likelihood_rounding(&self, problem: &Problem) -> f64 {
            let (k, d) = (self.k, problem.d);
            let icpt = problem.intercept as usize;
            let p = d + icpt;
            let by_node = self.posteriors.len() == problem.node_sizes.len() * k;
            let mut node_of = Vec::new();
            for (j, &size) in problem.node_sizes.iter().enumerate() {
                node_of.extend(std::iter::repeat_n(j, size));
            }
            let mut total = 0.0;
            for (i, &yv) in problem.y.iter().enumerate() {
                let row = if by_node { node_of[i] } else { i };
                let z: Vec<f64> = std::iter::repeat_n(1.0, icpt)
                    .chain(problem.x[i * d..(i + 1) * d].iter().copied())
                    .collect();
                for c in 0..k {
                    let theta = &self.coefs[c * p..(c + 1) * p];
                    let coef_terms: f64 = theta.iter().zip(&z).map(|(t, v)| t * t * v * v).sum();
                    let r = self.posteriors[row * k + c];
                    total += r * (yv * yv + p as f64 * coef_terms) / (2.0 * self.sigma2[c]);
                }
            }
            64.0 * f64::EPSILON * total
        }

        /// Outputs for a problem with `rows` posterior rows.
        pub fn new(problem: &Problem, rows: usize) -> Fit {
            let (k, p) = (problem.k, problem.d + problem.intercept as usize);
            Fit {
                w: vec![SENTINEL; k],
                coefs: vec![SENTINEL; k * p],
                sigma2: vec![SENTINEL; k],
                posteriors: vec![SENTINEL; rows * k],
                trace: vec![SENTINEL; problem.options.max_iter],
                k,
                traced: problem.options.n_init == 1,
                monotone: true,
            }
        }

        /// The trace buffer to pass: NULL with restarts.
        pub fn trace_ptr(&mut self) -> *mut f64 {
            if self.traced {
                self.trace.as_mut_ptr()
            } else {
                std::ptr::null_mut()
            }
        }

        /// The output descriptor over the buffers.
        pub fn descriptor(&mut self, problem: &Problem) -> MkMixRegOut {
            MkMixRegOut {
                k: problem.k,
                d: problem.d,
                intercept: problem.intercept,
                weights: self.w.as_mut_ptr(),
                coefs: self.coefs.as_mut_ptr(),
                sigma2: self.sigma2.as_mut_ptr(),
            }
        }

        /// The contract for the call's status and report.
        pub fn check(
            &self,
            problem: &Problem,
            status: i32,
            report: &std::mem::MaybeUninit<MkMixRegReport>,
        ) {
            super::check_status(status);
            if status == 0 {
                // SAFETY: written on success.
                let r = unsafe { report.assume_init() };
                let total: f64 = self.w.iter().sum();
                assert!(
                    self.w.iter().all(|v| v.is_finite() && *v >= 0.0)
                        && (total - 1.0).abs() <= 1e-9
                );
                assert!(
                    self.coefs.iter().all(|v| v.is_finite()),
                    "coefficients {:?}",
                    self.coefs
                );
                assert!(
                    self.sigma2.iter().all(|v| v.is_finite() && *v > 0.0),
                    "{:?}",
                    self.sigma2
                );
                for row in self.posteriors.chunks_exact(self.k) {
                    assert!(
                        (row.iter().sum::<f64>() - 1.0).abs() <= 1e-12,
                        "posteriors {row:?}"
                    );
                }
                assert!(
                    r.log_likelihood.is_finite() && r.bic.is_finite(),
                    "report {r:?}"
                );
                let no_repairs = r.emptied == 0 && r.sigma_floored == 0;
                if self.monotone && self.traced && no_repairs {
                    let slack = self.log_likelihood_rounding(problem);
                    super::check_monotone(&self.trace[..r.iterations], true, 1e-9, slack);
                }
            } else {
                let all = [&self.w, &self.coefs, &self.sigma2, &self.posteriors];
                assert!(
                    all.iter().all(|v| super::untouched(v)),
                    "written on {status}"
                );
            }
        }
    }
}
