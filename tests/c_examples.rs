//! Builds every C example against include/mixkern.h and libmixkern.a, runs it, and checks what
//! it prints against the safe Rust API on the same seeded data.
mod common;

use mixkern::mlr::{self, ClusteredData, FitOptions, Init, Trace};

fn parse(output: &str, key: &str) -> f64 {
    common::field(output, key).parse().expect("a number")
}

#[test]
fn cmlr_fit_example() {
    let exe = common::build_c_program(&common::root().join("c_examples/cmlr_fit.c"), "cmlr_fit");
    let out = common::run(&exe);

    // The same run through the safe API.
    let (m, n, d, sigma) = (200usize, 20usize, 10usize, 1.0);
    let theta_star: Vec<f64> = (0..d)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 } * 4.0 / (d as f64).sqrt())
        .collect();
    let sizes = vec![n; m];
    let mut x = vec![0.0; m * n * d];
    let mut y = vec![0.0; m * n];
    mlr::simulate(2026, &theta_star, d, sigma, &sizes, &mut x, &mut y, None).unwrap();
    let data = ClusteredData::new(&x, &y, d, &sizes).unwrap();
    let opts = FitOptions {
        sigma,
        tol: 1e-10,
        max_iter: 50,
        init: Init::NodeMoments,
        ..Default::default()
    };
    let mut theta = vec![0.0; d];
    let mut trace = vec![f64::NAN; 50];
    let mut work = vec![0.0; mlr::fit_work_len(m, d).unwrap()];
    let trace_arg = Trace {
        step: None,
        error: Some(&mut trace),
    };
    let report = mlr::fit(
        &data,
        &opts,
        &mut theta,
        Some(&theta_star),
        trace_arg,
        &mut work,
    )
    .unwrap();

    let iterations: usize = common::field(&out, "iterations:").parse().unwrap();
    assert_eq!(
        iterations, report.iterations,
        "C and Rust disagree on iterations:\n{out}"
    );
    assert_eq!(common::field(&out, "converged:"), "1");
    let error = parse(&out, "error:");
    let rust_error = trace[report.iterations - 1];
    assert!(
        (error - rust_error).abs() <= 1e-12 * rust_error,
        "C {error} vs Rust {rust_error}"
    );
    let c_theta: Vec<f64> = common::field(&out, "theta:")
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    for (a, b) in c_theta.iter().zip(&theta) {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "theta differs: {c_theta:?} vs {theta:?}"
        );
    }

    // What the run shows: a start without theta*, and a fit at the statistical accuracy
    // sigma sqrt(d / N) = 0.05 within a few iterations.
    let init_error = parse(&out, "init_error:");
    assert!(
        init_error < 4.0 / 3.0,
        "the start should be within |theta*|/3, got {init_error}"
    );
    assert!(
        iterations <= 10,
        "Algorithm 2 took {iterations} iterations:\n{out}"
    );
    let accuracy = sigma * (d as f64 / (m * n) as f64).sqrt();
    assert!(
        error < 3.0 * accuracy,
        "error {error} vs sigma sqrt(d/N) = {accuracy}"
    );
}

