//! The sufficient-statistics spine of the regression-mixture EM (`mlr::mixreg_accumulate`,
//! `mixreg_accumulate_grouped`, `mixreg_m_step`): statistics of chunks merge to those of the
//! whole, a driver over accumulate and M-step is the fit, bad input changes nothing.

use mixkern::mlr::{self, ClusteredData, MixRegInit, MixRegOptions, Noise};
use mixkern::rng::Rng;
use mixkern::Status;

const D: usize = 2;
const K: usize = 3;

/// Nodes of sizes 1..=6 from K = 3 lines with intercepts, x ~ N(0, I), sigma 0.3.
fn simulate(seed: u64, m: usize) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
    let thetas = [[1.0, 2.0, -1.0], [-2.0, 0.5, 1.5], [0.0, -1.5, -0.5]];
    let mut rng = Rng::new(seed);
    let (mut x, mut y, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
    for j in 0..m {
        let z = rng.below(K as u64) as usize;
        let n = 1 + j % 6;
        sizes.push(n);
        for _ in 0..n {
            let row = [rng.normal(), rng.normal()];
            let t = thetas[z];
            x.extend_from_slice(&row);
            y.push(t[0] + t[1] * row[0] + t[2] * row[1] + 0.3 * rng.normal());
        }
    }
    (x, y, sizes)
}

fn options(noise: Noise) -> MixRegOptions {
    MixRegOptions {
        k: K,
        intercept: true,
        noise,
        tol: 0.0,
        max_iter: 12,
        ..Default::default()
    }
}

/// A start: the truth's lines perturbed, equal weights, unit variances.
fn start() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let coefs = vec![0.8, 1.7, -0.8, -1.7, 0.7, 1.2, 0.3, -1.2, -0.2];
    (vec![1.0 / 3.0; K], coefs, vec![1.0; K])
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / scale)
        .fold(0.0, f64::max)
}

/// Ungrouped statistics of [0, 1), [1, 400), [400, n) merged = those of all n samples; grouped
/// statistics of two halves of the nodes merged = those of all nodes.
#[test]
fn chunk_statistics_merge_to_the_whole() {
    let (x, y, sizes) = simulate(1, 300);
    let n = y.len();
    let opts = options(Noise::PerComponent);
    let (w, c, s2) = start();
    let len = mlr::mixreg_stats_len(K, D, true).unwrap();
    assert_eq!(len, K * 9 + K * 3 + 3 * K + 4);
    let mut work = vec![0.0; mlr::mixreg_accumulate_work_len(K, D, true).unwrap()];
    let mut whole = vec![0.0; len];
    mlr::mixreg_accumulate(&x, &y, n, D, &opts, &w, &c, &s2, &mut whole, &mut work).unwrap();
    let mut merged = vec![0.0; len];
    for (lo, hi) in [(0, 1), (1, 400), (400, n)] {
        let (xs, ys) = (&x[lo * D..hi * D], &y[lo..hi]);
        mlr::mixreg_accumulate(
            xs,
            ys,
            hi - lo,
            D,
            &opts,
            &w,
            &c,
            &s2,
            &mut merged,
            &mut work,
        )
        .unwrap();
    }
    assert!(
        max_rel(&merged, &whole) <= 1e-12,
        "{:e}",
        max_rel(&merged, &whole)
    );
    assert_eq!(whole[len - 4], n as f64);

    let nlen = mlr::node_stats_len(D, true).unwrap();
    let mut node_stats = vec![0.0; sizes.len() * nlen];
    let data = ClusteredData::new(&x, &y, D, &sizes).unwrap();
    mlr::node_sufficient_statistics(&data, true, &mut node_stats).unwrap();
    let m = sizes.len();
    let mut whole = vec![0.0; len];
    let mut halves = vec![0.0; len];
    let acc = |st: &[f64], m: usize, out: &mut [f64], work: &mut [f64]| {
        mlr::mixreg_accumulate_grouped(st, m, D, &opts, &w, &c, &s2, out, work).unwrap()
    };
    acc(&node_stats, m, &mut whole, &mut work);
    acc(&node_stats[..100 * nlen], 100, &mut halves, &mut work);
    acc(&node_stats[100 * nlen..], m - 100, &mut halves, &mut work);
    assert!(
        max_rel(&halves, &whole) <= 1e-12,
        "{:e}",
        max_rel(&halves, &whole)
    );
}

