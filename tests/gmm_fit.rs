//! The local EM fit: scikit-learn's GaussianMixture as an independent oracle, EM's monotone
//! log-likelihood, recovery at the sqrt(n) rate, degenerate components handled.

use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmFitOutputs, GmmInit, Mixture};
use mixkern::Status;

/// One case of tests/data/sklearn_gmm_reference.txt (see the script beside it).
struct Case {
    name: String,
    n: usize,
    d: usize,
    k: usize,
    kind: CovKind,
    iterations: usize,
    reg_covar: f64,
    arrays: Vec<(String, Vec<f64>)>,
}

impl Case {
    fn get(&self, key: &str) -> &[f64] {
        &self
            .arrays
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("{key} in {}", self.name))
            .1
    }
}

fn read_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sklearn_gmm_reference.txt"
    ))
    .unwrap();
    let mut cases = Vec::new();
    let mut current: Option<Case> = None;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut words = line.split_whitespace();
        let head = words.next().unwrap();
        match head {
            "case" => {
                let w: Vec<&str> = words.collect();
                current = Some(Case {
                    name: w[0].to_string(),
                    n: w[1].parse().unwrap(),
                    d: w[2].parse().unwrap(),
                    k: w[3].parse().unwrap(),
                    kind: if w[4] == "full" {
                        CovKind::Full
                    } else {
                        CovKind::Diag
                    },
                    iterations: w[5].parse().unwrap(),
                    reg_covar: w[6].parse().unwrap(),
                    arrays: Vec::new(),
                });
            }
            "end" => cases.push(current.take().unwrap()),
            key => {
                let values = words.map(|v| v.parse::<f64>().unwrap()).collect();
                current
                    .as_mut()
                    .unwrap()
                    .arrays
                    .push((key.to_string(), values));
            }
        }
    }
    cases
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()))
        / scale
}

struct Fitted {
    weights: Vec<f64>,
    means: Vec<f64>,
    covs: Vec<f64>,
    report: gmm::GmmFitReport,
    trace: Vec<f64>,
}

fn fit(
    x: &[f64],
    n: usize,
    d: usize,
    k: usize,
    opts: &GmmFitOptions,
    init: GmmInit,
) -> Result<Fitted, Status> {
    let cov_len = if opts.kind == CovKind::Full { d * d } else { d };
    let (mut weights, mut means, mut covs) =
        (vec![0.0; k], vec![0.0; k * d], vec![0.0; k * cov_len]);
    let mut trace = vec![f64::NAN; opts.max_iter];
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, k, d, opts.kind).unwrap()];
    let report = gmm::gmm_fit(
        x,
        n,
        d,
        k,
        opts,
        init,
        &mut weights,
        &mut means,
        &mut covs,
        None,
        GmmFitOutputs {
            trace: Some(&mut trace[..]),
            ..Default::default()
        },
        &mut work,
    )?;
    trace.truncate(report.iterations);
    Ok(Fitted {
        weights,
        means,
        covs,
        report,
        trace,
    })
}

/// Same data, same start, same number of iterations, tol 0: scikit-learn's parameters and
/// mean log-likelihood to 1e-8 relative.
#[test]
fn matches_scikit_learn_from_the_same_start() {
    let cases = read_cases();
    assert_eq!(cases.len(), 5);
    for c in &cases {
        let init = Mixture::new(
            c.get("init_weights"),
            c.get("init_means"),
            c.get("init_covs"),
            c.k,
            c.d,
            c.kind,
        )
        .unwrap();
        let opts = GmmFitOptions {
            kind: c.kind,
            reg_covar: c.reg_covar,
            tol: 0.0,
            max_iter: c.iterations,
            ..Default::default()
        };
        let f = fit(c.get("x"), c.n, c.d, c.k, &opts, GmmInit::Params(init)).unwrap();
        assert_eq!(f.report.iterations, c.iterations, "case {}", c.name);
        for (ours, key) in [
            (&f.weights, "weights"),
            (&f.means, "means"),
            (&f.covs, "covs"),
        ] {
            let diff = max_rel_diff(ours, c.get(key));
            assert!(
                diff < 1e-8,
                "case {} {key}: relative difference {diff:e}",
                c.name
            );
        }
        let lower_bound = c.get("lower_bound")[0];
        let last = *f.trace.last().unwrap();
        assert!(
            (last - lower_bound).abs() < 1e-8 * lower_bound.abs(),
            "case {} lower bound {last} vs {lower_bound}",
            c.name
        );
        let score = c.get("mean_log_likelihood")[0];
        let ours = f.report.mean_log_likelihood;
        assert!(
            (ours - score).abs() < 1e-8 * score.abs(),
            "case {} score {ours} vs {score}",
            c.name
        );
    }
}

