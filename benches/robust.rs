//! A whole DFMR aggregation at the paper's sizes: validate m local estimates, their pairwise L2
//! matrix, COAT, the filter, and the MM reduction of the pooled components to K; once from
//! arrays and once from wire messages (decoding and validating every message first).
//!
//! `cargo bench --bench robust`. The m estimates are noisy copies of one K-component mixture
//! (weights perturbed, means + 0.05 N(0, I), covariances scaled by 1 + 0.05 z), and a fifth of
//! the machines send a mean attack (every mean N(0, 100^2 I)), drawn with the crate's `Rng`.
//!
//! For scale: the DFMR authors' Python takes 0.92 s (m, K, d) = (20, 5, 10) and 41 s at
//! (50, 10, 50) for the pairwise matrix alone, and 1.2 s for one reduction of 500 components to
//! 10 in d = 50.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mixkern::gmm::{CovKind, Mixture};
use mixkern::reduce::ReduceOptions;
use mixkern::rng::Rng;
use mixkern::robust::{
    aggregate, aggregate_messages, aggregate_messages_work_len, aggregate_work_len, default_rho,
    Aggregator, Screening,
};
use mixkern::wire::{encode, message_len};
use std::hint::black_box;

/// m estimates of K components in dimension d (full covariances), concatenated.
struct Machines {
    weights: Vec<f64>,
    means: Vec<f64>,
    covs: Vec<f64>,
}

fn machines(m: usize, k: usize, d: usize, seed: u64) -> Machines {
    let mut rng = Rng::new(seed);
    // The common truth: spread means, covariances A A^T / d + I.
    let centre: Vec<f64> = (0..k * d).map(|_| 4.0 * rng.normal()).collect();
    let mut base_cov = Vec::with_capacity(k * d * d);
    for _ in 0..k {
        let a: Vec<f64> = (0..d * d).map(|_| rng.normal()).collect();
        for i in 0..d {
            for j in 0..d {
                let v: f64 = (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum();
                base_cov.push(v / d as f64 + if i == j { 1.0 } else { 0.0 });
            }
        }
    }
    let mut out = Machines {
        weights: vec![],
        means: vec![],
        covs: vec![],
    };
    for i in 0..m {
        let raw: Vec<f64> = (0..k).map(|_| 1.0 + 0.05 * rng.uniform()).collect();
        let total: f64 = raw.iter().sum();
        out.weights.extend(raw.iter().map(|w| w / total));
        let attacked = i % 5 == 4;
        for v in &centre {
            out.means.push(if attacked {
                100.0 * rng.normal()
            } else {
                v + 0.05 * rng.normal()
            });
        }
        for comp in base_cov.chunks_exact(d * d) {
            let s = 1.0 + 0.05 * rng.normal();
            out.covs.extend(comp.iter().map(|v| v * s));
        }
    }
    out
}

fn dfmr(c: &mut Criterion) {
    let mut group = c.benchmark_group("dfmr");
    for (m, k, d) in [(20usize, 5usize, 10usize), (50, 10, 50)] {
        let kind = CovKind::Full;
        let s = machines(m, k, d, 0xdf_0000 + (m * k * d) as u64);
        let method = Aggregator::Dfmr {
            rho: default_rho(m),
        };
        let opts = ReduceOptions::default();
        let (mut status, mut selected) = (vec![0; m], vec![0; m]);
        let (mut w, mut mu, mut cov) = (vec![0.0; k], vec![0.0; k * d], vec![0.0; k * d * d]);
        if d >= 50 {
            group.sample_size(10);
        }

        let mut work = vec![0.0; aggregate_work_len(m, k, d, kind).unwrap()];
        // The published method, and the robust default (screening and smoothed distances).
        for (name, screening) in [
            ("arrays", Screening::PAPER),
            ("arrays_screened", Screening::default()),
        ] {
            let mut run_arrays = || {
                aggregate(
                    method,
                    &s.weights,
                    &s.means,
                    &s.covs,
                    m,
                    k,
                    d,
                    kind,
                    None,
                    &opts,
                    &screening,
                    &mut status,
                    &mut selected,
                    None,
                    &mut w,
                    &mut mu,
                    &mut cov,
                    &mut work,
                )
                .unwrap()
            };
            let r = run_arrays();
            println!(
                "{name} (m, K, d) = ({m}, {k}, {d}): {} of {m} pooled, {} MM iterations",
                r.selected, r.reduce.iterations
            );
            group.bench_function(BenchmarkId::new(name, format!("m={m},K={k},d={d}")), |b| {
                b.iter(|| black_box(run_arrays().radius))
            });
        }

        let len = message_len(k, d, kind).unwrap();
        let mut bytes = vec![0u8; m * len];
        for (i, out) in bytes.chunks_exact_mut(len).enumerate() {
            let g = Mixture::new(
                &s.weights[i * k..(i + 1) * k],
                &s.means[i * k * d..(i + 1) * k * d],
                &s.covs[i * k * d * d..(i + 1) * k * d * d],
                k,
                d,
                kind,
            )
            .unwrap();
            encode(&g, 1000, out).unwrap();
        }
        let get = |i: usize| Some(&bytes[i * len..(i + 1) * len]);
        let mut work = vec![0.0; aggregate_messages_work_len(m, k, d, kind).unwrap()];
        group.bench_function(
            BenchmarkId::new("messages", format!("m={m},K={k},d={d}")),
            |b| {
                b.iter(|| {
                    let r = aggregate_messages(
                        method,
                        &get,
                        m,
                        k,
                        d,
                        kind,
                        &opts,
                        &Screening::PAPER,
                        &mut status,
                        &mut selected,
                        None,
                        &mut w,
                        &mut mu,
                        &mut cov,
                        &mut work,
                    )
                    .unwrap();
                    black_box(r.radius)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, dfmr);
criterion_main!(benches);
