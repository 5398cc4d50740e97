//! MM mixture reduction: monotone objective (hard and entropic, trimmed or not), fixed point at
//! the input, invariance to the order of the input (trimmed or not), exact moment matches of
//! separated clusters, dropping of components without mass, trimming that removes the
//! influence of far outliers exactly, costs in larger dimensions (the screened, blocked paths)
//! against `kl_gaussian`, and bad input with untouched outputs.
//!
//! Every run uses a NaN-filled workspace of exactly `reduce_mm_work_len` doubles, so a value
//! read before it is written, or a workspace formula that is too short, shows up.

use mixkern::distance::{kl_gaussian, kl_gaussian_work_len};
use mixkern::gmm::{CovKind, Mixture};
use mixkern::reduce::{reduce_mm, reduce_mm_work_len, ReduceOptions, ReduceReport};
use mixkern::rng::Rng;
use mixkern::Status;

/// A mixture's buffers.
#[derive(Clone, Debug)]
struct Mix {
    w: Vec<f64>,
    mu: Vec<f64>,
    cov: Vec<f64>,
    k: usize,
    d: usize,
    kind: CovKind,
}

impl Mix {
    fn view(&self) -> Mixture<'_> {
        Mixture::new(&self.w, &self.mu, &self.cov, self.k, self.d, self.kind).expect("valid")
    }
    fn c(&self) -> usize {
        self.kind.cov_len(self.d).unwrap()
    }
    fn mean(&self, i: usize) -> &[f64] {
        &self.mu[i * self.d..(i + 1) * self.d]
    }
    fn cov_of(&self, i: usize) -> &[f64] {
        let c = self.c();
        &self.cov[i * c..(i + 1) * c]
    }
}

/// A random covariance A A^T / d + I (full), or the diagonal of one (diagonal).
fn random_cov(rng: &mut Rng, d: usize, kind: CovKind) -> Vec<f64> {
    let a: Vec<f64> = (0..d * d).map(|_| rng.normal()).collect();
    let mut s = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            let v: f64 = (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum();
            s[i * d + j] = v / d as f64 + if i == j { 1.0 } else { 0.0 };
        }
    }
    match kind {
        CovKind::Full => s,
        CovKind::Diag => (0..d).map(|i| s[i * d + i]).collect(),
    }
}

/// M random components: weights uniform in [0.2, 1) normalized, means `center` + `spread` z.
fn random_mix(rng: &mut Rng, k: usize, d: usize, kind: CovKind, center: f64, spread: f64) -> Mix {
    let raw: Vec<f64> = (0..k).map(|_| 0.2 + 0.8 * rng.uniform()).collect();
    let total: f64 = raw.iter().sum();
    let w = raw.iter().map(|v| v / total).collect();
    let mu = (0..k * d).map(|_| center + spread * rng.normal()).collect();
    let cov = (0..k).flat_map(|_| random_cov(rng, d, kind)).collect();
    Mix {
        w,
        mu,
        cov,
        k,
        d,
        kind,
    }
}

/// The result of a run: report, weights, means, covariances.
type Run = (ReduceReport, Vec<f64>, Vec<f64>, Vec<f64>);

