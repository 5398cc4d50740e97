//! Helpers for the tests that compile C against include/mixkern.h and libmixkern.a.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The three-component mixture in d = 4 with correlated covariances that several tests, the MPI
/// examples and the firmwares sample from: (weights, means, full covariances).
pub fn mixture_k3_d4() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    #[rustfmt::skip]
    let covs = vec![
        1.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 0.8, 0.0, 0.1, 0.0, 0.0, 1.2,
        0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5,
        2.0, -0.5, 0.0, 0.0, -0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.3, 1.0,
    ];
    let means = vec![0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, -4.0, 3.0, 2.0, 1.0];
    (vec![0.5, 0.3, 0.2], means, covs)
}

/// n samples of [`mixture_k3_d4`] drawn with `seed`, as `mk_gmm_simulate` draws them.
pub fn simulate_k3_d4(seed: u64, n: usize) -> Vec<f64> {
    use mixkern::gmm::{self, CovKind, Mixture};
    let (w, m, s) = mixture_k3_d4();
    let mix = Mixture::new(&w, &m, &s, 3, 4, CovKind::Full).unwrap();
    let mut x = vec![0.0; n * 4];
    let mut work = vec![0.0; gmm::simulate_work_len(3, 4, CovKind::Full).unwrap()];
    gmm::simulate(seed, &mix, n, &mut x, None, &mut work).unwrap();
    x
}

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo profile directory this test runs from (target/<profile>).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// The C (or C++) compiler the cc crate picks for this target, as a command with warnings
/// that must not fire.
pub fn compiler(cplusplus: bool) -> Command {
    let target = env!("MIXKERN_TARGET");
    let tool = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .cpp(cplusplus)
        .opt_level(2)
        .target(target)
        .host(target)
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .get_compiler();
    let mut cmd = tool.to_command();
    cmd.arg("-I").arg(root().join("include"));
    cmd
}

/// The C compiler the cc crate picks for this target, with no flags at all (for builds that
/// must use nothing but what pkg-config says).
pub fn plain_compiler() -> PathBuf {
    let target = env!("MIXKERN_TARGET");
    cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .target(target)
        .host(target)
        .opt_level(2)
        .get_compiler()
        .path()
        .to_path_buf()
}

/// Whether every program is on PATH. When one is missing, says what to install (`hint`) and
/// returns false so the test skips, or fails under CI (`CI` set), whose `.ci/run` installs them.
pub fn tools_on_path(programs: &[&str], hint: &str) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {p}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!("{} not found: {hint}", missing.join(", "));
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("skipped: {message}");
    false
}

/// Installs a target's standard library with rustup when it is missing (CI installs it first);
/// panics with what to do when rustup is not there.
pub fn rustup_target(target: &str) {
    let out = Command::new("rustup")
        .args(["target", "add", target])
        .output()
        .unwrap_or_else(|e| panic!("rustup is needed to add {target}: {e}"));
    assert!(
        out.status.success(),
        "rustup target add {target} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh scratch directory under target/ for build products of one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = profile_dir().join("c-tests").join(name);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs `make` in the crate root with the given arguments (the documented way to build and
/// install the C library), asserting it succeeds. Calls from one test binary take turns: they
/// share the build products in target/c.
pub fn make(args: &[&str]) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(root())
        .args(args)
        .output()
        .expect("run make (is it installed?)");
    assert!(
        out.status.success(),
        "make {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The C static library exactly as `make` builds it for users (target/c/libmixkern.a), built
/// once per test binary.
pub fn c_library() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            make(&[]);
            root().join("target/c/libmixkern.a")
        })
        .clone()
}