/// A 3-component mixture in d = 4 (full) with its diagonal twin.
fn truth(kind: CovKind) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let weights = vec![0.5, 0.3, 0.2];
    let means = vec![0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, -4.0, 3.0, 2.0, 1.0];
    let full = vec![
        1.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 0.8, 0.0, 0.1, 0.0, 0.0, 1.2, //
        0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5, //
        2.0, -0.5, 0.0, 0.0, -0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.3, 1.0,
    ];
    let covs = match kind {
        CovKind::Full => full,
        CovKind::Diag => (0..3)
            .flat_map(|c| (0..4).map(move |a| (c, a)))
            .map(|(c, a)| full[c * 16 + a * 5])
            .collect(),
    };
    (weights, means, covs)
}

fn sample(kind: CovKind, n: usize, seed: u64) -> Vec<f64> {
    let (w, m, c) = truth(kind);
    let mix = Mixture::new(&w, &m, &c, 3, 4, kind).unwrap();
    let mut x = vec![0.0; n * 4];
    let mut work = vec![0.0; gmm::simulate_work_len(3, 4, kind).unwrap()];
    gmm::simulate(seed, &mix, n, &mut x, None, &mut work).unwrap();
    x
}

/// EM never decreases the log-likelihood, from k-means++ and from a poor given start.
#[test]
fn log_likelihood_never_decreases() {
    for kind in [CovKind::Full, CovKind::Diag] {
        let x = sample(kind, 5000, 3);
        let opts = GmmFitOptions {
            kind,
            tol: 0.0,
            max_iter: 60,
            ..Default::default()
        };
        let from_kmeans = fit(&x, 5000, 4, 3, &opts, GmmInit::KMeansPlusPlus { seed: 9 }).unwrap();
        let w = [1.0 / 3.0; 3];
        let m = [0.1, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0];
        let c: Vec<f64> = match kind {
            CovKind::Full => (0..3)
                .flat_map(|_| (0..16).map(|i| if i % 5 == 0 { 9.0 } else { 0.0 }))
                .collect(),
            CovKind::Diag => vec![9.0; 12],
        };
        let poor = Mixture::new(&w, &m, &c, 3, 4, kind).unwrap();
        let from_poor = fit(&x, 5000, 4, 3, &opts, GmmInit::Params(poor)).unwrap();
        for f in [&from_kmeans, &from_poor] {
            assert_eq!(f.trace.len(), 60);
            for pair in f.trace.windows(2) {
                assert!(
                    pair[1] >= pair[0] - 1e-12 * pair[0].abs(),
                    "{kind:?}: {} then {}",
                    pair[0],
                    pair[1]
                );
            }
            assert!(f.report.mean_log_likelihood >= f.trace[59] - 1e-12 * f.trace[59].abs());
        }
    }
}

