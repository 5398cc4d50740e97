//! Bad input to `mk_gmm_fit` through the C ABI: each kind gets its own status and every output
//! (parameters, report) stays bitwise untouched.

use mixkern::ffi::*;
use mixkern::Status;
use std::ptr::{null, null_mut};

const SENTINEL: f64 = -12345.678;
const N: usize = 60;
const D: usize = 2;
const K: usize = 2;

/// Which start a call gives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Start {
    /// `init_weights`, `init_means` and `init_covs`.
    Params,
    /// No start: k-means++.
    KMeans,
    /// `init_resp`.
    Resp,
}

/// Every argument of one call, valid unless a test perturbs it.
#[derive(Clone)]
struct Call {
    x: Vec<f64>,
    n: usize,
    d: usize,
    k: usize,
    cov_kind: i32,
    fit_d: usize,
    options: MkGmmFitOptions,
    start: Start,
    init_weights: Vec<f64>,
    init_means: Vec<f64>,
    init_covs: Vec<f64>,
    init_resp: Vec<f64>,
    sample_weights: Option<Vec<f64>>,
    trace: bool,
    work_len: usize,
    /// Names of the pointers to pass as NULL.
    nulls: Vec<&'static str>,
}

struct Outputs {
    weights: Vec<f64>,
    means: Vec<f64>,
    covs: Vec<f64>,
    report: MkGmmFitReport,
    trace: Vec<f64>,
}

impl Call {
    fn valid() -> Call {
        // Two clusters around (0, 0) and (5, 5), deterministic.
        let x: Vec<f64> = (0..N)
            .flat_map(|i| {
                let c = if i % 2 == 0 { 0.0 } else { 5.0 };
                let t = i as f64 * 0.37;
                [c + t.sin(), c + (1.3 * t).cos()]
            })
            .collect();
        let mut options = mk_gmm_fit_options_default();
        options.max_iter = 5;
        let shape = MkMixtureOut {
            k: K,
            d: D,
            cov_kind: MK_COV_FULL,
            weights: null_mut(),
            means: null_mut(),
            covs: null_mut(),
        };
        Call {
            x,
            n: N,
            d: D,
            k: K,
            cov_kind: MK_COV_FULL,
            fit_d: D,
            options,
            start: Start::Params,
            init_weights: vec![0.5, 0.5],
            init_means: vec![0.5, 0.5, 4.0, 4.0],
            init_covs: vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
            init_resp: (0..N)
                .flat_map(|i| if i % 2 == 0 { [1.0, 0.0] } else { [0.0, 1.0] })
                .collect(),
            sample_weights: None,
            trace: false,
            // SAFETY: the descriptor is valid (its arrays are not read).
            work_len: unsafe { mk_gmm_fit_work_len(N, D, &shape) },
            nulls: vec![],
        }
    }

    fn ptr(&self, name: &str, p: *const f64) -> *const f64 {
        if self.nulls.contains(&name) {
            null()
        } else {
            p
        }
    }

    /// Runs the call with sentinel-filled outputs; returns the status and the outputs.
    fn run(&self) -> (i32, Outputs) {
        let mut out = Outputs {
            weights: vec![SENTINEL; 8],
            means: vec![SENTINEL; 16],
            covs: vec![SENTINEL; 32],
            report: MkGmmFitReport {
                log_likelihood: SENTINEL,
                mean_log_likelihood: SENTINEL,
                iterations: 77,
                converged: 77,
                reseeded: 77,
                regularized: 77,
                best_restart: 77,
                prior_samples: SENTINEL,
            },
            trace: vec![SENTINEL; 64],
        };
        let mut work = vec![f64::NAN; self.work_len.min(1 << 20)];
        let sw = self.sample_weights.as_ref().map_or(null(), |w| w.as_ptr());
        let mut_ptr = |name: &str, p: *mut f64| {
            if self.nulls.contains(&name) {
                null_mut()
            } else {
                p
            }
        };
        let mut options = self.options;
        if self.start == Start::Params {
            options.init_weights = self.ptr("init_weights", self.init_weights.as_ptr());
            options.init_means = self.ptr("init_means", self.init_means.as_ptr());
            options.init_covs = self.ptr("init_covs", self.init_covs.as_ptr());
        }
        if self.start == Start::Resp {
            options.init_resp = self.ptr("init_resp", self.init_resp.as_ptr());
        }
        let options: *const MkGmmFitOptions = if self.nulls.contains(&"options") {
            null()
        } else {
            &options
        };
        let fit = MkMixtureOut {
            k: self.k,
            d: self.fit_d,
            cov_kind: self.cov_kind,
            weights: mut_ptr("weights_out", out.weights.as_mut_ptr()),
            means: mut_ptr("means_out", out.means.as_mut_ptr()),
            covs: mut_ptr("covs_out", out.covs.as_mut_ptr()),
        };
        let fit: *const MkMixtureOut = if self.nulls.contains(&"fit") {
            null()
        } else {
            &fit
        };
        let report: *mut MkGmmFitReport = if self.nulls.contains(&"report") {
            null_mut()
        } else {
            &mut out.report
        };
        // SAFETY: every pointer is valid for the lengths the call derives from (n, d, k, options),
        // or null; work_len never exceeds the buffer except in the overflow tests, which fail
        // before any access.
        let status = unsafe {
            mk_gmm_fit(
                self.ptr("x", self.x.as_ptr()),
                self.n,
                self.d,
                sw,
                options,
                fit,
                null_mut(),
                null_mut(),
                if self.trace {
                    out.trace.as_mut_ptr()
                } else {
                    null_mut()
                },
                mut_ptr("work", work.as_mut_ptr()),
                self.work_len,
                report,
            )
        };
        (status, out)
    }
}

