//! The mixture of linear regressions against R: `mixtools::regmixEM` (ungrouped) and
//! `flexmix` (`y ~ x | node`, grouped; `y ~ x`, ungrouped) as independent oracles, plus the
//! reference script's own plain-R EM for the noise models no peer has (grouped shared or
//! known noise, ungrouped known noise).
//!
//! Every case of tests/data/mixreg_reference.txt (written by tests/data/mixreg_reference.R,
//! whose header gives the exact correspondence between the peers' iterations and mixkern's)
//! is a start P_0 and a number of iterations T; the file holds P_T (weights, coefficients,
//! variances), the log-likelihood at P_T and at P_0 .. P_T, the posteriors at P_T and the
//! BIC at P_T. The test runs the same T iterations (`MixRegInit::Given`, tol 0, one start)
//! through `mixreg_fit` / `mixreg_fit_grouped` and asserts agreement to 1e-6, each array
//! compared by max|a - b| / max|b|.
//!
//! Like with like: flexmix starts from posteriors and its iteration is M-step then E-step;
//! the file's start for a flexmix case is flexmix's own first M-step (Q_1), so mixkern's T
//! iterations from it are flexmix's iterations 2 .. T + 1, and the expected weights are
//! flexmix's `@prior` after T iterations (flexmix reports, as `@prior`, the weights of the
//! *next* M-step). flexmix's stock gaussian driver inflates sigma^2 by N / (N - p) (not the
//! ML M-step); the file's flexmix cases use its ML variance (see the script).

use mixkern::mlr::{self, ClusteredData, MixRegInit, MixRegOptions, MixRegReport, Noise};

/// Agreement demanded for every compared quantity (relative).
const TOL: f64 = 1e-6;

struct Data {
    name: String,
    n: usize,
    d: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    node_sizes: Vec<usize>,
}

struct Case {
    name: String,
    peer: String,
    data: String,
    grouped: bool,
    k: usize,
    intercept: bool,
    /// "per_component", "shared" or "known"
    noise: String,
    /// the known noise standard deviation (noise "known")
    known_sigma: f64,
    iterations: usize,
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
    fn scalar(&self, key: &str) -> f64 {
        let v = self.get(key);
        assert_eq!(v.len(), 1, "{key} in {}", self.name);
        v[0]
    }
}

fn read_reference() -> (Vec<Data>, Vec<Case>) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/mixreg_reference.txt"
    ))
    .unwrap();
    let (mut data, mut cases) = (Vec::new(), Vec::new());
    let mut current_data: Option<Data> = None;
    let mut current_case: Option<Case> = None;
    let numbers = |words: std::str::SplitWhitespace| -> Vec<f64> {
        words.map(|v| v.parse::<f64>().unwrap()).collect()
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut words = line.split_whitespace();
        let head = words.next().unwrap();
        match head {
            "data" => {
                let w: Vec<&str> = words.collect();
                current_data = Some(Data {
                    name: w[0].to_string(),
                    n: w[1].parse().unwrap(),
                    d: w[2].parse().unwrap(),
                    x: Vec::new(),
                    y: Vec::new(),
                    node_sizes: Vec::with_capacity(w[3].parse().unwrap()),
                });
            }
            "x" if current_data.is_some() => current_data.as_mut().unwrap().x = numbers(words),
            "y" if current_data.is_some() => current_data.as_mut().unwrap().y = numbers(words),
            "node_sizes" => {
                current_data.as_mut().unwrap().node_sizes =
                    words.map(|v| v.parse().unwrap()).collect();
            }
            "enddata" => {
                let dt = current_data.take().unwrap();
                assert_eq!(dt.x.len(), dt.n * dt.d, "x of {}", dt.name);
                assert_eq!(dt.y.len(), dt.n, "y of {}", dt.name);
                assert_eq!(dt.node_sizes.iter().sum::<usize>(), dt.n);
                data.push(dt);
            }
            "case" => {
                let w: Vec<&str> = words.collect();
                current_case = Some(Case {
                    name: w[0].to_string(),
                    peer: w[1].to_string(),
                    data: w[2].to_string(),
                    grouped: w[3] == "grouped",
                    k: w[4].parse().unwrap(),
                    intercept: w[5] == "1",
                    noise: w[6].to_string(),
                    known_sigma: w[7].parse().unwrap(),
                    iterations: w[8].parse().unwrap(),
                    arrays: Vec::new(),
                });
            }
            "end" => cases.push(current_case.take().unwrap()),
            key => {
                let values = numbers(words);
                current_case
                    .as_mut()
                    .unwrap_or_else(|| panic!("{key} outside a case"))
                    .arrays
                    .push((key.to_string(), values));
            }
        }
    }
    (data, cases)
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
    coefs: Vec<f64>,
    sigma2: Vec<f64>,
    posteriors: Vec<f64>,
    trace: Vec<f64>,
    report: MixRegReport,
}

