/* Compiled by tests/header.rs as C and C++ with -Wall -Wextra -Werror -pedantic: the header
 * must be self-contained and warning-free, and its names must be what the docs promise. */
#include "mixkern.h"

int header_check(void);

int header_check(void) {
    mk_status ok = MK_STATUS_OK;
    int32_t codes[] = {MK_STATUS_OK,          MK_STATUS_NULL_POINTER, MK_STATUS_ZERO_SIZE,
                       MK_STATUS_SIZE_OVERFLOW, MK_STATUS_BUFFER_TOO_SHORT,
                       MK_STATUS_NODE_SIZES,  MK_STATUS_NON_FINITE,   MK_STATUS_BAD_PARAMETER,
                       MK_STATUS_NOT_SPD,     MK_STATUS_WEIGHTS,      MK_STATUS_BAD_MESSAGE,
                       MK_STATUS_SHAPE_MISMATCH, MK_STATUS_PANIC};
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
    gmm_options.cov_kind = MK_COV_FULL;
    gmm_options.cov_kind = MK_COV_DIAG;
    gmm_options.init = MK_GMM_INIT_KMEANSPP;
    gmm_options.init = MK_GMM_INIT_PARAMS;
    gmm_options.init = MK_GMM_INIT_RESPONSIBILITIES;
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
    mixreg_options.init = MK_MIXREG_INIT_GIVEN;
    mixreg_options.init = MK_MIXREG_INIT_NODE_LEAST_SQUARES;
    mixreg_options.init = MK_MIXREG_INIT_RANDOM;
    const char *message = mk_status_str(codes[1]);
    const char *version = mk_version();
    size_t work = mk_cmlr_fit_work_len(1, 1) + mk_cmlr_init_work_len(1) +
                  mk_cmlr_step_work_len(1) + mk_cmlr_node_statistics_work_len(1, 1) +
                  mk_gmm_fit_work_len(1, 1, 1, gmm_options.cov_kind) +
                  mk_gmm_log_density_work_len(1, 1, MK_COV_FULL) +
                  mk_l2_distance_sq_work_len(1, MK_COV_FULL, MK_COV_DIAG) +
                  mk_l2_pairwise_work_len(1, 1, 1, MK_COV_FULL) + gmm_report.iterations +
                  mk_aggregate_messages_work_len(1, 1, 1, MK_COV_FULL) +
                  mk_wire_message_len(1, 1, MK_COV_DIAG) + MK_WIRE_HEADER_LEN + MK_WIRE_VERSION +
                  agg_report.reduce.kept + reduce_report.kept + agg_options.reduce.max_iter +
                  mixreg_options.k + mixreg_report.emptied;
    return (int)ok + (int)report.iterations + (message[0] == 0) + (version[0] == 0) +
           (int)(work == 0) + (int)options.max_iter * 0;
}
