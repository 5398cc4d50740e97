//! Tests of the Gaussian-mixture densities (`mixkern::gmm`: log-density, log-likelihood,
//! responsibilities, hard labels, BIC, the simulator) and of their C ABI (`mk_gmm_*`).
//!
//! - Log-densities against an independent direct formula: each Gaussian density computed
//!   naively from the inverse and determinant of its covariance by Gauss-Jordan elimination with
//!   partial pivoting (written here, no Cholesky), in d = 1, 2, 3, 5, to 1e-12 relative.
//! - Points 1e3 and 1e6 standard deviations from every mean: finite log-densities equal to the
//!   reference in the log domain, responsibilities that sum to 1.
//! - Samples so far out that the computation overflows are `NonFinite` with outputs untouched;
//!   samples beyond the a-priori magnitude bound but still finite take the dry-run path.
//! - Full and diagonal storage agree on diagonal covariances; responsibilities sum to 1 per row
//!   and follow a permutation of the components; labels are their argmax (lowest index on
//!   exact ties); the BIC matches its formula; fixed-dimension fast paths agree with the
//!   runtime-d path (by embedding a d-dimensional mixture in 17 dimensions).
//! - The simulator: same seed same bits, label frequencies, per-component means and
//!   covariances within a few standard errors on 10^5 samples.
//! - Bad input through the C ABI: each failure its own status, outputs (pre-filled with a
//!   sentinel) bitwise untouched; dirty workspaces do not change results.
//!
//! Random inputs come from a small LCG defined here, not from the crate's generator.

use mixkern::ffi::*;
use mixkern::gmm::{
    bic, density_work_len, hard_labels, log_density, log_likelihood, n_free_parameters,
    responsibilities, simulate, simulate_work_len, CovKind, Mixture,
};
use mixkern::Status;
use std::ptr;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Knuth's MMIX LCG with a Box-Muller normal; independent of `mixkern::rng`.
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Self {
        Lcg(seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0x2545_F491_4F6C_DD1D))
    }
    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A mixture's buffers, owned.
#[derive(Clone, Debug)]
struct Params {
    k: usize,
    d: usize,
    kind: CovKind,
    weights: Vec<f64>,
    means: Vec<f64>,
    covs: Vec<f64>,
}

impl Params {
    fn view(&self) -> Mixture<'_> {
        Mixture::new(
            &self.weights,
            &self.means,
            &self.covs,
            self.k,
            self.d,
            self.kind,
        )
        .expect("valid mixture")
    }
    /// Component c's covariance as a full d x d matrix.
    fn full_cov(&self, c: usize) -> Vec<f64> {
        let d = self.d;
        match self.kind {
            CovKind::Full => self.covs[c * d * d..(c + 1) * d * d].to_vec(),
            CovKind::Diag => {
                let mut s = vec![0.0; d * d];
                for i in 0..d {
                    s[i * d + i] = self.covs[c * d + i];
                }
                s
            }
        }
    }
    /// The same mixture with its diagonal covariances stored as full matrices.
    fn as_full(&self) -> Params {
        let covs = (0..self.k).flat_map(|c| self.full_cov(c)).collect();
        Params {
            kind: CovKind::Full,
            covs,
            ..self.clone()
        }
    }
    /// The components reordered: new component j is old component perm[j].
    fn permuted(&self, perm: &[usize]) -> Params {
        let (d, cl) = (self.d, self.covs.len() / self.k);
        Params {
            weights: perm.iter().map(|&c| self.weights[c]).collect(),
            means: perm
                .iter()
                .flat_map(|&c| self.means[c * d..(c + 1) * d].to_vec())
                .collect(),
            covs: perm
                .iter()
                .flat_map(|&c| self.covs[c * cl..(c + 1) * cl].to_vec())
                .collect(),
            ..self.clone()
        }
    }
}

/// A random mixture: Dirichlet-ish weights, means spread over a few units, covariances
/// A A^T / d + 0.3 I (full) or variances in [0.3, 2.3] (diagonal).
fn random_params(rng: &mut Lcg, k: usize, d: usize, kind: CovKind) -> Params {
    let raw: Vec<f64> = (0..k).map(|_| 0.2 + rng.uniform()).collect();
    let sum: f64 = raw.iter().sum();
    let weights: Vec<f64> = raw.iter().map(|w| w / sum).collect();
    let means = (0..k * d).map(|_| 3.0 * rng.normal()).collect();
    let mut covs = Vec::new();
    for _ in 0..k {
        match kind {
            CovKind::Full => {
                let a: Vec<f64> = (0..d * d).map(|_| rng.normal()).collect();
                for i in 0..d {
                    for j in 0..d {
                        let v: f64 = (0..d).map(|t| a[i * d + t] * a[j * d + t]).sum();
                        covs.push(v / d as f64 + if i == j { 0.3 } else { 0.0 });
                    }
                }
            }
            CovKind::Diag => covs.extend((0..d).map(|_| 0.3 + 2.0 * rng.uniform())),
        }
    }
    Params {
        k,
        d,
        kind,
        weights,
        means,
        covs,
    }
}

/// Inverse and log-determinant of a d x d matrix with a positive determinant, by Gauss-Jordan
/// elimination with partial pivoting (no Cholesky, no symmetry used): the independent
/// reference. The log-determinant is the sum of the logs of the pivots' magnitudes, so it
/// cannot overflow.
fn inverse_and_log_det(a: &[f64], d: usize) -> (Vec<f64>, f64) {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        inv[i * d + i] = 1.0;
    }
    let mut log_det = 0.0;
    for col in 0..d {
        let pivot = (col..d)
            .max_by(|&p, &q| m[p * d + col].abs().total_cmp(&m[q * d + col].abs()))
            .unwrap();
        if pivot != col {
            for j in 0..d {
                m.swap(col * d + j, pivot * d + j);
                inv.swap(col * d + j, pivot * d + j);
            }
        }
        let p = m[col * d + col];
        log_det += p.abs().ln();
        for j in 0..d {
            m[col * d + j] /= p;
            inv[col * d + j] /= p;
        }
        for r in 0..d {
            if r != col {
                let f = m[r * d + col];
                for j in 0..d {
                    m[r * d + j] -= f * m[col * d + j];
                    inv[r * d + j] -= f * inv[col * d + j];
                }
            }
        }
    }
    (inv, log_det)
}