fn assert_rejects(call: &Call, expected: Status, what: &str) {
    let (status, out) = call.run();
    assert_eq!(status, expected.code(), "{what}: got {status}");
    assert!(
        out.weights
            .iter()
            .chain(&out.means)
            .chain(&out.covs)
            .all(|v| v.to_bits() == SENTINEL.to_bits()),
        "{what}: outputs written"
    );
    assert_eq!(
        out.report.log_likelihood.to_bits(),
        SENTINEL.to_bits(),
        "{what}: report written"
    );
    assert_eq!(
        (out.report.iterations, out.report.converged),
        (77, 77),
        "{what}: report written"
    );
}

#[test]
fn a_valid_call_succeeds_from_each_start() {
    for start in [Start::Params, Start::KMeans, Start::Resp] {
        let mut c = Call::valid();
        c.start = start;
        let (status, out) = c.run();
        assert_eq!(status, 0, "start {start:?}");
        assert!((out.weights[0] + out.weights[1] - 1.0).abs() < 1e-12);
        assert!(out.report.log_likelihood.is_finite() && out.report.iterations >= 1);
        assert!(
            out.weights[2..]
                .iter()
                .all(|v| v.to_bits() == SENTINEL.to_bits()),
            "wrote past K"
        );
    }
}

#[test]
fn null_pointers() {
    for name in [
        "x",
        "options",
        "fit",
        "weights_out",
        "means_out",
        "covs_out",
        "work",
        "report",
    ] {
        let mut c = Call::valid();
        c.nulls.push(name);
        assert_rejects(&c, Status::NullPointer, name);
    }
}

#[test]
fn sizes() {
    let mut c = Call::valid();
    c.n = 0;
    assert_rejects(&c, Status::ZeroSize, "n = 0");
    let mut c = Call::valid();
    c.start = Start::KMeans;
    (c.d, c.fit_d) = (0, 0);
    assert_rejects(&c, Status::ZeroSize, "d = 0");
    let mut c = Call::valid();
    c.start = Start::KMeans;
    c.k = 0;
    assert_rejects(&c, Status::ZeroSize, "k = 0");
    let mut c = Call::valid();
    c.n = usize::MAX / 2 + 1;
    assert_rejects(&c, Status::SizeOverflow, "n d overflows");
    let mut c = Call::valid();
    c.work_len -= 1;
    assert_rejects(&c, Status::BufferTooShort, "work one short");
    let mut c = Call::valid();
    c.start = Start::KMeans;
    c.n = 1;
    assert_rejects(&c, Status::TooFewSamples, "n < K");
    // Swapped sizes no longer compile into a wrong fit: d and the descriptor's d must agree.
    let mut c = Call::valid();
    c.start = Start::KMeans;
    c.fit_d = 3;
    assert_rejects(&c, Status::ShapeMismatch, "fit->d != d");
    let shape = |k, d, cov_kind| MkMixtureOut {
        k,
        d,
        cov_kind,
        weights: null_mut(),
        means: null_mut(),
        covs: null_mut(),
    };
    // SAFETY (all calls): the descriptors are valid or NULL; their arrays are not read.
    unsafe {
        assert_eq!(mk_gmm_fit_work_len(0, D, &shape(K, D, MK_COV_FULL)), 0);
        assert_eq!(mk_gmm_fit_work_len(N, D, &shape(K, D, 7)), 0);
        assert_eq!(mk_gmm_fit_work_len(N, 3, &shape(K, D, MK_COV_FULL)), 0);
        assert_eq!(mk_gmm_fit_work_len(N, D, null()), 0);
        assert_eq!(
            mk_gmm_fit_work_len(usize::MAX, 2, &shape(2, 2, MK_COV_FULL)),
            0
        );
    }
}

