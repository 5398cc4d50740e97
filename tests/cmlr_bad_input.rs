//! Bad input through the C ABI of C-MLR (`mk_cmlr_*`, `mk_status_str`, `mk_version`).
//!
//! Every exported function is first called with a small valid input (4 nodes of 5 samples in
//! d = 3, simulated with `mk_cmlr_simulate`) and must return OK; then ONE thing at a time is
//! perturbed (a NULL pointer, a zero or overflowing size, a short workspace, node sizes that do
//! not add up, NaN or infinity in an input, a parameter out of its domain, a singular
//! Sigma_hat, a bad Cholesky factor) and the call must return that failure's own status with
//! every output bitwise untouched (outputs are filled with a sentinel beforehand, in/out
//! buffers keep their valid value).
//!
//! The last tests check the "never read an output or workspace before writing it" convention:
//! valid calls with outputs and workspace pre-filled with NaN or huge garbage give results that
//! are bitwise identical to those from zero-filled buffers.
//!
//! Statuses come back from C as integers and are compared as `i32` with `Status::code()`.
//!
//! Calls whose sizes overflow pass small real buffers: the size checks run before any slice is
//! formed, so nothing is read. Cases where d*d overflows while N*d or m*d does not are only
//! checked through the `*_work_len` queries: through the functions they would need the earlier
//! arrays to really hold more than 2^32 elements.

use mixkern::ffi::*;
use mixkern::Status;
use std::ffi::CStr;
use std::ptr;

// ---------------------------------------------------------------------------------------------
// Fixture: small valid inputs.
// ---------------------------------------------------------------------------------------------

// Dimension, nodes, samples per node, samples in all.
const D: usize = 3;
const M: usize = 4;
const NODE: usize = 5;
const N: usize = M * NODE;
const SEED: u64 = 0x5eed_0000_c3a1;
const THETA_STAR: [f64; D] = [1.0, -2.0, 0.5];
const SIGMA: f64 = 0.5;
/// A valid start near theta*.
const THETA0: [f64; D] = [0.8, -1.6, 0.3];

/// A quiet NaN with a payload no computation produces: written into outputs before a failing
/// call and compared bitwise afterwards.
const SENTINEL: f64 = f64::from_bits(0x7ff8_dead_beef_0001);
/// `report.iterations` before a failing fit.
const SENTINEL_ITERATIONS: usize = 0xdead_beef;
/// `report.converged` before a failing fit.
const SENTINEL_CONVERGED: i32 = -7;

/// Bad values placed in inputs that must be finite.
const NON_FINITE: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
/// Values of sigma outside (0, inf) or with 1/sigma^2 not finite and positive.
const BAD_SIGMAS: [f64; 9] = [
    0.0,
    -0.0,
    -1.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-200, // sigma^2 underflows: 1/sigma^2 = inf
    5e-324, // subnormal
    1e200,  // sigma^2 overflows: 1/sigma^2 = 0
];
/// Sizes whose product with 2 overflows `usize`.
const HUGE: usize = usize::MAX / 2 + 1;
/// The smallest count of doubles (or of `size_t`) whose byte length exceeds `isize::MAX`.
const TOO_LONG: usize = isize::MAX as usize / 8 + 1;

/// Valid data and the statistics of one pass over it.
struct Fixture {
    x: Vec<f64>,
    y: Vec<f64>,
    sizes: Vec<usize>,
    node_sums: Vec<f64>,
    sigma_chol: Vec<f64>,
}

/// Simulated data (x: N x d, y: N) through the C ABI; asserts the call succeeds.
fn simulated(seed: u64, theta_star: &[f64], sigma: f64, sizes: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let mut call = Simulate::new(seed, theta_star, sigma, sizes);
    assert_status(call.call(), Status::Ok, "simulating the fixture");
    (call.x_out, call.y_out)
}

