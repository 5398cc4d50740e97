//! The fit over samples read in chunks (`gmm_fit_chunked`): from the same start it is the batch
//! fit to rounding for chunks of 1, 7 and n samples; every pass reads each sample once, in
//! order; its workspace does not depend on n (the length query has no n, and one buffer serves
//! 50 and 100,000 samples); bad input and a failing or inconsistent reader change nothing; data
//! scaled to the edges of double precision is refused or fitted finitely; the C entry point is
//! the safe API.

mod common;

use mixkern::ffi::{self, MkMixture, MkMixtureOut};
use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmFitOutputs, GmmInit, Mixture};
use mixkern::Status;
use std::ffi::c_void;

const K: usize = 3;
const D: usize = 4;

/// Samples `first..first + rows` of an endless seeded stream: chunk j of 50 samples is
/// `simulate(seed + j)`, so any sample can be regenerated without storing the others.
fn stream(seed: u64, first: usize, out: &mut [f64]) {
    const BLOCK: usize = 50;
    let (w, m, s) = common::mixture_k3_d4();
    let mix = Mixture::new(&w, &m, &s, K, D, CovKind::Full).unwrap();
    let mut block = [0.0; BLOCK * D];
    let mut work = vec![0.0; gmm::simulate_work_len(K, D, CovKind::Full).unwrap()];
    let rows = out.len() / D;
    let mut loaded = usize::MAX;
    for i in 0..rows {
        let (j, r) = ((first + i) / BLOCK, (first + i) % BLOCK);
        if j != loaded {
            gmm::simulate(seed + j as u64, &mix, BLOCK, &mut block, None, &mut work).unwrap();
            loaded = j;
        }
        out[i * D..(i + 1) * D].copy_from_slice(&block[r * D..(r + 1) * D]);
    }
}

fn all_samples(n: usize) -> Vec<f64> {
    let mut x = vec![0.0; n * D];
    stream(11, 0, &mut x);
    x
}

/// A start near the truth (means shifted, covariances inflated).
fn start(kind: CovKind) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (_, m, full) = common::mixture_k3_d4();
    let covs: Vec<f64> = match kind {
        CovKind::Full => full.iter().map(|v| v * 1.5).collect(),
        CovKind::Diag => (0..K * D)
            .map(|i| full[(i / D) * D * D + (i % D) * (D + 1)] * 1.5)
            .collect(),
    };
    (
        vec![0.4, 0.35, 0.25],
        m.iter().map(|v| v + 0.3).collect(),
        covs,
    )
}

struct Fit {
    w: Vec<f64>,
    m: Vec<f64>,
    s: Vec<f64>,
    trace: Vec<f64>,
    report: gmm::GmmFitReport,
}

fn batch(x: &[f64], opts: &GmmFitOptions) -> Fit {
    let n = x.len() / D;
    let (w0, m0, s0) = start(opts.kind);
    let c = opts.kind.cov_len(D).unwrap();
    let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * c]);
    let mut trace = vec![0.0; opts.max_iter];
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, K, D, opts.kind).unwrap()];
    let init = GmmInit::Params(Mixture::new(&w0, &m0, &s0, K, D, opts.kind).unwrap());
    let outputs = GmmFitOutputs {
        trace: Some(&mut trace),
        ..Default::default()
    };
    let report = gmm::gmm_fit(
        x, n, D, K, opts, init, &mut w, &mut m, &mut s, None, outputs, &mut work,
    )
    .unwrap();
    Fit {
        w,
        m,
        s,
        trace,
        report,
    }
}

/// A reader over the first n samples of `source(first, out)`, as the chunked fit calls it.
fn reader(
    n: usize,
    mut source: impl FnMut(usize, &mut [f64]),
) -> impl FnMut(usize, &mut [f64]) -> Result<usize, Status> {
    move |first, out| {
        let rows = (out.len() / D).min(n - first);
        source(first, &mut out[..rows * D]);
        Ok(rows)
    }
}

