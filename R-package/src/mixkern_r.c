/*
 * The .Call entry points of the R package: each converts R vectors to the C API's arrays and
 * descriptors (include/mixkern.h), calls mixkern, and returns R vectors.
 *
 * Conventions. The R side (the files in R/) checks types, dimensions and missing values, and
 * passes matrices already in mixkern's row-major order (t(x)), so this file only converts.
 * Scratch comes from R_alloc (released by R when the call returns, also after an error). A status
 * other than MK_STATUS_OK becomes an R error carrying mk_status_str's message; R errors are
 * raised only here, never inside mixkern, so no R longjmp crosses Rust frames.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>

#include "mixkern.h"

/* ------------------------------------------------------------------ helpers */

static void stop_on(int32_t status, const char *what)
{
    if (status != MK_STATUS_OK)
        Rf_error("%s: %s", what, mk_status_str(status));
}

static double *scratch(size_t len, const char *what)
{
    if (len == 0)
        Rf_error("%s: the sizes are out of range (no workspace length)", what);
    return (double *)R_alloc(len, sizeof(double));
}

/* The element `name` of a named list (the R side always passes every name). */
static SEXP field(SEXP list, const char *name)
{
    SEXP names = Rf_getAttrib(list, R_NamesSymbol);
    for (R_xlen_t i = 0; i < Rf_xlength(list); i++)
        if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0)
            return VECTOR_ELT(list, i);
    Rf_error("internal error: option '%s' missing", name);
    return R_NilValue;
}

static double real_field(SEXP list, const char *name)
{
    return Rf_asReal(field(list, name));
}

/* A whole number in [0, 2^53] given as an R double or integer (sizes, counts, seeds). */
static uint64_t whole(SEXP value, const char *name)
{
    double v = Rf_asReal(value);
    if (!(v >= 0.0 && v <= 9007199254740992.0 && v == floor(v)))
        Rf_error("'%s' must be a whole number between 0 and 2^53", name);
    return (uint64_t)v;
}

static uint64_t whole_field(SEXP list, const char *name)
{
    return whole(field(list, name), name);
}

/* NULL or a double vector's data. */
static const double *optional_real(SEXP v)
{
    return Rf_isNull(v) ? NULL : REAL(v);
}

static SEXP real_vector(const double *values, size_t len)
{
    SEXP out = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)len));
    if (len > 0)
        memcpy(REAL(out), values, len * sizeof(double));
    UNPROTECT(1);
    return out;
}

/* A named list of `len` elements whose values the caller sets with SET_VECTOR_ELT. */
static SEXP named_list(const char **names, int len)
{
    SEXP out = PROTECT(Rf_allocVector(VECSXP, len));
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, len));
    for (int i = 0; i < len; i++)
        SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
}

static size_t cov_len(size_t d, int32_t kind)
{
    return kind == MK_COV_FULL ? d * d : d;
}

/* A mixture passed from R as list(k, d, kind, weights, means, covs), arrays row-major. */
static mk_mixture mixture_arg(SEXP mix)
{
    mk_mixture g = {
        .k = (size_t)whole_field(mix, "k"),
        .d = (size_t)whole_field(mix, "d"),
        .cov_kind = Rf_asInteger(field(mix, "kind")),
        .weights = REAL(field(mix, "weights")),
        .means = REAL(field(mix, "means")),
        .covs = REAL(field(mix, "covs")),
    };
    if ((size_t)Rf_xlength(field(mix, "weights")) != g.k ||
        (size_t)Rf_xlength(field(mix, "means")) != g.k * g.d ||
        (size_t)Rf_xlength(field(mix, "covs")) != g.k * cov_len(g.d, g.cov_kind))
        Rf_error("internal error: mixture arrays of the wrong length");
    return g;
}

static SEXP mixture_value(size_t k, size_t d, int32_t kind, const double *weights,
                          const double *means, const double *covs)
{
    const char *names[] = {"k", "d", "kind", "weights", "means", "covs"};
    SEXP out = PROTECT(named_list(names, 6));
    SET_VECTOR_ELT(out, 0, Rf_ScalarReal((double)k));
    SET_VECTOR_ELT(out, 1, Rf_ScalarReal((double)d));
    SET_VECTOR_ELT(out, 2, Rf_ScalarInteger(kind));
    SET_VECTOR_ELT(out, 3, real_vector(weights, k));
    SET_VECTOR_ELT(out, 4, real_vector(means, k * d));
    SET_VECTOR_ELT(out, 5, real_vector(covs, k * cov_len(d, kind)));
    UNPROTECT(1);
    return out;
}

