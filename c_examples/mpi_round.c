/*
 * The paper's round across processes, with MPI: every rank is an edge node with its own samples
 * (n = 2000 from a 3-component mixture in d = 4, seeded by the rank). It fits a mixture locally
 * with the round's preset and encodes it as a wire message. Ranks named on the command line are
 * Byzantine. Rank 0 is also the centre: it gathers every message (MPI_Gather of the lengths, then
 * MPI_Gatherv of the bytes), learns K, d and the covariance kind from the messages
 * (mk_wire_majority_shape), aggregates them with DFMR and the baselines, and prints each rank's
 * status and why DFMR pooled or excluded it.
 *
 *   mpirun -np 8 ./mpi_round [--attack RANK:KIND]... [--dump DIR]
 *
 * KIND: mean (every mean replaced by N(0, 100^2) draws), cov (S_k + W W^T, W of N(0, 1) draws),
 * weight (weights 0.90, 0.05, 0.05), collude (means + 3), corrupt (one payload byte flipped),
 * absent (a message of zero bytes: the rank sent nothing). --dump DIR writes every gathered
 * message to DIR/rank_<r>.msg (an absent one as an empty file), so that a test can aggregate the
 * same bytes in one process. Aggregates are printed as the bit patterns of their doubles (hex)
 * as well as in decimal, for a bitwise comparison.
 *
 * Another transport changes only the two gather calls: anything that delivers each node's bytes
 * and length to the centre (a socket, MQTT, files) can replace them.
 *
 * Build (after `make`): mpicc -std=c11 -O2 -Iinclude c_examples/mpi_round.c \
 *   target/c/libmixkern.a -lpthread -ldl -lm -o target/mpi_round
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixkern.h"

#define K 3
#define D 4
#define N 2000

/* Prints the failing call and its status message on stderr, then aborts every rank. */
#define CHECK(call)                                                                    \
    do {                                                                               \
        int32_t status_ = (call);                                                      \
        if (status_ != MK_STATUS_OK) {                                                 \
            fprintf(stderr, "%s failed: %s (%d)\n", #call, mk_status_str(status_),     \
                    (int)status_);                                                     \
            MPI_Abort(MPI_COMM_WORLD, 1);                                              \
        }                                                                              \
    } while (0)

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

/* The standard normal in dimension 1, to draw attack noise with. */
static const double ONE[1] = {1.0};
static const double ZERO[1] = {0.0};
static const mk_mixture STD_NORMAL = {.k = 1, .d = 1, .cov_kind = MK_COV_DIAG,
                                      .weights = ONE, .means = ZERO, .covs = ONE};

/* This rank's role from the command line: the KIND of an "--attack RANK:KIND" naming it, else
 * "honest". */
static const char *role_of(int rank, int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i++) {
        const char *colon = strchr(argv[i + 1], ':');
        if (strcmp(argv[i], "--attack") == 0 && colon != NULL && atoi(argv[i + 1]) == rank) {
            return colon + 1;
        }
    }
    return "honest";
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