fn run(input: &Mix, init: &Mix, opts: &ReduceOptions, trace: Option<&mut [f64]>) -> Run {
    let (k, d, c) = (init.k, init.d, init.c());
    let mut work = vec![f64::NAN; reduce_mm_work_len(input.k, k, d, input.kind).unwrap()];
    let (mut w, mut mu, mut cov) = (
        vec![f64::NAN; k],
        vec![f64::NAN; k * d],
        vec![f64::NAN; k * c],
    );
    let report = reduce_mm(
        &input.view(),
        &init.view(),
        opts,
        &mut w,
        &mut mu,
        &mut cov,
        trace,
        &mut work,
    )
    .expect("reduce_mm");
    (report, w, mu, cov)
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

/// sum_i w_i min_k KL(phi_i || phi~_k), each KL by `kl_gaussian`.
fn hard_objective(input: &Mix, reduced: &Mix) -> f64 {
    let mut work = vec![0.0; kl_gaussian_work_len(input.d, input.kind).unwrap()];
    (0..input.k)
        .map(|i| {
            let best = (0..reduced.k)
                .map(|j| {
                    kl_gaussian(
                        input.mean(i),
                        input.cov_of(i),
                        reduced.mean(j),
                        reduced.cov_of(j),
                        input.d,
                        input.kind,
                        &mut work,
                    )
                    .unwrap()
                })
                .fold(f64::INFINITY, f64::min);
            input.w[i] * best
        })
        .sum()
}

const KINDS: [CovKind; 2] = [CovKind::Full, CovKind::Diag];

#[test]
fn objective_never_increases_hard_and_entropic() {
    let mut rng = Rng::new(11);
    for &kind in &KINDS {
        for &lambda in &[0.0, 0.05, 1.0] {
            for _ in 0..5 {
                let (m, k, d) = (16, 4, 3);
                let input = random_mix(&mut rng, m, d, kind, 0.0, 3.0);
                let init = random_mix(&mut rng, k, d, kind, 0.0, 3.0);
                let opts = ReduceOptions {
                    tol: 0.0,
                    max_iter: 60,
                    entropic_lambda: lambda,
                    ..ReduceOptions::default()
                };
                let mut trace = vec![f64::NAN; opts.max_iter];
                let (report, w, ..) = run(&input, &init, &opts, Some(&mut trace));
                let n = report.iterations;
                assert!(n >= 2, "at least two iterations with tol = 0");
                assert_eq!(trace[n - 1], report.objective);
                assert!(
                    trace[n..].iter().all(|v| v.is_nan()),
                    "past entries untouched"
                );
                for t in 1..n {
                    let (a, b) = (trace[t - 1], trace[t]);
                    assert!(
                        b <= a + 1e-12 * a.abs() + 1e-15,
                        "{kind:?} lambda {lambda}: objective rose at {t}: {a} -> {b}"
                    );
                }
                if lambda == 0.0 {
                    // The first objective is that of the initial mixture, by kl_gaussian.
                    let expected = hard_objective(&input, &init);
                    assert!((trace[0] - expected).abs() <= 1e-12 * expected);
                    assert!(
                        trace[n - 1] < trace[0],
                        "the iterations improve a random init"
                    );
                }
                assert!(report.kept >= 1 && report.kept <= k);
                let total: f64 = w[..report.kept].iter().sum();
                assert!((total - 1.0).abs() < 1e-14);
            }
        }
    }
}

#[test]
fn reducing_a_mixture_to_itself_returns_it() {
    let mut rng = Rng::new(12);
    for &kind in &KINDS {
        let input = random_mix(&mut rng, 6, 3, kind, 0.0, 2.0);
        let (report, w, mu, cov) = run(&input, &input, &ReduceOptions::default(), None);
        assert_eq!(report.objective, 0.0);
        assert!(report.converged);
        assert_eq!(report.kept, 6);
        assert_close(&w, &input.w, 1e-12, "weights");
        assert_close(&mu, &input.mu, 1e-12, "means");
        assert_close(&cov, &input.cov, 1e-12, "covs");
    }
}

/// A random permutation of 0 .. m (Fisher-Yates).
fn random_permutation(rng: &mut Rng, m: usize) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..m).collect();
    for i in (1..m).rev() {
        perm.swap(i, rng.below(i as u64 + 1) as usize);
    }
    perm
}

/// `perm` applied to the components of `mix`.
fn permuted(mix: &Mix, perm: &[usize]) -> Mix {
    Mix {
        w: perm.iter().map(|&p| mix.w[p]).collect(),
        mu: perm.iter().flat_map(|&p| mix.mean(p).to_vec()).collect(),
        cov: perm.iter().flat_map(|&p| mix.cov_of(p).to_vec()).collect(),
        ..mix.clone()
    }
}

#[test]
fn result_does_not_depend_on_the_order_of_the_input() {
    let mut rng = Rng::new(13);
    for &kind in &KINDS {
        for &lambda in &[0.0, 0.5] {
            let (m, k, d) = (12, 3, 2);
            let input = random_mix(&mut rng, m, d, kind, 0.0, 3.0);
            let init = random_mix(&mut rng, k, d, kind, 0.0, 3.0);
            let perm = random_permutation(&mut rng, m);
            assert_ne!(perm, (0..m).collect::<Vec<_>>());
            let opts = ReduceOptions {
                entropic_lambda: lambda,
                ..ReduceOptions::default()
            };
            let a = run(&input, &init, &opts, None);
            let b = run(&permuted(&input, &perm), &init, &opts, None);
            assert_eq!(
                (a.0.iterations, a.0.kept, a.0.converged),
                (b.0.iterations, b.0.kept, b.0.converged)
            );
            assert!((a.0.objective - b.0.objective).abs() <= 1e-12 * a.0.objective.abs());
            assert_close(&a.1, &b.1, 1e-12, "weights");
            assert_close(&a.2, &b.2, 1e-12, "means");
            assert_close(&a.3, &b.3, 1e-12, "covs");
        }
    }
}