#[test]
fn local_fit_example() {
    use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmInit, Mixture};
    let exe = common::build_c_program(&common::root().join("c_examples/local_fit.c"), "local_fit");
    let out = common::run(&exe);

    // The same run through the safe API.
    let weights = [0.5, 0.3, 0.2];
    let means = [0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, -4.0, 3.0, 2.0, 1.0];
    let covs = [
        1.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 0.8, 0.0, 0.1, 0.0, 0.0, 1.2, //
        0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5, //
        2.0, -0.5, 0.0, 0.0, -0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.3, 1.0,
    ];
    let (n, d, k) = (5000usize, 4usize, 3usize);
    let truth = Mixture::new(&weights, &means, &covs, k, d, CovKind::Full).unwrap();
    let mut x = vec![0.0; n * d];
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, k, d, CovKind::Full).unwrap()];
    gmm::simulate(7, &truth, n, &mut x, None, &mut work).unwrap();
    let opts = GmmFitOptions {
        tol: 1e-8,
        max_iter: 200,
        ..Default::default()
    };
    let (mut w, mut m, mut c) = (vec![0.0; k], vec![0.0; k * d], vec![0.0; k * d * d]);
    let report = gmm::gmm_fit(
        &x,
        n,
        d,
        k,
        &opts,
        GmmInit::KMeansPlusPlus { seed: 2026 },
        &mut w,
        &mut m,
        &mut c,
        None,
        gmm::GmmFitOutputs::default(),
        &mut work,
    )
    .unwrap();
    let fitted = Mixture::new(&w, &m, &c, k, d, CovKind::Full).unwrap();
    let l2_len =
        mixkern::distance::l2_distance_sq_work_len(d, CovKind::Full, CovKind::Full).unwrap();
    let mut l2_work = vec![0.0; l2_len];
    let l2 = mixkern::distance::l2_distance(&fitted, &truth, &mut l2_work).unwrap();

    let ll = parse(&out, "log_likelihood:");
    assert!(
        (ll - report.log_likelihood).abs() <= 1e-12 * ll.abs(),
        "C {ll} vs Rust {}",
        report.log_likelihood
    );
    let iterations: usize = common::field(&out, "iterations:").parse().unwrap();
    assert_eq!(iterations, report.iterations);
    assert_eq!(common::field(&out, "converged:"), "1");
    let c_l2 = parse(&out, "l2_to_truth:");
    assert!(
        (c_l2 - l2).abs() <= 1e-12 * l2.max(1e-300),
        "C {c_l2} vs Rust {l2}"
    );
    // A good fit: the L2 distance to the truth is small next to the truth's own L2 norm.
    let mut norm_work = vec![0.0; l2_len];
    let zero_shift: Vec<f64> = means.iter().map(|v| v + 100.0).collect();
    let far = Mixture::new(&weights, &zero_shift, &covs, k, d, CovKind::Full).unwrap();
    let scale = mixkern::distance::l2_distance(&truth, &far, &mut norm_work).unwrap();
    assert!(
        c_l2 < 0.1 * scale,
        "L2 to truth {c_l2} vs the truth's scale {scale}"
    );
}

/// The value of `name=` in a line of `key=value` pairs.
fn pair(line: &str, name: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
        .parse()
        .expect("a number")
}

#[test]
fn edge_aggregate_example() {
    use mixkern::Status;
    let exe = common::build_c_program(
        &common::root().join("c_examples/edge_aggregate.c"),
        "edge_aggregate",
    );
    let out = common::run(&exe);
    let l2 = |method: &str| pair(&common::field(&out, &format!("{method}:")), "l2_to_truth");

    // How each machine was treated: the two broken messages are reported with their reason;
    // every parameter attack decodes (it is a valid mixture) and is either rejected by the
    // screening (its own status) or left outside the filter, its distance to COAT beyond the
    // printed cut rho r_COAT; every honest machine is valid.
    let cut = pair(&common::field(&out, "dfmr_coat:"), "cut");
    let (mut honest, mut valid) = (0, 0);
    for node in 0..20 {
        let line = common::field(&out, &format!("node {node:2}:"));
        let role = line.split_whitespace().next().unwrap();
        let status = pair(&line, "status") as i32;
        let selected = pair(&line, "selected");
        let screened = [
            Status::TooSharp,
            Status::TooFlat,
            Status::TooLight,
            Status::TooFar,
        ]
        .map(Status::code);
        let status_ok = match role {
            "corrupted" => status == Status::BadMessage.code(),
            "missing" => status == Status::MissingMessage.code(),
            "honest" => status == 0,
            _ => status == 0 || screened.contains(&status),
        };
        assert!(status_ok, "node {node} ({role}) status {status}:\n{out}");
        assert!(selected == 0.0 || role == "honest", "node {node}:\n{out}");
        if status == 0 {
            let distance = pair(&line, "distance");
            assert_eq!(selected == 1.0, distance <= cut, "node {node}:\n{out}");
        }
        honest += usize::from(role == "honest");
        valid += usize::from(status == 0);
    }
    let dfmr = common::field(&out, "dfmr:");
    let pooled = pair(&dfmr, "pooled") as usize;
    assert!((11..=honest).contains(&pooled), "{out}");
    assert_eq!(pair(&dfmr, "valid"), valid as f64);
    // The paper's DFMR screens nothing: only the two broken messages are invalid.
    assert_eq!(pair(&common::field(&out, "dfmr_paper:"), "valid"), 18.0);

    // The ordering the method promises: DFMR close to the oracle (it pools honest nodes only,
    // at least a majority of all nodes, where the oracle pools every honest one), better than
    // any single estimate (COAT, Medoid), and Vanilla, which pools the attacks too, far worse.
    let (dfmr, oracle) = (l2("dfmr"), l2("oracle"));
    assert!(
        dfmr <= 1.5 * oracle,
        "DFMR {dfmr} vs oracle {oracle}\n{out}"
    );
    assert!(dfmr < l2("coat") && dfmr < l2("medoid"), "{out}");
    assert!(l2("vanilla") > 10.0 * dfmr, "{out}");
    assert!(l2("trim") > dfmr, "{out}");
}

