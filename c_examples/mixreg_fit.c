/*
 * Mixtures of K = 3 linear regressions through the C ABI, grouped and not.
 *
 * m = 300 nodes of n = 20 samples; node j's samples all follow component j % 3:
 * y = b0_k + x^T beta_k + sigma_k eps, x ~ N(0, I_4). (x and eps are drawn with
 * mk_gmm_simulate from standard normals, seeded.)
 *
 * 1. Grouped (flexmix's y ~ x | node): the node statistics in one pass, then EM on them from the
 *    node least-squares start, without knowing the truth.
 * 2. Ungrouped (mixtools' regmixEM): EM streaming over the samples from 5 seeded random starts.
 *
 * Build (after `make`):
 *   cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude c_examples/mixreg_fit.c \
 *      target/c/libmixkern.a -lpthread -ldl -lm -o target/mixreg_fit
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mixkern.h"

#define K 3
#define D 4
#define P (D + 1)
#define M 300
#define N_NODE 20
#define N (M * N_NODE)

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

/* The truth: intercept first, then the four slopes; noise standard deviations. */
static const double TRUE_COEFS[K * P] = {
    1.0,  2.0, -1.0, 0.5, 0.0,  /* component 0 */
    -1.0, -2.0, 1.0, 0.0, 1.5,  /* component 1 */
    0.0,  0.0, 2.5, -2.0, -1.0, /* component 2 */
};
static const double TRUE_SIGMA[K] = {0.5, 0.8, 0.6};

/* Largest absolute coefficient error after matching each fitted component to the closest
 * true one (by intercept-and-slope distance). */
static double coef_error(const double *coefs) {
    double worst = 0.0;
    for (size_t a = 0; a < K; a++) {
        double best = INFINITY, err = 0.0;
        for (size_t b = 0; b < K; b++) {
            double dist = 0.0, e = 0.0;
            for (size_t t = 0; t < P; t++) {
                double diff = coefs[a * P + t] - TRUE_COEFS[b * P + t];
                dist += diff * diff;
                e = fabs(diff) > e ? fabs(diff) : e;
            }
            if (dist < best) {
                best = dist;
                err = e;
            }
        }
        worst = err > worst ? err : worst;
    }
    return worst;
}

static void print_fit(const char *name, const double *w, const double *coefs,
                      const double *sigma2, const mk_mixreg_report *r) {
    printf("%s: loglik=%.10e iterations=%zu converged=%d restart=%zu bic=%.6e "
           "coef_error=%.6e\n",
           name, r->log_likelihood, r->iterations, (int)r->converged, r->best_restart, r->bic,
           coef_error(coefs));
    for (size_t k = 0; k < K; k++) {
        printf("%s component %zu: weight=%.6f sigma=%.6f coefs:", name, k, w[k], sqrt(sigma2[k]));
        for (size_t t = 0; t < P; t++) {
            printf(" %.6f", coefs[k * P + t]);
        }
        printf("\n");
    }
}

int main(void) {
    static double x[N * D], eps[N], y[N];
    static size_t node_sizes[M];
    const double one = 1.0, zero[D] = {0.0}, var[D] = {1.0, 1.0, 1.0, 1.0};
    const mk_mixture normal_d = {.k = 1, .d = D, .cov_kind = MK_COV_DIAG,
                                 .weights = &one, .means = zero, .covs = var};
    const mk_mixture normal_1 = {.k = 1, .d = 1, .cov_kind = MK_COV_DIAG,
                                 .weights = &one, .means = zero, .covs = var};
    const size_t sim_len = mk_gmm_simulate_work_len(&normal_d, N);
    double *work_sim = malloc(sim_len * sizeof(double));
    if (work_sim == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* Data: x ~ N(0, I) and eps ~ N(0, 1) from one-component diagonal mixtures. */
    CHECK(mk_gmm_simulate(&normal_d, N, 11, x, NULL, work_sim, sim_len));
    CHECK(mk_gmm_simulate(&normal_1, N, 12, eps, NULL, work_sim, sim_len));
    free(work_sim);
    for (size_t j = 0; j < M; j++) {
        node_sizes[j] = N_NODE;
        const size_t k = j % K;
        for (size_t i = j * N_NODE; i < (j + 1) * N_NODE; i++) {
            double v = TRUE_COEFS[k * P];
            for (size_t t = 0; t < D; t++) {
                v += x[i * D + t] * TRUE_COEFS[k * P + 1 + t];
            }
            y[i] = v + TRUE_SIGMA[k] * eps[i];
        }
    }

    mk_mixreg_options options = mk_mixreg_options_default();
    double w[K], coefs[K * P], sigma2[K];
    const mk_mixreg_out fit = {.k = K, .d = D, .intercept = 1,
                               .weights = w, .coefs = coefs, .sigma2 = sigma2};
    mk_mixreg_report report;

    /* 1. Grouped: statistics once, then EM on them. */
    const size_t stats_len = M * mk_mixreg_node_stats_len(D, 1);
    const size_t ungrouped_len = mk_mixreg_fit_work_len(N, D, &fit);
    const size_t grouped_len = mk_mixreg_fit_grouped_work_len(M, D, &fit);
    const size_t work_len = ungrouped_len > grouped_len ? ungrouped_len : grouped_len;
    double *stats = malloc(stats_len * sizeof(double));
    double *work = malloc(work_len * sizeof(double));
    double *posteriors = malloc(M * K * sizeof(double));
    if (stats == NULL || work == NULL || posteriors == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    CHECK(mk_mixreg_node_statistics(x, N, D, y, node_sizes, M, 1, stats));
    options.init = MK_MIXREG_INIT_NODE_LEAST_SQUARES;
    CHECK(mk_mixreg_fit_grouped(stats, M, D, &options, NULL, &fit, posteriors, NULL, work,
                                work_len, &report));
    printf("mixkern %s\n", mk_version());
    printf("data: m=%d n=%d d=%d k=%d intercept=1\n", M, N_NODE, D, K);
    print_fit("grouped", w, coefs, sigma2, &report);
    /* How sure the fit is of each node's component: the smallest winning posterior. */
    double least_sure = 1.0;
    for (size_t j = 0; j < M; j++) {
        double top = 0.0;
        for (size_t k = 0; k < K; k++) {
            top = posteriors[j * K + k] > top ? posteriors[j * K + k] : top;
        }
        least_sure = top < least_sure ? top : least_sure;
    }
    printf("grouped least_sure_node_posterior=%.6f\n", least_sure);

    /* 2. Ungrouped: every sample its own label, random restarts. */
    options.init = MK_MIXREG_INIT_RANDOM;
    options.n_init = 5;
    options.seed = 2026;
    CHECK(mk_mixreg_fit(x, N, D, y, &options, NULL, &fit, NULL, NULL, work, work_len,
                        &report));
    print_fit("ungrouped", w, coefs, sigma2, &report);

    free(posteriors);
    free(work);
    free(stats);
    return 0;
}
