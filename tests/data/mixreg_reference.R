#!/usr/bin/env Rscript
# R's mixtools and flexmix as oracles for mixkern's mixture of linear regressions
# (mixkern::mlr::mixreg_fit / mixreg_fit_grouped). Read by tests/mixreg_r.rs.
#
# Regenerate the committed output (Debian: apt-get install r-base-core r-cran-mixtools
# r-cran-flexmix):
#
#     Rscript tests/data/mixreg_reference.R > tests/data/mixreg_reference.txt
#
# The output is deterministic for a given R / mixtools / flexmix (versions in its header;
# made with R 4.2.2, mixtools 2.0.0, flexmix 2.3-18). Before printing anything the script
# re-runs every case with an independent plain-R EM (em_plain below) and stops unless it
# agrees with the peer to 1e-9 (relative), and runs mixtools and flexmix against each other
# on one shared ungrouped case, so the meaning of every number in the file is pinned by two
# implementations.
#
# Data
# ----
# Two seeded data sets of N = 600 samples in nodes of unequal sizes (node j owns the n_j
# rows after those of nodes 1..j-1), every node drawn from one component (the grouped
# model):
#   A: d = 2, K = 2, m = 30 nodes of 12 .. 28 samples (mean 20), pi = (0.4, 0.6),
#      theta_1 = (1, 2, -1), theta_2 = (-1, -1.5, 0.5) (intercept first), sigma = (0.5, 1);
#   B: d = 3, K = 3, m = 120 nodes of 1 .. 9 samples (mean 5), pi = (0.3, 0.3, 0.4),
#      closer components (coefficients below), sigma = (1, 1.2, 1.5): the grouped EM is
#      still moving after 25 iterations.
# x ~ N(0, 1). x and y are rounded to multiples of 2^-10 *before* they are used, so the
# printed decimals (at most 10 fractional digits, no exponent) are the exact doubles.
# Every other number is printed with "%.17g", which reads back to the same double (Rust's
# str::parse::<f64> is correctly rounded).
#
# One EM iteration (mixkern's definition): E-step at the current parameters, then M-step.
# Starting `Given` P_0 and running T iterations gives P_T; "loglik" below is the
# log-likelihood at P_T (after the last M-step), "loglik_prev" the one at P_{T-1} (the one
# the last E-step computed), "loglik_trace" the T + 1 values at P_0 .. P_T.
#
# mixtools::regmixEM (ungrouped; read with print(mixtools::regmixEM), mixtools 2.0.0)
# ----------------------------------------------------------------------------------
# regmixEM(y, x, lambda = w0, beta = B0 (p x K), sigma = s0, k = K, addintercept = TRUE,
# arbmean = TRUE, arbvar = TRUE/FALSE, epsilon = -Inf, maxit = T):
#   * regmix.init() returns the given lambda/beta/sigma unchanged when all three are given;
#   * before the loop: res = (y - X beta)^2, obsloglik = loglik at P_0;
#   * loop body: E-step z at (lambda, beta, s) (a ratio form of the usual Bayes formula),
#     lambda = colMeans(z); beta_k = lm(y ~ x, weights = z[, k]) (weighted least squares);
#     s_k = sqrt(sum(z_k res_k) / sum(z_k)) with the *new* residuals (arbvar = TRUE), or the
#     shared s = sqrt(sum(z * res) / n) (arbvar = FALSE): the ML estimates, no degrees of
#     freedom correction; then newobsloglik = loglik at the new parameters, iter += 1.
#   So one regmixEM iteration is exactly one mixkern iteration (E then M), and
#   fit$loglik = loglik at P_T, fit$all.loglik = the T + 1 values at P_0 .. P_T.
#   * The loop runs while diff > epsilon && iter < maxit: epsilon = -Inf forces T
#     iterations. A decrease of the log-likelihood (or a sigma < 1e-8) makes regmixEM throw
#     the fit away and restart from *random* values: the script stops if fit$restarts > 0
#     or length(all.loglik) != T + 1.
#   * fit$posterior is the last E-step's (at P_{T-1}): the posteriors printed (at P_T)
#     are those of the same call with maxit = T + 1. With arbvar = FALSE fit$sigma is the
#     smallest sigma (= the shared one); the components are not reordered when arbmean =
#     TRUE.
#
# flexmix (grouped: y ~ x | node; read with flexmix:::FLXfit (method "list"), FLXMRglm,
# flexmix:::initPosteriors, flexmix:::groupPosteriors; flexmix 2.3-18)
# ---------------------------------------------------------------------------------
# flexmix(y ~ x1 + .. | node, k = K, cluster = R0 (N x K), model = <driver>,
#         control = list(iter.max = T', minprior = 0, tolerance = 0)):
#   * the start R0 is a posterior matrix; groupPosteriors sums its rows within a node and
#     the rows are renormalised, so giving every row of node j the node's posterior r0_j
#     starts from r0_j;
#   * each FLXfit iteration is  M-step then E-step: prior = colMeans of the posteriors over
#     the nodes (one row per node: postscaled[groupfirst, ]), components fitted by
#     lm.wfit(X, y, w = posterior of the row's node), then the E-step at (prior, components)
#     (log densities summed within a node), and llh = log-likelihood at those parameters;
#   * tolerance = 0 never stops early (the test is "< tolerance"), minprior = 0 never drops
#     a component;
#   * the returned object holds the components of the last M-step, @logLik = llh at
#     (prior, components) of the last M-step, but @prior = colMeans of the *last E-step's*
#     posteriors, i.e. the mixing weights of the *next* M-step.
#   Correspondence: flexmix's iteration i computes Q_i = M(R_{i-1}) and R_i = E(Q_i).
#   mixkern started `Given` P_0 := Q_1 runs T iterations to P_T = Q_{T+1}. So the start
#   printed (init_*) is Q_1: init weights = colMeans(r0) and components of
#   flexmix(iter.max = 1); the expected result is P_T = Q_{T+1}: components of
#   flexmix(iter.max = T + 1), weights = flexmix(iter.max = T)@prior (= colMeans(R_T)),
#   loglik = flexmix(iter.max = T + 1)@logLik, loglik_prev = flexmix(iter.max = T)@logLik,
#   loglik_trace[i] = flexmix(iter.max = i + 1)@logLik, i = 0..T, and the posteriors at
#   P_T = flexmix(iter.max = T + 1)@posterior$scaled (one row per node).
#   * flexmix's own gaussian driver FLXMRglm() estimates
#       sigma_k = sqrt(sum(w r^2) / mean(w) / (N - rank)),
#     i.e. the ML variance times N / (N - p) (N = all samples, not sum(w)): not the ML
#     M-step, so EM with it is not the EM mixkern (or mixtools) runs. The cases here use
#     FLXMRglm() with its @fit replaced by the ML estimate sqrt(sum(w r^2) / sum(w)) (the
#     coefficients still come from lm.wfit and everything else -- the EM loop, grouping,
#     priors, log-likelihood -- is flexmix's own). The stock driver's result is printed as
#     a comment after each flexmix case, for information.
#   * Ungrouped flexmix (y ~ x1 + .., no "| node") is the same with every sample its own
#     node; it is cross-checked here against mixtools started from its Q_1.
#
# plain-R EM (em_plain; grouped and ungrouped, sigma per component, shared or known)
# -------------------------------------------------------------------------------
# Straightforward transcription of the model (E-step: log r_jk = log pi_k - (n_j / 2)
# log(2 pi s2_k) - RSS_jk / (2 s2_k), normalised per node; M-step: pi_k = mean over nodes
# of r_jk, theta_k = WLS with each sample weighted by its node's r_jk, s2_k = sum_j r_jk
# RSS_jk / sum_j r_jk n_j; shared: s2 = sum_jk r_jk RSS_jk / N; known: s2 fixed). It checks
# every peer case, and gives the cases no peer has (grouped shared / known noise; peer
# "plainR").
#
# Output format (one item per line, whitespace separated, '#' starts a comment line)
# ---------------------------------------------------------------------------------
#   data <name> <n> <d> <m>
#   x <n*d, row-major>
#   y <n>
#   node_sizes <m>
#   enddata
#   case <name> <peer> <data> <grouped|ungrouped> <k> <intercept 0|1>
#        <per_component|shared|known> <known sigma (standard deviation) or 0> <iterations T>
#   init_weights <k>
#   init_coefs <k*p>          component-major, intercept first (mixkern's layout)
#   init_sigma2 <k>           variances (shared/known: k equal values)
#   weights <k>               at P_T
#   coefs <k*p>
#   sigma2 <k>
#   loglik <1>                at P_T
#   loglik_prev <1>           at P_{T-1}
#   loglik_trace <T+1>        at P_0 .. P_T
#   bic <1>                   -2 loglik + df ln(N) at P_T, N = the number of samples (also
#                             for grouped fits: flexmix's nobs), df = (K - 1) + K p + (K
#                             per component, 1 shared, 0 known); for the flexmix cases the
#                             script checks that this is flexmix's BIC(fit)
#   posteriors <m*k or n*k>   at P_T (node- or sample-major), what the E-step of an
#                             iteration T + 1 would compute
#   end

