/* Built by tests/c_install.rs against an installed mixkern with nothing but
 * `pkg-config --cflags --libs mixkern`: checks the run-time version against the header's, and
 * computes one log-likelihood through the library. */
#include <stdio.h>

#include <mixkern.h>

int main(void) {
    if (mk_check_version(MK_VERSION_MAJOR, MK_VERSION_MINOR) != MK_STATUS_OK) {
        fprintf(stderr, "version mismatch: library %s\n", mk_version());
        return 1;
    }
    const double w[1] = {1.0}, mu[1] = {0.0}, var[1] = {1.0}, x[1] = {0.0};
    const mk_mixture standard_normal = {.k = 1, .d = 1, .cov_kind = MK_COV_DIAG,
                                        .weights = w, .means = mu, .covs = var};
    double work[256], total = 0.0;
    size_t work_len = mk_gmm_log_likelihood_work_len(1, 1, &standard_normal);
    if (work_len > sizeof work / sizeof work[0]) {
        return 1;
    }
    int32_t status = mk_gmm_log_likelihood(x, 1, 1, &standard_normal, &total, NULL, work,
                                           work_len);
    printf("version: %s\n", mk_version());
    printf("status: %d\n", (int)status);
    /* log N(0; 0, 1) = -ln(2 pi) / 2 */
    printf("log_density_at_0: %.17g\n", total);
    return status == MK_STATUS_OK ? 0 : 1;
}