/// The moment match of components `idx` of `mix` by raw moments (E x, E x x^T - mu mu^T),
/// a different formula from the centered one the library uses: (mass, mean, full covariance).
fn raw_moment_match(mix: &Mix, idx: &[usize]) -> (f64, Vec<f64>, Vec<f64>) {
    let d = mix.d;
    let mass: f64 = idx.iter().map(|&i| mix.w[i]).sum();
    let mut mean = vec![0.0; d];
    let mut second = vec![0.0; d * d];
    for &i in idx {
        let l = mix.w[i] / mass;
        let (mu, s) = (mix.mean(i), mix.cov_of(i));
        for a in 0..d {
            mean[a] += l * mu[a];
            for b in 0..d {
                let s_ab = match mix.kind {
                    CovKind::Full => s[a * d + b],
                    CovKind::Diag if a == b => s[a],
                    CovKind::Diag => 0.0,
                };
                second[a * d + b] += l * (s_ab + mu[a] * mu[b]);
            }
        }
    }
    let cov = (0..d * d)
        .map(|ab| second[ab] - mean[ab / d] * mean[ab % d])
        .collect();
    (mass, mean, cov)
}

#[test]
fn separated_clusters_reduce_to_their_moment_matches() {
    let mut rng = Rng::new(14);
    for &kind in &KINDS {
        for &lambda in &[0.0, 1.0] {
            let (d, per) = (3, 5);
            let a = random_mix(&mut rng, per, d, kind, 0.0, 1.0);
            let b = random_mix(&mut rng, per, d, kind, 100.0, 1.0);
            // Interleave the clusters; cluster masses 0.3 and 0.7.
            let mut input = Mix {
                w: vec![],
                mu: vec![],
                cov: vec![],
                k: 2 * per,
                d,
                kind,
            };
            for i in 0..per {
                for (mix, mass) in [(&a, 0.3), (&b, 0.7)] {
                    input.w.push(mass * mix.w[i]);
                    input.mu.extend_from_slice(mix.mean(i));
                    input.cov.extend_from_slice(mix.cov_of(i));
                }
            }
            let init = Mix {
                w: vec![0.5, 0.5],
                mu: [a.mean(0), b.mean(0)].concat(),
                cov: [a.cov_of(0), b.cov_of(0)].concat(),
                k: 2,
                ..input.clone()
            };
            let opts = ReduceOptions {
                entropic_lambda: lambda,
                ..ReduceOptions::default()
            };
            let (report, w, mu, cov) = run(&input, &init, &opts, None);
            assert_eq!(report.kept, 2);
            // Iteration 2 finds the moment matches, iteration 3 sees no decrease.
            assert!(report.converged && report.iterations == 3);
            for (j, start) in [0usize, 1].into_iter().enumerate() {
                let idx: Vec<usize> = (start..2 * per).step_by(2).collect();
                let (mass, mean, full) = raw_moment_match(&input, &idx);
                assert!(
                    (w[j] - mass).abs() < 1e-12,
                    "weight {j}: {} vs {mass}",
                    w[j]
                );
                assert_close(&mu[j * d..(j + 1) * d], &mean, 1e-12, "mean");
                // Diagonal storage keeps the diagonal of the moment match.
                let (got, full): (Vec<f64>, Vec<f64>) = match kind {
                    CovKind::Full => (cov[j * d * d..(j + 1) * d * d].to_vec(), full),
                    CovKind::Diag => (
                        cov[j * d..(j + 1) * d].to_vec(),
                        (0..d).map(|a| full[a * d + a]).collect(),
                    ),
                };
                // Raw moments near 100 lose about 1e4 eps to cancellation: 1e-10 absolute.
                for (x, y) in got.iter().zip(&full) {
                    assert!((x - y).abs() < 1e-10, "cov {j}: {x} vs {y}");
                }
            }
        }
    }
}