suppressPackageStartupMessages({
  library(mixtools)
  library(flexmix)
})

fmt <- function(v) paste(sprintf("%.17g", v), collapse = " ")
fmt_exact <- function(v) {
  # v are multiples of 2^-10: 10 fractional digits are exact; drop trailing zeros.
  s <- sprintf("%.10f", v)
  s <- sub("0+$", "", s)
  s <- sub("\\.$", "", s)
  stopifnot(all(as.numeric(s) == v))
  paste(s, collapse = " ")
}
q10 <- function(v) round(v * 1024) / 1024
rel <- function(a, b) max(abs(a - b)) / max(abs(b))
out <- character(0)
emit <- function(...) out <<- c(out, paste0(...))

# ---------------------------------------------------------------- data
make_data <- function(seed, d, k, pis, coefs, sigmas, sizes) {
  set.seed(seed)
  m <- length(sizes)
  n <- sum(sizes)
  node <- rep(seq_len(m), sizes)
  x <- q10(matrix(rnorm(n * d), n, d))
  lab_node <- sample(seq_len(k), m, replace = TRUE, prob = pis)
  lab <- lab_node[node]
  X1 <- cbind(1, x)
  mu <- rowSums(X1 * t(coefs)[lab, , drop = FALSE])
  y <- q10(mu + sigmas[lab] * rnorm(n))
  list(x = x, y = y, d = d, n = n, m = m, node = node, sizes = sizes, lab_node = lab_node)
}
coefsA <- cbind(c(1, 2, -1), c(-1, -1.5, 0.5))          # p x K
coefsB <- cbind(c(1, 1, -1, 0.5), c(-0.5, -1, 1, 0), c(0, 0.5, 0.5, -1))
dataA <- make_data(20240601, 2, 2, c(0.4, 0.6), coefsA, c(0.5, 1.0),
                   20 + rep(c(-8, -4, 0, 4, 8), 6))