/// Per component log(w_k phi(x; mu_k, S_k)) from the inverse and determinant.
fn reference_log_joint(p: &Params, x: &[f64]) -> Vec<f64> {
    let d = p.d;
    (0..p.k)
        .map(|c| {
            let (inv, log_det) = inverse_and_log_det(&p.full_cov(c), d);
            let diff: Vec<f64> = (0..d).map(|i| x[i] - p.means[c * d + i]).collect();
            let mut q = 0.0;
            for i in 0..d {
                for j in 0..d {
                    q += diff[i] * inv[i * d + j] * diff[j];
                }
            }
            p.weights[c].ln()
                - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
                - 0.5 * log_det
                - 0.5 * q
        })
        .collect()
}

/// The naive density: log of the sum of the component densities (no log-sum-exp).
fn reference_log_density_naive(p: &Params, x: &[f64]) -> f64 {
    reference_log_joint(p, x)
        .iter()
        .map(|l| l.exp())
        .sum::<f64>()
        .ln()
}

/// The reference in the log domain (for points whose densities underflow).
fn reference_log_density_lse(p: &Params, x: &[f64]) -> f64 {
    let l = reference_log_joint(p, x);
    let m = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + l.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

fn work_for(p: &Params) -> Vec<f64> {
    vec![0.0; density_work_len(p.k, p.d, p.kind).unwrap()]
}

fn log_density_of(p: &Params, x: &[f64]) -> Vec<f64> {
    let n = x.len() / p.d;
    let mut out = vec![0.0; n];
    log_density(&p.view(), x, n, &mut out, &mut work_for(p)).unwrap();
    out
}

fn responsibilities_of(p: &Params, x: &[f64]) -> (Vec<f64>, f64) {
    let n = x.len() / p.d;
    let mut resp = vec![0.0; n * p.k];
    let ll = responsibilities(&p.view(), x, n, &mut resp, &mut work_for(p)).unwrap();
    (resp, ll)
}

fn labels_of(p: &Params, x: &[f64]) -> Vec<usize> {
    let n = x.len() / p.d;
    let mut labels = vec![usize::MAX; n];
    hard_labels(&p.view(), x, n, &mut labels, &mut work_for(p)).unwrap();
    labels
}

/// n samples from the crate's simulator (with labels).
fn simulated(p: &Params, seed: u64, n: usize) -> (Vec<f64>, Vec<usize>) {
    let mut x = vec![0.0; n * p.d];
    let mut labels = vec![0usize; n];
    let mut work = vec![0.0; simulate_work_len(p.k, p.d, p.kind).unwrap()];
    simulate(seed, &p.view(), n, &mut x, Some(&mut labels), &mut work).unwrap();
    (x, labels)
}

fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1.0)
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

#[test]
fn log_density_matches_the_direct_formula() {
    let mut rng = Lcg::new(1);
    for d in [1usize, 2, 3, 5] {
        for kind in [CovKind::Full, CovKind::Diag] {
            let p = random_params(&mut rng, 3, d, kind);
            // Samples from the mixture plus points a few units around it; 203 is not a
            // multiple of the chunk (16) or the block (64).
            let (mut x, _) = simulated(&p, 7, 150);
            x.extend((0..53 * d).map(|_| 6.0 * rng.normal()));
            let n = x.len() / d;
            let got = log_density_of(&p, &x);
            let mut total = 0.0;
            for i in 0..n {
                let want = reference_log_density_naive(&p, &x[i * d..(i + 1) * d]);
                assert!(
                    rel_err(got[i], want) <= 1e-12,
                    "d={d} {kind:?} i={i}: {} vs {want}",
                    got[i]
                );
                total += want;
            }
            let ll = log_likelihood(&p.view(), &x, n, &mut work_for(&p)).unwrap();
            assert!(rel_err(ll.total, total) <= 1e-12, "d={d} {kind:?}");
            assert_eq!(ll.mean, ll.total / n as f64);
            let (_, ll_resp) = responsibilities_of(&p, &x);
            assert!(rel_err(ll_resp, total) <= 1e-12);
        }
    }
}

#[test]
fn a_single_standard_normal_has_the_textbook_log_density() {
    let p = Params {
        k: 1,
        d: 2,
        kind: CovKind::Full,
        weights: vec![1.0],
        means: vec![0.0, 0.0],
        covs: vec![1.0, 0.0, 0.0, 1.0],
    };
    let got = log_density_of(&p, &[0.0, 0.0, 3.0, 4.0]);
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    assert!((got[0] + ln_2pi).abs() <= 1e-15);
    assert!((got[1] - (-ln_2pi - 12.5)).abs() <= 1e-14);
}

#[test]
fn points_far_from_every_component_stay_finite() {
    let mut rng = Lcg::new(2);
    for kind in [CovKind::Full, CovKind::Diag] {
        let p = random_params(&mut rng, 3, 2, kind);
        // The components' variances are a few units at most and their means within about 12
        // of the origin: these points are over 1e3 (and 1e6) standard deviations from each.
        let x = [2.5e3, -2.5e3, 4e3, 1e3, -3e6, 2e6, 1e7, 1e7];
        let n = x.len() / 2;
        let got = log_density_of(&p, &x);
        let (resp, _) = responsibilities_of(&p, &x);
        let labels = labels_of(&p, &x);
        for i in 0..n {
            let xi = &x[i * 2..i * 2 + 2];
            assert!(got[i].is_finite() && got[i] < -1e5, "{kind:?} {}", got[i]);
            // The naive formula underflows to -inf here; the log-domain reference does not.
            assert_eq!(reference_log_density_naive(&p, xi), f64::NEG_INFINITY);
            let want = reference_log_density_lse(&p, xi);
            assert!(rel_err(got[i], want) <= 1e-12, "{} vs {want}", got[i]);
            let row = &resp[i * 3..i * 3 + 3];
            assert!(row.iter().all(|r| r.is_finite() && *r >= 0.0));
            assert!((row.iter().sum::<f64>() - 1.0).abs() <= 1e-14);
            assert_eq!(labels[i], argmax(row));
            // The winning component is the one with the largest log joint density.
            let joint = reference_log_joint(&p, xi);
            assert_eq!(labels[i], argmax(&joint));
        }
    }
}