/// Compiles `source` (C, -std=c11) and links it against the static library `make` builds;
/// returns the executable's path. Panics with the compiler's output on failure.
pub fn build_c_program(source: &Path, name: &str) -> PathBuf {
    let lib = c_library();
    let exe = scratch_dir(name).join(name);
    let out = compiler(false)
        .arg("-std=c11")
        .arg(source)
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm"])
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run the C compiler");
    assert!(
        out.status.success(),
        "compiling {} failed:\n{}{}",
        source.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs an executable, asserts it exits 0, and returns its standard output.
pub fn run(exe: &Path) -> String {
    let out = Command::new(exe).output().expect("run the C program");
    assert!(
        out.status.success(),
        "{} failed:\n{}{}",
        exe.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The value after `key` on the first line that starts with it, e.g. `field(out, "error:")`.
pub fn field(output: &str, key: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no line starting with {key:?} in:\n{output}"))
        .trim()
        .to_string()
}

// Exact optimal transport, the W1 distance between mixing distributions and the adjusted Rand
// index, for the statistical tests (tests/dfmr_paper.rs).

/// An exact minimum-cost transport between the supplies `a[n]` and the demands `b[m]` (both
/// non-negative, with equal sums up to rounding) under `cost[n*m]` (row-major, finite):
/// returns (the optimal cost sum_ij f_ij c_ij, the plan f[n*m]).
///
/// Successive shortest paths on the bipartite network source -> i -> j -> sink with the
/// residual (backward) edges j -> i of cost -c_ij wherever f_ij > 0, Bellman-Ford for the
/// paths (the residual network never has a negative cycle, which is why every augmentation
/// keeps the plan optimal for the flow it carries). Each augmentation empties a supply, fills
/// a demand or empties a backward edge; it stops when min(sum a, sum b) is shipped (to 1e-13
/// relative).
pub fn transport(a: &[f64], b: &[f64], cost: &[f64]) -> (f64, Vec<f64>) {
    let (n, m) = (a.len(), b.len());
    assert_eq!(cost.len(), n * m, "cost is n x m");
    assert!(a.iter().chain(b).all(|v| *v >= 0.0 && v.is_finite()));
    assert!(cost.iter().all(|v| v.is_finite()));
    let total = a.iter().sum::<f64>().min(b.iter().sum());
    let tol = 1e-13 * total.max(f64::MIN_POSITIVE);
    let cost_scale = cost.iter().fold(0.0f64, |s, c| s.max(c.abs()));
    let slack = 1e-13 * cost_scale;
    let (mut supply, mut demand) = (a.to_vec(), b.to_vec());
    let mut flow = vec![0.0; n * m];
    let mut shipped = 0.0;
    const NONE: usize = usize::MAX;
    for _ in 0..100 * (n + m) * (n + m) {
        if total - shipped <= tol {
            break;
        }
        // Shortest paths from the source (every supply node with supply left is at 0).
        let (mut du, mut dv) = (vec![f64::INFINITY; n], vec![f64::INFINITY; m]);
        let (mut pu, mut pv) = (vec![NONE; n], vec![NONE; m]);
        for i in 0..n {
            if supply[i] > tol {
                du[i] = 0.0;
            }
        }
        let mut settled = false;
        for _ in 0..=n + m {
            let mut changed = false;
            for i in (0..n).filter(|&i| du[i].is_finite()) {
                for j in 0..m {
                    let c = du[i] + cost[i * m + j];
                    if c < dv[j] - slack {
                        (dv[j], pv[j], changed) = (c, i, true);
                    }
                }
            }
            for j in (0..m).filter(|&j| dv[j].is_finite()) {
                for i in 0..n {
                    if flow[i * m + j] > tol {
                        let c = dv[j] - cost[i * m + j];
                        if c < du[i] - slack {
                            (du[i], pu[i], changed) = (c, j, true);
                        }
                    }
                }
            }
            if !changed {
                settled = true;
                break;
            }
        }
        assert!(settled, "transport: a negative residual cycle (a bug)");
        let Some(end) = (0..m)
            .filter(|&j| demand[j] > tol && dv[j].is_finite())
            .min_by(|&x, &y| dv[x].total_cmp(&dv[y]))
        else {
            break;
        };
        // Walk back to the supply node the path starts from; find the bottleneck.
        let mut delta = demand[end];
        let (mut j, mut steps) = (end, 0);
        let start = loop {
            let i = pv[j];
            if pu[i] == NONE {
                break i;
            }
            j = pu[i];
            delta = delta.min(flow[i * m + j]);
            steps += 1;
            assert!(
                steps <= n + m,
                "transport: a cycle in the shortest-path tree (a bug)"
            );
        };
        delta = delta.min(supply[start]);
        // Augment.
        let mut j = end;
        loop {
            let i = pv[j];
            flow[i * m + j] += delta;
            if pu[i] == NONE {
                break;
            }
            j = pu[i];
            flow[i * m + j] -= delta;
        }
        supply[start] -= delta;
        demand[end] -= delta;
        shipped += delta;
    }
    assert!(
        total - shipped <= 1e-9 * total.max(1e-300),
        "transport did not ship everything"
    );
    let value = flow.iter().zip(cost).map(|(f, c)| f * c).sum();
    (value, flow)
}

/// The symmetric positive semi-definite square root of the symmetric `s` (d x d, row-major):
/// V diag(sqrt(max(lambda, 0))) V^T from [`mixkern::linalg::sym_eigen`].
pub fn sym_sqrt(s: &[f64], d: usize) -> Vec<f64> {
    let mut a = s[..d * d].to_vec();
    let (mut values, mut vectors) = (vec![0.0; d], vec![0.0; d * d]);
    mixkern::linalg::sym_eigen(&mut a, d, &mut values, &mut vectors).expect("sym_eigen");
    let mut root = vec![0.0; d * d];
    for (k, &lambda) in values.iter().enumerate() {
        let r = lambda.max(0.0).sqrt();
        let v = &vectors[k * d..(k + 1) * d];
        for i in 0..d {
            for j in 0..d {
                root[i * d + j] += r * v[i] * v[j];
            }
        }
    }
    root
}

/// The W1 distance between two mixing distributions, sum_k w_k delta_(mu_k, S_k), with ground
/// cost |mu - mu'| + |S^(1/2) - S'^(1/2)|_F (full covariances, d x d each), solved exactly by
/// [`transport`]. The weights of each side are normalized to sum 1 first.
pub fn w1_mixing(
    (w1, mu1, cov1): (&[f64], &[f64], &[f64]),
    (w2, mu2, cov2): (&[f64], &[f64], &[f64]),
    d: usize,
) -> f64 {
    let (k1, k2) = (w1.len(), w2.len());
    let roots = |cov: &[f64], k: usize| -> Vec<Vec<f64>> {
        (0..k)
            .map(|c| sym_sqrt(&cov[c * d * d..(c + 1) * d * d], d))
            .collect()
    };
    let (r1, r2) = (roots(cov1, k1), roots(cov2, k2));
    let mut cost = vec![0.0; k1 * k2];
    for a in 0..k1 {
        for b in 0..k2 {
            let dm: f64 = (0..d)
                .map(|i| (mu1[a * d + i] - mu2[b * d + i]).powi(2))
                .sum::<f64>()
                .sqrt();
            let ds: f64 = r1[a]
                .iter()
                .zip(&r2[b])
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f64>()
                .sqrt();
            cost[a * k2 + b] = dm + ds;
        }
    }
    let normalized = |w: &[f64]| {
        let s: f64 = w.iter().sum();
        w.iter().map(|v| v / s).collect::<Vec<_>>()
    };
    transport(&normalized(w1), &normalized(w2), &cost).0
}

/// The adjusted Rand index (Hubert and Arabie) of two labelings of the same items: 1 for the
/// same partition (up to renaming), about 0 for independent ones. Both partitions trivial
/// (one cluster each, or singletons each) gives 1, as scikit-learn does.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len());
    let n = a.len();
    let (ka, kb) = (
        a.iter().max().map_or(0, |v| v + 1),
        b.iter().max().map_or(0, |v| v + 1),
    );
    let mut table = vec![0u64; ka * kb];
    for (&x, &y) in a.iter().zip(b) {
        table[x * kb + y] += 1;
    }
    let pairs = |c: u64| (c * c.saturating_sub(1) / 2) as f64;
    let index: f64 = table.iter().map(|&c| pairs(c)).sum();
    let rows: f64 = (0..ka)
        .map(|x| pairs(table[x * kb..(x + 1) * kb].iter().sum()))
        .sum();
    let cols: f64 = (0..kb)
        .map(|y| pairs((0..ka).map(|x| table[x * kb + y]).sum()))
        .sum();
    let expected = rows * cols / pairs(n as u64);
    let max = 0.5 * (rows + cols);
    if max == expected {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

/// What [`aggregate_messages`] gives: the report, the per-machine statuses and selection flags,
/// and the K output components.
pub struct Aggregated {
    pub report: mixkern::robust::AggregateReport,
    pub status: Vec<i32>,
    pub selected: Vec<u8>,
    pub weights: Vec<f64>,
    pub means: Vec<f64>,
    pub covs: Vec<f64>,
}

/// `robust::aggregate_messages` over `messages` (one per machine, shape (k, d, kind)) with the
/// default reduction options, from NaN-filled outputs and a NaN-filled workspace of exactly
/// the documented length; panics on an error.
pub fn aggregate_messages(
    method: mixkern::robust::Aggregator,
    messages: &[Option<&[u8]>],
    (k, d, kind): (usize, usize, mixkern::gmm::CovKind),
    screening: &mixkern::robust::Screening,
) -> Aggregated {
    let m = messages.len();
    let c = kind.cov_len(d).unwrap();
    let (mut weights, mut means, mut covs) = (
        vec![f64::NAN; k],
        vec![f64::NAN; k * d],
        vec![f64::NAN; k * c],
    );
    let (mut status, mut selected) = (vec![-1; m], vec![7u8; m]);
    let len = mixkern::robust::aggregate_messages_work_len(m, k, d, kind).unwrap();
    let mut work = vec![f64::NAN; len];
    let report = mixkern::robust::aggregate_messages(
        method,
        &|i| messages[i],
        m,
        k,
        d,
        kind,
        &mixkern::reduce::ReduceOptions::default(),
        screening,
        &mut status,
        &mut selected,
        None,
        &mut weights,
        &mut means,
        &mut covs,
        &mut work,
    )
    .unwrap_or_else(|e| panic!("{method:?}: {e:?}"));
    Aggregated {
        report,
        status,
        selected,
        weights,
        means,
        covs,
    }
}