dataB <- make_data(20240602, 3, 3, c(0.3, 0.3, 0.4), coefsB, c(1.0, 1.2, 1.5),
                   5 + rep(c(-4, -2, 0, 2, 4), 24))
datasets <- list(A = dataA, B = dataB)

# ---------------------------------------------------------------- plain-R EM
# Parameters: w (K), B (p x K), s2 (K). Returns P_T, the trace at P_0..P_T and the last
# E-step's posteriors.
em_plain <- function(D, grouped, w, B, s2, T, noise = "per_component") {
  X1 <- cbind(1, D$x)
  y <- D$y
  node <- if (grouped) D$node else seq_len(D$n)
  m <- max(node)
  nn <- as.vector(tabulate(node, m))
  K <- length(w)
  estep <- function(w, B, s2) {
    res2 <- (y - X1 %*% B)^2                                      # n x K
    rss <- rowsum(res2, node, reorder = TRUE)                    # m x K
    lr <- sapply(seq_len(K), function(k)
      log(w[k]) - nn / 2 * log(2 * pi * s2[k]) - rss[, k] / (2 * s2[k]))
    lr <- matrix(lr, m, K)
    mx <- apply(lr, 1, max)
    lse <- mx + log(rowSums(exp(lr - mx)))
    list(r = exp(lr - lse), ll = sum(lse))
  }
  trace <- numeric(0)
  r <- NULL
  for (t in seq_len(T)) {
    e <- estep(w, B, s2)
    trace <- c(trace, e$ll)
    r <- e$r
    w <- colMeans(r)
    rs <- r[node, , drop = FALSE]                                # per-sample weights
    for (k in seq_len(K)) {
      sw <- sqrt(rs[, k])
      B[, k] <- qr.coef(qr(X1 * sw), y * sw)
    }
    res2 <- (y - X1 %*% B)^2
    if (noise == "per_component") {
      s2 <- colSums(rs * res2) / colSums(rs)
    } else if (noise == "shared") {
      s2 <- rep(sum(rs * res2) / D$n, K)
    }
  }
  e <- estep(w, B, s2)
  list(w = w, B = B, s2 = s2, trace = c(trace, e$ll), r = e$r)
}

