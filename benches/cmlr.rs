//! C-MLR kernels: the statistics pass, one Algorithm 1 step, one Algorithm 2 step, a whole
//! Algorithm 2 fit, and a plain read of the same bytes as the machine's streaming reference.
//!
//! `cargo bench --bench cmlr`; throughput is reported in bytes of X and y read per call.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mixkern::mlr::{self, ClusteredData, FitOptions, Init, Metric, Trace};
use std::hint::black_box;

struct Setup {
    m: usize,
    d: usize,
    sizes: Vec<usize>,
    x: Vec<f64>,
    y: Vec<f64>,
    theta_star: Vec<f64>,
    node_sums: Vec<f64>,
    chol: Vec<f64>,
}

fn setup(n_total: usize, d: usize, m: usize) -> Setup {
    let theta_star: Vec<f64> = (0..d)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 } * 4.0 / (d as f64).sqrt())
        .collect();
    let sizes = vec![n_total / m; m];
    let (mut x, mut y) = (vec![0.0; n_total * d], vec![0.0; n_total]);
    mlr::simulate(1, &theta_star, d, 1.0, &sizes, &mut x, &mut y, None).unwrap();
    let (mut node_sums, mut chol) = (vec![0.0; m * d], vec![0.0; d * d]);
    let mut work = vec![0.0; mlr::node_statistics_work_len(m, d).unwrap()];
    let data = ClusteredData::new(&x, &y, d, &sizes).unwrap();
    mlr::node_statistics(&data, &mut node_sums, &mut chol, &mut work).unwrap();
    Setup {
        m,
        d,
        sizes,
        x,
        y,
        theta_star,
        node_sums,
        chol,
    }
}

/// A sum over the same bytes as X and y with independent accumulators: what streaming the data
/// costs on this machine, the yardstick for the kernels that stream it.
fn read_all(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    for s in [x, y] {
        let mut chunks = s.chunks_exact(8);
        for c in &mut chunks {
            for k in 0..8 {
                acc[k] += c[k];
            }
        }
        for (a, v) in acc.iter_mut().zip(chunks.remainder()) {
            *a += v;
        }
    }
    acc.iter().sum()
}

fn cmlr(c: &mut Criterion) {
    for (n_total, d, m) in [
        (1_000_000usize, 10usize, 1000usize),
        (100_000, 10, 100),
        (100_000, 40, 100),
    ] {
        let s = setup(n_total, d, m);
        let label = format!("N={n_total},d={d},m={m}");
        let bytes = ((n_total * d + n_total) * 8) as u64;
        let mut group = c.benchmark_group("cmlr");
        group.throughput(Throughput::Bytes(bytes));
        if n_total >= 1_000_000 {
            group.sample_size(30);
        }
        let data = ClusteredData::new(&s.x, &s.y, s.d, &s.sizes).unwrap();
        let start: Vec<f64> = s.theta_star.iter().map(|v| v * 1.05).collect();

        group.bench_function(BenchmarkId::new("read_bandwidth", &label), |b| {
            b.iter(|| black_box(read_all(&s.x, &s.y)))
        });

        let (mut sums, mut chol) = (vec![0.0; s.m * d], vec![0.0; d * d]);
        let mut work = vec![0.0; mlr::node_statistics_work_len(s.m, d).unwrap()];
        group.bench_function(BenchmarkId::new("node_statistics", &label), |b| {
            b.iter(|| mlr::node_statistics(&data, &mut sums, &mut chol, &mut work).unwrap())
        });

        let mut theta = start.clone();
        let mut step_work = vec![0.0; d];
        group.bench_function(BenchmarkId::new("alg1_step", &label), |b| {
            b.iter(|| {
                theta.copy_from_slice(&start);
                mlr::alg1_step(
                    &s.x,
                    &s.y,
                    d,
                    Metric::SigmaHat(&s.chol),
                    1.0,
                    &mut theta,
                    &mut step_work,
                )
                .unwrap()
            })
        });

        group.bench_function(BenchmarkId::new("alg2_step", &label), |b| {
            b.iter(|| {
                theta.copy_from_slice(&start);
                let metric = Metric::SigmaHat(&s.chol);
                mlr::alg2_step(
                    &s.node_sums,
                    s.m,
                    d,
                    n_total,
                    metric,
                    1.0,
                    &mut theta,
                    &mut step_work,
                )
                .unwrap()
            })
        });

        let opts = FitOptions {
            init: Init::NodeMoments,
            sigma: 1.0,
            ..FitOptions::default()
        };
        let mut fit_work = vec![0.0; mlr::fit_work_len(s.m, d).unwrap()];
        group.bench_function(BenchmarkId::new("alg2_fit", &label), |b| {
            b.iter(|| {
                mlr::fit(
                    &data,
                    &opts,
                    &mut theta,
                    None,
                    Trace::default(),
                    &mut fit_work,
                )
                .unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, cmlr);
criterion_main!(benches);
