//! `mk_aggregate_messages` over m encoded estimates near a common mixture, then broken:
//! bits flipped, messages dropped or emptied, payload values replaced (with the checksum made
//! right). OK: every status written, a valid aggregate; NO_MAJORITY: statuses written, the
//! mixture untouched; any other error: everything untouched.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mixkern::ffi::*;
use mixkern::rng::Rng;
use mixkern::wire::{crc32, WIRE_HEADER_LEN};
use mixkern_fuzz::{check_mixture, check_status, random_mixture, untouched, Input, SENTINEL};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let (m, k, d, full) = (
        input.size(1, 9),
        input.size(1, 3),
        input.size(1, 3),
        input.byte() % 2 == 0,
    );
    let method = input.pick(&[
        MK_AGG_DFMR,
        MK_AGG_VANILLA,
        MK_AGG_TRIM,
        MK_AGG_COAT,
        MK_AGG_MEDOID,
    ]);
    let kind = if full { MK_COV_FULL } else { MK_COV_DIAG };
    let mut rng = Rng::new(input.u64());
    let base = random_mixture(&mut rng, k, d, full);
    let mut messages: Vec<Option<Vec<u8>>> = (0..m)
        .map(|i| {
            let mu: Vec<f64> = base.1.iter().map(|v| v + 0.05 * rng.normal()).collect();
            let desc = MkMixture::over(k, d, kind, &base.0, &mu, &base.2);
            // SAFETY: a valid descriptor; the buffer has the documented length.
            unsafe {
                let mut bytes = vec![0u8; mk_wire_message_len(&desc)];
                let mut written = 0;
                let status = mk_wire_encode(
                    &desc,
                    100 + i as u64,
                    bytes.as_mut_ptr(),
                    bytes.len(),
                    &mut written,
                );
                assert_eq!(status, 0);
                Some(bytes)
            }
        })
        .collect();
    while input.remaining() {
        let i = input.byte() as usize % m;
        match (input.byte() % 4, messages[i].as_mut()) {
            (0, Some(msg)) if !msg.is_empty() => {
                let at = (usize::from(input.byte()) | usize::from(input.byte()) << 8) % msg.len();
                msg[at] ^= 1 << (input.byte() % 8);
            }
            (1, _) => messages[i] = None,
            (2, _) => messages[i] = Some(Vec::new()),
            (3, Some(msg)) if msg.len() >= WIRE_HEADER_LEN + 12 => {
                let values = (msg.len() - WIRE_HEADER_LEN - 4) / 8;
                let at = WIRE_HEADER_LEN + 8 * (input.byte() as usize % values);
                msg[at..at + 8].copy_from_slice(&input.u64().to_le_bytes());
                let end = msg.len() - 4;
                let crc = crc32(&msg[..end]);
                msg[end..].copy_from_slice(&crc.to_le_bytes());
            }
            _ => {}
        }
    }
    let ptrs: Vec<*const u8> = messages
        .iter()
        .map(|v| v.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()))
        .collect();
    let lens: Vec<usize> = messages
        .iter()
        .map(|v| v.as_ref().map_or(0, |v| v.len()))
        .collect();
    let c = if full { d * d } else { d };
    let (mut w, mut mu, mut s) = (
        vec![SENTINEL; k],
        vec![SENTINEL; k * d],
        vec![SENTINEL; k * c],
    );
    let out = MkMixtureOut::over(k, d, kind, &mut w, &mut mu, &mut s);
    let (mut status_out, mut selected) = (vec![-77i32; m], vec![77u8; m]);
    let mut coat_distance = vec![f64::NAN; m];
    let options = MkAggregateOptions {
        method,
        ..mk_aggregate_options_default()
    };
    let mut report = std::mem::MaybeUninit::<MkAggregateReport>::uninit();
    // SAFETY: every non-null message is valid for its length; buffers of the documented lengths.
    let status = unsafe {
        let mut work = vec![0.0; mk_aggregate_messages_work_len(m, &out)];
        mk_aggregate_messages(
            ptrs.as_ptr(),
            lens.as_ptr(),
            m,
            &options,
            status_out.as_mut_ptr(),
            selected.as_mut_ptr(),
            coat_distance.as_mut_ptr(),
            &out,
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    check_status(status);
    let statuses_written = status_out
        .iter()
        .all(|&s| s != -77 && mixkern::Status::from_code(s).is_some());
    if status == 0 {
        // SAFETY: written on success.
        let report = unsafe { report.assume_init() };
        assert!(statuses_written && selected.iter().all(|&v| v <= 1));
        // Every distance to COAT is >= 0, and +inf for a rejected machine.
        for (&dist, &st) in coat_distance.iter().zip(&status_out) {
            assert!(dist >= 0.0 && (st == 0 || dist == f64::INFINITY));
        }
        let kept = report.reduce.kept;
        assert!(kept >= 1 && kept <= k);
        check_mixture(&w, &mu, &s, kept, d, full);
        for (i, &sel) in selected.iter().enumerate() {
            assert!(
                sel == 0 || status_out[i] == 0,
                "an invalid machine was selected"
            );
        }
    } else if status == mixkern::Status::NoMajority.code() {
        assert!(statuses_written && selected.iter().all(|&v| v == 0));
        assert!(untouched(&w) && untouched(&mu) && untouched(&s));
    } else {
        assert!(status_out.iter().all(|&s| s == -77) && selected.iter().all(|&v| v == 77));
        assert!(
            untouched(&w) && untouched(&mu) && untouched(&s),
            "written on {status}"
        );
    }
});