/// Accumulate + M-step, iterated, is the fit from the same start (same trace, same parameters
/// to 1e-10: the fit takes one component's Gram as the complement of the others, the
/// statistics carry every Gram), grouped and ungrouped, for each estimated noise model.
#[test]
fn a_driver_over_the_statistics_is_the_fit() {
    let (x, y, sizes) = simulate(2, 400);
    let n = y.len();
    let nlen = mlr::node_stats_len(D, true).unwrap();
    let m = sizes.len();
    let mut node_stats = vec![0.0; m * nlen];
    let data = ClusteredData::new(&x, &y, D, &sizes).unwrap();
    mlr::node_sufficient_statistics(&data, true, &mut node_stats).unwrap();
    for grouped in [false, true] {
        for noise in [Noise::PerComponent, Noise::Shared] {
            let opts = options(noise);
            let (w0, c0, s0) = start();
            let init = MixRegInit::Given {
                weights: &w0,
                coefs: &c0,
                sigma2: &s0,
            };
            let (mut w, mut c, mut s2) = (vec![0.0; K], vec![0.0; 3 * K], vec![0.0; K]);
            let mut trace = vec![0.0; opts.max_iter];
            if grouped {
                let len = mlr::mixreg_fit_grouped_work_len(m, K, D, true).unwrap();
                let mut work = vec![0.0; len];
                mlr::mixreg_fit_grouped(
                    &node_stats,
                    m,
                    D,
                    &opts,
                    init,
                    &mut w,
                    &mut c,
                    &mut s2,
                    None,
                    Some(&mut trace),
                    &mut work,
                )
                .unwrap();
            } else {
                let mut work = vec![0.0; mlr::mixreg_fit_work_len(n, K, D, true).unwrap()];
                mlr::mixreg_fit(
                    &x,
                    &y,
                    n,
                    D,
                    &opts,
                    init,
                    &mut w,
                    &mut c,
                    &mut s2,
                    None,
                    Some(&mut trace),
                    &mut work,
                )
                .unwrap();
            }

            let (mut dw, mut dc, mut ds) = (w0.clone(), c0.clone(), s0.clone());
            let len = mlr::mixreg_stats_len(K, D, true).unwrap();
            let mut stats = vec![0.0; len];
            let mut a_work = vec![0.0; mlr::mixreg_accumulate_work_len(K, D, true).unwrap()];
            let mut m_work = vec![0.0; mlr::mixreg_m_step_work_len(K, D, true).unwrap()];
            for (t, want) in trace.iter().enumerate() {
                stats.fill(0.0);
                if grouped {
                    mlr::mixreg_accumulate_grouped(
                        &node_stats,
                        m,
                        D,
                        &opts,
                        &dw,
                        &dc,
                        &ds,
                        &mut stats,
                        &mut a_work,
                    )
                    .unwrap();
                } else {
                    mlr::mixreg_accumulate(
                        &x,
                        &y,
                        n,
                        D,
                        &opts,
                        &dw,
                        &dc,
                        &ds,
                        &mut stats,
                        &mut a_work,
                    )
                    .unwrap();
                }
                let ll = stats[len - 1];
                assert!(
                    (ll - want).abs() <= 1e-10 * want.abs(),
                    "grouped={grouped} {noise:?} trace {t}: {ll} vs {want}"
                );
                let mut nw = vec![0.0; K];
                mlr::mixreg_m_step(&stats, D, &opts, &mut nw, &mut dc, &mut ds, &mut m_work)
                    .unwrap();
                dw = nw;
            }
            for (got, want, what) in [(&dw, &w, "weights"), (&dc, &c, "coefs"), (&ds, &s2, "s2")] {
                let e = max_rel(got, want);
                assert!(e <= 1e-10, "grouped={grouped} {noise:?} {what}: {e:e}");
            }
        }
    }
}

