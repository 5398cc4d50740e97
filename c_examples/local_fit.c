/*
 * What an edge node runs, through the C ABI: simulate n = 5000 samples from a 3-component
 * Gaussian mixture in d = 4, fit a mixture by EM from a k-means++ start, and print the
 * log-likelihood, the iterations and the L2 distance between the fit and the truth.
 *
 * Build (after `make`, or against an installed mixkern with `pkg-config --cflags --libs mixkern`):
 *   cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude c_examples/local_fit.c \
 *      target/c/libmixkern.a -lpthread -ldl -lm -o target/local_fit
 */
#include <stdio.h>
#include <stdlib.h>

#include "mixkern.h"

#define K 3
#define D 4
#define N 5000

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

int main(void) {
    /* The truth: three well-separated components with correlated covariances. */
    const double weights[K] = {0.5, 0.3, 0.2};
    const double means[K * D] = {0.0, 0.0, 0.0, 0.0, 4.0, 4.0, 0.0, 0.0, -4.0, 3.0, 2.0, 1.0};
    const double covs[K * D * D] = {
        1.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 0.8, 0.0, 0.1, 0.0, 0.0, 1.2,
        0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5,
        2.0, -0.5, 0.0, 0.0, -0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.3, 1.0,
    };

    CHECK(mk_check_version(MK_VERSION_MAJOR, MK_VERSION_MINOR));
    const mk_mixture truth = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                              .weights = weights, .means = means, .covs = covs};
    double fit_weights[K], fit_means[K * D], fit_covs[K * D * D];
    const mk_mixture_out fit = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                                .weights = fit_weights, .means = fit_means, .covs = fit_covs};
    const mk_mixture fitted = {.k = K, .d = D, .cov_kind = MK_COV_FULL,
                               .weights = fit_weights, .means = fit_means, .covs = fit_covs};

    size_t work_len = max_size(mk_gmm_fit_work_len(N, D, &fit),
                               max_size(mk_gmm_simulate_work_len(&truth, N),
                                        mk_l2_distance_sq_work_len(&fitted, &truth)));
    double *work = malloc(work_len * sizeof(double));
    double *x = malloc((size_t)N * D * sizeof(double));
    if (work == NULL || x == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    CHECK(mk_gmm_simulate(&truth, N, 7, x, NULL, work, work_len));

    mk_gmm_fit_options options = mk_gmm_fit_options_default(); /* k-means++ start */
    options.seed = 2026;
    options.tol = 1e-8;
    options.max_iter = 200;
    mk_gmm_fit_report report;
    CHECK(mk_gmm_fit(x, N, D, NULL, &options, &fit, NULL, NULL, NULL, work, work_len, &report));

    double l2 = 0.0;
    CHECK(mk_l2_distance(&fitted, &truth, &l2, work, work_len));

    printf("mixkern %s\n", mk_version());
    printf("data: n=%d d=%d k=%d\n", N, D, K);
    printf("log_likelihood: %.17g\n", report.log_likelihood);
    printf("mean_log_likelihood: %.17g\n", report.mean_log_likelihood);
    printf("iterations: %zu\n", report.iterations);
    printf("converged: %d\n", (int)report.converged);
    printf("l2_to_truth: %.17g\n", l2);
    printf("weights:");
    for (size_t c = 0; c < K; c++) {
        printf(" %.17g", fit_weights[c]);
    }
    printf("\n");

    free(work);
    free(x);
    return 0;
}