#[test]
fn samples_whose_distances_overflow_are_rejected_with_outputs_untouched() {
    let p = random_params(&mut Lcg::new(3), 2, 2, CovKind::Full);
    let mix = p.view();
    let mut work = work_for(&p);
    // 1e200 from unit-scale components: every squared distance overflows.
    let x = [0.0, 0.0, 1e200, -1e200, 1.0, 1.0];
    let mut out = [SENTINEL; 3];
    assert_eq!(
        log_density(&mix, &x, 3, &mut out, &mut work),
        Err(Status::NonFinite)
    );
    assert!(bitwise_all(&out, SENTINEL));
    let mut resp = [SENTINEL; 6];
    assert_eq!(
        responsibilities(&mix, &x, 3, &mut resp, &mut work),
        Err(Status::NonFinite)
    );
    assert!(bitwise_all(&resp, SENTINEL));
    let mut labels = [7usize; 3];
    assert_eq!(
        hard_labels(&mix, &x, 3, &mut labels, &mut work),
        Err(Status::NonFinite)
    );
    assert_eq!(labels, [7; 3]);
    assert_eq!(
        log_likelihood(&mix, &x, 3, &mut work),
        Err(Status::NonFinite)
    );
    assert_eq!(bic(&mix, &x, 3, &mut work), Err(Status::NonFinite));
}

#[test]
fn huge_but_finite_results_take_the_dry_run_path() {
    // A component with standard deviation 1e150 and one with 1: at |x_i| = 1e296 the a-priori
    // bound fails (the unit component overflows), yet the wide one gives a squared distance of
    // 2e292, so every log-density is finite and the call succeeds after a dry pass.
    let p = Params {
        k: 2,
        d: 2,
        kind: CovKind::Diag,
        weights: vec![0.5, 0.5],
        means: vec![0.0, 0.0, 0.0, 0.0],
        covs: vec![1.0, 1.0, 1e300, 1e300],
    };
    let x = [1e296, -1e296, 0.5, 0.5, 3e295, 0.0];
    let got = log_density_of(&p, &x);
    for i in 0..3 {
        let want = reference_log_density_lse(&p, &x[i * 2..i * 2 + 2]);
        assert!(got[i].is_finite());
        assert!(rel_err(got[i], want) <= 1e-12, "{} vs {want}", got[i]);
    }
    let (resp, _) = responsibilities_of(&p, &x);
    assert_eq!(&resp[0..2], &[0.0, 1.0]);
    assert_eq!(labels_of(&p, &x), vec![1, 0, 1]);
    // The same samples with a NaN added fail, outputs untouched.
    let mut out = [SENTINEL; 4];
    let bad = [1e296, -1e296, 0.5, 0.5, 3e295, 0.0, f64::NAN, 0.0];
    assert_eq!(
        log_density(&p.view(), &bad, 4, &mut out, &mut work_for(&p)),
        Err(Status::NonFinite)
    );
    assert!(bitwise_all(&out, SENTINEL));
}

#[test]
fn full_and_diagonal_storage_agree_on_diagonal_covariances() {
    let mut rng = Lcg::new(4);
    for d in [1usize, 3, 8, 20] {
        let diag = random_params(&mut rng, 4, d, CovKind::Diag);
        let full = diag.as_full();
        let (x, _) = simulated(&diag, 11, 333);
        let (a, b) = (log_density_of(&diag, &x), log_density_of(&full, &x));
        assert!(
            a.iter().zip(&b).all(|(u, v)| rel_err(*u, *v) <= 1e-13),
            "d={d}"
        );
        let ((ra, la), (rb, lb)) = (
            responsibilities_of(&diag, &x),
            responsibilities_of(&full, &x),
        );
        assert!(rel_err(la, lb) <= 1e-13);
        assert!(ra.iter().zip(&rb).all(|(u, v)| (u - v).abs() <= 1e-12));
        assert_eq!(labels_of(&diag, &x), labels_of(&full, &x));
    }
}

fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (c, &r) in row.iter().enumerate() {
        if r > row[best] {
            best = c;
        }
    }
    best
}

#[test]
fn responsibilities_sum_to_one_and_follow_a_permutation_of_the_components() {
    let mut rng = Lcg::new(5);
    for kind in [CovKind::Full, CovKind::Diag] {
        let (k, d) = (5usize, 3usize);
        let p = random_params(&mut rng, k, d, kind);
        let (x, _) = simulated(&p, 13, 500);
        let n = x.len() / d;
        let (resp, ll) = responsibilities_of(&p, &x);
        for row in resp.chunks_exact(k) {
            assert!(row.iter().all(|r| (0.0..=1.0).contains(r)));
            assert!((row.iter().sum::<f64>() - 1.0).abs() <= 1e-14);
        }
        let perm = [3usize, 0, 4, 2, 1];
        let q = p.permuted(&perm);
        let (resp_q, ll_q) = responsibilities_of(&q, &x);
        assert!(rel_err(ll_q, ll) <= 1e-13);
        for i in 0..n {
            for (j, &c) in perm.iter().enumerate() {
                assert!((resp_q[i * k + j] - resp[i * k + c]).abs() <= 1e-13);
            }
        }
        let (a, b) = (log_density_of(&p, &x), log_density_of(&q, &x));
        assert!(a.iter().zip(&b).all(|(u, v)| rel_err(*u, *v) <= 1e-13));
        // Labels follow the permutation (the samples have no near-ties at this tolerance).
        let (lp, lq) = (labels_of(&p, &x), labels_of(&q, &x));
        let ties = (0..n)
            .filter(|&i| {
                let mut row = resp[i * k..(i + 1) * k].to_vec();
                row.sort_by(|a, b| b.total_cmp(a));
                row[0] - row[1] < 1e-12
            })
            .count();
        assert_eq!(ties, 0);
        for i in 0..n {
            assert_eq!(perm[lq[i]], lp[i]);
        }
    }
}