#[test]
fn a_component_without_mass_is_dropped() {
    let mut rng = Rng::new(15);
    for &kind in &KINDS {
        let d = 2;
        // Two clusters, components 0..3 near 0 and 3..6 near 50.
        let a = random_mix(&mut rng, 3, d, kind, 0.0, 1.0);
        let b = random_mix(&mut rng, 3, d, kind, 50.0, 1.0);
        let input = Mix {
            w: a.w.iter().chain(&b.w).map(|v| 0.5 * v).collect(),
            mu: [a.mu.clone(), b.mu.clone()].concat(),
            cov: [a.cov.clone(), b.cov.clone()].concat(),
            k: 6,
            ..a.clone()
        };
        // One initial component per cluster, and between them one far away that never wins an
        // input component.
        let mut init = Mix {
            w: vec![0.4, 0.2, 0.4],
            mu: [input.mean(0), input.mean(0), input.mean(3)].concat(),
            cov: [input.cov_of(0), input.cov_of(0), input.cov_of(3)].concat(),
            k: 3,
            ..input.clone()
        };
        init.mu[d..2 * d].fill(1e3);
        let (report, w, mu, cov) = run(&input, &init, &ReduceOptions::default(), None);
        assert_eq!(report.kept, 2, "{kind:?}");
        let c = input.c();
        // The kept components are the cluster moment matches, in the order of `init`.
        for (j, idx) in [[0, 1, 2], [3, 4, 5]].iter().enumerate() {
            let (mass, mean, _) = raw_moment_match(&input, idx);
            assert!((w[j] - mass).abs() < 1e-14);
            assert_close(&mu[j * d..(j + 1) * d], &mean, 1e-12, "kept mean");
        }
        // The tail is zero-filled (it held NaN).
        assert_eq!(w[2], 0.0);
        assert!(mu[2 * d..].iter().all(|&v| v == 0.0));
        assert!(cov[2 * c..].iter().all(|&v| v == 0.0));

        // Reducing to the single far component alone keeps it (everything goes to it).
        let far = Mix {
            w: vec![1.0],
            mu: init.mu[d..2 * d].to_vec(),
            cov: init.cov_of(1).to_vec(),
            k: 1,
            ..init.clone()
        };
        let (report, w, mu, _) = run(&input, &far, &ReduceOptions::default(), None);
        assert_eq!(report.kept, 1);
        assert_eq!(w[0], 1.0);
        let (_, mean, _) = raw_moment_match(&input, &(0..6).collect::<Vec<_>>());
        assert_close(&mu, &mean, 1e-12, "single component mean");
    }
}