/// Bad input: each with its status, nothing written.
#[test]
fn bad_input_changes_nothing() {
    let (x, y, _) = simulate(3, 50);
    let n = y.len();
    let (w, c, s2) = start();
    let len = mlr::mixreg_stats_len(K, D, true).unwrap();
    let wlen = mlr::mixreg_accumulate_work_len(K, D, true).unwrap();
    let sentinel = vec![0.25; len];
    let symmetric = MixRegOptions {
        k: 2,
        intercept: false,
        symmetric: true,
        ..Default::default()
    };
    let opts = options(Noise::PerComponent);
    let bad_weights = vec![0.5, 0.5, 0.5];
    let zero_s2 = vec![1.0, 0.0, 1.0];
    let mut nan_y = y.clone();
    nan_y[4] = f64::NAN;
    type Case<'a> = (
        &'a str,
        &'a [f64],
        &'a MixRegOptions,
        &'a [f64],
        &'a [f64],
        Status,
    );
    let cases: Vec<Case> = vec![
        ("symmetric", &y, &symmetric, &w, &s2, Status::BadParameter),
        ("weights", &y, &opts, &bad_weights, &s2, Status::Weights),
        ("sigma2 0", &y, &opts, &w, &zero_s2, Status::BadParameter),
        ("NaN y", &nan_y, &opts, &w, &s2, Status::NonFinite),
    ];
    for (name, y, opts, w, s2, want) in cases {
        let mut stats = sentinel.clone();
        let mut work = vec![0.0; wlen];
        let got = mlr::mixreg_accumulate(&x, y, n, D, opts, w, &c, s2, &mut stats, &mut work);
        assert_eq!(got, Err(want), "{name}");
        assert_eq!(stats, sentinel, "{name}");
    }

    let mut good = vec![0.0; len];
    let mut work = vec![0.0; wlen];
    mlr::mixreg_accumulate(&x, &y, n, D, &opts, &w, &c, &s2, &mut good, &mut work).unwrap();

    // A sum past the double range with what the statistics held: sum y^2 at the largest double
    // plus one response of 1e150 (its square, 1e300, is finite).
    let mut near_max = good.clone();
    near_max[len - 3] = f64::MAX;
    let before = near_max.clone();
    let mut big_y = y.clone();
    big_y[0] = 1e150;
    let got = mlr::mixreg_accumulate(
        &x,
        &big_y,
        n,
        D,
        &opts,
        &w,
        &c,
        &s2,
        &mut near_max,
        &mut work,
    );
    assert_eq!(got, Err(Status::NonFinite));
    assert_eq!(near_max, before);
    let mlen = mlr::mixreg_m_step_work_len(K, D, true).unwrap();
    let mut negative_mass = good.clone();
    negative_mass[K * 9 + K * 3 + K] = -1.0;
    let mut nan = good.clone();
    nan[3] = f64::NAN;
    let mut few = good.clone();
    few[len - 4] = 2.0;
    for (name, stats, want) in [
        ("negative mass", &negative_mass, Status::BadParameter),
        ("NaN", &nan, Status::NonFinite),
        ("N < p", &few, Status::NotSpd),
    ] {
        let (mut nw, mut nc, mut ns) = (vec![0.5; K], c.clone(), s2.clone());
        let mut m_work = vec![0.0; mlen];
        let got = mlr::mixreg_m_step(stats, D, &opts, &mut nw, &mut nc, &mut ns, &mut m_work);
        assert_eq!(got, Err(want), "{name}");
        assert!(nw == vec![0.5; K] && nc == c && ns == s2, "{name}");
    }
}

