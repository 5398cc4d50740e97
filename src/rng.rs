//! A small seeded PRNG and Gaussian sampler, identical on every platform.
//!
//! [`Rng`] is xoshiro256** (Blackman and Vigna) with its 256-bit state filled by four
//! successive outputs of splitmix64, exactly as the reference C code at
//! <https://prng.di.unimi.it/> recommends. Every method uses integer operations and `libm`
//! only, so a given seed yields the same stream of bits, integers and floats on every
//! platform and with or without the `std` feature.
//!
//! The generator is for simulation and randomized initialization (k-means++, restarts); it
//! is not cryptographically secure.

/// xoshiro256** seeded through splitmix64, with a Gaussian sampler.
///
/// Cloning copies the full state (including a cached second normal draw), so a clone
/// produces exactly the same sequence as the original from that point on.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    /// Second value of the last Marsaglia polar pair, returned by the next [`Rng::normal`].
    spare: Option<f64>,
}

/// One step of splitmix64 (Vigna): advances `state` and returns the mixed output.
#[inline]
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator seeded from one `u64`.
    ///
    /// The four state words are four successive splitmix64 outputs starting from `seed`
    /// (so every seed, including 0, gives a valid non-zero state). Equal seeds give equal
    /// sequences on every platform.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s, spare: None }
    }

    /// Next 64 random bits (one xoshiro256** step).
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1): the top 53 bits of [`Rng::next_u64`] times 2^-53.
    ///
    /// Every multiple of 2^-53 in [0, 1) has probability 2^-53; 1.0 is never returned.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        // 2^-53 exactly.
        const SCALE: f64 = 1.0 / 9_007_199_254_740_992.0;
        (self.next_u64() >> 11) as f64 * SCALE
    }

    /// Uniform integer in [0, n), exactly unbiased.
    ///
    /// Lemire's multiply-shift method with rejection: one draw of [`Rng::next_u64`] in the
    /// common case, more only with probability below n / 2^64. For `n == 0` (an empty range)
    /// it returns 0 without panicking and without advancing the generator.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        let mut low = m as u64;
        if low < n {
            // 2^64 mod n: the number of low products that would bias the result.
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
                low = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// A standard normal draw (mean 0, variance 1) by the Marsaglia polar method.
    ///
    /// Each accepted pair of uniforms in the unit disc gives two independent normals: the
    /// first is returned, the second is cached and returned by the next call. Uses
    /// `libm::log` and `special::sqrt` (libm's) only, so the values are identical on every platform.
    /// The result is always finite.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s < 1.0 && s > 0.0 {
                let m = crate::special::sqrt(-2.0 * libm::log(s) / s);
                self.spare = Some(v * m);
                return u * m;
            }
        }
    }

    /// +1.0 or -1.0 with equal probability, from the top bit of one [`Rng::next_u64`] draw.
    #[inline]
    pub fn sign(&mut self) -> f64 {
        if self.next_u64() >> 63 == 0 {
            1.0
        } else {
            -1.0
        }
    }
}
