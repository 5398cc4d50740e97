//! General K-component mixtures of linear regressions (`mlr::mixreg_fit_grouped`,
//! `mlr::mixreg_fit`): sufficient statistics, agreement with Algorithm 2 in the tied model,
//! EM monotonicity, label permutation, recovery at the sqrt(d K / N) rate, grouped = ungrouped
//! for single-sample nodes, degenerate cases and bad input.

use mixkern::mlr::{self, ClusteredData, Metric, MixRegInit, MixRegOptions, MixRegReport, Noise};
use mixkern::rng::Rng;
use mixkern::Status;

/// Clustered data from a K-component model: node label uniform on 0..K, x ~ N(0, I_d),
/// y = (1, x)^T theta_k (or x^T theta_k) + sigma eps.
struct Data {
    d: usize,
    sizes: Vec<usize>,
    x: Vec<f64>,
    y: Vec<f64>,
    labels: Vec<usize>,
}

fn simulate(seed: u64, sizes: &[usize], d: usize, thetas: &[Vec<f64>], sigma: f64) -> Data {
    let mut rng = Rng::new(seed);
    let k = thetas.len();
    let p = thetas[0].len();
    let intercept = p == d + 1;
    let (mut x, mut y, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for &n in sizes {
        let z = rng.below(k as u64) as usize;
        labels.push(z);
        for _ in 0..n {
            let row: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            let mut mean = if intercept { thetas[z][0] } else { 0.0 };
            for a in 0..d {
                mean += row[a] * thetas[z][a + usize::from(intercept)];
            }
            x.extend_from_slice(&row);
            y.push(mean + sigma * rng.normal());
        }
    }
    Data {
        d,
        sizes: sizes.to_vec(),
        x,
        y,
        labels,
    }
}

fn stats(data: &Data, intercept: bool) -> Vec<f64> {
    let len = mlr::node_stats_len(data.d, intercept).unwrap();
    let mut out = vec![f64::NAN; data.sizes.len() * len];
    let view = ClusteredData::new(&data.x, &data.y, data.d, &data.sizes).unwrap();
    mlr::node_sufficient_statistics(&view, intercept, &mut out).unwrap();
    out
}

/// A fit's results.
#[derive(Debug)]
struct Fit {
    weights: Vec<f64>,
    coefs: Vec<f64>,
    sigma2: Vec<f64>,
    post: Vec<f64>,
    trace: Vec<f64>,
    report: MixRegReport,
}

fn fit_grouped(
    st: &[f64],
    m: usize,
    d: usize,
    opts: &MixRegOptions,
    init: MixRegInit,
) -> Result<Fit, Status> {
    let (k, p) = (opts.k, d + usize::from(opts.intercept));
    let mut f = Fit {
        weights: vec![f64::NAN; k],
        coefs: vec![f64::NAN; k * p],
        sigma2: vec![f64::NAN; k],
        post: vec![f64::NAN; m * k],
        trace: vec![f64::NAN; opts.max_iter],
        report: empty_report(),
    };
    let mut work = vec![f64::NAN; mlr::mixreg_fit_grouped_work_len(m, k, d, opts.intercept)?];
    let trace = (opts.n_init == 1).then_some(&mut f.trace[..]);
    f.report = mlr::mixreg_fit_grouped(
        st,
        m,
        d,
        opts,
        init,
        &mut f.weights,
        &mut f.coefs,
        &mut f.sigma2,
        Some(&mut f.post),
        trace,
        &mut work,
    )?;
    f.trace.truncate(f.report.iterations);
    Ok(f)
}

fn fit_ungrouped(
    x: &[f64],
    y: &[f64],
    d: usize,
    opts: &MixRegOptions,
    init: MixRegInit,
) -> Result<Fit, Status> {
    let n = y.len();
    let (k, p) = (opts.k, d + usize::from(opts.intercept));
    let mut f = Fit {
        weights: vec![f64::NAN; k],
        coefs: vec![f64::NAN; k * p],
        sigma2: vec![f64::NAN; k],
        post: vec![f64::NAN; n * k],
        trace: vec![f64::NAN; opts.max_iter],
        report: empty_report(),
    };
    let mut work = vec![f64::NAN; mlr::mixreg_fit_work_len(n, k, d, opts.intercept)?];
    let trace = (opts.n_init == 1).then_some(&mut f.trace[..]);
    f.report = mlr::mixreg_fit(
        x,
        y,
        n,
        d,
        opts,
        init,
        &mut f.weights,
        &mut f.coefs,
        &mut f.sigma2,
        Some(&mut f.post),
        trace,
        &mut work,
    )?;
    f.trace.truncate(f.report.iterations);
    Ok(f)
}

fn empty_report() -> MixRegReport {
    MixRegReport {
        log_likelihood: f64::NAN,
        iterations: 0,
        converged: false,
        best_restart: 0,
        bic: f64::NAN,
        emptied: 0,
        sigma_floored: 0,
    }
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = a.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / scale)
        .fold(0.0, f64::max)
}

/// K well-separated coefficient vectors of length p: 4 e_k (+ an intercept of k when p > d).
fn separated_thetas(k: usize, d: usize, intercept: bool) -> Vec<Vec<f64>> {
    (0..k)
        .map(|c| {
            let mut t = vec![0.0; d];
            t[c % d] = if c < d { 4.0 } else { -4.0 };
            if intercept {
                t.insert(0, c as f64);
            }
            t
        })
        .collect()
}