/* ------------------------------------------------------------------ library */

SEXP mkr_version(void)
{
    if (mk_check_version(MK_VERSION_MAJOR, MK_VERSION_MINOR) != MK_STATUS_OK)
        Rf_error("the mixkern library (%s) does not match its header (%d.%d)", mk_version(),
                 MK_VERSION_MAJOR, MK_VERSION_MINOR);
    return Rf_mkString(mk_version());
}

SEXP mkr_status_messages(SEXP codes)
{
    R_xlen_t m = Rf_xlength(codes);
    SEXP out = PROTECT(Rf_allocVector(STRSXP, m));
    for (R_xlen_t i = 0; i < m; i++)
        SET_STRING_ELT(out, i, Rf_mkChar(mk_status_str(INTEGER(codes)[i])));
    UNPROTECT(1);
    return out;
}

/* ------------------------------------------------------------------ Gaussian mixtures */

SEXP mkr_gmm_defaults(void)
{
    mk_gmm_fit_options o = mk_gmm_fit_options_default();
    const char *names[] = {"reg_covar", "tol", "max_iter", "n_init", "kmeans_iter",
                           "seed", "prior_samples", "threads"};
    SEXP out = PROTECT(named_list(names, 8));
    SET_VECTOR_ELT(out, 0, Rf_ScalarReal(o.reg_covar));
    SET_VECTOR_ELT(out, 1, Rf_ScalarReal(o.tol));
    SET_VECTOR_ELT(out, 2, Rf_ScalarReal((double)o.max_iter));
    SET_VECTOR_ELT(out, 3, Rf_ScalarReal((double)o.n_init));
    SET_VECTOR_ELT(out, 4, Rf_ScalarReal((double)o.kmeans_iter));
    SET_VECTOR_ELT(out, 5, Rf_ScalarReal((double)o.seed));
    SET_VECTOR_ELT(out, 6, Rf_ScalarReal(o.prior_samples));
    SET_VECTOR_ELT(out, 7, Rf_ScalarReal((double)o.threads));
    UNPROTECT(1);
    return out;
}

/*
 * x: n*d doubles, row-major; weights: n doubles or NULL; k, kind; opts: the named list of
 * mkr_gmm_defaults plus penalized; start: NULL or list(weights, means, covs) (any NULL) or
 * list(resp) (n*K, row-major).
 */
