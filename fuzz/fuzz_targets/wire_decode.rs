//! `mk_wire_read_header` and `mk_wire_decode` on arbitrary bytes: decoded as the shape the header
//! states and as a fixed shape. OK: a valid mixture and a sample size >= 1; else untouched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mixkern::ffi::*;
use mixkern_fuzz::{check_mixture, check_status, untouched, SENTINEL};

fn decode(data: &[u8], k: usize, d: usize, kind: i32) {
    let c = if kind == MK_COV_FULL { d * d } else { d };
    let (mut w, mut mu, mut s) = (
        vec![SENTINEL; k],
        vec![SENTINEL; k * d],
        vec![SENTINEL; k * c],
    );
    let out = MkMixtureOut::over(k, d, kind, &mut w, &mut mu, &mut s);
    let mut n = 0u64;
    // SAFETY: buffers of the documented lengths; `data` is valid for its length.
    let status = unsafe {
        let mut work = vec![0.0; mk_wire_decode_work_len(data.len(), &out)];
        mk_wire_decode(
            data.as_ptr(),
            data.len(),
            &out,
            &mut n,
            work.as_mut_ptr(),
            work.len(),
        )
    };
    check_status(status);
    if status == 0 {
        check_mixture(&w, &mu, &s, k, d, kind == MK_COV_FULL);
        assert!(n >= 1);
    } else {
        assert!(
            untouched(&w) && untouched(&mu) && untouched(&s) && n == 0,
            "written on {status}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut header = MkWireHeader {
        version: 7,
        cov_kind: 7,
        k: 7,
        d: 7,
        sample_size: 7,
    };
    // SAFETY: `data` is valid for its length; `header` is a local.
    let status = unsafe { mk_wire_read_header(data.as_ptr(), data.len(), &mut header) };
    check_status(status);
    if status == 0 {
        assert!(header.k >= 1 && header.d >= 1 && header.sample_size >= 1);
        if header.k * header.d <= 4096 && header.d <= 64 {
            decode(data, header.k, header.d, header.cov_kind);
        }
    } else {
        assert_eq!(
            (header.version, header.k, header.d, header.sample_size),
            (7, 7, 7, 7)
        );
    }
    decode(data, 2, 3, MK_COV_FULL);
});