#[test]
fn labels_are_the_argmax_of_the_responsibilities_lowest_index_on_ties() {
    let mut rng = Lcg::new(6);
    let mut p = random_params(&mut rng, 4, 2, CovKind::Full);
    // Components 1 and 2 identical: equal responsibilities, so label 2 never appears.
    let (d, cl) = (2, 4);
    p.weights = vec![0.25, 0.25, 0.25, 0.25];
    for i in 0..d {
        p.means[2 * d + i] = p.means[d + i];
    }
    for i in 0..cl {
        p.covs[2 * cl + i] = p.covs[cl + i];
    }
    let (x, _) = simulated(&p, 17, 2000);
    let (resp, _) = responsibilities_of(&p, &x);
    let labels = labels_of(&p, &x);
    let mut ones = 0;
    for (i, row) in resp.chunks_exact(4).enumerate() {
        assert_eq!(labels[i], argmax(row), "sample {i}");
        assert_eq!(row[1].to_bits(), row[2].to_bits());
        assert_ne!(labels[i], 2);
        ones += (labels[i] == 1) as usize;
    }
    assert!(ones > 100, "component 1 wins some samples: {ones}");
}

#[test]
fn bic_matches_its_formula_and_prefers_the_true_mixture() {
    let mut rng = Lcg::new(7);
    for kind in [CovKind::Full, CovKind::Diag] {
        let (k, d) = (3usize, 4usize);
        let p = random_params(&mut rng, k, d, kind);
        let (x, _) = simulated(&p, 19, 1000);
        let n = x.len() / d;
        let params = match kind {
            CovKind::Full => (k - 1) + k * d + k * d * (d + 1) / 2,
            CovKind::Diag => (k - 1) + 2 * k * d,
        };
        assert_eq!(n_free_parameters(k, d, kind), Ok(params));
        let total: f64 = (0..n)
            .map(|i| reference_log_density_naive(&p, &x[i * d..(i + 1) * d]))
            .sum();
        let want = -2.0 * total + params as f64 * (n as f64).ln();
        let got = bic(&p.view(), &x, n, &mut work_for(&p)).unwrap();
        assert!(rel_err(got, want) <= 1e-12, "{got} vs {want}");

        // One Gaussian with the data's mean and covariance (moment matched) fits worse.
        let mean: Vec<f64> = (0..d)
            .map(|a| (0..n).map(|i| x[i * d + a]).sum::<f64>() / n as f64)
            .collect();
        let mut cov = vec![0.0; d * d];
        for i in 0..n {
            for a in 0..d {
                for b in 0..d {
                    cov[a * d + b] += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]);
                }
            }
        }
        cov.iter_mut().for_each(|v| *v /= n as f64);
        let one = Params {
            k: 1,
            d,
            kind: CovKind::Full,
            weights: vec![1.0],
            means: mean,
            covs: cov,
        };
        let bic_one = bic(&one.view(), &x, n, &mut work_for(&one)).unwrap();
        assert!(got < bic_one, "{got} vs {bic_one}");
    }
}

