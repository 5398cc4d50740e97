//! Bad input to `mk_gmm_fit` through the C ABI: each kind gets its own status and every output
//! (parameters, report) stays bitwise untouched.

use mixkern::ffi::*;
use mixkern::Status;
use std::ptr::{null, null_mut};

const SENTINEL: f64 = -12345.678;
const N: usize = 60;
const D: usize = 2;
const K: usize = 2;

/// Every argument of one call, valid unless a test perturbs it.
#[derive(Clone)]
struct Call {
    x: Vec<f64>,
    n: usize,
    d: usize,
    k: usize,
    options: MkGmmFitOptions,
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
        options.init = MK_GMM_INIT_PARAMS;
        options.max_iter = 5;
        Call {
            x,
            n: N,
            d: D,
            k: K,
            options,
            init_weights: vec![0.5, 0.5],
            init_means: vec![0.5, 0.5, 4.0, 4.0],
            init_covs: vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
            init_resp: (0..N)
                .flat_map(|i| if i % 2 == 0 { [1.0, 0.0] } else { [0.0, 1.0] })
                .collect(),
            sample_weights: None,
            trace: false,
            work_len: mk_gmm_fit_work_len(N, K, D, MK_COV_FULL),
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
        let options: *const MkGmmFitOptions = if self.nulls.contains(&"options") {
            null()
        } else {
            &self.options
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
                self.k,
                options,
                self.ptr("init_weights", self.init_weights.as_ptr()),
                self.ptr("init_means", self.init_means.as_ptr()),
                self.ptr("init_covs", self.init_covs.as_ptr()),
                self.ptr("init_resp", self.init_resp.as_ptr()),
                sw,
                mut_ptr("weights_out", out.weights.as_mut_ptr()),
                mut_ptr("means_out", out.means.as_mut_ptr()),
                mut_ptr("covs_out", out.covs.as_mut_ptr()),
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
    for init in [
        MK_GMM_INIT_PARAMS,
        MK_GMM_INIT_KMEANSPP,
        MK_GMM_INIT_RESPONSIBILITIES,
    ] {
        let mut c = Call::valid();
        c.options.init = init;
        let (status, out) = c.run();
        assert_eq!(status, 0, "init {init}");
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
        "weights_out",
        "means_out",
        "covs_out",
        "work",
        "report",
        "init_weights",
        "init_means",
        "init_covs",
    ] {
        let mut c = Call::valid();
        c.nulls.push(name);
        assert_rejects(&c, Status::NullPointer, name);
    }
    let mut c = Call::valid();
    c.options.init = MK_GMM_INIT_RESPONSIBILITIES;
    c.nulls.push("init_resp");
    assert_rejects(
        &c,
        Status::NullPointer,
        "init_resp with MK_GMM_INIT_RESPONSIBILITIES",
    );
    // Start buffers that the chosen start does not use may be NULL.
    let mut c = Call::valid();
    c.options.init = MK_GMM_INIT_KMEANSPP;
    c.nulls
        .extend(["init_weights", "init_means", "init_covs", "init_resp"]);
    assert_eq!(c.run().0, 0);
}

#[test]
fn sizes() {
    let mut c = Call::valid();
    c.n = 0;
    assert_rejects(&c, Status::ZeroSize, "n = 0");
    let mut c = Call::valid();
    c.options.init = MK_GMM_INIT_KMEANSPP;
    c.d = 0;
    assert_rejects(&c, Status::ZeroSize, "d = 0");
    let mut c = Call::valid();
    c.options.init = MK_GMM_INIT_KMEANSPP;
    c.k = 0;
    assert_rejects(&c, Status::ZeroSize, "k = 0");
    let mut c = Call::valid();
    c.n = usize::MAX / 2 + 1;
    assert_rejects(&c, Status::SizeOverflow, "n d overflows");
    let mut c = Call::valid();
    c.work_len -= 1;
    assert_rejects(&c, Status::BufferTooShort, "work one short");
    let mut c = Call::valid();
    c.options.init = MK_GMM_INIT_KMEANSPP;
    c.n = 1;
    assert_rejects(&c, Status::BadParameter, "n < K");
    assert_eq!(mk_gmm_fit_work_len(0, K, D, MK_COV_FULL), 0);
    assert_eq!(mk_gmm_fit_work_len(N, K, D, 7), 0);
    assert_eq!(mk_gmm_fit_work_len(usize::MAX, 2, 2, MK_COV_FULL), 0);
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
    c.options.init = MK_GMM_INIT_RESPONSIBILITIES;
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
    let cases: Vec<(&str, Perturb)> = vec![
        ("cov_kind 7", Box::new(|c| c.options.cov_kind = 7)),
        ("init 9", Box::new(|c| c.options.init = 9)),
        ("penalized 2", Box::new(|c| c.options.penalized = 2)),
        ("reg_covar -1", Box::new(|c| c.options.reg_covar = -1.0)),
        (
            "reg_covar NaN",
            Box::new(|c| c.options.reg_covar = f64::NAN),
        ),
        ("tol -1", Box::new(|c| c.options.tol = -1.0)),
        ("tol NaN", Box::new(|c| c.options.tol = f64::NAN)),
        ("max_iter 0", Box::new(|c| c.options.max_iter = 0)),
        ("n_init 0", Box::new(|c| c.options.n_init = 0)),
        (
            "trace with n_init 2",
            Box::new(|c| (c.options.n_init, c.trace) = (2, true)),
        ),
        (
            "negative sample weight",
            Box::new(|c| {
                c.sample_weights = Some((0..N).map(|i| if i == 3 { -1.0 } else { 1.0 }).collect())
            }),
        ),
        (
            "zero sample weights",
            Box::new(|c| c.sample_weights = Some(vec![0.0; N])),
        ),
        (
            "resp row not summing to 1",
            Box::new(|c| (c.options.init, c.init_resp[0]) = (MK_GMM_INIT_RESPONSIBILITIES, 0.9)),
        ),
        (
            "negative resp",
            Box::new(|c| {
                (c.options.init, c.init_resp[0], c.init_resp[1]) =
                    (MK_GMM_INIT_RESPONSIBILITIES, 1.5, -0.5)
            }),
        ),
    ];
    for (what, perturb) in cases {
        let mut c = Call::valid();
        perturb(&mut c);
        assert_rejects(&c, Status::BadParameter, what);
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
