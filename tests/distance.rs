//! Closed-form L2 distances, pairwise matrices, KL between Gaussians and moment matching:
//! reference values from DESIGN.md, invariances, independent oracles (quadrature of (f - g)^2,
//! explicit inverses and determinants, raw moments), and bad input through the C ABI.
//!
//! Tolerances: reference values 1e-10 relative (they are given to 13 significant digits);
//! quadrature 1e-8 relative (the quadrature error itself is far below that: see the tests);
//! properties the implementation guarantees exactly (symmetry, zero on identical mixtures,
//! pairwise = individual calls, full = diagonal storage of a diagonal covariance) are checked
//! bit for bit.

use mixkern::distance::{
    kl_gaussian, kl_gaussian_work_len, l2_distance, l2_distance_sq, l2_distance_sq_work_len,
    l2_pairwise, l2_pairwise_work_len, moment_match, moment_match_work_len,
};
use mixkern::ffi::*;
use mixkern::gmm::{CovKind, Mixture};
use mixkern::rng::Rng;
use mixkern::Status;
use std::ffi::CStr;
use std::ptr;

// ---------------------------------------------------------------------------------------------
// Mixtures owned by the tests.
// ---------------------------------------------------------------------------------------------

/// A mixture's buffers.
#[derive(Clone, Debug)]
struct Mix {
    w: Vec<f64>,
    mu: Vec<f64>,
    cov: Vec<f64>,
    k: usize,
    d: usize,
    kind: CovKind,
}

impl Mix {
    fn new(w: &[f64], mu: &[f64], cov: &[f64], d: usize, kind: CovKind) -> Mix {
        Mix {
            w: w.to_vec(),
            mu: mu.to_vec(),
            cov: cov.to_vec(),
            k: w.len(),
            d,
            kind,
        }
    }

    fn view(&self) -> Mixture<'_> {
        Mixture::new(&self.w, &self.mu, &self.cov, self.k, self.d, self.kind).expect("valid")
    }

    fn cov_len(&self) -> usize {
        self.kind.cov_len(self.d).unwrap()
    }

    /// Component i's covariance as a full d x d matrix.
    fn full_cov(&self, i: usize) -> Vec<f64> {
        let d = self.d;
        match self.kind {
            CovKind::Full => self.cov[i * d * d..(i + 1) * d * d].to_vec(),
            CovKind::Diag => {
                let mut s = vec![0.0; d * d];
                for a in 0..d {
                    s[a * d + a] = self.cov[i * d + a];
                }
                s
            }
        }
    }

    /// The same mixture with full storage.
    fn to_full(&self) -> Mix {
        let cov = (0..self.k).flat_map(|i| self.full_cov(i)).collect();
        Mix {
            cov,
            kind: CovKind::Full,
            ..self.clone()
        }
    }

    /// The components in the order `perm`.
    fn permuted(&self, perm: &[usize]) -> Mix {
        let (d, c) = (self.d, self.cov_len());
        Mix {
            w: perm.iter().map(|&i| self.w[i]).collect(),
            mu: perm
                .iter()
                .flat_map(|&i| self.mu[i * d..(i + 1) * d].to_vec())
                .collect(),
            cov: perm
                .iter()
                .flat_map(|&i| self.cov[i * c..(i + 1) * c].to_vec())
                .collect(),
            ..self.clone()
        }
    }

    /// The mixture density at x (d values), evaluated directly (the quadrature oracle).
    fn density(&self, x: &[f64]) -> f64 {
        let d = self.d;
        (0..self.k)
            .map(|i| {
                let mu = &self.mu[i * d..(i + 1) * d];
                self.w[i] * gaussian_density(x, mu, &self.full_cov(i), d)
            })
            .sum()
    }
}

/// N(x; mu, S) for d = 1 or 2, from the explicit inverse and determinant.
fn gaussian_density(x: &[f64], mu: &[f64], s: &[f64], d: usize) -> f64 {
    use std::f64::consts::PI;
    match d {
        1 => {
            let r = x[0] - mu[0];
            (-0.5 * r * r / s[0]).exp() / (2.0 * PI * s[0]).sqrt()
        }
        2 => {
            let det = s[0] * s[3] - s[1] * s[2];
            let (r0, r1) = (x[0] - mu[0], x[1] - mu[1]);
            let q = (s[3] * r0 * r0 - (s[1] + s[2]) * r0 * r1 + s[0] * r1 * r1) / det;
            (-0.5 * q).exp() / (2.0 * PI * det.sqrt())
        }
        _ => unreachable!("the quadrature oracle is for d = 1 and 2"),
    }
}

/// A random SPD matrix A A^T / d + c I, A with N(0, 1) entries.
fn random_spd(rng: &mut Rng, d: usize, c: f64) -> Vec<f64> {
    let a: Vec<f64> = (0..d * d).map(|_| rng.normal()).collect();
    let mut s = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            let v: f64 = (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum();
            s[i * d + j] = v / d as f64 + if i == j { c } else { 0.0 };
        }
    }
    s
}

/// A random valid mixture: weights from uniforms in [0.2, 1.2) normalized, means N(0, spread^2),
/// covariances A A^T / d + 0.5 I (full) or variances in [0.5, 2.5) (diagonal).
fn random_mix(rng: &mut Rng, k: usize, d: usize, kind: CovKind, spread: f64) -> Mix {
    let raw: Vec<f64> = (0..k).map(|_| 0.2 + rng.uniform()).collect();
    let total: f64 = raw.iter().sum();
    let w = raw.iter().map(|v| v / total).collect();
    let mu = (0..k * d).map(|_| spread * rng.normal()).collect();
    let cov = match kind {
        CovKind::Full => (0..k).flat_map(|_| random_spd(rng, d, 0.5)).collect(),
        CovKind::Diag => (0..k * d).map(|_| 0.5 + 2.0 * rng.uniform()).collect(),
    };
    Mix {
        w,
        mu,
        cov,
        k,
        d,
        kind,
    }
}

fn l2_sq(f: &Mix, g: &Mix) -> f64 {
    let mut work = vec![0.0; l2_distance_sq_work_len(f.d, f.kind, g.kind).unwrap()];
    l2_distance_sq(&f.view(), &g.view(), &mut work).unwrap()
}

fn l2(f: &Mix, g: &Mix) -> f64 {
    let mut work = vec![0.0; l2_distance_sq_work_len(f.d, f.kind, g.kind).unwrap()];
    l2_distance(&f.view(), &g.view(), &mut work).unwrap()
}

/// m mixtures with the same (K, d, kind), concatenated.
fn stack(mixes: &[Mix]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    (
        mixes.iter().flat_map(|x| x.w.clone()).collect(),
        mixes.iter().flat_map(|x| x.mu.clone()).collect(),
        mixes.iter().flat_map(|x| x.cov.clone()).collect(),
    )
}

fn pairwise(mixes: &[Mix]) -> Vec<f64> {
    let (m, k, d, kind) = (mixes.len(), mixes[0].k, mixes[0].d, mixes[0].kind);
    let (w, mu, cov) = stack(mixes);
    let mut out = vec![f64::NAN; m * m];
    let mut work = vec![f64::NAN; l2_pairwise_work_len(m, k, d, kind).unwrap()];
    l2_pairwise(&w, &mu, &cov, m, k, d, kind, &mut out, &mut work).unwrap();
    out
}

fn kl(m0: &[f64], s0: &[f64], m1: &[f64], s1: &[f64], d: usize, kind: CovKind) -> f64 {
    let mut work = vec![0.0; kl_gaussian_work_len(d, kind).unwrap()];
    kl_gaussian(m0, s0, m1, s1, d, kind, &mut work).unwrap()
}

