//! C ABI of COAT and the aggregators ([`crate::robust`]).

use super::reduce::{MkReduceOptions, MkReduceReport};
use super::{
    mixture_out, optional_slice, optional_slice_mut, product, run, shape_in, shape_out, slice,
    slice_mut, stacked_in, work_len_for_c, MkMixture, MkMixtureOut,
};
use crate::reduce::ReduceOptions;
use crate::robust::{self, AggregateReport, Aggregator, Screening};
use crate::Status;

/// Aggregator: DFMR(rho), the reduction of the estimates within rho r_COAT of COAT.
pub const MK_AGG_DFMR: i32 = 0;
/// Aggregator: the reduction of every valid estimate (Vanilla).
pub const MK_AGG_VANILLA: i32 = 1;
/// Aggregator: the trimmed KL barycentre (Vanilla, each iteration keeping the mass
/// 1 - trim_alpha of smallest cost).
pub const MK_AGG_TRIM: i32 = 2;
/// Aggregator: COAT's own estimate.
pub const MK_AGG_COAT: i32 = 3;
/// Aggregator: the medoid's estimate (smallest sum of squared L2 distances to the others).
pub const MK_AGG_MEDOID: i32 = 4;

/// Options of `mk_aggregate` and `mk_aggregate_messages`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkAggregateOptions {
    /// `MK_AGG_DFMR` (default), `MK_AGG_VANILLA`, `MK_AGG_TRIM`, `MK_AGG_COAT` or
    /// `MK_AGG_MEDOID`.
    pub method: i32,
    /// DFMR's filter radius factor: >= 1 and finite, or 0 (default) for `mk_default_rho(m)`.
    pub rho: f64,
    /// Trim's trimmed fraction of mass, in [0, 1). Default 0.5.
    pub trim_alpha: f64,
    /// The final reduction's options (DFMR, Vanilla; Trim overrides `reduce.trim`).
    pub reduce: MkReduceOptions,
    /// The distances are taken between the estimates smoothed by N(0, H), H = `smoothing`
    /// times the diagonal of the pooled per-dimension variances (H added to every covariance).
    /// >= 0 and finite; 0: the plain L2 distance. Default 1, paper 0.
    pub smoothing: f64,
    /// An estimate with a component whose covariance has (det S / prod of the pooled
    /// variances)^(1/d) below this is rejected (`MK_STATUS_TOO_SHARP`). In [0, 1]; 0: no check.
    /// Default 1e-3, paper 0.
    pub sharp_ratio: f64,
    /// An estimate with a component variance above this times the pooled variance of its
    /// dimension is rejected (`MK_STATUS_TOO_FLAT`). >= 1; +infinity: no check. Default 100,
    /// paper +infinity.
    pub flat_ratio: f64,
    /// An estimate with a component mean more than this many pooled standard deviations from
    /// the pooled centre in some dimension is rejected (`MK_STATUS_TOO_FAR`). >= 1; +infinity:
    /// no check. Default 10, paper +infinity.
    pub far_ratio: f64,
    /// An estimate with a component whose weight times the machine's sample size is below this
    /// is rejected (`MK_STATUS_TOO_LIGHT`; only where sample sizes are given). >= 0 and finite;
    /// 0: no check. Default 1, paper 0.
    pub min_component_samples: f64,
}

/// What `mk_aggregate` and `mk_aggregate_messages` report.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MkAggregateReport {
    /// The machine whose estimate is returned (COAT, Medoid) or starts the reduction (COAT).
    pub chosen: usize,
    /// The COAT machine (0-based).
    pub coat: usize,
    /// r_COAT, the COAT radius.
    pub radius: f64,
    /// The number of machines pooled (1 for COAT and Medoid).
    pub selected: usize,
    /// The number of machines whose estimate was valid.
    pub valid: usize,
    /// The final reduction (iterations 0 for COAT and Medoid).
    pub reduce: MkReduceReport,
}

