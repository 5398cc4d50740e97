//! COAT, DFMR and the baselines: COAT on hand-made distance matrices (index, radius, ties,
//! excluded machines, bad input), DFMR against Byzantine machines (shifted, NaN, non-SPD),
//! invariance to the order of the machines, the fixed point at identical honest machines, and
//! the no-majority error with untouched outputs.
//!
//! Every run uses a NaN-filled workspace of exactly `aggregate_work_len` doubles.

#![allow(clippy::needless_range_loop)] // indices name machines across parallel arrays

use mixkern::distance::{l2_distance, l2_distance_sq_work_len};
use mixkern::gmm::{CovKind, Mixture};
use mixkern::reduce::ReduceOptions;
use mixkern::rng::Rng;
use mixkern::robust::{
    aggregate, aggregate_work_len, coat, coat_work_len, default_rho, AggregateReport, Aggregator,
    Screening,
};
use mixkern::Status;

const K: usize = 2;
const D: usize = 2;
const C: usize = D * D;

/// The true mixture: weights, means, full covariances.
fn truth() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    (
        vec![0.4, 0.6],
        vec![-3.0, 0.0, 3.0, 1.0],
        vec![1.0, 0.3, 0.3, 1.0, 0.5, 0.0, 0.0, 2.0],
    )
}

/// m machines concatenated.
#[derive(Clone, Debug)]
struct Machines {
    w: Vec<f64>,
    mu: Vec<f64>,
    cov: Vec<f64>,
    m: usize,
}

impl Machines {
    fn push(&mut self, w: &[f64], mu: &[f64], cov: &[f64]) {
        self.w.extend_from_slice(w);
        self.mu.extend_from_slice(mu);
        self.cov.extend_from_slice(cov);
        self.m += 1;
    }

    fn permuted(&self, perm: &[usize]) -> Machines {
        let mut out = Machines::empty();
        for &i in perm {
            out.push(
                &self.w[i * K..(i + 1) * K],
                &self.mu[i * K * D..(i + 1) * K * D],
                &self.cov[i * K * C..(i + 1) * K * C],
            );
        }
        out
    }

    fn empty() -> Machines {
        Machines {
            w: vec![],
            mu: vec![],
            cov: vec![],
            m: 0,
        }
    }
}

/// A small perturbation of the truth: weights +- 0.01, means + 0.03 z, covariances scaled
/// by 1 + 0.02 z (the whole matrix, so it stays SPD).
fn honest(rng: &mut Rng) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut w, mut mu, mut cov) = truth();
    let e = 0.01 * rng.normal();
    w[0] += e;
    w[1] -= e;
    for v in &mut mu {
        *v += 0.03 * rng.normal();
    }
    for comp in cov.chunks_exact_mut(C) {
        let s = 1.0 + 0.02 * rng.normal();
        for v in comp {
            *v *= s;
        }
    }
    (w, mu, cov)
}

/// 6 honest machines, 2 colluding machines with every mean shifted by 100, one with a NaN
/// weight (index 3) and one with a symmetric, positive-diagonal, indefinite covariance
/// (index 5). Returns the machines and their honesty flags.
fn attacked(seed: u64) -> (Machines, Vec<bool>) {
    let mut rng = Rng::new(seed);
    let mut ms = Machines::empty();
    let mut honest_flags = vec![];
    let (tw, tmu, tcov) = truth();
    let shifted_mu: Vec<f64> = tmu.iter().map(|v| v + 100.0).collect();
    for slot in 0..10 {
        match slot {
            1 | 7 => ms.push(&tw, &shifted_mu, &tcov),
            3 => {
                let (mut w, mu, cov) = honest(&mut rng);
                w[1] = f64::NAN;
                ms.push(&w, &mu, &cov);
            }
            5 => {
                let (w, mu, mut cov) = honest(&mut rng);
                cov[C..2 * C].copy_from_slice(&[1.0, 2.0, 2.0, 1.0]);
                ms.push(&w, &mu, &cov);
            }
            _ => {
                let (w, mu, cov) = honest(&mut rng);
                ms.push(&w, &mu, &cov);
            }
        }
        honest_flags.push(!matches!(slot, 1 | 3 | 5 | 7));
    }
    (ms, honest_flags)
}