SEXP mkr_gmm_fit(SEXP x, SEXP n_, SEXP d_, SEXP weights, SEXP k_, SEXP kind_, SEXP opts,
                 SEXP start)
{
    size_t n = (size_t)whole(n_, "n"), d = (size_t)whole(d_, "d"), k = (size_t)whole(k_, "G");
    int32_t kind = Rf_asInteger(kind_);
    mk_gmm_fit_options o = mk_gmm_fit_options_default();
    o.penalized = Rf_asLogical(field(opts, "penalized")) == TRUE;
    o.prior_samples = real_field(opts, "prior_samples");
    o.seed = whole_field(opts, "seed");
    o.reg_covar = real_field(opts, "reg_covar");
    o.tol = real_field(opts, "tol");
    o.max_iter = (size_t)whole_field(opts, "max_iter");
    o.n_init = (size_t)whole_field(opts, "n_init");
    o.kmeans_iter = (size_t)whole_field(opts, "kmeans_iter");
    o.threads = (size_t)whole_field(opts, "threads");
    if (!Rf_isNull(start)) {
        o.init_weights = optional_real(field(start, "weights"));
        o.init_means = optional_real(field(start, "means"));
        o.init_covs = optional_real(field(start, "covs"));
        o.init_resp = optional_real(field(start, "resp"));
    }
    size_t c = cov_len(d, kind);
    double *w = (double *)R_alloc(k, sizeof(double));
    double *mu = (double *)R_alloc(k * d, sizeof(double));
    double *cv = (double *)R_alloc(k * c, sizeof(double));
    mk_mixture_out fit = {.k = k, .d = d, .cov_kind = kind, .weights = w, .means = mu, .covs = cv};
    size_t work_len = mk_gmm_fit_work_len(n, d, &fit);
    double *work = scratch(work_len, "gmm");
    double *resp = (double *)R_alloc(n * k, sizeof(double));
    size_t *labels = (size_t *)R_alloc(n, sizeof(size_t));
    double *trace = (double *)R_alloc(o.max_iter > 0 ? o.max_iter : 1, sizeof(double));
    mk_gmm_fit_report rep;
    stop_on(mk_gmm_fit(REAL(x), n, d, optional_real(weights), &o, &fit, resp, labels, trace,
                       work, work_len, &rep),
            "gmm");

    const char *names[] = {"mixture", "z", "classification", "trace", "loglik",
                           "mean_loglik", "iterations", "converged", "reseeded",
                           "regularized", "best_restart"};
    SEXP out = PROTECT(named_list(names, 11));
    SET_VECTOR_ELT(out, 0, mixture_value(k, d, kind, w, mu, cv));
    SET_VECTOR_ELT(out, 1, real_vector(resp, n * k));
    SEXP cls = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++)
        INTEGER(cls)[i] = (int)labels[i] + 1;
    SET_VECTOR_ELT(out, 2, cls);
    SET_VECTOR_ELT(out, 3, real_vector(trace, rep.iterations < o.max_iter ? rep.iterations
                                                                          : o.max_iter));
    SET_VECTOR_ELT(out, 4, Rf_ScalarReal(rep.log_likelihood));
    SET_VECTOR_ELT(out, 5, Rf_ScalarReal(rep.mean_log_likelihood));
    SET_VECTOR_ELT(out, 6, Rf_ScalarReal((double)rep.iterations));
    SET_VECTOR_ELT(out, 7, Rf_ScalarLogical(rep.converged != 0));
    SET_VECTOR_ELT(out, 8, Rf_ScalarReal((double)rep.reseeded));
    SET_VECTOR_ELT(out, 9, Rf_ScalarReal((double)rep.regularized));
    SET_VECTOR_ELT(out, 10, Rf_ScalarReal((double)rep.best_restart + 1));
    UNPROTECT(2);
    return out;
}

/* Log-densities (n) and responsibilities (n*K, row-major) of n samples. */
SEXP mkr_gmm_predict(SEXP x, SEXP n_, SEXP d_, SEXP mix)
{
    size_t n = (size_t)whole(n_, "n"), d = (size_t)whole(d_, "d");
    mk_mixture g = mixture_arg(mix);
    size_t work_len = mk_gmm_responsibilities_work_len(n, d, &g);
    if (mk_gmm_log_density_work_len(n, d, &g) > work_len)
        work_len = mk_gmm_log_density_work_len(n, d, &g);
    double *work = scratch(work_len, "predict");
    double *logdens = (double *)R_alloc(n, sizeof(double));
    double *resp = (double *)R_alloc(n * g.k, sizeof(double));
    stop_on(mk_gmm_log_density(REAL(x), n, d, &g, logdens, work, work_len), "predict");
    stop_on(mk_gmm_responsibilities(REAL(x), n, d, &g, resp, NULL, work, work_len), "predict");

    const char *names[] = {"log_density", "z"};
    SEXP out = PROTECT(named_list(names, 2));
    SET_VECTOR_ELT(out, 0, real_vector(logdens, n));
    SET_VECTOR_ELT(out, 1, real_vector(resp, n * g.k));
    UNPROTECT(1);
    return out;
}

/* ------------------------------------------------------------------ regression mixtures */

SEXP mkr_mixreg_defaults(void)
{
    mk_mixreg_options o = mk_mixreg_options_default();
    const char *names[] = {"tol", "max_iter", "n_init", "seed"};
    SEXP out = PROTECT(named_list(names, 4));
    SET_VECTOR_ELT(out, 0, Rf_ScalarReal(o.tol));
    SET_VECTOR_ELT(out, 1, Rf_ScalarReal((double)o.max_iter));
    SET_VECTOR_ELT(out, 2, Rf_ScalarReal((double)o.n_init));
    SET_VECTOR_ELT(out, 3, Rf_ScalarReal((double)o.seed));
    UNPROTECT(1);
    return out;
}

/*
 * x: n*d row-major covariates (without the intercept column); y: n responses; node_sizes:
 * NULL (ungrouped) or m sizes of consecutive rows; opts: noise ("component", "shared",
 * "known" as 0, 1, 2), known_sigma, symmetric, init (1 node least squares, 2 random), tol,
 * max_iter, n_init, seed; start: NULL or list(weights, coefs (K*p row-major), sigma2).
 */
