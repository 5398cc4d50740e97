//! The inputs an independent audit found returning OK with an invalid result, each with the
//! corrected behaviour: a call that returns OK returns finite, valid outputs, and a report that
//! tells the truth about them.

use mixkern::ffi::*;
use mixkern::Status;
use std::ptr::null;

/// `mk_cmlr_fit`, d = 1, one node of one sample with y = 1e154: the step norm used to sum
/// unscaled squares, overflow to +inf, and read `inf <= tol * inf` as converged after one
/// iteration. With scaled norms the step is finite, the first iteration (a jump from 293 to
/// 1.8e154) is not convergence, and the second (no move) is.
#[test]
fn cmlr_fit_with_huge_responses_does_not_read_an_infinite_step_as_converged() {
    let (x, y, sizes) = ([-1.84375], [1e154], [1usize]);
    let options = MkCmlrOptions {
        algorithm: MK_CMLR_ALG1,
        use_identity: 1,
        init: MK_CMLR_INIT_GIVEN,
        sigma: 1.0,
        tol: 1e-10,
        max_iter: 25,
    };
    let mut theta = [293.140625];
    let mut steps = [f64::NAN; 25];
    let trace = MkCmlrTrace {
        theta_star: null(),
        step: steps.as_mut_ptr(),
        error: std::ptr::null_mut(),
    };
    let mut work = vec![0.0; mk_cmlr_fit_work_len(1, 1, 1)];
    let mut report = MkCmlrReport {
        iterations: 0,
        converged: 0,
        last_step: f64::NAN,
    };
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        mk_cmlr_fit(
            x.as_ptr(),
            1,
            1,
            y.as_ptr(),
            sizes.as_ptr(),
            1,
            &options,
            theta.as_mut_ptr(),
            &trace,
            work.as_mut_ptr(),
            work.len(),
            &mut report,
        )
    };
    assert_eq!(status, Status::Ok.code());
    // With the identity metric and N = 1: theta = tanh(y x theta / sigma^2) y x = (-1) y x.
    assert_eq!(theta[0], 1e154 * 1.84375);
    assert!(report.last_step.is_finite());
    assert_eq!(
        steps[0],
        theta[0] - 293.140625,
        "the first step is the jump, finite"
    );
    assert_eq!((report.iterations, report.converged), (2, 1));
    assert_eq!(report.last_step, 0.0);
}

/// Two clusters of 20 samples in d = 2, deterministic.
fn two_clusters() -> Vec<f64> {
    (0..40)
        .flat_map(|i| {
            let c = if i % 2 == 0 { 0.0 } else { 6.0 };
            let t = i as f64 * 0.61;
            [c + t.sin(), c + 0.5 * (1.7 * t).cos()]
        })
        .collect()
}

/// One `mk_gmm_fit` of K = 2 full components: (status, weights, means, covs, report).
fn gmm_fit_c(
    x: &[f64],
    sample_weights: Option<&[f64]>,
    options: &MkGmmFitOptions,
) -> (i32, Vec<f64>, Vec<f64>, Vec<f64>, MkGmmFitReport) {
    let (n, d, k) = (x.len() / 2, 2, 2);
    let (mut w, mut mu, mut s) = (vec![0.0; k], vec![0.0; k * d], vec![0.0; k * d * d]);
    let out = MkMixtureOut::over(k, d, MK_COV_FULL, &mut w, &mut mu, &mut s);
    // SAFETY: a valid descriptor.
    let mut work = vec![0.0; unsafe { mk_gmm_fit_work_len(n, d, &out) }];
    let mut report = MkGmmFitReport {
        log_likelihood: f64::NAN,
        mean_log_likelihood: f64::NAN,
        iterations: 0,
        converged: 0,
        reseeded: 0,
        regularized: 0,
        best_restart: 0,
    };
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        mk_gmm_fit(
            x.as_ptr(),
            n,
            d,
            sample_weights.map_or(null(), |v| v.as_ptr()),
            options,
            &out,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            work.as_mut_ptr(),
            work.len(),
            &mut report,
        )
    };
    (status, w, mu, s, report)
}

