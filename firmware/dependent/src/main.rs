//! A bare-metal binary that fits a Gaussian mixture with mixkern: simulated samples in a static
//! buffer, a k-means++ EM fit, the estimate encoded as a wire message. Its entry point is
//! `_start`; without a vector table it is a link check, not a firmware to flash.
#![no_std]
#![no_main]

use core::panic::PanicInfo;
use mixkern::gmm::{self, CovKind, GmmFitOptions, GmmFitOutputs, GmmInit, Mixture};

const K: usize = 2;
const D: usize = 2;
const N: usize = 64;
const WORK: usize = 4096;

/// The node's samples and scratch: static, since there is no heap.
struct Buffers {
    x: [f64; N * D],
    work: [f64; WORK],
    message: [u8; 128],
}

static mut BUFFERS: Buffers = Buffers {
    x: [0.0; N * D],
    work: [0.0; WORK],
    message: [0; 128],
};

/// Simulates, fits and encodes; returns the message length (0 on any error).
fn fit_and_encode(b: &mut Buffers) -> usize {
    let truth = [0.5, 0.5];
    let means = [0.0, 0.0, 4.0, 4.0];
    let covs = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
    let Ok(mix) = Mixture::new(&truth, &means, &covs, K, D, CovKind::Full) else {
        return 0;
    };
    if gmm::simulate(7, &mix, N, &mut b.x, None, &mut b.work).is_err() {
        return 0;
    }
    let (mut w, mut mu, mut s) = ([0.0; K], [0.0; K * D], [0.0; K * D * D]);
    let fitted = gmm::gmm_fit(
        &b.x,
        N,
        D,
        K,
        &GmmFitOptions::default(),
        GmmInit::KMeansPlusPlus { seed: 1 },
        &mut w,
        &mut mu,
        &mut s,
        None,
        GmmFitOutputs::default(),
        &mut b.work,
    );
    if fitted.is_err() {
        return 0;
    }
    let Ok(estimate) = Mixture::new(&w, &mu, &s, K, D, CovKind::Full) else {
        return 0;
    };
    mixkern::wire::encode(&estimate, N as u64, &mut b.message).unwrap_or(0)
}

/// The entry point.
#[no_mangle]
pub extern "C" fn _start() -> ! {
    // SAFETY: the only reference to the buffers, taken once at start-up.
    let buffers = unsafe { &mut *core::ptr::addr_of_mut!(BUFFERS) };
    let len = fit_and_encode(buffers);
    // Keep the result observable so the fit is not optimized away.
    unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!(buffers.message[127]), len as u8) };
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
