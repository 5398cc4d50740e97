//! The edge-node firmwares run on an emulated Cortex-M4F (QEMU's `mps2-an386`, semihosting):
//! `firmware/node` (Rust, cortex-m-rt, mixkern as a dependency) and `firmware/node-c` (C against
//! the bare-metal `libmixkern.a` and `mixkern.h`), built by `firmware/build.sh` and run by
//! `firmware/run.sh`. Each simulates its samples, fits, encodes and prints its wire message.
//!
//! Asserted: both exit cleanly; both messages are byte for byte the message this host computes
//! from the same seeds (the f64 fit is bit-identical across x86_64 and the M4F's soft double), as
//! are the iteration count and the mean log-likelihood's bits; the centre decodes the message to
//! an estimate of the node's shape and sample size, near the truth; the SysTick calibration sees
//! 40 instructions per tick (25 MHz core clock at 1 ns of virtual time per instruction), so the
//! printed instruction counts are what they claim.
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

/// What firmware/node and firmware/node-c sample from.
fn truth() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    #[rustfmt::skip]
    let covs = vec![
        1.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 0.8, 0.0, 0.1, 0.0, 0.0, 1.2,
        0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5,
        2.0, -0.5, 0.0, 0.0, -0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.3, 1.0,
    ];
    let means = vec![0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, -4.0, 3.0, 2.0, 1.0];
    (vec![0.5, 0.3, 0.2], means, covs)
}

/// The host's run of the node: (iterations, mean log-likelihood bits, message).
fn host_node() -> (usize, u64, Vec<u8>) {
    let (w, m, s) = truth();
    let mix = Mixture::new(&w, &m, &s, K, D, CovKind::Full).unwrap();
    let mut x = vec![0.0; N * D];
    let mut work = vec![0.0; gmm::gmm_fit_work_len(N, K, D, CovKind::Full).unwrap()];
    gmm::simulate(2026, &mix, N, &mut x, None, &mut work).unwrap();
    let (mut fw, mut fm, mut fs) = (vec![0.0; K], vec![0.0; K * D], vec![0.0; K * D * D]);
    let report = gmm::gmm_fit(
        &x,
        N,
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
    let estimate = Mixture::new(&fw, &fm, &fs, K, D, CovKind::Full).unwrap();
    let mut message = vec![0u8; 1024];
    let len = wire::encode(&estimate, N as u64, &mut message).unwrap();
    message.truncate(len);
    (
        report.iterations,
        report.mean_log_likelihood.to_bits(),
        message,
    )
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
    let (host_iterations, host_ll_bits, host_message) = host_node();

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
        assert_eq!(fit[3].parse::<usize>().unwrap(), host_iterations, "{name}");
        assert_eq!(
            u64::from_str_radix(fit[7], 16).unwrap(),
            host_ll_bits,
            "{name}: mean log-likelihood"
        );
        let message = hex_bytes(line(&out, "message ")[0]);
        assert!(
            message == host_message,
            "{name}: the firmware's message differs from the host's"
        );

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
        let (tw, tm, _) = truth();
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
        assert!(stack > 256 && stack < 64 * 1024, "{name}: stack {stack}");
        eprintln!(
            "{name}: {} instructions for the fit, stack {stack} bytes",
            ticks[3].parse::<f64>().unwrap() * 2e6 / calibration
        );
    }
}