/// From the true parameters, the fitted means approach the truth at the sqrt(n) rate: the mean
/// error over seeds shrinks by about sqrt(10) from n = 10^4 to 10^5 (asserted between 2 and 5),
/// and at n = 10^5 it is within a few standard errors.
#[test]
fn recovers_the_truth_at_the_sqrt_n_rate() {
    let (w, m, c) = truth(CovKind::Full);
    let truth_mix = Mixture::new(&w, &m, &c, 3, 4, CovKind::Full).unwrap();
    let mut errors = [0.0f64; 2];
    let seeds = 6;
    for (slot, n) in [10_000usize, 100_000].into_iter().enumerate() {
        for seed in 0..seeds {
            let x = sample(CovKind::Full, n, 100 + seed);
            let opts = GmmFitOptions {
                tol: 1e-10,
                max_iter: 500,
                ..Default::default()
            };
            let f = fit(&x, n, 4, 3, &opts, GmmInit::Params(truth_mix)).unwrap();
            assert!(f.report.converged);
            let err: f64 = f
                .means
                .iter()
                .zip(&m)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
            errors[slot] += err / seeds as f64;
        }
    }
    let ratio = errors[0] / errors[1];
    assert!(
        (2.0..5.0).contains(&ratio),
        "error {} at 10^4, {} at 10^5: ratio {ratio}",
        errors[0],
        errors[1]
    );
    // sum over components of tr(S_k)/(n w_k) bounds E|mu_hat - mu|^2 roughly: ~ 4.5/(1e5*0.2).
    assert!(errors[1] < 0.05, "mean error {} at n = 10^5", errors[1]);
}

/// A component started far from every sample empties; it is reseeded, and the fit ends finite.
#[test]
fn an_empty_component_is_reseeded_not_nan() {
    let x = sample(CovKind::Full, 3000, 5);
    let w = [0.4, 0.4, 0.2];
    let m = [0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, 1e4, 1e4, 1e4, 1e4];
    let c: Vec<f64> = (0..3)
        .flat_map(|_| (0..16).map(|i| if i % 5 == 0 { 1.0 } else { 0.0 }))
        .collect();
    let far = Mixture::new(&w, &m, &c, 3, 4, CovKind::Full).unwrap();
    let opts = GmmFitOptions {
        tol: 1e-8,
        max_iter: 200,
        ..Default::default()
    };
    let f = fit(&x, 3000, 4, 3, &opts, GmmInit::Params(far)).unwrap();
    assert!(f.report.reseeded >= 1, "{:?}", f.report);
    assert!(f
        .weights
        .iter()
        .chain(&f.means)
        .chain(&f.covs)
        .all(|v| v.is_finite()));
    assert!(f.report.mean_log_likelihood.is_finite());
}

/// Restarts keep the best run: with n_init = 4 the result is at least as good as every single
/// run with the same seeds.
#[test]
fn restarts_keep_the_best_run() {
    let x = sample(CovKind::Full, 2000, 8);
    let opts = GmmFitOptions {
        n_init: 4,
        ..Default::default()
    };
    let best = fit(&x, 2000, 4, 3, &opts, GmmInit::KMeansPlusPlus { seed: 40 }).unwrap();
    for r in 0..4 {
        let single = GmmFitOptions {
            n_init: 1,
            ..Default::default()
        };
        let one = fit(
            &x,
            2000,
            4,
            3,
            &single,
            GmmInit::KMeansPlusPlus { seed: 40 + r },
        )
        .unwrap();
        assert!(best.report.log_likelihood >= one.report.log_likelihood);
        if r == best.report.best_restart as u64 {
            assert_eq!(best.report.log_likelihood, one.report.log_likelihood);
        }
    }
}