#[track_caller]
fn assert_rel(got: f64, want: f64, tol: f64, ctx: &str) {
    let err = (got - want).abs() / want.abs();
    assert!(
        err <= tol,
        "{ctx}: got {got:e}, want {want:e}, relative error {err:e} > {tol:e}"
    );
}

// ---------------------------------------------------------------------------------------------
// DESIGN.md reference mixtures.
// ---------------------------------------------------------------------------------------------

/// 1-D: F = .6 N(2, 1) + .4 N(2, 2), G = .5 N(2, 1) + .5 N(2, 2) (variances).
fn design_1d(kind: CovKind) -> (Mix, Mix) {
    (
        Mix::new(&[0.6, 0.4], &[2.0, 2.0], &[1.0, 2.0], 1, kind),
        Mix::new(&[0.5, 0.5], &[2.0, 2.0], &[1.0, 2.0], 1, kind),
    )
}

/// 2-D: F = .5 N((0,0), [[1,.3],[.3,2]]) + .5 N((1,-1), .5 I), G = N((.2,.1), [[1.2,.1],[.1,1]]).
fn design_2d() -> (Mix, Mix) {
    (
        Mix::new(
            &[0.5, 0.5],
            &[0.0, 0.0, 1.0, -1.0],
            &[1.0, 0.3, 0.3, 2.0, 0.5, 0.0, 0.0, 0.5],
            2,
            CovKind::Full,
        ),
        Mix::new(&[1.0], &[0.2, 0.1], &[1.2, 0.1, 0.1, 1.0], 2, CovKind::Full),
    )
}

const L2_SQ_1D: f64 = 2.090706601282e-04;
const L2_SQ_2D: f64 = 3.395218224137e-02;
const L2_2D: f64 = 1.842611794203e-01;
const KL_FIRST: f64 = 1.869544442972e-01;
const KL_SECOND: f64 = 1.195249884542e+00;

// ---------------------------------------------------------------------------------------------
// L2 distance: reference values.
// ---------------------------------------------------------------------------------------------

#[test]
fn l2_matches_the_reference_values_in_1d() {
    for kind in [CovKind::Full, CovKind::Diag] {
        let (f, g) = design_1d(kind);
        assert_rel(l2_sq(&f, &g), L2_SQ_1D, 1e-10, "|F-G|^2 1-D");
        assert_rel(l2_sq(&g, &f), L2_SQ_1D, 1e-10, "|G-F|^2 1-D");
        assert_rel(l2(&f, &g), L2_SQ_1D.sqrt(), 1e-10, "|F-G| 1-D");
    }
}

#[test]
fn l2_matches_the_reference_values_in_2d() {
    let (f, g) = design_2d();
    assert_rel(l2_sq(&f, &g), L2_SQ_2D, 1e-10, "|F-G|^2 2-D");
    assert_rel(l2_sq(&g, &f), L2_SQ_2D, 1e-10, "|G-F|^2 2-D");
    assert_rel(l2(&f, &g), L2_2D, 1e-10, "|F-G| 2-D");
    assert_rel(l2(&g, &f), L2_2D, 1e-10, "|G-F| 2-D");
}

/// The C ABI gives the same reference values.
#[test]
fn l2_reference_values_through_the_c_abi() {
    let (f, g) = design_2d();
    let k = MK_COV_FULL;
    let len = l2_len(2, k, k);
    assert_eq!(
        len,
        l2_distance_sq_work_len(2, CovKind::Full, CovKind::Full).unwrap()
    );
    let mut work = vec![0.0; len];
    let (mut sq, mut dist) = (f64::NAN, f64::NAN);
    let fd = MkMixture::over(2, 2, k, &f.w, &f.mu, &f.cov);
    let gd = MkMixture::over(1, 2, k, &g.w, &g.mu, &g.cov);
    // SAFETY: every pointer is valid for the documented length.
    let (s1, s2) = unsafe {
        (
            mk_l2_distance_sq(&fd, &gd, &mut sq, work.as_mut_ptr(), len),
            mk_l2_distance(&fd, &gd, &mut dist, work.as_mut_ptr(), len),
        )
    };
    assert_eq!((s1, s2), (0, 0));
    assert_rel(sq, L2_SQ_2D, 1e-10, "mk_l2_distance_sq");
    assert_rel(dist, L2_2D, 1e-10, "mk_l2_distance");
}

// ---------------------------------------------------------------------------------------------
// L2 distance: properties.
// ---------------------------------------------------------------------------------------------

/// |F - G| = |G - F| bit for bit, |F - F| = 0 exactly (also for a copy of F in other buffers),
/// and distances are positive for different mixtures, over random mixtures of several sizes,
/// both storages and mixed storage.
#[test]
fn l2_is_symmetric_and_exactly_zero_on_identical_mixtures() {
    let mut rng = Rng::new(101);
    for (k_f, k_g, d) in [
        (1, 1, 1),
        (2, 3, 1),
        (3, 2, 2),
        (4, 4, 3),
        (5, 2, 7),
        (3, 9, 10),
    ] {
        for (kf, kg) in [
            (CovKind::Full, CovKind::Full),
            (CovKind::Diag, CovKind::Diag),
            (CovKind::Full, CovKind::Diag),
        ] {
            let f = random_mix(&mut rng, k_f, d, kf, 1.0);
            let g = random_mix(&mut rng, k_g, d, kg, 1.0);
            let ctx = format!("K=({k_f},{k_g}) d={d} {kf:?}/{kg:?}");
            assert_eq!(l2_sq(&f, &g).to_bits(), l2_sq(&g, &f).to_bits(), "{ctx}");
            assert_eq!(l2(&f, &g).to_bits(), l2(&g, &f).to_bits(), "{ctx}");
            assert!(l2_sq(&f, &g) > 0.0, "{ctx}");
            let copy = f.clone();
            assert_eq!(l2_sq(&f, &copy), 0.0, "{ctx}: |F-F|^2");
            assert_eq!(l2(&f, &copy), 0.0, "{ctx}: |F-F|");
            assert_eq!(l2(&g, &g), 0.0, "{ctx}: |G-G|");
        }
    }
}

/// Relabelling the components of either mixture changes the distance by rounding only.
#[test]
fn l2_is_invariant_under_permuting_components() {
    let mut rng = Rng::new(202);
    for (k, d, kind) in [
        (3, 1, CovKind::Full),
        (4, 2, CovKind::Full),
        (5, 6, CovKind::Full),
        (4, 3, CovKind::Diag),
        (9, 4, CovKind::Diag),
    ] {
        let f = random_mix(&mut rng, k, d, kind, 1.5);
        let g = random_mix(&mut rng, k + 1, d, kind, 1.5);
        let base = l2_sq(&f, &g);
        let reversed: Vec<usize> = (0..k).rev().collect();
        let rotated: Vec<usize> = (0..=k).map(|i| (i + 2) % (k + 1)).collect();
        let fp = f.permuted(&reversed);
        let gp = g.permuted(&rotated);
        for (a, b) in [(&fp, &g), (&f, &gp), (&fp, &gp)] {
            assert_rel(l2_sq(a, b), base, 1e-12, &format!("K={k} d={d} {kind:?}"));
        }
        // A relabelled F against F: zero up to rounding.
        assert!(l2_sq(&fp, &f).abs() <= 1e-13 * base, "K={k} d={d} {kind:?}");
    }
}

/// Composite Simpson rule of `values` (odd count) with step h.
fn simpson(values: &[f64], h: f64) -> f64 {
    let n = values.len();
    assert!(n % 2 == 1);
    let mut s = values[0] + values[n - 1];
    for (i, v) in values.iter().enumerate().take(n - 1).skip(1) {
        s += if i % 2 == 1 { 4.0 * v } else { 2.0 * v };
    }
    s * h / 3.0
}

