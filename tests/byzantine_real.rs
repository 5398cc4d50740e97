//! Byzantine-tolerant aggregation on real data: the earthquakes off Fiji (R's
//! `datasets::quakes`, 1000 events; latitude, longitude, depth in km, Richter magnitude; d = 4;
//! tests/data/quakes.csv, see README, "Reference data"), split over m = 20 machines.
//!
//! The rows are shuffled (seeded); 800 train the machines (40 each: K d = 12 <= 40 <= 120 =
//! 10 K d) and 200 are held out. Each machine fits K = 3 full covariances and sends a wire
//! message. The data is used in its own units (depth in hundreds of km next to magnitudes
//! within 2 units), as a user would send it.
//!
//! Two settings, each a local fit and an aggregation:
//! - robust (the defaults for a round): `GmmFitOptions::for_round()` at the nodes and
//!   `Screening::default()` at the centre;
//! - paper: the DFMR authors' penalized fit (pMLE; 3 restarts, tol 1e-6) and `Screening::PAPER`
//!   (no screening, the plain L2 distance).
//!
//! Scenarios: no attack, and at alpha = 0.2 and 0.4 (4 and 8 of 20 machines, the first of a
//! seeded order) the attacks, in the units of the data (sd = the per-coordinate standard
//! deviations of the 800 training rows, what an attacker could know):
//! - `mean`: every mean replaced by mean + 100 sd z, z ~ N(0, I) (the paper's mean attack);
//! - `mean1`: the same on one seeded component;
//! - `cov`: every S_k replaced by S_k + (sd W)(sd W)^T, W of N(0, 1) draws (the paper's);
//! - `shrink`, `inflate`: every S_k times 0.1, times 10;
//! - `weight`: the weights redrawn from Dirichlet(a), a_k uniform on {10, ..., 19} (the
//!   paper's);
//! - `collude`: every Byzantine machine sends one mixture, the first one's fit with its means
//!   shifted by 1 sd in every coordinate;
//! - `corrupt`: messages with one flipped payload byte (the checksum fails);
//! - `mixed`: the Byzantine machines take turns at mean, shrink, inflate and corrupt.
//!
//! Metrics: the mean log-likelihood of the 200 held-out rows, and the adjusted Rand index of
//! their MAP labels against the labels of the reference fit (EM on all 800 training rows, K = 3,
//! 10 restarts): the data has no class labels, so the reference is the centralized fit a
//! single trusted machine would make. The Oracle is Vanilla (the MM reduction of every
//! estimate) over the honest machines' messages, in the same setting.
//!
//! Asserted for the robust setting, in every scenario but one: no Byzantine machine is pooled,
//! ARI >= the Oracle's - 0.02, test log-likelihood within 1% of the Oracle's; every corrupted
//! message is reported as `BadMessage`. `cargo test --test byzantine_real -- --nocapture`
//! prints both tables.
//!
//! The exception, stated: the paper's weight attack at alpha = 0.4. Its estimates are honest
//! fits with weights redrawn around 1/3 each (standard deviation about 0.07), and with 40
//! samples a machine's honest weights scatter as much (binomial, about 0.07): they lie inside
//! the honest spread (as on the paper's own simulation, `tests/dfmr_paper.rs`). At alpha = 0.2
//! none is pooled; at 0.4, 6 of 8 are, and DFMR scores ARI 0.72 and log-likelihood -12.28
//! against the Oracle's 0.82 and -12.13 (1.2%). The table shows it; nothing is asserted there.

#![allow(clippy::needless_range_loop)] // indices name machines and components across arrays

mod common;

use common::adjusted_rand_index;
use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmInit, Mixture};
use mixkern::rng::Rng;
use mixkern::robust::{default_rho, AggregateReport, Aggregator, Screening};
use mixkern::wire;
use mixkern::Status;

const K: usize = 3;
const D: usize = 4;
const C: usize = D * D;
const M: usize = 20;
const N_LOCAL: usize = 40;
const N_TRAIN: usize = M * N_LOCAL;
const KIND: CovKind = CovKind::Full;

/// One estimate: K components, full covariances in dimension D.
#[derive(Clone, Debug)]
struct Est {
    w: Vec<f64>,
    mu: Vec<f64>,
    cov: Vec<f64>,
}

