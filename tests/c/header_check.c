/* Compiled by tests/header.rs as C and C++ with -Wall -Wextra -Werror -pedantic: the header
 * must be self-contained and warning-free, and its names must be what the docs promise. */
#include "mixkern.h"

int header_check(void);

static void panic_hook(uint32_t line) {
    (void)line;
    for (;;) {
    }
}

static int32_t read_samples(void *context, size_t first, size_t max_rows, double *out,
                            size_t *rows_out) {
    (void)context;
    (void)first;
    (void)max_rows;
    (void)out;
    *rows_out = 0;
    return 0;
}

int header_check(void) {
    mk_status ok = MK_STATUS_OK;
    int32_t codes[] = {MK_STATUS_OK,          MK_STATUS_NULL_POINTER, MK_STATUS_ZERO_SIZE,
                       MK_STATUS_SIZE_OVERFLOW, MK_STATUS_BUFFER_TOO_SHORT,
                       MK_STATUS_NODE_SIZES,  MK_STATUS_NON_FINITE,   MK_STATUS_BAD_PARAMETER,
                       MK_STATUS_NOT_SPD,     MK_STATUS_WEIGHTS,      MK_STATUS_BAD_MESSAGE,
                       MK_STATUS_SHAPE_MISMATCH, MK_STATUS_NO_MAJORITY,
                       MK_STATUS_MISSING_MESSAGE, MK_STATUS_TOO_FEW_SAMPLES,
                       MK_STATUS_SAMPLE_WEIGHTS, MK_STATUS_VERSION_MISMATCH,
                       MK_STATUS_DATA_SCALE,  MK_STATUS_TOO_SHARP,    MK_STATUS_TOO_FLAT,
                       MK_STATUS_TOO_LIGHT,   MK_STATUS_TOO_FAR,     MK_STATUS_READ_FAILED,
                       MK_STATUS_PANIC};
    double w[1] = {1.0}, mu[1] = {0.0}, s[1] = {1.0};
    mk_mixture mix;
    mix.k = 1;
    mix.d = 1;
    mix.cov_kind = MK_COV_DIAG;
    mix.weights = w;
    mix.means = mu;
    mix.covs = s;
    mk_mixture_out out;
    out.k = 1;
    out.d = 1;
    out.cov_kind = MK_COV_FULL;
    out.weights = w;
    out.means = mu;
    out.covs = s;
    mk_gaussian gaussian;
    gaussian.d = 1;
    gaussian.cov_kind = MK_COV_DIAG;
    gaussian.mean = mu;
    gaussian.cov = s;
    mk_mixreg_out reg_out;
    reg_out.k = 1;
    reg_out.d = 1;
    reg_out.intercept = 0;
    reg_out.weights = w;
    reg_out.coefs = mu;
    reg_out.sigma2 = s;
    mk_mixreg reg;
    reg.k = 1;
    reg.d = 1;
    reg.intercept = 0;
    reg.weights = w;
    reg.coefs = mu;
    reg.sigma2 = s;
    mk_wire_header header;
    header.k = 0;
    mk_cmlr_trace trace;
    trace.theta_star = mu;
    trace.step = s;
    trace.error = 0;
    mk_cmlr_options options = mk_cmlr_options_default();
    mk_cmlr_report report;
    report.iterations = 0;
    report.converged = 0;
    report.last_step = 0.0;
    options.algorithm = MK_CMLR_ALG1;
    options.algorithm = MK_CMLR_ALG2;
    options.init = MK_CMLR_INIT_GIVEN;
    options.init = MK_CMLR_INIT_NODE_MOMENTS;
    mk_gmm_fit_options gmm_options = mk_gmm_fit_options_default();
    mk_gmm_fit_report gmm_report;
    gmm_report.iterations = 0;
    gmm_options.init_weights = w;
    gmm_options.init_means = 0;
    gmm_options.init_covs = 0;
    gmm_options.init_resp = 0;
    gmm_options.previous_lower_bound = 0.0;
    mk_aggregate_options agg_options = mk_aggregate_options_default();
    mk_reduce_options reduce_options = mk_reduce_options_default();
    mk_aggregate_report agg_report;
    mk_reduce_report reduce_report;
    agg_report.reduce.kept = 0;
    reduce_report.kept = 0;
    agg_options.method = MK_AGG_DFMR;
    agg_options.method = MK_AGG_VANILLA;
    agg_options.method = MK_AGG_TRIM;
    agg_options.method = MK_AGG_COAT;
    agg_options.method = MK_AGG_MEDOID;
    agg_options.reduce = reduce_options;
    mk_mixreg_options mixreg_options = mk_mixreg_options_default();
    mk_mixreg_report mixreg_report;
    mixreg_report.emptied = 0;
    mixreg_options.noise = MK_NOISE_PER_COMPONENT;
    mixreg_options.noise = MK_NOISE_SHARED;
    mixreg_options.noise = MK_NOISE_KNOWN;
    mixreg_options.init = MK_MIXREG_INIT_NODE_LEAST_SQUARES;
    mixreg_options.init = MK_MIXREG_INIT_RANDOM;
    mk_read_samples reader = read_samples;
    mk_panic_hook hook = panic_hook;
    mk_set_panic_hook(hook);
    mk_set_panic_hook(0);
    const char *message = mk_status_str(codes[1]);
    const char *version = mk_version();
    int32_t compatible = mk_check_version(MK_VERSION_MAJOR, MK_VERSION_MINOR);
    size_t work = mk_cmlr_fit_work_len(1, 1, 1) + mk_cmlr_init_work_len(1, 1) +
                  mk_cmlr_alg1_step_work_len(1, 1) + mk_cmlr_alg2_step_work_len(1, 1, 1) +
                  mk_cmlr_node_statistics_work_len(1, 1, 1) + mk_gmm_fit_work_len(1, 1, &out) +
                  mk_gmm_log_density_work_len(1, 1, &mix) +
                  mk_l2_distance_sq_work_len(&mix, &mix) + mk_l2_pairwise_work_len(&mix, 1) +
                  mk_kl_gaussian_work_len(&gaussian, &gaussian) + gmm_report.iterations +
                  mk_aggregate_messages_work_len(1, &out) + mk_wire_message_len(&mix) +
                  MK_WIRE_HEADER_LEN + MK_WIRE_VERSION + MK_VERSION_PATCH +
                  agg_report.reduce.kept + reduce_report.kept + agg_options.reduce.max_iter +
                  mk_mixreg_fit_work_len(1, 1, &reg_out) + reg.k + header.k +
                  mixreg_report.emptied + (trace.error == 0) + (size_t)mixreg_options.init +
                  (size_t)(gmm_options.init_weights == 0) + (size_t)(reader == 0) +
                  mk_gmm_fit_chunked_work_len(1, 1, &mix, &out);
    return (int)ok + (int)report.iterations + (message[0] == 0) + (version[0] == 0) +
           (int)(work == 0) + (int)options.max_iter * 0 + (int)compatible;
}