#[test]
fn bad_input_is_rejected_with_outputs_untouched() {
    let mut rng = Rng::new(16);
    let (m, k, d) = (4, 2, 2);
    let input = random_mix(&mut rng, m, d, CovKind::Full, 0.0, 1.0);
    let init = random_mix(&mut rng, k, d, CovKind::Full, 0.0, 1.0);
    let sentinel = f64::from_bits(0x7ff8_dead_beef_0001);
    let call = |input: &Mix,
                init: &Mix,
                opts: &ReduceOptions,
                lens: [usize; 5],
                with_trace: bool|
     -> Status {
        let [lw, lmu, lcov, ltrace, lwork] = lens;
        let mut outs = [
            vec![sentinel; lw],
            vec![sentinel; lmu],
            vec![sentinel; lcov],
            vec![sentinel; ltrace],
        ];
        let mut work = vec![0.0; lwork];
        let [w, mu, cov, trace] = &mut outs;
        let trace = if with_trace {
            Some(trace.as_mut_slice())
        } else {
            None
        };
        let status = reduce_mm(
            &input.view(),
            &init.view(),
            opts,
            w,
            mu,
            cov,
            trace,
            &mut work,
        )
        .expect_err("must fail");
        for out in &outs {
            assert!(out.iter().all(|v| v.to_bits() == sentinel.to_bits()));
        }
        status
    };
    let opts = ReduceOptions::default();
    let work_len = reduce_mm_work_len(m, k, d, CovKind::Full).unwrap();
    let good = [k, k * d, k * d * d, opts.max_iter, work_len];

    // Parameters.
    let too_many = random_mix(&mut rng, m + 1, d, CovKind::Full, 0.0, 1.0);
    let big = [m + 1, (m + 1) * d, (m + 1) * d * d, 100, 10_000];
    assert_eq!(
        call(&input, &too_many, &opts, big, true),
        Status::BadParameter
    );
    let other_d = random_mix(&mut rng, k, d + 1, CovKind::Full, 0.0, 1.0);
    assert_eq!(
        call(&input, &other_d, &opts, big, true),
        Status::BadParameter
    );
    let other_kind = random_mix(&mut rng, k, d, CovKind::Diag, 0.0, 1.0);
    assert_eq!(
        call(&input, &other_kind, &opts, good, true),
        Status::BadParameter
    );
    for bad in [
        ReduceOptions { tol: -1e-3, ..opts },
        ReduceOptions {
            tol: f64::NAN,
            ..opts
        },
        ReduceOptions {
            max_iter: 0,
            ..opts
        },
        ReduceOptions {
            entropic_lambda: -1.0,
            ..opts
        },
        ReduceOptions {
            entropic_lambda: f64::NAN,
            ..opts
        },
        ReduceOptions {
            entropic_lambda: f64::INFINITY,
            ..opts
        },
    ] {
        assert_eq!(
            call(&input, &init, &bad, good, true),
            Status::BadParameter,
            "{bad:?}"
        );
    }

    // Short buffers, one at a time.
    for which in 0..5 {
        let mut lens = good;
        lens[which] -= 1;
        assert_eq!(
            call(&input, &init, &opts, lens, true),
            Status::BufferTooShort,
            "buffer {which}"
        );
    }
    // Without a trace its length does not matter.
    let mut lens = good;
    lens[3] = 0;
    assert_eq!(
        call(
            &input,
            &init,
            &ReduceOptions { tol: -1.0, ..opts },
            lens,
            false
        ),
        Status::BadParameter
    );

    // Sizes.
    assert_eq!(
        reduce_mm_work_len(0, 1, 1, CovKind::Full),
        Err(Status::ZeroSize)
    );
    assert_eq!(
        reduce_mm_work_len(1, 0, 1, CovKind::Full),
        Err(Status::ZeroSize)
    );
    assert_eq!(
        reduce_mm_work_len(1, 1, 0, CovKind::Diag),
        Err(Status::ZeroSize)
    );
    assert_eq!(
        reduce_mm_work_len(usize::MAX / 2, 4, 1, CovKind::Diag),
        Err(Status::SizeOverflow)
    );
    assert_eq!(
        reduce_mm_work_len(2, 1, usize::MAX / 2, CovKind::Full),
        Err(Status::SizeOverflow)
    );
    assert_eq!(
        reduce_mm_work_len(3, 2, 2, CovKind::Full),
        Ok(3 * 4 + 3 * 2 + 2 + 2 * 2 + 2 * 2 * 4 + 2 * 4 + 2 + 2 * 2 + 2 * 3)
    );

    // A symmetric covariance with a positive diagonal that is indefinite: NotSpd, in the input
    // and in the initial components.
    let mut indefinite = input.clone();
    indefinite.cov[4..8].copy_from_slice(&[1.0, 2.0, 2.0, 1.0]);
    assert_eq!(call(&indefinite, &init, &opts, good, true), Status::NotSpd);
    let mut bad_init = init.clone();
    bad_init.cov[..4].copy_from_slice(&[1.0, 2.0, 2.0, 1.0]);
    assert_eq!(call(&input, &bad_init, &opts, good, true), Status::NotSpd);

    // Costs that overflow: means 1e200 apart.
    let mut far = init.clone();
    far.mu.fill(1e200);
    let mut near = input.clone();
    near.mu.fill(-1e200);
    assert_eq!(call(&near, &far, &opts, good, true), Status::NonFinite);
}