fn fixture() -> Fixture {
    let sizes = vec![NODE; M];
    let (x, y) = simulated(SEED, &THETA_STAR, SIGMA, &sizes);
    let mut stats = NodeStats::new(&x, &y, D, &sizes);
    assert_status(stats.call(), Status::Ok, "node statistics of the fixture");
    Fixture {
        x,
        y,
        sizes,
        node_sums: stats.node_sums,
        sigma_chol: stats.sigma_chol,
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers: statuses, pointers, outputs.
// ---------------------------------------------------------------------------------------------

/// The message `mk_status_str` gives for a code.
fn message(code: i32) -> String {
    let p = mk_status_str(code);
    assert!(!p.is_null(), "mk_status_str({code}) returned NULL");
    // SAFETY: non-null, and mk_status_str returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .expect("status messages are UTF-8")
        .to_owned()
}

/// Asserts that a status from C is exactly `want`, compared as integers.
#[track_caller]
fn assert_status(got: i32, want: Status, ctx: &str) {
    assert_eq!(
        got,
        want.code(),
        "{ctx}: expected {want:?} ({}), got {got} (\"{}\")",
        want.code(),
        message(got)
    );
}

/// `v`'s pointer, or NULL.
fn ptr<T>(v: &[T], null: bool) -> *const T {
    if null {
        ptr::null()
    } else {
        v.as_ptr()
    }
}

/// `v`'s mutable pointer, or NULL.
fn ptr_mut<T>(v: &mut [T], null: bool) -> *mut T {
    if null {
        ptr::null_mut()
    } else {
        v.as_mut_ptr()
    }
}

/// The bit patterns of a buffer, so NaN payloads and signed zeros compare exactly.
fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A named snapshot of every output (and in/out) buffer of a call, bitwise.
type Outputs = Vec<(&'static str, Vec<u64>)>;

/// Asserts that no output changed between two snapshots, naming the first element that did.
#[track_caller]
fn assert_untouched(before: &Outputs, after: &Outputs, ctx: &str) {
    assert_eq!(before.len(), after.len());
    for ((name, b), (_, a)) in before.iter().zip(after) {
        assert_eq!(b.len(), a.len(), "{ctx}: `{name}` changed length");
        for (i, (&old, &new)) in b.iter().zip(a).enumerate() {
            assert!(
                old == new,
                "{ctx}: `{name}`[{i}] written on failure: {:e} ({old:#x}) -> {:e} ({new:#x})",
                f64::from_bits(old),
                f64::from_bits(new),
            );
        }
    }
}

#[test]
fn assert_untouched_detects_one_changed_bit() {
    let before: Outputs = vec![("a", bits(&[SENTINEL, SENTINEL]))];
    let same: Outputs = vec![("a", bits(&[SENTINEL, SENTINEL]))];
    assert_untouched(&before, &same, "identical");
    let one_bit = f64::from_bits(SENTINEL.to_bits() ^ 1);
    let changed: Outputs = vec![("a", bits(&[SENTINEL, one_bit]))];
    let caught = std::panic::catch_unwind(|| assert_untouched(&before, &changed, "changed"));
    assert!(
        caught.is_err(),
        "a NaN payload change must count as a write"
    );
}

/// One C ABI call with all of its arguments owned, so a test can perturb any of them.
trait Call: Clone {
    /// Fills every pure output with `value` (in/out buffers keep their input).
    fn fill_outputs(&mut self, value: f64);
    /// Fills the workspace with `value` (no-op for functions without one).
    fn fill_work(&mut self, value: f64);
    /// Every output and in/out buffer, bitwise.
    fn outputs(&self) -> Outputs;
    /// What a successful call wrote: [`Call::outputs`], except where a function documents that
    /// it leaves part of an output alone (the fit's trace entries past the iterations run).
    fn written(&self) -> Outputs {
        self.outputs()
    }
    /// Makes the call through the C ABI and returns its status.
    fn call(&mut self) -> i32;
}

/// Asserts that the (unperturbed) call succeeds.
#[track_caller]
fn assert_accepts<C: Call>(valid: &C, ctx: &str) -> C {
    let mut c = valid.clone();
    assert_status(c.call(), Status::Ok, ctx);
    c
}

/// Applies one perturbation to a copy of a valid call, fills its outputs with the sentinel,
/// and asserts the exact failure status and that every output is bitwise untouched.
#[track_caller]
fn assert_rejects<C: Call>(valid: &C, want: Status, ctx: &str, perturb: impl FnOnce(&mut C)) {
    let mut c = valid.clone();
    perturb(&mut c);
    c.fill_outputs(SENTINEL);
    let before = c.outputs();
    let got = c.call();
    assert_status(got, want, ctx);
    assert_untouched(&before, &c.outputs(), ctx);
}

/// Asserts that NULL in each named required pointer gives `NullPointer`.
#[track_caller]
fn assert_rejects_nulls<C: Call>(valid: &C, names: &[&'static str], set: fn(&mut C, &'static str)) {
    for &name in names {
        assert_rejects(valid, Status::NullPointer, &format!("{name} = NULL"), |c| {
            set(c, name)
        });
    }
}

/// Positions to poison in a buffer of `len`: first, middle, last.
fn positions(len: usize) -> [usize; 3] {
    [0, len / 2, len - 1]
}

/// Asserts that NaN, +inf and -inf at the first, middle and last element of one input buffer
/// (reached through `buf`) give `NonFinite`.
#[track_caller]
fn assert_rejects_non_finite<C: Call>(valid: &C, name: &str, buf: fn(&mut C) -> &mut Vec<f64>) {
    let len = buf(&mut valid.clone()).len();
    for bad in NON_FINITE {
        for at in positions(len) {
            let ctx = format!("{name}[{at}] = {bad}");
            assert_rejects(valid, Status::NonFinite, &ctx, |c| buf(c)[at] = bad);
        }
    }
}

/// Asserts that every value of [`BAD_SIGMAS`] gives `BadParameter`.
#[track_caller]
fn assert_rejects_bad_sigmas<C: Call>(valid: &C, set: fn(&mut C, f64)) {
    for sigma in BAD_SIGMAS {
        let ctx = format!("sigma = {sigma:e}");
        assert_rejects(valid, Status::BadParameter, &ctx, |c| set(c, sigma));
    }
}

/// Calls that take a Sigma_hat factor and the `use_identity` flag.
trait TakesMetric: Call {
    fn factor(&mut self) -> &mut Vec<f64>;
    fn use_identity(&mut self) -> &mut i32;
    fn nulls(&mut self) -> &mut Vec<&'static str>;
}

/// The metric checks shared by the steps and the initializer: the flag must be 0 or 1; the
/// factor may be NULL only with the identity; a zero or negative diagonal is `NotSpd`; NaN or
/// infinity in the lower triangle is `NonFinite`; the strict upper triangle is never read.
#[track_caller]
fn assert_metric_checks<C: TakesMetric>(valid: &C) {
    for flag in [2, -1, i32::MAX] {
        let ctx = format!("use_identity = {flag}");
        assert_rejects(valid, Status::BadParameter, &ctx, |c| {
            *c.use_identity() = flag
        });
    }
    assert_rejects(
        valid,
        Status::NullPointer,
        "sigma_chol = NULL, use_identity = 0",
        |c| c.nulls().push("sigma_chol"),
    );
    let mut identity = valid.clone();
    *identity.use_identity() = 1;
    identity.nulls().push("sigma_chol");
    assert_accepts(&identity, "sigma_chol = NULL with use_identity = 1");

    for (a, bad) in [(0, 0.0), (2, 0.0), (1, -1.0), (2, -0.0), (0, -1e-300)] {
        let ctx = format!("sigma_chol diagonal ({a},{a}) = {bad:e}");
        assert_rejects(valid, Status::NotSpd, &ctx, |c| c.factor()[a * D + a] = bad);
    }
    for bad in NON_FINITE {
        for at in [0, D + 1, 2 * D, 2 * D + 1, D * D - 1] {
            let ctx = format!("sigma_chol lower triangle [{at}] = {bad}");
            assert_rejects(valid, Status::NonFinite, &ctx, |c| c.factor()[at] = bad);
        }
    }
    let mut upper_dirty = valid.clone();
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        upper_dirty.factor()[a * D + b] = f64::NAN;
    }
    let clean = assert_accepts(valid, "clean factor").outputs();
    let dirty = assert_accepts(
        &upper_dirty,
        "NaN in the strict upper triangle (never read)",
    );
    assert_eq!(
        dirty.outputs(),
        clean,
        "the strict upper triangle of sigma_chol was read"
    );
}

/// The values used to dirty outputs and workspace before valid calls.
const DIRTY: [f64; 6] = [
    f64::NAN,
    SENTINEL,
    1e300,
    -1e300,
    f64::INFINITY,
    f64::MIN_POSITIVE,
];

/// A valid call with outputs and workspace pre-filled with garbage gives bitwise the same
/// results as with zero-filled buffers.
#[track_caller]
fn assert_ignores_dirty_buffers<C: Call>(valid: &C, ctx: &str) {
    let run = |fill: f64| {
        let mut c = valid.clone();
        c.fill_outputs(fill);
        c.fill_work(fill);
        assert_status(
            c.call(),
            Status::Ok,
            &format!("{ctx}, buffers filled with {fill:e}"),
        );
        c.written()
    };
    let clean = run(0.0);
    for fill in DIRTY {
        let dirty = run(fill);
        assert!(
            dirty == clean,
            "{ctx}: results depend on buffers pre-filled with {fill:e}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The calls.
// ---------------------------------------------------------------------------------------------

/// The options the steps, the start and the posteriors read: the metric flag and sigma.
fn model_options(use_identity: i32, sigma: f64) -> MkCmlrOptions {
    MkCmlrOptions {
        use_identity,
        sigma,
        ..mk_cmlr_options_default()
    }
}

#[derive(Clone)]
struct NodeStats {
    x: Vec<f64>,
    y: Vec<f64>,
    n_total: usize,
    d: usize,
    node_sizes: Vec<usize>,
    m: usize,
    node_sums: Vec<f64>,
    sigma_chol: Vec<f64>,
    work: Vec<f64>,
    work_len: usize,
    nulls: Vec<&'static str>,
}

impl NodeStats {
    const POINTERS: [&'static str; 6] = ["x", "y", "node_sizes", "node_sums", "sigma_chol", "work"];

    fn new(x: &[f64], y: &[f64], d: usize, node_sizes: &[usize]) -> Self {
        let m = node_sizes.len();
        let work_len = mk_cmlr_node_statistics_work_len(y.len(), d, m);
        assert_eq!(x.len(), y.len() * d);
        NodeStats {
            x: x.to_vec(),
            y: y.to_vec(),
            n_total: y.len(),
            d,
            node_sizes: node_sizes.to_vec(),
            m,
            node_sums: vec![0.0; m * d],
            sigma_chol: vec![0.0; d * d],
            work: vec![0.0; work_len],
            work_len,
            nulls: vec![],
        }
    }

    fn valid(f: &Fixture) -> Self {
        Self::new(&f.x, &f.y, D, &f.sizes)
    }
}

impl Call for NodeStats {
    fn fill_outputs(&mut self, value: f64) {
        self.node_sums.fill(value);
        self.sigma_chol.fill(value);
    }
    fn fill_work(&mut self, value: f64) {
        self.work.fill(value);
    }
    fn outputs(&self) -> Outputs {
        vec![
            ("node_sums", bits(&self.node_sums)),
            ("sigma_chol", bits(&self.sigma_chol)),
        ]
    }
    fn call(&mut self) -> i32 {
        let null = |name| self.nulls.contains(&name);
        // SAFETY: every non-null pointer is valid for the length its size argument gives, or a
        // size check fails before the buffer is formed (the overflow tests).
        unsafe {
            mk_cmlr_node_statistics(
                ptr(&self.x, null("x")),
                self.n_total,
                self.d,
                ptr(&self.y, null("y")),
                ptr(&self.node_sizes, null("node_sizes")),
                self.m,
                ptr_mut(&mut self.node_sums, null("node_sums")),
                ptr_mut(&mut self.sigma_chol, null("sigma_chol")),
                ptr_mut(&mut self.work, null("work")),
                self.work_len,
            )
        }
    }
}

#[derive(Clone)]
struct Alg1Step {
    x: Vec<f64>,
    y: Vec<f64>,
    n_total: usize,
    d: usize,
    sigma_chol: Vec<f64>,
    use_identity: i32,
    sigma: f64,
    theta: Vec<f64>,
    work: Vec<f64>,
    work_len: usize,
    step_out: f64,
    nulls: Vec<&'static str>,
}

impl Alg1Step {
    const POINTERS: [&'static str; 5] = ["x", "y", "sigma_chol", "theta", "work"];

    fn valid(f: &Fixture) -> Self {
        let work_len = mk_cmlr_alg1_step_work_len(N, D);
        Alg1Step {
            x: f.x.clone(),
            y: f.y.clone(),
            n_total: N,
            d: D,
            sigma_chol: f.sigma_chol.clone(),
            use_identity: 0,
            sigma: SIGMA,
            theta: THETA0.to_vec(),
            work: vec![0.0; work_len],
            work_len,
            step_out: 0.0,
            nulls: vec![],
        }
    }
}

impl Call for Alg1Step {
    fn fill_outputs(&mut self, value: f64) {
        self.step_out = value;
    }
    fn fill_work(&mut self, value: f64) {
        self.work.fill(value);
    }
    fn outputs(&self) -> Outputs {
        vec![
            ("theta", bits(&self.theta)),
            ("step_out", bits(&[self.step_out])),
        ]
    }
    fn call(&mut self) -> i32 {
        let null = |name| self.nulls.contains(&name);
        let step_out: *mut f64 = if null("step_out") {
            ptr::null_mut()
        } else {
            &mut self.step_out
        };
        let options = model_options(self.use_identity, self.sigma);
        // SAFETY: as in NodeStats::call.
        unsafe {
            mk_cmlr_alg1_step(
                ptr(&self.x, null("x")),
                self.n_total,
                self.d,
                ptr(&self.y, null("y")),
                ptr(&self.sigma_chol, null("sigma_chol")),
                &options,
                ptr_mut(&mut self.theta, null("theta")),
                step_out,
                ptr_mut(&mut self.work, null("work")),
                self.work_len,
            )
        }
    }
}

impl TakesMetric for Alg1Step {
    fn factor(&mut self) -> &mut Vec<f64> {
        &mut self.sigma_chol
    }
    fn use_identity(&mut self) -> &mut i32 {
        &mut self.use_identity
    }
    fn nulls(&mut self) -> &mut Vec<&'static str> {
        &mut self.nulls
    }
}

#[derive(Clone)]
struct Alg2Step {
    node_sums: Vec<f64>,
    m: usize,
    d: usize,
    n_total: usize,
    sigma_chol: Vec<f64>,
    use_identity: i32,
    sigma: f64,
    theta: Vec<f64>,
    work: Vec<f64>,
    work_len: usize,
    step_out: f64,
    nulls: Vec<&'static str>,
}

impl Alg2Step {
    const POINTERS: [&'static str; 4] = ["node_sums", "sigma_chol", "theta", "work"];

    fn valid(f: &Fixture) -> Self {
        let work_len = mk_cmlr_alg2_step_work_len(M, D, N);
        Alg2Step {
            node_sums: f.node_sums.clone(),
            m: M,
            d: D,
            n_total: N,
            sigma_chol: f.sigma_chol.clone(),
            use_identity: 0,
            sigma: SIGMA,
            theta: THETA0.to_vec(),
            work: vec![0.0; work_len],
            work_len,
            step_out: 0.0,
            nulls: vec![],
        }
    }
}

impl Call for Alg2Step {
    fn fill_outputs(&mut self, value: f64) {
        self.step_out = value;
    }
    fn fill_work(&mut self, value: f64) {
        self.work.fill(value);
    }
    fn outputs(&self) -> Outputs {
        vec![
            ("theta", bits(&self.theta)),
            ("step_out", bits(&[self.step_out])),
        ]
    }
    fn call(&mut self) -> i32 {
        let null = |name| self.nulls.contains(&name);
        let step_out: *mut f64 = if null("step_out") {
            ptr::null_mut()
        } else {
            &mut self.step_out
        };
        let options = model_options(self.use_identity, self.sigma);
        // SAFETY: as in NodeStats::call.
        unsafe {
            mk_cmlr_alg2_step(
                ptr(&self.node_sums, null("node_sums")),
                self.m,
                self.d,
                self.n_total,
                ptr(&self.sigma_chol, null("sigma_chol")),
                &options,
                ptr_mut(&mut self.theta, null("theta")),
                step_out,
                ptr_mut(&mut self.work, null("work")),
                self.work_len,
            )
        }
    }
}

impl TakesMetric for Alg2Step {
    fn factor(&mut self) -> &mut Vec<f64> {
        &mut self.sigma_chol
    }
    fn use_identity(&mut self) -> &mut i32 {
        &mut self.use_identity
    }
    fn nulls(&mut self) -> &mut Vec<&'static str> {
        &mut self.nulls
    }
}

#[derive(Clone)]
struct Init {
    node_sums: Vec<f64>,
    node_sizes: Vec<usize>,
    m: usize,
    d: usize,
    sigma_chol: Vec<f64>,
    use_identity: i32,
    theta_out: Vec<f64>,
    work: Vec<f64>,
    work_len: usize,
    nulls: Vec<&'static str>,
}

impl Init {
    const POINTERS: [&'static str; 5] =
        ["node_sums", "node_sizes", "sigma_chol", "theta_out", "work"];

    fn valid(f: &Fixture) -> Self {
        let work_len = mk_cmlr_init_work_len(M, D);
        Init {
            node_sums: f.node_sums.clone(),
            node_sizes: f.sizes.clone(),
            m: M,
            d: D,
            sigma_chol: f.sigma_chol.clone(),
            use_identity: 0,
            theta_out: vec![0.0; D],
            work: vec![0.0; work_len],
            work_len,
            nulls: vec![],
        }
    }
}

impl Call for Init {
    fn fill_outputs(&mut self, value: f64) {
        self.theta_out.fill(value);
    }
    fn fill_work(&mut self, value: f64) {
        self.work.fill(value);
    }
    fn outputs(&self) -> Outputs {
        vec![("theta_out", bits(&self.theta_out))]
    }
    fn call(&mut self) -> i32 {
        let null = |name| self.nulls.contains(&name);
        let options = model_options(self.use_identity, SIGMA);
        // SAFETY: as in NodeStats::call.
        unsafe {
            mk_cmlr_init(
                ptr(&self.node_sums, null("node_sums")),
                self.m,
                self.d,
                ptr(&self.node_sizes, null("node_sizes")),
                ptr(&self.sigma_chol, null("sigma_chol")),
                &options,
                ptr_mut(&mut self.theta_out, null("theta_out")),
                ptr_mut(&mut self.work, null("work")),
                self.work_len,
            )
        }
    }
}

impl TakesMetric for Init {
    fn factor(&mut self) -> &mut Vec<f64> {
        &mut self.sigma_chol
    }
    fn use_identity(&mut self) -> &mut i32 {
        &mut self.use_identity
    }
    fn nulls(&mut self) -> &mut Vec<&'static str> {
        &mut self.nulls
    }
}

#[derive(Clone)]
struct Fit {
    x: Vec<f64>,
    y: Vec<f64>,
    n_total: usize,
    d: usize,
    node_sizes: Vec<usize>,
    m: usize,
    options: MkCmlrOptions,
    theta: Vec<f64>,
    theta_star: Vec<f64>,
    trace_step: Vec<f64>,
    trace_error: Vec<f64>,
    work: Vec<f64>,
    work_len: usize,
    report: MkCmlrReport,
    nulls: Vec<&'static str>,
}

impl Fit {
    const POINTERS: [&'static str; 7] =
        ["x", "y", "node_sizes", "options", "theta", "work", "report"];

    /// A valid fit (d = 3) of the given data: defaults with sigma = SIGMA, max_iter = 50, the
    /// truth and both traces given.
    fn new(x: &[f64], y: &[f64], d: usize, node_sizes: &[usize]) -> Self {
        assert_eq!(d, D);
        let m = node_sizes.len();
        let work_len = mk_cmlr_fit_work_len(y.len(), d, m);
        let options = MkCmlrOptions {
            sigma: SIGMA,
            max_iter: 50,
            ..mk_cmlr_options_default()
        };
        Fit {
            x: x.to_vec(),
            y: y.to_vec(),
            n_total: y.len(),
            d,
            node_sizes: node_sizes.to_vec(),
            m,
            options,
            theta: THETA0.to_vec(),
            theta_star: THETA_STAR.to_vec(),
            trace_step: vec![0.0; options.max_iter],
            trace_error: vec![0.0; options.max_iter],
            work: vec![0.0; work_len],
            work_len,
            report: MkCmlrReport {
                iterations: 0,
                converged: 0,
                last_step: 0.0,
            },
            nulls: vec![],
        }
    }

    fn valid(f: &Fixture) -> Self {
        Self::new(&f.x, &f.y, D, &f.sizes)
    }

    /// The call's result (asserted OK) as a new value.
    fn tap_call(mut self) -> Self {
        assert_status(self.call(), Status::Ok, "fit");
        self
    }
}

impl Call for Fit {
    fn fill_outputs(&mut self, value: f64) {
        // theta is in/out: it is a pure output only when the fit starts from the node moments.
        if self.options.init != MK_CMLR_INIT_GIVEN {
            self.theta.fill(value);
        }
        self.trace_step.fill(value);
        self.trace_error.fill(value);
        self.report = MkCmlrReport {
            iterations: SENTINEL_ITERATIONS,
            converged: SENTINEL_CONVERGED,
            last_step: value,
        };
    }
    fn fill_work(&mut self, value: f64) {
        self.work.fill(value);
    }
    fn outputs(&self) -> Outputs {
        let r = &self.report;
        vec![
            ("theta", bits(&self.theta)),
            ("trace_step", bits(&self.trace_step)),
            ("trace_error", bits(&self.trace_error)),
            (
                "report",
                vec![
                    r.iterations as u64,
                    r.converged as u32 as u64,
                    r.last_step.to_bits(),
                ],
            ),
        ]
    }
    fn written(&self) -> Outputs {
        // Trace entries past the iterations run are documented as not written.
        let t = self.report.iterations.min(self.options.max_iter);
        let mut out = self.outputs();
        for (name, v) in out.iter_mut() {
            if name.starts_with("trace") {
                v.truncate(t);
            }
        }
        out
    }
    fn call(&mut self) -> i32 {
        let null = |name| self.nulls.contains(&name);
        // The traces must hold max_iter doubles, unless max_iter is so large that the length
        // check fails before the trace slices are formed.
        let max_iter = self.options.max_iter;
        assert!(max_iter >= TOO_LONG || self.trace_step.len() >= max_iter);
        assert!(max_iter >= TOO_LONG || self.trace_error.len() >= max_iter);
        let options: *const MkCmlrOptions = if null("options") {
            ptr::null()
        } else {
            &self.options
        };
        let report: *mut MkCmlrReport = if null("report") {
            ptr::null_mut()
        } else {
            &mut self.report
        };
        let trace = MkCmlrTrace {
            theta_star: ptr(&self.theta_star, null("theta_star")),
            step: ptr_mut(&mut self.trace_step, null("trace_step")),
            error: ptr_mut(&mut self.trace_error, null("trace_error")),
        };
        // SAFETY: as in NodeStats::call.
        unsafe {
            mk_cmlr_fit(
                ptr(&self.x, null("x")),
                self.n_total,
                self.d,
                ptr(&self.y, null("y")),
                ptr(&self.node_sizes, null("node_sizes")),
                self.m,
                options,
                ptr_mut(&mut self.theta, null("theta")),
                if null("trace") { ptr::null() } else { &trace },
                ptr_mut(&mut self.work, null("work")),
                self.work_len,
                report,
            )
        }
    }
}

#[derive(Clone)]
struct Simulate {
    seed: u64,
    theta_star: Vec<f64>,
    d: usize,
    sigma: f64,
    node_sizes: Vec<usize>,
    m: usize,
    x_out: Vec<f64>,
    y_out: Vec<f64>,
    labels_out: Vec<f64>,
    nulls: Vec<&'static str>,
}

impl Simulate {
    const POINTERS: [&'static str; 4] = ["theta_star", "node_sizes", "x_out", "y_out"];

    fn new(seed: u64, theta_star: &[f64], sigma: f64, node_sizes: &[usize]) -> Self {
        let (d, m, n_total) = (
            theta_star.len(),
            node_sizes.len(),
            node_sizes.iter().sum::<usize>(),
        );
        Simulate {
            seed,
            theta_star: theta_star.to_vec(),
            d,
            sigma,
            node_sizes: node_sizes.to_vec(),
            m,
            x_out: vec![0.0; n_total * d],
            y_out: vec![0.0; n_total],
            labels_out: vec![0.0; m],
            nulls: vec![],
        }
    }

    fn valid() -> Self {
        Self::new(SEED, &THETA_STAR, SIGMA, &[NODE; M])
    }
}

impl Call for Simulate {
    fn fill_outputs(&mut self, value: f64) {
        self.x_out.fill(value);
        self.y_out.fill(value);
        self.labels_out.fill(value);
    }
    fn fill_work(&mut self, _: f64) {}
    fn outputs(&self) -> Outputs {
        vec![
            ("x_out", bits(&self.x_out)),
            ("y_out", bits(&self.y_out)),
            ("labels_out", bits(&self.labels_out)),
        ]
    }
    fn call(&mut self) -> i32 {
        let null = |name| self.nulls.contains(&name);
        // SAFETY: as in NodeStats::call.
        unsafe {
            mk_cmlr_simulate(
                ptr(&self.theta_star, null("theta_star")),
                self.d,
                ptr(&self.node_sizes, null("node_sizes")),
                self.m,
                self.sigma,
                self.seed,
                ptr_mut(&mut self.x_out, null("x_out")),
                ptr_mut(&mut self.y_out, null("y_out")),
                ptr_mut(&mut self.labels_out, null("labels_out")),
            )
        }
    }
}

#[derive(Clone)]
struct Posteriors {
    node_sums: Vec<f64>,
    m: usize,
    d: usize,
    theta: Vec<f64>,
    sigma: f64,
    out: Vec<f64>,
    nulls: Vec<&'static str>,
}

impl Posteriors {
    const POINTERS: [&'static str; 3] = ["node_sums", "theta", "out"];

    fn valid(f: &Fixture) -> Self {
        Posteriors {
            node_sums: f.node_sums.clone(),
            m: M,
            d: D,
            theta: THETA0.to_vec(),
            sigma: SIGMA,
            out: vec![0.0; M],
            nulls: vec![],
        }
    }
}

impl Call for Posteriors {
    fn fill_outputs(&mut self, value: f64) {
        self.out.fill(value);
    }
    fn fill_work(&mut self, _: f64) {}
    fn outputs(&self) -> Outputs {
        vec![("out", bits(&self.out))]
    }
    fn call(&mut self) -> i32 {
        let null = |name| self.nulls.contains(&name);
        // SAFETY: as in NodeStats::call.
        unsafe {
            mk_cmlr_node_posteriors(
                ptr(&self.node_sums, null("node_sums")),
                self.m,
                self.d,
                ptr(&self.theta, null("theta")),
                &model_options(0, self.sigma),
                ptr_mut(&mut self.out, null("out")),
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statuses, version, options, workspace queries.
// ---------------------------------------------------------------------------------------------

const ALL_STATUSES: [Status; 24] = [
    Status::Ok,
    Status::NullPointer,
    Status::ZeroSize,
    Status::SizeOverflow,
    Status::BufferTooShort,
    Status::NodeSizes,
    Status::NonFinite,
    Status::BadParameter,
    Status::NotSpd,
    Status::Weights,
    Status::BadMessage,
    Status::ShapeMismatch,
    Status::NoMajority,
    Status::MissingMessage,
    Status::TooFewSamples,
    Status::SampleWeights,
    Status::VersionMismatch,
    Status::DataScale,
    Status::TooSharp,
    Status::TooFlat,
    Status::TooLight,
    Status::TooFar,
    Status::ReadFailed,
    Status::Panic,
];

const UNKNOWN_MESSAGE: &str = "unknown mixkern status code";

#[test]
fn status_str_gives_a_distinct_message_per_code_and_never_null() {
    // The list above is complete: no other code in a wide range is known.
    for code in -1000..=1000 {
        if let Some(status) = Status::from_code(code) {
            assert!(
                ALL_STATUSES.contains(&status),
                "{status:?} missing from this test's list"
            );
        }
    }
    let mut seen: Vec<String> = vec![];
    for status in ALL_STATUSES {
        let msg = message(status.code());
        assert!(!msg.is_empty(), "{status:?} has an empty message");
        assert_eq!(
            msg,
            status.message(),
            "{status:?}: C and Rust messages differ"
        );
        assert_ne!(
            msg, UNKNOWN_MESSAGE,
            "{status:?} gives the unknown-code message"
        );
        assert!(
            !seen.contains(&msg),
            "{status:?} shares its message \"{msg}\""
        );
        seen.push(msg);
    }
    for code in [-1, 23, 42, 98, 100, 1000, i32::MIN, i32::MAX] {
        assert_eq!(message(code), UNKNOWN_MESSAGE, "code {code}");
    }
    // The pointer is static: two calls give the same address.
    assert_eq!(mk_status_str(8), mk_status_str(8));
    assert_eq!(mk_status_str(-5), mk_status_str(12345));
}

#[test]
fn version_is_the_crate_version() {
    let p = mk_version();
    assert!(!p.is_null());
    // SAFETY: non-null static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(p) }.to_str().unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let parts: Vec<&str> = version.split('.').collect();
    assert_eq!(parts.len(), 3, "{version} is not MAJOR.MINOR.PATCH");
    assert!(parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
    // The header's version macros are the crate version.
    let macros = format!("{MK_VERSION_MAJOR}.{MK_VERSION_MINOR}.{MK_VERSION_PATCH}");
    assert_eq!(macros, version);
}

#[test]
fn run_time_version_check() {
    let ok = Status::Ok.code();
    let mismatch = Status::VersionMismatch.code();
    assert_eq!(mk_check_version(MK_VERSION_MAJOR, MK_VERSION_MINOR), ok);
    assert_eq!(
        mk_check_version(MK_VERSION_MAJOR + 1, MK_VERSION_MINOR),
        mismatch
    );
    // While the major version is 0, every minor version may break the API.
    assert_eq!(MK_VERSION_MAJOR, 0);
    assert_eq!(mk_check_version(0, MK_VERSION_MINOR + 1), mismatch);
    assert_eq!(mk_check_version(0, MK_VERSION_MINOR - 1), mismatch);
}

#[test]
fn options_default_is_the_documented_valid_default() {
    let o = mk_cmlr_options_default();
    assert_eq!(
        (
            o.algorithm,
            o.use_identity,
            o.init,
            o.sigma,
            o.tol,
            o.max_iter
        ),
        (MK_CMLR_ALG2, 0, MK_CMLR_INIT_NODE_MOMENTS, 1.0, 1e-10, 100)
    );
}

#[test]
fn work_len_queries_are_exact_and_zero_for_zero_or_overflowing_sizes() {
    let half = 1usize << (usize::BITS / 2); // half * half overflows
                                            // d*d fits but 2 d^2 overflows.
    let d_twice_sq_overflows = (usize::MAX / 2).isqrt() + 1;
    assert!(d_twice_sq_overflows
        .checked_mul(d_twice_sq_overflows)
        .is_some());

    // node statistics: m d + d^2
    assert_eq!(mk_cmlr_node_statistics_work_len(7, D, M), M * D + D * D);
    assert_eq!(mk_cmlr_node_statistics_work_len(7, 1, 1), 2);
    assert_eq!(mk_cmlr_node_statistics_work_len(7, D, 0), 0);
    assert_eq!(mk_cmlr_node_statistics_work_len(7, 0, M), 0);
    assert_eq!(mk_cmlr_node_statistics_work_len(7, 0, 0), 0);
    assert_eq!(
        mk_cmlr_node_statistics_work_len(7, 2, HUGE),
        0,
        "m d overflows"
    );
    assert_eq!(
        mk_cmlr_node_statistics_work_len(7, half, 1),
        0,
        "d^2 overflows"
    );
    assert_eq!(
        mk_cmlr_node_statistics_work_len(7, half - 1, half),
        0,
        "m d + d^2 overflows"
    );
    assert_eq!(
        mk_cmlr_node_statistics_work_len(7, usize::MAX, usize::MAX),
        0
    );

    // steps: d; every size of the function is taken, and a zero one gives 0.
    assert_eq!(mk_cmlr_alg2_step_work_len(M, D, N), D);
    assert_eq!(mk_cmlr_alg2_step_work_len(0, D, N), 0);
    assert_eq!(mk_cmlr_alg2_step_work_len(M, D, 0), 0);
    assert_eq!(mk_cmlr_alg1_step_work_len(0, D), 0);
    assert_eq!(mk_cmlr_node_statistics_work_len(0, D, M), 0);
    assert_eq!(mk_cmlr_fit_work_len(0, D, M), 0);
    assert_eq!(mk_cmlr_init_work_len(0, D), 0);
    assert_eq!(mk_cmlr_alg1_step_work_len(7, D), D);
    assert_eq!(mk_cmlr_alg1_step_work_len(7, 0), 0);

    // init: 2 d^2 + 2 d
    assert_eq!(mk_cmlr_init_work_len(7, D), 2 * D * D + 2 * D);
    assert_eq!(mk_cmlr_init_work_len(7, 0), 0);
    assert_eq!(mk_cmlr_init_work_len(7, half), 0, "d^2 overflows");
    assert_eq!(
        mk_cmlr_init_work_len(7, d_twice_sq_overflows),
        0,
        "2 d^2 overflows"
    );
    assert_eq!(mk_cmlr_init_work_len(7, usize::MAX), 0);

    // fit: m d + d^2 + 2 d + (2 d^2 + 2 d)
    assert_eq!(
        mk_cmlr_fit_work_len(7, D, M),
        M * D + D * D + 2 * D + 2 * D * D + 2 * D
    );
    assert_eq!(mk_cmlr_fit_work_len(7, D, 0), 0);
    assert_eq!(mk_cmlr_fit_work_len(7, 0, M), 0);
    assert_eq!(mk_cmlr_fit_work_len(7, 2, HUGE), 0, "m d overflows");
    assert_eq!(mk_cmlr_fit_work_len(7, half, 1), 0, "d^2 overflows");
    assert_eq!(
        mk_cmlr_fit_work_len(7, half - 1, half),
        0,
        "m d + d^2 overflows"
    );
    assert_eq!(
        mk_cmlr_fit_work_len(7, d_twice_sq_overflows, 1),
        0,
        "2 d^2 overflows"
    );
    assert_eq!(mk_cmlr_fit_work_len(7, usize::MAX, usize::MAX), 0);
}

// ---------------------------------------------------------------------------------------------
// mk_cmlr_node_statistics
// ---------------------------------------------------------------------------------------------

#[test]
fn node_statistics_valid_call_writes_sums_and_a_lower_factor() {
    let f = fixture();
    let c = assert_accepts(&NodeStats::valid(&f), "valid node statistics");
    for j in 0..M {
        for a in 0..D {
            let want: f64 = (j * NODE..(j + 1) * NODE)
                .map(|i| f.y[i] * f.x[i * D + a])
                .sum();
            let got = c.node_sums[j * D + a];
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "s[{j}][{a}]"
            );
        }
    }
    for a in 0..D {
        assert!(c.sigma_chol[a * D + a] > 0.0, "diagonal {a}");
        for b in a + 1..D {
            assert_eq!(c.sigma_chol[a * D + b], 0.0, "strict upper ({a},{b})");
        }
    }
}

#[test]
fn node_statistics_rejects_null_pointers() {
    let valid = NodeStats::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects_nulls(&valid, &NodeStats::POINTERS, |c, name| c.nulls.push(name));
}

#[test]
fn node_statistics_rejects_zero_overflowing_sizes_and_short_work() {
    let valid = NodeStats::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects(&valid, Status::ZeroSize, "n_total = 0", |c| c.n_total = 0);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::ZeroSize, "m = 0", |c| c.m = 0);
    assert_rejects(&valid, Status::SizeOverflow, "n_total * d overflows", |c| {
        (c.n_total, c.d) = (HUGE, 2)
    });
    assert_rejects(
        &valid,
        Status::SizeOverflow,
        "n_total doubles exceed isize::MAX bytes",
        |c| (c.n_total, c.d) = (TOO_LONG, 1),
    );
    assert_rejects(&valid, Status::SizeOverflow, "m too large", |c| c.m = HUGE);
    assert_rejects(&valid, Status::BufferTooShort, "work_len one short", |c| {
        c.work_len -= 1
    });
    assert_rejects(&valid, Status::SizeOverflow, "work_len = usize::MAX", |c| {
        c.work_len = usize::MAX
    });
    assert_rejects(&valid, Status::BufferTooShort, "work_len = 0", |c| {
        c.work_len = 0
    });
}

#[test]
fn node_statistics_rejects_node_sizes_that_do_not_add_up_to_n() {
    let valid = NodeStats::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_node_sizes_checked(&valid, |c| &mut c.node_sizes);
}

/// Node sizes adding up to N - 1 or N + 1, holding a zero (with the right sum), or whose sum
/// overflows give `NodeSizes`.
#[track_caller]
fn assert_node_sizes_checked<C: Call>(valid: &C, sizes: fn(&mut C) -> &mut Vec<usize>) {
    let cases: [(&str, [usize; M]); 5] = [
        ("sum N - 1", [NODE, NODE, NODE, NODE - 1]),
        ("sum N + 1", [NODE + 1, NODE, NODE, NODE]),
        ("a zero first", [0, NODE + 5, NODE, NODE]),
        ("a zero last", [NODE, NODE + 5, NODE, 0]),
        ("sum wraps around to N", [usize::MAX, N - 1, 1, 1]),
    ];
    for (what, bad) in cases {
        let ctx = format!("node sizes {bad:?} ({what})");
        assert_rejects(valid, Status::NodeSizes, &ctx, |c| *sizes(c) = bad.to_vec());
    }
}

#[test]
fn node_statistics_rejects_nan_and_infinity_in_x_and_y() {
    let valid = NodeStats::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects_non_finite(&valid, "x", |c| &mut c.x);
    assert_rejects_non_finite(&valid, "y", |c| &mut c.y);
    // Infinity in y next to an all-zero row of x still reaches the node sum (inf * 0 = NaN).
    assert_rejects(&valid, Status::NonFinite, "y[0] = inf, x row 0 zero", |c| {
        c.x[..D].fill(0.0);
        c.y[0] = f64::INFINITY;
    });
    // Finite data whose squares overflow: the result would not be finite.
    assert_rejects(
        &valid,
        Status::NonFinite,
        "x[7] = 1e200 (x^2 overflows)",
        |c| c.x[7] = 1e200,
    );
}

/// X with covariate `col` replaced by `f(row)`.
fn with_column(x: &[f64], col: usize, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut x = x.to_vec();
    for row in x.chunks_exact_mut(D) {
        row[col] = f(row);
    }
    x
}

#[test]
fn node_statistics_reports_a_singular_sigma_hat_as_not_spd() {
    let f = fixture();
    // N = 2 samples in d = 3 (one node of 2).
    let (x, y) = simulated(SEED, &THETA_STAR, SIGMA, &[2]);
    assert_rejects(
        &NodeStats::new(&x, &y, D, &[2]),
        Status::NotSpd,
        "N = 2 < d = 3",
        |_| {},
    );
    // N = 1 sample.
    let (x, y) = simulated(SEED, &THETA_STAR, SIGMA, &[1]);
    assert_rejects(
        &NodeStats::new(&x, &y, D, &[1]),
        Status::NotSpd,
        "N = 1 < d = 3",
        |_| {},
    );
    // A covariate identically zero, in each position.
    for col in 0..D {
        let x = with_column(&f.x, col, |_| 0.0);
        let ctx = format!("covariate {col} identically zero");
        assert_rejects(
            &NodeStats::new(&x, &f.y, D, &f.sizes),
            Status::NotSpd,
            &ctx,
            |_| {},
        );
    }
    // Exactly collinear covariates: x_2 = x_0.
    let x = with_column(&f.x, 2, |row| row[0]);
    let c = NodeStats::new(&x, &f.y, D, &f.sizes);
    assert_rejects(
        &c,
        Status::NotSpd,
        "covariate 2 equal to covariate 0",
        |_| {},
    );
}

/// Sigma_hat from fewer samples than d is singular whatever the draw: the header promises
/// `MK_STATUS_NOT_SPD` ("fewer samples than d"), for `mk_cmlr_node_statistics` and for
/// `mk_cmlr_fit`.
///
/// REGRESSION TEST for a library bug this test exposed: relying on the Cholesky pivot test
/// alone let some rank-deficient Gram matrices through (23 of these 800 draws, all with N = 2,
/// returned OK with the factor of a singular matrix, from both functions). The statistics pass
/// now checks N >= d itself.
#[test]
fn node_statistics_and_fit_reject_every_draw_with_fewer_samples_than_d() {
    let mut passed = vec![];
    for seed in 0..400u64 {
        for n in [2usize, 1] {
            let (x, y) = simulated(seed, &THETA_STAR, SIGMA, &[n]);
            let mut stats = NodeStats::new(&x, &y, D, &[n]);
            let status = stats.call();
            let mut fit = Fit::new(&x, &y, D, &[n]);
            let fit_status = fit.call();
            if status != Status::NotSpd.code() || fit_status != Status::NotSpd.code() {
                passed.push((seed, n, status, fit_status));
            }
        }
    }
    assert!(
        passed.is_empty(),
        "{} of 800 draws with N < d = 3 were not rejected as NotSpd (seed, N, node statistics \
         status, fit status), first: {:?}",
        passed.len(),
        &passed[..passed.len().min(8)]
    );
}

// ---------------------------------------------------------------------------------------------
// mk_cmlr_alg1_step
// ---------------------------------------------------------------------------------------------

#[test]
fn alg1_step_rejects_null_pointers_and_accepts_a_null_step_out() {
    let valid = Alg1Step::valid(&fixture());
    let c = assert_accepts(&valid, "valid");
    assert!(c.theta.iter().all(|v| v.is_finite()) && c.step_out.is_finite() && c.step_out > 0.0);
    assert_rejects_nulls(&valid, &Alg1Step::POINTERS, |c, name| c.nulls.push(name));
    let mut no_step = valid.clone();
    no_step.nulls.push("step_out");
    let no_step = assert_accepts(&no_step, "step_out = NULL (optional)");
    assert_eq!(bits(&no_step.theta), bits(&c.theta));
}

#[test]
fn alg1_step_rejects_zero_overflowing_sizes_and_short_work() {
    let valid = Alg1Step::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects(&valid, Status::ZeroSize, "n_total = 0", |c| c.n_total = 0);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::SizeOverflow, "n_total * d overflows", |c| {
        (c.n_total, c.d) = (HUGE, 2)
    });
    assert_rejects(
        &valid,
        Status::SizeOverflow,
        "n_total doubles exceed isize::MAX bytes",
        |c| (c.n_total, c.d) = (TOO_LONG, 1),
    );
    assert_rejects(&valid, Status::BufferTooShort, "work_len one short", |c| {
        c.work_len -= 1
    });
    assert_rejects(&valid, Status::SizeOverflow, "work_len = usize::MAX", |c| {
        c.work_len = usize::MAX
    });
}

#[test]
fn alg1_step_rejects_nan_and_infinity_in_x_y_and_theta() {
    let valid = Alg1Step::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects_non_finite(&valid, "x", |c| &mut c.x);
    assert_rejects_non_finite(&valid, "y", |c| &mut c.y);
    assert_rejects_non_finite(&valid, "theta", |c| &mut c.theta);
    assert_rejects(&valid, Status::NonFinite, "y x overflows the sum", |c| {
        (c.x[0], c.y[0]) = (1e300, 1e300)
    });
}

#[test]
fn alg1_step_rejects_bad_sigma() {
    let valid = Alg1Step::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects_bad_sigmas(&valid, |c, s| c.sigma = s);
}

#[test]
fn alg1_step_checks_the_factor_and_the_identity_flag() {
    let valid = Alg1Step::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_metric_checks(&valid);
}

// ---------------------------------------------------------------------------------------------
// mk_cmlr_alg2_step
// ---------------------------------------------------------------------------------------------

#[test]
fn alg2_step_rejects_null_pointers_and_accepts_a_null_step_out() {
    let valid = Alg2Step::valid(&fixture());
    let c = assert_accepts(&valid, "valid");
    assert!(c.theta.iter().all(|v| v.is_finite()) && c.step_out.is_finite() && c.step_out > 0.0);
    assert_rejects_nulls(&valid, &Alg2Step::POINTERS, |c, name| c.nulls.push(name));
    let mut no_step = valid.clone();
    no_step.nulls.push("step_out");
    let no_step = assert_accepts(&no_step, "step_out = NULL (optional)");
    assert_eq!(bits(&no_step.theta), bits(&c.theta));
}

#[test]
fn alg2_step_rejects_zero_overflowing_sizes_and_short_work() {
    let valid = Alg2Step::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects(&valid, Status::ZeroSize, "m = 0", |c| c.m = 0);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::ZeroSize, "n_total = 0", |c| c.n_total = 0);
    assert_rejects(&valid, Status::SizeOverflow, "m * d overflows", |c| {
        (c.m, c.d) = (HUGE, 2)
    });
    assert_rejects(
        &valid,
        Status::SizeOverflow,
        "m d doubles exceed isize::MAX bytes",
        |c| (c.m, c.d) = (TOO_LONG, 1),
    );
    assert_rejects(&valid, Status::BufferTooShort, "work_len one short", |c| {
        c.work_len -= 1
    });
    assert_rejects(&valid, Status::SizeOverflow, "work_len = usize::MAX", |c| {
        c.work_len = usize::MAX
    });
}

#[test]
fn alg2_step_rejects_nan_and_infinity_in_node_sums_and_theta() {
    let valid = Alg2Step::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects_non_finite(&valid, "node_sums", |c| &mut c.node_sums);
    assert_rejects_non_finite(&valid, "theta", |c| &mut c.theta);
    assert_rejects(
        &valid,
        Status::NonFinite,
        "the sum of node sums overflows",
        |c| {
            for s in c.node_sums.chunks_exact_mut(D) {
                s.copy_from_slice(&[1.5e308, 0.0, 0.0]);
            }
        },
    );
}

#[test]
fn alg2_step_rejects_bad_sigma() {
    let valid = Alg2Step::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects_bad_sigmas(&valid, |c, s| c.sigma = s);
}

#[test]
fn alg2_step_checks_the_factor_and_the_identity_flag() {
    let valid = Alg2Step::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_metric_checks(&valid);
}

// ---------------------------------------------------------------------------------------------
// mk_cmlr_init
// ---------------------------------------------------------------------------------------------

#[test]
fn init_rejects_null_pointers_zero_overflowing_sizes_and_short_work() {
    let valid = Init::valid(&fixture());
    let c = assert_accepts(&valid, "valid");
    assert!(c.theta_out.iter().all(|v| v.is_finite()) && c.theta_out.iter().any(|&v| v != 0.0));
    assert_rejects_nulls(&valid, &Init::POINTERS, |c, name| c.nulls.push(name));
    assert_rejects(&valid, Status::ZeroSize, "m = 0", |c| c.m = 0);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::SizeOverflow, "m * d overflows", |c| {
        (c.m, c.d) = (HUGE, 2)
    });
    assert_rejects(
        &valid,
        Status::SizeOverflow,
        "m d doubles exceed isize::MAX bytes",
        |c| (c.m, c.d) = (TOO_LONG, 1),
    );
    assert_rejects(&valid, Status::BufferTooShort, "work_len one short", |c| {
        c.work_len -= 1
    });
    assert_rejects(&valid, Status::SizeOverflow, "work_len = usize::MAX", |c| {
        c.work_len = usize::MAX
    });
}

#[test]
fn init_rejects_a_zero_node_size_and_non_finite_node_sums() {
    let valid = Init::valid(&fixture());
    assert_accepts(&valid, "valid");
    for at in positions(M) {
        let ctx = format!("node_sizes[{at}] = 0");
        assert_rejects(&valid, Status::NodeSizes, &ctx, |c| c.node_sizes[at] = 0);
    }
    assert_rejects_non_finite(&valid, "node_sums", |c| &mut c.node_sums);
    assert_rejects(
        &valid,
        Status::NonFinite,
        "node sums whose moments overflow",
        |c| c.node_sums.fill(1e200),
    );
    // Not an error: all-zero node sums (y == 0) give the zero start.
    let mut zero = valid.clone();
    zero.node_sums.fill(0.0);
    let zero = assert_accepts(&zero, "all node sums zero");
    assert!(
        zero.theta_out.iter().all(|&v| v == 0.0),
        "{:?}",
        zero.theta_out
    );
}

#[test]
fn init_checks_the_factor_and_the_identity_flag() {
    let valid = Init::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_metric_checks(&valid);
}

// ---------------------------------------------------------------------------------------------
// mk_cmlr_fit
// ---------------------------------------------------------------------------------------------

#[test]
fn fit_rejects_null_pointers_and_accepts_null_optional_arguments() {
    let valid = Fit::valid(&fixture());
    let c = assert_accepts(&valid, "valid");
    let r = c.report;
    assert!((1..=50).contains(&r.iterations) && r.converged == 1 && r.last_step.is_finite());
    assert_rejects_nulls(&valid, &Fit::POINTERS, |c, name| c.nulls.push(name));
    for optional in [
        &["trace_step"][..],
        &["trace_error"],
        &["theta_star", "trace_error"],
    ] {
        let mut c = valid.clone();
        c.nulls.extend_from_slice(optional);
        let c = assert_accepts(&c, &format!("{optional:?} = NULL"));
        assert_eq!(
            bits(&c.theta),
            bits(&valid.clone().tap_call().theta),
            "{optional:?}"
        );
    }
}

#[test]
fn fit_rejects_zero_overflowing_sizes_node_sizes_and_short_work() {
    let valid = Fit::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects(&valid, Status::ZeroSize, "n_total = 0", |c| c.n_total = 0);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::ZeroSize, "m = 0", |c| c.m = 0);
    assert_rejects(&valid, Status::SizeOverflow, "n_total * d overflows", |c| {
        (c.n_total, c.d) = (HUGE, 2)
    });
    assert_rejects(&valid, Status::SizeOverflow, "m too large", |c| c.m = HUGE);
    assert_rejects(
        &valid,
        Status::SizeOverflow,
        "max_iter traces exceed isize::MAX bytes",
        |c| c.options.max_iter = TOO_LONG,
    );
    assert_rejects(&valid, Status::BufferTooShort, "work_len one short", |c| {
        c.work_len -= 1
    });
    assert_rejects(&valid, Status::SizeOverflow, "work_len = usize::MAX", |c| {
        c.work_len = usize::MAX
    });
    assert_node_sizes_checked(&valid, |c| &mut c.node_sizes);
}

#[test]
fn fit_rejects_nan_and_infinity_in_x_y_theta_and_theta_star() {
    let valid = Fit::valid(&fixture());
    assert_accepts(&valid, "valid");
    for algorithm in [MK_CMLR_ALG1, MK_CMLR_ALG2] {
        let mut v = valid.clone();
        v.options.algorithm = algorithm;
        assert_rejects_non_finite(&v, "x", |c| &mut c.x);
        assert_rejects_non_finite(&v, "y", |c| &mut c.y);
        assert_rejects_non_finite(&v, "theta_star", |c| &mut c.theta_star);
        v.options.init = MK_CMLR_INIT_GIVEN;
        assert_accepts(&v, "valid with a given start");
        assert_rejects_non_finite(&v, "theta (MK_CMLR_INIT_GIVEN)", |c| &mut c.theta);
    }
}

#[test]
fn fit_rejects_bad_options() {
    let valid = Fit::valid(&fixture());
    assert_accepts(&valid, "valid");
    assert_rejects_bad_sigmas(&valid, |c, s| c.options.sigma = s);
    for tol in [-1.0, -1e-300, f64::NAN, f64::NEG_INFINITY] {
        let ctx = format!("tol = {tol:e}");
        assert_rejects(&valid, Status::BadParameter, &ctx, |c| c.options.tol = tol);
    }
    assert_rejects(&valid, Status::BadParameter, "max_iter = 0", |c| {
        c.options.max_iter = 0
    });
    for algorithm in [0, 3, 7, -1] {
        let ctx = format!("algorithm = {algorithm}");
        assert_rejects(&valid, Status::BadParameter, &ctx, |c| {
            c.options.algorithm = algorithm
        });
    }
    for init in [2, 5, -1] {
        let ctx = format!("init = {init}");
        assert_rejects(&valid, Status::BadParameter, &ctx, |c| {
            c.options.init = init
        });
    }
    for flag in [2, -1] {
        let ctx = format!("use_identity = {flag}");
        assert_rejects(&valid, Status::BadParameter, &ctx, |c| {
            c.options.use_identity = flag
        });
    }
    assert_rejects(
        &valid,
        Status::BadParameter,
        "trace_error without theta_star",
        |c| c.nulls.push("theta_star"),
    );
}

#[test]
fn fit_reports_a_singular_sigma_hat_as_not_spd_even_with_the_identity() {
    let f = fixture();
    let (x2, y2) = simulated(SEED, &THETA_STAR, SIGMA, &[2]);
    let zero_col = with_column(&f.x, 1, |_| 0.0);
    let cases = [
        ("N = 2 < d = 3", Fit::new(&x2, &y2, D, &[2])),
        (
            "covariate 1 identically zero",
            Fit::new(&zero_col, &f.y, D, &f.sizes),
        ),
    ];
    for (what, c) in cases {
        for (algorithm, use_identity) in [(MK_CMLR_ALG2, 0), (MK_CMLR_ALG1, 0), (MK_CMLR_ALG2, 1)] {
            let mut c = c.clone();
            (c.options.algorithm, c.options.use_identity) = (algorithm, use_identity);
            let ctx = format!("{what}, algorithm {algorithm}, use_identity {use_identity}");
            assert_rejects(&c, Status::NotSpd, &ctx, |_| {});
        }
    }
}

#[test]
fn fit_writes_trace_entries_only_for_the_iterations_run() {
    let mut c = Fit::valid(&fixture());
    c.fill_outputs(SENTINEL);
    assert_status(c.call(), Status::Ok, "valid fit");
    let t = c.report.iterations;
    assert!(
        t < c.options.max_iter,
        "the fixture fit should converge before the cap"
    );
    for (name, trace) in [
        ("trace_step", &c.trace_step),
        ("trace_error", &c.trace_error),
    ] {
        assert!(
            trace[..t].iter().all(|v| v.is_finite()),
            "{name} written for t < iterations"
        );
        assert_eq!(
            bits(&trace[t..]),
            bits(&vec![SENTINEL; trace.len() - t]),
            "{name} past the end"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// mk_cmlr_simulate
// ---------------------------------------------------------------------------------------------

#[test]
fn simulate_rejects_null_pointers_and_accepts_null_labels() {
    let valid = Simulate::valid();
    let c = assert_accepts(&valid, "valid");
    assert!(c.labels_out.iter().all(|&l| l == 1.0 || l == -1.0));
    assert_rejects_nulls(&valid, &Simulate::POINTERS, |c, name| c.nulls.push(name));
    let mut no_labels = valid.clone();
    no_labels.nulls.push("labels_out");
    let no_labels = assert_accepts(&no_labels, "labels_out = NULL (optional)");
    assert_eq!(bits(&no_labels.x_out), bits(&c.x_out));
    assert_eq!(bits(&no_labels.y_out), bits(&c.y_out));
}

#[test]
fn simulate_rejects_zero_overflowing_sizes_and_bad_node_sizes() {
    let valid = Simulate::valid();
    assert_accepts(&valid, "valid");
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::ZeroSize, "m = 0", |c| c.m = 0);
    // N is the sum of the node sizes: N d overflows though N itself does not.
    assert_rejects(&valid, Status::SizeOverflow, "N * d overflows", |c| {
        c.node_sizes = vec![usize::MAX / 4, 1, 1, 1];
    });
    assert_rejects(&valid, Status::SizeOverflow, "m too large", |c| c.m = HUGE);
    // The sizes define N (the outputs hold N rows), so only zero and wrapping sizes are wrong.
    let cases: [(&str, [usize; M]); 3] = [
        ("a zero first", [0, NODE + 5, NODE, NODE]),
        ("a zero last", [NODE, NODE + 5, NODE, 0]),
        ("sum wraps around to N", [usize::MAX, N - 1, 1, 1]),
    ];
    for (what, bad) in cases {
        let ctx = format!("node sizes {bad:?} ({what})");
        assert_rejects(&valid, Status::NodeSizes, &ctx, |c| {
            c.node_sizes = bad.to_vec()
        });
    }
}

#[test]
fn simulate_rejects_bad_sigma_and_non_finite_theta_star() {
    let valid = Simulate::valid();
    assert_accepts(&valid, "valid");
    for sigma in [-1.0, -1e-300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let ctx = format!("sigma = {sigma:e}");
        assert_rejects(&valid, Status::BadParameter, &ctx, |c| c.sigma = sigma);
    }
    // Not errors here: simulate needs sigma >= 0, not 1/sigma^2 (0 gives noiseless data).
    for sigma in [0.0, 1e-200] {
        let mut c = valid.clone();
        c.sigma = sigma;
        assert_accepts(&c, &format!("sigma = {sigma:e}"));
    }
    assert_rejects_non_finite(&valid, "theta_star", |c| &mut c.theta_star);
}

/// `MK_STATUS_NON_FINITE` means "an input is NaN or infinite, or a result is not finite", and
/// outputs are written only on success: so a successful simulation holds finite data only.
///
/// LIBRARY BUG (exposed here): `mk_cmlr_simulate` checks sigma >= 0 and theta* finite but not
/// the result: a finite but huge sigma (f64::MAX) or theta* (+-1e308) makes
/// y = xi <x, theta*> + sigma eps overflow to +-inf, and the call returns OK with infinite
/// responses (expected: MK_STATUS_NON_FINITE with the outputs untouched, or finite data).
#[test]
fn simulate_never_returns_ok_with_non_finite_data() {
    let valid = Simulate::valid();
    assert_accepts(&valid, "valid");
    let huge_theta = [1e308, -1e308, 1e308];
    let cases: [(&str, f64, &[f64]); 2] = [
        ("sigma = f64::MAX", f64::MAX, &THETA_STAR),
        ("theta* = (1e308, -1e308, 1e308)", SIGMA, &huge_theta),
    ];
    let mut wrong = vec![];
    for (what, sigma, theta_star) in cases {
        let mut c = valid.clone();
        c.sigma = sigma;
        c.theta_star = theta_star.to_vec();
        c.fill_outputs(SENTINEL);
        let before = c.outputs();
        let status = c.call();
        if status == Status::Ok.code() {
            let bad = c.y_out.iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                wrong.push(format!("{what}: OK with {bad} of {N} responses not finite"));
            }
        } else {
            assert_status(status, Status::NonFinite, what);
            assert_untouched(&before, &c.outputs(), what);
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

// ---------------------------------------------------------------------------------------------
// mk_cmlr_node_posteriors
// ---------------------------------------------------------------------------------------------

#[test]
fn node_posteriors_reject_bad_input() {
    let valid = Posteriors::valid(&fixture());
    let c = assert_accepts(&valid, "valid");
    assert!(c.out.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_rejects_nulls(&valid, &Posteriors::POINTERS, |c, name| c.nulls.push(name));
    assert_rejects(&valid, Status::ZeroSize, "m = 0", |c| c.m = 0);
    assert_rejects(&valid, Status::ZeroSize, "d = 0", |c| c.d = 0);
    assert_rejects(&valid, Status::SizeOverflow, "m * d overflows", |c| {
        (c.m, c.d) = (HUGE, 2)
    });
    assert_rejects(
        &valid,
        Status::SizeOverflow,
        "m d doubles exceed isize::MAX bytes",
        |c| (c.m, c.d) = (TOO_LONG, 1),
    );
    assert_rejects_bad_sigmas(&valid, |c, s| c.sigma = s);
    assert_rejects_non_finite(&valid, "node_sums", |c| &mut c.node_sums);
    assert_rejects_non_finite(&valid, "theta", |c| &mut c.theta);
    // Huge but finite sums are no error: the posteriors saturate at exactly 0 or 1.
    let mut huge = valid.clone();
    for (j, s) in huge.node_sums.chunks_exact_mut(D).enumerate() {
        let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
        s.copy_from_slice(&[sign * 1e300, 0.0, 0.0]);
    }
    let huge = assert_accepts(&huge, "node sums of 1e300");
    assert_eq!(huge.out, [1.0, 0.0, 1.0, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// Never read an output or workspace before writing it.
// ---------------------------------------------------------------------------------------------

#[test]
fn dirty_outputs_and_workspace_do_not_change_any_result() {
    let f = fixture();
    assert_ignores_dirty_buffers(&NodeStats::valid(&f), "node statistics");
    for use_identity in [0, 1] {
        let mut alg1 = Alg1Step::valid(&f);
        alg1.use_identity = use_identity;
        assert_ignores_dirty_buffers(&alg1, &format!("alg1 step, use_identity {use_identity}"));
        let mut alg2 = Alg2Step::valid(&f);
        alg2.use_identity = use_identity;
        assert_ignores_dirty_buffers(&alg2, &format!("alg2 step, use_identity {use_identity}"));
        let mut init = Init::valid(&f);
        init.use_identity = use_identity;
        assert_ignores_dirty_buffers(&init, &format!("init, use_identity {use_identity}"));
        for algorithm in [MK_CMLR_ALG1, MK_CMLR_ALG2] {
            for start in [MK_CMLR_INIT_GIVEN, MK_CMLR_INIT_NODE_MOMENTS] {
                let mut fit = Fit::valid(&f);
                (fit.options.algorithm, fit.options.init) = (algorithm, start);
                fit.options.use_identity = use_identity;
                let ctx =
                    format!("fit: algorithm {algorithm}, init {start}, identity {use_identity}");
                assert_ignores_dirty_buffers(&fit, &ctx);
            }
        }
    }
    assert_ignores_dirty_buffers(&Simulate::valid(), "simulate");
    assert_ignores_dirty_buffers(&Posteriors::valid(&f), "node posteriors");
}
