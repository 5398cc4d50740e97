//! Run-time CPU feature detection, without std: the hot kernels are compiled twice, for the
//! target's baseline and (on x86_64) for AVX2, and pick one per call from what the CPU has.
//!
//! Both instances perform exactly the same IEEE operations in the same order (Rust neither
//! reassociates nor contracts floating-point arithmetic; wider registers only run more lanes
//! at once), so their results are bitwise identical: a test checks it.

/// Whether the CPU and the OS support AVX2 (x86_64 only: elsewhere the dispatch compiles only
/// the baseline instance). The answer is computed once and cached.
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2() -> bool {
    use core::sync::atomic::{AtomicU8, Ordering};
    const UNKNOWN: u8 = 0;
    const NO: u8 = 1;
    const YES: u8 = 2;
    static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);
    match STATE.load(Ordering::Relaxed) {
        NO => false,
        YES => true,
        _ => {
            let yes = detect_avx2();
            STATE.store(if yes { YES } else { NO }, Ordering::Relaxed);
            yes
        }
    }
}

/// Under Miri there is no CPU to ask (it cannot run CPUID or XGETBV): the baseline instance,
/// which every instance equals bitwise, is what it checks.
#[cfg(all(target_arch = "x86_64", miri))]
fn detect_avx2() -> bool {
    false
}

/// CPUID leaf 1 (AVX, OSXSAVE), XCR0 (the OS saves the YMM state), CPUID leaf 7 (AVX2).
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[allow(unused_unsafe)] // `__cpuid` is a safe function in newer compilers
fn detect_avx2() -> bool {
    use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};
    // SAFETY: the CPUID instruction exists on every x86_64 processor.
    let leaf1 = unsafe { __cpuid(1) };
    let osxsave = leaf1.ecx & (1 << 27) != 0;
    let avx = leaf1.ecx & (1 << 28) != 0;
    if !(osxsave && avx) {
        return false;
    }
    // SAFETY: OSXSAVE is set, so XGETBV is enabled; XCR0 bits 1 and 2 are the SSE and YMM state.
    let xcr0 = unsafe { _xgetbv(0) };
    if xcr0 & 0b110 != 0b110 {
        return false;
    }
    // SAFETY: as above; leaf 7 is only read when the maximum leaf reaches it.
    let max_leaf = unsafe { __cpuid(0) }.eax;
    max_leaf >= 7 && unsafe { __cpuid_count(7, 0) }.ebx & (1 << 5) != 0
}