/* The bit pattern of a double, for bitwise comparisons of printed results. */
static unsigned long long bits_of(double v) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return (unsigned long long)b;
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK(mk_check_version(MK_VERSION_MAJOR, MK_VERSION_MINOR));
    const char *dump = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--dump") == 0) {
            dump = argv[i + 1];
        }
    }

    /* The edge node: simulate, fit, maybe attack, encode. */
    double w[K], mu[K * D], s[K * D * D];
    const mk_mixture_out local_out = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                                      .weights = w, .means = mu, .covs = s};
    const mk_mixture local = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                              .weights = w, .means = mu, .covs = s};
    const size_t msg_len = mk_wire_message_len(&local);
    size_t work_len = max_size(mk_gmm_fit_work_len(N, D, &local_out),
                               mk_gmm_simulate_work_len(&TRUTH, N));
    double *work = malloc(work_len * sizeof(double));
    double *x = malloc((size_t)N * D * sizeof(double));
    unsigned char *message = malloc(msg_len);
    if (work == NULL || x == NULL || message == NULL) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    CHECK(mk_gmm_simulate(&TRUTH, N, 1000 + (uint64_t)rank, x, NULL, work, work_len));
    mk_gmm_fit_options options = mk_gmm_fit_options_round();
    options.seed = 2026 + (uint64_t)rank;
    mk_gmm_fit_report fit;
    CHECK(mk_gmm_fit(x, N, D, NULL, &options, &local_out, NULL, NULL, NULL, work, work_len,
                     &fit));
    const char *role = role_of(rank, argc, argv);
    if (strcmp(role, "mean") == 0) {
        CHECK(normal_draws(7000 + (uint64_t)rank, 100.0, K * D, mu, work, work_len));
    } else if (strcmp(role, "cov") == 0) {
        double noise[D * D];
        for (size_t k = 0; k < K; k++) {
            CHECK(normal_draws(8000 + 10 * (uint64_t)rank + k, 1.0, D * D, noise, work, work_len));
            for (size_t a = 0; a < D; a++) {
                for (size_t b = 0; b < D; b++) {
                    for (size_t c = 0; c < D; c++) {
                        s[k * D * D + a * D + b] += noise[a * D + c] * noise[b * D + c];
                    }
                }
            }
        }
    } else if (strcmp(role, "weight") == 0) {
        w[0] = 0.90;
        w[1] = 0.05;
        w[2] = 0.05;
    } else if (strcmp(role, "collude") == 0) {
        for (size_t i = 0; i < K * D; i++) {
            mu[i] += 3.0;
        }
    }
    size_t written = 0;
    CHECK(mk_wire_encode(&local, N, message, msg_len, &written));
    if (strcmp(role, "corrupt") == 0) {
        message[MK_WIRE_HEADER_LEN + 3] ^= 0x10;
    }
    if (strcmp(role, "absent") == 0) {
        written = 0;
    }

    /* The transport: lengths, then bytes, to rank 0. */
    uint64_t my_len = written;
    uint64_t *lens = rank == 0 ? malloc((size_t)size * sizeof(uint64_t)) : NULL;
    MPI_Gather(&my_len, 1, MPI_UINT64_T, lens, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    int *counts = NULL, *displs = NULL;
    unsigned char *all = NULL;
    if (rank == 0) {
        counts = malloc((size_t)size * sizeof(int));
        displs = malloc((size_t)size * sizeof(int));
        int total = 0;
        for (int r = 0; r < size; r++) {
            counts[r] = (int)lens[r];
            displs[r] = total;
            total += counts[r];
        }
        all = malloc(total > 0 ? (size_t)total : 1);
    }
    MPI_Gatherv(message, (int)written, MPI_BYTE, all, counts, displs, MPI_BYTE, 0,
                MPI_COMM_WORLD);

    if (rank == 0) {
        /* The centre: every message as (pointer, length); a zero length is a missing one. */
        const unsigned char **messages = malloc((size_t)size * sizeof *messages);
        size_t *message_lens = malloc((size_t)size * sizeof(size_t));
        for (int r = 0; r < size; r++) {
            messages[r] = all + displs[r];
            message_lens[r] = (size_t)lens[r];
        }
        if (dump != NULL) {
            for (int r = 0; r < size; r++) {
                char path[4096];
                snprintf(path, sizeof path, "%s/rank_%d.msg", dump, r);
                FILE *f = fopen(path, "wb");
                if (f == NULL || fwrite(messages[r], 1, message_lens[r], f) != message_lens[r]) {
                    fprintf(stderr, "cannot write %s\n", path);
                    MPI_Abort(MPI_COMM_WORLD, 1);
                }
                fclose(f);
            }
        }
        size_t k = 0, d = 0;
        int32_t kind = 0;
        CHECK(mk_wire_majority_shape(messages, message_lens, (size_t)size, &k, &d, &kind));
        double *agg_w = malloc(k * sizeof(double));
        double *agg_mu = malloc(k * d * sizeof(double));
        double *agg_s = malloc(k * (kind == MK_COV_FULL ? d * d : d) * sizeof(double));
        const mk_mixture_out aggregate_out = {.k = k, .d = d, .cov_kind = kind,
                                              .weights = agg_w, .means = agg_mu, .covs = agg_s};
        const mk_mixture aggregate = {.k = k, .d = d, .cov_kind = kind,
                                      .weights = agg_w, .means = agg_mu, .covs = agg_s};
        size_t centre_len = max_size(mk_aggregate_messages_work_len((size_t)size, &aggregate_out),
                                     mk_l2_distance_sq_work_len(&aggregate, &TRUTH));
        double *centre_work = malloc(centre_len * sizeof(double));
        int32_t *status = malloc((size_t)size * sizeof(int32_t));
        uint8_t *selected = malloc((size_t)size);
        double *distance = malloc((size_t)size * sizeof(double));
        static const struct {
            const char *name;
            int32_t method;
            int paper;
        } METHODS[] = {{"dfmr", MK_AGG_DFMR, 0},     {"dfmr_paper", MK_AGG_DFMR, 1},
                       {"vanilla", MK_AGG_VANILLA, 0}, {"trim", MK_AGG_TRIM, 0},
                       {"coat", MK_AGG_COAT, 0},       {"medoid", MK_AGG_MEDOID, 0}};
        printf("mixkern %s\n", mk_version());
        printf("ranks: m=%d n=%d learned shape: k=%zu d=%zu cov_kind=%d\n", size, N, k, d,
               (int)kind);
        for (size_t t = 0; t < sizeof METHODS / sizeof METHODS[0]; t++) {
            mk_aggregate_options agg =
                METHODS[t].paper ? mk_aggregate_options_paper() : mk_aggregate_options_default();
            agg.method = METHODS[t].method;
            mk_aggregate_report report;
            int32_t st = mk_aggregate_messages(messages, message_lens, (size_t)size, &agg, status,
                                               selected, distance, &aggregate_out, centre_work,
                                               centre_len, &report);
            if (st != MK_STATUS_OK) {
                printf("%s: failed: %s\n", METHODS[t].name, mk_status_str(st));
                continue;
            }
            double l2 = 0.0;
            CHECK(mk_l2_distance(&aggregate, &TRUTH, &l2, centre_work, centre_len));
            printf("%s: l2_to_truth=%.6e pooled=%zu valid=%zu\n", METHODS[t].name, l2,
                   report.selected, report.valid);
            printf("%s_bits:", METHODS[t].name);
            for (size_t i = 0; i < k; i++) {
                printf(" %016llx", bits_of(agg_w[i]));
            }
            for (size_t i = 0; i < k * d; i++) {
                printf(" %016llx", bits_of(agg_mu[i]));
            }
            for (size_t i = 0; i < k * (kind == MK_COV_FULL ? d * d : d); i++) {
                printf(" %016llx", bits_of(agg_s[i]));
            }
            printf("\n");
            if (t == 0) {
                const double cut = mk_default_rho((size_t)size) * report.radius;
                for (int r = 0; r < size; r++) {
                    printf("rank %d: status=%d selected=%d distance=%.6e ", r, (int)status[r],
                           (int)selected[r], distance[r]);
                    if (status[r] != MK_STATUS_OK) {
                        printf("excluded: %s\n", mk_status_str(status[r]));
                    } else if (selected[r]) {
                        printf("pooled: within rho r_COAT\n");
                    } else {
                        printf("excluded: outside rho r_COAT (%.3e > %.3e)\n", distance[r], cut);
                    }
                }
            }
        }
        free(distance);
        free(selected);
        free(status);
        free(centre_work);
        free(agg_s);
        free(agg_mu);
        free(agg_w);
        free(message_lens);
        free(messages);
        free(all);
        free(displs);
        free(counts);
        free(lens);
    }
    free(message);
    free(x);
    free(work);
    MPI_Finalize();
    return 0;
}
