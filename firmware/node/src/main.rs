//! An edge node of the distributed round on a Cortex-M4F: it simulates its sensor's samples
//! (n = 1000 draws of a K = 3 mixture in d = 4 dimensions), fits a Gaussian mixture with the
//! round's preset, encodes the estimate as a wire message, and prints over semihosting:
//!
//! ```text
//! node rust k 3 d 4 n 1000
//! fit status 0 iterations <i> converged <0|1> loglik_bits <hex of the mean log-likelihood>
//! message <the wire message, hex>
//! ticks calibration <SysTick ticks of 2,000,000 instructions> fit <ticks of the fit>
//! chunked fit status 0 iterations <i> converged <0|1> loglik_bits <hex>
//! chunked message <hex>
//! chunked ram <bytes of the chunked fit's buffers> ticks <ticks of the chunked fit>
//! stack <bytes of stack used by both fits (painted)>
//! ```
//!
//! The chunked lines are a node that cannot hold its samples: its sensor replays n = 10,000
//! samples in blocks of 50 (block j drawn with seed SAMPLE_SEED + 1 + j), which
//! `gmm_fit_chunked` reads one block at a time, in memory that does not depend on n; the start
//! is `gmm_fit` of the first block.
//!
//! Under QEMU with `-icount shift=0` every instruction advances the virtual clock by 1 ns, so
//! SysTick ticks measure instructions; the calibration loop runs a known 2,000,000 of them.
//! tests/firmware_qemu.rs runs it and checks the message against the host's, bit for bit.
#![no_std]
#![no_main]

use core::arch::asm;
use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::{entry, exception};
use cortex_m_semihosting::{debug, hprint, hprintln};
use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmFitOutputs, GmmInit, Mixture};

const K: usize = 3;
const D: usize = 4;
const N: usize = 1000;
/// `gmm_fit_work_len(N, K, D, Full)` (checked at run time).
const WORK: usize = 8813;
const MESSAGE: usize = 24 + 8 * K * (1 + D + D * (D + 1) / 2) + 4;
/// The sensor's seed and the k-means++ seed (the host test uses the same).
const SAMPLE_SEED: u64 = 2026;
const FIT_SEED: u64 = 1;
const PAINT: u32 = 0x5AA5_C33C;
/// The replayed sensor: N_CHUNKED samples in blocks of BLOCK, read one block per call.
const N_CHUNKED: usize = 10_000;
const BLOCK: usize = 50;
/// `gmm_fit_chunked_work_len(BLOCK, K, D, Full)` and `gmm_fit_work_len(BLOCK, K, D, Full)`
/// (checked at run time).
const CHUNKED_WORK: usize = 1_299;
const BLOCK_FIT_WORK: usize = 1_213;

/// The samples, the fit's scratch and the message: static, since there is no heap.
static mut X: [f64; N * D] = [0.0; N * D];
static mut WORK_BUF: [f64; WORK] = [0.0; WORK];
static mut MESSAGE_BUF: [u8; MESSAGE] = [0; MESSAGE];
/// The chunked fit's buffers: its workspace, one block of samples, the start's fit workspace.
static mut CHUNKED_BUF: [f64; CHUNKED_WORK] = [0.0; CHUNKED_WORK];
static mut BLOCK_BUF: [f64; BLOCK * D] = [0.0; BLOCK * D];
static mut BLOCK_FIT_BUF: [f64; BLOCK_FIT_WORK] = [0.0; BLOCK_FIT_WORK];

/// One mixture's parameters; static, like every buffer here, so that the stack holds only the
/// call frames.
struct Params {
    w: [f64; K],
    mu: [f64; K * D],
    s: [f64; K * D * D],
}

const NO_PARAMS: Params = Params {
    w: [0.0; K],
    mu: [0.0; K * D],
    s: [0.0; K * D * D],
};
/// The fit (batch, then chunked) and the chunked fit's start.
static mut FIT: Params = NO_PARAMS;
static mut START: Params = NO_PARAMS;

