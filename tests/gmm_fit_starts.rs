//! What a binding needs from `mk_gmm_fit` (found wrapping it as a scikit-learn estimator):
//! starts that give only some of the parameters, `max_iter = 0` returning the start, weights
//! stored in single precision, a warm start that judges convergence across calls, the trace of
//! the returned run with restarts, the responsibilities and labels of the fit, and a single
//! sample as a valid start. All through the C ABI, against its own definitions.

use mixkern::ffi::*;
use mixkern::gmm::{self, CovKind, Mixture};
use mixkern::Status;
use std::ptr::{null, null_mut};

const D: usize = 2;
const K: usize = 3;
const N: usize = 600;

/// Seeded samples from a well-separated 3-component mixture.
fn samples() -> Vec<f64> {
    let w = [0.3, 0.3, 0.4];
    let mu = [0.0, 0.0, 5.0, 5.0, -5.0, 4.0];
    let s = [1.0, 0.3, 0.3, 1.0, 0.8, 0.0, 0.0, 0.8, 1.5, -0.2, -0.2, 0.7];
    let mix = Mixture::new(&w, &mu, &s, K, D, CovKind::Full).unwrap();
    let mut x = vec![0.0; N * D];
    let mut work = vec![0.0; gmm::simulate_work_len(K, D, CovKind::Full).unwrap()];
    gmm::simulate(3, &mix, N, &mut x, None, &mut work).unwrap();
    x
}

/// A fitted mixture and its report.
#[derive(Clone, Debug, PartialEq)]
struct Fit {
    w: Vec<f64>,
    mu: Vec<f64>,
    s: Vec<f64>,
    iterations: usize,
    converged: i32,
    log_likelihood: f64,
    mean_log_likelihood: f64,
    best_restart: usize,
}

/// Optional per-sample outputs to request.
#[derive(Default)]
struct Extra {
    resp: Option<Vec<f64>>,
    labels: Option<Vec<usize>>,
    trace: Option<Vec<f64>>,
}