/// Outputs of an aggregation.
struct Out {
    report: AggregateReport,
    status: Vec<i32>,
    selected: Vec<u8>,
    w: Vec<f64>,
    mu: Vec<f64>,
    cov: Vec<f64>,
}

fn run(ms: &Machines, method: Aggregator) -> Result<Out, Status> {
    run_screened(ms, method, &Screening::PAPER, None).map(|(out, _)| out)
}

/// [`run`] with a screening and sample sizes; also returns the distances to COAT.
fn run_screened(
    ms: &Machines,
    method: Aggregator,
    screening: &Screening,
    sizes: Option<&[f64]>,
) -> Result<(Out, Vec<f64>), Status> {
    let mut work = vec![f64::NAN; aggregate_work_len(ms.m, K, D, CovKind::Full).unwrap()];
    let mut status = vec![-7; ms.m];
    let mut selected = vec![9; ms.m];
    let mut coat_distance = vec![f64::NAN; ms.m];
    let (mut w, mut mu, mut cov) = (
        vec![f64::NAN; K],
        vec![f64::NAN; K * D],
        vec![f64::NAN; K * C],
    );
    let opts = ReduceOptions::default();
    let report = aggregate(
        method,
        &ms.w,
        &ms.mu,
        &ms.cov,
        ms.m,
        K,
        D,
        CovKind::Full,
        sizes,
        &opts,
        screening,
        &mut status,
        &mut selected,
        Some(&mut coat_distance),
        &mut w,
        &mut mu,
        &mut cov,
        &mut work,
    )?;
    let out = Out {
        report,
        status,
        selected,
        w,
        mu,
        cov,
    };
    Ok((out, coat_distance))
}

fn dist_to_truth(w: &[f64], mu: &[f64], cov: &[f64]) -> f64 {
    let (tw, tmu, tcov) = truth();
    let t = Mixture::new(&tw, &tmu, &tcov, K, D, CovKind::Full).unwrap();
    let g = Mixture::new(w, mu, cov, K, D, CovKind::Full).unwrap();
    let mut work = vec![0.0; l2_distance_sq_work_len(D, CovKind::Full, CovKind::Full).unwrap()];
    l2_distance(&t, &g, &mut work).unwrap()
}

fn truth_norm() -> f64 {
    let (tw, tmu, tcov) = truth();
    let t = Mixture::new(&tw, &tmu, &tcov, K, D, CovKind::Full).unwrap();
    let z = [1.0, 0.0];
    let zero_mu = [1e6, 1e6, -1e6, -1e6]; // far away: |T - Z| = sqrt(|T|^2 + |Z|^2)
    let z_cov = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
    let far = Mixture::new(&z, &zero_mu, &z_cov, K, D, CovKind::Full).unwrap();
    let mut work = vec![0.0; l2_distance_sq_work_len(D, CovKind::Full, CovKind::Full).unwrap()];
    let tf = l2_distance(&t, &far, &mut work).unwrap();
    let ff = 1.0 / (4.0 * core::f64::consts::PI); // |N(., I)|^2 in d = 2
    (tf * tf - ff).sqrt()
}

