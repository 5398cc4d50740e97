//! The sufficient-statistics spine of the Gaussian-mixture EM: the statistics are what their
//! layout says, chunks merge to the whole, the fit is exactly a driver over accumulate and
//! M-step, every thread count gives the same fit bit for bit, bad input changes nothing, and the
//! C entry points are the safe API.

mod common;

use mixkern::ffi::{self, MkMixture, MkMixtureOut};
use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmFitOutputs, GmmInit, Mixture};
use mixkern::Status;

const K: usize = 3;
const D: usize = 4;

/// The tests' 3-component mixture in d = 4 with correlated covariances, and its covariances'
/// diagonals.
fn truth() -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let (weights, means, full) = common::mixture_k3_d4();
    let diag = (0..K)
        .flat_map(|c| (0..D).map(move |a| (c, a)))
        .map(|(c, a)| full[c * D * D + a * D + a])
        .collect();
    (weights, means, full, diag)
}

/// n samples from the truth (seeded), offset by 100 so that raw moments would cancel.
fn samples(n: usize, seed: u64) -> Vec<f64> {
    let (w, m, s, _) = truth();
    let mix = Mixture::new(&w, &m, &s, K, D, CovKind::Full).unwrap();
    let mut x = vec![0.0; n * D];
    let mut work = vec![0.0; gmm::simulate_work_len(K, D, CovKind::Full).unwrap()];
    gmm::simulate(seed, &mix, n, &mut x, None, &mut work).unwrap();
    x.iter_mut().for_each(|v| *v += 100.0);
    x
}

/// A start near the truth (means shifted, covariances inflated), in the offset frame.
fn start(kind: CovKind) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (_, m, full, diag) = truth();
    let covs = if kind == CovKind::Full { full } else { diag };
    (
        vec![0.4, 0.35, 0.25],
        m.iter().map(|v| v + 100.3).collect(),
        covs.iter().map(|v| v * 1.5).collect(),
    )
}

/// Sample weights in (0, 1] whose largest is exactly 1.
fn sample_weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| 1.0 / (1 + i % 5) as f64).collect()
}

fn accumulate(mix: &Mixture, x: &[f64], w: Option<&[f64]>, stats: &mut [f64]) {
    let n = x.len() / D;
    let kind = mix.cov_kind();
    let mut work = vec![0.0; gmm::gmm_accumulate_work_len(K, D, kind).unwrap()];
    gmm::gmm_accumulate(mix, x, n, w, stats, &mut work).unwrap();
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Every entry against its definition, from the responsibilities of the density kernel.
#[test]
fn statistics_are_their_documented_sums() {
    let n = 2500;
    let x = samples(n, 1);
    for kind in [CovKind::Full, CovKind::Diag] {
        for weighted in [false, true] {
            let (w, m, s) = start(kind);
            let mix = Mixture::new(&w, &m, &s, K, D, kind).unwrap();
            let sw = sample_weights(n);
            let sw = weighted.then_some(&sw[..]);
            let len = gmm::gmm_stats_len(K, D, kind).unwrap();
            let c = kind.cov_len(D).unwrap();
            assert_eq!(len, K * (1 + D + c) + 3);
            let mut stats = vec![0.0; len];
            accumulate(&mix, &x, sw, &mut stats);

            let mut resp = vec![0.0; n * K];
            let mut log_f = vec![0.0; n];
            let mut work = vec![0.0; gmm::density_work_len(K, D, kind).unwrap()];
            gmm::responsibilities(&mix, &x, n, &mut resp, &mut work).unwrap();
            gmm::log_density(&mix, &x, n, &mut log_f, &mut work).unwrap();
            let wi = |i: usize| sw.map_or(1.0, |w| w[i]);
            let mut want = vec![0.0; len];
            for i in 0..n {
                let xi = &x[i * D..(i + 1) * D];
                for k in 0..K {
                    let a = &m[k * D..(k + 1) * D];
                    let r = wi(i) * resp[i * K + k];
                    let block = &mut want[k * (1 + D + c)..(k + 1) * (1 + D + c)];
                    block[0] += r;
                    for p in 0..D {
                        block[1 + p] += r * (xi[p] - a[p]);
                        for q in p..D {
                            let v = r * (xi[p] - a[p]) * (xi[q] - a[q]);
                            match kind {
                                CovKind::Full => block[1 + D + p * D + q] += v,
                                CovKind::Diag if p == q => block[1 + D + p] += v,
                                CovKind::Diag => {}
                            }
                        }
                    }
                }
                want[len - 3] += 1.0;
                want[len - 2] += wi(i);
                want[len - 1] += wi(i) * log_f[i];
            }
            let scale = max_abs(&want);
            for (j, (got, want)) in stats.iter().zip(&want).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-12 * scale,
                    "{kind:?} weighted={weighted} entry {j}: {got} vs {want}"
                );
            }
        }
    }
}