#[test]
fn node_statistics_match_direct_sums() {
    for &d in &[1usize, 3, 17] {
        let thetas = vec![vec![0.5; d], vec![-0.5; d]];
        let data = simulate(3 + d as u64, &[5, 1, 13, 7, 4], d, &thetas, 0.7);
        for intercept in [false, true] {
            let st = stats(&data, intercept);
            let p = d + usize::from(intercept);
            let len = 2 + p + p * p;
            assert_eq!(len, mlr::node_stats_len(d, intercept).unwrap());
            let mut start = 0;
            for (j, &n) in data.sizes.iter().enumerate() {
                let node = &st[j * len..(j + 1) * len];
                let w = |i: usize, a: usize| -> f64 {
                    if intercept && a == 0 {
                        1.0
                    } else {
                        data.x[i * d + a - usize::from(intercept)]
                    }
                };
                let rows = start..start + n;
                let c: f64 = rows.clone().map(|i| data.y[i] * data.y[i]).sum();
                let close = |got: f64, want: f64, scale: f64| {
                    assert!(
                        (got - want).abs() <= 1e-12 * scale.max(1.0),
                        "d={d} intercept={intercept} node {j}: {got} vs {want}"
                    )
                };
                close(node[0], n as f64, n as f64);
                close(node[1], c, c);
                for a in 0..p {
                    let b: f64 = rows.clone().map(|i| data.y[i] * w(i, a)).sum();
                    let babs: f64 = rows.clone().map(|i| (data.y[i] * w(i, a)).abs()).sum();
                    close(node[2 + a], b, babs);
                    for bb in 0..p {
                        let g: f64 = rows.clone().map(|i| w(i, a) * w(i, bb)).sum();
                        let gabs: f64 = rows.clone().map(|i| (w(i, a) * w(i, bb)).abs()).sum();
                        close(node[2 + p + a * p + bb], g, gabs);
                    }
                }
                start += n;
            }
        }
    }
}

#[test]
fn node_statistics_reject_bad_data_untouched() {
    let data = simulate(1, &[4, 4], 2, &[vec![1.0, 1.0]], 1.0);
    let mut x = data.x.clone();
    x[3] = f64::NAN;
    let view = ClusteredData::new(&x, &data.y, 2, &data.sizes).unwrap();
    let mut out = vec![7.0; 2 * mlr::node_stats_len(2, true).unwrap()];
    assert_eq!(
        mlr::node_sufficient_statistics(&view, true, &mut out),
        Err(Status::NonFinite)
    );
    x[3] = 1e160; // squares overflow: beyond the scale double precision can fit
    let view = ClusteredData::new(&x, &data.y, 2, &data.sizes).unwrap();
    assert_eq!(
        mlr::node_sufficient_statistics(&view, true, &mut out),
        Err(Status::DataScale)
    );
    x[3] = 1e140; // within the scale, but n_j |x|^2 can still overflow the sums: not here
    let view = ClusteredData::new(&x, &data.y, 2, &data.sizes).unwrap();
    assert_eq!(
        mlr::node_sufficient_statistics(&view, true, &mut out),
        Ok(())
    );
    out.fill(7.0);
    let view = ClusteredData::new(&data.x, &data.y, 2, &data.sizes).unwrap();
    let short = out.len() - 1;
    assert_eq!(
        mlr::node_sufficient_statistics(&view, true, &mut out[..short]),
        Err(Status::BufferTooShort)
    );
    assert!(out.iter().all(|&v| v == 7.0));
    assert_eq!(mlr::node_stats_len(0, false), Err(Status::ZeroSize));
}

/// The tied model with Known(sigma) is Algorithm 2: step by step (max_iter = 1 repeatedly) and
/// as one run of several iterations.
#[test]
fn symmetric_known_sigma_equals_alg2_steps() {
    let (m, n, d, sigma) = (300usize, 8usize, 5usize, 1.0);
    let theta_star: Vec<f64> = (0..d)
        .map(|a| if a % 2 == 0 { 1.5 } else { -1.0 })
        .collect();
    let neg: Vec<f64> = theta_star.iter().map(|v| -v).collect();
    let data = simulate(11, &vec![n; m], d, &[theta_star.clone(), neg], sigma);
    let st = stats(&data, false);
    let view = ClusteredData::new(&data.x, &data.y, d, &data.sizes).unwrap();
    let (mut sums, mut chol) = (vec![0.0; m * d], vec![0.0; d * d]);
    let mut w = vec![0.0; mlr::node_statistics_work_len(m, d).unwrap()];
    mlr::node_statistics(&view, &mut sums, &mut chol, &mut w).unwrap();

    let opts = MixRegOptions {
        k: 2,
        noise: Noise::Known(sigma),
        symmetric: true,
        tol: 0.0,
        max_iter: 1,
        ..MixRegOptions::default()
    };
    let mut theta: Vec<f64> = vec![0.3, 0.2, 0.1, -0.4, 0.5];
    let start = theta.clone();
    let mut alg2 = theta.clone();
    for step in 0..6 {
        let mut coefs = theta.clone();
        coefs.extend(theta.iter().map(|v| -v));
        let init = MixRegInit::Given {
            weights: &[0.5, 0.5],
            coefs: &coefs,
            sigma2: &[sigma * sigma; 2],
        };
        let f = fit_grouped(&st, m, d, &opts, init).unwrap();
        mlr::alg2_step(
            &sums,
            m,
            d,
            m * n,
            Metric::SigmaHat(&chol),
            sigma,
            &mut alg2,
            &mut [0.0; 5],
        )
        .unwrap();
        let rel = max_rel_diff(&f.coefs[..d], &alg2);
        assert!(rel <= 1e-12, "step {step}: rel diff {rel:e}");
        for a in 0..d {
            assert_eq!(f.coefs[d + a], -f.coefs[a]);
        }
        assert_eq!(f.weights, vec![0.5, 0.5]);
        assert_eq!(f.sigma2, vec![1.0, 1.0]);
        // Node posteriors: P(label 1 | node j) = sigmoid(2 <s_j, theta> / sigma^2) at the
        // returned theta.
        let mut pp = vec![0.0; m];
        mlr::node_posteriors(&sums, m, d, &f.coefs[..d], sigma, &mut pp).unwrap();
        for (j, &pj) in pp.iter().enumerate() {
            assert!((f.post[2 * j] - pj).abs() <= 1e-12);
        }
        theta = f.coefs[..d].to_vec();
    }
    // The same path in one run of 6 iterations.
    let mut coefs = start.clone();
    coefs.extend(start.iter().map(|v| -v));
    let init = MixRegInit::Given {
        weights: &[0.5, 0.5],
        coefs: &coefs,
        sigma2: &[1.0; 2],
    };
    let f = fit_grouped(
        &st,
        m,
        d,
        &MixRegOptions {
            max_iter: 6,
            ..opts
        },
        init,
    )
    .unwrap();
    assert_eq!(f.report.iterations, 6);
    assert!(max_rel_diff(&f.coefs[..d], &alg2) <= 1e-12);
}

