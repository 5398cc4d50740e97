//! `mk_reduce_mm` of M components drawn from a seed (some duplicated, some sharp) to K, started
//! at the first K renormalized, with options chosen by the input, then mutated. OK: the kept
//! components a valid mixture, the rest zero, a trace that never increases (to 1e-6 relative,
//! the entropic objective being a difference of larger terms, plus 1e-24) where the reduced
//! covariances are resolved in double precision; else every output untouched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mixkern::ffi::*;
use mixkern::rng::Rng;
use mixkern_fuzz::{
    check_mixture, check_monotone, check_status, condition, random_mixture, untouched, Input,
    SENTINEL,
};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let (big_m, d, full) = (input.size(1, 8), input.size(1, 3), input.byte() % 2 == 0);
    let k = input.size(1, big_m);
    let options = MkReduceOptions {
        tol: input.pick(&[1e-5, 0.0]),
        max_iter: input.size(1, 20),
        entropic_lambda: input.pick(&[0.0, 0.0, 0.1, 1.0]),
        trim: input.pick(&[0.0, 0.0, 0.2, 0.5]),
    };
    let sharp = input.byte() % 3 == 0;
    let duplicates = input.size(0, big_m - 1);
    let mut rng = Rng::new(input.u64());
    let (mut w, mut mu, mut s) = random_mixture(&mut rng, big_m, d, full);
    let c = if full { d * d } else { d };
    if sharp {
        s.iter_mut().for_each(|v| *v *= 1e-60);
    }
    for i in 1..=duplicates {
        mu.copy_within(0..d, i * d);
        s.copy_within(0..c, i * c);
    }
    let mut values: Vec<f64> = w.iter().chain(&mu).chain(&s).copied().collect();
    input.mutate(&mut values);
    w.copy_from_slice(&values[..big_m]);
    mu.copy_from_slice(&values[big_m..big_m + big_m * d]);
    s.copy_from_slice(&values[big_m + big_m * d..]);
    let total: f64 = w[..k].iter().sum();
    let start_w: Vec<f64> = w[..k].iter().map(|v| v / total).collect();
    let kind = if full { MK_COV_FULL } else { MK_COV_DIAG };
    let in_desc = MkMixture::over(big_m, d, kind, &w, &mu, &s);
    let start = MkMixture::over(k, d, kind, &start_w, &mu[..k * d], &s[..k * c]);
    let (mut ow, mut omu, mut os) = (
        vec![SENTINEL; k],
        vec![SENTINEL; k * d],
        vec![SENTINEL; k * c],
    );
    let out = MkMixtureOut::over(k, d, kind, &mut ow, &mut omu, &mut os);
    let mut trace = vec![SENTINEL; options.max_iter];
    let mut report = std::mem::MaybeUninit::<MkReduceReport>::uninit();
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        let mut work = vec![0.0; mk_reduce_mm_work_len(&in_desc, &start, &out)];
        mk_reduce_mm(
            &in_desc,
            &start,
            &options,
            &out,
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
        let kept = report.kept;
        assert!(kept >= 1 && kept <= k);
        check_mixture(&ow, &omu, &os, kept, d, full);
        assert!(ow[kept..]
            .iter()
            .chain(&omu[kept * d..])
            .chain(&os[kept * c..])
            .all(|&v| v == 0.0));
        assert!(report.objective.is_finite());
        // The objective is monotone up to its rounding, about eps cond(S~_k) per unit mass for
        // full covariances (module docs of reduce.rs): checked where that is below 1e-8.
        let resolved = !full
            || (0..kept).all(|j| condition(&os[j * c..(j + 1) * c], d) * f64::EPSILON <= 1e-8);
        if resolved {
            check_monotone(&trace[..report.iterations], false, 1e-6, 1e-24);
        }
    } else {
        assert!(
            untouched(&ow) && untouched(&omu) && untouched(&os),
            "written on {status}"
        );
    }
});