/// `mk_gmm_fit` with every sample weight 1e-300 (or 1e-310, 5e-324) ran to the iteration cap
/// and returned weights [0.5, 0.5] and a mean log-likelihood of -0.652, where weights 1.0 or
/// 1e300 converge in 4 iterations to -0.2606: sklearn's `+ 10 eps` on each component's mass
/// dominated tiny weights. Uniform weights must not depend on their scale: now every scale
/// gives bitwise the same fit, the unweighted one.
#[test]
fn gmm_fit_with_uniform_sample_weights_does_not_depend_on_their_scale() {
    let x = two_clusters();
    let options = mk_gmm_fit_options_default();
    let (status, w0, mu0, s0, r0) = gmm_fit_c(&x, None, &options);
    assert_eq!(status, 0);
    assert_eq!(r0.converged, 1);
    for scale in [1e-300, 1e-310, 5e-324, 1.0, 1e300] {
        let weights = vec![scale; 40];
        let (status, w, mu, s, r) = gmm_fit_c(&x, Some(&weights), &options);
        assert_eq!(status, 0, "scale {scale:e}");
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            (bits(&w), bits(&mu), bits(&s)),
            (bits(&w0), bits(&mu0), bits(&s0)),
            "scale {scale:e}"
        );
        assert_eq!(
            (r.iterations, r.converged),
            (r0.iterations, 1),
            "scale {scale:e}"
        );
        assert!(
            (r.mean_log_likelihood - r0.mean_log_likelihood).abs()
                <= 1e-14 * r0.mean_log_likelihood.abs(),
            "scale {scale:e}: {} vs {}",
            r.mean_log_likelihood,
            r0.mean_log_likelihood
        );
        // The total is in the caller's scale: sum_i w_i log f(x_i).
        let total = r0.mean_log_likelihood * 40.0 * scale;
        assert!(
            (r.log_likelihood - total).abs() <= 1e-12 * total.abs() + 1e-320,
            "scale {scale:e}: {} vs {total}",
            r.log_likelihood
        );
    }
}

/// Five one-dimensional estimates of two components (diagonal), slightly different; machine 4
/// optionally with means from 1e155 to 1e300 (finite, valid, absurd).
fn five_estimates(huge_last: bool) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut w = vec![];
    let mut mu = vec![];
    let mut s = vec![];
    for j in 0..5 {
        let e = j as f64 * 0.01;
        w.extend([0.4 + e, 0.6 - e]);
        mu.extend([-2.0 + e, 3.0 - e]);
        s.extend([1.0 + e, 0.5 + e]);
    }
    if huge_last {
        mu[8] = 1e155;
        mu[9] = 1e300;
    }
    (w, mu, s)
}

/// `mk_aggregate` over five estimates with the given sample sizes and method.
fn aggregate_c(
    estimates: &(Vec<f64>, Vec<f64>, Vec<f64>),
    sizes: Option<&[f64]>,
    method: i32,
) -> (i32, Vec<i32>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let (w, mu, s) = estimates;
    let desc = MkMixture::over(2, 1, MK_COV_DIAG, w, mu, s);
    let (mut aw, mut amu, mut acov) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]);
    let out = MkMixtureOut::over(2, 1, MK_COV_DIAG, &mut aw, &mut amu, &mut acov);
    let options = MkAggregateOptions {
        method,
        ..mk_aggregate_options_default()
    };
    let (mut status, mut selected) = (vec![-1; 5], vec![9u8; 5]);
    let mut report = std::mem::MaybeUninit::<MkAggregateReport>::uninit();
    // SAFETY: buffers of the documented lengths.
    let code = unsafe {
        let mut work = vec![0.0; mk_aggregate_work_len(&desc, 5, &out)];
        mk_aggregate(
            &desc,
            5,
            sizes.map_or(null(), |v| v.as_ptr()),
            &options,
            status.as_mut_ptr(),
            selected.as_mut_ptr(),
            &out,
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    (code, status, aw, amu, acov)
}

/// `mk_aggregate` with every sample size 1e308 (finite and > 0, as documented) failed DFMR,
/// Vanilla and Trim with NON_FINITE (their sum overflowed), while the same call with NULL sizes
/// succeeded. Equal sizes of any scale are equal weights: bitwise the NULL-sizes result.
#[test]
fn aggregate_with_huge_equal_sample_sizes_equals_equal_weights() {
    let e = five_estimates(false);
    for method in [MK_AGG_DFMR, MK_AGG_VANILLA, MK_AGG_TRIM] {
        let equal = aggregate_c(&e, None, method);
        assert_eq!(equal.0, 0, "method {method}");
        let huge = aggregate_c(&e, Some(&[1e308; 5]), method);
        assert_eq!(huge.0, 0, "method {method}");
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            (bits(&huge.2), bits(&huge.3), bits(&huge.4)),
            (bits(&equal.2), bits(&equal.3), bits(&equal.4)),
            "method {method}"
        );
    }
}