impl From<AggregateReport> for MkAggregateReport {
    fn from(r: AggregateReport) -> Self {
        MkAggregateReport {
            chosen: r.chosen,
            coat: r.coat,
            radius: r.radius,
            selected: r.selected,
            valid: r.valid,
            reduce: r.reduce.into(),
        }
    }
}

/// The defaults, the robust setting: DFMR with rho = `mk_default_rho(m)`, trim_alpha 0.5 (used
/// by Trim only), `mk_reduce_options_default()`, and the screening and smoothing of README's
/// "Robust aggregation on real data" (smoothing 1, sharp_ratio 1e-3, flat_ratio 100,
/// far_ratio 10, min_component_samples 1).
#[no_mangle]
pub extern "C" fn mk_aggregate_options_default() -> MkAggregateOptions {
    with_screening(&Screening::default())
}

/// The DFMR paper's method exactly: the defaults without screening, on the plain L2 distance
/// (smoothing 0, sharp_ratio 0, flat_ratio and far_ratio +infinity, min_component_samples 0).
#[no_mangle]
pub extern "C" fn mk_aggregate_options_paper() -> MkAggregateOptions {
    with_screening(&Screening::PAPER)
}

/// DFMR with the default rho, trim_alpha 0.5, the default reduction, and `s`.
fn with_screening(s: &Screening) -> MkAggregateOptions {
    MkAggregateOptions {
        method: MK_AGG_DFMR,
        rho: 0.0,
        trim_alpha: 0.5,
        reduce: ReduceOptions::default().into(),
        smoothing: s.smoothing,
        sharp_ratio: s.sharp_ratio,
        flat_ratio: s.flat_ratio,
        far_ratio: s.far_ratio,
        min_component_samples: s.min_component_samples,
    }
}

/// The filter radius factor the DFMR authors used for m machines:
/// max(1, sqrt(ln(m/2) ln ln m / 2)) (their code's cut on squared L2 distances, on the
/// distances themselves); 1 for m <= 14, about 1.12 for m = 20 and 1.48 for m = 50.
#[no_mangle]
pub extern "C" fn mk_default_rho(m: usize) -> f64 {
    robust::default_rho(m)
}

/// The aggregator, its reduction options and its screening from the C options for m machines.
fn parse_options(
    o: Option<&MkAggregateOptions>,
    m: usize,
) -> Result<(Aggregator, ReduceOptions, Screening), Status> {
    let o = o.copied().unwrap_or_else(|| mk_aggregate_options_default());
    let method = match o.method {
        MK_AGG_DFMR if o.rho == 0.0 => Aggregator::Dfmr {
            rho: robust::default_rho(m),
        },
        MK_AGG_DFMR => Aggregator::Dfmr { rho: o.rho },
        MK_AGG_VANILLA => Aggregator::Vanilla,
        MK_AGG_TRIM => Aggregator::Trim {
            alpha: o.trim_alpha,
        },
        MK_AGG_COAT => Aggregator::Coat,
        MK_AGG_MEDOID => Aggregator::Medoid,
        _ => return Err(Status::BadParameter),
    };
    let screening = Screening {
        smoothing: o.smoothing,
        sharp_ratio: o.sharp_ratio,
        flat_ratio: o.flat_ratio,
        far_ratio: o.far_ratio,
        min_component_samples: o.min_component_samples,
    };
    Ok((method, ReduceOptions::from(&o.reduce), screening))
}

/// What both aggregation entries take besides the estimates, from the C arguments: the method,
/// the reduction options and the outputs, for m machines.
struct AggregateArgs<'a> {
    method: Aggregator,
    reduce_opts: ReduceOptions,
    screening: Screening,
    machine_status_out: &'a mut [i32],
    selected_out: &'a mut [u8],
    coat_distance_out: Option<&'a mut [f64]>,
    out: super::MixtureOut<'a>,
    work: &'a mut [f64],
    report: &'a mut MkAggregateReport,
}