SEXP mkr_mixreg_fit(SEXP x, SEXP n_, SEXP d_, SEXP y, SEXP node_sizes, SEXP k_, SEXP intercept_,
                    SEXP opts, SEXP start)
{
    size_t n = (size_t)whole(n_, "n"), d = (size_t)whole(d_, "d"), k = (size_t)whole(k_, "K");
    int32_t intercept = Rf_asLogical(intercept_) == TRUE;
    size_t p = d + (size_t)intercept;
    mk_mixreg_options o = mk_mixreg_options_default();
    o.noise = Rf_asInteger(field(opts, "noise"));
    o.known_sigma = real_field(opts, "known_sigma");
    o.symmetric = Rf_asLogical(field(opts, "symmetric")) == TRUE;
    o.init = Rf_asInteger(field(opts, "init"));
    o.tol = real_field(opts, "tol");
    o.max_iter = (size_t)whole_field(opts, "max_iter");
    o.n_init = (size_t)whole_field(opts, "n_init");
    o.seed = whole_field(opts, "seed");
    mk_mixreg st;
    const mk_mixreg *start_ptr = NULL;
    if (!Rf_isNull(start)) {
        st = (mk_mixreg){.k = k, .d = d, .intercept = intercept,
                         .weights = REAL(field(start, "weights")),
                         .coefs = REAL(field(start, "coefs")),
                         .sigma2 = REAL(field(start, "sigma2"))};
        start_ptr = &st;
    }
    double *w = (double *)R_alloc(k, sizeof(double));
    double *coefs = (double *)R_alloc(k * p, sizeof(double));
    double *s2 = (double *)R_alloc(k, sizeof(double));
    mk_mixreg_out fit = {.k = k, .d = d, .intercept = intercept, .weights = w, .coefs = coefs,
                         .sigma2 = s2};
    double *trace = o.n_init == 1 && o.max_iter > 0
                        ? (double *)R_alloc(o.max_iter, sizeof(double))
                        : NULL;
    mk_mixreg_report rep;
    size_t rows; /* posterior rows: nodes or samples */
    double *post;
    if (Rf_isNull(node_sizes)) {
        rows = n;
        post = (double *)R_alloc(n * k, sizeof(double));
        size_t work_len = mk_mixreg_fit_work_len(n, d, &fit);
        double *work = scratch(work_len, "mixreg");
        stop_on(mk_mixreg_fit(REAL(x), n, d, REAL(y), &o, start_ptr, &fit, post, trace, work,
                              work_len, &rep),
                "mixreg");
    } else {
        size_t m = (size_t)Rf_xlength(node_sizes);
        size_t *sizes = (size_t *)R_alloc(m, sizeof(size_t));
        for (size_t j = 0; j < m; j++)
            sizes[j] = (size_t)INTEGER(node_sizes)[j];
        size_t per_node = mk_mixreg_node_stats_len(d, intercept);
        double *stats = scratch(m * per_node, "mixreg");
        stop_on(mk_mixreg_node_statistics(REAL(x), n, d, REAL(y), sizes, m, intercept, stats),
                "mixreg");
        rows = m;
        post = (double *)R_alloc(m * k, sizeof(double));
        size_t work_len = mk_mixreg_fit_grouped_work_len(m, d, &fit);
        double *work = scratch(work_len, "mixreg");
        stop_on(mk_mixreg_fit_grouped(stats, m, d, &o, start_ptr, &fit, post, trace, work,
                                      work_len, &rep),
                "mixreg");
    }

    const char *names[] = {"weights", "coefs", "sigma2", "posterior", "trace", "loglik",
                           "iterations", "converged", "best_restart", "bic", "emptied",
                           "sigma_floored"};
    SEXP out = PROTECT(named_list(names, 12));
    SET_VECTOR_ELT(out, 0, real_vector(w, k));
    SET_VECTOR_ELT(out, 1, real_vector(coefs, k * p));
    SET_VECTOR_ELT(out, 2, real_vector(s2, k));
    SET_VECTOR_ELT(out, 3, real_vector(post, rows * k));
    size_t t = rep.iterations < o.max_iter ? rep.iterations : o.max_iter;
    SET_VECTOR_ELT(out, 4, trace ? real_vector(trace, t) : R_NilValue);
    SET_VECTOR_ELT(out, 5, Rf_ScalarReal(rep.log_likelihood));
    SET_VECTOR_ELT(out, 6, Rf_ScalarReal((double)rep.iterations));
    SET_VECTOR_ELT(out, 7, Rf_ScalarLogical(rep.converged != 0));
    SET_VECTOR_ELT(out, 8, Rf_ScalarReal((double)rep.best_restart + 1));
    SET_VECTOR_ELT(out, 9, Rf_ScalarReal(rep.bic));
    SET_VECTOR_ELT(out, 10, Rf_ScalarReal((double)rep.emptied));
    SET_VECTOR_ELT(out, 11, Rf_ScalarReal((double)rep.sigma_floored));
    UNPROTECT(1);
    return out;
}