#[test]
fn coat_on_hand_made_matrices() {
    let line = |xs: &[f64]| -> Vec<f64> {
        xs.iter()
            .flat_map(|a| xs.iter().map(move |b| (a - b).abs()))
            .collect()
    };
    let mut work = vec![f64::NAN; coat_work_len(4).unwrap()];
    // Points 0, 1, 3, 10; h = 3: r = 3, 2, 3, 9.
    assert_eq!(
        coat(&line(&[0.0, 1.0, 3.0, 10.0]), 4, &mut work),
        Ok((1, 2.0))
    );
    // Points 0, 1, 2, 3: r = 2, 1, 1, 2: the tie goes to the lowest index.
    assert_eq!(
        coat(&line(&[0.0, 1.0, 2.0, 3.0]), 4, &mut work),
        Ok((1, 1.0))
    );
    assert_eq!(
        coat(&line(&[3.0, 2.0, 1.0, 0.0]), 4, &mut work),
        Ok((1, 1.0))
    );
    // The diagonal is read as 0 whatever it holds.
    let mut dirty = line(&[0.0, 1.0, 3.0, 10.0]);
    for i in 0..4 {
        dirty[i * 4 + i] = 1e9;
    }
    assert_eq!(coat(&dirty, 4, &mut work), Ok((1, 2.0)));
    // An excluded machine (row +inf off the diagonal) is never COAT, even at radius 0 rows.
    let inf = f64::INFINITY;
    let d = [0.0, inf, inf, inf, 0.0, 5.0, inf, 5.0, 0.0];
    assert_eq!(coat(&d, 3, &mut work), Ok((1, 5.0)));
    // Two of three excluded: no majority ball.
    let d = [0.0, inf, inf, inf, 0.0, inf, inf, inf, 0.0];
    assert_eq!(coat(&d, 3, &mut work), Err(Status::NoMajority));
    // m = 1: itself.
    assert_eq!(coat(&[0.0], 1, &mut work), Ok((0, 0.0)));
    // Bad input.
    let mut bad = line(&[0.0, 1.0, 2.0, 3.0]);
    bad[6] = f64::NAN;
    assert_eq!(coat(&bad, 4, &mut work), Err(Status::NonFinite));
    bad[6] = -1.0;
    assert_eq!(coat(&bad, 4, &mut work), Err(Status::BadParameter));
    assert_eq!(coat(&bad[..15], 4, &mut work), Err(Status::BufferTooShort));
    assert_eq!(coat(&bad, 4, &mut work[..3]), Err(Status::BufferTooShort));
    assert_eq!(coat(&bad, 0, &mut work), Err(Status::ZeroSize));
}

#[test]
fn default_rho_values() {
    for m in 0..=14 {
        assert_eq!(default_rho(m), 1.0, "m = {m}");
    }
    let expect = |m: f64| (0.5 * (m / 2.0).ln() * m.ln().ln()).sqrt();
    for m in [15usize, 20, 50, 1000] {
        let r = default_rho(m);
        assert!(
            r > 1.0 && (r - expect(m as f64)).abs() < 1e-12,
            "m = {m}: {r}"
        );
    }
}

#[test]
fn dfmr_resists_byzantine_machines_and_vanilla_does_not() {
    for seed in 11..21 {
        byzantine_case(seed);
    }
}

fn byzantine_case(seed: u64) {
    let (ms, honest_flags) = attacked(seed);
    let out = run(
        &ms,
        Aggregator::Dfmr {
            rho: default_rho(10),
        },
    )
    .unwrap();
    // The NaN and non-SPD machines are reported with their codes; the others are valid.
    for (i, &s) in out.status.iter().enumerate() {
        let want = match i {
            3 => Status::NonFinite.code(),
            5 => Status::NotSpd.code(),
            _ => 0,
        };
        assert_eq!(s, want, "machine {i}");
    }
    assert_eq!(out.report.valid, 8);
    // S is exactly the honest machines; COAT is one of them with a small radius.
    for i in 0..10 {
        assert_eq!(out.selected[i], u8::from(honest_flags[i]), "machine {i}");
    }
    assert_eq!(out.report.selected, 6);
    assert!(honest_flags[out.report.coat]);
    assert!(
        out.report.radius > 0.0 && out.report.radius < 0.05,
        "{:?}",
        out.report
    );
    let norm = truth_norm();
    let dfmr_err = dist_to_truth(&out.w, &out.mu, &out.cov);
    assert!(dfmr_err < 0.04 * norm, "dfmr {dfmr_err}, |G*| {norm}");

    let van = run(&ms, Aggregator::Vanilla).unwrap();
    assert_eq!(van.status, out.status);
    assert_eq!(van.report.selected, 8);
    assert_eq!(van.report.coat, out.report.coat);
    for i in 0..10 {
        assert_eq!(van.selected[i], u8::from(van.status[i] == 0));
    }
    let van_err = dist_to_truth(&van.w, &van.mu, &van.cov);
    assert!(van_err > 0.3 * norm, "vanilla {van_err}, |G*| {norm}");
    assert!(
        van_err > 20.0 * dfmr_err,
        "vanilla {van_err}, dfmr {dfmr_err}"
    );

    // rho = 1 keeps a majority of the valid machines, all honest here.
    let tight = run(&ms, Aggregator::Dfmr { rho: 1.0 }).unwrap();
    // The ball of radius r_COAT holds h = 6 machines, and only 6 are honest.
    assert_eq!(tight.report.selected, 6);
    for i in 0..10 {
        assert!(tight.selected[i] == 0 || honest_flags[i]);
    }
}