#[test]
fn trimmed_objective_never_increases_and_trim_zero_is_the_default() {
    let mut rng = Rng::new(41);
    for &kind in &KINDS {
        for &lambda in &[0.0, 0.1] {
            for &trim in &[0.2, 0.5] {
                let input = random_mix(&mut rng, 20, 3, kind, 0.0, 3.0);
                let init = random_mix(&mut rng, 4, 3, kind, 0.0, 3.0);
                let opts = ReduceOptions {
                    tol: 0.0,
                    max_iter: 40,
                    entropic_lambda: lambda,
                    trim,
                };
                let mut trace = vec![f64::NAN; opts.max_iter];
                let (report, w, ..) = run(&input, &init, &opts, Some(&mut trace));
                for t in 1..report.iterations {
                    let (a, b) = (trace[t - 1], trace[t]);
                    assert!(
                        b <= a + 1e-12 * a.abs() + 1e-15,
                        "{kind:?} lambda {lambda} trim {trim}: {a} -> {b} at {t}"
                    );
                }
                let total: f64 = w[..report.kept].iter().sum();
                assert!((total - 1.0).abs() < 1e-14);
                // trim = 0 explicitly is the default, bit for bit.
                let plain = ReduceOptions { trim: 0.0, ..opts };
                let a = run(&input, &init, &plain, None);
                let b = run(
                    &input,
                    &init,
                    &ReduceOptions {
                        tol: 0.0,
                        max_iter: 40,
                        entropic_lambda: lambda,
                        ..ReduceOptions::default()
                    },
                    None,
                );
                assert_eq!(format!("{a:?}"), format!("{b:?}"));
            }
        }
    }
}

#[test]
fn trimming_ignores_far_outliers_and_not_the_order() {
    // Two honest clusters (70% of the mass) and outliers far away (30%).
    let mut rng = Rng::new(42);
    let d = 2;
    let left = random_mix(&mut rng, 6, d, CovKind::Full, -5.0, 0.3);
    let right = random_mix(&mut rng, 6, d, CovKind::Full, 5.0, 0.3);
    let far = random_mix(&mut rng, 4, d, CovKind::Full, 200.0, 50.0);
    let mut all = left.clone();
    for (part, mass) in [(&left, 0.35), (&right, 0.35), (&far, 0.3)] {
        if std::ptr::eq(part, &left) {
            all.w = left.w.iter().map(|w| w * mass).collect();
            continue;
        }
        all.w.extend(part.w.iter().map(|w| w * mass));
        all.mu.extend_from_slice(&part.mu);
        all.cov.extend_from_slice(&part.cov);
        all.k += part.k;
    }
    let init = Mix {
        w: vec![0.5, 0.5],
        mu: vec![-5.0, -5.0, 5.0, 5.0],
        cov: vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
        k: 2,
        d,
        kind: CovKind::Full,
    };
    let trimmed = ReduceOptions {
        trim: 0.4,
        ..ReduceOptions::default()
    };
    let (_, w, mu, _) = run(&all, &init, &trimmed, None);
    // The outliers carry no influence: the means stay at the honest clusters' centres.
    for (k, centre) in [(0, -5.0), (1, 5.0)] {
        for a in 0..d {
            assert!((mu[k * d + a] - centre).abs() < 1.0, "{mu:?}");
        }
    }
    assert!((w[0] - 0.5).abs() < 0.2, "{w:?}");
    // Untrimmed, the outliers pull a component far away.
    let (_, _, mu_plain, _) = run(&all, &init, &ReduceOptions::default(), None);
    assert!(mu_plain.iter().any(|v| v.abs() > 20.0), "{mu_plain:?}");
    // Reversing the input order changes nothing beyond rounding.
    let rev: Vec<usize> = (0..all.k).rev().collect();
    let c = all.c();
    let reversed = Mix {
        w: rev.iter().map(|&i| all.w[i]).collect(),
        mu: rev.iter().flat_map(|&i| all.mean(i).to_vec()).collect(),
        cov: rev
            .iter()
            .flat_map(|&i| all.cov[i * c..(i + 1) * c].to_vec())
            .collect(),
        ..all.clone()
    };
    let (_, w2, mu2, _) = run(&reversed, &init, &trimmed, None);
    assert_close(&w, &w2, 1e-12, "weights");
    assert_close(&mu, &mu2, 1e-12, "means");
}

#[test]
fn bad_trim_is_rejected_with_outputs_untouched() {
    let mut rng = Rng::new(43);
    let input = random_mix(&mut rng, 6, 2, CovKind::Full, 0.0, 1.0);
    let init = random_mix(&mut rng, 2, 2, CovKind::Full, 0.0, 1.0);
    let mut work = vec![0.0; reduce_mm_work_len(6, 2, 2, CovKind::Full).unwrap()];
    for trim in [f64::NAN, -0.1, 1.0, f64::INFINITY] {
        let (mut w, mut mu, mut cov) = (vec![7.0; 2], vec![7.0; 4], vec![7.0; 8]);
        let opts = ReduceOptions {
            trim,
            ..ReduceOptions::default()
        };
        let r = reduce_mm(
            &input.view(),
            &init.view(),
            &opts,
            &mut w,
            &mut mu,
            &mut cov,
            None,
            &mut work,
        );
        assert_eq!(r, Err(Status::BadParameter), "trim {trim}");
        assert!(w.iter().chain(&mu).chain(&cov).all(|&v| v == 7.0));
    }
}