fn chunked(
    read: &mut gmm::ReadSamples,
    chunk_rows: usize,
    opts: &GmmFitOptions,
    work: &mut [f64],
) -> Result<Fit, Status> {
    let (w0, m0, s0) = start(opts.kind);
    let c = opts.kind.cov_len(D).unwrap();
    let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * c]);
    let mut trace = vec![0.0; opts.max_iter];
    let mix = Mixture::new(&w0, &m0, &s0, K, D, opts.kind).unwrap();
    let report = gmm::gmm_fit_chunked(
        read,
        D,
        chunk_rows,
        opts,
        &mix,
        &mut w,
        &mut m,
        &mut s,
        Some(&mut trace),
        work,
    )?;
    Ok(Fit {
        w,
        m,
        s,
        trace,
        report,
    })
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

#[test]
fn the_chunked_fit_is_the_batch_fit_to_rounding_for_chunks_of_1_7_and_n() {
    let n = 3000;
    let x = all_samples(n);
    for kind in [CovKind::Full, CovKind::Diag] {
        // The round's options: a covariance prior (from the data covariance), tol 1e-6.
        let opts = GmmFitOptions {
            kind,
            ..GmmFitOptions::for_round()
        };
        let reference = batch(&x, &opts);
        assert!(reference.report.converged && reference.report.iterations > 3);
        for chunk_rows in [1, 7, n] {
            let mut work =
                vec![0.0; gmm::gmm_fit_chunked_work_len(chunk_rows, K, D, kind).unwrap()];
            let mut reads = Vec::new();
            let mut inner = reader(n, |first, out| {
                out.copy_from_slice(&x[first * D..first * D + out.len()])
            });
            let mut read = |first: usize, out: &mut [f64]| {
                let rows = inner(first, out)?;
                reads.push((first, rows));
                Ok(rows)
            };
            let fit = chunked(&mut read, chunk_rows, &opts, &mut work).unwrap();
            let label = format!("{kind:?} chunks of {chunk_rows}");
            assert_eq!(
                fit.report.iterations, reference.report.iterations,
                "{label}"
            );
            assert_eq!(fit.report.converged, reference.report.converged, "{label}");
            let t = fit.report.iterations;
            assert!(
                max_rel(&fit.trace[..t], &reference.trace[..t]) < 1e-12,
                "{label}"
            );
            assert!(max_rel(&fit.w, &reference.w) < 1e-12, "{label}");
            assert!(max_rel(&fit.m, &reference.m) < 1e-12, "{label}");
            assert!(max_rel(&fit.s, &reference.s) < 1e-12, "{label}");
            let ll = [fit.report.log_likelihood, fit.report.mean_log_likelihood];
            let ll_ref = [
                reference.report.log_likelihood,
                reference.report.mean_log_likelihood,
            ];
            assert!(max_rel(&ll, &ll_ref) < 1e-12, "{label}");
            assert_eq!(fit.report.prior_samples, reference.report.prior_samples);
            // Every pass (one per iteration, one for the final log-likelihood) reads each
            // sample once, in order, in chunks of chunk_rows, and ends at a short chunk.
            let mut per_pass: Vec<(usize, usize)> = (0..n)
                .step_by(chunk_rows)
                .map(|f| (f, chunk_rows.min(n - f)))
                .collect();
            if n % chunk_rows == 0 {
                per_pass.push((n, 0));
            }
            assert_eq!(reads.len(), per_pass.len() * (t + 1), "{label}");
            assert!(
                reads.chunks(per_pass.len()).all(|p| p == per_pass),
                "{label}"
            );
        }
    }
}

#[test]
fn the_workspace_does_not_grow_with_n() {
    let chunk_rows = 64;
    let len = gmm::gmm_fit_chunked_work_len(chunk_rows, K, D, CovKind::Full).unwrap();
    // The documented formula (mk_gmm_fit_chunked_work_len), with c = d*d: no n in it.
    let (k, d, c) = (K, D, D * D);
    let (stats, block) = (k * (1 + d + c) + 3, k * (1 + d + c));
    let chunk_e_step = 36 * d + 64 * k + 128 + chunk_rows * (k + 1);
    let formula =
        3 * stats + k * (2 * d + c + 1) + chunk_e_step + 2 * block + c + d + d * d + chunk_rows * d;
    assert_eq!(len, formula);
    let mut work = vec![0.0; len];
    let opts = GmmFitOptions {
        max_iter: 30,
        ..GmmFitOptions::for_round()
    };
    let mut means = Vec::new();
    for n in [50, 100_000] {
        let mut read = reader(n, |first, out| stream(3, first, out));
        let fit = chunked(&mut read, chunk_rows, &opts, &mut work).unwrap();
        means.push(fit.m);
    }
    // With 100,000 samples the means are near the truth (sampling error about 0.01).
    let (_, truth_means, _) = common::mixture_k3_d4();
    assert!(max_rel(&means[1], &truth_means) < 0.02, "{:?}", means[1]);
}

