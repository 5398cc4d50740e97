//! `mk_cmlr_fit` on clustered data simulated from a seed, options chosen by the input, then
//! mutated data and start. OK: a finite theta, at most max_iter iterations, a finite step, and
//! `converged` only when the step met the tolerance; else theta and the report untouched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mixkern::ffi::*;
use mixkern::rng::Rng;
use mixkern_fuzz::{check_status, untouched, Input, SENTINEL};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let (d, m) = (input.size(1, 4), input.size(1, 6));
    let sizes: Vec<usize> = (0..m).map(|_| input.size(1, 5)).collect();
    let options = MkCmlrOptions {
        algorithm: input.pick(&[MK_CMLR_ALG1, MK_CMLR_ALG2]),
        use_identity: i32::from(input.byte() % 2),
        init: input.pick(&[MK_CMLR_INIT_GIVEN, MK_CMLR_INIT_NODE_MOMENTS]),
        sigma: input.pick(&[1.0, 0.5, 3.0]),
        tol: input.pick(&[1e-10, 0.0, 1e-3]),
        max_iter: input.size(1, 25),
    };
    let mut rng = Rng::new(input.u64());
    let theta_star: Vec<f64> = (0..d).map(|_| 2.0 * rng.normal()).collect();
    let n_total: usize = sizes.iter().sum();
    let (mut x, mut y) = (vec![0.0; n_total * d], vec![0.0; n_total]);
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        mk_cmlr_simulate(
            theta_star.as_ptr(),
            d,
            sizes.as_ptr(),
            m,
            options.sigma,
            rng.below(1 << 40),
            x.as_mut_ptr(),
            y.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(status, 0);
    let mut values: Vec<f64> = x.iter().chain(&y).chain(&theta_star).copied().collect();
    input.mutate(&mut values);
    x.copy_from_slice(&values[..n_total * d]);
    y.copy_from_slice(&values[n_total * d..n_total * (d + 1)]);
    let start = &values[n_total * (d + 1)..];
    let mut theta = if options.init == MK_CMLR_INIT_GIVEN {
        start.to_vec()
    } else {
        vec![SENTINEL; d]
    };
    let before = theta.clone();
    let mut report = MkCmlrReport {
        iterations: 777,
        converged: 7,
        last_step: SENTINEL,
    };
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        let mut work = vec![0.0; mk_cmlr_fit_work_len(n_total, d, m)];
        mk_cmlr_fit(
            x.as_ptr(),
            n_total,
            d,
            y.as_ptr(),
            sizes.as_ptr(),
            m,
            &options,
            theta.as_mut_ptr(),
            std::ptr::null(),
            work.as_mut_ptr(),
            work.len(),
            &mut report,
        )
    };
    check_status(status);
    if status == 0 {
        assert!(theta.iter().all(|v| v.is_finite()), "theta {theta:?}");
        assert!(report.iterations >= 1 && report.iterations <= options.max_iter);
        assert!(report.last_step.is_finite() && report.last_step >= 0.0);
        if report.converged == 1 {
            let norm = mixkern::linalg::norm2(&theta);
            assert!(
                report.last_step <= options.tol * norm,
                "converged with step {} > tol |theta|",
                report.last_step
            );
        }
    } else {
        let same = theta
            .iter()
            .zip(&before)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(
            same && report.iterations == 777 && untouched(&[report.last_step]),
            "written on {status}"
        );
    }
});