check <- function(name, what, a, b, tol = 1e-9) {
  e <- rel(a, b)
  if (!(e < tol)) stop(sprintf("%s: %s differs from plain-R EM by %.3g", name, what, e))
  e
}

emit_case <- function(name, peer, dname, grouped, K, noise, known, T,
                      w0, B0, s20, res, comments = character(0)) {
  D <- datasets[[dname]]
  emit("case ", name, " ", peer, " ", dname, " ", if (grouped) "grouped" else "ungrouped",
       " ", K, " 1 ", noise, " ", sprintf("%.17g", known), " ", T)
  emit("init_weights ", fmt(w0))
  emit("init_coefs ", fmt(as.vector(B0)))
  emit("init_sigma2 ", fmt(s20))
  emit("weights ", fmt(res$w))
  emit("coefs ", fmt(as.vector(res$B)))
  emit("sigma2 ", fmt(res$s2))
  emit("loglik ", fmt(res$ll))
  emit("loglik_prev ", fmt(res$ll_prev))
  emit("loglik_trace ", fmt(res$trace))
  p <- D$d + 1
  df <- (K - 1) + K * p + switch(noise, per_component = K, shared = 1, known = 0)
  bic <- -2 * res$ll + df * log(D$n)
  if (!is.null(res$bic) && !(abs(bic - res$bic) <= 1e-12 * abs(bic)))
    stop(sprintf("%s: BIC %.17g, peer's %.17g", name, bic, res$bic))
  emit("bic ", fmt(bic))
  emit("posteriors ", fmt(as.vector(t(res$r))))
  for (c in comments) emit("# ", c)
  emit("end")
  # the independent check
  pl <- em_plain(D, grouped, w0, B0, s20, T, noise)
  errs <- c(check(name, "weights", res$w, pl$w), check(name, "coefs", res$B, pl$B),
            check(name, "sigma2", res$s2, pl$s2), check(name, "trace", res$trace, pl$trace),
            check(name, "posteriors", res$r, pl$r))
  max_plain_err <<- max(max_plain_err, errs)
}
max_plain_err <- 0

# ---------------------------------------------------------------- mixtools cases
run_mixtools <- function(D, K, w0, B0, s0, T, arbvar) {
  txt <- capture.output(fit <- regmixEM(D$y, D$x, lambda = w0, beta = B0, sigma = s0,
                                        k = K, addintercept = TRUE, arbmean = TRUE,
                                        arbvar = arbvar, epsilon = -Inf, maxit = T))
  if (fit$restarts != 0 || length(fit$all.loglik) != T + 1)
    stop("regmixEM restarted or stopped early: ", paste(txt, collapse = "\n"))
  s2 <- if (arbvar) fit$sigma^2 else rep(fit$sigma^2, K)
  # the posteriors at P_T: the E-step of one more iteration
  txt <- capture.output(nxt <- regmixEM(D$y, D$x, lambda = w0, beta = B0, sigma = s0,
                                        k = K, addintercept = TRUE, arbmean = TRUE,
                                        arbvar = arbvar, epsilon = -Inf, maxit = T + 1))
  if (nxt$restarts != 0 || length(nxt$all.loglik) != T + 2)
    stop("regmixEM restarted or stopped early: ", paste(txt, collapse = "\n"))
  list(w = fit$lambda, B = unname(fit$beta), s2 = s2, ll = fit$loglik,
       ll_prev = fit$all.loglik[T], trace = fit$all.loglik, r = unname(nxt$posterior))
}

mixtools_case <- function(name, dname, K, w0, B0, s0, T, arbvar) {
  D <- datasets[[dname]]
  res <- run_mixtools(D, K, w0, B0, s0, T, arbvar)
  s20 <- if (arbvar) s0^2 else rep(s0^2, K)
  emit_case(name, "mixtools", dname, FALSE, K, if (arbvar) "per_component" else "shared",
            0, T, w0, B0, s20, res)
}

startA <- list(w = c(0.5, 0.5), B = cbind(c(0.5, 1.5, -0.5), c(-0.5, -1, 0)),
               s = c(1, 1))
startB <- list(w = c(0.3, 0.3, 0.4),
               B = cbind(c(1.5, 0.5, -0.5, 0), c(-0.5, -0.5, 1, 0.5), c(0.5, 0, 0, -1.5)),
               s = c(1, 1.5, 1.2))