/// T iterations of mixkern's EM from the case's start, on its data.
fn fit(case: &Case, data: &Data) -> Fitted {
    let (k, d, t) = (case.k, data.d, case.iterations);
    let p = d + usize::from(case.intercept);
    let opts = MixRegOptions {
        k,
        intercept: case.intercept,
        noise: match case.noise.as_str() {
            "per_component" => Noise::PerComponent,
            "shared" => Noise::Shared,
            "known" => Noise::Known(case.known_sigma),
            other => panic!("noise {other}"),
        },
        symmetric: false,
        tol: 0.0,
        max_iter: t,
        n_init: 1,
        seed: 0,
    };
    let init = MixRegInit::Given {
        weights: case.get("init_weights"),
        coefs: case.get("init_coefs"),
        sigma2: case.get("init_sigma2"),
    };
    let rows = if case.grouped {
        data.node_sizes.len()
    } else {
        data.n
    };
    let (mut weights, mut coefs, mut sigma2) = (vec![0.0; k], vec![0.0; k * p], vec![0.0; k]);
    let mut posteriors = vec![f64::NAN; rows * k];
    let mut trace = vec![f64::NAN; t];
    let report = if case.grouped {
        let m = data.node_sizes.len();
        let view = ClusteredData::new(&data.x, &data.y, d, &data.node_sizes).unwrap();
        let mut stats = vec![f64::NAN; m * mlr::node_stats_len(d, case.intercept).unwrap()];
        mlr::node_sufficient_statistics(&view, case.intercept, &mut stats).unwrap();
        let mut work =
            vec![f64::NAN; mlr::mixreg_fit_grouped_work_len(m, k, d, case.intercept).unwrap()];
        mlr::mixreg_fit_grouped(
            &stats,
            m,
            d,
            &opts,
            init,
            &mut weights,
            &mut coefs,
            &mut sigma2,
            Some(&mut posteriors),
            Some(&mut trace),
            &mut work,
        )
    } else {
        let mut work =
            vec![f64::NAN; mlr::mixreg_fit_work_len(data.n, k, d, case.intercept).unwrap()];
        mlr::mixreg_fit(
            &data.x,
            &data.y,
            data.n,
            d,
            &opts,
            init,
            &mut weights,
            &mut coefs,
            &mut sigma2,
            Some(&mut posteriors),
            Some(&mut trace),
            &mut work,
        )
    }
    .unwrap_or_else(|e| panic!("{}: {e:?}", case.name));
    Fitted {
        weights,
        coefs,
        sigma2,
        posteriors,
        trace,
        report,
    }
}