#[test]
fn trimmed_result_does_not_depend_on_the_order_of_the_input() {
    let mut rng = Rng::new(44);
    for &kind in &KINDS {
        for &lambda in &[0.0, 0.5] {
            for &trim in &[0.1, 0.5] {
                let (m, k, d) = (15, 3, 2);
                let input = random_mix(&mut rng, m, d, kind, 0.0, 3.0);
                let init = random_mix(&mut rng, k, d, kind, 0.0, 3.0);
                let perm = random_permutation(&mut rng, m);
                let opts = ReduceOptions {
                    entropic_lambda: lambda,
                    trim,
                    ..ReduceOptions::default()
                };
                let a = run(&input, &init, &opts, None);
                let b = run(&permuted(&input, &perm), &init, &opts, None);
                let what = format!("{kind:?} lambda {lambda} trim {trim}");
                assert_eq!(
                    (a.0.iterations, a.0.kept, a.0.converged),
                    (b.0.iterations, b.0.kept, b.0.converged),
                    "{what}"
                );
                assert!(
                    (a.0.objective - b.0.objective).abs() <= 1e-12 * a.0.objective.abs(),
                    "{what}"
                );
                assert_close(&a.1, &b.1, 1e-12, &what);
                assert_close(&a.2, &b.2, 1e-12, &what);
                assert_close(&a.3, &b.3, 1e-12, &what);
            }
        }
    }
}

#[test]
fn trimming_removes_the_influence_of_far_outliers_exactly() {
    // Two well-separated honest clusters (70% of the mass) and outlier components far away
    // (30%), reduced to K = 2 from the honest cluster centres. With trim = 0.4 every
    // assignment keeps 0.6 of the mass: the honest components with the smallest costs, 6/7 of
    // the honest mass, and no outlier. So the result is, up to rounding, the reduction of the
    // honest components alone (renormalized) with trim = 1/7, which keeps the same 6/7.
    let mut rng = Rng::new(45);
    for &kind in &KINDS {
        for &lambda in &[0.0, 0.05] {
            let d = 3;
            let left = random_mix(&mut rng, 8, d, kind, -6.0, 0.5);
            let right = random_mix(&mut rng, 8, d, kind, 6.0, 0.5);
            let far = random_mix(&mut rng, 6, d, kind, 300.0, 60.0);
            let join = |parts: &[(&Mix, f64)]| Mix {
                w: parts
                    .iter()
                    .flat_map(|(p, mass)| p.w.iter().map(move |w| w * mass))
                    .collect(),
                mu: parts.iter().flat_map(|(p, _)| p.mu.clone()).collect(),
                cov: parts.iter().flat_map(|(p, _)| p.cov.clone()).collect(),
                k: parts.iter().map(|(p, _)| p.k).sum(),
                ..left.clone()
            };
            // The outliers interleaved at the front, so that order cannot hide them.
            let all = join(&[(&far, 0.3), (&left, 0.35), (&right, 0.35)]);
            let honest = join(&[(&left, 0.5), (&right, 0.5)]);
            let init = Mix {
                w: vec![0.5, 0.5],
                mu: [vec![-6.0; d], vec![6.0; d]].concat(),
                cov: [left.cov_of(0), right.cov_of(0)].concat(),
                k: 2,
                ..left.clone()
            };
            let opts = |trim| ReduceOptions {
                entropic_lambda: lambda,
                trim,
                ..ReduceOptions::default()
            };
            let what = format!("{kind:?} lambda {lambda}");
            let (report, w, mu, cov) = run(&all, &init, &opts(0.4), None);
            let (oracle, w_h, mu_h, cov_h) = run(&honest, &init, &opts(1.0 / 7.0), None);
            assert_eq!(report.kept, 2, "{what}");
            assert_eq!(report.iterations, oracle.iterations, "{what}");
            // Objectives: the same kept costs, on masses 0.7 times smaller.
            assert!(
                (report.objective - 0.7 * oracle.objective).abs() <= 1e-9 * oracle.objective,
                "{what}: {} vs 0.7 x {}",
                report.objective,
                oracle.objective
            );
            assert_close(&w, &w_h, 1e-9, &what);
            assert_close(&mu, &mu_h, 1e-9, &what);
            assert_close(&cov, &cov_h, 1e-9, &what);
            // Untrimmed, the outliers pull a component far from the honest clusters.
            let (_, _, mu_plain, _) = run(&all, &init, &opts(0.0), None);
            let pulled = mu_plain
                .chunks_exact(d)
                .map(|m| m.iter().map(|v| (v.abs() - 6.0).abs()).fold(0.0, f64::max))
                .fold(0.0, f64::max);
            assert!(pulled > 30.0, "{what}: {mu_plain:?}");
        }
    }
}

