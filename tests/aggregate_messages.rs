//! Aggregation from wire messages, and the aggregation and reduction C ABI.
//!
//! - The message path gives bitwise the result of the array path with the messages' sample
//!   sizes, for every aggregator and both covariance kinds.
//! - Missing, truncated, corrupted, wrongly shaped, non-finite and non-SPD messages are
//!   Byzantine: reported per machine with their reason, never selected, and the result is the
//!   one of the honest machines alone.
//! - Fuzz-style: random mutations of several messages never crash the aggregator; DFMR always
//!   returns a finite mixture while the unmutated machines are a majority.
//! - The C entry points equal the safe API bitwise, and reject bad arguments with outputs
//!   untouched.

use mixkern::ffi::{
    mk_aggregate, mk_aggregate_messages, mk_aggregate_messages_work_len,
    mk_aggregate_options_default, mk_aggregate_work_len, mk_coat, mk_coat_work_len, mk_reduce_mm,
    mk_reduce_mm_work_len, MkAggregateOptions, MkAggregateReport, MkMixture, MkMixtureOut,
    MkReduceReport, MK_AGG_COAT, MK_AGG_DFMR, MK_AGG_MEDOID, MK_AGG_TRIM, MK_AGG_VANILLA,
    MK_COV_DIAG, MK_COV_FULL,
};
use mixkern::gmm::{CovKind, Mixture};
use mixkern::reduce::{reduce_mm, reduce_mm_work_len, ReduceOptions};
use mixkern::rng::Rng;
use mixkern::robust::{
    aggregate, aggregate_messages, aggregate_messages_work_len, aggregate_work_len, coat,
    default_rho, AggregateReport, Aggregator, Screening,
};
use mixkern::wire::{crc32, encode, message_len, WIRE_HEADER_LEN};
use mixkern::Status;

const K: usize = 3;
const D: usize = 3;

fn cov_len(kind: CovKind) -> usize {
    kind.cov_len(D).unwrap()
}

/// m local estimates near one truth (weights, means, covariances), concatenated, and their
/// sample sizes.
struct Estimates {
    w: Vec<f64>,
    mu: Vec<f64>,
    cov: Vec<f64>,
    n: Vec<u64>,
    kind: CovKind,
}

impl Estimates {
    fn honest(seed: u64, m: usize, kind: CovKind) -> Self {
        let mut rng = Rng::new(seed);
        let c = cov_len(kind);
        let mut e = Estimates {
            w: vec![],
            mu: vec![],
            cov: vec![],
            n: vec![],
            kind,
        };
        for _ in 0..m {
            let mut w = [0.5, 0.3, 0.2];
            let t = 0.02 * rng.normal();
            w[0] += t;
            w[1] -= t;
            e.w.extend_from_slice(&w);
            for k in 0..K {
                for a in 0..D {
                    e.mu.push(
                        4.0 * (k as f64) * if a == 0 { 1.0 } else { -0.5 } + 0.05 * rng.normal(),
                    );
                }
                let s = 1.0 + 0.05 * rng.normal();
                for a in 0..D {
                    match kind {
                        CovKind::Full => {
                            for b in 0..D {
                                let v = if a == b { 1.0 + 0.2 * k as f64 } else { 0.2 };
                                e.cov.push(s * v);
                            }
                        }
                        CovKind::Diag => e.cov.push(s * (1.0 + 0.2 * (k + a) as f64)),
                    }
                }
            }
            e.n.push(100 + rng.below(900));
            debug_assert_eq!(e.cov.len(), e.n.len() * K * c);
        }
        e
    }

    fn m(&self) -> usize {
        self.n.len()
    }

    fn mixture(&self, i: usize) -> Mixture<'_> {
        let c = cov_len(self.kind);
        Mixture::new(
            &self.w[i * K..(i + 1) * K],
            &self.mu[i * K * D..(i + 1) * K * D],
            &self.cov[i * K * c..(i + 1) * K * c],
            K,
            D,
            self.kind,
        )
        .unwrap()
    }

    fn message(&self, i: usize) -> Vec<u8> {
        let mut out = vec![0; message_len(K, D, self.kind).unwrap()];
        let len = encode(&self.mixture(i), self.n[i], &mut out).unwrap();
        assert_eq!(len, out.len());
        out
    }

    fn sizes(&self) -> Vec<f64> {
        self.n.iter().map(|&n| n as f64).collect()
    }
}