/// Integer sample weights act as copies: weights in {1, 2, 3} give the fit of the data with each
/// sample repeated that many times (same start, tol 0, 25 iterations), to 1e-10.
#[test]
fn integer_sample_weights_act_as_copies() {
    let n = 1500;
    let x = sample(CovKind::Full, n, 21);
    let weights: Vec<f64> = (0..n).map(|i| (1 + i % 3) as f64).collect();
    let mut repeated = Vec::new();
    for (row, &w) in x.chunks_exact(4).zip(&weights) {
        for _ in 0..w as usize {
            repeated.extend_from_slice(row);
        }
    }
    let n_rep = repeated.len() / 4;
    let (w0, m0, c0) = truth(CovKind::Full);
    let start = Mixture::new(&w0, &m0, &c0, 3, 4, CovKind::Full).unwrap();
    let opts = GmmFitOptions {
        tol: 0.0,
        max_iter: 25,
        ..Default::default()
    };
    let copies = fit(&repeated, n_rep, 4, 3, &opts, GmmInit::Params(start)).unwrap();
    let (mut w, mut m, mut c) = (vec![0.0; 3], vec![0.0; 12], vec![0.0; 48]);
    let mut trace = vec![0.0; 25];
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, 3, 4, CovKind::Full).unwrap()];
    let report = gmm::gmm_fit(
        &x,
        n,
        4,
        3,
        &opts,
        GmmInit::Params(start),
        &mut w,
        &mut m,
        &mut c,
        Some(&weights),
        GmmFitOutputs {
            trace: Some(&mut trace),
            ..Default::default()
        },
        &mut work,
    )
    .unwrap();
    for (ours, theirs) in [
        (&w, &copies.weights),
        (&m, &copies.means),
        (&c, &copies.covs),
    ] {
        assert!(
            max_rel_diff(ours, theirs) < 1e-10,
            "{:e}",
            max_rel_diff(ours, theirs)
        );
    }
    assert!(max_rel_diff(&trace, &copies.trace) < 1e-10);
    assert!(
        (report.log_likelihood - copies.report.log_likelihood).abs()
            < 1e-10 * report.log_likelihood.abs()
    );
    for pair in trace.windows(2) {
        assert!(pair[1] >= pair[0] - 1e-12 * pair[0].abs());
    }
}

/// Starting from given responsibilities is one M-step away from starting at its parameters:
/// the one-hot responsibilities of the true labels give the same fit as the parameters
/// estimated from those labels.
#[test]
fn given_responsibilities_start_from_their_m_step() {
    let n = 2000;
    let (w0, m0, c0) = truth(CovKind::Diag);
    let mix = Mixture::new(&w0, &m0, &c0, 3, 4, CovKind::Diag).unwrap();
    let mut x = vec![0.0; n * 4];
    let mut labels = vec![0usize; n];
    let mut work = vec![0.0; gmm::simulate_work_len(3, 4, CovKind::Diag).unwrap()];
    gmm::simulate(4, &mix, n, &mut x, Some(&mut labels), &mut work).unwrap();
    let mut resp = vec![0.0; n * 3];
    for (i, &l) in labels.iter().enumerate() {
        resp[i * 3 + l] = 1.0;
    }
    let opts = GmmFitOptions {
        kind: CovKind::Diag,
        tol: 0.0,
        max_iter: 1,
        ..Default::default()
    };
    let from_resp = fit(&x, n, 4, 3, &opts, GmmInit::Responsibilities(&resp)).unwrap();
    // The M-step of the one-hot labels by hand: per-label mean and variance.
    let mut by_hand_w = [0.0; 3];
    let mut by_hand_m = [0.0; 12];
    for (i, &l) in labels.iter().enumerate() {
        by_hand_w[l] += 1.0;
        for a in 0..4 {
            by_hand_m[l * 4 + a] += x[i * 4 + a];
        }
    }
    for l in 0..3 {
        for a in 0..4 {
            by_hand_m[l * 4 + a] /= by_hand_w[l];
        }
        by_hand_w[l] /= n as f64;
    }
    let mut by_hand_c = [1e-6; 12];
    for (i, &l) in labels.iter().enumerate() {
        for a in 0..4 {
            let dx = x[i * 4 + a] - by_hand_m[l * 4 + a];
            by_hand_c[l * 4 + a] += dx * dx / (by_hand_w[l] * n as f64);
        }
    }
    let start = Mixture::new(&by_hand_w, &by_hand_m, &by_hand_c, 3, 4, CovKind::Diag).unwrap();
    let from_params = fit(&x, n, 4, 3, &opts, GmmInit::Params(start)).unwrap();
    for (a, b) in [
        (&from_resp.weights, &from_params.weights),
        (&from_resp.means, &from_params.means),
        (&from_resp.covs, &from_params.covs),
    ] {
        assert!(max_rel_diff(a, b) < 1e-10, "{:e}", max_rel_diff(a, b));
    }
}

