//! The edge-node firmwares run on an emulated Cortex-M4F (QEMU's `mps2-an386`, semihosting):
//! `firmware/node` (Rust, cortex-m-rt, mixkern as a dependency) and `firmware/node-c` (C against
//! the bare-metal `libmixkern.a` and `mixkern.h`), built by `firmware/build.sh` and run by
//! `firmware/run.sh`. Each simulates its samples, fits, encodes and prints its wire message.
//!
//! Asserted: both exit cleanly; both messages, and both nodes' chunked fits of 10,000 replayed
//! samples (`gmm_fit_chunked` / `mk_gmm_fit_chunked`, buffers under 32 KiB), are byte for byte
//! what this host computes from the same seeds (the f64 fit is bit-identical across x86_64 and the M4F's soft double), as
//! are the iteration count and the mean log-likelihood's bits; the centre decodes the message to
//! an estimate of the node's shape and sample size, near the truth; the SysTick calibration sees
//! 40 instructions per tick (25 MHz core clock at 1 ns of virtual time per instruction), so the
//! printed instruction counts are what they claim; both fits together use at most 4 KiB of stack
//! (painted).
//!
//! Skipped, with a message saying what to install, when QEMU or the Arm toolchain is missing;
//! under CI (`CI` set) that fails instead (`.ci/run` installs them).

mod common;

use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmFitOutputs, GmmInit, Mixture};
use mixkern::wire;
use std::process::Command;

const K: usize = 3;
const D: usize = 4;
const N: usize = 1000;

/// A node's result as it prints it: iterations, the mean log-likelihood's bits, the message.
struct NodeFit {
    iterations: usize,
    ll_bits: u64,
    message: Vec<u8>,
}

/// The batch fit of `x` with the round's preset from k-means++ (seed 1).
fn batch_fit(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>, gmm::GmmFitReport) {
    let mut work = vec![0.0; gmm::gmm_fit_work_len(n, K, D, CovKind::Full).unwrap()];
    let (mut fw, mut fm, mut fs) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * D * D]);
    let report = gmm::gmm_fit(
        x,
        n,
        D,
        K,
        &GmmFitOptions::for_round(),
        GmmInit::KMeansPlusPlus { seed: 1 },
        &mut fw,
        &mut fm,
        &mut fs,
        None,
        GmmFitOutputs::default(),
        &mut work,
    )
    .unwrap();
    (fw, fm, fs, report)
}

fn node_fit(w: &[f64], m: &[f64], s: &[f64], n: usize, report: &gmm::GmmFitReport) -> NodeFit {
    let estimate = Mixture::new(w, m, s, K, D, CovKind::Full).unwrap();
    let mut message = vec![0u8; 1024];
    let len = wire::encode(&estimate, n as u64, &mut message).unwrap();
    message.truncate(len);
    NodeFit {
        iterations: report.iterations,
        ll_bits: report.mean_log_likelihood.to_bits(),
        message,
    }
}

/// The host's run of the node's batch fit.
fn host_node() -> NodeFit {
    let (w, m, s, report) = batch_fit(&common::simulate_k3_d4(2026, N), N);
    node_fit(&w, &m, &s, N, &report)
}

/// The host's run of the firmwares' chunked fit: 10,000 samples in blocks of 50 (block j drawn
/// with seed 2027 + j), started from the batch fit of the first block.
fn host_chunked_node() -> NodeFit {
    const BLOCK: usize = 50;
    const N_CHUNKED: usize = 10_000;
    let (sw, sm, ss, _) = batch_fit(&common::simulate_k3_d4(2027, BLOCK), BLOCK);
    let start = Mixture::new(&sw, &sm, &ss, K, D, CovKind::Full).unwrap();
    let mut read = |first: usize, out: &mut [f64]| {
        if first >= N_CHUNKED {
            return Ok(0);
        }
        out.copy_from_slice(&common::simulate_k3_d4(
            2027 + (first / BLOCK) as u64,
            BLOCK,
        ));
        Ok(BLOCK)
    };
    let len = gmm::gmm_fit_chunked_work_len(BLOCK, K, D, CovKind::Full).unwrap();
    let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * D * D]);
    let report = gmm::gmm_fit_chunked(
        &mut read,
        D,
        BLOCK,
        &GmmFitOptions::for_round(),
        &start,
        &mut w,
        &mut m,
        &mut s,
        None,
        &mut vec![0.0; len],
    )
    .unwrap();
    node_fit(&w, &m, &s, N_CHUNKED, &report)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The words after `key` on the line that starts with it.
fn line<'a>(output: &'a str, key: &str) -> Vec<&'a str> {
    output
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no line `{key}` in:\n{output}"))
        .split_whitespace()
        .collect()
}

