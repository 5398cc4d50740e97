//! The checked mixture view.

use crate::status::{checked_mul, ensure_len};
use crate::Status;

/// How a mixture stores its covariances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CovKind {
    /// d x d symmetric positive definite matrices, row-major: `covs[K*d*d]`.
    Full,
    /// The diagonals only, all positive: `covs[K*d]`.
    Diag,
}

impl CovKind {
    /// Doubles per component covariance: d * d (full) or d (diagonal).
    pub fn cov_len(self, d: usize) -> Result<usize, Status> {
        match self {
            CovKind::Full => checked_mul(d, d),
            CovKind::Diag => Ok(d),
        }
    }

    /// The index of the variance of dimension a within one covariance of dimension d:
    /// a d + a (full) or a (diagonal).
    pub(crate) fn variance_index(self, d: usize, a: usize) -> usize {
        match self {
            CovKind::Full => a * d + a,
            CovKind::Diag => a,
        }
    }
}

/// Relative tolerance on the weights' sum: |sum w - 1| <= 1e-9.
pub const WEIGHT_SUM_TOL: f64 = 1e-9;

/// Relative tolerance on the symmetry of a full covariance:
/// |S_ab - S_ba| <= 1e-12 sqrt(S_aa S_bb).
pub const SYMMETRY_TOL: f64 = 1e-12;

/// A checked view over one mixture's buffers: K > 0 components in d > 0 dimensions, every value
/// finite, weights >= 0 summing to 1 (within [`WEIGHT_SUM_TOL`]), covariances symmetric (within
/// [`SYMMETRY_TOL`]) with a positive diagonal. Positive definiteness beyond that is established
/// by the kernels that factor the covariances (they report `NotSpd`), since a factorization
/// needs scratch space a view does not have.
#[derive(Clone, Copy, Debug)]
pub struct Mixture<'a> {
    k: usize,
    d: usize,
    kind: CovKind,
    weights: &'a [f64],
    means: &'a [f64],
    covs: &'a [f64],
}

impl<'a> Mixture<'a> {
    /// Checks and wraps the buffers; only their first K, K d and K cov_len(d) values are read.
    ///
    /// Errors: `ZeroSize` (K or d zero), `SizeOverflow`, `BufferTooShort` (a buffer shorter than
    /// its length formula), `NonFinite` (NaN or infinity anywhere), `Weights` (a negative
    /// weight, or a sum not within 1e-9 of 1), `NotSpd` (an asymmetric full covariance or a
    /// non-positive diagonal entry).
    pub fn new(
        weights: &'a [f64],
        means: &'a [f64],
        covs: &'a [f64],
        k: usize,
        d: usize,
        kind: CovKind,
    ) -> Result<Self, Status> {
        if k == 0 || d == 0 {
            return Err(Status::ZeroSize);
        }
        let len_means = checked_mul(k, d)?;
        let cov_len = kind.cov_len(d)?;
        let len_covs = checked_mul(k, cov_len)?;
        ensure_len(weights.len(), k)?;
        ensure_len(means.len(), len_means)?;
        ensure_len(covs.len(), len_covs)?;
        let (weights, means, covs) = (&weights[..k], &means[..len_means], &covs[..len_covs]);
        for values in [weights, means, covs] {
            if !values.iter().all(|v| v.is_finite()) {
                return Err(Status::NonFinite);
            }
        }
        if weights.iter().any(|&w| w < 0.0) {
            return Err(Status::Weights);
        }
        let total: f64 = weights.iter().sum();
        if libm::fabs(total - 1.0) > WEIGHT_SUM_TOL {
            return Err(Status::Weights);
        }
        for cov in covs.chunks_exact(cov_len) {
            check_covariance(cov, d, kind)?;
        }
        Ok(Mixture {
            k,
            d,
            kind,
            weights,
            means,
            covs,
        })
    }