/// # Safety
/// As documented for `mk_aggregate` and `mk_aggregate_messages`.
#[allow(clippy::too_many_arguments)]
unsafe fn aggregate_args<'a>(
    m: usize,
    options: *const MkAggregateOptions,
    machine_status_out: *mut i32,
    selected_out: *mut u8,
    coat_distance_out: *mut f64,
    aggregate_out: *const MkMixtureOut,
    work: *mut f64,
    work_len: usize,
    report: *mut MkAggregateReport,
) -> Result<AggregateArgs<'a>, Status> {
    // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
    let (method, reduce_opts, screening) = parse_options(unsafe { options.as_ref() }, m)?;
    Ok(AggregateArgs {
        method,
        reduce_opts,
        screening,
        machine_status_out: unsafe { slice_mut(machine_status_out, m) }?,
        selected_out: unsafe { slice_mut(selected_out, m) }?,
        coat_distance_out: unsafe { optional_slice_mut(coat_distance_out, m) }?,
        out: unsafe { mixture_out(aggregate_out) }?,
        work: unsafe { slice_mut(work, work_len) }?,
        report: unsafe { report.as_mut() }.ok_or(Status::NullPointer)?,
    })
}

/// Workspace length (doubles) of `mk_coat`: m; 0 if m is 0.
#[no_mangle]
pub extern "C" fn mk_coat_work_len(m: usize) -> usize {
    work_len_for_c(|| {
        super::nonzero(&[m])?;
        robust::coat_work_len(m)
    })
}