#[test]
fn bad_input_and_a_failing_reader_change_nothing() {
    let n = 200;
    let x = all_samples(n);
    let opts = GmmFitOptions::for_round();
    let chunk_rows = 16;
    let len = gmm::gmm_fit_chunked_work_len(chunk_rows, K, D, CovKind::Full).unwrap();
    let (w0, m0, s0) = start(CovKind::Full);
    let good = Mixture::new(&w0, &m0, &s0, K, D, CovKind::Full).unwrap();
    let (_, _, diag) = start(CovKind::Diag);
    let diag_start = Mixture::new(&w0, &m0, &diag, K, D, CovKind::Diag).unwrap();
    let mut singular = s0.clone();
    singular[..D * D].fill(1.0);
    let singular = Mixture::new(&w0, &m0, &singular, K, D, CovKind::Full).unwrap();
    let bad_tol = GmmFitOptions { tol: -1.0, ..opts };

    type Case<'a> = (
        &'a str,
        usize,
        usize,
        &'a GmmFitOptions,
        &'a Mixture<'a>,
        usize,
        Status,
    );
    let cases: [Case; 9] = [
        (
            "no samples",
            0,
            chunk_rows,
            &opts,
            &good,
            len,
            Status::TooFewSamples,
        ),
        ("chunk 0", n, 0, &opts, &good, len, Status::ZeroSize),
        (
            "n < K",
            2,
            chunk_rows,
            &opts,
            &good,
            len,
            Status::TooFewSamples,
        ),
        (
            "short work",
            n,
            chunk_rows,
            &opts,
            &good,
            len - 1,
            Status::BufferTooShort,
        ),
        (
            "tol < 0",
            n,
            chunk_rows,
            &bad_tol,
            &good,
            len,
            Status::BadParameter,
        ),
        (
            "start of another kind",
            n,
            chunk_rows,
            &opts,
            &diag_start,
            len,
            Status::BadParameter,
        ),
        (
            "singular start",
            n,
            chunk_rows,
            &opts,
            &singular,
            len,
            Status::NotSpd,
        ),
        (
            "NaN sample",
            n,
            chunk_rows,
            &opts,
            &good,
            len,
            Status::NonFinite,
        ),
        (
            "fewer samples later",
            n,
            chunk_rows,
            &opts,
            &good,
            len,
            Status::ReadFailed,
        ),
    ];
    for (name, n, chunk_rows, opts, start, work_len, expected) in cases {
        let mut passes = 0;
        let mut read = |first: usize, out: &mut [f64]| {
            passes += usize::from(first == 0);
            let n = if name == "fewer samples later" && passes > 2 {
                n - 1
            } else {
                n
            };
            let rows = (out.len() / D).min(n - first);
            out[..rows * D].copy_from_slice(&x[first * D..(first + rows) * D]);
            if name == "NaN sample" && first > 100 {
                out[0] = f64::NAN;
            }
            Ok(rows)
        };
        let mut work = vec![0.0; work_len];
        let (mut w, mut m, mut s) = ([7.0; K], [7.0; K * D], [7.0; K * D * D]);
        let result = gmm::gmm_fit_chunked(
            &mut read, D, chunk_rows, opts, start, &mut w, &mut m, &mut s, None, &mut work,
        );
        assert_eq!(result.err(), Some(expected), "{name}");
        assert!(
            w.iter().chain(&m).chain(&s).all(|&v| v == 7.0),
            "{name}: outputs changed"
        );
    }
    // A reader's error stops the fit with that error; so does a reader that claims more rows
    // than it was asked for.
    for (fault, expected) in [
        (Status::SampleWeights, Status::SampleWeights),
        (Status::Ok, Status::ReadFailed),
    ] {
        let mut calls = 0;
        let mut read = |first: usize, out: &mut [f64]| {
            calls += 1;
            match (calls, fault) {
                (20, Status::Ok) => Ok(out.len() / D + 1),
                (20, e) => Err(e),
                _ => {
                    let rows = (out.len() / D).min(n - first);
                    out[..rows * D].copy_from_slice(&x[first * D..(first + rows) * D]);
                    Ok(rows)
                }
            }
        };
        let mut work = vec![0.0; len];
        let (mut w, mut m, mut s) = ([7.0; K], [7.0; K * D], [7.0; K * D * D]);
        let result = gmm::gmm_fit_chunked(
            &mut read, D, chunk_rows, &opts, &good, &mut w, &mut m, &mut s, None, &mut work,
        );
        assert_eq!(result.err(), Some(expected));
        assert_eq!(calls, 20);
        assert!(w.iter().chain(&m).chain(&s).all(|&v| v == 7.0));
    }
}

