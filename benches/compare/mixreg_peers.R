#!/usr/bin/env Rscript
# R peers of mixkern's mixture of linear regressions (benches/mixreg.rs): ms per EM iteration
# of flexmix (grouped y ~ x | node and ungrouped y ~ x) and mixtools::regmixEM (ungrouped).
#
#   apt-get install -y r-base-core r-cran-mixtools r-cran-flexmix
#   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 Rscript benches/compare/mixreg_peers.R \
#       [ks=2,3] [iters=10] [big_iters=5] [repeats=3] [big_repeats=1] [only=name,...]
#
# (The script re-executes itself with OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 if they are
# not set; Debian's R links the reference BLAS, single-threaded anyway.)
#
# Sizes (d = 10; the issue's): flexmix grouped N = 10^6 in m = 1000 nodes of 1000
# ("flexmix_grouped_1e6"), flexmix ungrouped N = 10^5 and 10^6 ("flexmix_1e5",
# "flexmix_1e6"), regmixEM N = 10^5 ("regmixEM_1e5"); K = 2 and 3.
#
# The data mirror benches/mixreg.rs (same model, R's own random numbers): x ~ N(0, I_d), node
# j follows component j %% K, y = x^T theta_k + 0.5 eps, theta_k[t] = (k + 1) (-1)^t / sqrt(d)
# (t, k 0-based), no intercept. Start P_0 (as in the Rust bench): equal weights, 0.8 theta_k,
# variances 1.
#   * regmixEM(y, x, lambda, beta, sigma, addintercept = FALSE, epsilon = -Inf, maxit = T)
#     runs exactly T iterations of E-step + M-step from P_0 (see tests/data/
#     mixreg_reference.R for its loop), plus one log-likelihood before the loop. Its E-step
#     is an R loop over samples x K x K. A fit that restarts (log-likelihood decrease) is
#     reported as failed.
#   * flexmix starts from posteriors: given the posteriors of P_0 (one E-step, computed here
#     outside the timing), flexmix(..., control = list(iter.max = T, tolerance = 0,
#     minprior = 0)) runs T iterations of M-step + E-step, the first M-step giving the same
#     P_1 as mixkern's first iteration. Stock driver FLXMRglm() (its sigma carries an
#     N / (N - p) factor; same cost as the ML one). Each call also builds the model frame and
#     model matrix (and for grouped fits the grouping), which is in the timing.
#
# Output: one line per (peer, size, K):
#   RESULT <name> <N> <d> <K> <m> <T>
#          <wall ms/iter = median t(T) / T> <min t(T) / T> <wall (t(T) - t(1)) / (T - 1)>
#          <cpu ms/iter = median c(T) / T> <cpu (c(T) - c(1)) / (T - 1)>
#          <cpu setup ms = c(1) - that> <loglik at the end>
# t = wall-clock of one call (Sys.time()), c = user + system CPU time of the same call
# (proc.time(); steadier than wall-clock when other jobs share the machine); medians over
# the repeats. "(t(T) - t(1)) / (T - 1)" is the cost of one more iteration, with the per-call
# setup (model frame, grouping; large for flexmix grouped at N = 10^6) removed; t(T) / T is
# what "fix iter.max and divide" gives.

args <- commandArgs(trailingOnly = TRUE)
if (Sys.getenv("OPENBLAS_NUM_THREADS") != "1" || Sys.getenv("OMP_NUM_THREADS") != "1") {
  file_arg <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  Sys.setenv(OPENBLAS_NUM_THREADS = "1", OMP_NUM_THREADS = "1", MKL_NUM_THREADS = "1")
  status <- system2(file.path(R.home("bin"), "Rscript"), c(shQuote(file_arg), shQuote(args)))
  quit(status = status, save = "no")
}

suppressPackageStartupMessages({
  library(flexmix)
  library(mixtools)
})

opt <- list(ks = "2,3", iters = "10", big_iters = "5", repeats = "3", big_repeats = "1",
            only = "")
for (a in args) {
  kv <- strsplit(a, "=", fixed = TRUE)[[1]]
  opt[[kv[1]]] <- kv[2]
}
ks <- as.integer(strsplit(opt$ks, ",")[[1]])
only <- if (nzchar(opt$only)) strsplit(opt$only, ",")[[1]] else character(0)
d <- 10

make <- function(n, m, k, seed = 7) {
  set.seed(seed)
  theta <- sapply(0:(k - 1), function(c) (c + 1) * ifelse(0:(d - 1) %% 2 == 0, 1, -1) / sqrt(d))
  x <- matrix(rnorm(n * d), n, d)
  node <- rep(seq_len(m), each = n / m)
  comp <- (node - 1) %% k + 1
  y <- rowSums(x * t(theta)[comp, , drop = FALSE]) + 0.5 * rnorm(n)
  list(x = x, y = y, node = node, theta = theta, n = n, m = m, k = k)
}

