//! `mk_mixreg_fit` (ungrouped) on samples of a regression mixture drawn from a seed, options
//! chosen by the input, then mutated samples. OK: weights summing to 1, finite coefficients,
//! positive finite variances, posterior rows summing to 1, and a log-likelihood trace that never
//! decreases (to 1e-9 relative) when no component emptied and no variance was floored; else
//! every output untouched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mixkern::ffi::*;
use mixkern_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let problem = mixkern_fuzz::regression::Problem::read(&mut input, 1);
    let mut x = problem.x.clone();
    let mut y = problem.y.clone();
    let mut values: Vec<f64> = x.iter().chain(&y).copied().collect();
    let mutated = input.mutate(&mut values) > 0;
    let n = y.len();
    x.copy_from_slice(&values[..n * problem.d]);
    y.copy_from_slice(&values[n * problem.d..]);
    let mut options = problem.options;
    options.init = MK_MIXREG_INIT_RANDOM;
    let mut fit = mixkern_fuzz::regression::Fit::new(&problem, n);
    fit.monotone &= !mutated;
    let out = fit.descriptor(&problem);
    let mut report = std::mem::MaybeUninit::<MkMixRegReport>::uninit();
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        let mut work = vec![0.0; mk_mixreg_fit_work_len(n, problem.d, &out)];
        mk_mixreg_fit(
            x.as_ptr(),
            n,
            problem.d,
            y.as_ptr(),
            &options,
            std::ptr::null(),
            &out,
            fit.posteriors.as_mut_ptr(),
            fit.trace_ptr(),
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    fit.check(&problem, status, &report);
});
