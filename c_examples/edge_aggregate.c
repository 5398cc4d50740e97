/*
 * The end-to-end job, through the C ABI only: m = 20 edge nodes each draw n = 2000 samples from
 * a 3-component Gaussian mixture in d = 4, fit a mixture locally by EM and encode their
 * estimate as a wire message. Six nodes are Byzantine:
 *   node 2: mean attack        (every mean replaced by N(0, 100^2 I) draws),
 *   node 5: covariance attack  (S_k + W_k W_k^T, W_k a d x d matrix of N(0, 1) draws),
 *   node 8: weight attack      (weights replaced by 0.90, 0.05, 0.05),
 *   nodes 11 and 14: colluding (both send the honest fit with every mean shifted by +3),
 *   node 17: a corrupted message (one payload byte flipped, so its checksum fails),
 * and node 19 sends nothing (NULL). Every node fits with the round's preset
 * (mk_gmm_fit_options_round: a covariance prior of one sample, no component below one sample).
 * The centre aggregates the 20 messages with DFMR (the robust defaults: screening and the
 * smoothed L2 distance), with DFMR as the paper has it (mk_aggregate_options_paper), with each
 * baseline (Vanilla, Trim, COAT, Medoid), and with the oracle that knows the honest nodes, and
 * prints each result's L2 distance to the true mixture, and for every machine why DFMR pooled
 * or excluded it: its message or estimate was rejected (the status says why), or it lies
 * outside rho r_COAT (its distance to COAT and the cut are printed).
 *
 * The centre learns K, d and the covariance kind from the messages: the shape a strict majority
 * of them carry (mk_wire_majority_shape); it needs no shape in advance, and a Byzantine node
 * cannot impose another.
 *
 * Build (after `make`, or against an installed mixkern with `pkg-config --cflags --libs mixkern`):
 *   cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude c_examples/edge_aggregate.c \
 *      target/c/libmixkern.a -lpthread -ldl -lm -o target/edge_aggregate
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixkern.h"

#define M 20
#define K 3
#define D 4
#define N 2000

/* Prints the failing call and its status message, then leaves main with 1. */
#define CHECK(call)                                                                    \
    do {                                                                               \
        int32_t status_ = (call);                                                      \
        if (status_ != MK_STATUS_OK) {                                                 \
            fprintf(stderr, "%s failed: %s (%d)\n", #call, mk_status_str(status_),     \
                    (int)status_);                                                     \
            return 1;                                                                  \
        }                                                                              \
    } while (0)

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* The truth: three well-separated components with correlated covariances. */
static const double TRUE_WEIGHTS[K] = {0.5, 0.3, 0.2};
static const double TRUE_MEANS[K * D] = {0.0, 0.0, 0.0, 0.0, 4.0,  4.0, 0.0,
                                         0.0, -4.0, 3.0, 2.0, 1.0};
static const double TRUE_COVS[K * D * D] = {
    1.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 0.8, 0.0, 0.1, 0.0, 0.0, 1.2,
    0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5,
    2.0, -0.5, 0.0, 0.0, -0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.3, 1.0,
};

static const mk_mixture TRUTH = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                                 .weights = TRUE_WEIGHTS, .means = TRUE_MEANS,
                                 .covs = TRUE_COVS};

/* The standard normal as a one-component mixture in dimension 1, to draw noise with. */
static const double STD_WEIGHT[1] = {1.0};
static const double STD_MEAN[1] = {0.0};
static const double STD_VAR[1] = {1.0};
static const mk_mixture STD_NORMAL = {.k = 1, .d = 1, .cov_kind = MK_COV_DIAG,
                                      .weights = STD_WEIGHT, .means = STD_MEAN,
                                      .covs = STD_VAR};

enum role { HONEST, MEAN_ATTACK, COV_ATTACK, WEIGHT_ATTACK, COLLUDING, CORRUPTED, MISSING };
static const char *ROLE_NAMES[] = {"honest",    "mean_attack", "cov_attack", "weight_attack",
                                   "colluding", "corrupted",   "missing"};