/// The fixed-dimension instances (d <= 16) against the runtime-d instance: a d-dimensional
/// mixture embedded in 17 dimensions (extra coordinates independent standard normals, samples
/// 0 there) has every log joint density shifted by the same constant -(17 - d)/2 ln(2 pi).
#[test]
fn fast_paths_agree_with_the_runtime_dimension_path() {
    const WIDE: usize = 17;
    let mut rng = Lcg::new(8);
    for d in 1..=16usize {
        for kind in [CovKind::Full, CovKind::Diag] {
            let k = 3;
            let p = random_params(&mut rng, k, d, kind);
            let (x, _) = simulated(&p, 23, 100);
            let n = x.len() / d;
            let mut wide = Params {
                d: WIDE,
                means: vec![0.0; k * WIDE],
                covs: Vec::new(),
                ..p.clone()
            };
            for c in 0..k {
                wide.means[c * WIDE..c * WIDE + d].copy_from_slice(&p.means[c * d..(c + 1) * d]);
                match kind {
                    CovKind::Full => {
                        let s = p.full_cov(c);
                        let mut w = vec![0.0; WIDE * WIDE];
                        for i in 0..WIDE {
                            for j in 0..WIDE {
                                w[i * WIDE + j] = if i < d && j < d {
                                    s[i * d + j]
                                } else if i == j {
                                    1.0
                                } else {
                                    0.0
                                };
                            }
                        }
                        wide.covs.extend(w);
                    }
                    CovKind::Diag => {
                        wide.covs.extend_from_slice(&p.covs[c * d..(c + 1) * d]);
                        wide.covs.extend(std::iter::repeat_n(1.0, WIDE - d));
                    }
                }
            }
            let mut xw = vec![0.0; n * WIDE];
            for i in 0..n {
                xw[i * WIDE..i * WIDE + d].copy_from_slice(&x[i * d..(i + 1) * d]);
            }
            let shift = -0.5 * (WIDE - d) as f64 * (2.0 * std::f64::consts::PI).ln();
            let (fast, slow) = (log_density_of(&p, &x), log_density_of(&wide, &xw));
            for i in 0..n {
                assert!(rel_err(fast[i] + shift, slow[i]) <= 1e-13, "d={d} {kind:?}");
            }
            let ((rf, _), (rs, _)) = (responsibilities_of(&p, &x), responsibilities_of(&wide, &xw));
            assert!(rf.iter().zip(&rs).all(|(a, b)| (a - b).abs() <= 1e-13));
            assert_eq!(labels_of(&p, &x), labels_of(&wide, &xw));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Simulator
// ---------------------------------------------------------------------------------------------

#[test]
fn simulate_is_reproducible_from_its_seed() {
    let p = random_params(&mut Lcg::new(9), 3, 4, CovKind::Full);
    let (a, la) = simulated(&p, 42, 1000);
    let (b, lb) = simulated(&p, 42, 1000);
    assert!(a.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits()));
    assert_eq!(la, lb);
    let (c, _) = simulated(&p, 43, 1000);
    assert!(a.iter().zip(&c).filter(|(u, v)| u == v).count() < 10);
    // Without labels: the same samples.
    let mut x = vec![0.0; 4000];
    let mut work = vec![0.0; simulate_work_len(3, 4, CovKind::Full).unwrap()];
    simulate(42, &p.view(), 1000, &mut x, None, &mut work).unwrap();
    assert!(a.iter().zip(&x).all(|(u, v)| u.to_bits() == v.to_bits()));
    // Every value finite, labels in range.
    assert!(a.iter().all(|v| v.is_finite()) && la.iter().all(|&l| l < 3));
}

#[test]
fn simulated_samples_have_the_mixture_moments() {
    let n = 100_000;
    let mut rng = Lcg::new(10);
    for kind in [CovKind::Full, CovKind::Diag] {
        let (k, d) = (3usize, 3usize);
        let mut p = random_params(&mut rng, k, d, kind);
        p.weights = vec![0.5, 0.3, 0.2];
        let (x, labels) = simulated(&p, 99, n);
        for c in 0..k {
            let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
            let nc = members.len() as f64;
            let w = p.weights[c];
            let se = (w * (1.0 - w) / n as f64).sqrt();
            assert!((nc / n as f64 - w).abs() <= 4.0 * se, "{kind:?} weight {c}");
            let s = p.full_cov(c);
            let mu = &p.means[c * d..(c + 1) * d];
            let mean: Vec<f64> = (0..d)
                .map(|a| members.iter().map(|&i| x[i * d + a]).sum::<f64>() / nc)
                .collect();
            for a in 0..d {
                let se = (s[a * d + a] / nc).sqrt();
                assert!((mean[a] - mu[a]).abs() <= 4.5 * se, "{kind:?} mean {c},{a}");
            }
            for a in 0..d {
                for b in 0..d {
                    let cov = members
                        .iter()
                        .map(|&i| (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]))
                        .sum::<f64>()
                        / (nc - 1.0);
                    // Var of a sample covariance of Gaussians: (S_aa S_bb + S_ab^2) / n.
                    let sab = s[a * d + b];
                    let se = ((s[a * d + a] * s[b * d + b] + sab * sab) / nc).sqrt();
                    assert!((cov - sab).abs() <= 4.5 * se, "{kind:?} cov {c},{a},{b}");
                }
            }
        }
    }
}

#[test]
fn zero_weight_components_are_never_drawn() {
    let mut p = random_params(&mut Lcg::new(11), 3, 2, CovKind::Diag);
    p.weights = vec![0.0, 1.0, 0.0];
    let (_, labels) = simulated(&p, 5, 10_000);
    assert!(labels.iter().all(|&l| l == 1));
}

// ---------------------------------------------------------------------------------------------
// Bad input through the C ABI
// ---------------------------------------------------------------------------------------------

/// A quiet NaN with a payload no computation produces.
const SENTINEL: f64 = f64::from_bits(0x7ff8_dead_beef_0001);
/// A label no call writes.
const SENTINEL_LABEL: usize = 0xdead_beef;
/// Sizes whose product with 2 overflows.
const HUGE: usize = usize::MAX / 2 + 1;
const NON_FINITE: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

fn bitwise_all(values: &[f64], v: f64) -> bool {
    values.iter().all(|x| x.to_bits() == v.to_bits())
}

/// `mk_gmm_log_density_work_len` for n samples and a mixture of shape (K, d, kind).
fn dens_len(n: usize, k: usize, d: usize, kind: i32) -> usize {
    // SAFETY: a valid shape-only descriptor.
    unsafe { mk_gmm_log_density_work_len(n, d, &MkMixture::shape(k, d, kind)) }
}

/// `mk_gmm_simulate_work_len` for a mixture of shape (K, d, kind) and n samples.
fn sim_len(k: usize, d: usize, kind: i32, n: usize) -> usize {
    // SAFETY: a valid shape-only descriptor.
    unsafe { mk_gmm_simulate_work_len(&MkMixture::shape(k, d, kind), n) }
}

impl Case {
    /// The case's mixture descriptor.
    fn mixture(&self) -> MkMixture {
        MkMixture::over(
            self.k,
            self.d,
            self.kind,
            &self.weights,
            &self.means,
            &self.covs,
        )
    }
}

/// A valid small problem in C form: K = 2, d = 2, n = 5.
#[derive(Clone)]
struct Case {
    weights: Vec<f64>,
    means: Vec<f64>,
    covs: Vec<f64>,
    k: usize,
    d: usize,
    kind: i32,
    x: Vec<f64>,
    n: usize,
    work_len: usize,
}

impl Case {
    fn full() -> Case {
        Case {
            weights: vec![0.4, 0.6],
            means: vec![0.0, 0.0, 2.0, -1.0],
            covs: vec![1.0, 0.3, 0.3, 2.0, 0.5, 0.0, 0.0, 0.5],
            k: 2,
            d: 2,
            kind: MK_COV_FULL,
            x: vec![0.1, 0.2, 1.5, -0.5, -1.0, 3.0, 2.0, -1.0, 0.7, 0.7],
            n: 5,
            work_len: dens_len(5, 2, 2, MK_COV_FULL),
        }
    }
    fn diag() -> Case {
        Case {
            covs: vec![1.0, 2.0, 0.5, 0.5],
            kind: MK_COV_DIAG,
            work_len: dens_len(5, 2, 2, MK_COV_DIAG),
            ..Case::full()
        }
    }
}

/// Which function to call.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Func {
    LogDensity,
    LogLikelihood,
    Responsibilities,
    HardLabels,
    Bic,
    Simulate,
}