    /// The number of components K.
    pub fn n_components(&self) -> usize {
        self.k
    }
    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// How the covariances are stored.
    pub fn cov_kind(&self) -> CovKind {
        self.kind
    }
    /// The K weights.
    pub fn weights(&self) -> &'a [f64] {
        self.weights
    }
    /// The K d means, component after component.
    pub fn means(&self) -> &'a [f64] {
        self.means
    }
    /// Component `i`'s mean (d values); `i < K`.
    pub fn mean(&self, i: usize) -> &'a [f64] {
        &self.means[i * self.d..(i + 1) * self.d]
    }
    /// Component `i`'s covariance (d * d values, full, or d values, diagonal); `i < K`.
    pub fn cov(&self, i: usize) -> &'a [f64] {
        let len = self.covs.len() / self.k;
        &self.covs[i * len..(i + 1) * len]
    }
}

/// Symmetry and a positive diagonal (finiteness is checked by the caller).
fn check_covariance(cov: &[f64], d: usize, kind: CovKind) -> Result<(), Status> {
    match kind {
        CovKind::Diag => {
            if cov.iter().all(|&v| v > 0.0) {
                Ok(())
            } else {
                Err(Status::NotSpd)
            }
        }
        CovKind::Full => {
            for a in 0..d {
                let s_aa = cov[a * d + a];
                if s_aa <= 0.0 {
                    return Err(Status::NotSpd);
                }
                for b in 0..a {
                    let scale = crate::special::sqrt(s_aa * cov[b * d + b]);
                    if libm::fabs(cov[a * d + b] - cov[b * d + a]) > SYMMETRY_TOL * scale {
                        return Err(Status::NotSpd);
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: [f64; 2] = [0.5, 0.5];
    const MU: [f64; 4] = [0.0, 0.0, 1.0, -1.0];
    const FULL: [f64; 8] = [1.0, 0.3, 0.3, 2.0, 0.5, 0.0, 0.0, 0.5];

    #[test]
    fn accepts_a_valid_mixture_and_exposes_its_parts() {
        let m = Mixture::new(&W, &MU, &FULL, 2, 2, CovKind::Full).unwrap();
        assert_eq!((m.n_components(), m.dim()), (2, 2));
        assert_eq!(m.mean(1), &[1.0, -1.0]);
        assert_eq!(m.cov(1), &[0.5, 0.0, 0.0, 0.5]);
        let diag = [1.0, 2.0, 0.5, 0.5];
        let m = Mixture::new(&W, &MU, &diag, 2, 2, CovKind::Diag).unwrap();
        assert_eq!(m.cov(0), &[1.0, 2.0]);
    }

    #[test]
    fn rejects_each_kind_of_bad_input_with_its_own_status() {
        let new = |w: &[f64], mu: &[f64], c: &[f64], k, d| {
            Mixture::new(w, mu, c, k, d, CovKind::Full).map(|_| ())
        };
        assert_eq!(new(&W, &MU, &FULL, 0, 2), Err(Status::ZeroSize));
        assert_eq!(new(&W, &MU, &FULL, 2, 0), Err(Status::ZeroSize));
        assert_eq!(
            new(&W, &MU, &FULL, 2, usize::MAX),
            Err(Status::SizeOverflow)
        );
        assert_eq!(new(&W, &MU[..3], &FULL, 2, 2), Err(Status::BufferTooShort));
        assert_eq!(
            new(&[0.5, f64::NAN], &MU, &FULL, 2, 2),
            Err(Status::NonFinite)
        );
        assert_eq!(
            new(&W, &[0.0, f64::INFINITY, 1.0, 1.0], &FULL, 2, 2),
            Err(Status::NonFinite)
        );
        assert_eq!(new(&[1.2, -0.2], &MU, &FULL, 2, 2), Err(Status::Weights));
        assert_eq!(
            new(&[0.5, 0.5 + 2e-9], &MU, &FULL, 2, 2),
            Err(Status::Weights)
        );
        assert_eq!(new(&[0.5, 0.5 + 1e-10], &MU, &FULL, 2, 2), Ok(()));
        let mut asym = FULL;
        asym[1] = 0.31;
        assert_eq!(new(&W, &MU, &asym, 2, 2), Err(Status::NotSpd));
        let mut neg = FULL;
        neg[7] = 0.0;
        assert_eq!(new(&W, &MU, &neg, 2, 2), Err(Status::NotSpd));
        let diag = [1.0, -2.0, 0.5, 0.5];
        assert_eq!(
            Mixture::new(&W, &MU, &diag, 2, 2, CovKind::Diag).map(|_| ()),
            Err(Status::NotSpd)
        );
    }
}