/// EM never decreases the log-likelihood: grouped and ungrouped, each noise model, with and
/// without intercept, from random starts; the reported log-likelihood (at the returned
/// parameters) is at least the last trace value.
#[test]
fn log_likelihood_trace_never_decreases() {
    let d = 3;
    for intercept in [false, true] {
        let thetas = separated_thetas(3, d, intercept);
        let data = simulate(5, &vec![6; 150], d, &thetas, 1.0);
        let st = stats(&data, intercept);
        for noise in [Noise::PerComponent, Noise::Shared, Noise::Known(1.3)] {
            let opts = MixRegOptions {
                k: 3,
                intercept,
                noise,
                tol: 0.0,
                max_iter: 40,
                seed: 9,
                ..MixRegOptions::default()
            };
            let grouped = fit_grouped(&st, 150, d, &opts, MixRegInit::Random).unwrap();
            let ungrouped = fit_ungrouped(&data.x, &data.y, d, &opts, MixRegInit::Random).unwrap();
            for (name, f) in [("grouped", &grouped), ("ungrouped", &ungrouped)] {
                assert_eq!(f.report.emptied, 0, "{name} {noise:?} {intercept}");
                assert_eq!(f.trace.len(), 40);
                let mut all = f.trace.clone();
                all.push(f.report.log_likelihood);
                for t in 1..all.len() {
                    let slack = 1e-10 * all[t - 1].abs();
                    assert!(
                        all[t] >= all[t - 1] - slack,
                        "{name} {noise:?} intercept={intercept}: ll[{t}] = {} < {}",
                        all[t],
                        all[t - 1]
                    );
                }
                assert!(all[all.len() - 1] > all[0], "{name}: no progress");
                let sw: f64 = f.weights.iter().sum();
                assert!((sw - 1.0).abs() < 1e-12);
                if let Noise::Known(s) = noise {
                    assert!(f.sigma2.iter().all(|&v| v == s * s));
                }
                if noise == Noise::Shared {
                    assert!(f.sigma2.iter().all(|&v| v == f.sigma2[0]));
                }
            }
        }
    }
}

/// Permuting the components of a Given start permutes the result (weights, coefficients,
/// variances, posteriors) and leaves the log-likelihood unchanged.
#[test]
fn label_permutation_invariance() {
    let d = 3;
    let thetas = separated_thetas(3, d, true);
    let data = simulate(21, &vec![5; 120], d, &thetas, 1.0);
    let st = stats(&data, true);
    let p = d + 1;
    let w0 = [0.2, 0.5, 0.3];
    let c0: Vec<f64> = (0..3 * p)
        .map(|i| ((i * 7) % 5) as f64 * 0.6 - 1.0)
        .collect();
    let s0 = [1.5, 0.8, 2.0];
    let perm = [2usize, 0, 1];
    let wp: Vec<f64> = perm.iter().map(|&c| w0[c]).collect();
    let sp: Vec<f64> = perm.iter().map(|&c| s0[c]).collect();
    let cp: Vec<f64> = perm
        .iter()
        .flat_map(|&c| c0[c * p..(c + 1) * p].to_vec())
        .collect();
    for noise in [Noise::PerComponent, Noise::Shared] {
        let opts = MixRegOptions {
            k: 3,
            intercept: true,
            noise,
            tol: 0.0,
            max_iter: 15,
            ..MixRegOptions::default()
        };
        let g0 = MixRegInit::Given {
            weights: &w0,
            coefs: &c0,
            sigma2: &s0,
        };
        let gp = MixRegInit::Given {
            weights: &wp,
            coefs: &cp,
            sigma2: &sp,
        };
        let pairs = [
            (
                fit_grouped(&st, 120, d, &opts, g0).unwrap(),
                fit_grouped(&st, 120, d, &opts, gp).unwrap(),
            ),
            (
                fit_ungrouped(&data.x, &data.y, d, &opts, g0).unwrap(),
                fit_ungrouped(&data.x, &data.y, d, &opts, gp).unwrap(),
            ),
        ];
        for (a, b) in &pairs {
            for (i, &c) in perm.iter().enumerate() {
                assert!((b.weights[i] - a.weights[c]).abs() <= 1e-12);
                assert!((b.sigma2[i] - a.sigma2[c]).abs() <= 1e-12 * a.sigma2[c]);
                assert!(
                    max_rel_diff(&b.coefs[i * p..(i + 1) * p], &a.coefs[c * p..(c + 1) * p])
                        <= 1e-12
                );
                let units = a.post.len() / 3;
                for j in 0..units {
                    assert!((b.post[j * 3 + i] - a.post[j * 3 + c]).abs() <= 1e-12);
                }
            }
            let ll = a.report.log_likelihood;
            assert!((b.report.log_likelihood - ll).abs() <= 1e-12 * ll.abs());
        }
    }
}