#[test]
fn medoid_is_an_honest_machine_copied_bitwise() {
    let (ms, honest_flags) = attacked(12);
    let mut work = vec![f64::NAN; aggregate_work_len(ms.m, K, D, CovKind::Full).unwrap()];
    let mut status = vec![-7; ms.m];
    let mut selected = vec![9; ms.m];
    let (mut w, mut mu, mut cov) = (
        vec![f64::NAN; K],
        vec![f64::NAN; K * D],
        vec![f64::NAN; K * C],
    );
    let rep = aggregate(
        Aggregator::Medoid,
        &ms.w,
        &ms.mu,
        &ms.cov,
        ms.m,
        K,
        D,
        CovKind::Full,
        None,
        &ReduceOptions::default(),
        &Screening::PAPER,
        &mut status,
        &mut selected,
        None,
        &mut w,
        &mut mu,
        &mut cov,
        &mut work,
    )
    .unwrap();
    assert!(honest_flags[rep.chosen]);
    assert_eq!(rep.valid, 8);
    assert_eq!(status[3], Status::NonFinite.code());
    assert_eq!(status[5], Status::NotSpd.code());
    let i = rep.chosen;
    assert_eq!(w, ms.w[i * K..(i + 1) * K]);
    assert_eq!(mu, ms.mu[i * K * D..(i + 1) * K * D]);
    assert_eq!(cov, ms.cov[i * K * C..(i + 1) * K * C]);
}

#[test]
fn dfmr_does_not_depend_on_the_order_of_the_machines() {
    let (ms, _) = attacked(13);
    let base = run(
        &ms,
        Aggregator::Dfmr {
            rho: default_rho(10),
        },
    )
    .unwrap();
    let mut rng = Rng::new(99);
    for _ in 0..5 {
        // A random permutation (Fisher-Yates).
        let mut perm: Vec<usize> = (0..ms.m).collect();
        for i in (1..ms.m).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            perm.swap(i, j);
        }
        let out = run(
            &ms.permuted(&perm),
            Aggregator::Dfmr {
                rho: default_rho(10),
            },
        )
        .unwrap();
        assert_eq!(perm[out.report.coat], base.report.coat);
        assert_eq!(out.report.radius, base.report.radius);
        assert_eq!(out.report.selected, base.report.selected);
        for (pos, &i) in perm.iter().enumerate() {
            assert_eq!(out.status[pos], base.status[i]);
            assert_eq!(out.selected[pos], base.selected[i]);
        }
        for (a, b) in [
            (&out.w, &base.w),
            (&out.mu, &base.mu),
            (&out.cov, &base.cov),
        ] {
            for (x, y) in a.iter().zip(b.iter()) {
                assert!((x - y).abs() <= 1e-12, "{x} vs {y}");
            }
        }
    }
}