impl Est {
    fn zeros() -> Est {
        Est {
            w: vec![0.0; K],
            mu: vec![0.0; K * D],
            cov: vec![0.0; K * C],
        }
    }

    fn mixture(&self) -> Mixture<'_> {
        Mixture::new(&self.w, &self.mu, &self.cov, K, D, KIND).expect("a valid mixture")
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; wire::message_len(K, D, KIND).unwrap()];
        wire::encode(&self.mixture(), N_LOCAL as u64, &mut out).expect("encode");
        out
    }
}

/// The quakes' (lat, long, depth, mag) rows.
fn quakes() -> Vec<[f64; D]> {
    let path = common::root().join("tests/data/quakes.csv");
    let text = std::fs::read_to_string(&path).expect("tests/data/quakes.csv");
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<f64> = line
                .split(',')
                .skip(1)
                .map(|v| v.parse().unwrap())
                .collect();
            [f[0], f[1], f[2], f[3]]
        })
        .collect()
}

/// Fits K components to the rows `x` (n x D) with `opts` from k-means++ at `seed`.
fn fit(x: &[f64], opts: &GmmFitOptions, seed: u64) -> Est {
    let n = x.len() / D;
    let mut e = Est::zeros();
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, K, D, KIND).unwrap()];
    gmm::gmm_fit(
        x,
        n,
        D,
        K,
        opts,
        GmmInit::KMeansPlusPlus { seed },
        &mut e.w,
        &mut e.mu,
        &mut e.cov,
        None,
        gmm::GmmFitOutputs::default(),
        &mut work,
    )
    .expect("fit");
    e
}

fn labels(e: &Est, x: &[f64]) -> Vec<usize> {
    let n = x.len() / D;
    let mut out = vec![0; n];
    let mut work = vec![0.0; gmm::density_work_len(K, D, KIND).unwrap()];
    gmm::hard_labels(&e.mixture(), x, n, &mut out, &mut work).expect("labels");
    out
}

fn mean_log_likelihood(e: &Est, x: &[f64]) -> f64 {
    let mut work = vec![0.0; gmm::density_work_len(K, D, KIND).unwrap()];
    gmm::log_likelihood(&e.mixture(), x, x.len() / D, &mut work)
        .expect("log-likelihood")
        .mean
}

/// A local fit and an aggregation.
struct Setting {
    name: &'static str,
    fit: GmmFitOptions,
    screening: Screening,
}

fn settings() -> [Setting; 2] {
    [
        Setting {
            name: "robust",
            fit: GmmFitOptions::for_round(),
            screening: Screening::default(),
        },
        Setting {
            name: "paper",
            fit: GmmFitOptions {
                penalized: true,
                tol: 1e-6,
                max_iter: 500,
                n_init: 3,
                ..GmmFitOptions::default()
            },
            screening: Screening::PAPER,
        },
    ]
}

/// The data, split and shuffled, and what the scenarios share.
struct Data {
    /// The 20 machines' rows, 40 each.
    train: Vec<Vec<f64>>,
    test: Vec<f64>,
    /// Reference labels of the test rows (the centralized fit's).
    reference: Vec<usize>,
    mean: [f64; D],
    sd: [f64; D],
    /// The seeded order in which machines turn Byzantine.
    order: Vec<usize>,
}

