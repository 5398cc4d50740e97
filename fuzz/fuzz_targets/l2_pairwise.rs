//! `mk_l2_pairwise` over m mixtures drawn from a seed, then mutated. OK: finite, non-negative,
//! symmetric distances with a zero diagonal; else untouched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mixkern::ffi::*;
use mixkern::rng::Rng;
use mixkern_fuzz::{check_status, random_mixture, untouched, Input, SENTINEL};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let (m, k, d, full) = (
        input.size(1, 5),
        input.size(1, 3),
        input.size(1, 3),
        input.byte() % 2 == 0,
    );
    let mut rng = Rng::new(input.u64());
    let (mut w, mut mu, mut s) = (vec![], vec![], vec![]);
    for _ in 0..m {
        let (a, b, c) = random_mixture(&mut rng, k, d, full);
        w.extend(a);
        mu.extend(b);
        s.extend(c);
    }
    let mut values: Vec<f64> = w.iter().chain(&mu).chain(&s).copied().collect();
    input.mutate(&mut values);
    let (w, rest) = values.split_at(w.len());
    let (mu, s) = rest.split_at(mu.len());
    let kind = if full { MK_COV_FULL } else { MK_COV_DIAG };
    let desc = MkMixture::over(k, d, kind, w, mu, s);
    let mut out = vec![SENTINEL; m * m];
    // SAFETY: a valid descriptor over buffers of the documented lengths.
    let status = unsafe {
        let mut work = vec![0.0; mk_l2_pairwise_work_len(&desc, m)];
        mk_l2_pairwise(&desc, m, out.as_mut_ptr(), work.as_mut_ptr(), work.len())
    };
    check_status(status);
    if status == 0 {
        for a in 0..m {
            assert_eq!(out[a * m + a], 0.0);
            for b in 0..m {
                let v = out[a * m + b];
                assert!(v.is_finite() && v >= 0.0, "distance {v}");
                assert_eq!(v.to_bits(), out[b * m + a].to_bits(), "not symmetric");
            }
        }
    } else {
        assert!(untouched(&out), "written on {status}");
    }
});