mixtools_case("mixtools_A_pc_t5", "A", 2, startA$w, startA$B, startA$s, 5, TRUE)
mixtools_case("mixtools_A_pc_t25", "A", 2, startA$w, startA$B, startA$s, 25, TRUE)
mixtools_case("mixtools_A_shared_t5", "A", 2, startA$w, startA$B, 1, 5, FALSE)
mixtools_case("mixtools_A_shared_t25", "A", 2, startA$w, startA$B, 1, 25, FALSE)
mixtools_case("mixtools_B_pc_t25", "B", 3, startB$w, startB$B, startB$s, 25, TRUE)
mixtools_case("mixtools_B_shared_t25", "B", 3, startB$w, startB$B, 1.1, 25, FALSE)

# ---------------------------------------------------------------- flexmix cases
ml_driver <- function() {
  drv <- FLXMRglm(family = "gaussian")
  define <- drv@defineComponent
  drv@fit <- function(x, y, w, component) {
    fit <- lm.wfit(x, y, w = w)
    define(para = list(coef = coef(fit), df = ncol(x) + 1,
                       sigma = sqrt(sum(w * fit$residuals^2) / sum(w))))
  }
  drv
}

run_flexmix <- function(D, grouped, r0, T, driver) {
  df <- data.frame(y = D$y, D$x, node = factor(D$node))
  xs <- paste0("X", seq_len(D$d))
  rhs <- paste(xs, collapse = " + ")
  f <- as.formula(paste("y ~", rhs, if (grouped) "| node" else ""))
  R0 <- if (grouped) r0[D$node, , drop = FALSE] else r0
  flexmix(f, data = df, k = ncol(r0), cluster = R0, model = driver,
          control = list(iter.max = T, minprior = 0, tolerance = 0, verbose = 0))
}
flx_params <- function(fit) {
  B <- sapply(fit@components, function(c) c[[1]]@parameters$coef)
  s <- sapply(fit@components, function(c) c[[1]]@parameters$sigma)
  list(B = unname(B), s2 = unname(s^2))
}

flexmix_case <- function(name, dname, grouped, r0, T, stock_comment = TRUE) {
  D <- datasets[[dname]]
  K <- ncol(r0)
  fits <- lapply(seq_len(T + 2), function(i) run_flexmix(D, grouped, r0, i, ml_driver()))
  for (i in seq_along(fits)) stopifnot(fits[[i]]@iter == i, !fits[[i]]@converged,
                                       fits[[i]]@k == K)
  q1 <- flx_params(fits[[1]])
  w0 <- colMeans(r0)
  qT1 <- flx_params(fits[[T + 1]])
  first <- if (grouped) !duplicated(D$node) else rep(TRUE, D$n)
  res <- list(w = unname(fits[[T]]@prior), B = qT1$B, s2 = qT1$s2,
              ll = fits[[T + 1]]@logLik, ll_prev = fits[[T]]@logLik,
              trace = sapply(fits[seq_len(T + 1)], function(f) f@logLik),
              r = unname(fits[[T + 1]]@posterior$scaled[first, , drop = FALSE]),
              bic = BIC(fits[[T + 1]]))
  comments <- character(0)
  if (stock_comment) {
    st <- run_flexmix(D, grouped, r0, T + 1, FLXMRglm(family = "gaussian"))
    sp <- flx_params(st)
    comments <- c(sprintf("flexmix's stock FLXMRglm() (sigma with N/(N-p)): coefs %s",
                          fmt(signif(as.vector(sp$B), 8))),
                  sprintf("  sigma2 %s loglik %s (rel. diff. to the ML driver: coefs %.2g, sigma2 %.2g)",
                          fmt(signif(sp$s2, 8)), fmt(signif(st@logLik, 10)),
                          rel(sp$B, qT1$B), rel(sp$s2, qT1$s2)))
  }
  emit_case(name, "flexmix", dname, grouped, K, "per_component", 0, T, w0, q1$B, q1$s2,
            res, comments)
  invisible(list(w0 = w0, B0 = q1$B, s20 = q1$s2, res = res))
}