/* ------------------------------------------------------------------ wire format */

SEXP mkr_wire_encode(SEXP mix, SEXP sample_size)
{
    mk_mixture g = mixture_arg(mix);
    size_t len = mk_wire_message_len(&g);
    if (len == 0)
        Rf_error("encode_fit: the mixture's shape is out of range");
    SEXP out = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t)len));
    size_t written;
    stop_on(mk_wire_encode(&g, whole(sample_size, "n"), RAW(out), len, &written), "encode_fit");
    UNPROTECT(1);
    return out;
}

SEXP mkr_wire_decode(SEXP message)
{
    const uint8_t *bytes = RAW(message);
    size_t len = (size_t)Rf_xlength(message);
    mk_wire_header h;
    stop_on(mk_wire_read_header(bytes, len, &h), "decode_message");
    size_t c = cov_len(h.d, h.cov_kind);
    double *w = (double *)R_alloc(h.k, sizeof(double));
    double *mu = (double *)R_alloc(h.k * h.d, sizeof(double));
    double *cv = (double *)R_alloc(h.k * c, sizeof(double));
    mk_mixture_out g = {.k = h.k, .d = h.d, .cov_kind = h.cov_kind, .weights = w, .means = mu,
                        .covs = cv};
    size_t work_len = mk_wire_decode_work_len(len, &g);
    double *work = scratch(work_len, "decode_message");
    uint64_t n;
    stop_on(mk_wire_decode(bytes, len, &g, &n, work, work_len), "decode_message");
    const char *names[] = {"mixture", "n"};
    SEXP out = PROTECT(named_list(names, 2));
    SET_VECTOR_ELT(out, 0, mixture_value(h.k, h.d, h.cov_kind, w, mu, cv));
    SET_VECTOR_ELT(out, 1, Rf_ScalarReal((double)n));
    UNPROTECT(1);
    return out;
}

/* ------------------------------------------------------------------ aggregation */

/*
 * messages: a list of m raw vectors (NULL or raw(0): a missing message); method: an MK_AGG_*
 * code; paper: TRUE for mk_aggregate_options_paper(); rho, trim_alpha: NA for the default.
 */