/// The largest standard deviation of any component along any axis is at most sqrt(trace).
fn widest_sd(m: &Mix) -> f64 {
    (0..m.k)
        .map(|i| {
            let s = m.full_cov(i);
            (0..m.d).map(|a| s[a * m.d + a]).sum::<f64>().sqrt()
        })
        .fold(0.0, f64::max)
}

/// Quadrature interval covering every mean +- 12 widest standard deviations.
fn interval(f: &Mix, g: &Mix) -> (f64, f64) {
    let sd = widest_sd(f).max(widest_sd(g));
    let lo =
        f.mu.iter()
            .chain(&g.mu)
            .cloned()
            .fold(f64::INFINITY, f64::min);
    let hi =
        f.mu.iter()
            .chain(&g.mu)
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max);
    (lo - 12.0 * sd, hi + 12.0 * sd)
}

/// d = 1: |F - G|^2 equals int (f - g)^2 by composite Simpson on 8001 points over every mean
/// +- 12 sd. For Gaussian integrands the Simpson (and trapezoid) error on such a grid is far
/// below 1e-12 (spacing <= sd / 15, tails < e^-72), so 1e-8 is a test of the closed form.
#[test]
fn l2_matches_quadrature_in_1d() {
    let mut rng = Rng::new(303);
    for trial in 0..8 {
        let (kf, kg) = (1 + trial % 4, 1 + (trial * 3) % 5);
        let kind = if trial % 2 == 0 {
            CovKind::Full
        } else {
            CovKind::Diag
        };
        let f = random_mix(&mut rng, kf, 1, kind, 1.5);
        let g = random_mix(&mut rng, kg, 1, kind, 1.5);
        let (lo, hi) = interval(&f, &g);
        let n = 8001;
        let h = (hi - lo) / (n - 1) as f64;
        let values: Vec<f64> = (0..n)
            .map(|i| {
                let x = [lo + i as f64 * h];
                let r = f.density(&x) - g.density(&x);
                r * r
            })
            .collect();
        let oracle = simpson(&values, h);
        assert_rel(l2_sq(&f, &g), oracle, 1e-8, &format!("trial {trial}"));
    }
}

/// d = 2: |F - G|^2 equals the tensor-product Simpson rule of (f - g)^2 on a 1201 x 1201 grid
/// over every mean +- 12 sd (spacing well below the smallest sd, so the rule's error is again
/// negligible), to 1e-8 relative.
#[test]
fn l2_matches_grid_quadrature_in_2d() {
    let mut rng = Rng::new(404);
    for trial in 0..3 {
        let kind = if trial == 1 {
            CovKind::Diag
        } else {
            CovKind::Full
        };
        let f = random_mix(&mut rng, 2 + trial, 2, kind, 1.0);
        let g = random_mix(&mut rng, 3, 2, CovKind::Full, 1.0);
        let (lo, hi) = interval(&f, &g);
        let n = 1201;
        let h = (hi - lo) / (n - 1) as f64;
        let row_integrals: Vec<f64> = (0..n)
            .map(|i| {
                let x0 = lo + i as f64 * h;
                let row: Vec<f64> = (0..n)
                    .map(|j| {
                        let x = [x0, lo + j as f64 * h];
                        let r = f.density(&x) - g.density(&x);
                        r * r
                    })
                    .collect();
                simpson(&row, h)
            })
            .collect();
        let oracle = simpson(&row_integrals, h);
        assert_rel(l2_sq(&f, &g), oracle, 1e-8, &format!("trial {trial}"));
    }
}

/// Diagonal covariances stored as full matrices give bitwise the diagonal-storage result, in
/// every combination of storages.
#[test]
fn full_and_diagonal_storage_agree_bit_for_bit() {
    let mut rng = Rng::new(505);
    for (k, d) in [(1, 1), (3, 2), (4, 5), (2, 11)] {
        let f = random_mix(&mut rng, k, d, CovKind::Diag, 1.0);
        let g = random_mix(&mut rng, k + 2, d, CovKind::Diag, 1.0);
        let (ff, gf) = (f.to_full(), g.to_full());
        let want = l2_sq(&f, &g).to_bits();
        for (a, b) in [(&ff, &gf), (&ff, &g), (&f, &gf)] {
            assert_eq!(l2_sq(a, b).to_bits(), want, "K={k} d={d}");
        }
        let mixes: Vec<Mix> = (0..5)
            .map(|_| random_mix(&mut rng, k, d, CovKind::Diag, 1.0))
            .collect();
        let full: Vec<Mix> = mixes.iter().map(Mix::to_full).collect();
        let bits = |v: Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(pairwise(&mixes)),
            bits(pairwise(&full)),
            "pairwise K={k} d={d}"
        );
    }
}

/// Mixtures that differ in dimension are rejected.
#[test]
fn l2_rejects_a_dimension_mismatch() {
    let f = Mix::new(&[1.0], &[0.0], &[1.0], 1, CovKind::Diag);
    let g = Mix::new(&[1.0], &[0.0, 0.0], &[1.0, 1.0], 2, CovKind::Diag);
    let mut work = vec![0.0; 1000];
    assert_eq!(
        l2_distance_sq(&f.view(), &g.view(), &mut work),
        Err(Status::BadParameter)
    );
}

// ---------------------------------------------------------------------------------------------
// Pairwise matrix.
// ---------------------------------------------------------------------------------------------

/// The pairwise matrix equals the individual `l2_distance` calls bit for bit (in both argument
/// orders), is symmetric with a zero diagonal, and is exactly 0 between duplicated mixtures;
/// over sizes that exercise the panel bookkeeping (K below, at and above the 8 lanes, m K not
/// a multiple of 8, m = 1).
#[test]
fn pairwise_equals_the_individual_distances() {
    let mut rng = Rng::new(606);
    let cases = [
        (1, 3, 2, CovKind::Full),
        (2, 1, 1, CovKind::Full),
        (7, 1, 3, CovKind::Full),
        (6, 3, 3, CovKind::Full),
        (5, 8, 2, CovKind::Full),
        (4, 9, 4, CovKind::Full),
        (3, 13, 5, CovKind::Full),
        (9, 2, 1, CovKind::Diag),
        (5, 7, 6, CovKind::Diag),
        (4, 11, 3, CovKind::Diag),
    ];
    for (m, k, d, kind) in cases {
        let mut mixes: Vec<Mix> = (0..m)
            .map(|_| random_mix(&mut rng, k, d, kind, 0.8))
            .collect();
        if m >= 3 {
            mixes[m - 1] = mixes[1].clone();
        }
        let out = pairwise(&mixes);
        let ctx = format!("m={m} K={k} d={d} {kind:?}");
        for a in 0..m {
            assert_eq!(
                out[a * m + a].to_bits(),
                0.0f64.to_bits(),
                "{ctx}: diagonal"
            );
            for b in 0..m {
                assert_eq!(out[a * m + b].to_bits(), out[b * m + a].to_bits(), "{ctx}");
                if a != b {
                    let single = l2(&mixes[a], &mixes[b]);
                    assert_eq!(
                        out[a * m + b].to_bits(),
                        single.to_bits(),
                        "{ctx} ({a},{b})"
                    );
                }
            }
        }
        if m >= 3 {
            assert_eq!(out[m + m - 1], 0.0, "{ctx}: duplicated mixture");
            assert!(out[m - 1] > 0.0, "{ctx}");
            assert!(out[1] > 0.0, "{ctx}");
        }
    }
}