#[test]
fn non_finite_samples_and_starts() {
    for (i, v) in [
        (0usize, f64::NAN),
        (N, f64::INFINITY),
        (2 * N - 1, f64::NEG_INFINITY),
    ] {
        let mut c = Call::valid();
        c.x[i] = v;
        assert_rejects(&c, Status::NonFinite, "x");
    }
    let mut c = Call::valid();
    c.init_means[1] = f64::NAN;
    assert_rejects(&c, Status::NonFinite, "init mean");
    let mut c = Call::valid();
    c.start = Start::Resp;
    c.init_resp[3] = f64::NAN;
    assert_rejects(&c, Status::NonFinite, "init resp");
    let mut c = Call::valid();
    c.sample_weights = Some(vec![1.0; N]);
    c.sample_weights.as_mut().unwrap()[5] = f64::INFINITY;
    assert_rejects(&c, Status::NonFinite, "sample weight");
}

#[test]
fn parameters_out_of_their_domain() {
    type Perturb = Box<dyn Fn(&mut Call)>;
    let cases: Vec<(&str, Status, Perturb)> = vec![
        (
            "cov_kind 7",
            Status::BadParameter,
            Box::new(|c| c.cov_kind = 7),
        ),
        (
            "penalized 2",
            Status::BadParameter,
            Box::new(|c| c.options.penalized = 2),
        ),
        (
            "reg_covar -1",
            Status::BadParameter,
            Box::new(|c| c.options.reg_covar = -1.0),
        ),
        (
            "reg_covar NaN",
            Status::BadParameter,
            Box::new(|c| c.options.reg_covar = f64::NAN),
        ),
        (
            "tol -1",
            Status::BadParameter,
            Box::new(|c| c.options.tol = -1.0),
        ),
        (
            "tol NaN",
            Status::BadParameter,
            Box::new(|c| c.options.tol = f64::NAN),
        ),
        (
            "n_init 0",
            Status::BadParameter,
            Box::new(|c| c.options.n_init = 0),
        ),
        (
            "responsibilities together with parameters",
            Status::BadParameter,
            Box::new(|c| {
                c.options.init_resp = c.init_resp.as_ptr();
            }),
        ),
        (
            "negative sample weight",
            Status::SampleWeights,
            Box::new(|c| {
                c.sample_weights = Some((0..N).map(|i| if i == 3 { -1.0 } else { 1.0 }).collect())
            }),
        ),
        (
            "zero sample weights",
            Status::SampleWeights,
            Box::new(|c| c.sample_weights = Some(vec![0.0; N])),
        ),
        (
            "resp row not summing to 1",
            Status::Weights,
            Box::new(|c| (c.start, c.init_resp[0]) = (Start::Resp, 0.9)),
        ),
        (
            "negative resp",
            Status::Weights,
            Box::new(|c| (c.start, c.init_resp[0], c.init_resp[1]) = (Start::Resp, 1.5, -0.5)),
        ),
    ];
    for (what, status, perturb) in cases {
        let mut c = Call::valid();
        perturb(&mut c);
        assert_rejects(&c, status, what);
    }
}

#[test]
fn invalid_start_mixtures() {
    let mut c = Call::valid();
    c.init_weights = vec![0.7, 0.7];
    assert_rejects(&c, Status::Weights, "weights summing to 1.4");
    let mut c = Call::valid();
    c.init_weights = vec![1.2, -0.2];
    assert_rejects(&c, Status::Weights, "negative weight");
    let mut c = Call::valid();
    c.init_covs = vec![1.0, 2.0, 2.0, 1.0, 1.0, 0.0, 0.0, 1.0];
    assert_rejects(&c, Status::NotSpd, "indefinite covariance");
    let mut c = Call::valid();
    c.init_covs = vec![1.0, 0.5, 0.4, 1.0, 1.0, 0.0, 0.0, 1.0];
    assert_rejects(&c, Status::NotSpd, "asymmetric covariance");
}

/// Dirty workspaces and the trace give bitwise the results of a clean one; the trace is the
/// mean log-likelihood per iteration and never decreases.
#[test]
fn dirty_work_and_trace() {
    let mut c = Call::valid();
    c.trace = true;
    let (status, a) = c.run();
    assert_eq!(status, 0);
    let mut clean = Call::valid();
    clean.trace = false;
    let (_, b) = clean.run();
    assert_eq!(
        a.weights.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.weights.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(
        a.covs.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.covs.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let used = a.report.iterations;
    assert!(used >= 2);
    for pair in a.trace[..used].windows(2) {
        assert!(pair[1] >= pair[0] - 1e-12 * pair[0].abs(), "{pair:?}");
    }
    assert!(
        a.trace[used..]
            .iter()
            .all(|v| v.to_bits() == SENTINEL.to_bits()),
        "trace written past the iterations run"
    );
}