fn data() -> Data {
    let mut rows = quakes();
    assert_eq!(rows.len(), 1000);
    let mut rng = Rng::new(13);
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let flat = |r: &[[f64; D]]| r.iter().flatten().copied().collect::<Vec<f64>>();
    let train_rows = &rows[..N_TRAIN];
    let train: Vec<Vec<f64>> = train_rows.chunks(N_LOCAL).map(flat).collect();
    let test = flat(&rows[N_TRAIN..]);
    let mut mean = [0.0; D];
    let mut sd = [0.0; D];
    for a in 0..D {
        mean[a] = train_rows.iter().map(|r| r[a]).sum::<f64>() / N_TRAIN as f64;
        sd[a] = (train_rows
            .iter()
            .map(|r| (r[a] - mean[a]).powi(2))
            .sum::<f64>()
            / (N_TRAIN - 1) as f64)
            .sqrt();
    }
    let central = fit(
        &flat(train_rows),
        &GmmFitOptions {
            tol: 1e-8,
            max_iter: 1000,
            n_init: 10,
            ..GmmFitOptions::default()
        },
        1,
    );
    let reference = labels(&central, &test);
    let mut order: Vec<usize> = (0..M).collect();
    for i in (1..M).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    Data {
        train,
        test,
        reference,
        mean,
        sd,
        order,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Attack {
    None,
    Mean,
    Mean1,
    Cov,
    Shrink,
    Inflate,
    Weight,
    Collude,
    Corrupt,
    Mixed,
}

const ATTACKS: [Attack; 9] = [
    Attack::Mean,
    Attack::Mean1,
    Attack::Cov,
    Attack::Shrink,
    Attack::Inflate,
    Attack::Weight,
    Attack::Collude,
    Attack::Corrupt,
    Attack::Mixed,
];

/// The message Byzantine machine number j (0-based among the Byzantine) sends instead of
/// `honest`; `first` is the first Byzantine machine's honest fit (for `collude`).
fn attacked(
    attack: Attack,
    j: usize,
    rng: &mut Rng,
    honest: &Est,
    first: &Est,
    x: &Data,
) -> Vec<u8> {
    let mut e = honest.clone();
    let attack = match attack {
        Attack::Mixed => [
            Attack::Mean,
            Attack::Shrink,
            Attack::Inflate,
            Attack::Corrupt,
        ][j % 4],
        a => a,
    };
    match attack {
        Attack::None | Attack::Mixed => unreachable!(),
        Attack::Mean | Attack::Mean1 => {
            let hit = rng.below(K as u64) as usize;
            for k in (0..K).filter(|&k| attack == Attack::Mean || k == hit) {
                for a in 0..D {
                    e.mu[k * D + a] = x.mean[a] + 100.0 * x.sd[a] * rng.normal();
                }
            }
        }
        Attack::Cov => {
            for k in 0..K {
                let w: Vec<f64> = (0..C).map(|_| rng.normal()).collect();
                for a in 0..D {
                    for b in 0..D {
                        let s: f64 = (0..D).map(|t| w[a * D + t] * w[b * D + t]).sum();
                        e.cov[k * C + a * D + b] += x.sd[a] * x.sd[b] * s;
                    }
                }
            }
        }
        Attack::Shrink => e.cov.iter_mut().for_each(|v| *v *= 0.1),
        Attack::Inflate => e.cov.iter_mut().for_each(|v| *v *= 10.0),
        Attack::Weight => {
            let g: Vec<f64> = (0..K)
                .map(|_| {
                    let a = 10 + rng.below(10);
                    (0..a).map(|_| -(1.0 - rng.uniform()).ln()).sum::<f64>()
                })
                .collect();
            let s: f64 = g.iter().sum();
            e.w = g.iter().map(|v| v / s).collect();
        }
        Attack::Collude => {
            e = first.clone();
            for mean in e.mu.chunks_exact_mut(D) {
                for a in 0..D {
                    mean[a] += x.sd[a];
                }
            }
        }
        Attack::Corrupt => {
            let mut msg = e.encode();
            let at = wire::WIRE_HEADER_LEN + rng.below(8 * (K + K * D) as u64) as usize;
            msg[at] ^= 1 << rng.below(8);
            return msg;
        }
    }
    e.encode()
}

/// What one method did in one scenario.
#[derive(Clone, Copy, Debug)]
struct Score {
    log_likelihood: f64,
    ari: f64,
    byzantine_pooled: usize,
    honest_pooled: usize,
}

struct Outcome {
    est: Est,
    report: AggregateReport,
    status: Vec<i32>,
    selected: Vec<u8>,
}

fn aggregate(messages: &[Option<&[u8]>], screening: &Screening, method: Aggregator) -> Outcome {
    let a = common::aggregate_messages(method, messages, (K, D, KIND), screening);
    assert_eq!(a.report.reduce.kept, K);
    Outcome {
        est: Est {
            w: a.weights,
            mu: a.means,
            cov: a.covs,
        },
        report: a.report,
        status: a.status,
        selected: a.selected,
    }
}

/// One scenario in one setting: (Oracle, DFMR) scores and DFMR's per-machine statuses.
fn scenario(
    x: &Data,
    fits: &[Est],
    setting: &Setting,
    alpha: f64,
    attack: Attack,
) -> ([Score; 2], Vec<bool>, Outcome) {
    let count = (alpha * M as f64).round() as usize;
    let mut byzantine = vec![false; M];
    for &i in &x.order[..count] {
        byzantine[i] = true;
    }
    let mut rng = Rng::new(7000 + 100 * attack as u64 + count as u64);
    let first = &fits[x.order[0]];
    let mut messages: Vec<Vec<u8>> = fits.iter().map(Est::encode).collect();
    for (j, &i) in x.order[..count].iter().enumerate() {
        messages[i] = attacked(attack, j, &mut rng, &fits[i], first, x);
    }
    let view: Vec<Option<&[u8]>> = messages.iter().map(|v| Some(v.as_slice())).collect();
    let honest: Vec<Option<&[u8]>> = (0..M).filter(|&i| !byzantine[i]).map(|i| view[i]).collect();
    let score = |o: &Outcome, byz: &dyn Fn(usize) -> bool| Score {
        log_likelihood: mean_log_likelihood(&o.est, &x.test),
        ari: adjusted_rand_index(&x.reference, &labels(&o.est, &x.test)),
        byzantine_pooled: (0..o.selected.len())
            .filter(|&i| o.selected[i] == 1 && byz(i))
            .count(),
        honest_pooled: (0..o.selected.len())
            .filter(|&i| o.selected[i] == 1 && !byz(i))
            .count(),
    };
    let oracle = aggregate(&honest, &setting.screening, Aggregator::Vanilla);
    let dfmr = aggregate(
        &view,
        &setting.screening,
        Aggregator::Dfmr {
            rho: default_rho(M),
        },
    );
    let scores = [score(&oracle, &|_| false), score(&dfmr, &|i| byzantine[i])];
    (scores, byzantine, dfmr)
}

#[test]
fn robust_round_on_real_data() {
    let x = data();
    let mut failures = vec![];
    for setting in settings() {
        let fits: Vec<Est> = (0..M)
            .map(|i| fit(&x.train[i], &setting.fit, 100 + i as u64))
            .collect();
        println!(
            "\n{} setting: scenario | Oracle LL, ARI | DFMR LL, ARI | pooled honest + Byzantine | statuses",
            setting.name
        );
        let mut cases = vec![(0.0, Attack::None)];
        for alpha in [0.2, 0.4] {
            cases.extend(ATTACKS.iter().map(|&a| (alpha, a)));
        }
        for (alpha, attack) in cases {
            let ([oracle, dfmr], byzantine, out) = scenario(&x, &fits, &setting, alpha, attack);
            let statuses: Vec<String> = (0..M)
                .filter(|&i| out.status[i] != 0)
                .map(|i| {
                    format!(
                        "{i}{}:{}",
                        if byzantine[i] { "B" } else { "" },
                        out.status[i]
                    )
                })
                .collect();
            println!(
                "{:>7} {alpha:.1} | {:9.4} {:.3} | {:9.4} {:.3} | {:2} + {} | coat {} r {:.3e} | {}",
                format!("{attack:?}"),
                oracle.log_likelihood,
                oracle.ari,
                dfmr.log_likelihood,
                dfmr.ari,
                dfmr.honest_pooled,
                dfmr.byzantine_pooled,
                out.report.coat,
                out.report.radius,
                statuses.join(" ")
            );
            if setting.name != "robust" || (attack, alpha) == (Attack::Weight, 0.4) {
                continue;
            }
            let case = format!("{attack:?} at alpha {alpha}");
            if dfmr.byzantine_pooled > 0 {
                failures.push(format!(
                    "{case}: {} Byzantine pooled",
                    dfmr.byzantine_pooled
                ));
            }
            if dfmr.ari < oracle.ari - 0.02 {
                failures.push(format!("{case}: ARI {} < {} - 0.02", dfmr.ari, oracle.ari));
            }
            let gap = (dfmr.log_likelihood - oracle.log_likelihood).abs();
            if gap > 0.01 * oracle.log_likelihood.abs() {
                failures.push(format!(
                    "{case}: log-likelihood {} vs {}",
                    dfmr.log_likelihood, oracle.log_likelihood
                ));
            }
            for i in 0..M {
                let corrupt = attack == Attack::Corrupt
                    || (attack == Attack::Mixed
                        && x.order
                            .iter()
                            .position(|&o| o == i)
                            .is_some_and(|j| j % 4 == 3));
                if byzantine[i] && corrupt && out.status[i] != Status::BadMessage.code() {
                    failures.push(format!("{case}: machine {i} status {}", out.status[i]));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
