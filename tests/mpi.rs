//! The MPI examples, run with OpenMPI on loopback (`mpirun --oversubscribe`):
//! - `c_examples/mpi_round.c` (8 ranks, three of them Byzantine: a mean attack, a corrupted
//!   message, an absent message): the honest ranks' messages are byte for byte those this process
//!   computes for the same samples, the centre learns the shape from the messages, every rank's
//!   status is reported, DFMR pools no attacker, and every aggregate equals the single-process
//!   aggregation of the same messages bit for bit;
//! - `c_examples/mpi_em.c` (4 ranks, data sharded, statistics merged by `MPI_Allreduce`): the fit
//!   equals the single-process `gmm_fit` of all the shards to 1e-10.
//!
//! Skipped, with a message saying what to install, when `mpicc` or `mpirun` is missing; under
//! CI (`CI` set) a missing MPI fails instead (`.ci/run` installs it).

mod common;

use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmFitOutputs, GmmInit, Mixture};
use mixkern::robust::{self, Aggregator, Screening};
use mixkern::{wire, Status};
use std::path::{Path, PathBuf};
use std::process::Command;

const K: usize = 3;
const D: usize = 4;

/// `true` when MPI is there; otherwise says so, and fails under CI.
fn mpi_available() -> bool {
    common::tools_on_path(
        &["mpicc", "mpirun"],
        "install OpenMPI (Debian: apt-get install openmpi-bin libopenmpi-dev) to run the MPI \
         examples; .ci/run installs them",
    )
}

/// Builds an MPI example with `mpicc` against the static library `make` builds.
fn build_mpi_program(source: &str, name: &str) -> PathBuf {
    let lib = common::c_library();
    let exe = common::scratch_dir(name).join(name);
    let out = Command::new("mpicc")
        .args(["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(common::root().join("include"))
        .arg(common::root().join(source))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .output()
        .expect("run mpicc");
    assert!(
        out.status.success(),
        "mpicc {source} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs `exe` on `ranks` processes of this machine and returns rank 0's standard output.
fn mpirun(ranks: usize, exe: &Path, args: &[&str]) -> String {
    let out = Command::new("mpirun")
        .args(["--oversubscribe", "-np", &ranks.to_string()])
        .arg(exe)
        .args(args)
        // OpenMPI refuses root unless told (CI containers run as root).
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .expect("run mpirun");
    assert!(
        out.status.success(),
        "mpirun {} failed:\n{}{}",
        exe.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The words after `key` on the line that starts with it.
fn words_after<'a>(output: &'a str, key: &str) -> Vec<&'a str> {
    let line = output
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no line {key} in:\n{output}"));
    line[key.len()..].split_whitespace().collect()
}

/// The honest edge node's message for rank r: its samples, the round preset, its seed.
fn honest_message(rank: u64) -> Vec<u8> {
    let n = 2000;
    let x = common::simulate_k3_d4(1000 + rank, n);
    let opts = GmmFitOptions::for_round();
    let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * D * D]);
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, K, D, CovKind::Full).unwrap()];
    let init = GmmInit::KMeansPlusPlus { seed: 2026 + rank };
    let outputs = GmmFitOutputs::default();
    gmm::gmm_fit(
        &x, n, D, K, &opts, init, &mut w, &mut m, &mut s, None, outputs, &mut work,
    )
    .unwrap();
    let mix = Mixture::new(&w, &m, &s, K, D, CovKind::Full).unwrap();
    let mut message = vec![0u8; wire::message_len(K, D, CovKind::Full).unwrap()];
    wire::encode(&mix, n as u64, &mut message).unwrap();
    message
}