/// The centre of attention: the index i minimizing r_i, the h-th smallest entry of row i of the
/// distance matrix (h = floor(m/2) + 1, the diagonal read as 0), lowest index on ties, and its
/// radius r_i: the smallest ball centred at a machine that holds a strict majority.
///
/// Parameters:
/// - `distances` (in): m*m doubles, row-major, each >= 0 or +infinity (an excluded pair or
///   machine); only row i is used for r_i.
/// - `index_out` (out): the COAT index; `radius_out` (out): r_COAT.
/// - `work` (scratch): `work_len` >= `mk_coat_work_len(m)` doubles.
///
/// Returns `MK_STATUS_OK`, or with the outputs untouched: `MK_STATUS_NULL_POINTER`,
/// `MK_STATUS_ZERO_SIZE` (m = 0), `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_BUFFER_TOO_SHORT`
/// (work), `MK_STATUS_NON_FINITE` (a NaN entry), `MK_STATUS_NO_MAJORITY` (no machine has h
/// finite entries),
/// `MK_STATUS_BAD_PARAMETER` (a negative entry), `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs and `work`
/// must not overlap each other or `distances`.
#[no_mangle]
pub unsafe extern "C" fn mk_coat(
    distances: *const f64,
    m: usize,
    index_out: *mut usize,
    radius_out: *mut f64,
    work: *mut f64,
    work_len: usize,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let distances = unsafe { slice(distances, product(m, m)?) }?;
        let index_out = unsafe { index_out.as_mut() }.ok_or(Status::NullPointer)?;
        let radius_out = unsafe { radius_out.as_mut() }.ok_or(Status::NullPointer)?;
        let work = unsafe { slice_mut(work, work_len) }?;
        let (index, radius) = robust::coat(distances, m, work)?;
        *index_out = index;
        *radius_out = radius;
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_aggregate` for m machines of the descriptors' K, d and
/// kind: 3 m + 2 m^2 + m K (1 + d + 2 c) + 2 d + the largest of the pairwise-L2, one-L2 and
/// reduction workspaces (`mk_l2_pairwise_work_len`, `mk_reduce_mm_work_len` of m*K components
/// to K, ...) and d*d,
/// c = d*d (full) or d (diagonal); 0 if a descriptor is NULL, m, K or d is 0, the shapes
/// differ, the kind is unknown, or the length overflows size_t.
///
/// # Safety
/// Non-null descriptors must be valid.
#[no_mangle]
pub unsafe extern "C" fn mk_aggregate_work_len(
    estimates: *const MkMixture,
    m: usize,
    aggregate_out: *const MkMixtureOut,
) -> usize {
    work_len_for_c(|| {
        // SAFETY (both blocks): caller's contract.
        let s = unsafe { shape_in(estimates) }?;
        s.expect(unsafe { shape_out(aggregate_out) }?)?;
        robust::aggregate_work_len(m, s.k, s.d, s.kind)
    })
}

/// Aggregates m local estimates (each K components in dimension d) into one K-component
/// mixture, robustly to a minority of arbitrary (Byzantine) estimates.
///
/// Every machine's estimate is validated first (finite values, weights >= 0 summing to 1,
/// symmetric positive definite covariances), then screened against the pooled scale (the
/// per-dimension medians over the valid machines of their mixtures' centres and variances):
/// a component far sharper (`MK_STATUS_TOO_SHARP`) or flatter (`MK_STATUS_TOO_FLAT`) than that
/// scale, with a mean far outside it (`MK_STATUS_TOO_FAR`), or lighter than one sample's
/// weight (`MK_STATUS_TOO_LIGHT`, when sample sizes are given); see the options' `sharp_ratio`,
/// `flat_ratio`, `far_ratio` and `min_component_samples` (`mk_aggregate_options_paper()`
/// screens nothing). An invalid or implausible estimate is not an error of the call: it is
/// excluded (taken as infinitely far from the others) and reported in `machine_status_out`.
/// With D_ij the L2 distance between estimates i and j (between the estimates smoothed by
/// `options->smoothing` times the pooled variances, added to every covariance's diagonal),
/// COAT is the centre of the smallest ball around an estimate holding a strict majority
/// (radius r_COAT). Then, by `options->method`:
/// - `MK_AGG_DFMR`: pool the estimates j with D_COAT,j <= rho r_COAT (machine j's weights
///   scaled by n_j / sum of n over the pool) and reduce the pool to K components by MM
///   (`mk_reduce_mm`), started from COAT's estimate;
/// - `MK_AGG_VANILLA`: the same over every valid estimate (not robust: one valid estimate far
///   enough away, means near 1e300, overflows the reduction, `MK_STATUS_NON_FINITE`);
///   `MK_AGG_TRIM`: Vanilla keeping at each iteration the mass 1 - trim_alpha of smallest cost
///   (an estimate infinitely far from every reduced component is trimmed away);
/// - `MK_AGG_COAT`, `MK_AGG_MEDOID`: that machine's estimate, copied.
///
/// Parameters:
/// - `estimates` (in): the shape (K, d, kind) of each estimate and the m estimates
///   concatenated: `m * K` weights, `m * K * d` means, `m * K * c` covariance values.
/// - `m` (in): number of machines, > 0.
/// - `sample_sizes` (in, optional): m doubles n_j, finite and > 0; NULL for equal sizes.
/// - `options` (in, optional): see `mk_aggregate_options`; NULL uses the defaults
///   (`mk_aggregate_options_default()`: DFMR with `mk_default_rho(m)`, the robust screening).
/// - `machine_status_out` (out): m statuses, `MK_STATUS_OK` for a valid estimate, else why it
///   was rejected (`MK_STATUS_NON_FINITE`, `MK_STATUS_WEIGHTS`, `MK_STATUS_NOT_SPD`,
///   `MK_STATUS_TOO_SHARP`, `MK_STATUS_TOO_FLAT`, `MK_STATUS_TOO_FAR`, `MK_STATUS_TOO_LIGHT`,
///   ...). Written on success and with `MK_STATUS_NO_MAJORITY`.
/// - `selected_out` (out): m flags, 1 if the machine's estimate is in the result (all 0 with
///   `MK_STATUS_NO_MAJORITY`).
/// - `coat_distance_out` (out, optional): m doubles, D_COAT,j for every machine j (smoothed as
///   the options say; +infinity for a rejected machine), so a caller can tell a machine outside
///   rho r_COAT (D_COAT,j > rho `report->radius`) from a pooled one. Written on success only;
///   NULL: not written.
/// - `aggregate_out` (out): of the estimates' shape. After a reduction the first
///   `report->reduce.kept` components are the result, the rest zero.
/// - `work` (scratch): `work_len` >= `mk_aggregate_work_len(estimates, m, aggregate_out)`.
/// - `report` (out): see `mk_aggregate_report`.
///
/// Returns `MK_STATUS_OK`, or with every output untouched (but for the per-machine statuses of
/// `MK_STATUS_NO_MAJORITY`): `MK_STATUS_NULL_POINTER`, `MK_STATUS_ZERO_SIZE`,
/// `MK_STATUS_SIZE_OVERFLOW`, `MK_STATUS_SHAPE_MISMATCH` (`aggregate_out` has another shape than
/// `estimates`), `MK_STATUS_BUFFER_TOO_SHORT` (work), `MK_STATUS_BAD_PARAMETER` (unknown
/// covariance kind or method, rho neither 0 nor >= 1 and finite, trim_alpha outside [0, 1),
/// bad reduce options, smoothing negative or not finite, sharp_ratio outside [0, 1],
/// flat_ratio or far_ratio below 1 or NaN, min_component_samples negative or not finite),
/// `MK_STATUS_SAMPLE_WEIGHTS` (a sample size not finite and > 0),
/// `MK_STATUS_NO_MAJORITY` (fewer than floor(m/2) + 1 valid estimates, or no finite COAT
/// radius: no honest majority can be certified), `MK_STATUS_NOT_SPD` or `MK_STATUS_NON_FINITE`
/// from the reduction, `MK_STATUS_PANIC`.
///
/// # Safety
/// Every non-null pointer must be valid for the stated number of elements; outputs and `work`
/// must not overlap each other or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_aggregate(
    estimates: *const MkMixture,
    m: usize,
    sample_sizes: *const f64,
    options: *const MkAggregateOptions,
    machine_status_out: *mut i32,
    selected_out: *mut u8,
    coat_distance_out: *mut f64,
    aggregate_out: *const MkMixtureOut,
    work: *mut f64,
    work_len: usize,
    report: *mut MkAggregateReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let st = unsafe { stacked_in(estimates, m) }?;
        let s = st.shape;
        s.expect(unsafe { shape_out(aggregate_out) }?)?;
        let sample_sizes = unsafe { optional_slice(sample_sizes, m) }?;
        let a = unsafe {
            aggregate_args(
                m,
                options,
                machine_status_out,
                selected_out,
                coat_distance_out,
                aggregate_out,
                work,
                work_len,
                report,
            )
        }?;
        let r = robust::aggregate(
            a.method,
            st.weights,
            st.means,
            st.covs,
            m,
            s.k,
            s.d,
            s.kind,
            sample_sizes,
            &a.reduce_opts,
            &a.screening,
            a.machine_status_out,
            a.selected_out,
            a.coat_distance_out,
            a.out.weights,
            a.out.means,
            a.out.covs,
            a.work,
        )?;
        *a.report = r.into();
        Ok(())
    })
}

/// Workspace length (doubles) of `mk_aggregate_messages` for m machines and the descriptor's
/// K, d and kind: m K (1 + d + c) + 2 m + (d*d for `MK_COV_FULL`) + the `mk_aggregate`
/// workspace of the same shape; 0 if `aggregate_out` is NULL, m, K or d is 0, the kind is
/// unknown, or the length overflows size_t.
///
/// # Safety
/// A non-null `aggregate_out` must point to a valid `mk_mixture_out`.
#[no_mangle]
pub unsafe extern "C" fn mk_aggregate_messages_work_len(
    m: usize,
    aggregate_out: *const MkMixtureOut,
) -> usize {
    work_len_for_c(|| {
        // SAFETY: caller's contract.
        let s = unsafe { shape_out(aggregate_out) }?;
        robust::aggregate_messages_work_len(m, s.k, s.d, s.kind)
    })
}

/// `mk_aggregate` over m wire messages (`mk_wire_encode`), one per machine, as the centre
/// receives them.
///
/// Each message is decoded and validated for the shape of `aggregate_out` (K, d, kind; a
/// centre that does not know it reads it from a message with `mk_wire_read_header`). A message
/// that is missing (`MK_STATUS_MISSING_MESSAGE`: a NULL pointer or a zero length), truncated,
/// corrupted or of another version (`MK_STATUS_BAD_MESSAGE`), of another shape
/// (`MK_STATUS_SHAPE_MISMATCH`), non-finite (`MK_STATUS_NON_FINITE`), with bad weights
/// (`MK_STATUS_WEIGHTS`) or a covariance that is not positive definite (`MK_STATUS_NOT_SPD`) is
/// a Byzantine input: excluded, reported in `machine_status_out`, and the aggregation goes on
/// while an honest majority remains. The machines' sample sizes are the messages' own.
///
/// Parameters:
/// - `messages` (in): m pointers, `messages[i]` to `message_lens[i]` bytes (a NULL pointer, a
///   zero length or a length over PTRDIFF_MAX is a missing message); `message_lens` (in): m
///   lengths; `m` > 0.
/// - `options`, `machine_status_out`, `selected_out`, `coat_distance_out` (optional),
///   `aggregate_out`, `report`: as in `mk_aggregate` (`machine_status_out` is written on
///   success and with `MK_STATUS_NO_MAJORITY`).
/// - `work` (scratch): `work_len` >= `mk_aggregate_messages_work_len(m, aggregate_out)`.
///
/// Returns the statuses of `mk_aggregate` (without the sample-size and shape cases), with
/// every output untouched on failure but for the per-machine statuses of
/// `MK_STATUS_NO_MAJORITY`.
///
/// # Safety
/// `messages` and `message_lens` must be valid for m elements, and each non-null
/// `messages[i]` for `message_lens[i]` bytes; outputs and `work` must not overlap each other
/// or the inputs.
#[no_mangle]
pub unsafe extern "C" fn mk_aggregate_messages(
    messages: *const *const u8,
    message_lens: *const usize,
    m: usize,
    options: *const MkAggregateOptions,
    machine_status_out: *mut i32,
    selected_out: *mut u8,
    coat_distance_out: *mut f64,
    aggregate_out: *const MkMixtureOut,
    work: *mut f64,
    work_len: usize,
    report: *mut MkAggregateReport,
) -> i32 {
    run(|| {
        // SAFETY (all blocks below): lengths as documented; the caller guarantees validity.
        let messages = unsafe { slice(messages, m) }?;
        let message_lens = unsafe { slice(message_lens, m) }?;
        let a = unsafe {
            aggregate_args(
                m,
                options,
                machine_status_out,
                selected_out,
                coat_distance_out,
                aggregate_out,
                work,
                work_len,
                report,
            )
        }?;
        let s = a.out.shape;
        // SAFETY: messages[i] is valid for message_lens[i] bytes when non-null (contract).
        let message = |i: usize| unsafe { slice(messages[i], message_lens[i]) }.ok();
        let r = robust::aggregate_messages(
            a.method,
            &message,
            m,
            s.k,
            s.d,
            s.kind,
            &a.reduce_opts,
            &a.screening,
            a.machine_status_out,
            a.selected_out,
            a.coat_distance_out,
            a.out.weights,
            a.out.means,
            a.out.covs,
            a.work,
        )?;
        *a.report = r.into();
        Ok(())
    })
}