/// `mk_gmm_fit` of K full components on `x` (n x D); the status and, on success, the fit.
fn fit(x: &[f64], n: usize, k: usize, o: &MkGmmFitOptions, extra: &mut Extra) -> Result<Fit, i32> {
    let (mut w, mut mu, mut s) = (vec![0.0; k], vec![0.0; k * D], vec![0.0; k * D * D]);
    let out = MkMixtureOut::over(k, D, MK_COV_FULL, &mut w, &mut mu, &mut s);
    // SAFETY: a valid descriptor.
    let mut work = vec![f64::NAN; unsafe { mk_gmm_fit_work_len(n, D, &out) }];
    let mut report = std::mem::MaybeUninit::<MkGmmFitReport>::uninit();
    let ptr = |v: &mut Option<Vec<f64>>| v.as_mut().map_or(null_mut(), |v| v.as_mut_ptr());
    let labels = extra.labels.as_mut().map_or(null_mut(), |v| v.as_mut_ptr());
    // SAFETY: buffers of the documented lengths; the options' start pointers are valid.
    let status = unsafe {
        mk_gmm_fit(
            x.as_ptr(),
            n,
            D,
            null(),
            o,
            &out,
            ptr(&mut extra.resp),
            labels,
            ptr(&mut extra.trace),
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    if status != 0 {
        return Err(status);
    }
    // SAFETY: written on success.
    let r = unsafe { report.assume_init() };
    Ok(Fit {
        w,
        mu,
        s,
        iterations: r.iterations,
        converged: r.converged,
        log_likelihood: r.log_likelihood,
        mean_log_likelihood: r.mean_log_likelihood,
        best_restart: r.best_restart,
    })
}

fn options(seed: u64, max_iter: usize) -> MkGmmFitOptions {
    MkGmmFitOptions {
        seed,
        max_iter,
        tol: 1e-8,
        ..mk_gmm_fit_options_default()
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn max_iter_zero_returns_the_start() {
    let x = samples();
    // A given start comes back as given, with the log-likelihood at it.
    let w = [0.25, 0.25, 0.5];
    let mu = [0.5, 0.5, 4.0, 4.0, -4.0, 3.0];
    let s = [1.0, 0.1, 0.1, 1.0, 2.0, 0.0, 0.0, 2.0, 1.0, 0.0, 0.0, 1.0];
    let o = MkGmmFitOptions {
        init_weights: w.as_ptr(),
        init_means: mu.as_ptr(),
        init_covs: s.as_ptr(),
        ..options(0, 0)
    };
    let f = fit(&x, N, K, &o, &mut Extra::default()).unwrap();
    assert_eq!(
        (bits(&f.w), bits(&f.mu), bits(&f.s)),
        (bits(&w), bits(&mu), bits(&s))
    );
    assert_eq!((f.iterations, f.converged), (0, 0));
    let start = MkMixture::over(K, D, MK_COV_FULL, &w, &mu, &s);
    let mut total = 0.0;
    // SAFETY: valid buffers and descriptor.
    let status = unsafe {
        let mut work = vec![0.0; mk_gmm_log_likelihood_work_len(N, D, &start)];
        mk_gmm_log_likelihood(
            x.as_ptr(),
            N,
            D,
            &start,
            &mut total,
            null_mut(),
            work.as_mut_ptr(),
            work.len(),
        )
    };
    assert_eq!(status, 0);
    assert!((f.log_likelihood - total).abs() <= 1e-12 * total.abs());

    // A k-means++ start comes back as its first M-step: the parameters whose mean
    // log-likelihood a full fit's trace starts with.
    let start = fit(&x, N, K, &options(5, 0), &mut Extra::default()).unwrap();
    let mut extra = Extra {
        trace: Some(vec![f64::NAN; 200]),
        ..Extra::default()
    };
    let full = fit(&x, N, K, &options(5, 200), &mut extra).unwrap();
    assert!(full.iterations >= 2);
    assert_eq!(
        extra.trace.unwrap()[0].to_bits(),
        start.mean_log_likelihood.to_bits()
    );
}

#[test]
fn a_partial_start_replaces_only_what_it_gives() {
    let x = samples();
    let kmeans = fit(&x, N, K, &options(9, 0), &mut Extra::default()).unwrap();
    // Means alone: the k-means++ start's weights and covariances, the given means.
    let means = [1.0, -1.0, 6.0, 6.0, -6.0, 5.0];
    let o = MkGmmFitOptions {
        init_means: means.as_ptr(),
        ..options(9, 0)
    };
    let f = fit(&x, N, K, &o, &mut Extra::default()).unwrap();
    assert_eq!(bits(&f.mu), bits(&means));
    assert_eq!((bits(&f.w), bits(&f.s)), (bits(&kmeans.w), bits(&kmeans.s)));
    // Covariances alone, and weights alone, likewise.
    let covs = [2.0, 0.0, 0.0, 2.0, 1.0, 0.5, 0.5, 1.0, 3.0, 0.0, 0.0, 3.0];
    let o = MkGmmFitOptions {
        init_covs: covs.as_ptr(),
        ..options(9, 0)
    };
    let f = fit(&x, N, K, &o, &mut Extra::default()).unwrap();
    assert_eq!(bits(&f.s), bits(&covs));
    assert_eq!(
        (bits(&f.w), bits(&f.mu)),
        (bits(&kmeans.w), bits(&kmeans.mu))
    );
    let weights = [0.5, 0.25, 0.25];
    let o = MkGmmFitOptions {
        init_weights: weights.as_ptr(),
        ..options(9, 0)
    };
    let f = fit(&x, N, K, &o, &mut Extra::default()).unwrap();
    assert_eq!(bits(&f.w), bits(&weights));
    assert_eq!(
        (bits(&f.mu), bits(&f.s)),
        (bits(&kmeans.mu), bits(&kmeans.s))
    );
    // Giving the k-means++ start's own means changes nothing: the whole fit is the same.
    let o = MkGmmFitOptions {
        init_means: kmeans.mu.as_ptr(),
        ..options(9, 100)
    };
    let given = fit(&x, N, K, &o, &mut Extra::default()).unwrap();
    let plain = fit(&x, N, K, &options(9, 100), &mut Extra::default()).unwrap();
    assert_eq!(given, plain);
    // A given covariance that is not positive definite is rejected.
    let bad = [1.0, 2.0, 2.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
    let o = MkGmmFitOptions {
        init_covs: bad.as_ptr(),
        ..options(9, 10)
    };
    assert_eq!(
        fit(&x, N, K, &o, &mut Extra::default()),
        Err(Status::NotSpd.code())
    );
}

#[test]
fn single_precision_weights_are_accepted_and_renormalized() {
    let x = samples();
    let mu = [0.5, 0.5, 4.0, 4.0, -4.0, 3.0];
    // Stored as float: 0.3f, 0.3f and 0.4f sum to 1 + 1.5e-8 in double.
    let w32 = [0.3f32 as f64, 0.3f32 as f64, 0.4f32 as f64];
    let sum: f64 = w32.iter().sum();
    assert!((sum - 1.0).abs() > 1e-9 && (sum - 1.0).abs() < 1e-6);
    let o = MkGmmFitOptions {
        init_weights: w32.as_ptr(),
        init_means: mu.as_ptr(),
        ..options(0, 0)
    };
    let f = fit(&x, N, K, &o, &mut Extra::default()).unwrap();
    for (got, given) in f.w.iter().zip(&w32) {
        assert_eq!(got.to_bits(), (given / sum).to_bits());
    }
    // Beyond the documented tolerance (1e-6) the weights are rejected.
    let off = [0.3, 0.3, 0.4 + 2e-6];
    let o = MkGmmFitOptions {
        init_weights: off.as_ptr(),
        ..options(0, 0)
    };
    assert_eq!(
        fit(&x, N, K, &o, &mut Extra::default()),
        Err(Status::Weights.code())
    );
}

#[test]
fn a_warm_start_judges_convergence_across_calls() {
    let x = samples();
    let first = fit(&x, N, K, &options(2, 500), &mut Extra::default()).unwrap();
    assert_eq!(first.converged, 1);
    let again = |previous: f64| {
        let o = MkGmmFitOptions {
            init_weights: first.w.as_ptr(),
            init_means: first.mu.as_ptr(),
            init_covs: first.s.as_ptr(),
            previous_lower_bound: previous,
            tol: 1e-6,
            ..options(2, 500)
        };
        fit(&x, N, K, &o, &mut Extra::default()).unwrap()
    };
    // With the previous lower bound the first iteration already meets the tolerance.
    let warm = again(first.mean_log_likelihood);
    assert_eq!((warm.iterations, warm.converged), (1, 1));
    // Without it the first iteration has nothing to compare with.
    let cold = again(f64::NEG_INFINITY);
    assert!(cold.iterations >= 2, "{cold:?}");
}

#[test]
fn the_trace_with_restarts_is_the_returned_runs() {
    let x = samples();
    let n_init = 4;
    let mut exercised = false;
    for seed in 0..8u64 {
        let mut extra = Extra {
            trace: Some(vec![f64::NAN; 300]),
            ..Extra::default()
        };
        let o = MkGmmFitOptions {
            n_init,
            ..options(seed, 300)
        };
        let best = fit(&x, N, K, &o, &mut extra).unwrap();
        // The returned run alone: restart r starts from seed + r.
        let mut alone = Extra {
            trace: Some(vec![f64::NAN; 300]),
            ..Extra::default()
        };
        let single = fit(
            &x,
            N,
            K,
            &options(seed + best.best_restart as u64, 300),
            &mut alone,
        )
        .unwrap();
        assert_eq!(
            (
                bits(&best.w),
                bits(&best.mu),
                bits(&best.s),
                best.iterations
            ),
            (
                bits(&single.w),
                bits(&single.mu),
                bits(&single.s),
                single.iterations
            )
        );
        let t = best.iterations;
        assert_eq!(
            bits(&extra.trace.unwrap()[..t]),
            bits(&alone.trace.unwrap()[..t]),
            "seed {seed}"
        );
        exercised |= best.best_restart + 1 < n_init;
    }
    assert!(
        exercised,
        "no seed returned an earlier restart than the last"
    );
}

#[test]
fn responsibilities_and_labels_are_those_of_the_returned_fit() {
    let x = samples();
    let mut extra = Extra {
        resp: Some(vec![f64::NAN; N * K]),
        labels: Some(vec![usize::MAX; N]),
        ..Extra::default()
    };
    let f = fit(&x, N, K, &options(4, 100), &mut extra).unwrap();
    let mix = MkMixture::over(K, D, MK_COV_FULL, &f.w, &f.mu, &f.s);
    let (mut resp, mut labels) = (vec![0.0; N * K], vec![0usize; N]);
    // SAFETY: valid buffers and descriptor.
    unsafe {
        let mut work = vec![0.0; mk_gmm_responsibilities_work_len(N, D, &mix)];
        let status = mk_gmm_responsibilities(
            x.as_ptr(),
            N,
            D,
            &mix,
            resp.as_mut_ptr(),
            null_mut(),
            work.as_mut_ptr(),
            work.len(),
        );
        assert_eq!(status, 0);
        let status = mk_gmm_hard_labels(
            x.as_ptr(),
            N,
            D,
            &mix,
            labels.as_mut_ptr(),
            work.as_mut_ptr(),
            work.len(),
        );
        assert_eq!(status, 0);
    }
    assert_eq!(bits(extra.resp.as_ref().unwrap()), bits(&resp));
    assert_eq!(extra.labels.unwrap(), labels);
}

#[test]
fn a_single_sample_is_a_valid_start_and_fit() {
    let x = [1.5, -2.0];
    let resp = [1.0];
    let reg = 1e-6;
    for o in [
        MkGmmFitOptions {
            init_resp: resp.as_ptr(),
            ..options(0, 10)
        },
        options(0, 10),
    ] {
        let f = fit(&x, 1, 1, &o, &mut Extra::default()).unwrap();
        assert_eq!(f.w, vec![1.0]);
        // scikit-learn's M-step divides by n_k + 10 eps: the mean is x to a few ulps, the
        // covariance reg_covar I plus a square of that.
        for (m, v) in f.mu.iter().zip(&x) {
            assert!((m - v).abs() <= 1e-14 * v.abs(), "{m} vs {v}");
        }
        for (got, want) in f.s.iter().zip([reg, 0.0, 0.0, reg]) {
            assert!((got - want).abs() <= 1e-12 * reg, "{:?}", f.s);
        }
        assert!(f.log_likelihood.is_finite());
    }
}