/// The penalized update, by hand: one M-step from one-hot responsibilities gives
/// S_k = (scatter_k + 2 a_n S_x) / (n_k + 2 a_n) + reg I with a_n = 1/sqrt(n) and S_x the
/// data's covariance.
#[test]
fn penalized_covariance_update_matches_its_formula() {
    let n = 400;
    let x: Vec<f64> = (0..n)
        .flat_map(|i| {
            let t = i as f64;
            let c = if i < 100 { 3.0 } else { -1.0 };
            [c + (0.7 * t).sin(), 0.5 * c + (1.1 * t).cos() * 0.8]
        })
        .collect();
    let mut resp = vec![0.0; n * 2];
    for i in 0..n {
        resp[i * 2 + usize::from(i >= 100)] = 1.0;
    }
    let reg = 1e-6;
    let opts = GmmFitOptions {
        penalized: true,
        tol: 0.0,
        max_iter: 1,
        reg_covar: reg,
        ..Default::default()
    };
    // From responsibilities, the trace's first value is the mean log-likelihood of the first
    // M-step's parameters: compare it with that of the parameters computed by hand below.
    let f = fit(&x, n, 2, 2, &opts, GmmInit::Responsibilities(&resp)).unwrap();
    // By hand.
    let mean_all = [
        x.iter().step_by(2).sum::<f64>() / n as f64,
        x.iter().skip(1).step_by(2).sum::<f64>() / n as f64,
    ];
    let mut s_x = [0.0; 4];
    for row in x.chunks_exact(2) {
        for a in 0..2 {
            for b in 0..2 {
                s_x[a * 2 + b] += (row[a] - mean_all[a]) * (row[b] - mean_all[b]) / n as f64;
            }
        }
    }
    let a_n2 = 2.0 / (n as f64).sqrt();
    let (mut w, mut m, mut c) = ([0.0; 2], [0.0; 4], [0.0; 8]);
    for (k, range) in [(0usize, 0..100usize), (1, 100..n)] {
        let nk = range.len() as f64;
        let mu = [
            range.clone().map(|i| x[2 * i]).sum::<f64>() / nk,
            range.clone().map(|i| x[2 * i + 1]).sum::<f64>() / nk,
        ];
        w[k] = nk / n as f64;
        m[2 * k..2 * k + 2].copy_from_slice(&mu);
        for a in 0..2 {
            for b in 0..2 {
                let scatter: f64 = range
                    .clone()
                    .map(|i| (x[2 * i + a] - mu[a]) * (x[2 * i + b] - mu[b]))
                    .sum();
                c[k * 4 + a * 2 + b] = (scatter + a_n2 * s_x[a * 2 + b]) / (nk + a_n2)
                    + if a == b { reg } else { 0.0 };
            }
        }
    }
    // The trace's first value is the mean log-likelihood of the first M-step's parameters.
    let by_hand = Mixture::new(&w, &m, &c, 2, 2, CovKind::Full).unwrap();
    let mut work = vec![0.0; gmm::density_work_len(2, 2, CovKind::Full).unwrap()];
    let ll = gmm::log_likelihood(&by_hand, &x, n, &mut work).unwrap();
    assert!(
        (f.trace[0] - ll.mean).abs() < 1e-12 * ll.mean.abs(),
        "{} vs {}",
        f.trace[0],
        ll.mean
    );
    // And the penalty is not a no-op: the plain update gives another log-likelihood.
    let plain = GmmFitOptions {
        penalized: false,
        ..opts
    };
    let g = fit(&x, n, 2, 2, &plain, GmmInit::Responsibilities(&resp)).unwrap();
    assert!((g.trace[0] - f.trace[0]).abs() > 1e-6);
}

