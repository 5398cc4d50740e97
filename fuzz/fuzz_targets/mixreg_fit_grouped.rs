//! `mk_mixreg_fit_grouped` on the node statistics of a regression mixture drawn from a seed,
//! options chosen by the input, then mutated statistics (statistics may come from other
//! machines). The contract of the ungrouped target.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mixkern::ffi::*;
use mixkern_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let problem = mixkern_fuzz::regression::Problem::read(&mut input, 6);
    let m = problem.node_sizes.len();
    let intercept = problem.intercept;
    let mut stats = vec![0.0; m * mk_mixreg_node_stats_len(problem.d, intercept)];
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        mk_mixreg_node_statistics(
            problem.x.as_ptr(),
            problem.y.len(),
            problem.d,
            problem.y.as_ptr(),
            problem.node_sizes.as_ptr(),
            m,
            intercept,
            stats.as_mut_ptr(),
        )
    };
    assert_eq!(status, 0, "statistics of valid data");
    let mutated = input.mutate(&mut stats) > 0;
    let mut options = problem.options;
    options.init = input.pick(&[MK_MIXREG_INIT_NODE_LEAST_SQUARES, MK_MIXREG_INIT_RANDOM]);
    let mut fit = mixkern_fuzz::regression::Fit::new(&problem, m);
    fit.monotone &= !mutated;
    let out = fit.descriptor(&problem);
    let mut report = std::mem::MaybeUninit::<MkMixRegReport>::uninit();
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        let mut work = vec![0.0; mk_mixreg_fit_grouped_work_len(m, problem.d, &out)];
        mk_mixreg_fit_grouped(
            stats.as_ptr(),
            m,
            problem.d,
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
