//! The workspace-length formulas the header states, checked against the functions for several
//! shapes (the formulas of the C-MLR, density, distance, wire and reduction queries are checked
//! beside their functions' other tests; these are the rest).

use mixkern::ffi::*;

#[test]
fn gmm_fit_work_len_is_the_documented_formula() {
    for (n, k, d) in [
        (1, 1, 1),
        (60, 2, 2),
        (1000, 5, 8),
        (37, 3, 13),
        (10_000, 3, 4),
    ] {
        for kind in [MK_COV_FULL, MK_COV_DIAG] {
            let c = if kind == MK_COV_FULL { d * d } else { d };
            let stats = k * (1 + d + c) + 3;
            let r = n.min(4096);
            let chunk_scratch = 36 * d + 64 * k + 128 + r * (k + 1);
            let want = n * k
                + k * (2 * d + c + 1)
                + 2 * (k + k * d + k * c)
                + c
                + n
                + 2 * stats
                + chunk_scratch;
            let fit = MkMixtureOut::shape(k, d, kind);
            // SAFETY: a valid shape-only descriptor.
            let got = unsafe { mk_gmm_fit_work_len(n, d, &fit) };
            assert_eq!(got, want, "(n, K, d) = ({n}, {k}, {d}), kind {kind}");
        }
    }
}

#[test]
fn gmm_statistics_lens_are_the_documented_formulas() {
    for (n, k, d) in [(1, 1, 1), (60, 2, 2), (1000, 5, 8), (37, 3, 13)] {
        for kind in [MK_COV_FULL, MK_COV_DIAG] {
            let c = if kind == MK_COV_FULL { d * d } else { d };
            let (mix, fit) = (
                MkMixture::shape(k, d, kind),
                MkMixtureOut::shape(k, d, kind),
            );
            // SAFETY: valid shape-only descriptors.
            let (stats, accumulate, m_step) = unsafe {
                (
                    mk_gmm_stats_len(&mix),
                    mk_gmm_accumulate_work_len(n, d, &mix),
                    mk_gmm_m_step_work_len(&fit),
                )
            };
            assert_eq!(stats, k * (1 + d + c) + 3);
            let factored = k * (2 * d + c + 1);
            assert_eq!(accumulate, factored + 2 * stats + 36 * d + 4160 * k + 4224);
            assert_eq!(m_step, k * (1 + d + c) + c + d + d * d);
            for chunk_rows in [1, 7, 4096, 5000] {
                // SAFETY: valid shape-only descriptors.
                let chunked = unsafe { mk_gmm_fit_chunked_work_len(d, chunk_rows, &mix, &fit) };
                let block = k * (1 + d + c);
                let r = chunk_rows.min(4096);
                let chunk_e_step = 36 * d + 64 * k + 128 + r * (k + 1);
                assert_eq!(
                    chunked,
                    3 * stats
                        + factored
                        + chunk_e_step
                        + 2 * block
                        + c
                        + d
                        + d * d
                        + chunk_rows * d,
                    "chunks of {chunk_rows}"
                );
            }
        }
    }
}

#[test]
fn mixreg_statistics_lens_are_the_documented_formulas() {
    for (n, k, d) in [(1, 1, 1), (60, 2, 2), (1000, 5, 8), (37, 3, 13)] {
        for intercept in [0, 1] {
            let p = d + intercept as usize;
            let null = std::ptr::null_mut();
            let mix = MkMixReg {
                k,
                d,
                intercept,
                weights: null,
                coefs: null,
                sigma2: null,
            };
            let fit = MkMixRegOut {
                k,
                d,
                intercept,
                weights: null,
                coefs: null,
                sigma2: null,
            };
            // SAFETY: shape-only descriptors (no array is read).
            let (stats, accumulate, grouped, m_step) = unsafe {
                (
                    mk_mixreg_stats_len(&mix),
                    mk_mixreg_accumulate_work_len(n, d, &mix),
                    mk_mixreg_accumulate_grouped_work_len(n, d, &mix),
                    mk_mixreg_m_step_work_len(&fit),
                )
            };
            assert_eq!(stats, k * p * p + k * p + 3 * k + 4);
            let want = k * (p + 2) + stats + 3 * k + 64 * (2 * p + 2 * k + 6);
            assert_eq!((accumulate, grouped), (want, want));
            assert_eq!(m_step, k * (p + 2) + stats + 2 * p * p + p);
        }
    }
}

#[test]
fn coat_and_aggregation_work_lens_are_the_documented_formulas() {
    for m in [1usize, 2, 20, 333] {
        assert_eq!(mk_coat_work_len(m), m);
    }
    for (m, k, d) in [(1, 1, 1), (20, 5, 10), (7, 3, 2)] {
        for kind in [MK_COV_FULL, MK_COV_DIAG] {
            let c = if kind == MK_COV_FULL { d * d } else { d };
            let (estimates, out) = (
                MkMixture::shape(k, d, kind),
                MkMixtureOut::shape(k, d, kind),
            );
            // SAFETY: valid shape-only descriptors.
            let (array, messages) = unsafe {
                (
                    mk_aggregate_work_len(&estimates, m, &out),
                    mk_aggregate_messages_work_len(m, &out),
                )
            };
            // At least its own part: 3 m + 2 m^2 + m K (1 + d + 2 c) + 2 d.
            assert!(array >= 3 * m + 2 * m * m + m * k * (1 + d + 2 * c) + 2 * d);
            // The messages' part: m K (1 + d + c) + 2 m + (d*d for full), then the array one.
            let decoded = m * k * (1 + d + c) + 2 * m + if kind == MK_COV_FULL { d * d } else { 0 };
            assert_eq!(messages, array + decoded, "(m, K, d) = ({m}, {k}, {d})");
        }
    }
}