/// The covariance prior is the pMLE's shrinkage with `prior_samples` pseudo-samples: a fit with
/// prior_samples = 2/sqrt(n) and no penalty is bitwise the penalized fit, and both reports say
/// what was applied.
#[test]
fn covariance_prior_is_the_pmle_shrinkage_with_nu_samples() {
    let n = 300;
    let x = sample(CovKind::Full, n, 31);
    let pmle = GmmFitOptions {
        penalized: true,
        n_init: 2,
        ..Default::default()
    };
    let prior = GmmFitOptions {
        penalized: false,
        prior_samples: 2.0 / (n as f64).sqrt(),
        ..pmle
    };
    let init = GmmInit::KMeansPlusPlus { seed: 4 };
    let a = fit(&x, n, 4, 3, &pmle, init).unwrap();
    let b = fit(&x, n, 4, 3, &prior, init).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.weights), bits(&b.weights));
    assert_eq!(bits(&a.means), bits(&b.means));
    assert_eq!(bits(&a.covs), bits(&b.covs));
    assert_eq!(a.report.prior_samples, 2.0 / (n as f64).sqrt());
    assert_eq!(b.report.prior_samples, a.report.prior_samples);
    let plain = fit(&x, n, 4, 3, &GmmFitOptions::default(), init).unwrap();
    assert_eq!(plain.report.prior_samples, 0.0);
}

/// 39 samples in two clusters and one far outlier, K = 3: plain EM spends a component on the
/// outlier (a variance near reg_covar, the degenerate fit that breaks a distributed round);
/// the round's preset keeps every covariance above nu / (n + nu) S_x (S_k - floor S_x positive
/// semi-definite), as its docs promise.
#[test]
fn round_preset_floors_covariances_at_the_data_scale() {
    let n = 40;
    let mut rng = mixkern::rng::Rng::new(8);
    let mut x = vec![];
    for i in 0..n - 1 {
        let c = if i % 2 == 0 { 0.0 } else { 5.0 };
        x.extend([c + rng.normal(), c + rng.normal()]);
    }
    x.extend([40.0, -30.0]);
    let mean = [0, 1].map(|a| x.iter().skip(a).step_by(2).sum::<f64>() / n as f64);
    let mut s_x = [0.0; 4];
    for row in x.chunks_exact(2) {
        for a in 0..2 {
            for b in 0..2 {
                s_x[a * 2 + b] += (row[a] - mean[a]) * (row[b] - mean[b]) / n as f64;
            }
        }
    }
    let init = GmmInit::KMeansPlusPlus { seed: 2 };
    let plain = fit(&x, n, 2, 3, &GmmFitOptions::default(), init).unwrap();
    let smallest = |f: &Fitted| {
        f.covs
            .chunks_exact(4)
            .map(|s| s[0].min(s[3]))
            .fold(f64::INFINITY, f64::min)
    };
    assert!(smallest(&plain) < 1e-4, "plain EM: {:?}", plain.covs);

    let round = GmmFitOptions {
        kind: CovKind::Full,
        ..GmmFitOptions::for_round()
    };
    let f = fit(&x, n, 2, 3, &round, init).unwrap();
    assert_eq!(f.report.prior_samples, 1.0);
    let floor = 1.0 / (n as f64 + 1.0);
    for s in f.covs.chunks_exact(4) {
        let r: Vec<f64> = (0..4).map(|i| s[i] - floor * s_x[i]).collect();
        let det = r[0] * r[3] - r[1] * r[2];
        assert!(
            r[0] >= 0.0 && r[3] >= 0.0 && det >= -1e-12 * (s[0] * s[3]),
            "{s:?}"
        );
    }
}

/// A negative or non-finite prior or minimum component mass is `BadParameter`.
#[test]
fn bad_prior_values_are_rejected() {
    let x = sample(CovKind::Full, 50, 3);
    for opts in [
        GmmFitOptions {
            prior_samples: -1.0,
            ..Default::default()
        },
        GmmFitOptions {
            prior_samples: f64::NAN,
            ..Default::default()
        },
        GmmFitOptions {
            prior_samples: f64::INFINITY,
            ..Default::default()
        },
        GmmFitOptions {
            min_component_samples: -1.0,
            ..Default::default()
        },
        GmmFitOptions {
            min_component_samples: f64::INFINITY,
            ..Default::default()
        },
    ] {
        let r = fit(&x, 50, 4, 2, &opts, GmmInit::KMeansPlusPlus { seed: 0 });
        assert_eq!(r.err(), Some(Status::BadParameter), "{opts:?}");
    }
}