#[test]
fn both_firmwares_fit_on_a_cortex_m4f_bit_for_bit_as_the_host() {
    if !common::tools_on_path(
        &["qemu-system-arm", "arm-none-eabi-gcc"],
        "install QEMU and the Arm toolchain (Debian: apt-get install qemu-system-arm \
         gcc-arm-none-eabi libnewlib-arm-none-eabi) to run the firmwares; .ci/run installs them",
    ) {
        return;
    }
    common::rustup_target("thumbv7em-none-eabihf");
    let root = common::root();
    let build = Command::new("bash")
        .arg(root.join("firmware/build.sh"))
        .output()
        .expect("run firmware/build.sh");
    assert!(
        build.status.success(),
        "firmware/build.sh failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let elves = String::from_utf8(build.stdout).unwrap();
    let host = host_node();

    for (elf, name) in elves.lines().zip(["rust", "c"]) {
        let run = Command::new("bash")
            .arg(root.join("firmware/run.sh"))
            .arg(elf)
            .output()
            .expect("run firmware/run.sh");
        let out = String::from_utf8_lossy(&run.stdout).into_owned();
        assert!(
            run.status.success(),
            "{elf} failed under QEMU:\n{out}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(line(&out, "node "), [name, "k", "3", "d", "4", "n", "1000"]);

        let fit = line(&out, "fit ");
        assert_eq!(fit[..2], ["status", "0"], "{out}");
        assert_eq!(fit[3].parse::<usize>().unwrap(), host.iterations, "{name}");
        assert_eq!(
            u64::from_str_radix(fit[7], 16).unwrap(),
            host.ll_bits,
            "{name}: mean log-likelihood"
        );
        let message = hex_bytes(line(&out, "message ")[0]);
        assert!(
            message == host.message,
            "{name}: the firmware's message differs from the host's"
        );
        {
            // The node that cannot hold its samples: the chunked fit, bit for bit.
            let chunked = host_chunked_node();
            let fit = line(&out, "chunked fit ");
            assert_eq!(fit[..2], ["status", "0"], "{out}");
            assert_eq!(fit[3].parse::<usize>().unwrap(), chunked.iterations);
            assert_eq!(u64::from_str_radix(fit[7], 16).unwrap(), chunked.ll_bits);
            let message = hex_bytes(line(&out, "chunked message ")[0]);
            assert!(
                message == chunked.message,
                "the chunked fit's message differs"
            );
            let ram: usize = line(&out, "chunked ram ")[0].parse().unwrap();
            assert!(ram < 32 * 1024, "chunked fit buffers: {ram} bytes");
        }

        // The centre's side: the message decodes to the node's shape and sample size, and the
        // estimate is near the truth (components matched by their first mean coordinate).
        let header = wire::read_header(&message).unwrap();
        assert_eq!((header.k, header.d, header.sample_size), (K, D, N as u64));
        let (mut w, mut m, mut s) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * D * D]);
        let mut work = vec![0.0; wire::decode_work_len(K, D, CovKind::Full).unwrap()];
        let n = wire::decode(
            &message,
            K,
            D,
            CovKind::Full,
            &mut w,
            &mut m,
            &mut s,
            &mut work,
        )
        .unwrap();
        assert_eq!(n, N as u64);
        let (tw, tm, _) = common::mixture_k3_d4();
        for c in 0..K {
            let closest = (0..K)
                .min_by(|&a, &b| {
                    let da = (0..D)
                        .map(|j| (m[a * D + j] - tm[c * D + j]).powi(2))
                        .sum::<f64>();
                    let db = (0..D)
                        .map(|j| (m[b * D + j] - tm[c * D + j]).powi(2))
                        .sum::<f64>();
                    da.total_cmp(&db)
                })
                .unwrap();
            for j in 0..D {
                assert!(
                    (m[closest * D + j] - tm[c * D + j]).abs() < 0.3,
                    "{name}: mean {c}"
                );
            }
            assert!((w[closest] - tw[c]).abs() < 0.05, "{name}: weight {c}");
        }

        // The instruction count's calibration: 2,000,000 instructions are 50,000 ticks.
        let ticks = line(&out, "ticks ");
        let calibration: f64 = ticks[1].parse().unwrap();
        assert!(
            (2e6 / calibration - 40.0).abs() < 0.1,
            "{name}: {calibration} ticks for 2,000,000 instructions"
        );
        let stack: usize = line(&out, "stack ")[0].parse().unwrap();
        // Both fits in at most 4 KiB of stack (every buffer is static).
        assert!(stack > 256 && stack <= 4096, "{name}: stack {stack}");
        eprintln!(
            "{name}: {} instructions for the fit, stack {stack} bytes",
            ticks[3].parse::<f64>().unwrap() * 2e6 / calibration
        );
    }
}
