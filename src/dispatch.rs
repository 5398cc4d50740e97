//! How hot kernels are instantiated: per dimension (const generics) and per instruction set.
//!
//! A kernel is written once as `fn kernel_portable<const D: usize>(.., d: usize, ..)` and works
//! in [`dim::<D>(d)`](dim) dimensions: `D > 0` is a fast path for that fixed dimension (inner
//! loops of known length, fully unrolled, accumulators in registers); `D == 0` is the portable
//! path for any runtime `d`. [`with_avx2!`] defines the dispatched entry point that runs the
//! same code compiled for AVX2 when the CPU has it (see [`crate::cpu`]); [`dispatch_dim!`] picks
//! the instance for a runtime `d`. Tests check the fixed-d instances against `D == 0` and the AVX2
//! instance against the baseline, bit for bit.

/// The largest d with a fixed-size instance.
pub(crate) const MAX_FIXED_DIM: usize = 16;

/// The dimension an instance works in: the constant `D`, or the runtime `d` when `D == 0`.
#[inline(always)]
pub(crate) const fn dim<const D: usize>(d: usize) -> usize {
    if D == 0 {
        d
    } else {
        D
    }
}

/// Calls `$kernel::<D>(args)` with `D = d` for 1 <= d <= 16 ([`MAX_FIXED_DIM`]), else
/// `$kernel::<0>(args)`, where the fixed-dimension instances are compiled: on x86_64 and aarch64
/// (application processors, where they pay for their size), or anywhere with the feature
/// `fixed-dim`. Elsewhere (microcontrollers) every call takes the portable instance: the same
/// results bit for bit, in a fraction of the flash (each kernel exists once instead of 17 times).
macro_rules! dispatch_dim {
    ($d:expr, $kernel:ident ( $($arg:expr),* $(,)? )) => {{
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64", feature = "fixed-dim"))]
        let result = match $d {
            1 => $kernel::<1>($($arg),*),
            2 => $kernel::<2>($($arg),*),
            3 => $kernel::<3>($($arg),*),
            4 => $kernel::<4>($($arg),*),
            5 => $kernel::<5>($($arg),*),
            6 => $kernel::<6>($($arg),*),
            7 => $kernel::<7>($($arg),*),
            8 => $kernel::<8>($($arg),*),
            9 => $kernel::<9>($($arg),*),
            10 => $kernel::<10>($($arg),*),
            11 => $kernel::<11>($($arg),*),
            12 => $kernel::<12>($($arg),*),
            13 => $kernel::<13>($($arg),*),
            14 => $kernel::<14>($($arg),*),
            15 => $kernel::<15>($($arg),*),
            16 => $kernel::<16>($($arg),*),
            _ => $kernel::<0>($($arg),*),
        };
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", feature = "fixed-dim")))]
        let result = {
            let _ = $d;
            $kernel::<0>($($arg),*)
        };
        result
    }};
}
pub(crate) use dispatch_dim;

/// Defines `[$vis] fn $name::<D>(args) [-> $ret]`, which runs `$portable::<D>(args)` compiled for AVX2
/// when the CPU has it (x86_64) and as compiled for the target's baseline otherwise. Both perform
/// the same IEEE operations in the same order (Rust neither reassociates nor contracts floating
/// point), so they agree bit for bit.
macro_rules! with_avx2 {
    ($(#[$doc:meta])* $vis:vis fn $name:ident = $portable:ident ( $($p:ident : $t:ty),* $(,)? ) $(-> $ret:ty)?) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<const D: usize>($($p: $t),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if crate::cpu::has_avx2() {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2<const D: usize>($($p: $t),*) $(-> $ret)? {
                    $portable::<D>($($p),*)
                }
                // SAFETY: the CPU supports AVX2 (checked at run time).
                return unsafe { avx2::<D>($($p),*) };
            }
            $portable::<D>($($p),*)
        }
    };
}
pub(crate) use with_avx2;
