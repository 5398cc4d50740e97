//! The checked data view and the one-pass node statistics.

use super::kernel::{dispatch_dim, gram_and_node_sums};
use crate::linalg::cholesky;
use crate::status::{checked_add, checked_mul, ensure_len};
use crate::Status;

/// A checked view over clustered regression data: X (N x d, row-major), y (N) and the node
/// sizes n_1..n_m, nodes stored one after another (node j owns the n_j consecutive samples
/// after those of nodes 0..j).
///
/// `new` checks only shapes (O(m)); finiteness is checked by every pass that reads the data,
/// in that same pass.
#[derive(Clone, Copy, Debug)]
pub struct ClusteredData<'a> {
    x: &'a [f64],
    y: &'a [f64],
    d: usize,
    node_sizes: &'a [usize],
}

impl<'a> ClusteredData<'a> {
    /// Checks the shapes: N = `y.len()`, `x.len() >= N * d` (only the first N * d values are
    /// read), every node size positive and their sum equal to N.
    ///
    /// Errors: `ZeroSize` if d, N or m is zero; `SizeOverflow` if N * d overflows;
    /// `BufferTooShort` if x is shorter than N * d; `NodeSizes` if a node size is zero or the
    /// sizes do not add up to N (or their sum overflows).
    pub fn new(
        x: &'a [f64],
        y: &'a [f64],
        d: usize,
        node_sizes: &'a [usize],
    ) -> Result<Self, Status> {
        let n_total = y.len();
        if d == 0 || n_total == 0 || node_sizes.is_empty() {
            return Err(Status::ZeroSize);
        }
        let len_x = checked_mul(n_total, d)?;
        ensure_len(x.len(), len_x)?;
        if super::total_of_node_sizes(node_sizes)? != n_total {
            return Err(Status::NodeSizes);
        }
        Ok(ClusteredData {
            x: &x[..len_x],
            y,
            d,
            node_sizes,
        })
    }

    /// The covariates, N x d row-major.
    pub fn x(&self) -> &'a [f64] {
        self.x
    }
    /// The responses, length N.
    pub fn y(&self) -> &'a [f64] {
        self.y
    }
    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// The number of samples N.
    pub fn n_total(&self) -> usize {
        self.y.len()
    }
    /// The number of nodes m.
    pub fn n_nodes(&self) -> usize {
        self.node_sizes.len()
    }
    /// The node sizes n_1..n_m.
    pub fn node_sizes(&self) -> &'a [usize] {
        self.node_sizes
    }
}

/// Workspace length (in f64) for [`node_statistics`]: m * d + d * d.
/// `SizeOverflow` if that overflows.
pub fn node_statistics_work_len(m: usize, d: usize) -> Result<usize, Status> {
    checked_add(checked_mul(m, d)?, checked_mul(d, d)?)
}

/// One pass over the data: the node sums s_j = sum_i y_ij x_ij into `node_sums[..m*d]` (row j
/// is s_j) and the lower Cholesky factor L of Sigma_hat = (1/N) sum_ij x_ij x_ij^T into
/// `sigma_chol[..d*d]` (row-major, strict upper triangle zero). `work` has length at least
/// [`node_statistics_work_len`]`(m, d)`; the results are built there and copied out on success.
///
/// Errors, with both outputs untouched: `BufferTooShort` if an output or `work` is short
/// (`SizeOverflow` if a length overflows); `NonFinite` if X or y holds NaN or infinity (or a sum
/// overflows); `NotSpd` if Sigma_hat is singular (fewer samples than d, a covariate that is
/// identically zero, collinear covariates).
pub fn node_statistics(
    data: &ClusteredData,
    node_sums: &mut [f64],
    sigma_chol: &mut [f64],
    work: &mut [f64],
) -> Result<(), Status> {
    let d = data.d;
    let len_s = checked_mul(data.node_sizes.len(), d)?;
    let len_g = checked_mul(d, d)?;
    ensure_len(node_sums.len(), len_s)?;
    ensure_len(sigma_chol.len(), len_g)?;
    ensure_len(
        work.len(),
        node_statistics_work_len(data.node_sizes.len(), d)?,
    )?;
    let (s_tmp, rest) = work.split_at_mut(len_s);
    let g_tmp = &mut rest[..len_g];
    statistics_into(data, s_tmp, g_tmp)?;
    node_sums[..len_s].copy_from_slice(s_tmp);
    sigma_chol[..len_g].copy_from_slice(g_tmp);
    Ok(())
}

/// The pass itself, writing `node_sums` (exactly m * d) and `sigma_chol` (exactly d * d) even
/// on error; shared with [`super::fit`], which owns those buffers.
///
/// No separate finiteness scan: a NaN or infinity in x or y always reaches a node sum or a
/// diagonal Gram entry (through x^2, y x, or inf * 0 = NaN), so checking the accumulated
/// results detects it in the same pass.
pub(crate) fn statistics_into(
    data: &ClusteredData,
    node_sums: &mut [f64],
    sigma_chol: &mut [f64],
) -> Result<(), Status> {
    let d = data.d;
    // Fewer samples than d: rank(X^T X) <= N < d, singular whatever rounding makes of the
    // pivots (the factorization's relative pivot test catches most, not all, such cases).
    if data.n_total() < d {
        return Err(Status::NotSpd);
    }
    dispatch_dim!(
        d,
        gram_and_node_sums(data.x, data.y, d, data.node_sizes, sigma_chol, node_sums)
    );
    super::ensure_finite(node_sums)?;
    super::ensure_finite(sigma_chol)?;
    let inv_n = 1.0 / data.n_total() as f64;
    for a in 0..d {
        for b in a..d {
            let v = sigma_chol[a * d + b] * inv_n;
            sigma_chol[a * d + b] = v;
            sigma_chol[b * d + a] = v;
        }
    }
    cholesky(sigma_chol, d)
}