/// Workspace and output pre-filled with NaN or huge values give bitwise the same results as
/// zero-filled ones (nothing is read before it is written), for every safe entry point.
#[test]
fn outputs_and_workspaces_are_never_read_before_written() {
    let mut rng = Rng::new(707);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for kind in [CovKind::Full, CovKind::Diag] {
        let (m, k, d) = (5, 3, 4);
        let mixes: Vec<Mix> = (0..m)
            .map(|_| random_mix(&mut rng, k, d, kind, 1.0))
            .collect();
        let (w, mu, cov) = stack(&mixes);
        let run = |fill: f64| {
            let mut out = vec![fill; m * m];
            let mut work = vec![fill; l2_pairwise_work_len(m, k, d, kind).unwrap()];
            l2_pairwise(&w, &mu, &cov, m, k, d, kind, &mut out, &mut work).unwrap();
            let mut work = vec![fill; l2_distance_sq_work_len(d, kind, kind).unwrap()];
            let sq = l2_distance_sq(&mixes[0].view(), &mixes[1].view(), &mut work).unwrap();
            let c = kind.cov_len(d).unwrap();
            let mut work = vec![fill; kl_gaussian_work_len(d, kind).unwrap()];
            let kl = kl_gaussian(
                &mu[..d],
                &cov[..c],
                &mu[d..2 * d],
                &cov[c..2 * c],
                d,
                kind,
                &mut work,
            )
            .unwrap();
            let (mut mean, mut sigma) = (vec![fill; d], vec![fill; c]);
            let mut work = vec![fill; moment_match_work_len(d, kind).unwrap()];
            moment_match(
                &w[..k],
                &mu[..k * d],
                &cov[..k * c],
                k,
                d,
                kind,
                &mut mean,
                &mut sigma,
                &mut work,
            )
            .unwrap();
            [out, vec![sq, kl], mean, sigma].concat()
        };
        let clean = bits(&run(0.0));
        for fill in [f64::NAN, 1e300, -1e300, f64::INFINITY] {
            assert_eq!(bits(&run(fill)), clean, "{kind:?} fill {fill:e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// KL between Gaussians.
// ---------------------------------------------------------------------------------------------

#[test]
fn kl_matches_the_reference_values() {
    let (m1, s1) = ([0.2, 0.1], [1.2, 0.1, 0.1, 1.0]);
    let full = CovKind::Full;
    let first = kl(&[0.0, 0.0], &[1.0, 0.3, 0.3, 2.0], &m1, &s1, 2, full);
    assert_rel(
        first,
        KL_FIRST,
        1e-10,
        "KL(N0 || N1), N0 = F's first component",
    );
    let second = kl(&[1.0, -1.0], &[0.5, 0.0, 0.0, 0.5], &m1, &s1, 2, full);
    assert_rel(
        second,
        KL_SECOND,
        1e-10,
        "KL(N0 || N1), N0 = F's second component",
    );
}

/// Gauss-Jordan inverse with partial pivoting, and the determinant (an oracle independent of
/// the Cholesky code under test).
fn inverse_and_det(s: &[f64], d: usize) -> (Vec<f64>, f64) {
    let mut a = s.to_vec();
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        inv[i * d + i] = 1.0;
    }
    let mut det = 1.0;
    for col in 0..d {
        let pivot = (col..d)
            .max_by(|&x, &y| a[x * d + col].abs().total_cmp(&a[y * d + col].abs()))
            .unwrap();
        if pivot != col {
            for j in 0..d {
                a.swap(col * d + j, pivot * d + j);
                inv.swap(col * d + j, pivot * d + j);
            }
            det = -det;
        }
        let p = a[col * d + col];
        det *= p;
        for j in 0..d {
            a[col * d + j] /= p;
            inv[col * d + j] /= p;
        }
        for i in 0..d {
            if i != col {
                let f = a[i * d + col];
                for j in 0..d {
                    a[i * d + j] -= f * a[col * d + j];
                    inv[i * d + j] -= f * inv[col * d + j];
                }
            }
        }
    }
    (inv, det)
}

/// The textbook formula with an explicit inverse and determinants.
fn kl_oracle(m0: &[f64], s0: &[f64], m1: &[f64], s1: &[f64], d: usize) -> f64 {
    let (inv1, det1) = inverse_and_det(s1, d);
    let (_, det0) = inverse_and_det(s0, d);
    let mut trace = 0.0;
    for i in 0..d {
        for j in 0..d {
            trace += inv1[i * d + j] * s0[j * d + i];
        }
    }
    let diff: Vec<f64> = m1.iter().zip(m0).map(|(a, b)| a - b).collect();
    let mut quad = 0.0;
    for i in 0..d {
        for j in 0..d {
            quad += diff[i] * inv1[i * d + j] * diff[j];
        }
    }
    0.5 * (trace + quad - d as f64 + det1.ln() - det0.ln())
}

/// KL >= 0 and equal to the textbook formula (1e-10 relative) on random pairs; exactly 0 for
/// identical Gaussians; full storage of diagonal covariances gives bitwise the diagonal result.
#[test]
fn kl_is_nonnegative_matches_the_formula_and_vanishes_on_identical_gaussians() {
    let mut rng = Rng::new(808);
    for d in [1usize, 2, 3, 5, 8] {
        for _ in 0..4 {
            let (s0, s1) = (random_spd(&mut rng, d, 0.3), random_spd(&mut rng, d, 0.3));
            let m0: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            let m1: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            let got = kl(&m0, &s0, &m1, &s1, d, CovKind::Full);
            assert!(got > 0.0, "d={d}");
            assert_rel(
                got,
                kl_oracle(&m0, &s0, &m1, &s1, d),
                1e-10,
                &format!("d={d}"),
            );
            assert_eq!(kl(&m0, &s0, &m0, &s0, d, CovKind::Full), 0.0, "d={d}");
            // Same covariance, different means: the Mahalanobis term alone.
            let shifted = kl(&m0, &s1, &m1, &s1, d, CovKind::Full);
            assert_rel(shifted, kl_oracle(&m0, &s1, &m1, &s1, d), 1e-10, "shift");

            let v0: Vec<f64> = (0..d).map(|_| 0.2 + rng.uniform()).collect();
            let v1: Vec<f64> = (0..d).map(|_| 0.2 + rng.uniform()).collect();
            let diag_of = |v: &[f64]| {
                let mut s = vec![0.0; d * d];
                for a in 0..d {
                    s[a * d + a] = v[a];
                }
                s
            };
            let (f0, f1) = (diag_of(&v0), diag_of(&v1));
            let diag = kl(&m0, &v0, &m1, &v1, d, CovKind::Diag);
            let full = kl(&m0, &f0, &m1, &f1, d, CovKind::Full);
            assert_eq!(
                diag.to_bits(),
                full.to_bits(),
                "d={d}: diagonal vs full storage"
            );
            assert_rel(diag, kl_oracle(&m0, &f0, &m1, &f1, d), 1e-10, "diag oracle");
            assert_eq!(kl(&m1, &v1, &m1, &v1, d, CovKind::Diag), 0.0, "d={d}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Moment matching.
// ---------------------------------------------------------------------------------------------

fn matched(m: &Mix) -> (Vec<f64>, Vec<f64>) {
    let (mut mean, mut cov) = (vec![0.0; m.d], vec![0.0; m.cov_len()]);
    let mut work = vec![0.0; moment_match_work_len(m.d, m.kind).unwrap()];
    moment_match(
        &m.w, &m.mu, &m.cov, m.k, m.d, m.kind, &mut mean, &mut cov, &mut work,
    )
    .unwrap();
    (mean, cov)
}

#[test]
fn moment_matching_matches_the_reference() {
    let (f, _) = design_2d();
    let (mean, cov) = matched(&f);
    let (want_mean, want_cov) = ([0.5, -0.5], [1.0, -0.1, -0.1, 1.5]);
    for (g, w) in mean.iter().zip(&want_mean).chain(cov.iter().zip(&want_cov)) {
        assert!((g - w).abs() <= 1e-12, "got {mean:?} {cov:?}");
    }
    assert_eq!(cov[1].to_bits(), cov[2].to_bits(), "exactly symmetric");
}

/// The matched Gaussian has the mixture's mean and covariance computed independently from raw
/// moments, Cov = sum_i w_i (S_i + mu_i mu_i^T) - mu mu^T (1e-10 relative to the covariance's
/// scale); the diagonal kind gives the diagonal of the full result; a single Gaussian matches
/// to itself.
#[test]
fn moment_matching_preserves_the_mean_and_covariance() {
    let mut rng = Rng::new(909);
    for (k, d) in [(1, 1), (3, 1), (2, 2), (5, 3), (7, 6)] {
        let f = random_mix(&mut rng, k, d, CovKind::Full, 2.0);
        let (mean, cov) = matched(&f);
        let mut want_mean = vec![0.0; d];
        let mut second = vec![0.0; d * d];
        for i in 0..k {
            let mu = &f.mu[i * d..(i + 1) * d];
            let s = f.full_cov(i);
            for a in 0..d {
                want_mean[a] += f.w[i] * mu[a];
                for b in 0..d {
                    second[a * d + b] += f.w[i] * (s[a * d + b] + mu[a] * mu[b]);
                }
            }
        }
        let scale = second.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for a in 0..d {
            assert!(
                (mean[a] - want_mean[a]).abs() <= 1e-12 * scale,
                "K={k} d={d} mean"
            );
            for b in 0..d {
                let want = second[a * d + b] - want_mean[a] * want_mean[b];
                assert!(
                    (cov[a * d + b] - want).abs() <= 1e-10 * scale,
                    "K={k} d={d} cov"
                );
                assert_eq!(cov[a * d + b].to_bits(), cov[b * d + a].to_bits());
            }
        }
        // Diagonal input: the diagonal of the full computation on the same diagonals.
        let g = random_mix(&mut rng, k, d, CovKind::Diag, 2.0);
        let (dmean, dcov) = matched(&g);
        let (fmean, fcov) = matched(&g.to_full());
        assert_eq!(dmean, fmean);
        for a in 0..d {
            assert!((dcov[a] - fcov[a * d + a]).abs() <= 1e-14 * fcov[a * d + a]);
        }
    }
    let one = Mix::new(
        &[1.0],
        &[0.3, -0.2],
        &[1.0, 0.4, 0.4, 2.0],
        2,
        CovKind::Full,
    );
    assert_eq!(matched(&one), (one.mu.clone(), one.cov.clone()));
}

// ---------------------------------------------------------------------------------------------
// Bad input through the C ABI.
// ---------------------------------------------------------------------------------------------

/// A quiet NaN with a payload no computation produces, written into every output before a
/// failing call and compared bitwise afterwards.
const SENTINEL: f64 = f64::from_bits(0x7ff8_dead_beef_0d15);
/// Sizes whose product with 2 overflows `usize`.
const HUGE: usize = usize::MAX / 2 + 1;
/// The smallest count of doubles whose byte length exceeds `isize::MAX`.
const TOO_LONG: usize = isize::MAX as usize / 8 + 1;
/// Values that must be rejected as non-finite.
const NON_FINITE: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

fn message(code: i32) -> String {
    // SAFETY: mk_status_str returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(mk_status_str(code)) }
        .to_string_lossy()
        .into_owned()
}

#[track_caller]
fn assert_status(got: i32, want: Status, ctx: &str) {
    assert_eq!(
        got,
        want.code(),
        "{ctx}: expected {want:?}, got {got} (\"{}\")",
        message(got)
    );
}

fn cptr(v: &[f64], null: bool) -> *const f64 {
    if null {
        ptr::null()
    } else {
        v.as_ptr()
    }
}

fn cptr_mut(v: &mut [f64], null: bool) -> *mut f64 {
    if null {
        ptr::null_mut()
    } else {
        v.as_mut_ptr()
    }
}

/// One C call with its buffers: run it, and snapshot its outputs.
trait Call: Clone {
    /// Runs the call with every output pre-filled with SENTINEL; returns the status.
    fn call(&mut self) -> i32;
    /// Every output, bitwise.
    fn outputs(&self) -> Vec<u64>;
    /// Names of the pointer arguments, in order, for `set_null`.
    const POINTERS: &'static [&'static str];
    fn set_null(&mut self, index: usize);
}

/// The valid call succeeds.
#[track_caller]
fn assert_accepts<C: Call>(valid: &C, ctx: &str) {
    let mut c = valid.clone();
    assert_status(c.call(), Status::Ok, ctx);
    assert!(
        c.outputs().iter().all(|&b| b != SENTINEL.to_bits()),
        "{ctx}: outputs written"
    );
}

/// One perturbation of the valid call fails with `want` and leaves every output untouched.
#[track_caller]
fn assert_rejects<C: Call>(valid: &C, want: Status, ctx: &str, perturb: impl FnOnce(&mut C)) {
    let mut c = valid.clone();
    perturb(&mut c);
    let got = c.call();
    assert_status(got, want, ctx);
    let untouched = c.outputs().iter().all(|&b| b == SENTINEL.to_bits());
    assert!(untouched, "{ctx}: an output was written on failure");
}

/// NULL in each pointer argument gives `NullPointer`.
#[track_caller]
fn assert_rejects_nulls<C: Call>(valid: &C) {
    for (i, name) in C::POINTERS.iter().enumerate() {
        assert_rejects(valid, Status::NullPointer, &format!("{name} = NULL"), |c| {
            c.set_null(i)
        });
    }
}

/// NaN, +inf and -inf at the first and last element of a buffer give `NonFinite`.
#[track_caller]
fn assert_rejects_non_finite<C: Call>(valid: &C, name: &str, buf: fn(&mut C) -> &mut Vec<f64>) {
    let len = buf(&mut valid.clone()).len();
    for bad in NON_FINITE {
        for at in [0, len - 1] {
            assert_rejects(
                valid,
                Status::NonFinite,
                &format!("{name}[{at}] = {bad}"),
                |c| buf(c)[at] = bad,
            );
        }
    }
}

/// Covariance perturbations that are not SPD, for a 2 x 2 full covariance at `at`:
/// asymmetric, zero and negative diagonal entries, and indefinite [[1, 2], [2, 1]].
fn not_spd_full(cov: &mut [f64], at: usize, case: usize) {
    let s = &mut cov[at..at + 4];
    match case {
        0 => s[1] += 1e-3,
        1 => s[0] = 0.0,
        2 => s[3] = -1.0,
        _ => s.copy_from_slice(&[1.0, 2.0, 2.0, 1.0]),
    }
}

/// Weight vectors that are rejected: a negative weight, a sum of 1 + 1e-6, a sum of 0.9.
fn bad_weights(w: &mut [f64], case: usize) {
    let n = w.len();
    match case {
        0 => {
            w[0] = -0.25;
            w[n - 1] += 0.25;
        }
        1 => w[0] += 1e-6,
        _ => w[n - 1] -= 0.1,
    }
}

// --- mk_l2_distance_sq and mk_l2_distance ---------------------------------------------------

type L2Fn =
    unsafe extern "C" fn(*const MkMixture, *const MkMixture, *mut f64, *mut f64, usize) -> i32;

/// `mk_l2_distance_sq_work_len` for two mixtures of dimension d and the given kinds.
fn l2_len(d: usize, f_kind: i32, g_kind: i32) -> usize {
    let (f, g) = (
        MkMixture::shape(1, d, f_kind),
        MkMixture::shape(1, d, g_kind),
    );
    // SAFETY: valid shape-only descriptors.
    unsafe { mk_l2_distance_sq_work_len(&f, &g) }
}

/// `mk_l2_pairwise_work_len` for m mixtures of shape (K, d, kind).
fn pairwise_len(m: usize, k: usize, d: usize, kind: i32) -> usize {
    // SAFETY: a valid shape-only descriptor.
    unsafe { mk_l2_pairwise_work_len(&MkMixture::shape(k, d, kind), m) }
}

/// A Gaussian descriptor over slices (NULL where `null`).
fn gaussian(d: usize, kind: i32, mean: *const f64, cov: *const f64) -> MkGaussian {
    MkGaussian {
        d,
        cov_kind: kind,
        mean,
        cov,
    }
}

/// `mk_kl_gaussian_work_len` for two Gaussians of dimension d and one kind.
fn kl_len(d: usize, kind: i32) -> usize {
    let g = gaussian(d, kind, ptr::null(), ptr::null());
    // SAFETY: valid descriptors (their arrays are not read).
    unsafe { mk_kl_gaussian_work_len(&g, &g) }
}

/// `mk_moment_match_work_len` for a mixture of dimension d and the given kind.
fn mm_len(d: usize, kind: i32) -> usize {
    // SAFETY: a valid shape-only descriptor.
    unsafe { mk_moment_match_work_len(&MkMixture::shape(1, d, kind)) }
}

#[derive(Clone)]
struct L2 {
    function: L2Fn,
    f: Mix,
    g: Mix,
    f_k: usize,
    g_k: usize,
    f_kind: i32,
    g_kind: i32,
    d: usize,
    /// G's dimension when it differs from F's.
    g_d: Option<usize>,
    work: Vec<f64>,
    work_len: usize,
    out: f64,
    nulls: [bool; 8],
}

impl L2 {
    fn new(function: L2Fn) -> L2 {
        let (f, g) = design_2d();
        let work_len = l2_len(2, MK_COV_FULL, MK_COV_FULL);
        L2 {
            function,
            f_k: f.k,
            g_k: g.k,
            f,
            g,
            f_kind: MK_COV_FULL,
            g_kind: MK_COV_FULL,
            d: 2,
            g_d: None,
            work: vec![0.0; work_len],
            work_len,
            out: 0.0,
            nulls: [false; 8],
        }
    }
}

impl Call for L2 {
    const POINTERS: &'static [&'static str] = &[
        "f_weights",
        "f_means",
        "f_covs",
        "g_weights",
        "g_means",
        "g_covs",
        "work",
        "out",
    ];
    fn set_null(&mut self, index: usize) {
        self.nulls[index] = true;
    }
    fn call(&mut self) -> i32 {
        self.out = SENTINEL;
        let n = self.nulls;
        let out: *mut f64 = if n[7] { ptr::null_mut() } else { &mut self.out };
        // SAFETY: every non-null pointer is valid for the documented length (or the sizes are
        // rejected before anything is read).
        let f = MkMixture {
            k: self.f_k,
            d: self.d,
            cov_kind: self.f_kind,
            weights: cptr(&self.f.w, n[0]),
            means: cptr(&self.f.mu, n[1]),
            covs: cptr(&self.f.cov, n[2]),
        };
        let g = MkMixture {
            k: self.g_k,
            d: self.g_d.unwrap_or(self.d),
            cov_kind: self.g_kind,
            weights: cptr(&self.g.w, n[3]),
            means: cptr(&self.g.mu, n[4]),
            covs: cptr(&self.g.cov, n[5]),
        };
        unsafe { (self.function)(&f, &g, out, cptr_mut(&mut self.work, n[6]), self.work_len) }
    }
    fn outputs(&self) -> Vec<u64> {
        vec![self.out.to_bits()]
    }
}

#[test]
fn l2_distance_rejects_bad_input_through_the_c_abi() {
    let functions: [(&str, L2Fn); 2] = [
        ("mk_l2_distance_sq", mk_l2_distance_sq),
        ("mk_l2_distance", mk_l2_distance),
    ];
    for (name, function) in functions {
        let valid = L2::new(function);
        assert_accepts(&valid, name);
        assert_rejects_nulls(&valid);
        assert_rejects(&valid, Status::ZeroSize, "f_k = 0", |c| c.f_k = 0);
        assert_rejects(&valid, Status::ZeroSize, "g_k = 0", |c| c.g_k = 0);
        assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
        assert_rejects(&valid, Status::ShapeMismatch, "g->d != f->d", |c| {
            c.g_d = Some(3)
        });
        assert_rejects(&valid, Status::SizeOverflow, "f_k*d", |c| c.f_k = HUGE);
        assert_rejects(&valid, Status::SizeOverflow, "g_k*d", |c| c.g_k = HUGE);
        assert_rejects(&valid, Status::SizeOverflow, "d*d", |c| c.d = HUGE);
        assert_rejects(&valid, Status::SizeOverflow, "work too long", |c| {
            c.work_len = TOO_LONG
        });
        assert_rejects(&valid, Status::BufferTooShort, "short work", |c| {
            c.work_len -= 1
        });
        for bad in [-1, 2, 99] {
            assert_rejects(&valid, Status::BadParameter, "f_kind", |c| c.f_kind = bad);
            assert_rejects(&valid, Status::BadParameter, "g_kind", |c| c.g_kind = bad);
        }
        assert_rejects_non_finite(&valid, "f_weights", |c| &mut c.f.w);
        assert_rejects_non_finite(&valid, "f_means", |c| &mut c.f.mu);
        assert_rejects_non_finite(&valid, "f_covs", |c| &mut c.f.cov);
        assert_rejects_non_finite(&valid, "g_weights", |c| &mut c.g.w);
        assert_rejects_non_finite(&valid, "g_means", |c| &mut c.g.mu);
        assert_rejects_non_finite(&valid, "g_covs", |c| &mut c.g.cov);
        for case in 0..3 {
            let ctx = format!("weights case {case}");
            assert_rejects(&valid, Status::Weights, &ctx, |c| {
                bad_weights(&mut c.f.w, case)
            });
        }
        assert_rejects(&valid, Status::Weights, "g weight 0.9", |c| c.g.w[0] = 0.9);
        for case in 0..4 {
            let ctx = format!("not SPD case {case}");
            assert_rejects(&valid, Status::NotSpd, &ctx, |c| {
                not_spd_full(&mut c.f.cov, 4, case)
            });
            assert_rejects(&valid, Status::NotSpd, &ctx, |c| {
                not_spd_full(&mut c.g.cov, 0, case)
            });
        }
        // Diagonal storage: a non-positive variance.
        let mut diag = valid.clone();
        diag.f = Mix::new(
            &[0.5, 0.5],
            &[0.0, 0.0, 1.0, -1.0],
            &[1.0, 2.0, 0.5, 0.5],
            2,
            CovKind::Diag,
        );
        diag.f_kind = MK_COV_DIAG;
        assert_accepts(&diag, "diagonal F");
        for bad in [0.0, -0.5] {
            assert_rejects(&diag, Status::NotSpd, "variance", |c| c.f.cov[2] = bad);
        }
        // A sum of covariances that overflows.
        assert_rejects(&diag, Status::NonFinite, "overflowing S_i + S_i", |c| {
            c.f.cov[0] = f64::MAX
        });
    }
}

// --- mk_l2_pairwise ---------------------------------------------------------------------------

#[derive(Clone)]
struct Pairwise {
    mixes: Vec<Mix>,
    m: usize,
    k: usize,
    d: usize,
    kind: i32,
    out: Vec<f64>,
    work: Vec<f64>,
    work_len: usize,
    nulls: [bool; 5],
}

impl Pairwise {
    fn new(kind: CovKind) -> Pairwise {
        let mut rng = Rng::new(1111);
        let (m, k, d) = (3, 2, 2);
        let mixes: Vec<Mix> = (0..m)
            .map(|_| random_mix(&mut rng, k, d, kind, 1.0))
            .collect();
        let code = if kind == CovKind::Full {
            MK_COV_FULL
        } else {
            MK_COV_DIAG
        };
        let work_len = pairwise_len(m, k, d, code);
        Pairwise {
            mixes,
            m,
            k,
            d,
            kind: code,
            out: vec![0.0; m * m],
            work: vec![0.0; work_len],
            work_len,
            nulls: [false; 5],
        }
    }
}

impl Call for Pairwise {
    const POINTERS: &'static [&'static str] = &["weights", "means", "covs", "out", "work"];
    fn set_null(&mut self, index: usize) {
        self.nulls[index] = true;
    }
    fn call(&mut self) -> i32 {
        self.out.fill(SENTINEL);
        let (w, mu, cov) = stack(&self.mixes);
        let n = self.nulls;
        // SAFETY: every non-null pointer is valid for the documented length (or the sizes are
        // rejected before anything is read).
        let mixtures = MkMixture {
            k: self.k,
            d: self.d,
            cov_kind: self.kind,
            weights: cptr(&w, n[0]),
            means: cptr(&mu, n[1]),
            covs: cptr(&cov, n[2]),
        };
        unsafe {
            mk_l2_pairwise(
                &mixtures,
                self.m,
                cptr_mut(&mut self.out, n[3]),
                cptr_mut(&mut self.work, n[4]),
                self.work_len,
            )
        }
    }
    fn outputs(&self) -> Vec<u64> {
        self.out.iter().map(|v| v.to_bits()).collect()
    }
}

#[test]
fn l2_pairwise_rejects_bad_input_through_the_c_abi() {
    let valid = Pairwise::new(CovKind::Full);
    assert_accepts(&valid, "mk_l2_pairwise");
    assert_rejects_nulls(&valid);
    assert_rejects(&valid, Status::ZeroSize, "m = 0", |c| c.m = 0);
    assert_rejects(&valid, Status::ZeroSize, "k = 0", |c| c.k = 0);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::SizeOverflow, "m*k", |c| c.m = HUGE);
    assert_rejects(&valid, Status::SizeOverflow, "m*k*d", |c| c.d = HUGE);
    assert_rejects(&valid, Status::SizeOverflow, "m*k*d*d", |c| c.d = 1 << 32);
    assert_rejects(&valid, Status::SizeOverflow, "work too long", |c| {
        c.work_len = TOO_LONG
    });
    assert_rejects(&valid, Status::BufferTooShort, "short work", |c| {
        c.work_len -= 1
    });
    for bad in [-1, 2] {
        assert_rejects(&valid, Status::BadParameter, "kind", |c| c.kind = bad);
    }
    for mix in 0..3 {
        for bad in NON_FINITE {
            assert_rejects(&valid, Status::NonFinite, "weight", |c| {
                c.mixes[mix].w[1] = bad
            });
            assert_rejects(&valid, Status::NonFinite, "mean", |c| {
                c.mixes[mix].mu[3] = bad
            });
            assert_rejects(&valid, Status::NonFinite, "cov", |c| {
                c.mixes[mix].cov[7] = bad
            });
        }
        for case in 0..3 {
            assert_rejects(&valid, Status::Weights, "weights", |c| {
                bad_weights(&mut c.mixes[mix].w, case)
            });
        }
        for case in 0..4 {
            let ctx = format!("mixture {mix}: not SPD case {case}");
            assert_rejects(&valid, Status::NotSpd, &ctx, |c| {
                not_spd_full(&mut c.mixes[mix].cov, 4, case)
            });
        }
    }
    let diag = Pairwise::new(CovKind::Diag);
    assert_accepts(&diag, "mk_l2_pairwise, diagonal");
    assert_rejects(&diag, Status::NotSpd, "variance 0", |c| {
        c.mixes[2].cov[3] = 0.0
    });
    assert_rejects(&diag, Status::NotSpd, "variance < 0", |c| {
        c.mixes[0].cov[0] = -1.0
    });
    assert_rejects(&diag, Status::NonFinite, "overflow", |c| {
        c.mixes[1].cov[1] = f64::MAX
    });
}

// --- mk_kl_gaussian ---------------------------------------------------------------------------

#[derive(Clone)]
struct Kl {
    mean0: Vec<f64>,
    cov0: Vec<f64>,
    mean1: Vec<f64>,
    cov1: Vec<f64>,
    d: usize,
    kind: i32,
    /// Q's kind when it differs from P's.
    q_kind: Option<i32>,
    work: Vec<f64>,
    work_len: usize,
    out: f64,
    nulls: [bool; 6],
}

impl Kl {
    fn new() -> Kl {
        let work_len = kl_len(2, MK_COV_FULL);
        Kl {
            mean0: vec![0.0, 0.0],
            cov0: vec![1.0, 0.3, 0.3, 2.0],
            mean1: vec![0.2, 0.1],
            cov1: vec![1.2, 0.1, 0.1, 1.0],
            d: 2,
            kind: MK_COV_FULL,
            q_kind: None,
            work: vec![0.0; work_len],
            work_len,
            out: 0.0,
            nulls: [false; 6],
        }
    }
}

impl Call for Kl {
    const POINTERS: &'static [&'static str] = &["mean0", "cov0", "mean1", "cov1", "work", "out"];
    fn set_null(&mut self, index: usize) {
        self.nulls[index] = true;
    }
    fn call(&mut self) -> i32 {
        self.out = SENTINEL;
        let n = self.nulls;
        let out: *mut f64 = if n[5] { ptr::null_mut() } else { &mut self.out };
        // SAFETY: every non-null pointer is valid for the documented length (or the sizes are
        // rejected before anything is read).
        let p = gaussian(
            self.d,
            self.kind,
            cptr(&self.mean0, n[0]),
            cptr(&self.cov0, n[1]),
        );
        let q = gaussian(
            self.d,
            self.q_kind.unwrap_or(self.kind),
            cptr(&self.mean1, n[2]),
            cptr(&self.cov1, n[3]),
        );
        unsafe { mk_kl_gaussian(&p, &q, out, cptr_mut(&mut self.work, n[4]), self.work_len) }
    }
    fn outputs(&self) -> Vec<u64> {
        vec![self.out.to_bits()]
    }
}

#[test]
fn kl_gaussian_rejects_bad_input_through_the_c_abi() {
    let valid = Kl::new();
    assert_accepts(&valid, "mk_kl_gaussian");
    let mut c = valid.clone();
    c.call();
    assert_rel(c.out, KL_FIRST, 1e-10, "mk_kl_gaussian reference");
    assert_rejects_nulls(&valid);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::SizeOverflow, "d*d", |c| c.d = 1 << 32);
    assert_rejects(&valid, Status::SizeOverflow, "work too long", |c| {
        c.work_len = TOO_LONG
    });
    assert_rejects(&valid, Status::BufferTooShort, "short work", |c| {
        c.work_len -= 1
    });
    assert_rejects(&valid, Status::BadParameter, "kind", |c| c.kind = 7);
    assert_rejects(&valid, Status::ShapeMismatch, "kinds differ", |c| {
        c.q_kind = Some(MK_COV_DIAG)
    });
    assert_rejects_non_finite(&valid, "mean0", |c| &mut c.mean0);
    assert_rejects_non_finite(&valid, "cov0", |c| &mut c.cov0);
    assert_rejects_non_finite(&valid, "mean1", |c| &mut c.mean1);
    assert_rejects_non_finite(&valid, "cov1", |c| &mut c.cov1);
    for case in 0..4 {
        let ctx = format!("not SPD case {case}");
        assert_rejects(&valid, Status::NotSpd, &ctx, |c| {
            not_spd_full(&mut c.cov0, 0, case)
        });
        assert_rejects(&valid, Status::NotSpd, &ctx, |c| {
            not_spd_full(&mut c.cov1, 0, case)
        });
    }
    let mut diag = valid.clone();
    diag.kind = MK_COV_DIAG;
    diag.cov0 = vec![1.0, 2.0];
    diag.cov1 = vec![1.2, 1.0];
    diag.work_len = kl_len(2, MK_COV_DIAG);
    assert_accepts(&diag, "mk_kl_gaussian, diagonal");
    assert_rejects(&diag, Status::NotSpd, "variance 0", |c| c.cov1[1] = 0.0);
    assert_rejects(&diag, Status::NotSpd, "variance < 0", |c| c.cov0[0] = -1.0);
    assert_rejects(&diag, Status::BufferTooShort, "short work", |c| {
        c.work_len -= 1
    });
    assert_rejects(&diag, Status::SizeOverflow, "d too long", |c| {
        c.d = TOO_LONG
    });
    assert_rejects(&diag, Status::NonFinite, "overflowing result", |c| {
        c.cov1[0] = 1e-300;
        c.mean1[0] = 1e200
    });
}

// --- mk_moment_match --------------------------------------------------------------------------

#[derive(Clone)]
struct Moments {
    mix: Mix,
    m: usize,
    d: usize,
    kind: i32,
    mean_out: Vec<f64>,
    cov_out: Vec<f64>,
    work: Vec<f64>,
    work_len: usize,
    nulls: [bool; 6],
}

impl Moments {
    fn new() -> Moments {
        let (f, _) = design_2d();
        let work_len = mm_len(2, MK_COV_FULL);
        Moments {
            m: f.k,
            d: 2,
            mix: f,
            kind: MK_COV_FULL,
            mean_out: vec![0.0; 2],
            cov_out: vec![0.0; 4],
            work: vec![0.0; work_len],
            work_len,
            nulls: [false; 6],
        }
    }
}

impl Call for Moments {
    const POINTERS: &'static [&'static str] =
        &["weights", "means", "covs", "mean_out", "cov_out", "work"];
    fn set_null(&mut self, index: usize) {
        self.nulls[index] = true;
    }
    fn call(&mut self) -> i32 {
        self.mean_out.fill(SENTINEL);
        self.cov_out.fill(SENTINEL);
        let n = self.nulls;
        // SAFETY: every non-null pointer is valid for the documented length (or the sizes are
        // rejected before anything is read).
        let mix = MkMixture {
            k: self.m,
            d: self.d,
            cov_kind: self.kind,
            weights: cptr(&self.mix.w, n[0]),
            means: cptr(&self.mix.mu, n[1]),
            covs: cptr(&self.mix.cov, n[2]),
        };
        unsafe {
            mk_moment_match(
                &mix,
                cptr_mut(&mut self.mean_out, n[3]),
                cptr_mut(&mut self.cov_out, n[4]),
                cptr_mut(&mut self.work, n[5]),
                self.work_len,
            )
        }
    }
    fn outputs(&self) -> Vec<u64> {
        self.mean_out
            .iter()
            .chain(&self.cov_out)
            .map(|v| v.to_bits())
            .collect()
    }
}

