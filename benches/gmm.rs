//! The local EM fit: 10 iterations from a given start (tol 0) at the sizes, full and
//! diagonal, on one thread; and the two largest full cases on 1 and 2 threads
//! (`gmm_em_threads`, the same fit bit for bit). Per-iteration cost = time / 10 (it includes one
//! final log-likelihood pass).
//!
//! Same data and start as the peers (`benches/compare/run_peers.sh`): run
//! `python3 benches/compare/gmm_data.py` first; without its files in target/compare/ the bench
//! simulates its own data of the same sizes (and says so).
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmInit, Mixture};
use std::path::PathBuf;

const ITERATIONS: usize = 10;

struct Problem {
    n: usize,
    d: usize,
    k: usize,
    x: Vec<f64>,
    weights: Vec<f64>,
    means: Vec<f64>,
    covs_full: Vec<f64>,
    covs_diag: Vec<f64>,
}

fn read_f64(path: &PathBuf) -> Option<Vec<f64>> {
    let bytes = std::fs::read(path).ok()?;
    Some(
        bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect(),
    )
}

/// The peers' data file for (n, d, k), or simulated data of that size.
fn problem(n: usize, d: usize, k: usize) -> Problem {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/compare");
    let name = format!("gmm_n{n}_d{d}_k{k}");
    let file = |ext: &str| dir.join(format!("{name}.{ext}.f64"));
    if let (Some(x), Some(weights), Some(means), Some(covs_full), Some(covs_diag)) = (
        read_f64(&file("x")),
        read_f64(&file("weights")),
        read_f64(&file("means")),
        read_f64(&file("covs_full")),
        read_f64(&file("covs_diag")),
    ) {
        return Problem {
            n,
            d,
            k,
            x,
            weights,
            means,
            covs_full,
            covs_diag,
        };
    }
    eprintln!("{name}: target/compare files missing, simulating (run benches/compare/gmm_data.py for the peers' data)");
    let weights = vec![1.0 / k as f64; k];
    let means: Vec<f64> = (0..k * d)
        .map(|i| ((i * 7919) % 13) as f64 * 0.5 - 3.0)
        .collect();
    let covs_full: Vec<f64> = (0..k)
        .flat_map(|_| (0..d * d).map(move |i| if i % (d + 1) == 0 { 1.0 } else { 0.0 }))
        .collect();
    let covs_diag = vec![1.0; k * d];
    let truth = Mixture::new(&weights, &means, &covs_full, k, d, CovKind::Full).unwrap();
    let mut x = vec![0.0; n * d];
    let mut work = vec![0.0; gmm::simulate_work_len(k, d, CovKind::Full).unwrap()];
    gmm::simulate(1, &truth, n, &mut x, None, &mut work).unwrap();
    let means: Vec<f64> = means.iter().map(|v| v + 0.3).collect();
    let covs_full: Vec<f64> = covs_full.iter().map(|v| v * 1.5).collect();
    let covs_diag: Vec<f64> = covs_diag.iter().map(|v| v * 1.5).collect();
    Problem {
        n,
        d,
        k,
        x,
        weights,
        means,
        covs_full,
        covs_diag,
    }
}

/// A benchmark case: N, d, K, covariance kinds, thread counts.
type Case<'a> = (usize, usize, usize, &'a [CovKind], &'a [usize]);

/// Benchmarks 10 EM iterations of each case.
fn bench_cases(c: &mut Criterion, group_name: &str, cases: &[Case]) {
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    for &(n, d, k, kinds, thread_counts) in cases {
        let p = problem(n, d, k);
        for (&kind, &threads) in kinds
            .iter()
            .flat_map(|kind| thread_counts.iter().map(move |t| (kind, t)))
        {
            let covs = if kind == CovKind::Full {
                &p.covs_full
            } else {
                &p.covs_diag
            };
            let start = Mixture::new(&p.weights, &p.means, covs, p.k, p.d, kind).unwrap();
            let opts = GmmFitOptions {
                kind,
                tol: 0.0,
                max_iter: ITERATIONS,
                threads,
                ..Default::default()
            };
            let cov_len = kind.cov_len(d).unwrap();
            let (mut w, mut m, mut s) = (vec![0.0; k], vec![0.0; k * d], vec![0.0; k * cov_len]);
            let mut work = vec![0.0; gmm::gmm_fit_work_len(p.n, k, d, kind).unwrap()];
            let label = if thread_counts.len() > 1 {
                format!("N={n},d={d},K={k},{kind:?},threads={threads}")
            } else {
                format!("N={n},d={d},K={k},{kind:?}")
            };
            group.bench_function(BenchmarkId::from_parameter(label), |b| {
                b.iter(|| {
                    gmm::gmm_fit(
                        &p.x,
                        p.n,
                        p.d,
                        p.k,
                        &opts,
                        GmmInit::Params(start),
                        &mut w,
                        &mut m,
                        &mut s,
                        None,
                        gmm::GmmFitOutputs::default(),
                        &mut work,
                    )
                    .unwrap()
                })
            });
        }
    }
    group.finish();
}

fn em(c: &mut Criterion) {
    let full = &[CovKind::Full][..];
    let one = &[1][..];
    bench_cases(
        c,
        "gmm_em_10_iterations",
        &[
            (100_000, 2, 3, full, one),
            (100_000, 8, 5, &[CovKind::Full, CovKind::Diag], one),
            (100_000, 32, 10, full, one),
            (1_000_000, 8, 5, full, one),
        ],
    );
}

fn em_threads(c: &mut Criterion) {
    let full = &[CovKind::Full][..];
    let counts = &[1, 2][..];
    bench_cases(
        c,
        "gmm_em_threads",
        &[
            (1_000_000, 8, 5, full, counts),
            (100_000, 32, 10, full, counts),
        ],
    );
}

criterion_group!(benches, em, em_threads);
criterion_main!(benches);