#[test]
fn identical_honest_machines_give_back_their_mixture() {
    let (tw, tmu, tcov) = truth();
    let mut ms = Machines::empty();
    for _ in 0..5 {
        ms.push(&tw, &tmu, &tcov);
    }
    let out = run(
        &ms,
        Aggregator::Dfmr {
            rho: default_rho(5),
        },
    )
    .unwrap();
    assert_eq!(out.report.radius, 0.0);
    assert_eq!(out.report.coat, 0);
    assert_eq!((out.report.selected, out.report.valid), (5, 5));
    assert_eq!(out.status, vec![0; 5]);
    assert_eq!(out.selected, vec![1; 5]);
    for (a, b) in [(&out.w, &tw), (&out.mu, &tmu), (&out.cov, &tcov)] {
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x - y).abs() <= 1e-12, "{x} vs {y}");
        }
    }
}

/// With no honest majority the call fails with its own status, writes every machine's status
/// (so the caller learns which failed) and selects none, and leaves the mixture untouched.
#[test]
fn too_few_valid_machines_is_an_error_with_untouched_outputs() {
    let (tw, tmu, tcov) = truth();
    let mut ms = Machines::empty();
    for i in 0..5 {
        let mut w = tw.clone();
        if i % 2 == 0 {
            w[0] = f64::NAN; // machines 0, 2, 4 invalid: 2 valid < 3
        }
        ms.push(&w, &tmu, &tcov);
    }
    let sentinel = f64::from_bits(0x7ff8_dead_beef_0001);
    let mut work = vec![f64::NAN; aggregate_work_len(ms.m, K, D, CovKind::Full).unwrap()];
    let mut status = vec![-7; 5];
    let mut selected = vec![9; 5];
    let (mut w, mut mu, mut cov) = (
        vec![sentinel; K],
        vec![sentinel; K * D],
        vec![sentinel; K * C],
    );
    let opts = ReduceOptions::default();
    for method in [Aggregator::Dfmr { rho: 1.0 }, Aggregator::Vanilla] {
        let r = aggregate(
            method,
            &ms.w,
            &ms.mu,
            &ms.cov,
            5,
            K,
            D,
            CovKind::Full,
            None,
            &opts,
            &Screening::PAPER,
            &mut status,
            &mut selected,
            None,
            &mut w,
            &mut mu,
            &mut cov,
            &mut work,
        );
        assert_eq!(r, Err(Status::NoMajority));
        let nf = Status::NonFinite.code();
        assert_eq!(status, vec![nf, 0, nf, 0, nf]);
        assert_eq!(selected, vec![0; 5]);
        for v in w.iter().chain(&mu).chain(&cov) {
            assert_eq!(v.to_bits(), sentinel.to_bits());
        }
        (status, selected) = (vec![-7; 5], vec![9; 5]);
    }
    // Bad parameters are errors of the call, also with untouched outputs.
    for (rho, sizes, want) in [
        (0.5, None, Status::BadParameter),
        (f64::NAN, None, Status::BadParameter),
        (1.0, Some([1.0, 1.0, 0.0, 1.0, 1.0]), Status::SampleWeights),
    ] {
        let r = aggregate(
            Aggregator::Dfmr { rho },
            &ms.w,
            &ms.mu,
            &ms.cov,
            5,
            K,
            D,
            CovKind::Full,
            sizes.as_ref().map(|s| &s[..]),
            &opts,
            &Screening::PAPER,
            &mut status,
            &mut selected,
            None,
            &mut w,
            &mut mu,
            &mut cov,
            &mut work,
        );
        assert_eq!(r, Err(want));
        assert_eq!(status, vec![-7; 5]);
    }
}