/// Statistics of uneven chunks (1, 777, the rest), merged in order, are those of the whole.
#[test]
fn chunk_statistics_merge_to_the_whole() {
    let n = 3000;
    let x = samples(n, 2);
    let sw = sample_weights(n);
    for kind in [CovKind::Full, CovKind::Diag] {
        for weighted in [false, true] {
            let (w, m, s) = start(kind);
            let mix = Mixture::new(&w, &m, &s, K, D, kind).unwrap();
            let len = gmm::gmm_stats_len(K, D, kind).unwrap();
            let mut whole = vec![0.0; len];
            accumulate(&mix, &x, weighted.then_some(&sw[..]), &mut whole);
            let mut merged = vec![0.0; len];
            for (lo, hi) in [(0, 1), (1, 778), (778, n)] {
                let mut part = vec![0.0; len];
                let w = weighted.then_some(&sw[lo..hi]);
                accumulate(&mix, &x[lo * D..hi * D], w, &mut part);
                gmm::gmm_merge_stats(&mut merged, &part, K, D, kind).unwrap();
            }
            let scale = max_abs(&whole);
            let worst = whole
                .iter()
                .zip(&merged)
                .map(|(a, b)| (a - b).abs() / scale)
                .fold(0.0, f64::max);
            assert!(worst <= 1e-12, "{kind:?} weighted={weighted}: {worst:e}");
            // The mean log-likelihood entry, relative to itself.
            let (a, b) = (whole[len - 1], merged[len - 1]);
            assert!((a - b).abs() <= 1e-12 * a.abs());
        }
    }
}

/// `gmm_fit` from given parameters is, bit for bit, the loop accumulate -> M-step, and its trace
/// is the statistics' mean log-likelihood (sample weights with largest 1, so that the fit's
/// scaling by the largest weight is exact).
#[test]
fn the_fit_is_a_driver_over_accumulate_and_m_step() {
    let n = 4000;
    let x = samples(n, 3);
    let sw = sample_weights(n);
    let iterations = 15;
    for kind in [CovKind::Full, CovKind::Diag] {
        for weighted in [false, true] {
            let sw = weighted.then_some(&sw[..]);
            let (w0, m0, s0) = start(kind);
            let opts = GmmFitOptions {
                kind,
                tol: 0.0,
                max_iter: iterations,
                ..Default::default()
            };
            let c = kind.cov_len(D).unwrap();
            let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * c]);
            let mut trace = vec![0.0; iterations];
            let mut work = vec![0.0; gmm::gmm_fit_work_len(n, K, D, kind).unwrap()];
            let start_mix = Mixture::new(&w0, &m0, &s0, K, D, kind).unwrap();
            let outputs = GmmFitOutputs {
                trace: Some(&mut trace),
                ..Default::default()
            };
            let init = GmmInit::Params(start_mix);
            gmm::gmm_fit(
                &x, n, D, K, &opts, init, &mut w, &mut m, &mut s, sw, outputs, &mut work,
            )
            .unwrap();

            let (mut dw, mut dm, mut ds) = (w0.clone(), m0.clone(), s0.clone());
            let len = gmm::gmm_stats_len(K, D, kind).unwrap();
            let mut stats = vec![0.0; len];
            let mut m_work = vec![0.0; gmm::gmm_m_step_work_len(K, D, kind).unwrap()];
            for (t, traced) in trace.iter().enumerate() {
                stats.fill(0.0);
                let mix = Mixture::new(&dw, &dm, &ds, K, D, kind).unwrap();
                accumulate(&mix, &x, sw, &mut stats);
                assert_eq!(
                    (stats[len - 1] / stats[len - 2]).to_bits(),
                    traced.to_bits(),
                    "{kind:?} weighted={weighted} trace {t}"
                );
                let (mut nw, mut ns) = (vec![0.0; K], vec![0.0; K * c]);
                let r = gmm::gmm_m_step(
                    &stats,
                    K,
                    D,
                    &opts,
                    &mut nw,
                    &mut dm,
                    &mut ns,
                    None,
                    &mut m_work,
                )
                .unwrap();
                assert_eq!((r.reseeded, r.regularized), (0, 0));
                (dw, ds) = (nw, ns);
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&dw), bits(&w), "{kind:?} weighted={weighted} weights");
            assert_eq!(bits(&dm), bits(&m), "{kind:?} weighted={weighted} means");
            assert_eq!(
                bits(&ds),
                bits(&s),
                "{kind:?} weighted={weighted} covariances"
            );
        }
    }
}

