/*
 * Exact distributed EM with MPI, when every rank is trusted: the data are sharded over the
 * ranks (rank r holds 5000 + 1000 r samples of a 3-component mixture in d = 4, seeded by the
 * rank), and every iteration is
 *   E-step on the shard   mk_gmm_accumulate  (statistics of the local samples),
 *   merge                 MPI_Allreduce with MPI_SUM (statistics add),
 *   M-step everywhere     mk_gmm_m_step      (every rank computes the same new mixture).
 * Only the statistics cross the network: K (1 + d + d^2) + 3 doubles per iteration, whatever
 * the number of samples. The fit equals the single-process fit of all the shards together (the
 * sums are merely added in another order). Rank 0 prints the trace (the mean log-likelihood at
 * the start of each iteration) and the fitted mixture.
 *
 *   mpirun -np 4 ./mpi_em [ITERATIONS]   (default 30; tolerance off)
 *
 * Another transport changes only the MPI_Allreduce: any sum of the ranks' statistics (a tree of
 * sockets, a parameter server) gives the same fit to rounding.
 *
 * Build (after `make`): mpicc -std=c11 -O2 -Iinclude c_examples/mpi_em.c \
 *   target/c/libmixkern.a -lpthread -ldl -lm -o target/mpi_em
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mixkern.h"

#define K 3
#define D 4

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

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK(mk_check_version(MK_VERSION_MAJOR, MK_VERSION_MINOR));
    const int iterations = argc > 1 ? atoi(argv[1]) : 30;

    /* This rank's shard. */
    const size_t n = 5000 + 1000 * (size_t)rank;
    double *x = malloc(n * D * sizeof(double));
    size_t sim_len = mk_gmm_simulate_work_len(&TRUTH, n);
    double *sim_work = malloc(sim_len * sizeof(double));
    if (x == NULL || sim_work == NULL) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    CHECK(mk_gmm_simulate(&TRUTH, n, 500 + (uint64_t)rank, x, NULL, sim_work, sim_len));
    free(sim_work);

    /* The same start on every rank: the truth's means shifted by 0.5, covariances x 1.5. */
    double w[K], mu[K * D], s[K * D * D];
    for (size_t i = 0; i < K; i++) w[i] = 1.0 / K;
    for (size_t i = 0; i < K * D; i++) mu[i] = TRUE_MEANS[i] + 0.5;
    for (size_t i = 0; i < K * D * D; i++) s[i] = 1.5 * TRUE_COVS[i];
    const mk_mixture current = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                                .weights = w, .means = mu, .covs = s};
    const mk_mixture_out next = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                                 .weights = w, .means = mu, .covs = s};

    const size_t stats_len = mk_gmm_stats_len(&current);
    const size_t work_len = max_size(mk_gmm_accumulate_work_len(n, D, &current),
                                     mk_gmm_m_step_work_len(&next));
    double *stats = malloc(stats_len * sizeof(double));
    double *work = malloc(work_len * sizeof(double));
    if (stats == NULL || work == NULL) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    const mk_gmm_fit_options options = mk_gmm_fit_options_default(); /* reg_covar 1e-6 */
    unsigned long long total_n = n;
    MPI_Allreduce(MPI_IN_PLACE, &total_n, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("mixkern %s\n", mk_version());
        printf("ranks: %d samples: %llu statistics: %zu doubles per iteration\n", size, total_n,
               stats_len);
    }
    for (int t = 0; t < iterations; t++) {
        for (size_t i = 0; i < stats_len; i++) stats[i] = 0.0;
        CHECK(mk_gmm_accumulate(x, n, D, NULL, &current, stats, work, work_len));
        MPI_Allreduce(MPI_IN_PLACE, stats, (int)stats_len, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        /* The last three entries: samples, sum of weights, log-likelihood. */
        if (rank == 0) {
            printf("trace %d %.17g\n", t, stats[stats_len - 1] / stats[stats_len - 2]);
        }
        mk_gmm_m_step_report report;
        CHECK(mk_gmm_m_step(stats, NULL, &options, &next, work, work_len, &report));
    }
    if (rank == 0) {
        printf("weights:");
        for (size_t i = 0; i < K; i++) printf(" %.17g", w[i]);
        printf("\nmeans:");
        for (size_t i = 0; i < K * D; i++) printf(" %.17g", mu[i]);
        printf("\ncovs:");
        for (size_t i = 0; i < K * D * D; i++) printf(" %.17g", s[i]);
        printf("\n");
    }
    free(work);
    free(stats);
    free(x);
    MPI_Finalize();
    return 0;
}