#[test]
fn mixreg_fit_example() {
    use mixkern::gmm::{self, CovKind, Mixture};
    use mixkern::mlr::{
        mixreg_fit, mixreg_fit_grouped, mixreg_fit_grouped_work_len, mixreg_fit_work_len,
        node_stats_len, node_sufficient_statistics, ClusteredData, MixRegInit, MixRegOptions,
    };
    let exe = common::build_c_program(
        &common::root().join("c_examples/mixreg_fit.c"),
        "mixreg_fit",
    );
    let out = common::run(&exe);

    // The same data and fits through the safe API.
    let (k, d, m, n_node) = (3usize, 4usize, 300usize, 20usize);
    let (n, p) = (m * n_node, d + 1);
    let coefs_true = [
        1.0, 2.0, -1.0, 0.5, 0.0, -1.0, -2.0, 1.0, 0.0, 1.5, 0.0, 0.0, 2.5, -2.0, -1.0,
    ];
    let sigma_true = [0.5, 0.8, 0.6];
    let draw = |seed: u64, dim: usize| {
        let (w, mu, var) = ([1.0], vec![0.0; dim], vec![1.0; dim]);
        let mix = Mixture::new(&w, &mu, &var, 1, dim, CovKind::Diag).unwrap();
        let mut out = vec![0.0; n * dim];
        let mut work = vec![0.0; gmm::simulate_work_len(1, dim, CovKind::Diag).unwrap()];
        gmm::simulate(seed, &mix, n, &mut out, None, &mut work).unwrap();
        out
    };
    let (x, eps) = (draw(11, d), draw(12, 1));
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let c = (i / n_node) % k;
            let row = &coefs_true[c * p..(c + 1) * p];
            let v: f64 = row[0] + (0..d).map(|t| x[i * d + t] * row[1 + t]).sum::<f64>();
            v + sigma_true[c] * eps[i]
        })
        .collect();
    let sizes = vec![n_node; m];
    let data = ClusteredData::new(&x, &y, d, &sizes).unwrap();
    let mut stats = vec![0.0; m * node_stats_len(d, true).unwrap()];
    node_sufficient_statistics(&data, true, &mut stats).unwrap();
    let mut opts = MixRegOptions {
        k,
        intercept: true,
        ..MixRegOptions::default()
    };
    let (mut w, mut coefs, mut s2) = (vec![0.0; k], vec![0.0; k * p], vec![0.0; k]);
    let mut work = vec![0.0; mixreg_fit_grouped_work_len(m, k, d, true).unwrap()];
    let grouped = mixreg_fit_grouped(
        &stats,
        m,
        d,
        &opts,
        MixRegInit::NodeLeastSquares,
        &mut w,
        &mut coefs,
        &mut s2,
        None,
        None,
        &mut work,
    )
    .unwrap();
    let line = common::field(&out, "grouped:");
    let c_loglik = pair(&line, "loglik");
    assert!(
        (c_loglik - grouped.log_likelihood).abs() <= 1e-9 * grouped.log_likelihood.abs(),
        "C {c_loglik} vs Rust {}\n{out}",
        grouped.log_likelihood
    );
    assert_eq!(pair(&line, "iterations") as usize, grouped.iterations);
    // Grouped: 2000 samples per component and certain node labels; the coefficients are
    // within a few sigma / sqrt(2000) of the truth, and every node is labelled with certainty.
    assert!(pair(&line, "coef_error") < 0.1, "{out}");
    let least_sure = parse(&out, "grouped least_sure_node_posterior=");
    assert!(least_sure > 0.99, "{out}");

    opts.n_init = 5;
    opts.seed = 2026;
    let mut work = vec![0.0; mixreg_fit_work_len(n, k, d, true).unwrap()];
    let ungrouped = mixreg_fit(
        &x,
        &y,
        n,
        d,
        &opts,
        MixRegInit::Random,
        &mut w,
        &mut coefs,
        &mut s2,
        None,
        None,
        &mut work,
    )
    .unwrap();
    let line = common::field(&out, "ungrouped:");
    let c_loglik = pair(&line, "loglik");
    assert!(
        (c_loglik - ungrouped.log_likelihood).abs() <= 1e-9 * ungrouped.log_likelihood.abs(),
        "C {c_loglik} vs Rust {}\n{out}",
        ungrouped.log_likelihood
    );
    // Without the groups the labels are uncertain near the crossings, so the fit is looser.
    assert!(pair(&line, "coef_error") < 0.25, "{out}");
}