/// SysTick wraps (every 2^24 ticks).
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Ticks since the counter started (the 24-bit down-counter and its wraps).
fn ticks() -> u64 {
    loop {
        let before = WRAPS.load(Ordering::Relaxed);
        let current = SYST::get_current();
        if WRAPS.load(Ordering::Relaxed) == before {
            return (u64::from(before) << 24) + u64::from(0x00FF_FFFF - current);
        }
    }
}

/// 1,000,000 iterations of a two-instruction loop.
fn calibration_loop() {
    let mut count: u32 = 1_000_000;
    // SAFETY: a register-only countdown loop.
    unsafe {
        asm!("2:", "subs {0}, #1", "bne 2b", inout(reg) count, options(nomem, nostack));
    }
    let _ = count;
}

/// The truth the sensor samples from: weights, means, covariances.
const TRUTH_W: [f64; K] = [0.5, 0.3, 0.2];
const TRUTH_MU: [f64; K * D] = [0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, -4.0, 3.0, 2.0, 1.0];
#[rustfmt::skip]
const TRUTH_S: [f64; K * D * D] = [
    1.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 0.8, 0.0, 0.1, 0.0, 0.0, 1.2,
    0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5,
    2.0, -0.5, 0.0, 0.0, -0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.3, 1.0,
];

/// The bytes of the stack below the current stack pointer that were written since `paint`.
struct StackPaint {
    bottom: *mut u32,
    top: *mut u32,
}

impl StackPaint {
    /// Fills the free stack (from the end of the static data up to a margin below the current
    /// stack pointer) with a pattern.
    fn paint() -> StackPaint {
        extern "C" {
            static mut __sheap: u32;
            static _stack_start: u32;
        }
        let sp = cortex_m::register::msp::read() as *mut u32;
        // SAFETY: the region between the heap start (nothing uses a heap here) and 64 words
        // below the stack pointer is free memory.
        unsafe {
            let bottom = core::ptr::addr_of_mut!(__sheap);
            let limit = sp.sub(64);
            let mut p = bottom;
            while p < limit {
                p.write_volatile(PAINT);
                p = p.add(1);
            }
            StackPaint {
                bottom,
                top: core::ptr::addr_of!(_stack_start) as *mut u32,
            }
        }
    }

    /// The stack's high-water mark: bytes from its top to the lowest overwritten word.
    fn used(&self) -> usize {
        let mut p = self.bottom;
        // SAFETY: reads within the painted region.
        unsafe {
            while p < self.top && p.read_volatile() == PAINT {
                p = p.add(1);
            }
        }
        self.top as usize - p as usize
    }
}

#[entry]
fn main() -> ! {
    let paint = StackPaint::paint();
    let mut core = cortex_m::Peripherals::take().unwrap();
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(0x00FF_FFFF);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();

    // SAFETY: the only references to the buffers, taken once here.
    let (x, work, message, fit) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(X),
            &mut *core::ptr::addr_of_mut!(WORK_BUF),
            &mut *core::ptr::addr_of_mut!(MESSAGE_BUF),
            &mut *core::ptr::addr_of_mut!(FIT),
        )
    };
    hprintln!("node rust k {} d {} n {}", K, D, N);
    if gmm::gmm_fit_work_len(N, K, D, CovKind::Full) != Ok(WORK) {
        hprintln!("error: WORK is not gmm_fit_work_len(N, K, D, Full)");
        debug::exit(debug::EXIT_FAILURE);
    }
    let mix = Mixture::new(&TRUTH_W, &TRUTH_MU, &TRUTH_S, K, D, CovKind::Full).unwrap();
    gmm::simulate(SAMPLE_SEED, &mix, N, x, None, work).unwrap();

    let start = ticks();
    calibration_loop();
    let calibration = ticks() - start;

    let start = ticks();
    let fitted = gmm::gmm_fit(
        x,
        N,
        D,
        K,
        &GmmFitOptions::for_round(),
        GmmInit::KMeansPlusPlus { seed: FIT_SEED },
        &mut fit.w,
        &mut fit.mu,
        &mut fit.s,
        None,
        GmmFitOutputs::default(),
        work,
    );
    let fit_ticks = ticks() - start;
    print_fit("", fitted, fit, N, message);
    hprintln!("ticks calibration {} fit {}", calibration, fit_ticks);
    chunked_node(&mix, fit, message);
    hprintln!("stack {}", paint.used());
    debug::exit(debug::EXIT_SUCCESS);
    loop {}
}