#[test]
fn moment_match_rejects_bad_input_through_the_c_abi() {
    let valid = Moments::new();
    assert_accepts(&valid, "mk_moment_match");
    assert_rejects_nulls(&valid);
    assert_rejects(&valid, Status::ZeroSize, "m = 0", |c| c.m = 0);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::SizeOverflow, "m*d", |c| c.m = HUGE);
    assert_rejects(&valid, Status::SizeOverflow, "d*d", |c| c.d = 1 << 32);
    assert_rejects(&valid, Status::SizeOverflow, "work too long", |c| {
        c.work_len = TOO_LONG
    });
    assert_rejects(&valid, Status::BufferTooShort, "short work", |c| {
        c.work_len -= 1
    });
    assert_rejects(&valid, Status::BadParameter, "kind", |c| c.kind = -3);
    assert_rejects_non_finite(&valid, "weights", |c| &mut c.mix.w);
    assert_rejects_non_finite(&valid, "means", |c| &mut c.mix.mu);
    assert_rejects_non_finite(&valid, "covs", |c| &mut c.mix.cov);
    for case in 0..3 {
        let ctx = format!("weights case {case}");
        assert_rejects(&valid, Status::Weights, &ctx, |c| {
            bad_weights(&mut c.mix.w, case)
        });
    }
    // Asymmetric and non-positive diagonals are caught by the checks; an indefinite but
    // symmetric covariance with a positive diagonal has a well-defined moment match (moment
    // matching factors nothing), so only the first three cases apply.
    for case in 0..3 {
        let ctx = format!("not SPD case {case}");
        assert_rejects(&valid, Status::NotSpd, &ctx, |c| {
            not_spd_full(&mut c.mix.cov, 0, case)
        });
    }
    assert_rejects(&valid, Status::NonFinite, "overflowing result", |c| {
        c.mix.mu[0] = 1e300;
        c.mix.mu[2] = -1e300
    });
}