/// The C entry points are the safe API, bit for bit.
#[test]
fn the_c_entry_points_are_the_safe_api() {
    use mixkern::ffi;
    let (x, y, sizes) = simulate(4, 120);
    let n = y.len();
    let (w, c, s2) = start();
    let opts = options(Noise::Shared);
    let mut c_opts = ffi::mk_mixreg_options_default();
    c_opts.noise = ffi::MK_NOISE_SHARED;
    let mix = ffi::MkMixReg {
        k: K,
        d: D,
        intercept: 1,
        weights: w.as_ptr(),
        coefs: c.as_ptr(),
        sigma2: s2.as_ptr(),
    };
    let len = unsafe { ffi::mk_mixreg_stats_len(&mix) };
    assert_eq!(len, mlr::mixreg_stats_len(K, D, true).unwrap());
    let wlen = unsafe { ffi::mk_mixreg_accumulate_work_len(n, D, &mix) };
    assert_eq!(wlen, mlr::mixreg_accumulate_work_len(K, D, true).unwrap());
    let mut work = vec![0.0; wlen];

    let (mut rust, mut via_c) = (vec![0.0; len], vec![0.0; len]);
    mlr::mixreg_accumulate(&x, &y, n, D, &opts, &w, &c, &s2, &mut rust, &mut work).unwrap();
    let st = unsafe {
        ffi::mk_mixreg_accumulate(
            x.as_ptr(),
            n,
            D,
            y.as_ptr(),
            &c_opts,
            &mix,
            via_c.as_mut_ptr(),
            work.as_mut_ptr(),
            wlen,
        )
    };
    assert_eq!((st, &via_c), (0, &rust));

    let nlen = mlr::node_stats_len(D, true).unwrap();
    let m = sizes.len();
    let mut node_stats = vec![0.0; m * nlen];
    let data = ClusteredData::new(&x, &y, D, &sizes).unwrap();
    mlr::node_sufficient_statistics(&data, true, &mut node_stats).unwrap();
    let (mut rust_g, mut c_g) = (vec![0.0; len], vec![0.0; len]);
    mlr::mixreg_accumulate_grouped(
        &node_stats,
        m,
        D,
        &opts,
        &w,
        &c,
        &s2,
        &mut rust_g,
        &mut work,
    )
    .unwrap();
    let st = unsafe {
        ffi::mk_mixreg_accumulate_grouped(
            node_stats.as_ptr(),
            m,
            D,
            &c_opts,
            &mix,
            c_g.as_mut_ptr(),
            work.as_mut_ptr(),
            wlen,
        )
    };
    assert_eq!((st, &c_g), (0, &rust_g));

    let (mut rw, mut rc, mut rs) = (vec![0.0; K], c.clone(), s2.clone());
    let mlen = mlr::mixreg_m_step_work_len(K, D, true).unwrap();
    let mut m_work = vec![0.0; mlen];
    let floored =
        mlr::mixreg_m_step(&rust, D, &opts, &mut rw, &mut rc, &mut rs, &mut m_work).unwrap();
    let (mut cw, mut cc, mut cs) = (vec![0.0; K], c.clone(), s2.clone());
    let fit = ffi::MkMixRegOut {
        k: K,
        d: D,
        intercept: 1,
        weights: cw.as_mut_ptr(),
        coefs: cc.as_mut_ptr(),
        sigma2: cs.as_mut_ptr(),
    };
    assert_eq!(unsafe { ffi::mk_mixreg_m_step_work_len(&fit) }, mlen);
    let mut c_floored = 99;
    let st = unsafe {
        ffi::mk_mixreg_m_step(
            via_c.as_ptr(),
            &c_opts,
            &fit,
            m_work.as_mut_ptr(),
            mlen,
            &mut c_floored,
        )
    };
    assert_eq!(st, 0);
    assert_eq!(c_floored, floored);
    assert!(cw == rw && cc == rc && cs == rs);

    // The tied model has no statistics: BadParameter, nothing written.
    c_opts.symmetric = 1;
    let before = via_c.clone();
    let st = unsafe {
        ffi::mk_mixreg_accumulate(
            x.as_ptr(),
            n,
            D,
            y.as_ptr(),
            &c_opts,
            &mix,
            via_c.as_mut_ptr(),
            work.as_mut_ptr(),
            wlen,
        )
    };
    assert_eq!(st, Status::BadParameter.code());
    assert_eq!(via_c, before);
}
