#!/usr/bin/env Rscript
# Time per EM iteration of the R package against mclust, mixtools and flexmix, from the same
# start for the same number of iterations (so the work is the same and the results agree; the
# script stops if they do not). Prints a Markdown table (README's R section).
#
#   bash R-package/tools/check.sh              # installs the package into target/r/mixkern.Rcheck
#   R_LIBS=target/r/mixkern.Rcheck OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
#       Rscript R-package/tools/bench.R
#
# Wall-clock seconds of each call (median of `repeats`; small cases time `inner` calls in a row
# and divide), per EM iteration.
file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
script_dir <- dirname(normalizePath(sub("^--file=", "", file_arg)))
source(file.path(script_dir, "..", "tests", "testthat", "helper-flexmix.R"))   # ml_driver()
suppressPackageStartupMessages({
  library(mixkern)
  library(mclust)
  library(mixtools)
  library(flexmix)
})
repeats <- 3
T <- 20
median_time <- function(f, inner = 1) {
  median(replicate(repeats, system.time(for (i in seq_len(inner)) f())[["elapsed"]])) / inner
}
rows <- list()
add <- function(task, peer, ours, theirs, agreement) {
  rows[[length(rows) + 1]] <<- data.frame(
    task = task, peer = peer, mixkern_ms = 1000 * ours / T, peer_ms = 1000 * theirs / T,
    speedup = theirs / ours, agreement = signif(agreement, 2))
}
rel <- function(a, b) max(abs(unname(a) - unname(b))) / max(abs(b))

# Gaussian mixtures: n samples of a G-component mixture in d dimensions, full covariances.
gmm_case <- function(n, d, G, inner) {
  set.seed(1)
  centres <- matrix(rnorm(d * G, sd = 3), G, d)
  labels <- sample(G, n, replace = TRUE)
  x <- centres[labels, ] + matrix(rnorm(n * d), n, d)
  start <- (labels + (seq_len(n) %% 7 == 0)) %% G + 1      # a perturbed classification
  theirs_fit <- NULL
  ours_fit <- NULL
  # me() from z runs T + 1 M-steps and E-steps, as gmm() from a classification with max_iter T.
  control <- emControl(tol = c(0, 0), itmax = T + 1)
  theirs <- median_time(function() theirs_fit <<- me(x, "VVV", unmap(start), control = control),
                        inner)
  ours <- median_time(function() ours_fit <<- gmm(x, G, classification = start, reg_covar = 0,
                                                  tol = 0, max_iter = T), inner)
  # mclust stops early only if its log-likelihood stops changing exactly (see test-gmm.R).
  stopifnot(abs(attr(theirs_fit, "info")[["iterations"]]) == T + 1)
  agreement <- rel(ours_fit$parameters$mean, theirs_fit$parameters$mean)
  stopifnot(agreement < 1e-8)
  add(sprintf("GMM full, n = %d, d = %d, G = %d", n, d, G), "mclust me()", ours, theirs,
      agreement)
}
gmm_case(272, 2, 3, inner = 100)
gmm_case(1e5, 8, 5, inner = 1)

# Regression mixtures: y = x b_k + noise, K = 3, two covariates.
set.seed(2)
n <- 1e5
B <- cbind(c(0, 1, -1), c(2, -1, 0.5), c(-2, 0.5, 1))
x <- matrix(rnorm(n * 2), n, 2)
lab <- sample(3, n, replace = TRUE)
y <- rowSums(cbind(1, x) * t(B)[lab, ]) + rnorm(n, sd = 0.5)
w0 <- c(0.3, 0.3, 0.4)
B0 <- B + 0.3
s0 <- c(1, 1, 1)
ours_fit <- NULL
theirs_fit <- NULL
data_u <- data.frame(y, x1 = x[, 1], x2 = x[, 2])
start <- list(pro = w0, coefficients = B0, sigma = s0)
ours <- median_time(function() {
  ours_fit <<- mixreg(y ~ x1 + x2, data_u, K = 3, tol = 0, max_iter = T, start = start)
})
theirs <- median_time(function() utils::capture.output(
  theirs_fit <<- regmixEM(y, x, lambda = w0, beta = B0, sigma = s0, k = 3, epsilon = -Inf,
                          maxit = T)))
agreement <- rel(ours_fit$coefficients, theirs_fit$beta)
stopifnot(agreement < 1e-6)
add(sprintf("Regression mixture, n = %d, p = 3, K = 3", n), "mixtools regmixEM()", ours, theirs,
    agreement)

# Grouped: 2000 groups of 50 samples, flexmix's y ~ x | g (ML variance driver, as the tests).
g <- rep(seq_len(2000), each = 50)
lab_g <- sample(3, 2000, replace = TRUE)[g]
yg <- rowSums(cbind(1, x) * t(B)[lab_g, ]) + rnorm(n, sd = 0.5)
data_g <- data.frame(y = yg, x1 = x[, 1], x2 = x[, 2], g = g)
r0 <- matrix(c(0.5, 0.3, 0.2), 2000, 3, byrow = TRUE)
r0[cbind(seq_len(2000), sample(3, 2000, replace = TRUE))] <- 1
r0 <- r0 / rowSums(r0)
flex <- function(iterations) flexmix(y ~ x1 + x2 | g, data = data_g, k = 3, cluster = r0[g, ],
                                     model = ml_driver(),
                                     control = list(iter.max = iterations, minprior = 0,
                                                    tolerance = 0, verbose = 0))
q1 <- flexmix_parameters(flex(1))
start <- list(pro = colMeans(r0), coefficients = q1$coefficients, sigma = q1$sigma)
# flexmix's T + 1 iterations (M-step, E-step) do one M-step more than mixreg's T from the start
# it gives (see helper-flexmix.R): its time is counted per M-step, divided by T + 1.
theirs <- median_time(function() theirs_fit <<- flex(T + 1)) * T / (T + 1)
ours <- median_time(function() {
  ours_fit <<- mixreg(y ~ x1 + x2 | g, data_g, K = 3, tol = 0, max_iter = T, start = start)
})
agreement <- rel(ours_fit$coefficients, flexmix_parameters(theirs_fit)$coefficients)
stopifnot(agreement < 1e-6)
add(sprintf("Grouped regression mixture, %d groups x 50, p = 3, K = 3", 2000),
    "flexmix y ~ x \\| g", ours, theirs, agreement)

table <- do.call(rbind, rows)
cat(sprintf("R %s, mclust %s, mixtools %s, flexmix %s, mixkern %s\n\n",
            getRversion(), packageVersion("mclust"), packageVersion("mixtools"),
            packageVersion("flexmix"), packageVersion("mixkern")))
cat("| task | peer | mixkern ms/iter | peer ms/iter | speed-up | max rel. diff. |\n")
cat("|---|---|---|---|---|---|\n")
for (i in seq_len(nrow(table))) {
  with(table[i, ], cat(sprintf("| %s | %s | %.3g | %.3g | %.1fx | %.1e |\n", task, peer,
                               mixkern_ms, peer_ms, speedup, agreement)))
}