// --- work-length queries ----------------------------------------------------------------------

/// The C work-length queries equal the safe ones, and are 0 for zero sizes, unknown kinds and
/// overflow.
#[test]
fn work_length_queries_report_zero_on_bad_sizes() {
    for d in [1usize, 2, 7, 50] {
        for (code, kind) in [(MK_COV_FULL, CovKind::Full), (MK_COV_DIAG, CovKind::Diag)] {
            assert_eq!(
                l2_len(d, code, MK_COV_DIAG),
                l2_distance_sq_work_len(d, kind, CovKind::Diag).unwrap()
            );
            assert_eq!(
                pairwise_len(20, 5, d, code),
                l2_pairwise_work_len(20, 5, d, kind).unwrap()
            );
            assert_eq!(kl_len(d, code), kl_gaussian_work_len(d, kind).unwrap());
            assert_eq!(mm_len(d, code), moment_match_work_len(d, kind).unwrap());
        }
    }
    // The documented formulas, at d = 10, m = 20, K = 5.
    let (full, diag) = (MK_COV_FULL, MK_COV_DIAG);
    assert_eq!(l2_len(10, full, diag), 8 * (55 + 10));
    assert_eq!(l2_len(10, diag, diag), 16 * 10);
    assert_eq!(
        pairwise_len(20, 5, 10, full),
        210 + 13 * 100 + 8 * (110 + 20) + 55
    );
    assert_eq!(pairwise_len(20, 5, 10, diag), 210 + 13 * 100 + 24 * 10);
    // 2 d^2 + d p + d, p = d rounded up to a multiple of 4 (12 for d = 10 and d = 12).
    assert_eq!(kl_len(10, full), 2 * 100 + 10 * 12 + 10);
    assert_eq!(kl_len(12, full), 2 * 144 + 12 * 12 + 12);
    assert_eq!(kl_len(10, diag), 3 * 10);
    assert_eq!(mm_len(10, full), 2 * 10 + 100);
    assert_eq!(mm_len(10, diag), 3 * 10);

    let (f, x) = (MK_COV_FULL, 5);
    assert_eq!(l2_len(0, f, f), 0);
    assert_eq!(l2_len(2, f, x), 0);
    assert_eq!(l2_len(2, x, f), 0);
    assert_eq!(l2_len(usize::MAX, f, f), 0);
    assert_eq!(pairwise_len(0, 2, 2, f), 0);
    assert_eq!(pairwise_len(2, 0, 2, f), 0);
    assert_eq!(pairwise_len(2, 2, 0, f), 0);
    assert_eq!(pairwise_len(2, 2, 2, x), 0);
    assert_eq!(pairwise_len(HUGE, 2, 2, f), 0);
    assert_eq!(pairwise_len(1 << 33, 1, 1, MK_COV_DIAG), 0);
    assert_eq!(pairwise_len(2, 2, usize::MAX, MK_COV_DIAG), 0);
    assert_eq!(kl_len(0, f), 0);
    assert_eq!(kl_len(2, x), 0);
    assert_eq!(kl_len(1 << 32, f), 0);
    assert_eq!(kl_len(usize::MAX, MK_COV_DIAG), 0);
    assert_eq!(mm_len(0, f), 0);
    assert_eq!(mm_len(2, x), 0);
    assert_eq!(mm_len(1 << 32, f), 0);
}