/// What the C reader below reads from: the samples, and a call at which to fail (0: none).
struct Source {
    x: Vec<f64>,
    fail_at: usize,
    calls: usize,
}

unsafe extern "C" fn read_source(
    context: *mut c_void,
    first: usize,
    max_rows: usize,
    out: *mut f64,
    rows_out: *mut usize,
) -> i32 {
    // SAFETY: the test passes a `Source` as the context; `out` holds max_rows x D doubles.
    let source = unsafe { &mut *context.cast::<Source>() };
    source.calls += 1;
    if source.calls == source.fail_at {
        return -1;
    }
    let rows = max_rows.min(source.x.len() / D - first);
    let out = unsafe { std::slice::from_raw_parts_mut(out, rows * D) };
    out.copy_from_slice(&source.x[first * D..(first + rows) * D]);
    unsafe { *rows_out = rows };
    0
}

/// `mk_gmm_fit_chunked` is `gmm_fit_chunked`, bit for bit; a reader returning non-zero is
/// `MK_STATUS_READ_FAILED` with the outputs untouched; NULL pointers are refused.
#[test]
fn the_c_entry_point_is_the_safe_api() {
    let n = 500;
    let chunk_rows = 37;
    let opts = GmmFitOptions::for_round();
    let (w0, m0, s0) = start(CovKind::Full);
    let x = all_samples(n);
    let mut work =
        vec![0.0; gmm::gmm_fit_chunked_work_len(chunk_rows, K, D, CovKind::Full).unwrap()];
    let mut read = reader(n, |first, out| {
        out.copy_from_slice(&x[first * D..first * D + out.len()])
    });
    let want = chunked(&mut read, chunk_rows, &opts, &mut work).unwrap();

    let start_desc = MkMixture {
        k: K,
        d: D,
        cov_kind: ffi::MK_COV_FULL,
        weights: w0.as_ptr(),
        means: m0.as_ptr(),
        covs: s0.as_ptr(),
    };
    let (mut w, mut m, mut s) = (vec![7.0; K], vec![7.0; K * D], vec![7.0; K * D * D]);
    let fit = MkMixtureOut {
        k: K,
        d: D,
        cov_kind: ffi::MK_COV_FULL,
        weights: w.as_mut_ptr(),
        means: m.as_mut_ptr(),
        covs: s.as_mut_ptr(),
    };
    let mut options = ffi::mk_gmm_fit_options_round();
    // SAFETY: valid descriptors.
    let len = unsafe { ffi::mk_gmm_fit_chunked_work_len(D, chunk_rows, &start_desc, &fit) };
    assert_eq!(len, work.len());
    let mut trace = vec![0.0; options.max_iter];
    let mut report = unsafe { std::mem::zeroed::<ffi::MkGmmFitReport>() };
    let mut call =
        |source: &mut Source, read: ffi::MkReadSamples, options: &ffi::MkGmmFitOptions| unsafe {
            ffi::mk_gmm_fit_chunked(
                read,
                (source as *mut Source).cast(),
                D,
                chunk_rows,
                options,
                &start_desc,
                &fit,
                trace.as_mut_ptr(),
                work.as_mut_ptr(),
                len,
                &mut report,
            )
        };
    // A failing reader first: nothing is written.
    let mut failing = Source {
        x: x.clone(),
        fail_at: 30,
        calls: 0,
    };
    assert_eq!(
        call(&mut failing, Some(read_source), &options),
        Status::ReadFailed.code()
    );
    assert_eq!(failing.calls, 30);
    assert!(w.iter().chain(&m).chain(&s).all(|&v| v == 7.0));
    let mut source = Source {
        x: x.clone(),
        fail_at: 0,
        calls: 0,
    };
    assert_eq!(
        call(&mut source, None, &options),
        Status::NullPointer.code()
    );
    options.tol = -1.0;
    assert_eq!(
        call(&mut source, Some(read_source), &options),
        Status::BadParameter.code()
    );
    options.tol = ffi::mk_gmm_fit_options_round().tol;
    assert_eq!(
        call(&mut source, Some(read_source), &options),
        Status::Ok.code()
    );
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&w), bits(&want.w));
    assert_eq!(bits(&m), bits(&want.m));
    assert_eq!(bits(&s), bits(&want.s));
    assert_eq!(report.iterations, want.report.iterations);
    assert_eq!(
        report.log_likelihood.to_bits(),
        want.report.log_likelihood.to_bits()
    );
    let t = report.iterations;
    assert_eq!(bits(&trace[..t]), bits(&want.trace[..t]));
}