/// Everything a fit returns, as bits.
fn fit_bits(x: &[f64], sw: Option<&[f64]>, opts: &GmmFitOptions) -> Vec<u64> {
    let n = x.len() / D;
    let c = opts.kind.cov_len(D).unwrap();
    let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * c]);
    let mut resp = vec![0.0; n * K];
    let mut trace = vec![0.0; opts.max_iter];
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, K, D, opts.kind).unwrap()];
    let outputs = GmmFitOutputs {
        responsibilities: Some(&mut resp),
        trace: Some(&mut trace),
        ..Default::default()
    };
    let init = GmmInit::KMeansPlusPlus { seed: 5 };
    let r = gmm::gmm_fit(
        x, n, D, K, opts, init, &mut w, &mut m, &mut s, sw, outputs, &mut work,
    )
    .unwrap();
    let report = [r.log_likelihood, r.mean_log_likelihood, r.iterations as f64];
    let mut all: Vec<f64> = report.to_vec();
    all.extend(trace.iter().take(r.iterations));
    for v in [&w, &m, &s, &resp] {
        all.extend(v.iter());
    }
    all.iter().map(|v| v.to_bits()).collect()
}

/// Threads 1, 2, 3 and 8 return the same fit, bit for bit: parameters, report, trace and
/// responsibilities (5 chunks of samples; k-means++ with restarts; full and diagonal;
/// with and without sample weights).
#[test]
fn every_thread_count_gives_the_same_fit() {
    let n = 4 * 4096 + 1234;
    let x = samples(n, 4);
    let sw = sample_weights(n);
    for kind in [CovKind::Full, CovKind::Diag] {
        for weighted in [false, true] {
            let sw = weighted.then_some(&sw[..]);
            let opts = |threads| GmmFitOptions {
                kind,
                tol: 1e-10,
                max_iter: 60,
                n_init: 2,
                threads,
                ..Default::default()
            };
            let one = fit_bits(&x, sw, &opts(1));
            for threads in [2, 3, 8] {
                assert!(
                    fit_bits(&x, sw, &opts(threads)) == one,
                    "{kind:?} weighted={weighted} threads={threads}"
                );
            }
        }
    }
}