/// Prints `<label>fit status 0 iterations .. converged .. loglik_bits ..` and
/// `<label>message <hex>` for a fit of n samples, or its failure status and exits.
fn print_fit(
    label: &str,
    fitted: Result<gmm::GmmFitReport, mixkern::Status>,
    fit: &Params,
    n: usize,
    message: &mut [u8],
) {
    let report = match fitted {
        Ok(r) => r,
        Err(status) => {
            hprintln!("{}fit status {}", label, status as i32);
            debug::exit(debug::EXIT_FAILURE);
            return;
        }
    };
    hprintln!(
        "{}fit status 0 iterations {} converged {} loglik_bits {:016x}",
        label,
        report.iterations,
        report.converged as u8,
        report.mean_log_likelihood.to_bits()
    );
    let estimate = Mixture::new(&fit.w, &fit.mu, &fit.s, K, D, CovKind::Full).unwrap();
    let len = mixkern::wire::encode(&estimate, n as u64, message).unwrap();
    hprint!("{}message ", label);
    for byte in &message[..len] {
        hprint!("{:02x}", byte);
    }
    hprintln!();
}

/// The node that cannot hold its samples (see the module docs).
fn chunked_node(truth: &Mixture, fit: &mut Params, message: &mut [u8]) {
    // SAFETY: the only references to these buffers, taken once here.
    let (work, block, block_work, start) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(CHUNKED_BUF),
            &mut *core::ptr::addr_of_mut!(BLOCK_BUF),
            &mut *core::ptr::addr_of_mut!(BLOCK_FIT_BUF),
            &mut *core::ptr::addr_of_mut!(START),
        )
    };
    if gmm::gmm_fit_chunked_work_len(BLOCK, K, D, CovKind::Full) != Ok(CHUNKED_WORK)
        || gmm::gmm_fit_work_len(BLOCK, K, D, CovKind::Full) != Ok(BLOCK_FIT_WORK)
    {
        hprintln!("error: CHUNKED_WORK or BLOCK_FIT_WORK is not the work length");
        debug::exit(debug::EXIT_FAILURE);
    }
    let start_ticks = ticks();
    // The start: the batch fit of the first block.
    gmm::simulate(SAMPLE_SEED + 1, truth, BLOCK, block, None, block_work).unwrap();
    gmm::gmm_fit(
        block,
        BLOCK,
        D,
        K,
        &GmmFitOptions::for_round(),
        GmmInit::KMeansPlusPlus { seed: FIT_SEED },
        &mut start.w,
        &mut start.mu,
        &mut start.s,
        None,
        GmmFitOutputs::default(),
        block_work,
    )
    .unwrap();
    let start = Mixture::new(&start.w, &start.mu, &start.s, K, D, CovKind::Full).unwrap();
    // The sensor's replay: block j of the samples, drawn again on demand.
    let mut read = |first: usize, out: &mut [f64]| {
        if first >= N_CHUNKED {
            return Ok(0);
        }
        let seed = SAMPLE_SEED + 1 + (first / BLOCK) as u64;
        gmm::simulate(seed, truth, BLOCK, out, None, block_work)?;
        Ok(BLOCK)
    };
    let fitted = gmm::gmm_fit_chunked(
        &mut read,
        D,
        BLOCK,
        &GmmFitOptions::for_round(),
        &start,
        &mut fit.w,
        &mut fit.mu,
        &mut fit.s,
        None,
        work,
    );
    let fit_ticks = ticks() - start_ticks;
    print_fit("chunked ", fitted, fit, N_CHUNKED, message);
    // Its buffers: the workspace, a block, the start's fit workspace and the start.
    let ram = 8 * (CHUNKED_WORK + BLOCK * D + BLOCK_FIT_WORK + K + K * D + K * D * D);
    hprintln!("chunked ram {} ticks {}", ram, fit_ticks);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