/// One valid estimate whose means are 1e155 and 1e300 among four ordinary ones failed Trim and
/// Vanilla with NON_FINITE. Trim exists to tolerate such an outlier: it must succeed, with the
/// outlier's mass trimmed away (the result near the honest estimates). Vanilla, which averages
/// everything, may fail, with the status for "a result would not be finite".
#[test]
fn trim_tolerates_one_estimate_with_astronomical_means() {
    let e = five_estimates(true);
    let (code, status, w, mu, _) = aggregate_c(&e, None, MK_AGG_TRIM);
    assert_eq!(code, 0, "Trim failed: {status:?}");
    assert_eq!(status, vec![0; 5], "the estimate is valid, only far away");
    assert!(w.iter().all(|v| v.is_finite()) && (w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(
        mu.iter().all(|m| m.abs() < 10.0),
        "the outlier pulled Trim: {mu:?}"
    );
    for method in [MK_AGG_DFMR, MK_AGG_COAT, MK_AGG_MEDOID] {
        let (code, _, _, mu, _) = aggregate_c(&e, None, method);
        assert_eq!(code, 0, "method {method}");
        assert!(mu.iter().all(|m| m.abs() < 10.0), "method {method}: {mu:?}");
    }
    let (code, ..) = aggregate_c(&e, None, MK_AGG_VANILLA);
    assert!(
        code == 0 || code == Status::NonFinite.code(),
        "Vanilla: {code}"
    );
}

/// `mk_reduce_mm` over four identical one-dimensional components N(192.75, 1.398e-76), started
/// at the input itself, tol 0: the objective rose from 0 to 56.1 and the output variance was
/// 8.08e-28 (5.8e48 times the input's): the moment-matched mean was off by an ulp of 192.75,
/// and that ulp squared, as a spread, dwarfed the variance. These weights reproduce exactly
/// those numbers on the old code. The exact answer is the input with objective 0; what is left
/// is rounding: the weights sum to 1 within a few ulps, so the variance is within that of the
/// input's and the objective (a KL of relative size (4 eps)^2) below 1e-24.
#[test]
fn reduce_mm_of_identical_sharp_components_returns_them_with_objective_zero() {
    let w = [
        0.31986905534780613,
        0.2379927961946989,
        0.2620726842671226,
        0.18006546419037234,
    ];
    let (mu, s) = ([192.75; 4], [1.398e-76; 4]);
    for kind in [MK_COV_DIAG, MK_COV_FULL] {
        let input = MkMixture::over(4, 1, kind, &w, &mu, &s);
        for k in [4usize, 1] {
            let start_w: Vec<f64> = if k == 4 { w.to_vec() } else { vec![1.0] };
            let start = MkMixture::over(k, 1, kind, &start_w, &mu, &s);
            let (mut ow, mut om, mut os) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
            let out = MkMixtureOut::over(k, 1, kind, &mut ow, &mut om, &mut os);
            let options = MkReduceOptions {
                tol: 0.0,
                max_iter: 10,
                ..mk_reduce_options_default()
            };
            let mut trace = [f64::NAN; 10];
            let mut report = std::mem::MaybeUninit::<MkReduceReport>::uninit();
            // SAFETY: buffers of the documented lengths.
            let status = unsafe {
                let mut work = vec![0.0; mk_reduce_mm_work_len(&input, &start, &out)];
                mk_reduce_mm(
                    &input,
                    &start,
                    &options,
                    &out,
                    trace.as_mut_ptr(),
                    work.as_mut_ptr(),
                    work.len(),
                    report.as_mut_ptr(),
                )
            };
            assert_eq!(status, 0, "kind {kind}, K = {k}");
            // SAFETY: written on success.
            let report = unsafe { report.assume_init() };
            let t = &trace[..report.iterations];
            assert!(
                t.iter().all(|&v| (0.0..1e-24).contains(&v)),
                "kind {kind}, K = {k}: trace {t:?}"
            );
            for j in 0..report.kept {
                assert_eq!(om[j], 192.75, "kind {kind}, K = {k}");
                assert!(
                    (os[j] - 1.398e-76).abs() <= 1e-12 * 1.398e-76,
                    "kind {kind}, K = {k}: variance {}",
                    os[j]
                );
            }
        }
    }
}

/// Whether a d x d row-major matrix has a Cholesky factor (a plain one, as a check).
fn factorizable(s: &[f64], d: usize) -> bool {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut v = s[i * d + j];
            for t in 0..j {
                v -= l[i * d + t] * l[j * d + t];
            }
            if i == j {
                if !(v > 0.0 && v.is_finite()) {
                    return false;
                }
                l[i * d + i] = v.sqrt();
            } else {
                l[i * d + j] = v / l[j * d + j];
            }
        }
    }
    true
}