# node-level start posteriors: leaning to the true label, with noise
start_post <- function(D, K, seed, lean = 0.35) {
  set.seed(seed)
  r <- matrix(runif(D$m * K, 0.2, 1), D$m, K)
  r[cbind(seq_len(D$m), D$lab_node)] <- r[cbind(seq_len(D$m), D$lab_node)] + lean
  r / rowSums(r)
}
r0A <- start_post(dataA, 2, 11)
r0B <- start_post(dataB, 3, 12)
flexmix_case("flexmix_A_grouped_t5", "A", TRUE, r0A, 5)
flexmix_case("flexmix_A_grouped_t1", "A", TRUE, r0A, 1)
flexmix_case("flexmix_B_grouped_t5", "B", TRUE, r0B, 5)
flexmix_case("flexmix_B_grouped_t25", "B", TRUE, r0B, 25)

# ungrouped flexmix: sample-level start posteriors; cross-checked against mixtools
set.seed(13)
r0u <- matrix(runif(dataA$n * 2), dataA$n, 2)
r0u <- r0u / rowSums(r0u)
# lean each sample towards its node's true component so EM heads somewhere sensible
lab <- dataA$lab_node[dataA$node]
r0u[cbind(seq_len(dataA$n), lab)] <- r0u[cbind(seq_len(dataA$n), lab)] + 0.5
r0u <- r0u / rowSums(r0u)
fu <- flexmix_case("flexmix_A_ungrouped_t25", "A", FALSE, r0u, 25)
mt <- run_mixtools(dataA, 2, fu$w0, fu$B0, sqrt(fu$s20), 25, TRUE)
cross <- max(rel(mt$w, fu$res$w), rel(mt$B, fu$res$B), rel(mt$s2, fu$res$s2),
             rel(mt$trace, fu$res$trace))
if (!(cross < 1e-9)) stop(sprintf("mixtools and flexmix disagree: %.3g", cross))

# ---------------------------------------------------------------- plain-R only
plain_case <- function(name, dname, grouped, K, w0, B0, s20, T, noise, known = 0) {
  # known: the noise standard deviation; s20 = known^2 then
  D <- datasets[[dname]]
  pl <- em_plain(D, grouped, w0, B0, s20, T, noise)
  res <- list(w = pl$w, B = pl$B, s2 = pl$s2, ll = pl$trace[T + 1], ll_prev = pl$trace[T],
              trace = pl$trace, r = pl$r)
  emit_case(name, "plainR", dname, grouped, K, noise, known, T, w0, B0, s20, res)
}
# the flexmix grouped start Q_1 of case flexmix_B_grouped_t25, with shared / known noise
qB <- flx_params(run_flexmix(dataB, TRUE, r0B, 1, ml_driver()))
plain_case("plainR_B_grouped_shared_t25", "B", TRUE, 3, colMeans(r0B), qB$B,
           rep(mean(qB$s2), 3), 25, "shared")
plain_case("plainR_B_grouped_known_t25", "B", TRUE, 3, colMeans(r0B), qB$B,
           rep(1.2^2, 3), 25, "known", 1.2)
plain_case("plainR_B_grouped_shared_t5", "B", TRUE, 3, startB$w, startB$B,
           rep(1, 3), 5, "shared")
plain_case("plainR_A_ungrouped_known_t25", "A", FALSE, 2, startA$w, startA$B,
           rep(0.9^2, 2), 25, "known", 0.9)

# ---------------------------------------------------------------- print
cat("# R mixtools / flexmix reference fits for mixkern's mixreg (do not edit by hand).\n")
cat("# Regenerate: Rscript tests/data/mixreg_reference.R > tests/data/mixreg_reference.txt\n")
cat(sprintf("# %s, mixtools %s, flexmix %s; format and meaning: see the script's header.\n",
            R.version.string, packageVersion("mixtools"), packageVersion("flexmix")))
cat(sprintf("# Every peer case agrees with the script's plain-R EM to %.1e (max rel.); mixtools vs flexmix (ungrouped, same start): %.1e.\n",
            max_plain_err, cross))
for (nm in names(datasets)) {
  D <- datasets[[nm]]
  cat(sprintf("data %s %d %d %d\n", nm, D$n, D$d, D$m))
  cat("x ", fmt_exact(as.vector(t(D$x))), "\n", sep = "")
  cat("y ", fmt_exact(D$y), "\n", sep = "")
  cat("node_sizes ", paste(D$sizes, collapse = " "), "\n", sep = "")
  cat(sprintf("# true node labels: %s\n", paste(D$lab_node, collapse = " ")))
  cat("enddata\n")
}
cat(out, sep = "\n")