/// Everything an aggregation writes, from sentinel-filled buffers.
#[derive(Debug, PartialEq)]
struct Out {
    status: Vec<i32>,
    selected: Vec<u8>,
    w: Vec<u64>,
    mu: Vec<u64>,
    cov: Vec<u64>,
}

const SENTINEL: f64 = -7.25;

/// Sentinel-filled statuses, selections, weights, means and covariances.
type Buffers = (Vec<i32>, Vec<u8>, Vec<f64>, Vec<f64>, Vec<f64>);

fn buffers(m: usize, kind: CovKind) -> Buffers {
    (
        vec![-3; m],
        vec![9; m],
        vec![SENTINEL; K],
        vec![SENTINEL; K * D],
        vec![SENTINEL; K * cov_len(kind)],
    )
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

impl From<Buffers> for Out {
    fn from((status, selected, w, mu, cov): Buffers) -> Out {
        Out {
            status,
            selected,
            w: bits(&w),
            mu: bits(&mu),
            cov: bits(&cov),
        }
    }
}

fn from_arrays(method: Aggregator, e: &Estimates) -> (Result<AggregateReport, Status>, Out) {
    let m = e.m();
    let (mut st, mut sel, mut w, mut mu, mut cov) = buffers(m, e.kind);
    let mut work = vec![f64::NAN; aggregate_work_len(m, K, D, e.kind).unwrap()];
    let r = aggregate(
        method,
        &e.w,
        &e.mu,
        &e.cov,
        m,
        K,
        D,
        e.kind,
        Some(&e.sizes()),
        &ReduceOptions::default(),
        &Screening::default(),
        &mut st,
        &mut sel,
        None,
        &mut w,
        &mut mu,
        &mut cov,
        &mut work,
    );
    (r, Out::from((st, sel, w, mu, cov)))
}

fn from_messages(
    method: Aggregator,
    messages: &[Option<Vec<u8>>],
    kind: CovKind,
) -> (Result<AggregateReport, Status>, Out) {
    let m = messages.len();
    let (mut st, mut sel, mut w, mut mu, mut cov) = buffers(m, kind);
    let mut work = vec![f64::NAN; aggregate_messages_work_len(m, K, D, kind).unwrap()];
    let get = |i: usize| messages[i].as_deref();
    let r = aggregate_messages(
        method,
        &get,
        m,
        K,
        D,
        kind,
        &ReduceOptions::default(),
        &Screening::default(),
        &mut st,
        &mut sel,
        None,
        &mut w,
        &mut mu,
        &mut cov,
        &mut work,
    );
    (r, Out::from((st, sel, w, mu, cov)))
}

fn methods(m: usize) -> [Aggregator; 6] {
    [
        Aggregator::Dfmr {
            rho: default_rho(m),
        },
        Aggregator::Dfmr { rho: 1.0 },
        Aggregator::Vanilla,
        Aggregator::Trim { alpha: 0.5 },
        Aggregator::Coat,
        Aggregator::Medoid,
    ]
}

#[test]
fn messages_give_the_result_of_the_arrays() {
    for kind in [CovKind::Full, CovKind::Diag] {
        let e = Estimates::honest(11, 9, kind);
        let messages: Vec<_> = (0..e.m()).map(|i| Some(e.message(i))).collect();
        for method in methods(e.m()) {
            let (ra, oa) = from_arrays(method, &e);
            let (rm, om) = from_messages(method, &messages, kind);
            assert_eq!(ra, rm, "{method:?} {kind:?}");
            assert_eq!(oa, om, "{method:?} {kind:?}");
            let r = ra.unwrap();
            assert_eq!(r.valid, 9);
            assert_eq!(oa.status, vec![0; 9]);
            assert!(oa.w.iter().all(|&b| f64::from_bits(b) != SENTINEL));
        }
    }
}

/// The message with its payload double number `index` replaced by `value`, CRC recomputed.
fn with_payload_value(message: &[u8], index: usize, value: f64) -> Vec<u8> {
    let mut out = message.to_vec();
    let at = WIRE_HEADER_LEN + 8 * index;
    out[at..at + 8].copy_from_slice(&value.to_le_bytes());
    let body = out.len() - 4;
    let crc = crc32(&out[..body]);
    out[body..].copy_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn broken_messages_are_reported_and_change_nothing() {
    for kind in [CovKind::Full, CovKind::Diag] {
        // Machines 0..7 honest; 7..13 broken, each in its own way.
        let e = Estimates::honest(12, 13, kind);
        let mut messages: Vec<_> = (0..13).map(|i| Some(e.message(i))).collect();
        let valid = e.message(7);
        messages[7] = None;
        messages[8] = Some(valid[..valid.len() - 1].to_vec());
        let mut corrupted = valid.clone();
        corrupted[WIRE_HEADER_LEN + 5] ^= 1;
        messages[9] = Some(corrupted);
        let other_kind = match kind {
            CovKind::Full => CovKind::Diag,
            CovKind::Diag => CovKind::Full,
        };
        messages[10] = Some(Estimates::honest(3, 1, other_kind).message(0));
        messages[11] = Some(with_payload_value(&valid, K + 1, f64::NAN));
        // The first covariance's first entry negative: not positive definite in either kind.
        messages[12] = Some(with_payload_value(&valid, K + K * D, -1.0));
        let want_status = [
            Status::MissingMessage,
            Status::BadMessage,
            Status::BadMessage,
            Status::ShapeMismatch,
            Status::NonFinite,
            Status::NotSpd,
        ];

        // The same machines as arrays, the broken ones as NaN estimates (invalid there too).
        let mut nan_broken = Estimates::honest(12, 13, kind);
        nan_broken.w[7 * K..].fill(f64::NAN);
        for method in methods(13) {
            let (r, out) = from_messages(method, &messages, kind);
            let r = r.unwrap();
            assert_eq!(r.valid, 7);
            for (i, want) in want_status.iter().enumerate() {
                assert_eq!(out.status[7 + i], want.code(), "machine {} {kind:?}", 7 + i);
                assert_eq!(out.selected[7 + i], 0);
            }
            assert_eq!(&out.status[..7], &[0; 7]);
            // Same valid machines, same pool, same start: bitwise the same result.
            let (rh, oh) = from_arrays(method, &nan_broken);
            assert_eq!(Ok(r), rh);
            assert_eq!(&oh.status[7..], &[Status::NonFinite.code(); 6]);
            assert_eq!(out.selected, oh.selected);
            assert_eq!(
                (&out.w, &out.mu, &out.cov),
                (&oh.w, &oh.mu, &oh.cov),
                "{method:?}"
            );
        }

        // Seven broken of thirteen (one by a zero-length message): no honest majority. The call
        // fails with its own status, every machine's status is written (so the centre learns
        // which failed), nothing is selected, and the mixture outputs are untouched.
        messages[6] = Some(Vec::new());
        let (r, out) = from_messages(Aggregator::Dfmr { rho: 2.0 }, &messages, kind);
        assert_eq!(r, Err(Status::NoMajority));
        assert_eq!(&out.status[..6], &[0; 6]);
        assert_eq!(out.status[6], Status::MissingMessage.code());
        for (i, want) in want_status.iter().enumerate() {
            assert_eq!(out.status[7 + i], want.code(), "machine {} {kind:?}", 7 + i);
        }
        assert_eq!(out.selected, vec![0; 13]);
        let untouched = Out::from(buffers(13, kind));
        assert_eq!(
            (&out.w, &out.mu, &out.cov),
            (&untouched.w, &untouched.mu, &untouched.cov)
        );
    }
}

#[test]
fn fuzzed_messages_never_break_the_aggregator() {
    let mut rng = Rng::new(2026);
    for kind in [CovKind::Full, CovKind::Diag] {
        let e = Estimates::honest(13, 7, kind);
        let clean: Vec<_> = (0..7).map(|i| e.message(i)).collect();
        let mut oks = 0;
        for round in 0..400 {
            let mut messages: Vec<Option<Vec<u8>>> = clean.iter().cloned().map(Some).collect();
            // Up to three of seven machines (a minority) send mutated bytes.
            for slot in 0..1 + rng.below(3) as usize {
                let msg = messages[slot * 2].as_mut().unwrap();
                match rng.below(5) {
                    0 => {
                        let at = rng.below(msg.len() as u64) as usize;
                        msg[at] ^= 1 << rng.below(8);
                    }
                    1 => msg.truncate(rng.below(msg.len() as u64) as usize),
                    2 => {
                        for b in msg.iter_mut() {
                            *b = rng.below(256) as u8;
                        }
                    }
                    _ => {
                        // A payload double set to an extreme or odd value, CRC made right.
                        let n_values = (msg.len() - WIRE_HEADER_LEN - 4) / 8;
                        let values = [
                            f64::MAX,
                            -f64::MAX,
                            1e300,
                            1e-300,
                            5e-324,
                            0.0,
                            -0.0,
                            f64::INFINITY,
                            f64::NAN,
                            1.0 + f64::EPSILON,
                            -1.0,
                        ];
                        let v = values[rng.below(values.len() as u64) as usize];
                        *msg = with_payload_value(msg, rng.below(n_values as u64) as usize, v);
                    }
                }
            }
            for method in methods(7) {
                let (r, out) = from_messages(method, &messages, kind);
                match r {
                    Ok(r) => {
                        oks += 1;
                        assert!(r.valid >= 4 && r.radius.is_finite());
                        for v in out.w.iter().chain(&out.mu).chain(&out.cov) {
                            assert!(f64::from_bits(*v).is_finite(), "round {round} {method:?}");
                        }
                        let total: f64 = out.w.iter().map(|&b| f64::from_bits(b)).sum();
                        assert!((total - 1.0).abs() < 1e-9);
                        for i in 0..7 {
                            assert!(out.status[i] == 0 || out.selected[i] == 0);
                        }
                    }
                    Err(status) => {
                        // Only a reduction that pools every valid machine can meet an extreme
                        // (valid) estimate that overflows; DFMR filters it out.
                        assert!(
                            matches!(method, Aggregator::Vanilla | Aggregator::Trim { .. }),
                            "round {round}: {method:?} failed with {status:?}"
                        );
                        assert!(matches!(status, Status::NonFinite | Status::NotSpd));
                        assert_eq!(out, Out::from(buffers(7, kind)));
                    }
                }
            }
        }
        assert!(oks >= 400 * 4, "{oks}");
    }
}

// ---------------------------------------------------------------------------------------------
// The C ABI.
// ---------------------------------------------------------------------------------------------

fn c_kind(kind: CovKind) -> i32 {
    match kind {
        CovKind::Full => MK_COV_FULL,
        CovKind::Diag => MK_COV_DIAG,
    }
}

fn c_method(method: Aggregator) -> (i32, f64) {
    match method {
        Aggregator::Dfmr { rho } => (MK_AGG_DFMR, rho),
        Aggregator::Vanilla => (MK_AGG_VANILLA, 0.0),
        Aggregator::Trim { .. } => (MK_AGG_TRIM, 0.0),
        Aggregator::Coat => (MK_AGG_COAT, 0.0),
        Aggregator::Medoid => (MK_AGG_MEDOID, 0.0),
    }
}

#[test]
fn c_aggregation_equals_the_safe_api() {
    for kind in [CovKind::Full, CovKind::Diag] {
        let e = Estimates::honest(14, 9, kind);
        let m = e.m();
        let messages: Vec<Vec<u8>> = (0..m).map(|i| e.message(i)).collect();
        let ptrs: Vec<*const u8> = messages.iter().map(|v| v.as_ptr()).collect();
        let lens: Vec<usize> = messages.iter().map(|v| v.len()).collect();
        let sizes = e.sizes();
        let wrapped: Vec<_> = messages.iter().cloned().map(Some).collect();
        for method in methods(m) {
            let (code, rho) = c_method(method);
            let mut options = mk_aggregate_options_default();
            options.method = code;
            options.rho = rho;
            let (_, want) = from_messages(method, &wrapped, kind);
            for from_bytes in [false, true] {
                let (mut st, mut sel, mut w, mut mu, mut cov) = buffers(m, kind);
                let estimates = MkMixture::over(K, D, c_kind(kind), &e.w, &e.mu, &e.cov);
                let out_desc = MkMixtureOut::over(K, D, c_kind(kind), &mut w, &mut mu, &mut cov);
                // SAFETY: valid descriptors.
                let work_len = unsafe {
                    if from_bytes {
                        mk_aggregate_messages_work_len(m, &out_desc)
                    } else {
                        mk_aggregate_work_len(&estimates, m, &out_desc)
                    }
                };
                let mut work = vec![f64::NAN; work_len];
                let mut report = std::mem::MaybeUninit::<MkAggregateReport>::uninit();
                // SAFETY: every buffer has the documented length.
                let status = unsafe {
                    if from_bytes {
                        mk_aggregate_messages(
                            ptrs.as_ptr(),
                            lens.as_ptr(),
                            m,
                            &options,
                            st.as_mut_ptr(),
                            sel.as_mut_ptr(),
                            std::ptr::null_mut(),
                            &out_desc,
                            work.as_mut_ptr(),
                            work.len(),
                            report.as_mut_ptr(),
                        )
                    } else {
                        mk_aggregate(
                            &estimates,
                            m,
                            sizes.as_ptr(),
                            &options,
                            st.as_mut_ptr(),
                            sel.as_mut_ptr(),
                            std::ptr::null_mut(),
                            &out_desc,
                            work.as_mut_ptr(),
                            work.len(),
                            report.as_mut_ptr(),
                        )
                    }
                };
                assert_eq!(status, 0, "{method:?}");
                let got = Out::from((st, sel, w, mu, cov));
                assert_eq!(got, want, "{method:?} from_bytes={from_bytes}");
            }
        }
    }
}

#[test]
fn c_default_options_are_dfmr_with_the_default_rho() {
    let e = Estimates::honest(15, 9, CovKind::Full);
    let m = e.m();
    let (_, want) = from_arrays(
        Aggregator::Dfmr {
            rho: default_rho(m),
        },
        &e,
    );
    let (mut st, mut sel, mut w, mut mu, mut cov) = buffers(m, CovKind::Full);
    let estimates = MkMixture::over(K, D, MK_COV_FULL, &e.w, &e.mu, &e.cov);
    let out = MkMixtureOut::over(K, D, MK_COV_FULL, &mut w, &mut mu, &mut cov);
    // SAFETY: valid descriptors.
    let mut work = vec![0.0; unsafe { mk_aggregate_work_len(&estimates, m, &out) }];
    let mut report = std::mem::MaybeUninit::<MkAggregateReport>::uninit();
    let sizes = e.sizes();
    // SAFETY: every buffer has the documented length; NULL options are allowed.
    let status = unsafe {
        mk_aggregate(
            &estimates,
            m,
            sizes.as_ptr(),
            std::ptr::null(),
            st.as_mut_ptr(),
            sel.as_mut_ptr(),
            std::ptr::null_mut(),
            &out,
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    assert_eq!(status, 0);
    assert_eq!(
        (bits(&w), bits(&mu), bits(&cov)),
        (want.w, want.mu, want.cov)
    );
}

#[test]
fn c_aggregation_rejects_bad_arguments_with_outputs_untouched() {
    let e = Estimates::honest(16, 5, CovKind::Full);
    let m = e.m();
    let messages: Vec<Vec<u8>> = (0..m).map(|i| e.message(i)).collect();
    let ptrs: Vec<*const u8> = messages.iter().map(|v| v.as_ptr()).collect();
    let lens: Vec<usize> = messages.iter().map(|v| v.len()).collect();
    // SAFETY: a valid shape-only descriptor.
    let full_len =
        unsafe { mk_aggregate_messages_work_len(m, &MkMixtureOut::shape(K, D, MK_COV_FULL)) };
    type Edit = Box<dyn Fn(&mut MkAggregateOptions)>;
    let cases: Vec<(&str, i32, Edit, bool, usize, i32)> = vec![
        (
            "unknown method",
            5,
            Box::new(|_| {}),
            false,
            full_len,
            Status::BadParameter.code(),
        ),
        (
            "rho below 1",
            MK_AGG_DFMR,
            Box::new(|o| o.rho = 0.5),
            false,
            full_len,
            Status::BadParameter.code(),
        ),
        (
            "rho NaN",
            MK_AGG_DFMR,
            Box::new(|o| o.rho = f64::NAN),
            false,
            full_len,
            Status::BadParameter.code(),
        ),
        (
            "trim 1",
            MK_AGG_TRIM,
            Box::new(|o| o.trim_alpha = 1.0),
            false,
            full_len,
            Status::BadParameter.code(),
        ),
        (
            "max_iter 0",
            MK_AGG_DFMR,
            Box::new(|o| o.reduce.max_iter = 0),
            false,
            full_len,
            Status::BadParameter.code(),
        ),
        (
            "tol NaN",
            MK_AGG_VANILLA,
            Box::new(|o| o.reduce.tol = f64::NAN),
            false,
            full_len,
            Status::BadParameter.code(),
        ),
        (
            "reduce trim -1",
            MK_AGG_DFMR,
            Box::new(|o| o.reduce.trim = -1.0),
            false,
            full_len,
            Status::BadParameter.code(),
        ),
        (
            "short work",
            MK_AGG_DFMR,
            Box::new(|_| {}),
            false,
            full_len - 1,
            Status::BufferTooShort.code(),
        ),
        (
            "null messages",
            MK_AGG_DFMR,
            Box::new(|_| {}),
            true,
            full_len,
            Status::NullPointer.code(),
        ),
    ];
    for (name, method, edit, null_messages, work_len, want) in cases {
        let mut options = mk_aggregate_options_default();
        options.method = method;
        edit(&mut options);
        let (mut st, mut sel, mut w, mut mu, mut cov) = buffers(m, CovKind::Full);
        let mut work = vec![0.0; work_len];
        let mut report = std::mem::MaybeUninit::<MkAggregateReport>::uninit();
        let out = MkMixtureOut::over(K, D, MK_COV_FULL, &mut w, &mut mu, &mut cov);
        // SAFETY: buffers of the documented lengths (work possibly shorter, as declared).
        let status = unsafe {
            mk_aggregate_messages(
                if null_messages {
                    std::ptr::null()
                } else {
                    ptrs.as_ptr()
                },
                lens.as_ptr(),
                m,
                &options,
                st.as_mut_ptr(),
                sel.as_mut_ptr(),
                std::ptr::null_mut(),
                &out,
                work.as_mut_ptr(),
                work.len(),
                report.as_mut_ptr(),
            )
        };
        assert_eq!(status, want, "{name}");
        assert_eq!(st, vec![-3; m], "{name}");
        assert_eq!(sel, vec![9; m], "{name}");
        assert!(
            w.iter().chain(&mu).chain(&cov).all(|&v| v == SENTINEL),
            "{name}"
        );
    }
    // Zero sizes, disagreeing shapes and an unknown kind give no workspace length.
    let (full_in, full_out) = (
        MkMixture::shape(K, D, MK_COV_FULL),
        MkMixtureOut::shape(K, D, MK_COV_FULL),
    );
    // SAFETY (all calls): valid shape-only descriptors, or NULL.
    unsafe {
        assert!(mk_aggregate_work_len(&full_in, m, &full_out) > 0);
        assert_eq!(mk_aggregate_work_len(&full_in, 0, &full_out), 0);
        let diag_out = MkMixtureOut::shape(K, D, MK_COV_DIAG);
        assert_eq!(mk_aggregate_work_len(&full_in, m, &diag_out), 0);
        assert_eq!(mk_aggregate_work_len(&full_in, m, std::ptr::null()), 0);
        let zero_k = MkMixtureOut::shape(0, D, MK_COV_FULL);
        assert_eq!(mk_aggregate_messages_work_len(m, &zero_k), 0);
        let bad_kind = MkMixtureOut::shape(K, D, 7);
        assert_eq!(mk_aggregate_messages_work_len(m, &bad_kind), 0);
        assert_eq!(mk_aggregate_work_len(&full_in, usize::MAX, &full_out), 0);
    }
}

#[test]
fn c_reduce_and_coat_equal_the_safe_api() {
    let e = Estimates::honest(17, 6, CovKind::Full);
    let m = 6 * K; // every component of 6 machines, pooled with equal machine weights
    let pooled_w: Vec<f64> = e.w.iter().map(|w| w / 6.0).collect();
    let input = Mixture::new(&pooled_w, &e.mu, &e.cov, m, D, CovKind::Full).unwrap();
    let init = e.mixture(0);
    let opts = ReduceOptions {
        entropic_lambda: 0.1,
        ..ReduceOptions::default()
    };
    let c = D * D;
    let (mut w, mut mu, mut cov) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * c]);
    let mut work = vec![0.0; reduce_mm_work_len(m, K, D, CovKind::Full).unwrap()];
    let want = reduce_mm(
        &input, &init, &opts, &mut w, &mut mu, &mut cov, None, &mut work,
    )
    .unwrap();
    let c_opts = mixkern::ffi::MkReduceOptions::from(opts);
    let (mut cw, mut cmu, mut ccov) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * c]);
    let mut trace = vec![f64::NAN; opts.max_iter];
    let c_input = MkMixture::over(m, D, MK_COV_FULL, &pooled_w, &e.mu, &e.cov);
    let c_start = MkMixture::over(K, D, MK_COV_FULL, &e.w, &e.mu, &e.cov);
    let c_out = MkMixtureOut::over(K, D, MK_COV_FULL, &mut cw, &mut cmu, &mut ccov);
    // SAFETY: valid descriptors.
    let mut cwork = vec![0.0; unsafe { mk_reduce_mm_work_len(&c_input, &c_start, &c_out) }];
    // The header's formula (Rust doc and C doc): M c + M K + K + K d + 2 K c + d p + d + 2 K + 2 M.
    let (mm, kk, dd, cc, pp) = (m, K, D, D * D, D.div_ceil(4) * 4);
    assert_eq!(
        cwork.len(),
        mm * cc + mm * kk + kk + kk * dd + 2 * kk * cc + dd * pp + dd + 2 * kk + 2 * mm
    );
    let mut report = std::mem::MaybeUninit::<MkReduceReport>::uninit();
    // SAFETY: every buffer has the documented length.
    let status = unsafe {
        mk_reduce_mm(
            &c_input,
            &c_start,
            &c_opts,
            &c_out,
            trace.as_mut_ptr(),
            cwork.as_mut_ptr(),
            cwork.len(),
            report.as_mut_ptr(),
        )
    };
    assert_eq!(status, 0);
    // SAFETY: written on success.
    let report = unsafe { report.assume_init() };
    assert_eq!(
        (report.iterations, report.kept),
        (want.iterations, want.kept)
    );
    assert_eq!(report.objective.to_bits(), want.objective.to_bits());
    assert_eq!(report.converged, i32::from(want.converged));
    assert_eq!(
        trace[want.iterations - 1].to_bits(),
        want.objective.to_bits()
    );
    assert_eq!(
        (bits(&cw), bits(&cmu), bits(&ccov)),
        (bits(&w), bits(&mu), bits(&cov))
    );

    // K > M is a bad parameter, with the outputs untouched.
    let mut short = vec![SENTINEL; K];
    let two = [0.5, 0.5];
    let mut unused = std::mem::MaybeUninit::<MkReduceReport>::uninit();
    let two_input = MkMixture::over(2, D, MK_COV_FULL, &two, &e.mu, &e.cov);
    let short_out = MkMixtureOut::over(K, D, MK_COV_FULL, &mut short, &mut cmu, &mut ccov);
    // SAFETY: as above; M = 2 < K = 3.
    let status = unsafe {
        mk_reduce_mm(
            &two_input,
            &c_start,
            std::ptr::null(),
            &short_out,
            std::ptr::null_mut(),
            cwork.as_mut_ptr(),
            cwork.len(),
            unused.as_mut_ptr(),
        )
    };
    assert_eq!(status, Status::BadParameter.code());
    assert_eq!(short, vec![SENTINEL; K]);
    // A start of another dimension than the input's is a shape mismatch.
    let wrong_start = MkMixture::over(K, 1, MK_COV_FULL, &e.w, &e.mu, &e.cov);
    // SAFETY: as above; the shapes are checked before any array is read.
    let status = unsafe {
        mk_reduce_mm(
            &c_input,
            &wrong_start,
            std::ptr::null(),
            &short_out,
            std::ptr::null_mut(),
            cwork.as_mut_ptr(),
            cwork.len(),
            unused.as_mut_ptr(),
        )
    };
    assert_eq!(status, Status::ShapeMismatch.code());
    assert_eq!(short, vec![SENTINEL; K]);

    // COAT through C and Rust on a distance matrix with an excluded machine.
    let dist = [
        0.0,
        1.0,
        2.0,
        f64::INFINITY, //
        1.0,
        0.0,
        1.5,
        f64::INFINITY, //
        2.0,
        1.5,
        0.0,
        f64::INFINITY, //
        f64::INFINITY,
        f64::INFINITY,
        f64::INFINITY,
        0.0,
    ];
    let mut work = vec![0.0; mk_coat_work_len(4)];
    assert_eq!(mk_coat_work_len(0), 0);
    let want = coat(&dist, 4, &mut work).unwrap();
    let (mut index, mut radius) = (usize::MAX, f64::NAN);
    // SAFETY: a 4 x 4 matrix and a work buffer of the documented length.
    let status = unsafe {
        mk_coat(
            dist.as_ptr(),
            4,
            &mut index,
            &mut radius,
            work.as_mut_ptr(),
            work.len(),
        )
    };
    assert_eq!(status, 0);
    assert_eq!((index, radius), want);
    assert_eq!((index, radius), (1, 1.5));
}