static enum role role_of(size_t node) {
    switch (node) {
    case 2: return MEAN_ATTACK;
    case 5: return COV_ATTACK;
    case 8: return WEIGHT_ATTACK;
    case 11: case 14: return COLLUDING;
    case 17: return CORRUPTED;
    case 19: return MISSING;
    default: return HONEST;
    }
}

/* n draws of N(0, scale^2) into out. */
static int32_t normal_draws(uint64_t seed, double scale, size_t n, double *out, double *work,
                            size_t work_len) {
    int32_t status = mk_gmm_simulate(&STD_NORMAL, n, seed, out, NULL, work, work_len);
    for (size_t i = 0; status == MK_STATUS_OK && i < n; i++) {
        out[i] *= scale;
    }
    return status;
}

int main(void) {
    CHECK(mk_check_version(MK_VERSION_MAJOR, MK_VERSION_MINOR));
    /* Every node fits into these buffers; the descriptors carry the shape. */
    double w[K], mu[K * D], s[K * D * D];
    const mk_mixture_out local_out = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                                      .weights = w, .means = mu, .covs = s};
    const mk_mixture local = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                              .weights = w, .means = mu, .covs = s};
    const size_t msg_len = mk_wire_message_len(&local);
    size_t work_len = mk_aggregate_messages_work_len(M, &local_out);
    work_len = max_size(work_len, mk_gmm_fit_work_len(N, D, &local_out));
    work_len = max_size(work_len, mk_gmm_simulate_work_len(&TRUTH, N));
    work_len = max_size(work_len, mk_l2_distance_sq_work_len(&local, &TRUTH));
    double *work = malloc(work_len * sizeof(double));
    double *x = malloc((size_t)N * D * sizeof(double));
    unsigned char *bytes = malloc(M * msg_len);
    if (work == NULL || x == NULL || bytes == NULL || msg_len == 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* Every node: simulate, fit, maybe attack, encode. */
    const unsigned char *messages[M];
    size_t message_lens[M];
    for (size_t node = 0; node < M; node++) {
        double noise[D * D];
        CHECK(mk_gmm_simulate(&TRUTH, N, 1000 + node, x, NULL, work, work_len));
        mk_gmm_fit_options options = mk_gmm_fit_options_round();
        options.seed = 2026 + node;
        mk_gmm_fit_report fit;
        CHECK(mk_gmm_fit(x, N, D, NULL, &options, &local_out, NULL, NULL, NULL, work, work_len,
                         &fit));
        const enum role role = role_of(node);
        if (role == MEAN_ATTACK) {
            CHECK(normal_draws(7000 + node, 100.0, K * D, mu, work, work_len));
        } else if (role == COV_ATTACK) {
            for (size_t k = 0; k < K; k++) {
                CHECK(normal_draws(8000 + 10 * node + k, 1.0, D * D, noise, work, work_len));
                for (size_t a = 0; a < D; a++) {
                    for (size_t b = 0; b < D; b++) {
                        for (size_t c = 0; c < D; c++) {
                            s[k * D * D + a * D + b] += noise[a * D + c] * noise[b * D + c];
                        }
                    }
                }
            }
        } else if (role == WEIGHT_ATTACK) {
            w[0] = 0.90;
            w[1] = 0.05;
            w[2] = 0.05;
        } else if (role == COLLUDING) {
            for (size_t i = 0; i < K * D; i++) {
                mu[i] += 3.0;
            }
        }
        unsigned char *message = bytes + node * msg_len;
        size_t written = 0;
        CHECK(mk_wire_encode(&local, N, message, msg_len, &written));
        if (role == CORRUPTED) {
            message[MK_WIRE_HEADER_LEN + 3] ^= 0x10;
        }
        messages[node] = role == MISSING ? NULL : message;
        message_lens[node] = written;
    }

    /* The centre: every aggregator over the same 20 messages, and the oracle. */
    static const struct {
        const char *name;
        int32_t method;
        int paper; /* 1: the paper's options (no screening, plain L2) */
    } METHODS[] = {{"dfmr", MK_AGG_DFMR, 0},     {"dfmr_paper", MK_AGG_DFMR, 1},
                   {"vanilla", MK_AGG_VANILLA, 0}, {"trim", MK_AGG_TRIM, 0},
                   {"coat", MK_AGG_COAT, 0},       {"medoid", MK_AGG_MEDOID, 0},
                   {"oracle", MK_AGG_VANILLA, 0}};
    /* The centre learns the shape from the messages: the one most of them carry. */
    size_t shape_k = 0, shape_d = 0;
    int32_t shape_kind = 0;
    CHECK(mk_wire_majority_shape(messages, message_lens, M, &shape_k, &shape_d, &shape_kind));
    if (shape_k != K || shape_d != D || shape_kind != MK_COV_FULL) {
        fprintf(stderr, "unexpected message shape\n");
        return 1;
    }
    double agg_w[K], agg_mu[K * D], agg_s[K * D * D];
    const mk_mixture_out aggregate_out = {.k = shape_k, .d = shape_d,
                                          .cov_kind = shape_kind,
                                          .weights = agg_w, .means = agg_mu, .covs = agg_s};
    const mk_mixture aggregate = {.k = shape_k, .d = shape_d, .cov_kind = shape_kind,
                                  .weights = agg_w, .means = agg_mu, .covs = agg_s};
    printf("mixkern %s\n", mk_version());
    printf("nodes: m=%d n=%d d=%zu k=%zu message_bytes=%zu rho=%.6f\n", M, N, shape_d,
           shape_k, msg_len, mk_default_rho(M));
    for (size_t t = 0; t < sizeof METHODS / sizeof METHODS[0]; t++) {
        const int oracle = t == sizeof METHODS / sizeof METHODS[0] - 1;
        /* The oracle sees only the honest nodes' messages. */
        const unsigned char *picked[M];
        size_t picked_lens[M], m = 0;
        for (size_t node = 0; node < M; node++) {
            if (!oracle || role_of(node) == HONEST) {
                picked[m] = messages[node];
                picked_lens[m++] = message_lens[node];
            }
        }
        mk_aggregate_options options =
            METHODS[t].paper ? mk_aggregate_options_paper() : mk_aggregate_options_default();
        options.method = METHODS[t].method;
        int32_t status[M];
        uint8_t selected[M];
        double coat_distance[M];
        double l2 = 0.0;
        mk_aggregate_report report;
        CHECK(mk_aggregate_messages(picked, picked_lens, m, &options, status, selected,
                                    coat_distance, &aggregate_out, work, work_len, &report));
        CHECK(mk_l2_distance(&aggregate, &TRUTH, &l2, work, work_len));
        printf("%s: l2_to_truth=%.6e pooled=%zu valid=%zu kept=%zu\n", METHODS[t].name, l2,
               report.selected, report.valid, report.reduce.kept);
        if (t == 0) {
            /* Why each machine was pooled or excluded (DFMR with the defaults). */
            const double cut = mk_default_rho(M) * report.radius;
            printf("dfmr_coat: node %zu radius=%.6e cut=%.6e (rho r_COAT)\n", report.coat,
                   report.radius, cut);
            for (size_t node = 0; node < M; node++) {
                printf("node %2zu: %-13s status=%-2d selected=%d distance=%.6e ", node,
                       ROLE_NAMES[role_of(node)], (int)status[node], (int)selected[node],
                       coat_distance[node]);
                if (status[node] != MK_STATUS_OK) {
                    printf("excluded: %s\n", mk_status_str(status[node]));
                } else if (selected[node]) {
                    printf("pooled: within rho r_COAT\n");
                } else {
                    printf("excluded: outside rho r_COAT (%.3e > %.3e)\n", coat_distance[node],
                           cut);
                }
            }
        }
    }

    free(bytes);
    free(x);
    free(work);
    return 0;
}