const ALL: [Func; 6] = [
    Func::LogDensity,
    Func::LogLikelihood,
    Func::Responsibilities,
    Func::HardLabels,
    Func::Bic,
    Func::Simulate,
];

/// Which pointer to pass as NULL.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Null {
    None,
    Weights,
    Means,
    Covs,
    X,
    Out,
    Work,
}

/// The outputs of one call, pre-filled with sentinels.
struct Outputs {
    values: Vec<f64>,
    labels: Vec<usize>,
    extra: f64,
}

impl Outputs {
    fn untouched(&self) -> bool {
        bitwise_all(&self.values, SENTINEL)
            && self.labels.iter().all(|&l| l == SENTINEL_LABEL)
            && self.extra.to_bits() == SENTINEL.to_bits()
    }
}

/// Calls `f` on the case through the C ABI with the given NULL pointer and work buffer
/// (filled with `work_fill`); returns the status and the outputs.
fn call(f: Func, case: &Case, null: Null, work_fill: f64) -> (i32, Outputs) {
    let n = case.n;
    let k = case.k;
    // Output buffers sized from small real lengths (overflowing sizes never reach them).
    let len_values = match f {
        Func::LogDensity => n.min(1 << 20),
        Func::Responsibilities => n.saturating_mul(k).min(1 << 20),
        Func::Simulate => n.saturating_mul(case.d).min(1 << 20),
        _ => 1,
    };
    let mut o = Outputs {
        values: vec![SENTINEL; len_values],
        labels: vec![SENTINEL_LABEL; n.min(1 << 20)],
        extra: SENTINEL,
    };
    let mut work = vec![work_fill; case.work_len.min(1 << 20)];
    let pick = |which: Null, p: *const f64| if null == which { ptr::null() } else { p };
    let w = pick(Null::Weights, case.weights.as_ptr());
    let m = pick(Null::Means, case.means.as_ptr());
    let c = pick(Null::Covs, case.covs.as_ptr());
    let x = pick(Null::X, case.x.as_ptr());
    let out = if null == Null::Out {
        ptr::null_mut()
    } else {
        o.values.as_mut_ptr()
    };
    let labels = if null == Null::Out {
        ptr::null_mut()
    } else {
        o.labels.as_mut_ptr()
    };
    let wk = if null == Null::Work {
        ptr::null_mut()
    } else {
        work.as_mut_ptr()
    };
    let (d, wl) = (case.d, case.work_len);
    let mix = MkMixture {
        k: case.k,
        d,
        cov_kind: case.kind,
        weights: w,
        means: m,
        covs: c,
    };
    let mix = &mix;
    // SAFETY: every pointer is valid for the lengths the functions read: the buffers hold
    // the stated counts for every valid size, and the overflowing sizes are rejected before
    // any slice is formed.
    let status = unsafe {
        match f {
            Func::LogDensity => mk_gmm_log_density(x, n, d, mix, out, wk, wl),
            Func::LogLikelihood => mk_gmm_log_likelihood(x, n, d, mix, out, &mut o.extra, wk, wl),
            Func::Responsibilities => {
                mk_gmm_responsibilities(x, n, d, mix, out, &mut o.extra, wk, wl)
            }
            Func::HardLabels => mk_gmm_hard_labels(x, n, d, mix, labels, wk, wl),
            Func::Bic => mk_gmm_bic(x, n, d, mix, out, wk, wl),
            Func::Simulate => {
                let lab = if null == Null::Out {
                    ptr::null_mut()
                } else {
                    o.labels.as_mut_ptr()
                };
                mk_gmm_simulate(mix, n, 5, out, lab, wk, wl)
            }
        }
    };
    (status, o)
}

/// Asserts `f` fails on `case` with `want`, outputs untouched.
fn assert_fails(f: Func, case: &Case, null: Null, want: Status) {
    let (status, o) = call(f, case, null, 0.0);
    assert_eq!(status, want.code(), "{f:?} {null:?}: expected {want:?}");
    assert!(o.untouched(), "{f:?} {null:?}: outputs touched");
}

