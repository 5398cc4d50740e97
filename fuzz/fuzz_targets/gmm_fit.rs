//! `mk_gmm_fit` on samples of a mixture drawn from a seed, with options and a start chosen by
//! the input, then mutated samples and weights. OK: a valid mixture, responsibilities rows
//! summing to 1, labels below K, a finite report, and a trace that never decreases (to 1e-9
//! relative) for plain EM on a well-posed fit (see below); else every output untouched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mixkern::ffi::*;
use mixkern::rng::Rng;
use mixkern_fuzz::{
    check_mixture, check_monotone, check_status, random_mixture, samples, untouched, Input,
    SENTINEL,
};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let (k, d, full) = (input.size(1, 3), input.size(1, 3), input.byte() % 2 == 0);
    let n = input.size(1, 40);
    let reg_covar = input.pick(&[1e-6, 0.0, 1e-3]);
    let tol = input.pick(&[1e-3, 0.0, 1e-8]);
    let max_iter = input.size(0, 25);
    let n_init = input.size(1, 2);
    let penalized = i32::from(input.byte() % 4 == 0);
    let start = input.byte() % 4; // 0 k-means++, 1 given parameters, 2 means only, 3 responsibilities
    let weighted = input.byte() % 3 == 0;
    let seed = input.u64();
    let mut rng = Rng::new(seed);
    let truth = random_mixture(&mut rng, k, d, full);
    let mut x = samples(&truth, k, d, full, n, seed);
    let mut sw: Vec<f64> = (0..n).map(|_| 0.5 + rng.uniform()).collect();
    let resp: Vec<f64> = (0..n * k)
        .map(|t| if t % k == (t / k) % k { 1.0 } else { 0.0 })
        .collect();
    let mut values: Vec<f64> = x.iter().chain(&sw).copied().collect();
    input.mutate(&mut values);
    x.copy_from_slice(&values[..n * d]);
    sw.copy_from_slice(&values[n * d..]);

    let kind = if full { MK_COV_FULL } else { MK_COV_DIAG };
    let c = if full { d * d } else { d };
    let mut options = MkGmmFitOptions {
        seed,
        reg_covar,
        tol,
        max_iter,
        n_init,
        penalized,
        ..mk_gmm_fit_options_default()
    };
    match start {
        1 => {
            options.init_weights = truth.0.as_ptr();
            options.init_means = truth.1.as_ptr();
            options.init_covs = truth.2.as_ptr();
        }
        2 => options.init_means = truth.1.as_ptr(),
        3 => options.init_resp = resp.as_ptr(),
        _ => {}
    }
    let (mut w, mut mu, mut s) = (
        vec![SENTINEL; k],
        vec![SENTINEL; k * d],
        vec![SENTINEL; k * c],
    );
    let out = MkMixtureOut::over(k, d, kind, &mut w, &mut mu, &mut s);
    let (mut r, mut labels, mut trace) = (
        vec![SENTINEL; n * k],
        vec![usize::MAX; n],
        vec![SENTINEL; max_iter],
    );
    let mut report = std::mem::MaybeUninit::<MkGmmFitReport>::uninit();
    // SAFETY: buffers of the documented lengths; the options' start pointers are valid.
    let status = unsafe {
        let mut work = vec![0.0; mk_gmm_fit_work_len(n, d, &out)];
        mk_gmm_fit(
            x.as_ptr(),
            n,
            d,
            if weighted {
                sw.as_ptr()
            } else {
                std::ptr::null()
            },
            &options,
            &out,
            r.as_mut_ptr(),
            labels.as_mut_ptr(),
            trace.as_mut_ptr(),
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    check_status(status);
    if status == 0 {
        // SAFETY: written on success.
        let report = unsafe { report.assume_init() };
        check_mixture(&w, &mu, &s, k, d, full);
        for row in r.chunks_exact(k) {
            assert!(row.iter().all(|v| v.is_finite() && *v >= 0.0));
            assert!(
                (row.iter().sum::<f64>() - 1.0).abs() <= 1e-12,
                "responsibilities {row:?}"
            );
        }
        assert!(labels.iter().all(|&l| l < k));
        assert!(report.log_likelihood.is_finite() && report.mean_log_likelihood.is_finite());
        assert!(report.iterations <= max_iter);
        // EM's likelihood never decreases for plain EM (no regularization, penalty, reseeding or
        // repair) on a well-posed fit: with reg_covar 0 a component of <= d samples has a
        // singular covariance and an unbounded likelihood, whose values are rounding noise
        // (found by this target: 3 samples in d = 3). So: at least 2 (d + 1) samples each.
        let plain_em =
            reg_covar == 0.0 && penalized == 0 && report.reseeded == 0 && report.regularized == 0;
        let well_posed = w.iter().all(|&wk| wk * n as f64 >= 2.0 * (d + 1) as f64);
        if plain_em && well_posed {
            check_monotone(&trace[..report.iterations], true, 1e-9, 1e-12);
        }
    } else {
        assert!(
            untouched(&w) && untouched(&mu) && untouched(&s) && untouched(&r),
            "written on {status}"
        );
        assert!(labels.iter().all(|&l| l == usize::MAX));
    }
});