#[test]
fn costs_in_larger_dimensions_match_kl_gaussian() {
    // d > 16 runs the portable (D = 0) instances of the blocked kernels, d = 5 and 16 fixed-d
    // ones; hard assignments with full covariances go through the screening. The first
    // objective is that of the initial mixture, each cost by `kl_gaussian`.
    let mut rng = Rng::new(46);
    for &d in &[5, 16, 17, 33] {
        for &kind in &KINDS {
            for &lambda in &[0.0, 0.2] {
                let input = random_mix(&mut rng, 24, d, kind, 0.0, 2.0);
                let init = random_mix(&mut rng, 4, d, kind, 0.0, 2.0);
                let opts = ReduceOptions {
                    tol: 0.0,
                    max_iter: 5,
                    entropic_lambda: lambda,
                    ..ReduceOptions::default()
                };
                let mut trace = vec![f64::NAN; opts.max_iter];
                let (report, ..) = run(&input, &init, &opts, Some(&mut trace));
                let n = report.iterations;
                for t in 1..n {
                    assert!(trace[t] <= trace[t - 1] + 1e-12 * trace[t - 1].abs());
                }
                if lambda == 0.0 {
                    let expected = hard_objective(&input, &init);
                    assert!(
                        (trace[0] - expected).abs() <= 1e-12 * expected,
                        "d {d} {kind:?}: {} vs {expected}",
                        trace[0]
                    );
                }
            }
        }
    }
}

#[test]
fn trimming_keeps_exactly_the_cheapest_mass() {
    // d = 1, unit variances, one reduced component started at N(0, 1): the costs grow with
    // |mu_i - mean|. Weights 1/4 at 0, 1, 2 and 10; trim = 3/8 keeps 5/8 of the mass: the
    // components at 0 and 1 whole and half of the one at 2 (the threshold), nothing at 10. The
    // moment match of masses (1/4, 1/4, 1/8) is the mean 0.8 and the variance
    // 1 + 0.4 0.8^2 + 0.4 0.2^2 + 0.2 1.2^2 = 1.56, which keeps the same three cheapest
    // components and threshold: a fixed point reached at the first update.
    for &kind in &KINDS {
        let input = Mix {
            w: vec![0.25; 4],
            mu: vec![2.0, 10.0, 0.0, 1.0],
            cov: vec![1.0; 4],
            k: 4,
            d: 1,
            kind,
        };
        let init = Mix {
            w: vec![1.0],
            mu: vec![0.0],
            cov: vec![1.0],
            k: 1,
            ..input.clone()
        };
        let opts = ReduceOptions {
            trim: 0.375,
            ..ReduceOptions::default()
        };
        let mut trace = vec![f64::NAN; opts.max_iter];
        let (report, w, mu, cov) = run(&input, &init, &opts, Some(&mut trace));
        assert!(report.converged && report.iterations == 3, "{report:?}");
        assert_eq!(w, vec![1.0]);
        assert!((mu[0] - 0.8).abs() < 1e-14, "{kind:?}: mean {}", mu[0]);
        assert!(
            (cov[0] - 1.56).abs() < 1e-14,
            "{kind:?}: variance {}",
            cov[0]
        );
        // The first objective: the kept masses times their costs 0, 1/2, 2 (in N(0, 1)).
        let expected = 0.25 * 0.0 + 0.25 * 0.5 + 0.125 * 2.0;
        assert!((trace[0] - expected).abs() < 1e-15, "{}", trace[0]);
    }
}