/// `mk_reduce_mm`, M = 3 to K = 1 in d = 2 (full), one input mean (1.568e11, 2.619e83), the
/// covariances about 256 I, max_iter 1: OK with an output covariance of negative determinant
/// ([[6.07e21, 1.013e94], [1.013e94, 1.692e166]]), where the docs promise NOT_SPD. A reduction
/// returns OK only with covariances that factor; otherwise NOT_SPD with the outputs untouched.
#[test]
fn reduce_mm_never_returns_ok_with_a_covariance_that_does_not_factor() {
    let w = [0.2, 0.3, 0.5];
    let mu = [1.568e11, 2.619e83, 0.0, 0.0, 1.0, -1.0];
    let s = [
        256.0, 0.0, 0.0, 256.0, 250.0, 3.0, 3.0, 260.0, 255.0, -2.0, -2.0, 257.0,
    ];
    let input = MkMixture::over(3, 2, MK_COV_FULL, &w, &mu, &s);
    let start = MkMixture::over(1, 2, MK_COV_FULL, &[1.0], &[0.0, 0.0], &s[..4]);
    let sentinel = -7.5;
    let (mut ow, mut om, mut os) = (vec![sentinel; 1], vec![sentinel; 2], vec![sentinel; 4]);
    let out = MkMixtureOut::over(1, 2, MK_COV_FULL, &mut ow, &mut om, &mut os);
    let options = MkReduceOptions {
        max_iter: 1,
        ..mk_reduce_options_default()
    };
    let mut report = std::mem::MaybeUninit::<MkReduceReport>::uninit();
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        let mut work = vec![0.0; mk_reduce_mm_work_len(&input, &start, &out)];
        mk_reduce_mm(
            &input,
            &start,
            &options,
            &out,
            std::ptr::null_mut(),
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    if status == 0 {
        assert!(factorizable(&os, 2), "OK with covariance {os:?}");
        assert!(om.iter().chain(&ow).all(|v| v.is_finite()));
    } else {
        assert_eq!(status, Status::NotSpd.code());
        assert!(ow.iter().chain(&om).chain(&os).all(|&v| v == sentinel));
    }
}