/// The smallest over label matchings of max_k |theta_hat_k - theta*_k|.
fn matched_error(coefs: &[f64], thetas: &[Vec<f64>]) -> f64 {
    let k = thetas.len();
    let p = thetas[0].len();
    let mut perm: Vec<usize> = (0..k).collect();
    let mut best = f64::INFINITY;
    // Heap's algorithm over all K! matchings.
    fn heap(n: usize, perm: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if n == 1 {
            f(perm);
            return;
        }
        for i in 0..n {
            heap(n - 1, perm, f);
            let j = if n % 2 == 0 { i } else { 0 };
            perm.swap(j, n - 1);
        }
    }
    heap(k, &mut perm, &mut |pm: &[usize]| {
        let e = (0..k)
            .map(|c| {
                let est = &coefs[pm[c] * p..(pm[c] + 1) * p];
                est.iter()
                    .zip(&thetas[c])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(0.0, f64::max);
        best = best.min(e);
    });
    best
}

/// Recovery without knowing the truth (node least-squares start only): K = 3, 4, 5 components
/// in d = 5, n = 20 samples per node, N = 800 K .. 12800 K; max_k |theta_k - theta*_k| (best
/// matching) is at most 3 sigma sqrt(p K / N) (each theta_k is least squares on about N / K
/// samples, so |error_k|^2 ~ sigma^2 chi^2_p K / N; the bound is chi^2_p > 9 p, probability
/// ~1e-8 per component; observed ratios stay below 2.1 over 2700 seeded fits), and the mean
/// error falls with N at a log-log slope near -1/2 (observed -0.39 .. -0.60).
#[test]
fn recovery_at_the_parametric_rate() {
    let (d, n, sigma) = (5usize, 20usize, 1.0);
    let mut slopes = Vec::new();
    for (k, intercept) in [(3usize, false), (4, true), (5, false)] {
        let p = d + usize::from(intercept);
        let thetas = separated_thetas(k, d, intercept);
        let mut log_n = Vec::new();
        let mut log_err = Vec::new();
        for m in [40 * k, 160 * k, 640 * k] {
            let mut mean_err = 0.0;
            let reps = 3;
            for rep in 0..reps {
                let data = simulate(1000 * m as u64 + rep, &vec![n; m], d, &thetas, sigma);
                let st = stats(&data, intercept);
                let opts = MixRegOptions {
                    k,
                    intercept,
                    seed: rep,
                    tol: 1e-10,
                    max_iter: 100,
                    ..MixRegOptions::default()
                };
                let f = fit_grouped(&st, m, d, &opts, MixRegInit::NodeLeastSquares).unwrap();
                let err = matched_error(&f.coefs, &thetas);
                let big_n = (m * n) as f64;
                let bound = 3.0 * sigma * ((p * k) as f64 / big_n).sqrt();
                assert!(
                    err <= bound,
                    "K={k} m={m} rep={rep}: error {err:.4} > bound {bound:.4}"
                );
                assert!(f.report.converged && f.report.emptied == 0);
                // Node labels are recovered (n = 20 samples per node, well separated).
                let wrong = (0..m)
                    .filter(|&j| {
                        let best = (0..k)
                            .max_by(|&a, &b| f.post[j * k + a].total_cmp(&f.post[j * k + b]))
                            .unwrap();
                        let est = &f.coefs[best * p..(best + 1) * p];
                        let truth = &thetas[data.labels[j]];
                        est.iter()
                            .zip(truth)
                            .map(|(a, b)| (a - b).abs())
                            .fold(0.0, f64::max)
                            > 0.5
                    })
                    .count();
                assert!(wrong <= m / 100, "K={k} m={m}: {wrong} nodes mislabelled");
                mean_err += err / reps as f64;
            }
            log_n.push(((m * n) as f64).ln());
            log_err.push(mean_err.ln());
        }
        // Least-squares slope of log error on log N.
        let (mx, my) = (
            log_n.iter().sum::<f64>() / 3.0,
            log_err.iter().sum::<f64>() / 3.0,
        );
        let sxy: f64 = log_n
            .iter()
            .zip(&log_err)
            .map(|(a, b)| (a - mx) * (b - my))
            .sum();
        let sxx: f64 = log_n.iter().map(|a| (a - mx) * (a - mx)).sum();
        slopes.push(sxy / sxx);
    }
    for (i, s) in slopes.iter().enumerate() {
        assert!((-0.8..=-0.25).contains(s), "case {i}: slope {s:.3}");
    }
    let mean = slopes.iter().sum::<f64>() / slopes.len() as f64;
    assert!((-0.7..=-0.35).contains(&mean), "mean slope {mean:.3}");
}

/// Ungrouped EM is grouped EM on single-sample nodes: same iterates, posteriors and
/// log-likelihoods (1e-10), from a Given start and from the same Random draws.
#[test]
fn ungrouped_equals_grouped_on_single_sample_nodes() {
    let d = 3;
    let n = 400;
    for intercept in [false, true] {
        let thetas = separated_thetas(3, d, intercept);
        let data = simulate(8, &vec![1; n], d, &thetas, 0.8);
        let st = stats(&data, intercept);
        let p = d + usize::from(intercept);
        let coefs: Vec<f64> = (0..3 * p)
            .map(|i| ((i * 5) % 7) as f64 * 0.5 - 1.5)
            .collect();
        for noise in [Noise::PerComponent, Noise::Shared, Noise::Known(0.9)] {
            let opts = MixRegOptions {
                k: 3,
                intercept,
                noise,
                tol: 0.0,
                max_iter: 25,
                seed: 4,
                ..MixRegOptions::default()
            };
            let given = MixRegInit::Given {
                weights: &[0.3, 0.3, 0.4],
                coefs: &coefs,
                sigma2: &[1.0, 2.0, 0.5],
            };
            for init in [given, MixRegInit::Random] {
                let g = fit_grouped(&st, n, d, &opts, init).unwrap();
                let u = fit_ungrouped(&data.x, &data.y, d, &opts, init).unwrap();
                let what = format!("intercept={intercept} {noise:?} {init:?}");
                assert!(max_rel_diff(&g.coefs, &u.coefs) <= 1e-10, "{what}");
                assert!(max_rel_diff(&g.weights, &u.weights) <= 1e-10, "{what}");
                assert!(max_rel_diff(&g.sigma2, &u.sigma2) <= 1e-10, "{what}");
                assert!(max_rel_diff(&g.post, &u.post) <= 1e-10, "{what}");
                assert!(max_rel_diff(&g.trace, &u.trace) <= 1e-10, "{what}");
                let (a, b) = (g.report.log_likelihood, u.report.log_likelihood);
                assert!((a - b).abs() <= 1e-10 * a.abs(), "{what}");
                assert!((g.report.bic - u.report.bic).abs() <= 1e-10 * a.abs());
            }
        }
    }
}

/// Restarts keep the best final log-likelihood, and run 0 of several is the single run.
#[test]
fn restarts_keep_the_best_run() {
    let d = 2;
    let thetas = separated_thetas(3, d, false);
    let data = simulate(31, &vec![1; 600], d, &thetas, 0.5);
    let base = MixRegOptions {
        k: 3,
        tol: 1e-10,
        max_iter: 300,
        seed: 17,
        ..MixRegOptions::default()
    };
    let single = fit_ungrouped(&data.x, &data.y, d, &base, MixRegInit::Random).unwrap();
    let many = fit_ungrouped(
        &data.x,
        &data.y,
        d,
        &MixRegOptions { n_init: 6, ..base },
        MixRegInit::Random,
    )
    .unwrap();
    assert!(many.report.log_likelihood >= single.report.log_likelihood);
    if many.report.best_restart == 0 {
        assert_eq!(many.coefs, single.coefs);
    }
    // Each run r >= 1 is a Random run with seed + r.
    let r = many.report.best_restart as u64;
    let alone = fit_ungrouped(
        &data.x,
        &data.y,
        d,
        &MixRegOptions {
            seed: 17 + r,
            ..base
        },
        MixRegInit::Random,
    )
    .unwrap();
    assert_eq!(alone.coefs, many.coefs);
    assert_eq!(alone.report.log_likelihood, many.report.log_likelihood);
}

/// Degenerate cases: an emptied component (zero weight, parameters kept, counted), a singular
/// weighted Gram (NotSpd), and an exact fit (sigma^2 at the floor, counted, never NaN).
#[test]
fn degenerate_cases_have_documented_results() {
    let d = 2;
    let thetas = separated_thetas(2, d, false);
    let data = simulate(41, &vec![1; 300], d, &thetas, 0.5);
    let opts = MixRegOptions {
        k: 3,
        tol: 0.0,
        max_iter: 20,
        ..MixRegOptions::default()
    };
    // A component placed far from every sample gets no responsibility: emptied.
    let coefs = [4.0, 0.0, 0.0, 4.0, 500.0, -500.0];
    let init = MixRegInit::Given {
        weights: &[0.4, 0.4, 0.2],
        coefs: &coefs,
        sigma2: &[1.0, 1.0, 0.01],
    };
    for f in [
        fit_ungrouped(&data.x, &data.y, d, &opts, init).unwrap(),
        fit_grouped(&stats(&data, false), 300, d, &opts, init).unwrap(),
    ] {
        assert_eq!(f.report.emptied, 1);
        assert_eq!(f.weights[2], 0.0);
        assert_eq!(&f.coefs[4..6], &[500.0, -500.0]);
        assert_eq!(f.sigma2[2], 0.01);
        assert!((f.weights[0] + f.weights[1] - 1.0).abs() < 1e-12);
        assert!(f.post.iter().all(|v| v.is_finite()));
        assert!(f.report.log_likelihood.is_finite() && f.report.bic.is_finite());
        assert!((0..300).all(|i| f.post[3 * i + 2] == 0.0));
    }
    // A Given zero weight stays zero.
    let init = MixRegInit::Given {
        weights: &[0.5, 0.5, 0.0],
        coefs: &[4.0, 0.0, 0.0, 4.0, 1.0, 1.0],
        sigma2: &[1.0; 3],
    };
    let f = fit_ungrouped(&data.x, &data.y, d, &opts, init).unwrap();
    assert_eq!((f.report.emptied, f.weights[2]), (1, 0.0));

    // Collinear covariates: x_2 = 2 x_1.
    let mut x = data.x.clone();
    for i in 0..300 {
        x[2 * i + 1] = 2.0 * x[2 * i];
    }
    let opts2 = MixRegOptions { k: 2, ..opts };
    assert_eq!(
        fit_ungrouped(&x, &data.y, d, &opts2, MixRegInit::Random).unwrap_err(),
        Status::NotSpd
    );
    let collinear = Data {
        d,
        sizes: vec![10; 30],
        x: x.clone(),
        y: data.y.clone(),
        labels: vec![],
    };
    for init in [MixRegInit::Random, MixRegInit::NodeLeastSquares] {
        let err = fit_grouped(&stats(&collinear, false), 30, d, &opts2, init).unwrap_err();
        // No node has its own least squares (BadParameter) or the pooled Gram is singular.
        assert!(
            matches!(err, Status::NotSpd | Status::BadParameter),
            "{err:?}"
        );
    }
    // Too few samples for p coefficients.
    assert_eq!(
        fit_ungrouped(
            &data.x[..2],
            &data.y[..1],
            d,
            &MixRegOptions { k: 1, ..opts },
            MixRegInit::Random
        )
        .unwrap_err(),
        Status::NotSpd
    );

    // Exact fit: noiseless data from known node labels; start at the truth.
    let exact = simulate(43, &vec![6; 40], d, &thetas, 0.0);
    let st = stats(&exact, false);
    let flat: Vec<f64> = thetas.concat();
    for noise in [Noise::PerComponent, Noise::Shared] {
        let init = MixRegInit::Given {
            weights: &[0.5, 0.5],
            coefs: &flat,
            sigma2: &[1.0, 1.0],
        };
        let o = MixRegOptions {
            k: 2,
            noise,
            tol: 0.0,
            max_iter: 10,
            ..MixRegOptions::default()
        };
        let f = fit_grouped(&st, 40, d, &o, init).unwrap();
        assert_eq!(f.report.sigma_floored, 2, "{noise:?}");
        assert!(f.sigma2.iter().all(|&v| v > 0.0 && v < 1e-10));
        assert!(f.report.log_likelihood.is_finite());
        assert!(f.post.iter().all(|v| v.is_finite()));
        assert!(max_rel_diff(&f.coefs, &flat) < 1e-10);
        let u = fit_ungrouped(&exact.x, &exact.y, d, &o, init).unwrap();
        assert!(u.sigma2.iter().all(|&v| v > 0.0 && v.is_finite()));
        assert!(u.report.log_likelihood.is_finite());
    }
}

/// Every bad input gets its status, with every output untouched.
#[test]
fn bad_input_statuses_with_outputs_untouched() {
    let d = 2;
    let thetas = separated_thetas(2, d, false);
    let data = simulate(51, &[4; 20], d, &thetas, 1.0);
    let st = stats(&data, false);
    let m = 20;
    let good = MixRegOptions {
        k: 2,
        max_iter: 5,
        ..MixRegOptions::default()
    };
    let coefs = [1.0, 0.0, 0.0, 1.0];
    let given = MixRegInit::Given {
        weights: &[0.5, 0.5],
        coefs: &coefs,
        sigma2: &[1.0, 1.0],
    };
    let run = |st: &[f64], m: usize, opts: &MixRegOptions, init: MixRegInit, short: usize| {
        let k = opts.k.max(1);
        let p = d + usize::from(opts.intercept);
        let (mut w, mut c, mut s) = (vec![7.0; k], vec![7.0; k * p], vec![7.0; k]);
        let mut post = vec![7.0; m * k];
        let len = mlr::mixreg_fit_grouped_work_len(m.max(1), k, d, opts.intercept).unwrap();
        let mut work = vec![7.0; len - short];
        let r = mlr::mixreg_fit_grouped(
            st,
            m,
            d,
            opts,
            init,
            &mut w,
            &mut c,
            &mut s,
            Some(&mut post),
            None,
            &mut work,
        );
        let untouched = [w, c, s, post].iter().all(|v| v.iter().all(|&x| x == 7.0));
        (r.err(), untouched)
    };
    type Case<'a> = (&'a str, Status, (Option<Status>, bool));
    let cases: Vec<Case> = vec![
        ("ok", Status::Ok, run(&st, m, &good, given, 0)),
        ("m = 0", Status::ZeroSize, run(&st, 0, &good, given, 0)),
        (
            "k = 0",
            Status::ZeroSize,
            run(
                &st,
                m,
                &MixRegOptions { k: 0, ..good },
                MixRegInit::Random,
                0,
            ),
        ),
        (
            "short stats",
            Status::BufferTooShort,
            run(&st[..st.len() - 1], m, &good, given, 0),
        ),
        (
            "short work",
            Status::BufferTooShort,
            run(&st, m, &good, given, 1),
        ),
        (
            "m < k",
            Status::TooFewSamples,
            run(&st[..st.len() / 20], 1, &good, MixRegInit::Random, 0),
        ),
        (
            "tol < 0",
            Status::BadParameter,
            run(&st, m, &MixRegOptions { tol: -1.0, ..good }, given, 0),
        ),
        (
            "tol NaN",
            Status::BadParameter,
            run(
                &st,
                m,
                &MixRegOptions {
                    tol: f64::NAN,
                    ..good
                },
                given,
                0,
            ),
        ),
        (
            "max_iter 0",
            Status::BadParameter,
            run(
                &st,
                m,
                &MixRegOptions {
                    max_iter: 0,
                    ..good
                },
                given,
                0,
            ),
        ),
        (
            "n_init 0",
            Status::BadParameter,
            run(&st, m, &MixRegOptions { n_init: 0, ..good }, given, 0),
        ),
        (
            "sym k=3",
            Status::BadParameter,
            run(
                &st,
                m,
                &MixRegOptions {
                    k: 3,
                    symmetric: true,
                    ..good
                },
                MixRegInit::Random,
                0,
            ),
        ),
        (
            "sym intercept",
            Status::BadParameter,
            run(
                &stats(&data, true),
                m,
                &MixRegOptions {
                    intercept: true,
                    symmetric: true,
                    ..good
                },
                MixRegInit::Random,
                0,
            ),
        ),
        (
            "known 0",
            Status::BadParameter,
            run(
                &st,
                m,
                &MixRegOptions {
                    noise: Noise::Known(0.0),
                    ..good
                },
                given,
                0,
            ),
        ),
        (
            "known NaN",
            Status::BadParameter,
            run(
                &st,
                m,
                &MixRegOptions {
                    noise: Noise::Known(f64::NAN),
                    ..good
                },
                given,
                0,
            ),
        ),
        (
            "known -1",
            Status::BadParameter,
            run(
                &st,
                m,
                &MixRegOptions {
                    noise: Noise::Known(-1.0),
                    ..good
                },
                given,
                0,
            ),
        ),
        (
            "given short coefs",
            Status::BadParameter,
            run(
                &st,
                m,
                &good,
                MixRegInit::Given {
                    weights: &[0.5, 0.5],
                    coefs: &coefs[..3],
                    sigma2: &[1.0, 1.0],
                },
                0,
            ),
        ),
        (
            "given weights len",
            Status::BadParameter,
            run(
                &st,
                m,
                &good,
                MixRegInit::Given {
                    weights: &[1.0],
                    coefs: &coefs,
                    sigma2: &[1.0, 1.0],
                },
                0,
            ),
        ),
        (
            "given weights sum",
            Status::Weights,
            run(
                &st,
                m,
                &good,
                MixRegInit::Given {
                    weights: &[0.5, 0.6],
                    coefs: &coefs,
                    sigma2: &[1.0, 1.0],
                },
                0,
            ),
        ),
        (
            "given weights neg",
            Status::Weights,
            run(
                &st,
                m,
                &good,
                MixRegInit::Given {
                    weights: &[1.5, -0.5],
                    coefs: &coefs,
                    sigma2: &[1.0, 1.0],
                },
                0,
            ),
        ),
        (
            "given coefs NaN",
            Status::NonFinite,
            run(
                &st,
                m,
                &good,
                MixRegInit::Given {
                    weights: &[0.5, 0.5],
                    coefs: &[f64::NAN, 0.0, 0.0, 1.0],
                    sigma2: &[1.0, 1.0],
                },
                0,
            ),
        ),
        (
            "given sigma2 0",
            Status::BadParameter,
            run(
                &st,
                m,
                &good,
                MixRegInit::Given {
                    weights: &[0.5, 0.5],
                    coefs: &coefs,
                    sigma2: &[1.0, 0.0],
                },
                0,
            ),
        ),
        (
            "stats NaN",
            Status::NonFinite,
            run(
                &{
                    let mut s = st.clone();
                    s[9] = f64::NAN;
                    s
                },
                m,
                &good,
                given,
                0,
            ),
        ),
        (
            "node size 0",
            Status::NodeSizes,
            run(
                &{
                    let mut s = st.clone();
                    s[0] = 0.0;
                    s
                },
                m,
                &good,
                given,
                0,
            ),
        ),
        (
            "c_j < 0",
            Status::BadParameter,
            run(
                &{
                    let mut s = st.clone();
                    s[1] = -1.0;
                    s
                },
                m,
                &good,
                given,
                0,
            ),
        ),
        (
            "intercept G00 != n",
            Status::BadParameter,
            run(
                &{
                    let mut s = stats(&data, true);
                    s[5] = 5.0;
                    s
                },
                m,
                &MixRegOptions {
                    intercept: true,
                    ..good
                },
                MixRegInit::Random,
                0,
            ),
        ),
    ];
    for (name, want, (got, untouched)) in cases {
        let want = (want != Status::Ok).then_some(want);
        assert_eq!(got, want, "{name}");
        if want.is_some() {
            assert!(untouched, "{name}: outputs written");
        } else {
            assert!(!untouched, "{name}: outputs not written");
        }
    }

    // Ungrouped: NodeLeastSquares, n < k, NaN in x or y, short x, trace with n_init > 1.
    let (x, y) = (&data.x, &data.y);
    let n = y.len();
    let run_u =
        |x: &[f64], y: &[f64], n: usize, opts: &MixRegOptions, init: MixRegInit, trace: bool| {
            let (mut w, mut c, mut s) = (vec![7.0; 2], vec![7.0; 4], vec![7.0; 2]);
            let mut tr = vec![7.0; opts.max_iter];
            let mut work = vec![7.0; mlr::mixreg_fit_work_len(n.max(1), 2, d, false).unwrap()];
            let r = mlr::mixreg_fit(
                x,
                y,
                n,
                d,
                opts,
                init,
                &mut w,
                &mut c,
                &mut s,
                None,
                trace.then_some(&mut tr[..]),
                &mut work,
            );
            assert!([w, c, s].iter().all(|v| v.iter().all(|&q| q == 7.0)));
            r.unwrap_err()
        };
    assert_eq!(
        run_u(x, y, n, &good, MixRegInit::NodeLeastSquares, false),
        Status::BadParameter
    );
    assert_eq!(
        run_u(&x[..2], &y[..1], 1, &good, MixRegInit::Random, false),
        Status::TooFewSamples
    );
    assert_eq!(
        run_u(&x[..3], y, n, &good, MixRegInit::Random, false),
        Status::BufferTooShort
    );
    assert_eq!(
        run_u(x, y, 0, &good, MixRegInit::Random, false),
        Status::ZeroSize
    );
    let mut bad = x.clone();
    bad[5] = f64::INFINITY;
    assert_eq!(
        run_u(&bad, y, n, &good, MixRegInit::Random, false),
        Status::NonFinite
    );
    let mut bad_y = y.clone();
    bad_y[5] = f64::NAN;
    assert_eq!(
        run_u(x, &bad_y, n, &good, MixRegInit::Random, false),
        Status::NonFinite
    );
    let restarts = MixRegOptions { n_init: 2, ..good };
    assert_eq!(
        run_u(x, y, n, &restarts, MixRegInit::Random, true),
        Status::BadParameter
    );
}

/// The work lengths: zero sizes and overflow.
#[test]
fn work_lengths_check_sizes() {
    assert_eq!(
        mlr::mixreg_fit_work_len(0, 2, 3, false),
        Err(Status::ZeroSize)
    );
    assert_eq!(
        mlr::mixreg_fit_grouped_work_len(5, 0, 3, false),
        Err(Status::ZeroSize)
    );
    assert_eq!(
        mlr::mixreg_fit_grouped_work_len(5, 2, 0, true),
        Err(Status::ZeroSize)
    );
    assert_eq!(
        mlr::mixreg_fit_grouped_work_len(usize::MAX / 2, 2, 3, false),
        Err(Status::SizeOverflow)
    );
    assert_eq!(
        mlr::node_stats_len(usize::MAX, true),
        Err(Status::SizeOverflow)
    );
    // The ungrouped workspace does not grow with n.
    assert_eq!(
        mlr::mixreg_fit_work_len(10, 3, 4, true),
        mlr::mixreg_fit_work_len(10_000_000, 3, 4, true)
    );
}

// ---------------------------------------------------------------------------------------------
// The C ABI: the same results as the safe API, and bad arguments rejected untouched.
// ---------------------------------------------------------------------------------------------

#[test]
fn c_fits_equal_the_safe_api_and_reject_bad_arguments() {
    use mixkern::ffi::{
        mk_mixreg_fit, mk_mixreg_fit_grouped, mk_mixreg_fit_grouped_work_len,
        mk_mixreg_fit_work_len, mk_mixreg_node_statistics, mk_mixreg_node_stats_len,
        mk_mixreg_options_default, MkMixReg, MkMixRegOptions, MkMixRegOut, MkMixRegReport,
        MK_MIXREG_INIT_RANDOM, MK_NOISE_SHARED,
    };
    let (k, d) = (3, 3);
    let thetas = separated_thetas(k, d, true);
    let data = simulate(91, &vec![15; 60], d, &thetas, 0.5);
    let (m, n, p) = (data.sizes.len(), data.y.len(), d + 1);
    let rust_stats = stats(&data, true);
    let mut c_stats = vec![f64::NAN; m * mk_mixreg_node_stats_len(d, 1)];
    // SAFETY: buffers of the documented lengths.
    let status = unsafe {
        mk_mixreg_node_statistics(
            data.x.as_ptr(),
            n,
            d,
            data.y.as_ptr(),
            data.sizes.as_ptr(),
            m,
            1,
            c_stats.as_mut_ptr(),
        )
    };
    assert_eq!(status, 0);
    assert_eq!(c_stats, rust_stats);

    let mut options = mk_mixreg_options_default();
    options.noise = MK_NOISE_SHARED;
    let opts = MixRegOptions {
        k,
        intercept: true,
        noise: Noise::Shared,
        ..MixRegOptions::default()
    };
    const SENTINEL: f64 = -3.5;
    type Outs = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
    let outs = |rows: usize| -> Outs {
        (
            vec![SENTINEL; k],
            vec![SENTINEL; k * p],
            vec![SENTINEL; k],
            vec![SENTINEL; rows * k],
        )
    };
    let shape = |intercept: i32| MkMixRegOut {
        k,
        d,
        intercept,
        weights: std::ptr::null_mut(),
        coefs: std::ptr::null_mut(),
        sigma2: std::ptr::null_mut(),
    };
    /// One call: grouped or not, options, the output's intercept flag, an optional start.
    struct Args<'a> {
        grouped: bool,
        options: *const MkMixRegOptions,
        intercept: i32,
        start: Option<&'a MkMixReg>,
        work_len: usize,
    }
    let call = |a: Args, out: &mut Outs| -> i32 {
        let mut work = vec![0.0; a.work_len];
        let mut report = std::mem::MaybeUninit::<MkMixRegReport>::uninit();
        let (w, c, s, post) = out;
        let fit = MkMixRegOut {
            weights: w.as_mut_ptr(),
            coefs: c.as_mut_ptr(),
            sigma2: s.as_mut_ptr(),
            ..shape(a.intercept)
        };
        let start = a.start.map_or(std::ptr::null(), |s| s as *const MkMixReg);
        // SAFETY: buffers of the documented lengths (work as declared); a NULL start starts
        // from options->init.
        unsafe {
            if a.grouped {
                mk_mixreg_fit_grouped(
                    c_stats.as_ptr(),
                    m,
                    d,
                    a.options,
                    start,
                    &fit,
                    post.as_mut_ptr(),
                    std::ptr::null_mut(),
                    work.as_mut_ptr(),
                    work.len(),
                    report.as_mut_ptr(),
                )
            } else {
                mk_mixreg_fit(
                    data.x.as_ptr(),
                    n,
                    d,
                    data.y.as_ptr(),
                    a.options,
                    start,
                    &fit,
                    post.as_mut_ptr(),
                    std::ptr::null_mut(),
                    work.as_mut_ptr(),
                    work.len(),
                    report.as_mut_ptr(),
                )
            }
        }
    };

    // Grouped from the node least-squares start: bitwise the safe API's result.
    // SAFETY (both): valid shape-only descriptors.
    let grouped_len = unsafe { mk_mixreg_fit_grouped_work_len(m, d, &shape(1)) };
    let ungrouped_len = unsafe { mk_mixreg_fit_work_len(n, d, &shape(1)) };
    let grouped = |options: &MkMixRegOptions| Args {
        grouped: true,
        options,
        intercept: 1,
        start: None,
        work_len: grouped_len,
    };
    let mut c_out = outs(m);
    assert_eq!(call(grouped(&options), &mut c_out), 0);
    let (mut w, mut c, mut s, mut post) = outs(m);
    let mut work = vec![0.0; grouped_len];
    mlr::mixreg_fit_grouped(
        &rust_stats,
        m,
        d,
        &opts,
        MixRegInit::NodeLeastSquares,
        &mut w,
        &mut c,
        &mut s,
        Some(&mut post),
        None,
        &mut work,
    )
    .unwrap();
    assert_eq!(c_out, (w, c, s, post));

    // A given start (the grouped fit's own result) through the descriptor: the safe API's
    // Given start, bitwise.
    let (gw, gc, gs, _) = c_out.clone();
    let start = MkMixReg {
        k,
        d,
        intercept: 1,
        weights: gw.as_ptr(),
        coefs: gc.as_ptr(),
        sigma2: gs.as_ptr(),
    };
    let mut from_start = outs(m);
    let args = Args {
        start: Some(&start),
        ..grouped(&options)
    };
    assert_eq!(call(args, &mut from_start), 0);
    let (mut w, mut c, mut s, mut post) = outs(m);
    mlr::mixreg_fit_grouped(
        &rust_stats,
        m,
        d,
        &opts,
        MixRegInit::Given {
            weights: &gw,
            coefs: &gc,
            sigma2: &gs,
        },
        &mut w,
        &mut c,
        &mut s,
        Some(&mut post),
        None,
        &mut work,
    )
    .unwrap();
    assert_eq!(from_start, (w, c, s, post));

    // Ungrouped from random starts: the same.
    let mut random = options;
    random.init = MK_MIXREG_INIT_RANDOM;
    random.n_init = 3;
    let mut c_out = outs(n);
    let ungrouped = |options: &MkMixRegOptions| Args {
        grouped: false,
        options,
        intercept: 1,
        start: None,
        work_len: ungrouped_len,
    };
    assert_eq!(call(ungrouped(&random), &mut c_out), 0);
    let (mut w, mut c, mut s, mut post) = outs(n);
    let mut work = vec![0.0; ungrouped_len];
    let r_opts = MixRegOptions { n_init: 3, ..opts };
    mlr::mixreg_fit(
        &data.x,
        &data.y,
        n,
        d,
        &r_opts,
        MixRegInit::Random,
        &mut w,
        &mut c,
        &mut s,
        Some(&mut post),
        None,
        &mut work,
    )
    .unwrap();
    assert_eq!(c_out, (w, c, s, post));

    // Bad arguments: their statuses, outputs untouched.
    let noise = MkMixRegOptions {
        noise: 9,
        ..options
    };
    let init = MkMixRegOptions { init: 7, ..options };
    let known = MkMixRegOptions {
        noise: 2,
        known_sigma: 0.0,
        ..options
    };
    let capped = MkMixRegOptions {
        max_iter: 0,
        ..random
    };
    let other_start = MkMixReg { d: 2, ..start };
    let bad: Vec<(&str, Args, Status)> = vec![
        ("noise code", grouped(&noise), Status::BadParameter),
        (
            "intercept flag",
            Args {
                intercept: 2,
                ..grouped(&options)
            },
            Status::BadParameter,
        ),
        ("init code", grouped(&init), Status::BadParameter),
        ("known sigma 0", grouped(&known), Status::BadParameter),
        (
            "short work",
            Args {
                work_len: grouped_len - 1,
                ..grouped(&options)
            },
            Status::BufferTooShort,
        ),
        (
            "node start ungrouped",
            ungrouped(&options),
            Status::BadParameter,
        ),
        ("max_iter 0", ungrouped(&capped), Status::BadParameter),
        (
            "start of another shape",
            Args {
                start: Some(&other_start),
                ..grouped(&options)
            },
            Status::ShapeMismatch,
        ),
        (
            "NULL options",
            Args {
                options: std::ptr::null(),
                ..grouped(&options)
            },
            Status::NullPointer,
        ),
    ];
    for (name, args, want) in bad {
        let rows = if args.grouped { m } else { n };
        let mut out = outs(rows);
        assert_eq!(call(args, &mut out), want.code(), "{name}");
        assert_eq!(out, outs(rows), "{name}: outputs written");
    }
    assert_eq!(mk_mixreg_node_stats_len(d, 3), 0);
    // SAFETY (all): valid shape-only descriptors, or NULL.
    unsafe {
        assert_eq!(mk_mixreg_fit_grouped_work_len(0, d, &shape(1)), 0);
        assert_eq!(mk_mixreg_fit_grouped_work_len(m, d + 1, &shape(1)), 0);
        assert_eq!(mk_mixreg_fit_grouped_work_len(m, d, &shape(2)), 0);
        assert_eq!(mk_mixreg_fit_grouped_work_len(m, d, std::ptr::null()), 0);
        let huge = MkMixRegOut {
            d: usize::MAX,
            ..shape(1)
        };
        assert_eq!(mk_mixreg_fit_work_len(n, usize::MAX, &huge), 0);
    }
}