#[test]
fn the_round_across_processes_equals_the_single_process_round() {
    if !mpi_available() {
        return;
    }
    let exe = build_mpi_program("c_examples/mpi_round.c", "mpi_round");
    let dump = common::scratch_dir("mpi_round_messages");
    let ranks = 8;
    let attacks = [(2, "mean"), (5, "corrupt"), (7, "absent")];
    let mut args: Vec<String> = vec!["--dump".into(), dump.display().to_string()];
    for (rank, kind) in attacks {
        args.extend(["--attack".into(), format!("{rank}:{kind}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = mpirun(ranks, &exe, &args);
    println!("{output}");

    let messages: Vec<Vec<u8>> = (0..ranks)
        .map(|r| std::fs::read(dump.join(format!("rank_{r}.msg"))).unwrap())
        .collect();
    let byzantine = |r: usize| attacks.iter().any(|&(a, _)| a == r);
    for (r, message) in messages.iter().enumerate() {
        if !byzantine(r) {
            assert!(*message == honest_message(r as u64), "rank {r}'s message");
        }
    }
    assert!(messages[7].is_empty(), "the absent rank sends zero bytes");
    assert_eq!(
        words_after(&output, "ranks:"),
        [
            "m=8",
            "n=2000",
            "learned",
            "shape:",
            "k=3",
            "d=4",
            "cov_kind=0"
        ]
    );

    // Every rank's status and DFMR's choice, as rank 0 printed them.
    for r in 0..ranks {
        let words = words_after(&output, &format!("rank {r}:"));
        let field = |key: &str| {
            words
                .iter()
                .find_map(|w| w.strip_prefix(key))
                .unwrap_or_else(|| panic!("{key} of rank {r}"))
                .to_string()
        };
        let status: i32 = field("status=").parse().unwrap();
        let selected = field("selected=") == "1";
        match r {
            5 => assert_eq!(status, Status::BadMessage.code()),
            7 => assert_eq!(status, Status::MissingMessage.code()),
            _ => {}
        }
        if byzantine(r) {
            assert!(!selected, "rank {r} is Byzantine and was pooled");
        } else {
            assert_eq!(status, 0, "honest rank {r}");
        }
    }

    // The single-process aggregation of the same bytes, bit for bit.
    let as_options: Vec<Option<&[u8]>> = messages.iter().map(|m| Some(&m[..])).collect();
    let rho = robust::default_rho(ranks);
    let methods = [
        ("dfmr", Aggregator::Dfmr { rho }, Screening::default()),
        ("dfmr_paper", Aggregator::Dfmr { rho }, Screening::PAPER),
        ("vanilla", Aggregator::Vanilla, Screening::default()),
        (
            "trim",
            Aggregator::Trim { alpha: 0.5 },
            Screening::default(),
        ),
        ("coat", Aggregator::Coat, Screening::default()),
        ("medoid", Aggregator::Medoid, Screening::default()),
    ];
    for (name, method, screening) in methods {
        let a = common::aggregate_messages(method, &as_options, (K, D, CovKind::Full), &screening);
        let want: Vec<String> = a
            .weights
            .iter()
            .chain(&a.means)
            .chain(&a.covs)
            .map(|v| format!("{:016x}", v.to_bits()))
            .collect();
        assert_eq!(
            words_after(&output, &format!("{name}_bits:")),
            want,
            "{name}: the MPI round differs from the single-process one"
        );
        let pooled = words_after(&output, &format!("{name}:"))[1].to_string();
        assert_eq!(pooled, format!("pooled={}", a.report.selected), "{name}");
    }
}

#[test]
fn distributed_em_equals_the_single_process_fit() {
    if !mpi_available() {
        return;
    }
    let exe = build_mpi_program("c_examples/mpi_em.c", "mpi_em");
    let (ranks, iterations) = (4usize, 30usize);
    let output = mpirun(ranks, &exe, &[&iterations.to_string()]);
    println!("{output}");

    // The same shards, together, in one fit from the same start.
    let mut x = Vec::new();
    for r in 0..ranks {
        x.extend(common::simulate_k3_d4(500 + r as u64, 5000 + 1000 * r));
    }
    let n = x.len() / D;
    let (_, true_means, true_covs) = common::mixture_k3_d4();
    let weights = vec![1.0 / K as f64; K];
    let means: Vec<f64> = true_means.iter().map(|v| v + 0.5).collect();
    let covs: Vec<f64> = true_covs.iter().map(|v| 1.5 * v).collect();
    let start = Mixture::new(&weights, &means, &covs, K, D, CovKind::Full).unwrap();
    let opts = GmmFitOptions {
        tol: 0.0,
        max_iter: iterations,
        ..Default::default()
    };
    let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * D * D]);
    let mut trace = vec![0.0; iterations];
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, K, D, CovKind::Full).unwrap()];
    let outputs = GmmFitOutputs {
        trace: Some(&mut trace),
        ..Default::default()
    };
    gmm::gmm_fit(
        &x,
        n,
        D,
        K,
        &opts,
        GmmInit::Params(start),
        &mut w,
        &mut m,
        &mut s,
        None,
        outputs,
        &mut work,
    )
    .unwrap();

    let parse = |key: &str| -> Vec<f64> {
        words_after(&output, key)
            .iter()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let max_rel = |got: &[f64], want: &[f64]| {
        let scale = want.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
        got.iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs() / scale)
            .fold(0.0, f64::max)
    };
    let worst = [
        max_rel(&parse("weights:"), &w),
        max_rel(&parse("means:"), &m),
        max_rel(&parse("covs:"), &s),
    ];
    println!("largest differences, relative to each array's scale: {worst:?}");
    assert!(worst.iter().all(|&e| e <= 1e-10), "{worst:?}");
    for (t, want) in trace.iter().enumerate() {
        let got: f64 = words_after(&output, &format!("trace {t} "))[0]
            .parse()
            .unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want.abs(),
            "trace {t}: {got} vs {want}"
        );
    }
    assert_eq!(
        words_after(&output, "ranks:")[..3],
        ["4", "samples:", &n.to_string()]
    );
}