/// Through the C ABI: with three of five machines missing (NULL or zero-length messages) the
/// call returns `MK_STATUS_NO_MAJORITY`, still writes every machine's status (so the centre
/// learns which failed) and selects none, and leaves the mixture untouched.
#[test]
fn c_no_majority_writes_every_machine_status() {
    let e = Estimates::honest(18, 5, CovKind::Full);
    let messages: Vec<Vec<u8>> = (0..5).map(|i| e.message(i)).collect();
    let mut ptrs: Vec<*const u8> = messages.iter().map(|v| v.as_ptr()).collect();
    let mut lens: Vec<usize> = messages.iter().map(|v| v.len()).collect();
    ptrs[1] = std::ptr::null();
    lens[3] = 0;
    let mut corrupted = messages[4].clone();
    corrupted[WIRE_HEADER_LEN + 2] ^= 4;
    ptrs[4] = corrupted.as_ptr();
    let (mut st, mut sel, mut w, mut mu, mut cov) = buffers(5, CovKind::Full);
    let out = MkMixtureOut::over(K, D, MK_COV_FULL, &mut w, &mut mu, &mut cov);
    // SAFETY: a valid descriptor.
    let mut work = vec![0.0; unsafe { mk_aggregate_messages_work_len(5, &out) }];
    let mut report = std::mem::MaybeUninit::<MkAggregateReport>::uninit();
    // SAFETY: every non-null message is valid for its length; buffers of the documented lengths.
    let status = unsafe {
        mk_aggregate_messages(
            ptrs.as_ptr(),
            lens.as_ptr(),
            5,
            std::ptr::null(),
            st.as_mut_ptr(),
            sel.as_mut_ptr(),
            std::ptr::null_mut(),
            &out,
            work.as_mut_ptr(),
            work.len(),
            report.as_mut_ptr(),
        )
    };
    assert_eq!(status, Status::NoMajority.code());
    let missing = Status::MissingMessage.code();
    assert_eq!(st, vec![0, missing, 0, missing, Status::BadMessage.code()]);
    assert_eq!(sel, vec![0; 5]);
    assert!(w.iter().chain(&mu).chain(&cov).all(|&v| v == SENTINEL));
}
