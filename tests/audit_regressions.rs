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
    let (status, report) = gmm_fit_into(x, n, d, sample_weights, options, &out);
    (status, w, mu, s, report)
}

/// `mk_gmm_fit` of the n x d samples `x` into `out`, without responsibilities, labels or trace:
/// the status and the report (NaN and zeros where the call did not write it).
fn gmm_fit_into(
    x: &[f64],
    n: usize,
    d: usize,
    sample_weights: Option<&[f64]>,
    options: &MkGmmFitOptions,
    out: &MkMixtureOut,
) -> (i32, MkGmmFitReport) {
    let mut report = MkGmmFitReport {
        log_likelihood: f64::NAN,
        mean_log_likelihood: f64::NAN,
        iterations: 0,
        converged: 0,
        reseeded: 0,
        regularized: 0,
        best_restart: 0,
        prior_samples: f64::NAN,
    };
    // SAFETY: buffers of the documented lengths (the caller's descriptor over live arrays).
    let status = unsafe {
        let mut work = vec![0.0; mk_gmm_fit_work_len(n, d, out)];
        mk_gmm_fit(
            x.as_ptr(),
            n,
            d,
            sample_weights.map_or(null(), |v| v.as_ptr()),
            options,
            out,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            work.as_mut_ptr(),
            work.len(),
            &mut report,
        )
    };
    (status, report)
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

/// `mk_aggregate` over five estimates with the given sample sizes and method, with the paper's
/// options (no screening: the findings were on the published method).
fn aggregate_c(
    estimates: &(Vec<f64>, Vec<f64>, Vec<f64>),
    sizes: Option<&[f64]>,
    method: i32,
) -> (i32, Vec<i32>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let options = MkAggregateOptions {
        method,
        ..mk_aggregate_options_paper()
    };
    aggregate_c_with(estimates, sizes, &options)
}

/// `mk_aggregate` over five estimates with the given sample sizes and options.
fn aggregate_c_with(
    estimates: &(Vec<f64>, Vec<f64>, Vec<f64>),
    sizes: Option<&[f64]>,
    options: &MkAggregateOptions,
) -> (i32, Vec<i32>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let (w, mu, s) = estimates;
    let desc = MkMixture::over(2, 1, MK_COV_DIAG, w, mu, s);
    let (mut aw, mut amu, mut acov) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]);
    let out = MkMixtureOut::over(2, 1, MK_COV_DIAG, &mut aw, &mut amu, &mut acov);
    let (mut status, mut selected) = (vec![-1; 5], vec![9u8; 5]);
    let mut report = std::mem::MaybeUninit::<MkAggregateReport>::uninit();
    // SAFETY: buffers of the documented lengths.
    let code = unsafe {
        let mut work = vec![0.0; mk_aggregate_work_len(&desc, 5, &out)];
        mk_aggregate(
            &desc,
            5,
            sizes.map_or(null(), |v| v.as_ptr()),
            options,
            status.as_mut_ptr(),
            selected.as_mut_ptr(),
            std::ptr::null_mut(),
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
    // The robust defaults reject the outlier before any reduction, with its own status.
    let robust = MkAggregateOptions {
        method: MK_AGG_VANILLA,
        ..mk_aggregate_options_default()
    };
    let (code, status, ..) = aggregate_c_with(&e, None, &robust);
    assert_eq!(code, 0);
    assert_eq!(status, vec![0, 0, 0, 0, Status::TooFar.code()]);
}

/// `mk_reduce_mm` with a workspace of the queried length: the status and, on success, the
/// report.
fn reduce_c(
    input: &MkMixture,
    start: &MkMixture,
    options: &MkReduceOptions,
    out: &MkMixtureOut,
    trace: Option<&mut [f64]>,
) -> (i32, Option<MkReduceReport>) {
    let mut report = std::mem::MaybeUninit::<MkReduceReport>::uninit();
    let trace = trace.map_or(std::ptr::null_mut(), |t| t.as_mut_ptr());
    // SAFETY: valid descriptors over buffers of their lengths; a trace holds max_iter values.
    let status = unsafe {
        let mut work = vec![0.0; mk_reduce_mm_work_len(input, start, out)];
        mk_reduce_mm(
            input,
            start,
            options,
            out,
            trace,
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    // SAFETY: the report is written on success.
    (
        status,
        (status == 0).then(|| unsafe { report.assume_init() }),
    )
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
            let (status, report) = reduce_c(&input, &start, &options, &out, Some(&mut trace));
            assert_eq!(status, 0, "kind {kind}, K = {k}");
            let report = report.expect("written on success");
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
    let (status, _) = reduce_c(&input, &start, &options, &out, None);
    if status == 0 {
        assert!(factorizable(&os, 2), "OK with covariance {os:?}");
        assert!(om.iter().chain(&ow).all(|v| v.is_finite()));
    } else {
        assert_eq!(status, Status::NotSpd.code());
        assert!(ow.iter().chain(&om).chain(&os).all(|&v| v == sentinel));
    }
}

/// `mk_gmm_fit` on data scaled by 1e-300 (reg_covar 0) returned OK with every covariance at the
/// 2.2e-308 floor and a log-likelihood of 1413 where the exact value is 2762. Data too small
/// (or too large) for double precision is now rejected with its own status, outputs untouched;
/// data within the range is fit exactly: the fit of scaled data is the scaled fit.
#[test]
fn gmm_fit_rejects_data_double_precision_cannot_fit_and_fits_scaled_data_exactly() {
    let x = two_clusters();
    let options = MkGmmFitOptions {
        reg_covar: 0.0,
        tol: 1e-10,
        ..mk_gmm_fit_options_default()
    };
    for scale in [1e-300, 1e-160, 1e160, 1e300] {
        let scaled: Vec<f64> = x.iter().map(|v| v * scale).collect();
        let (status, w, ..) = gmm_fit_c(&scaled, None, &options);
        assert_eq!(status, Status::DataScale.code(), "scale {scale:e}");
        assert_eq!(w, vec![0.0, 0.0], "outputs written at scale {scale:e}");
    }
    let (status, w0, mu0, s0, r0) = gmm_fit_c(&x, None, &options);
    assert_eq!(status, 0);
    for scale in [1e-100, 1e-30, 1e30, 1e100] {
        let scaled: Vec<f64> = x.iter().map(|v| v * scale).collect();
        let (status, w, mu, s, r) = gmm_fit_c(&scaled, None, &options);
        assert_eq!(status, 0, "scale {scale:e}");
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-300);
        assert!(
            w.iter().zip(&w0).all(|(a, b)| close(*a, *b)),
            "scale {scale:e}"
        );
        assert!(mu.iter().zip(&mu0).all(|(a, b)| close(*a, b * scale)));
        assert!(s.iter().zip(&s0).all(|(a, b)| {
            (a - b * scale * scale).abs() <= 1e-9 * (scale * scale) * s0[0].abs().max(1.0)
        }));
        // log f scales by -d ln(scale) per sample.
        let want = r0.mean_log_likelihood - 2.0 * scale.ln();
        assert!(
            (r.mean_log_likelihood - want).abs() <= 1e-9 * want.abs(),
            "scale {scale:e}: {} vs {want}",
            r.mean_log_likelihood
        );
    }
}

/// scikit-learn's `test_regularisation`: 5 rows of ones and 5 of zeros (d = 5), K = 10,
/// reg_covar 0, each sample starting as its own component. scikit-learn raises "ill-defined
/// empirical covariance"; `mk_gmm_fit` returned OK, converged, with variances at 2.2e-308 and a
/// mean log-likelihood of 991.5. Now a collapsed component is repaired at the data's scale
/// (1e-12 of its variance, 0.25 here), and the report counts the repairs.
#[test]
fn gmm_fit_repairs_a_collapse_at_the_data_scale_and_says_so() {
    let (n, d, k) = (10, 5, 10);
    let x: Vec<f64> = (0..n)
        .flat_map(|i| [if i < 5 { 1.0 } else { 0.0 }; 5])
        .collect();
    let resp: Vec<f64> = (0..n * k)
        .map(|t| if t / k == t % k { 1.0 } else { 0.0 })
        .collect();
    for kind in [MK_COV_FULL, MK_COV_DIAG] {
        let c = if kind == MK_COV_FULL { d * d } else { d };
        let (mut w, mut mu, mut s) = (vec![0.0; k], vec![0.0; k * d], vec![0.0; k * c]);
        let out = MkMixtureOut::over(k, d, kind, &mut w, &mut mu, &mut s);
        let options = MkGmmFitOptions {
            reg_covar: 0.0,
            init_resp: resp.as_ptr(),
            ..mk_gmm_fit_options_default()
        };
        let (status, report) = gmm_fit_into(&x, n, d, None, &options, &out);
        assert_eq!(status, 0, "kind {kind}");
        assert!(
            report.regularized > 0,
            "kind {kind}: the repair is not reported"
        );
        let floor = 1e-12 * 0.25;
        for j in 0..k {
            for a in 0..d {
                let v = if kind == MK_COV_FULL {
                    s[j * c + a * d + a]
                } else {
                    s[j * c + a]
                };
                // The floor, up to the rounding of the data's variance.
                assert!(
                    v >= floor * (1.0 - 1e-12),
                    "kind {kind}: variance {v:e} below the data scale"
                );
            }
        }
        // The largest mean log-density a variance of 2.5e-13 allows: d/2 ln(1/(2 pi floor)).
        let bound = 0.5 * d as f64 * (1.0 / (2.0 * std::f64::consts::PI * floor)).ln();
        assert!(
            report.mean_log_likelihood.is_finite() && report.mean_log_likelihood <= bound + 1e-6,
            "kind {kind}: {} > {bound}",
            report.mean_log_likelihood
        );
    }
}

/// `mk_mixreg_fit_grouped` of m nodes' statistics into `out`, from `start` (or NULL), without
/// posteriors or trace: the status, and the report on success.
fn fit_grouped(
    stats: &[f64],
    m: usize,
    d: usize,
    options: &MkMixRegOptions,
    start: *const MkMixReg,
    out: &MkMixRegOut,
) -> (i32, Option<MkMixRegReport>) {
    let mut report = std::mem::MaybeUninit::<MkMixRegReport>::uninit();
    // SAFETY: buffers of the documented lengths (the caller's descriptors over live arrays).
    let status = unsafe {
        let mut work = vec![0.0; mk_mixreg_fit_grouped_work_len(m, d, out)];
        mk_mixreg_fit_grouped(
            stats.as_ptr(),
            m,
            d,
            options,
            start,
            out,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    // SAFETY: written on success.
    (
        status,
        (status == 0).then(|| unsafe { report.assume_init() }),
    )
}

/// `mk_mixreg_fit_grouped` accepted node statistics no data can produce (n_j = 0.5, 5e-324 or
/// 1e300; a Gram matrix with a negative diagonal at K = 1): with one node claiming 1e300
/// samples the log-likelihood was 1.7e302. Statistics may come from other machines: what can
/// be validated is, each with its status and the outputs untouched.
#[test]
fn mixreg_fit_grouped_rejects_statistics_no_data_can_produce() {
    let (m, n_node, d) = (6usize, 5usize, 1usize);
    let x: Vec<f64> = (0..m * n_node).map(|i| (i as f64 * 0.7).sin()).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| 2.0 * v + 0.1 * (i as f64 * 1.3).cos())
        .collect();
    let sizes = vec![n_node; m];
    let per_node = mk_mixreg_node_stats_len(d, 0);
    let mut stats = vec![0.0; m * per_node];
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        mk_mixreg_node_statistics(
            x.as_ptr(),
            m * n_node,
            d,
            y.as_ptr(),
            sizes.as_ptr(),
            m,
            0,
            stats.as_mut_ptr(),
        )
    };
    assert_eq!(status, 0);
    let fit = |stats: &[f64]| {
        let (mut w, mut coefs, mut s2) = ([-1.0], [-1.0], [-1.0]);
        let out = MkMixRegOut {
            k: 1,
            d,
            intercept: 0,
            weights: w.as_mut_ptr(),
            coefs: coefs.as_mut_ptr(),
            sigma2: s2.as_mut_ptr(),
        };
        let options = MkMixRegOptions {
            init: MK_MIXREG_INIT_RANDOM,
            ..mk_mixreg_options_default()
        };
        let (status, _) = fit_grouped(stats, m, d, &options, null(), &out);
        if status != 0 {
            assert_eq!((w, coefs, s2), ([-1.0], [-1.0], [-1.0]), "outputs written");
        }
        (status, coefs[0])
    };
    let (status, slope) = fit(&stats);
    assert_eq!(status, 0);
    assert!((slope - 2.0).abs() < 0.1, "slope {slope}");
    // Layout per node: [n, c = y^T y, b = x^T y, G = x^T x].
    let cases: [(&str, usize, f64, Status); 6] = [
        ("n_0 = 0.5", 0, 0.5, Status::NodeSizes),
        ("n_0 = 5e-324", 0, 5e-324, Status::NodeSizes),
        ("n_0 = 1e300", 0, 1e300, Status::NodeSizes),
        ("n_0 = 2.5", 0, 2.5, Status::NodeSizes),
        ("G_0 = -1", 3, -1.0, Status::NotSpd),
        ("b_0^2 > c_0 G_0", 2, 1e6, Status::NotSpd),
    ];
    for (what, at, value, want) in cases {
        let mut bad = stats.clone();
        bad[at] = value;
        assert_eq!(fit(&bad).0, want.code(), "{what}");
    }
}

/// Found by CI's fuzzing: `mk_cmlr_fit`, Algorithm 1 from a given start, one node of two samples
/// with y = -2.14e307. The first iterate is finite, (-6.9e307, -1.7e308), but its norm and the
/// step (1.8e308) exceed the double range; `inf <= tol * inf` read as converged. The iteration
/// has left the double range, so the fit fails with `NON_FINITE` and leaves theta untouched.
#[test]
fn cmlr_fit_whose_iterate_norm_overflows_fails_instead_of_converging() {
    let x = [
        -2.887580273223587e-188,
        -0.12785575301766264,
        -1.8078050767379508,
        0.7494169159082539,
    ];
    let y = [-2.1417035966006112e307, 0.15856337614760116];
    let options = MkCmlrOptions {
        algorithm: MK_CMLR_ALG1,
        use_identity: 0,
        init: MK_CMLR_INIT_GIVEN,
        sigma: 1.0,
        tol: 1e-10,
        max_iter: 1,
    };
    let start = [-1.0998825013353253, -2.5368626228382816];
    let mut theta = start;
    let mut work = vec![0.0; mk_cmlr_fit_work_len(2, 2, 1)];
    let mut report = MkCmlrReport {
        iterations: 7,
        converged: 7,
        last_step: 7.0,
    };
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        mk_cmlr_fit(
            x.as_ptr(),
            2,
            2,
            y.as_ptr(),
            [2usize].as_ptr(),
            1,
            &options,
            theta.as_mut_ptr(),
            null(),
            work.as_mut_ptr(),
            work.len(),
            &mut report,
        )
    };
    assert_eq!(status, Status::NonFinite.code());
    assert_eq!(theta, start);
    assert_eq!(
        (report.iterations, report.converged, report.last_step),
        (7, 7, 7.0)
    );
}

/// Found by fuzzing (fuzz/seeds/mixreg_fit_grouped/finding-exact-component): a component of a
/// grouped regression mixture that owns exactly p samples (one node) fits them exactly with
/// large coefficients. Its residual sum, computed from the statistics as c - 2 theta^T b +
/// theta^T G theta, is then rounding noise (about eps |theta|^T |G| |theta|), and so were its
/// variance (3e-11, above the data floor, reported as not floored) and the log-likelihood trace
/// (oscillating between 3.2 and 4.8). The variance now never goes below that rounding,
/// 16 eps (C + p sum_a theta_a^2 G_aa) / n (the module docs), and the report counts it as
/// floored.
#[test]
fn mixreg_fit_grouped_floors_a_variance_its_statistics_cannot_resolve() {
    let (d, p) = (2usize, 3usize);
    // Eight nodes of six samples from y = 1 + x1 - x2 + noise, then one node of three samples
    // fitted exactly by y = 5 - 332.33 x1 + 333.33 x2 (nearly collinear covariates), far from
    // the first component's line.
    let (mut x, mut y, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
    for j in 0..8 {
        for i in 0..6 {
            let t = (j * 6 + i) as f64;
            let (x1, x2) = ((0.7 * t).sin(), (1.3 * t).cos());
            x.extend([x1, x2]);
            y.push(1.0 + x1 - x2 + 0.3 * (2.9 * t).sin());
        }
        sizes.push(6usize);
    }
    let exact_x = [0.0, 0.0, 1.0, 1.0, 2.0, 2.003];
    let exact_y = [5.0, 6.0, 8.0];
    x.extend(exact_x);
    y.extend(exact_y);
    sizes.push(3);
    let m = sizes.len();
    let mut stats = vec![0.0; m * mk_mixreg_node_stats_len(d, 1)];
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        mk_mixreg_node_statistics(
            x.as_ptr(),
            y.len(),
            d,
            y.as_ptr(),
            sizes.as_ptr(),
            m,
            1,
            stats.as_mut_ptr(),
        )
    };
    assert_eq!(status, 0);
    // Component 2 starts near the exact fit, with a small variance: the exact node's
    // responsibility is 1 exactly (its mass p), every other node's 0.
    let start_coefs = [1.0, 1.0, -1.0, 5.0, -332.3, 333.3];
    let start = MkMixReg {
        k: 2,
        d,
        intercept: 1,
        weights: [0.9, 0.1].as_ptr(),
        coefs: start_coefs.as_ptr(),
        sigma2: [0.1, 1e-2].as_ptr(),
    };
    let (mut w, mut coefs, mut s2) = ([0.0; 2], [0.0; 6], [0.0; 2]);
    let out = MkMixRegOut {
        k: 2,
        d,
        intercept: 1,
        weights: w.as_mut_ptr(),
        coefs: coefs.as_mut_ptr(),
        sigma2: s2.as_mut_ptr(),
    };
    let options = MkMixRegOptions {
        noise: MK_NOISE_PER_COMPONENT,
        tol: 0.0,
        max_iter: 20,
        ..mk_mixreg_options_default()
    };
    let (status, report) = fit_grouped(&stats, m, d, &options, &start, &out);
    assert_eq!(status, 0);
    let report = report.expect("written on success");
    assert_eq!((report.emptied, report.sigma_floored), (0, 1), "{report:?}");
    assert!(s2[0] > 0.01, "the noisy component is not floored: {s2:?}");
    // The exact node's statistics: C = y^T y, G = Z^T Z with Z = [1, x1, x2].
    let theta = &coefs[p..];
    let c: f64 = exact_y.iter().map(|v| v * v).sum();
    let rows: Vec<[f64; 3]> = exact_x.chunks(2).map(|r| [1.0, r[0], r[1]]).collect();
    let g_diag: Vec<f64> = (0..p)
        .map(|a| rows.iter().map(|r| r[a] * r[a]).sum())
        .collect();
    let coef_terms: f64 = (0..p).map(|a| theta[a] * theta[a] * g_diag[a]).sum();
    let floor = 16.0 * f64::EPSILON * (c + p as f64 * coef_terms) / 3.0;
    assert!(
        (s2[1] - floor).abs() <= 1e-6 * floor,
        "sigma2 {} against the rounding floor {floor}",
        s2[1]
    );
    assert!((theta[2] - 1.0 / 0.003).abs() < 1e-6 * 333.4, "{theta:?}");
}