SEXP mkr_aggregate(SEXP messages, SEXP method, SEXP paper, SEXP rho, SEXP trim_alpha)
{
    size_t m = (size_t)Rf_xlength(messages);
    if (m == 0)
        Rf_error("aggregate_fits: no messages");
    const uint8_t **msgs = (const uint8_t **)R_alloc(m, sizeof(uint8_t *));
    size_t *lens = (size_t *)R_alloc(m, sizeof(size_t));
    for (size_t i = 0; i < m; i++) {
        SEXP v = VECTOR_ELT(messages, (R_xlen_t)i);
        msgs[i] = Rf_isNull(v) || Rf_xlength(v) == 0 ? NULL : RAW(v);
        lens[i] = Rf_isNull(v) ? 0 : (size_t)Rf_xlength(v);
    }
    size_t k, d;
    int32_t kind;
    stop_on(mk_wire_majority_shape(msgs, lens, m, &k, &d, &kind),
            "aggregate_fits: learning the shape from the messages");
    mk_aggregate_options o = Rf_asLogical(paper) == TRUE ? mk_aggregate_options_paper()
                                                         : mk_aggregate_options_default();
    o.method = Rf_asInteger(method);
    if (!ISNA(Rf_asReal(rho)))
        o.rho = Rf_asReal(rho);
    if (!ISNA(Rf_asReal(trim_alpha)))
        o.trim_alpha = Rf_asReal(trim_alpha);
    size_t c = cov_len(d, kind);
    double *w = (double *)R_alloc(k, sizeof(double));
    double *mu = (double *)R_alloc(k * d, sizeof(double));
    double *cv = (double *)R_alloc(k * c, sizeof(double));
    mk_mixture_out agg = {.k = k, .d = d, .cov_kind = kind, .weights = w, .means = mu,
                          .covs = cv};
    size_t work_len = mk_aggregate_messages_work_len(m, &agg);
    double *work = scratch(work_len, "aggregate_fits");
    SEXP status = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)m));
    for (size_t i = 0; i < m; i++)
        INTEGER(status)[i] = MK_STATUS_OK;
    uint8_t *selected = (uint8_t *)R_alloc(m, 1);
    double *dist = (double *)R_alloc(m, sizeof(double));
    mk_aggregate_report rep;
    int32_t s = mk_aggregate_messages(msgs, lens, m, &o, INTEGER(status), selected, dist, &agg,
                                      work, work_len, &rep);
    if (s == MK_STATUS_NO_MAJORITY) {
        /* The per-machine statuses are written: name them in the error. */
        SEXP why = PROTECT(mkr_status_messages(status));
        char buf[1024];
        size_t used = 0;
        for (size_t i = 0; i < m && used + 64 < sizeof buf; i++)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%zu: %s",
                                     i ? "; " : "", i + 1, CHAR(STRING_ELT(why, (R_xlen_t)i)));
        Rf_error("aggregate_fits: %s (machine statuses: %s)", mk_status_str(s), buf);
    }
    stop_on(s, "aggregate_fits");
    /* rho 0 in the options is the default, mk_default_rho(m). */
    double rho_used = o.rho == 0.0 ? mk_default_rho(m) : o.rho;

    const char *names[] = {"mixture", "status", "selected", "coat_distance", "coat", "radius",
                           "cut", "valid", "pooled", "kept", "rho"};
    SEXP out = PROTECT(named_list(names, 11));
    SET_VECTOR_ELT(out, 0, mixture_value(rep.reduce.kept, d, kind, w, mu, cv));
    SET_VECTOR_ELT(out, 1, status);
    SEXP sel = PROTECT(Rf_allocVector(LGLSXP, (R_xlen_t)m));
    for (size_t i = 0; i < m; i++)
        LOGICAL(sel)[i] = selected[i] != 0;
    SET_VECTOR_ELT(out, 2, sel);
    SET_VECTOR_ELT(out, 3, real_vector(dist, m));
    SET_VECTOR_ELT(out, 4, Rf_ScalarReal((double)rep.coat + 1));
    SET_VECTOR_ELT(out, 5, Rf_ScalarReal(rep.radius));
    SET_VECTOR_ELT(out, 6, Rf_ScalarReal(rho_used * rep.radius));
    SET_VECTOR_ELT(out, 7, Rf_ScalarReal((double)rep.valid));
    SET_VECTOR_ELT(out, 8, Rf_ScalarReal((double)rep.selected));
    SET_VECTOR_ELT(out, 9, Rf_ScalarReal((double)rep.reduce.kept));
    SET_VECTOR_ELT(out, 10, Rf_ScalarReal(rho_used));
    UNPROTECT(3);
    return out;
}

/* ------------------------------------------------------------------ registration */

static const R_CallMethodDef call_methods[] = {
    {"mkr_version", (DL_FUNC)&mkr_version, 0},
    {"mkr_status_messages", (DL_FUNC)&mkr_status_messages, 1},
    {"mkr_gmm_defaults", (DL_FUNC)&mkr_gmm_defaults, 0},
    {"mkr_gmm_fit", (DL_FUNC)&mkr_gmm_fit, 8},
    {"mkr_gmm_predict", (DL_FUNC)&mkr_gmm_predict, 4},
    {"mkr_mixreg_defaults", (DL_FUNC)&mkr_mixreg_defaults, 0},
    {"mkr_mixreg_fit", (DL_FUNC)&mkr_mixreg_fit, 9},
    {"mkr_wire_encode", (DL_FUNC)&mkr_wire_encode, 2},
    {"mkr_wire_decode", (DL_FUNC)&mkr_wire_decode, 1},
    {"mkr_aggregate", (DL_FUNC)&mkr_aggregate, 5},
    {NULL, NULL, 0}};

void R_init_mixkern(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
