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