#[test]
fn valid_calls_succeed_and_agree_with_the_safe_api() {
    for case in [Case::full(), Case::diag()] {
        for f in ALL {
            let (status, o) = call(f, &case, Null::None, 0.0);
            assert_eq!(status, 0, "{f:?}");
            match f {
                Func::LogDensity => assert!(o.values.iter().all(|v| v.is_finite() && *v < 0.0)),
                Func::LogLikelihood => {
                    let total: f64 = call(Func::LogDensity, &case, Null::None, 0.0)
                        .1
                        .values
                        .iter()
                        .sum();
                    assert!(rel_err(o.values[0], total) <= 1e-14);
                    assert_eq!(o.extra, o.values[0] / case.n as f64);
                }
                Func::Responsibilities => {
                    for row in o.values.chunks_exact(case.k) {
                        assert!((row.iter().sum::<f64>() - 1.0).abs() <= 1e-15);
                    }
                    assert!(o.extra.is_finite());
                }
                Func::HardLabels => assert!(o.labels.iter().all(|&l| l < case.k)),
                Func::Bic => assert!(o.values[0].is_finite()),
                Func::Simulate => {
                    assert!(o.values.iter().all(|v| v.is_finite()));
                    assert!(o.labels.iter().all(|&l| l < case.k));
                }
            }
        }
        // Optional outputs may be NULL.
        let mut total = SENTINEL;
        let mut work = vec![0.0; case.work_len];
        // SAFETY: valid buffers of the documented lengths; mean_out may be NULL.
        let status = unsafe {
            mk_gmm_log_likelihood(
                case.x.as_ptr(),
                case.n,
                case.d,
                &case.mixture(),
                &mut total,
                ptr::null_mut(),
                work.as_mut_ptr(),
                work.len(),
            )
        };
        assert_eq!(status, 0);
        assert!(total.is_finite());
        let mut resp = vec![SENTINEL; case.n * case.k];
        let mut x = vec![SENTINEL; case.n * case.d];
        // SAFETY: as above; loglik_out and labels_out may be NULL.
        unsafe {
            assert_eq!(
                mk_gmm_responsibilities(
                    case.x.as_ptr(),
                    case.n,
                    case.d,
                    &case.mixture(),
                    resp.as_mut_ptr(),
                    ptr::null_mut(),
                    work.as_mut_ptr(),
                    work.len(),
                ),
                0
            );
            assert_eq!(
                mk_gmm_simulate(
                    &case.mixture(),
                    case.n,
                    5,
                    x.as_mut_ptr(),
                    ptr::null_mut(),
                    work.as_mut_ptr(),
                    sim_len(case.k, case.d, case.kind, case.n),
                ),
                0
            );
        }
        assert!(resp.iter().all(|v| v.is_finite()));
        assert!(x.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn null_pointers_are_rejected() {
    for case in [Case::full(), Case::diag()] {
        for f in ALL {
            let nulls: &[Null] = match f {
                Func::Simulate => &[Null::Weights, Null::Means, Null::Covs, Null::Work],
                _ => &[
                    Null::Weights,
                    Null::Means,
                    Null::Covs,
                    Null::X,
                    Null::Out,
                    Null::Work,
                ],
            };
            for &null in nulls {
                assert_fails(f, &case, null, Status::NullPointer);
            }
        }
        // Simulate's x_out is required.
        let mut work = vec![0.0; case.work_len];
        // SAFETY: valid buffers; x_out NULL is rejected before anything is read or written.
        let status = unsafe {
            mk_gmm_simulate(
                &case.mixture(),
                case.n,
                5,
                ptr::null_mut(),
                ptr::null_mut(),
                work.as_mut_ptr(),
                work.len(),
            )
        };
        assert_eq!(status, Status::NullPointer.code());
    }
}

#[test]
fn zero_and_overflowing_sizes_are_rejected() {
    for f in ALL {
        for (k, d, n) in [(0, 2, 5), (2, 0, 5), (2, 2, 0)] {
            let case = Case {
                k,
                d,
                n,
                ..Case::full()
            };
            assert_fails(f, &case, Null::None, Status::ZeroSize);
        }
        // K*d overflows; d*d overflows (full); n*d overflows.
        for (k, d, n) in [(HUGE, 2, 5), (2, HUGE, 5), (2, 2, HUGE)] {
            let case = Case {
                k,
                d,
                n,
                ..Case::full()
            };
            assert_fails(f, &case, Null::None, Status::SizeOverflow);
        }
    }
    // n*K overflows for the responsibilities while n*d and its byte length do not (d = 1,
    // K = 64): rejected before any slice of the samples is formed.
    let case = Case {
        k: 64,
        d: 1,
        weights: vec![1.0 / 64.0; 64],
        means: (0..64).map(|i| i as f64).collect(),
        covs: vec![1.0; 64],
        kind: MK_COV_DIAG,
        n: usize::MAX / 32,
        ..Case::full()
    };
    assert_fails(
        Func::Responsibilities,
        &case,
        Null::None,
        Status::SizeOverflow,
    );
    // Work lengths: 0 on zero sizes, overflow, unknown kinds and disagreeing dimensions.
    type Query = unsafe extern "C" fn(usize, usize, *const MkMixture) -> usize;
    let queries: [Query; 5] = [
        mk_gmm_log_density_work_len,
        mk_gmm_log_likelihood_work_len,
        mk_gmm_responsibilities_work_len,
        mk_gmm_hard_labels_work_len,
        mk_gmm_bic_work_len,
    ];
    for q in queries {
        // SAFETY (every call): valid shape-only descriptors or NULL.
        let q = |k: usize, d: usize, kind: i32| unsafe { q(7, d, &MkMixture::shape(k, d, kind)) };
        assert!(q(3, 4, MK_COV_FULL) > 0 && q(3, 4, MK_COV_DIAG) > 0);
        assert!(q(3, 4, MK_COV_FULL) > q(3, 4, MK_COV_DIAG));
        assert_eq!(q(0, 4, MK_COV_FULL), 0);
        assert_eq!(q(3, 0, MK_COV_DIAG), 0);
        assert_eq!(q(HUGE, 2, MK_COV_DIAG), 0);
        assert_eq!(q(2, 1 << 33, MK_COV_FULL), 0);
        assert_eq!(q(usize::MAX, usize::MAX, MK_COV_DIAG), 0);
        assert_eq!(q(3, 4, 2), 0);
        assert_eq!(q(3, 4, -1), 0);
    }
    // SAFETY: as above.
    unsafe {
        let shape = MkMixture::shape(3, 4, MK_COV_FULL);
        assert_eq!(mk_gmm_log_density_work_len(0, 4, &shape), 0, "n = 0");
        assert_eq!(mk_gmm_log_density_work_len(7, 5, &shape), 0, "d != mix->d");
        assert_eq!(mk_gmm_log_density_work_len(7, 4, ptr::null()), 0, "NULL");
        assert_eq!(mk_gmm_simulate_work_len(&shape, 0), 0, "n = 0");
    }
    assert_eq!(
        dens_len(7, 3, 4, MK_COV_FULL),
        density_work_len(3, 4, CovKind::Full).unwrap()
    );
    assert_eq!(
        density_work_len(3, 4, CovKind::Full).unwrap(),
        3 * (8 + 16 + 65) + 128 + 128
    );
    assert_eq!(
        density_work_len(3, 4, CovKind::Diag).unwrap(),
        3 * (8 + 4 + 65) + 128 + 128
    );
    assert_eq!(sim_len(3, 4, MK_COV_FULL, 7), 3 * (8 + 16 + 1));
}

#[test]
fn short_workspaces_are_rejected() {
    for case in [Case::full(), Case::diag()] {
        for f in ALL {
            let need = match f {
                Func::Simulate => sim_len(case.k, case.d, case.kind, case.n),
                _ => case.work_len,
            };
            let short = Case {
                work_len: need - 1,
                ..case.clone()
            };
            assert_fails(f, &short, Null::None, Status::BufferTooShort);
        }
    }
}

#[test]
fn non_finite_samples_and_parameters_are_rejected() {
    for base in [Case::full(), Case::diag()] {
        for f in ALL {
            for bad in NON_FINITE {
                // Every position of the samples (not used by the simulator).
                if f != Func::Simulate {
                    for i in 0..base.x.len() {
                        let mut case = base.clone();
                        case.x[i] = bad;
                        assert_fails(f, &case, Null::None, Status::NonFinite);
                    }
                }
                for i in 0..base.k {
                    let mut case = base.clone();
                    case.weights[i] = bad;
                    assert_fails(f, &case, Null::None, Status::NonFinite);
                }
                for i in 0..base.means.len() {
                    let mut case = base.clone();
                    case.means[i] = bad;
                    assert_fails(f, &case, Null::None, Status::NonFinite);
                }
                for i in 0..base.covs.len() {
                    let mut case = base.clone();
                    case.covs[i] = bad;
                    assert_fails(f, &case, Null::None, Status::NonFinite);
                }
            }
        }
    }
}

#[test]
fn bad_weights_are_rejected() {
    for base in [Case::full(), Case::diag()] {
        for f in ALL {
            for weights in [
                [1.2, -0.2],
                [0.5, 0.6],
                [0.3, 0.3],
                [0.0, 0.0],
                [-0.0, 1.0 + 1e-8],
            ] {
                let case = Case {
                    weights: weights.to_vec(),
                    ..base.clone()
                };
                assert_fails(f, &case, Null::None, Status::Weights);
            }
        }
    }
}

#[test]
fn covariances_that_are_not_spd_are_rejected() {
    for f in ALL {
        // Indefinite: [[1, 2], [2, 1]] has eigenvalues 3 and -1.
        let mut case = Case::full();
        case.covs[4..8].copy_from_slice(&[1.0, 2.0, 2.0, 1.0]);
        assert_fails(f, &case, Null::None, Status::NotSpd);
        // Singular: [[1, 1], [1, 1]].
        case.covs[4..8].copy_from_slice(&[1.0, 1.0, 1.0, 1.0]);
        assert_fails(f, &case, Null::None, Status::NotSpd);
        // Not symmetric.
        let mut case = Case::full();
        case.covs[1] = 0.31;
        assert_fails(f, &case, Null::None, Status::NotSpd);
        // Diagonal: a zero and a negative variance.
        for v in [0.0, -1.0] {
            let mut case = Case::diag();
            case.covs[3] = v;
            assert_fails(f, &case, Null::None, Status::NotSpd);
        }
    }
}

#[test]
fn unknown_covariance_kinds_are_rejected() {
    for f in ALL {
        for kind in [2, -1, i32::MAX] {
            let case = Case {
                kind,
                ..Case::full()
            };
            assert_fails(f, &case, Null::None, Status::BadParameter);
        }
    }
}

#[test]
fn dirty_workspaces_do_not_change_results() {
    for case in [Case::full(), Case::diag()] {
        for f in ALL {
            let (s0, clean) = call(f, &case, Null::None, 0.0);
            for fill in [f64::NAN, -1e300, f64::INFINITY] {
                let (s1, dirty) = call(f, &case, Null::None, fill);
                assert_eq!((s0, s1), (0, 0));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&clean.values), bits(&dirty.values), "{f:?}");
                assert_eq!(clean.labels, dirty.labels);
                assert_eq!(clean.extra.to_bits(), dirty.extra.to_bits());
            }
        }
    }
}

#[test]
fn statuses_through_the_safe_api_match() {
    let p = random_params(&mut Lcg::new(12), 2, 3, CovKind::Full);
    let mix = p.view();
    let x = vec![0.5; 12];
    let mut out = vec![SENTINEL; 4];
    let mut short = vec![0.0; density_work_len(2, 3, CovKind::Full).unwrap() - 1];
    assert_eq!(
        log_density(&mix, &x, 4, &mut out, &mut short),
        Err(Status::BufferTooShort)
    );
    assert_eq!(
        log_density(&mix, &x, 5, &mut out, &mut work_for(&p)),
        Err(Status::BufferTooShort)
    );
    assert_eq!(
        log_density(&mix, &x, 4, &mut out[..3], &mut work_for(&p)),
        Err(Status::BufferTooShort)
    );
    assert_eq!(
        log_density(&mix, &x, 0, &mut out, &mut work_for(&p)),
        Err(Status::ZeroSize)
    );
    assert!(bitwise_all(&out, SENTINEL));
    let mut labels = vec![SENTINEL_LABEL; 3];
    assert_eq!(
        hard_labels(&mix, &x, 4, &mut labels, &mut work_for(&p)),
        Err(Status::BufferTooShort)
    );
    let mut xs = vec![SENTINEL; 11];
    let mut sw = vec![0.0; simulate_work_len(2, 3, CovKind::Full).unwrap()];
    assert_eq!(
        simulate(1, &mix, 4, &mut xs, None, &mut sw),
        Err(Status::BufferTooShort)
    );
    assert_eq!(
        simulate(1, &mix, 0, &mut xs, None, &mut sw),
        Err(Status::ZeroSize)
    );
    assert!(bitwise_all(&xs, SENTINEL));
    // Extreme but valid parameters: x = mu + L z cannot overflow (|L z| is far below half an
    // ulp of f64::MAX), so every sample is finite.
    let huge = Params {
        k: 2,
        d: 1,
        kind: CovKind::Diag,
        weights: vec![0.5, 0.5],
        means: vec![f64::MAX, -f64::MAX],
        covs: vec![f64::MAX, 1e-300],
    };
    let mut xs = vec![SENTINEL; 64];
    let mut sw = vec![0.0; simulate_work_len(2, 1, CovKind::Diag).unwrap()];
    simulate(1, &huge.view(), 64, &mut xs, None, &mut sw).unwrap();
    assert!(xs.iter().all(|v| v.is_finite()));
}