/// The M-step from statistics reseeds an emptied component at the given point (or the data
/// mean), with the data covariance plus reg_covar.
#[test]
fn an_emptied_component_is_reseeded_where_asked() {
    let n = 2000;
    let x = samples(n, 6);
    let kind = CovKind::Full;
    let (mut w, mut m, s) = start(kind);
    // Component 2 far from every sample: its responsibilities underflow to 0.
    m[2 * D..3 * D].fill(1e4);
    w.copy_from_slice(&[0.5, 0.5 - 1e-300, 1e-300]);
    let mix = Mixture::new(&w, &m, &s, K, D, kind).unwrap();
    let len = gmm::gmm_stats_len(K, D, kind).unwrap();
    let mut stats = vec![0.0; len];
    accumulate(&mix, &x, None, &mut stats);
    assert_eq!(stats[2 * (1 + D + D * D)], 0.0);

    // The data mean and covariance, directly.
    let mean: Vec<f64> = (0..D)
        .map(|a| (0..n).map(|i| x[i * D + a]).sum::<f64>() / n as f64)
        .collect();
    let cov: Vec<f64> = (0..D * D)
        .map(|ab| {
            let (a, b) = (ab / D, ab % D);
            (0..n)
                .map(|i| (x[i * D + a] - mean[a]) * (x[i * D + b] - mean[b]))
                .sum::<f64>()
                / n as f64
        })
        .collect();
    let opts = GmmFitOptions::default();
    let point = [7.0, 8.0, 9.0, 10.0];
    let mut points = [0.0; K * D];
    points[2 * D..].copy_from_slice(&point);
    let mut work = vec![0.0; gmm::gmm_m_step_work_len(K, D, kind).unwrap()];
    for (reseed, want_mean) in [(Some(&points[..]), &point[..]), (None, &mean[..])] {
        let (mut nw, mut nm, mut ns) = (vec![0.0; K], m.clone(), vec![0.0; K * D * D]);
        let r = gmm::gmm_m_step(
            &stats, K, D, &opts, &mut nw, &mut nm, &mut ns, reseed, &mut work,
        )
        .unwrap();
        assert_eq!(r.reseeded, 1);
        for a in 0..D {
            assert!((nm[2 * D + a] - want_mean[a]).abs() <= 1e-12 * want_mean[a].abs());
        }
        for ab in 0..D * D {
            let want = cov[ab]
                + if ab % (D + 1) == 0 {
                    opts.reg_covar
                } else {
                    0.0
                };
            assert!((ns[2 * D * D + ab] - want).abs() <= 1e-12 * cov[0], "{ab}");
        }
        // One sample of mass, next to the others' n.
        assert!((nw[2] - 1.0 / (n as f64 + 1.0)).abs() < 1e-12);
    }
}

/// Bad input: each with its status, nothing written.
#[test]
fn bad_input_changes_nothing() {
    let n = 100;
    let x = samples(n, 7);
    let kind = CovKind::Full;
    let (w, m, s) = start(kind);
    let mix = Mixture::new(&w, &m, &s, K, D, kind).unwrap();
    let len = gmm::gmm_stats_len(K, D, kind).unwrap();
    let wlen = gmm::gmm_accumulate_work_len(K, D, kind).unwrap();
    let sentinel = vec![0.125; len];
    let mut nan_x = x.clone();
    nan_x[17] = f64::NAN;
    let mut negative = vec![1.0; n];
    negative[3] = -1.0;
    // Name, samples, n, sample weights, stats length, work length, expected status.
    type Case<'a> = (
        &'a str,
        &'a [f64],
        usize,
        Option<&'a [f64]>,
        usize,
        usize,
        Status,
    );
    let cases: Vec<Case> = vec![
        ("n = 0", &x, 0, None, len, wlen, Status::ZeroSize),
        (
            "short x",
            &x[..n * D - 1],
            n,
            None,
            len,
            wlen,
            Status::BufferTooShort,
        ),
        (
            "short stats",
            &x,
            n,
            None,
            len - 1,
            wlen,
            Status::BufferTooShort,
        ),
        (
            "short work",
            &x,
            n,
            None,
            len,
            // What n samples need: the chunk scratch of min(n, 4096) samples, (K + 1) each.
            wlen - (4096 - n.min(4096)) * (K + 1) - 1,
            Status::BufferTooShort,
        ),
        ("NaN sample", &nan_x, n, None, len, wlen, Status::NonFinite),
        (
            "negative weight",
            &x,
            n,
            Some(&negative),
            len,
            wlen,
            Status::SampleWeights,
        ),
    ];
    for (name, x, n, sw, stats_len, work_len, want) in cases {
        let mut stats = sentinel.clone();
        let mut work = vec![0.0; work_len];
        let got = gmm::gmm_accumulate(&mix, x, n, sw, &mut stats[..stats_len], &mut work);
        assert_eq!(got, Err(want), "{name}");
        assert_eq!(stats, sentinel, "{name}");
    }

    let mut good = vec![0.0; len];
    accumulate(&mix, &x, None, &mut good);
    let mlen = gmm::gmm_m_step_work_len(K, D, kind).unwrap();
    let edit = |j: usize, v: f64| {
        let mut s = good.clone();
        s[j] = v;
        s
    };
    let defaults = GmmFitOptions::default();
    let negative_reg = GmmFitOptions {
        reg_covar: -1.0,
        ..defaults
    };
    let no_threads = GmmFitOptions {
        threads: 0,
        ..defaults
    };
    let cases: Vec<(&str, Vec<f64>, GmmFitOptions, usize, Status)> = vec![
        (
            "negative mass",
            edit(0, -1.0),
            defaults,
            mlen,
            Status::BadParameter,
        ),
        (
            "no samples",
            edit(len - 3, 0.0),
            defaults,
            mlen,
            Status::BadParameter,
        ),
        (
            "zero weight",
            edit(len - 2, 0.0),
            defaults,
            mlen,
            Status::BadParameter,
        ),
        (
            "NaN statistic",
            edit(5, f64::NAN),
            defaults,
            mlen,
            Status::NonFinite,
        ),
        (
            "reg_covar < 0",
            good.clone(),
            negative_reg,
            mlen,
            Status::BadParameter,
        ),
        (
            "threads 0",
            good.clone(),
            no_threads,
            mlen,
            Status::BadParameter,
        ),
        (
            "short work",
            good.clone(),
            defaults,
            mlen - 1,
            Status::BufferTooShort,
        ),
    ];
    for (name, stats, opts, work_len, want) in cases {
        let (mut nw, mut nm, mut ns) = (vec![0.5; K], m.clone(), vec![0.5; K * D * D]);
        let mut work = vec![0.0; work_len];
        let got = gmm::gmm_m_step(
            &stats, K, D, &opts, &mut nw, &mut nm, &mut ns, None, &mut work,
        );
        assert_eq!(got.map(|_| ()), Err(want), "{name}");
        assert!(
            nw == vec![0.5; K] && nm == m && ns == vec![0.5; K * D * D],
            "{name}"
        );
    }
}

