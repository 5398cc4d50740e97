//! Mixtures of K linear regressions at the sizes (d = 10, K = 2 and 3, single thread):
//! - grouped (m = 1000 nodes, N = 10^6): the one statistics pass, and 10 EM iterations on the
//!   node statistics (`mixreg_fit_grouped`);
//! - ungrouped (N = 10^5 and 10^6): 10 EM iterations streaming over the samples (`mixreg_fit`).
//!
//! Every fit starts from the same given parameters with tol = 0, so exactly 10 iterations run;
//! per-iteration time = reported time / 10. Peers: `Rscript benches/compare/mixreg_peers.R`.
//! `cargo bench --bench mixreg`.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mixkern::mlr::{
    mixreg_fit, mixreg_fit_grouped, mixreg_fit_grouped_work_len, mixreg_fit_work_len,
    node_stats_len, node_sufficient_statistics, ClusteredData, MixRegInit, MixRegOptions,
};
use mixkern::rng::Rng;
use std::hint::black_box;

const D: usize = 10;
const ITERS: usize = 10;

/// N samples in m nodes, node j following component j % K: x ~ N(0, I), y = x^T theta_k +
/// 0.5 eps, theta_k with entries (k + 1) (-1)^t / sqrt(d).
fn data(n: usize, m: usize, k: usize) -> (Vec<f64>, Vec<f64>, Vec<usize>, Vec<f64>) {
    let mut rng = Rng::new(7);
    let theta: Vec<f64> = (0..k * D)
        .map(|i| ((i / D) as f64 + 1.0) * if i % 2 == 0 { 1.0 } else { -1.0 } / (D as f64).sqrt())
        .collect();
    let x: Vec<f64> = (0..n * D).map(|_| rng.normal()).collect();
    let per = n / m;
    let y = (0..n)
        .map(|i| {
            let c = (i / per) % k;
            let v: f64 = (0..D).map(|t| x[i * D + t] * theta[c * D + t]).sum();
            v + 0.5 * rng.normal()
        })
        .collect();
    (x, y, vec![per; m], theta)
}

/// A start near but not at the truth: coefficients scaled by 0.8, equal weights, variance 1.
fn start(theta: &[f64], k: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    (
        vec![1.0 / k as f64; k],
        theta.iter().map(|v| 0.8 * v).collect(),
        vec![1.0; k],
    )
}

fn mixreg(c: &mut Criterion) {
    let mut group = c.benchmark_group("mixreg");
    group.sample_size(10);
    for k in [2usize, 3] {
        let opts = MixRegOptions {
            k,
            tol: 0.0,
            max_iter: ITERS,
            ..MixRegOptions::default()
        };
        let (mut w, mut coefs, mut s2) = (vec![0.0; k], vec![0.0; k * D], vec![0.0; k]);

        // Grouped: N = 10^6 over m = 1000 nodes.
        let (n, m) = (1_000_000, 1000);
        let (x, y, sizes, theta) = data(n, m, k);
        let (w0, c0, s0) = start(&theta, k);
        let view = ClusteredData::new(&x, &y, D, &sizes).unwrap();
        let mut stats = vec![0.0; m * node_stats_len(D, false).unwrap()];
        group.bench_function(
            BenchmarkId::new("statistics_pass", format!("N=1e6,m={m},K={k}")),
            |b| {
                b.iter(|| {
                    node_sufficient_statistics(&view, false, &mut stats).unwrap();
                    black_box(stats[0])
                })
            },
        );
        let mut work = vec![0.0; mixreg_fit_grouped_work_len(m, k, D, false).unwrap()];
        group.bench_function(
            BenchmarkId::new("grouped_10_iterations", format!("m={m},K={k}")),
            |b| {
                b.iter(|| {
                    let init = MixRegInit::Given {
                        weights: &w0,
                        coefs: &c0,
                        sigma2: &s0,
                    };
                    let r = mixreg_fit_grouped(
                        &stats, m, D, &opts, init, &mut w, &mut coefs, &mut s2, None, None,
                        &mut work,
                    )
                    .unwrap();
                    black_box(r.log_likelihood)
                })
            },
        );

        // Ungrouped: N = 10^5 and the first 10^5 ... 10^6 samples.
        for n in [100_000usize, 1_000_000] {
            let mut work = vec![0.0; mixreg_fit_work_len(n, k, D, false).unwrap()];
            group.bench_function(
                BenchmarkId::new("ungrouped_10_iterations", format!("N={n},K={k}")),
                |b| {
                    b.iter(|| {
                        let init = MixRegInit::Given {
                            weights: &w0,
                            coefs: &c0,
                            sigma2: &s0,
                        };
                        let r = mixreg_fit(
                            &x[..n * D],
                            &y[..n],
                            n,
                            D,
                            &opts,
                            init,
                            &mut w,
                            &mut coefs,
                            &mut s2,
                            None,
                            None,
                            &mut work,
                        )
                        .unwrap();
                        black_box(r.log_likelihood)
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, mixreg);
criterion_main!(benches);