# posteriors of the start P_0 (per node when grouped, else per sample), N x K
start_posteriors <- function(D, grouped) {
  k <- D$k
  B <- 0.8 * D$theta
  lr <- -0.5 * log(2 * pi) - 0.5 * (D$y - D$x %*% B)^2 + log(1 / k)  # sigma^2 = 1
  if (grouped) {
    lr <- rowsum(lr, D$node)
    lr <- lr - apply(lr, 1, max)
    r <- exp(lr) / rowSums(exp(lr))
    r[D$node, , drop = FALSE]
  } else {
    lr <- lr - apply(lr, 1, max)
    exp(lr) / rowSums(exp(lr))
  }
}

timed <- function(f, reps) {
  wall <- numeric(reps)
  cpu <- numeric(reps)
  val <- NULL
  for (r in seq_len(reps)) {
    gc()
    t0 <- proc.time()
    s0 <- Sys.time()
    val <- f()
    wall[r] <- as.numeric(difftime(Sys.time(), s0, units = "secs")) * 1000
    pt <- proc.time() - t0
    cpu[r] <- (pt[["user.self"]] + pt[["sys.self"]]) * 1000
  }
  list(wall = wall, cpu = cpu, val = val)
}

report <- function(name, D, T, reps, run) {
  one <- timed(function() run(1), reps)
  full <- timed(function() run(T), reps)
  marginal <- function(a, b) (median(b) - median(a)) / (T - 1)
  wall_m <- marginal(one$wall, full$wall)
  cpu_m <- marginal(one$cpu, full$cpu)
  line <- sprintf("RESULT %s %d %d %d %d %d %.1f %.1f %.1f %.1f %.1f %.0f %.6f", name, D$n, d,
                  D$k, D$m, T, median(full$wall) / T, min(full$wall) / T, wall_m,
                  median(full$cpu) / T, cpu_m, median(one$cpu) - cpu_m, full$val)
  cat(line, "\n", sep = "")
  flush.console()
}

want <- function(name) !length(only) || name %in% only

flexmix_run <- function(D, grouped) {
  df <- data.frame(y = D$y, D$x)
  if (grouped) df$node <- factor(D$node)
  rhs <- paste(paste0("X", seq_len(d)), collapse = " + ")
  f <- as.formula(paste("y ~", rhs, "- 1", if (grouped) "| node" else ""))
  R0 <- start_posteriors(D, grouped)
  function(T) {
    fit <- flexmix(f, data = df, k = D$k, cluster = R0,
                   control = list(iter.max = T, tolerance = 0, minprior = 0))
    stopifnot(fit@iter == T, fit@k == D$k)
    fit@logLik
  }
}

regmix_run <- function(D) {
  function(T) {
    txt <- capture.output(fit <- regmixEM(D$y, D$x, lambda = rep(1 / D$k, D$k),
                                          beta = 0.8 * D$theta, sigma = rep(1, D$k),
                                          k = D$k, addintercept = FALSE, epsilon = -Inf,
                                          maxit = T))
    if (fit$restarts != 0 || length(fit$all.loglik) != T + 1) stop("regmixEM restarted")
    fit$loglik
  }
}

cat(sprintf("# %s, flexmix %s, mixtools %s, BLAS %s; single thread; d = %d\n",
            R.version.string, packageVersion("flexmix"), packageVersion("mixtools"),
            basename(extSoftVersion()[["BLAS"]]), d))
cat("# RESULT name N d K m T wall_ms/iter min_wall/iter wall_marginal cpu_ms/iter cpu_marginal cpu_setup_ms loglik\n")
iters <- as.integer(opt$iters)
big_iters <- as.integer(opt$big_iters)
repeats <- as.integer(opt$repeats)
big_repeats <- as.integer(opt$big_repeats)
for (k in ks) {
  if (want("flexmix_grouped_1e6")) {
    D <- make(1e6, 1000, k)
    report("flexmix_grouped_1e6", D, big_iters, big_repeats, flexmix_run(D, TRUE))
  }
  if (want("flexmix_1e6")) {
    D <- make(1e6, 1000, k)
    D$m <- D$n
    report("flexmix_1e6", D, big_iters, big_repeats, flexmix_run(D, FALSE))
  }
  D <- make(1e5, 100, k)
  D$m <- D$n
  if (want("flexmix_1e5")) report("flexmix_1e5", D, iters, repeats, flexmix_run(D, FALSE))
  if (want("regmixEM_1e5")) report("regmixEM_1e5", D, big_iters, big_repeats, regmix_run(D))
  rm(D)
  gc()
}