/// The C entry points are the safe API, bit for bit, and check their pointers.
#[test]
fn the_c_entry_points_are_the_safe_api() {
    let n = 1500;
    let x = samples(n, 8);
    let sw = sample_weights(n);
    for kind in [CovKind::Full, CovKind::Diag] {
        let (w, m, s) = start(kind);
        let c = kind.cov_len(D).unwrap();
        let code = match kind {
            CovKind::Full => ffi::MK_COV_FULL,
            CovKind::Diag => ffi::MK_COV_DIAG,
        };
        let desc = MkMixture {
            k: K,
            d: D,
            cov_kind: code,
            weights: w.as_ptr(),
            means: m.as_ptr(),
            covs: s.as_ptr(),
        };
        let len = unsafe { ffi::mk_gmm_stats_len(&desc) };
        assert_eq!(len, gmm::gmm_stats_len(K, D, kind).unwrap());
        let wlen = unsafe { ffi::mk_gmm_accumulate_work_len(n, D, &desc) };
        assert_eq!(wlen, gmm::gmm_accumulate_work_len(K, D, kind).unwrap());

        let mix = Mixture::new(&w, &m, &s, K, D, kind).unwrap();
        let mut want = vec![0.0; len];
        accumulate(&mix, &x, Some(&sw), &mut want);
        let (mut first, mut second) = (vec![0.0; len], vec![0.0; len]);
        let mut work = vec![0.0; wlen];
        let half = n / 2;
        let st = unsafe {
            let a = ffi::mk_gmm_accumulate(
                x.as_ptr(),
                half,
                D,
                sw.as_ptr(),
                &desc,
                first.as_mut_ptr(),
                work.as_mut_ptr(),
                wlen,
            );
            let b = ffi::mk_gmm_accumulate(
                x[half * D..].as_ptr(),
                n - half,
                D,
                sw[half..].as_ptr(),
                &desc,
                second.as_mut_ptr(),
                work.as_mut_ptr(),
                wlen,
            );
            let merge = ffi::mk_gmm_merge_stats(second.as_ptr(), &desc, first.as_mut_ptr());
            [a, b, merge]
        };
        assert_eq!(st, [0, 0, 0]);
        let mut rust_merged = vec![0.0; len];
        let (mut p1, mut p2) = (vec![0.0; len], vec![0.0; len]);
        accumulate(&mix, &x[..half * D], Some(&sw[..half]), &mut p1);
        accumulate(&mix, &x[half * D..], Some(&sw[half..]), &mut p2);
        gmm::gmm_merge_stats(&mut rust_merged, &p1, K, D, kind).unwrap();
        gmm::gmm_merge_stats(&mut rust_merged, &p2, K, D, kind).unwrap();
        assert!(first == rust_merged, "{kind:?}: C accumulate + merge");

        let opts = GmmFitOptions {
            kind,
            prior_samples: 1.0,
            ..Default::default()
        };
        let (mut rw, mut rm, mut rs) = (vec![0.0; K], m.clone(), vec![0.0; K * c]);
        let mlen = gmm::gmm_m_step_work_len(K, D, kind).unwrap();
        let mut m_work = vec![0.0; mlen];
        let r = gmm::gmm_m_step(
            &first,
            K,
            D,
            &opts,
            &mut rw,
            &mut rm,
            &mut rs,
            None,
            &mut m_work,
        )
        .unwrap();
        let (mut cw, mut cm, mut cs) = (vec![0.0; K], m.clone(), vec![0.0; K * c]);
        let out = MkMixtureOut {
            k: K,
            d: D,
            cov_kind: code,
            weights: cw.as_mut_ptr(),
            means: cm.as_mut_ptr(),
            covs: cs.as_mut_ptr(),
        };
        assert_eq!(unsafe { ffi::mk_gmm_m_step_work_len(&out) }, mlen);
        let mut c_opts = ffi::mk_gmm_fit_options_default();
        c_opts.prior_samples = 1.0;
        let mut report = ffi::MkGmmMStepReport {
            reseeded: 9,
            regularized: 9,
        };
        let st = unsafe {
            ffi::mk_gmm_m_step(
                first.as_ptr(),
                std::ptr::null(),
                &c_opts,
                &out,
                m_work.as_mut_ptr(),
                mlen,
                &mut report,
            )
        };
        assert_eq!(st, 0);
        assert_eq!(
            (report.reseeded, report.regularized),
            (r.reseeded, r.regularized)
        );
        assert!(cw == rw && cm == rm && cs == rs, "{kind:?}: C M-step");

        // NULL pointers are reported, nothing written.
        let before = first.clone();
        let st = unsafe {
            [
                ffi::mk_gmm_accumulate(
                    std::ptr::null(),
                    n,
                    D,
                    std::ptr::null(),
                    &desc,
                    first.as_mut_ptr(),
                    work.as_mut_ptr(),
                    wlen,
                ),
                ffi::mk_gmm_merge_stats(std::ptr::null(), &desc, first.as_mut_ptr()),
                ffi::mk_gmm_m_step(
                    first.as_ptr(),
                    std::ptr::null(),
                    std::ptr::null(),
                    &out,
                    m_work.as_mut_ptr(),
                    mlen,
                    &mut report,
                ),
            ]
        };
        assert_eq!(st, [Status::NullPointer.code(); 3]);
        assert!(first == before && cw == rw && cm == rm);
    }
}

