/*
 * Clustered mixture of linear regressions, end to end through the C ABI:
 * simulate m = 200 nodes of n = 20 samples in d = 10 (SNR = 4), compute the node statistics,
 * start from the node moments (no knowledge of theta*), fit with Algorithm 2, and print the
 * error min(|theta - theta*|, |theta + theta*|) of the start, of every iteration and of the fit.
 *
 * Build (after `make`, or against an installed mixkern with `pkg-config --cflags --libs mixkern`):
 *   cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude c_examples/cmlr_fit.c \
 *      target/c/libmixkern.a -lpthread -ldl -lm -o target/cmlr_fit
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mixkern.h"

#define M 200
#define N_PER_NODE 20
#define D 10
#define MAX_ITER 50

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

/* min(|a - b|, |a + b|): theta and -theta are the same model. */
static double sign_invariant_distance(const double *a, const double *b) {
    double minus = 0.0, plus = 0.0;
    for (size_t i = 0; i < D; i++) {
        minus += (a[i] - b[i]) * (a[i] - b[i]);
        plus += (a[i] + b[i]) * (a[i] + b[i]);
    }
    return sqrt(minus < plus ? minus : plus);
}

int main(void) {
    const size_t n_total = (size_t)M * N_PER_NODE;
    const double sigma = 1.0;
    /* |theta*| = 4, so SNR = |theta*| / sigma = 4; entries +-4/sqrt(10). */
    double theta_star[D];
    for (size_t i = 0; i < D; i++) {
        theta_star[i] = (i % 2 == 0 ? 1.0 : -1.0) * 1.2649110640673518;
    }
    size_t node_sizes[M];
    for (size_t j = 0; j < M; j++) {
        node_sizes[j] = N_PER_NODE;
    }

    double *x = malloc(n_total * D * sizeof(double));
    double *y = malloc(n_total * sizeof(double));
    double *node_sums = malloc((size_t)M * D * sizeof(double));
    double sigma_chol[D * D];
    size_t work_len = mk_cmlr_fit_work_len(n_total, D, M);
    double *work = malloc(work_len * sizeof(double));
    if (x == NULL || y == NULL || node_sums == NULL || work == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    printf("mixkern %s\n", mk_version());
    printf("data: m=%d n=%d d=%d sigma=%g snr=4\n", M, N_PER_NODE, D, sigma);
    CHECK(mk_cmlr_simulate(theta_star, D, node_sizes, M, sigma, 2026, x, y, NULL));

    /* One pass over the data: node sums s_j and the factor of Sigma_hat. */
    CHECK(mk_cmlr_node_statistics(x, n_total, D, y, node_sizes, M, node_sums, sigma_chol, work,
                                  work_len));

    mk_cmlr_options options = mk_cmlr_options_default();
    options.algorithm = MK_CMLR_ALG2;
    options.sigma = sigma;
    options.tol = 1e-10;
    options.max_iter = MAX_ITER;

    /* Start from the node moments: no knowledge of theta* needed. */
    double theta[D];
    CHECK(mk_cmlr_init(node_sums, M, D, node_sizes, sigma_chol, &options, theta, work, work_len));
    printf("init_error: %.17g\n", sign_invariant_distance(theta, theta_star));

    options.init = MK_CMLR_INIT_GIVEN;
    double trace_error[MAX_ITER];
    const mk_cmlr_trace trace = {.theta_star = theta_star, .error = trace_error};
    mk_cmlr_report report;
    CHECK(mk_cmlr_fit(x, n_total, D, y, node_sizes, M, &options, theta, &trace, work, work_len,
                      &report));
    for (size_t t = 0; t < report.iterations; t++) {
        printf("iter %zu error %.17g\n", t + 1, trace_error[t]);
    }
    printf("iterations: %zu\n", report.iterations);
    printf("converged: %d\n", (int)report.converged);
    printf("error: %.17g\n", trace_error[report.iterations - 1]);
    printf("theta:");
    for (size_t i = 0; i < D; i++) {
        printf(" %.17g", theta[i]);
    }
    printf("\n");

    free(x);
    free(y);
    free(node_sums);
    free(work);
    return 0;
}