#[test]
fn sample_sizes_weight_the_pool() {
    // Two honest clusters of machines, all within the filter: with equal sizes the pooled
    // weight of the first component is the average; with sizes it is the n-weighted one.
    let (_, tmu, tcov) = truth();
    let mut ms = Machines::empty();
    let ws = [[0.3, 0.7], [0.5, 0.5], [0.4, 0.6]];
    for w in ws {
        ms.push(&w, &tmu, &tcov);
    }
    let sizes = [1.0, 3.0, 4.0];
    let mut work = vec![f64::NAN; aggregate_work_len(3, K, D, CovKind::Full).unwrap()];
    let (mut status, mut selected) = (vec![0; 3], vec![0; 3]);
    let (mut w, mut mu, mut cov) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * C]);
    let rep = aggregate(
        Aggregator::Dfmr { rho: 100.0 },
        &ms.w,
        &ms.mu,
        &ms.cov,
        3,
        K,
        D,
        CovKind::Full,
        Some(&sizes),
        &ReduceOptions::default(),
        &Screening::PAPER,
        &mut status,
        &mut selected,
        None,
        &mut w,
        &mut mu,
        &mut cov,
        &mut work,
    )
    .unwrap();
    assert_eq!(rep.selected, 3);
    let want = (1.0 * 0.3 + 3.0 * 0.5 + 4.0 * 0.4) / 8.0;
    assert!((w[0] - want).abs() < 1e-12, "{} vs {want}", w[0]);
    assert!((mu[0] - tmu[0]).abs() < 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Screening and the smoothed distance.

/// 11 honest machines (n = 100 each) and four implausible ones, each failing one check of
/// `Screening::default()`: machine 2 has a covariance 1e-5 times an honest one (TooSharp),
/// machine 4 one 1000 times (TooFlat), machine 6 a mean moved by 60 (TooFar: the pooled
/// variances are about 10), machine 8 weights (0.995, 0.005), half a sample (TooLight).
fn implausible() -> Machines {
    let mut rng = Rng::new(77);
    let mut ms = Machines::empty();
    for slot in 0..15 {
        let (mut w, mut mu, mut cov) = honest(&mut rng);
        match slot {
            2 => cov[..C].iter_mut().for_each(|v| *v *= 1e-5),
            4 => cov[C..].iter_mut().for_each(|v| *v *= 1e3),
            6 => mu[1] += 60.0,
            8 => w = vec![0.995, 0.005],
            _ => {}
        }
        ms.push(&w, &mu, &cov);
    }
    ms
}

/// Each implausible estimate gets its own status and is never selected; every honest machine
/// is valid; the paper's setting accepts all four as valid; and the verdicts are the same with
/// every coordinate in other units (x 1000: the checks are relative to the pooled scale).
#[test]
fn screening_rejects_implausible_estimates_with_their_own_status() {
    let ms = implausible();
    let sizes = vec![100.0; ms.m];
    let dfmr = Aggregator::Dfmr {
        rho: default_rho(ms.m),
    };
    let expected = |i: usize| match i {
        2 => Status::TooSharp.code(),
        4 => Status::TooFlat.code(),
        6 => Status::TooFar.code(),
        8 => Status::TooLight.code(),
        _ => 0,
    };
    let (out, _) = run_screened(&ms, dfmr, &Screening::default(), Some(&sizes)).unwrap();
    for i in 0..ms.m {
        assert_eq!(out.status[i], expected(i), "machine {i}");
        assert!(out.status[i] == 0 || out.selected[i] == 0, "machine {i}");
    }
    assert_eq!(out.report.valid, 11);
    let (paper, _) = run_screened(&ms, dfmr, &Screening::PAPER, Some(&sizes)).unwrap();
    assert!(paper.status.iter().all(|&s| s == 0), "{:?}", paper.status);

    let scaled = Machines {
        w: ms.w.clone(),
        mu: ms.mu.iter().map(|v| 1e3 * v).collect(),
        cov: ms.cov.iter().map(|v| 1e6 * v).collect(),
        m: ms.m,
    };
    let (other, _) = run_screened(&scaled, dfmr, &Screening::default(), Some(&sizes)).unwrap();
    assert_eq!(other.status, out.status);
    assert_eq!(other.selected, out.selected);
    // Without sample sizes the weight check is off: machine 8 is valid.
    let (no_sizes, _) = run_screened(&ms, dfmr, &Screening::default(), None).unwrap();
    assert_eq!(no_sizes.status[8], 0);
}

/// The distances to COAT that the call reports are the L2 distances between the mixtures
/// smoothed in closed form: each covariance plus `smoothing` times the pooled variances (here
/// recomputed by the test: per dimension, the lower median of the machines' mixture
/// variances) on its diagonal. DFMR selects exactly the valid machines within rho r_COAT;
/// with smoothing 0 the distances are the plain ones.
#[test]
fn coat_distances_are_the_smoothed_l2_distances() {
    let (ms, _) = attacked(5);
    let rho = default_rho(ms.m);
    for smoothing in [0.0, 0.5, 2.0] {
        let screening = Screening {
            smoothing,
            ..Screening::PAPER
        };
        let (out, dist) = run_screened(&ms, Aggregator::Dfmr { rho }, &screening, None).unwrap();
        let valid: Vec<usize> = (0..ms.m).filter(|&i| out.status[i] == 0).collect();
        let mut pooled = [0.0; D];
        for a in 0..D {
            let mut v: Vec<f64> = valid
                .iter()
                .map(|&i| {
                    let (w, mu, cov) = (&ms.w[i * K..], &ms.mu[i * K * D..], &ms.cov[i * K * C..]);
                    let centre: f64 = (0..K).map(|k| w[k] * mu[k * D + a]).sum();
                    (0..K)
                        .map(|k| w[k] * (cov[k * C + a * D + a] + (mu[k * D + a] - centre).powi(2)))
                        .sum()
                })
                .collect();
            v.sort_by(f64::total_cmp);
            pooled[a] = v[(v.len() - 1) / 2];
        }
        let smoothed = |i: usize| {
            let mut cov = ms.cov[i * K * C..(i + 1) * K * C].to_vec();
            for k in 0..K {
                for a in 0..D {
                    cov[k * C + a * D + a] += smoothing * pooled[a];
                }
            }
            cov
        };
        let coat = out.report.coat;
        let coat_cov = smoothed(coat);
        let g_coat = view(&ms, coat, &coat_cov);
        let mut work = vec![0.0; l2_distance_sq_work_len(D, CovKind::Full, CovKind::Full).unwrap()];
        for i in 0..ms.m {
            if out.status[i] != 0 {
                assert_eq!(dist[i], f64::INFINITY, "machine {i}");
                continue;
            }
            let cov = smoothed(i);
            let g = view(&ms, i, &cov);
            let want = l2_distance(&g_coat, &g, &mut work).unwrap();
            assert!(
                (dist[i] - want).abs() <= 1e-12 * want.max(1e-300),
                "smoothing {smoothing}, machine {i}: {} vs {want}",
                dist[i]
            );
            assert_eq!(
                out.selected[i] == 1,
                dist[i] <= rho * out.report.radius,
                "machine {i}"
            );
        }
    }
}

/// Machine i's weights and means with the covariances `cov`.
fn view<'a>(ms: &'a Machines, i: usize, cov: &'a [f64]) -> Mixture<'a> {
    let (w, mu) = (
        &ms.w[i * K..(i + 1) * K],
        &ms.mu[i * K * D..(i + 1) * K * D],
    );
    Mixture::new(w, mu, cov, K, D, CovKind::Full).unwrap()
}

/// Screening values outside their ranges are `BadParameter`.
#[test]
fn bad_screening_values_are_rejected() {
    let (ms, _) = attacked(6);
    let d = Screening::default();
    let bad = [
        Screening {
            smoothing: -0.1,
            ..d
        },
        Screening {
            smoothing: f64::INFINITY,
            ..d
        },
        Screening {
            smoothing: f64::NAN,
            ..d
        },
        Screening {
            sharp_ratio: 1.5,
            ..d
        },
        Screening {
            sharp_ratio: -1e-3,
            ..d
        },
        Screening {
            flat_ratio: 0.5,
            ..d
        },
        Screening {
            flat_ratio: f64::NAN,
            ..d
        },
        Screening {
            far_ratio: 0.5,
            ..d
        },
        Screening {
            min_component_samples: -1.0,
            ..d
        },
        Screening {
            min_component_samples: f64::INFINITY,
            ..d
        },
    ];
    for screening in bad {
        let r = run_screened(&ms, Aggregator::Coat, &screening, None);
        assert_eq!(r.err(), Some(Status::BadParameter), "{screening:?}");
    }
}