#[test]
fn reference_file_is_complete() {
    let (data, cases) = read_reference();
    assert_eq!(data.len(), 2);
    // Every peer and both data layouts are represented.
    for peer in ["mixtools", "flexmix", "plainR"] {
        assert!(cases.iter().any(|c| c.peer == peer), "{peer}");
    }
    assert!(cases.iter().any(|c| c.peer == "flexmix" && c.grouped));
    assert!(cases.iter().any(|c| c.peer == "flexmix" && !c.grouped));
    for c in &cases {
        let dt = data.iter().find(|dt| dt.name == c.data).unwrap();
        let p = dt.d + usize::from(c.intercept);
        assert_eq!(c.get("init_coefs").len(), c.k * p, "{}", c.name);
        assert_eq!(c.get("coefs").len(), c.k * p, "{}", c.name);
        assert_eq!(c.get("loglik_trace").len(), c.iterations + 1, "{}", c.name);
    }
}

#[test]
fn agrees_with_mixtools_and_flexmix() {
    let (data, cases) = read_reference();
    // max relative difference per quantity over all cases, for the summary line
    let mut worst = [0.0f64; 7];
    const WHAT: [&str; 7] = [
        "weights",
        "coefs",
        "sigma2",
        "loglik",
        "trace",
        "posteriors",
        "bic",
    ];
    for case in &cases {
        let dt = data.iter().find(|dt| dt.name == case.data).unwrap();
        let f = fit(case, dt);
        let t = case.iterations;
        let ll_ref = case.get("loglik_trace");
        assert_eq!(ll_ref[t], case.scalar("loglik"));
        assert_eq!(ll_ref[t - 1], case.scalar("loglik_prev"));
        // The trace's entry i: the log-likelihood of iteration i, computed by its E-step
        // at P_i (before that iteration's M-step), i = 0 .. T - 1.
        let trace_ref = &ll_ref[..t];
        let diffs = [
            max_rel_diff(&f.weights, case.get("weights")),
            max_rel_diff(&f.coefs, case.get("coefs")),
            max_rel_diff(&f.sigma2, case.get("sigma2")),
            max_rel_diff(&[f.report.log_likelihood], &[case.scalar("loglik")]),
            max_rel_diff(&f.trace, trace_ref),
            max_rel_diff(&f.posteriors, case.get("posteriors")),
            max_rel_diff(&[f.report.bic], &[case.scalar("bic")]),
        ];
        eprintln!(
            "{:<30} {:>3} it: {}",
            case.name,
            f.report.iterations,
            WHAT.iter()
                .zip(&diffs)
                .map(|(w, e)| format!("{w} {e:.1e}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for ((what, e), w) in WHAT.iter().zip(&diffs).zip(worst.iter_mut()) {
            assert!(
                *e < TOL,
                "{} ({}): {what} differs by {e:.3e} (relative)\nmixkern: {:?}\nR: {:?}",
                case.name,
                case.peer,
                match *what {
                    "weights" => f.weights.clone(),
                    "coefs" => f.coefs.clone(),
                    "sigma2" => f.sigma2.clone(),
                    "loglik" => vec![f.report.log_likelihood],
                    "trace" => f.trace.clone(),
                    "bic" => vec![f.report.bic],
                    _ => f.posteriors[..case.k.min(f.posteriors.len())].to_vec(),
                },
                match *what {
                    "loglik" => vec![case.scalar("loglik")],
                    "trace" => trace_ref.to_vec(),
                    "posteriors" => case.get(what)[..case.k].to_vec(),
                    other => case.get(other).to_vec(),
                },
            );
            *w = w.max(*e);
        }
        assert_eq!(f.report.iterations, t, "{}", case.name);
        assert!(!f.report.converged, "{}", case.name);
        assert_eq!(f.report.best_restart, 0, "{}", case.name);
        assert_eq!(f.report.emptied, 0, "{}", case.name);
        assert_eq!(f.report.sigma_floored, 0, "{}", case.name);
    }
    eprintln!(
        "worst over {} cases: {}",
        cases.len(),
        WHAT.iter()
            .zip(&worst)
            .map(|(w, e)| format!("{w} {e:.1e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