/// Sums that overflow are `NonFinite`, never an OK with an infinity: samples whose squares add
/// beyond the double range (their log-densities are finite), and a merge past it; the
/// statistics are left as they were.
#[test]
fn sums_that_overflow_are_non_finite_and_change_nothing() {
    let kind = CovKind::Diag;
    let mix = Mixture::new(&[1.0], &[0.0], &[1e308], 1, 1, kind).unwrap();
    let x = [1e154; 10];
    let len = gmm::gmm_stats_len(1, 1, kind).unwrap();
    let mut work = vec![0.0; gmm::gmm_accumulate_work_len(1, 1, kind).unwrap()];
    let mut stats = vec![0.5; len];
    let got = gmm::gmm_accumulate(&mix, &x, 10, None, &mut stats, &mut work);
    assert_eq!(got, Err(Status::NonFinite));
    assert_eq!(stats, vec![0.5; len]);
    // One sample is fine: its square is 1e308.
    gmm::gmm_accumulate(&mix, &x, 1, None, &mut stats, &mut work).unwrap();
    assert!(stats.iter().all(|v| v.is_finite()));

    let mut into = vec![1.0; len];
    into[2] = 1e308;
    let mut from = vec![1.0; len];
    from[2] = 1e308;
    let before = into.clone();
    assert_eq!(
        gmm::gmm_merge_stats(&mut into, &from, 1, 1, kind),
        Err(Status::NonFinite)
    );
    assert_eq!(into, before);
}
