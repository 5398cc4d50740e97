//! L2 distance kernels: the pairwise distance matrix of m local estimates (what COAT and DFMR
//! need) at the paper's sizes, and one distance between two mixtures.
//!
//! `cargo bench --bench distance`. Mixtures are random and valid: weights from normalized
//! uniforms, means N(0, 4 I), covariances A A^T / d + I with A of N(0, 1) entries (diagonal:
//! variances uniform in [1, 3)), drawn with the crate's seeded `Rng`.
//!
//! The DFMR authors' Python computes the (20, 5, 10) matrix in 0.92 s and the (50, 10, 50) one
//! in 41 s.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mixkern::distance::{
    l2_distance_sq, l2_distance_sq_work_len, l2_pairwise, l2_pairwise_work_len,
};
use mixkern::gmm::{CovKind, Mixture};
use mixkern::rng::Rng;
use std::hint::black_box;

/// m random mixtures of K components in d dimensions, concatenated.
struct Stack {
    weights: Vec<f64>,
    means: Vec<f64>,
    covs: Vec<f64>,
}

fn random_stack(rng: &mut Rng, m: usize, k: usize, d: usize, kind: CovKind) -> Stack {
    let mut weights = Vec::with_capacity(m * k);
    for _ in 0..m {
        let raw: Vec<f64> = (0..k).map(|_| 0.1 + rng.uniform()).collect();
        let total: f64 = raw.iter().sum();
        weights.extend(raw.iter().map(|w| w / total));
    }
    let means = (0..m * k * d).map(|_| 2.0 * rng.normal()).collect();
    let mut covs = Vec::new();
    for _ in 0..m * k {
        match kind {
            CovKind::Full => {
                let a: Vec<f64> = (0..d * d).map(|_| rng.normal()).collect();
                for i in 0..d {
                    for j in 0..d {
                        let v: f64 = (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum();
                        covs.push(v / d as f64 + if i == j { 1.0 } else { 0.0 });
                    }
                }
            }
            CovKind::Diag => covs.extend((0..d).map(|_| 1.0 + 2.0 * rng.uniform())),
        }
    }
    Stack {
        weights,
        means,
        covs,
    }
}

fn distance(c: &mut Criterion) {
    let mut group = c.benchmark_group("l2_pairwise");
    let cases = [
        (20usize, 5usize, 10usize, CovKind::Full),
        (20, 5, 10, CovKind::Diag),
        (50, 10, 50, CovKind::Full),
    ];
    for (m, k, d, kind) in cases {
        let mut rng = Rng::new(0xd15_7a9c3 ^ (m * 1000 + k * 100 + d) as u64);
        let s = random_stack(&mut rng, m, k, d, kind);
        let mut out = vec![0.0; m * m];
        let mut work = vec![0.0; l2_pairwise_work_len(m, k, d, kind).unwrap()];
        if d >= 50 {
            group.sample_size(10);
        }
        let label = format!("m={m},K={k},d={d},{kind:?}");
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| {
                l2_pairwise(
                    &s.weights, &s.means, &s.covs, m, k, d, kind, &mut out, &mut work,
                )
                .unwrap();
                black_box(out[1])
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("l2_distance_sq");
    for (k, d) in [(5usize, 10usize), (10, 50)] {
        let mut rng = Rng::new(17);
        let s = random_stack(&mut rng, 2, k, d, CovKind::Full);
        let (kd, kdd) = (k * d, k * d * d);
        let f = Mixture::new(
            &s.weights[..k],
            &s.means[..kd],
            &s.covs[..kdd],
            k,
            d,
            CovKind::Full,
        )
        .unwrap();
        let g = Mixture::new(
            &s.weights[k..],
            &s.means[kd..],
            &s.covs[kdd..],
            k,
            d,
            CovKind::Full,
        )
        .unwrap();
        let mut work = vec![0.0; l2_distance_sq_work_len(d, CovKind::Full, CovKind::Full).unwrap()];
        group.bench_function(
            BenchmarkId::from_parameter(format!("K={k},d={d},Full")),
            |b| b.iter(|| black_box(l2_distance_sq(&f, &g, &mut work).unwrap())),
        );
    }
    group.finish();
}

criterion_group!(benches, distance);
criterion_main!(benches);