/// Data at the edges of double precision (scaled by 1e-300 or 1e300): the chunked fit either
/// fails with a status or returns finite, valid parameters; never OK with NaN or infinity.
#[test]
fn extreme_scales_fail_cleanly_or_fit_finitely() {
    let n = 400;
    let x = all_samples(n);
    let (mut fitted, mut refused) = (0, 0);
    for scale in [1e-300, 1e-160, 1e160, 1e300] {
        let scaled: Vec<f64> = x.iter().map(|v| v * scale).collect();
        for reg_covar in [0.0, 1e-6] {
            let opts = GmmFitOptions {
                reg_covar,
                ..GmmFitOptions::for_round()
            };
            let (w0, m0, s0) = start(CovKind::Full);
            let m0: Vec<f64> = m0.iter().map(|v| v * scale).collect();
            // Covariances at the data's scale where representable, else the unit ones.
            let scaled_covs: Vec<f64> = s0.iter().map(|v| v * scale * scale).collect();
            let representable = scaled_covs
                .iter()
                .zip(&s0)
                .all(|(a, b)| a.is_finite() && (*a == 0.0) == (*b == 0.0));
            let s0 = if representable { scaled_covs } else { s0 };
            let mix = Mixture::new(&w0, &m0, &s0, K, D, CovKind::Full).unwrap();
            let mut work =
                vec![0.0; gmm::gmm_fit_chunked_work_len(16, K, D, CovKind::Full).unwrap()];
            let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * D * D]);
            let mut read = reader(n, |first, out| {
                out.copy_from_slice(&scaled[first * D..first * D + out.len()])
            });
            let result = gmm::gmm_fit_chunked(
                &mut read, D, 16, &opts, &mix, &mut w, &mut m, &mut s, None, &mut work,
            );
            if result.is_err() {
                refused += 1;
            }
            if let Ok(report) = result {
                fitted += 1;
                let label = format!("scale {scale:e}, reg_covar {reg_covar}");
                assert!(
                    w.iter().chain(&m).chain(&s).all(|v| v.is_finite()),
                    "{label}: non-finite output"
                );
                assert!(report.log_likelihood.is_finite(), "{label}");
                assert!(
                    Mixture::new(&w, &m, &s, K, D, CovKind::Full).is_ok(),
                    "{label}"
                );
                let mut fw = vec![0.0; gmm::density_work_len(K, D, CovKind::Full).unwrap()];
                let estimate = Mixture::new(&w, &m, &s, K, D, CovKind::Full).unwrap();
                assert!(
                    gmm::FactoredMixture::new(&estimate, &mut fw).is_ok(),
                    "{label}: not SPD"
                );
            }
        }
    }
    // Both outcomes occur: tiny data with reg_covar fits, 1e160 and beyond are refused.
    assert!(
        fitted >= 3 && refused >= 4,
        "fitted {fitted}, refused {refused}"
    );
}
