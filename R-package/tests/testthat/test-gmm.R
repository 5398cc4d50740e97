# The GMM fit against mclust's EM from the same start (reg_covar = 0, tol = 0: a fixed number
# of iterations). mixkern from responsibilities z runs M(z), then max_iter (E, M) iterations:
# mclust's me(z) with itmax = max_iter + 1 M-steps. From parameters, mixkern's max_iter (E, M)
# iterations are mclust's em() with itmax = max_iter. mclust stops before itmax when its
# log-likelihood change is exactly 0 (its test is "err > tol" with tol = 0): the M-steps it ran
# are attr(fit, "info")["iterations"] (negative when it reached itmax), and mixkern runs as many.
mclust_m_steps <- function(fit) abs(attr(fit, "info")[["iterations"]])

skip_if_not_installed("mclust")
library(mclust, warn.conflicts = FALSE, quietly = TRUE)

max_diff <- function(a, b) max(abs(unname(a) - unname(b)))
# Relative to the array's scale, since iris and faithful have values up to 100.
rel_diff <- function(a, b) max_diff(a, b) / max(abs(b))

expect_same_as_mclust <- function(ours, theirs, tol = 1e-8) {
  expect_lt(rel_diff(ours$parameters$pro, theirs$parameters$pro), tol)
  expect_lt(rel_diff(ours$parameters$mean, theirs$parameters$mean), tol)
  expect_lt(rel_diff(ours$parameters$variance$sigma, theirs$parameters$variance$sigma), tol)
  expect_lt(max_diff(ours$z, theirs$z), tol)
  expect_lt(abs(ours$loglik - theirs$loglik) / abs(theirs$loglik), tol)
}

# A fixed, data-driven classification start (no random numbers): mclust's hierarchical one.
hc_start <- function(x, G) as.vector(hclass(hc(x, modelName = "VVV"), G))

cases <- list(faithful = list(x = as.matrix(faithful), G = 3),
              iris = list(x = as.matrix(iris[, 1:4]), G = 3))

for (name in names(cases)) {
  x <- cases[[name]]$x
  G <- cases[[name]]$G
  cls <- hc_start(x, G)
  for (T in c(1, 10, 50)) {
    test_that(sprintf("%s: full covariances from a classification equal mclust me() (T = %d)",
                      name, T), {
      theirs <- me(x, "VVV", unmap(cls), control = emControl(tol = c(0, 0), itmax = T + 1))
      T <- mclust_m_steps(theirs) - 1
      ours <- gmm(x, G, classification = cls, reg_covar = 0, tol = 0, max_iter = T)
      expect_equal(ours$iterations, T)
      expect_same_as_mclust(ours, theirs)
      expect_equal(ours$classification, map(theirs$z))
    })
  }
  test_that(sprintf("%s: diagonal covariances from a classification equal mclust me() (VVI)",
                    name), {
    theirs <- me(x, "VVI", unmap(cls), control = emControl(tol = c(0, 0), itmax = 21))
    ours <- gmm(x, G, covariance = "diagonal", classification = cls, reg_covar = 0, tol = 0,
                max_iter = mclust_m_steps(theirs) - 1)
    expect_same_as_mclust(ours, theirs)
  })
  test_that(sprintf("%s: a start from parameters equals mclust em()", name), {
    start <- mstep(x, "VVV", unmap(cls))$parameters
    theirs <- em(x, "VVV", start, control = emControl(tol = c(0, 0), itmax = 15))
    ours <- gmm(x, G, start = start, reg_covar = 0, tol = 0, max_iter = mclust_m_steps(theirs))
    expect_same_as_mclust(ours, theirs)
  })
  test_that(sprintf("%s: predict() equals mclust's estep() and dens()", name), {
    fit <- gmm(x, G, seed = 3, n_init = 2)
    new <- x[seq(1, nrow(x), by = 3), ] + 0.1
    p <- predict(fit, new)
    e <- estep(new, "VVV", fit$parameters)
    expect_lt(max_diff(p$z, e$z), 1e-12)
    expect_lt(max_diff(p$log_density,
                       dens(new, "VVV", parameters = fit$parameters, logarithm = TRUE)), 1e-10)
    expect_equal(p$classification, map(e$z))
    expect_equal(p$density, exp(p$log_density))
    # On the training data, predict() gives the fit's own z and classification.
    # Named columns are matched by name.
    shuffled <- as.data.frame(new)[, rev(colnames(new))]
    expect_identical(predict(fit, shuffled)$z, p$z)
    own <- predict(fit)
    expect_lt(max_diff(own$z, fit$z), 1e-13)
    expect_equal(own$classification, fit$classification)
  })
}

test_that("logLik carries df and nobs, so AIC and BIC from stats work", {
  fit <- gmm(faithful, 2)
  ll <- logLik(fit)
  expect_equal(attr(ll, "df"), (2 - 1) + 2 * 2 + 2 * 3)
  expect_equal(attr(ll, "nobs"), nrow(faithful))
  expect_equal(AIC(fit), -2 * fit$loglik + 2 * 11)
  expect_equal(BIC(fit), -2 * fit$loglik + 11 * log(nrow(faithful)))
  expect_equal(BIC(fit), fit$bic)
  diag_fit <- gmm(faithful, 2, covariance = "diagonal")
  expect_equal(attr(logLik(diag_fit), "df"), (2 - 1) + 2 * 2 + 2 * 2)
  # mclust's BIC is the same number with the opposite sign (larger is better).
  start <- list(pro = fit$parameters$pro, mean = fit$parameters$mean,
                variance = fit$parameters$variance)
  theirs <- em(as.matrix(faithful), "VVV", start, control = emControl(tol = c(0, 0), itmax = 1))
  expect_equal(bic("VVV", theirs$loglik, nrow(faithful), 2, 2), -BIC(
    gmm(faithful, 2, start = start, reg_covar = 0, tol = 0, max_iter = 1)), tolerance = 1e-10)
})

test_that("the explicit seed gives the same fit whatever R's random state", {
  set.seed(1)
  a <- gmm(iris[, 1:4], 3, n_init = 3, seed = 42)
  set.seed(2)
  runif(10)
  b <- gmm(iris[, 1:4], 3, n_init = 3, seed = 42)
  expect_identical(a$parameters, b$parameters)
  expect_identical(a$z, b$z)
})

test_that("a data frame, a matrix and the default k-means++ start agree; threads change nothing", {
  a <- gmm(iris[, 1:4], 3, seed = 5)
  b <- gmm(as.matrix(iris[, 1:4]), 3, seed = 5)
  expect_identical(a$parameters, b$parameters)
  expect_equal(rownames(a$parameters$mean), colnames(iris)[1:4])
  c <- gmm(iris[, 1:4], 3, seed = 5, threads = 2)
  expect_identical(a$parameters, c$parameters)
  # A column-major R matrix is read by rows: the fit is invariant to permuting the columns.
  perm <- c(3, 1, 4, 2)
  p <- gmm(iris[, perm], 3, classification = iris$Species, max_iter = 5)
  q <- gmm(iris[, 1:4], 3, classification = iris$Species, max_iter = 5)
  expect_lt(max_diff(p$parameters$mean, q$parameters$mean[perm, ]), 1e-12)
  expect_lt(max_diff(p$parameters$variance$sigma, q$parameters$variance$sigma[perm, perm, ]),
            1e-12)
})

test_that("integer sample weights act as copies of the samples", {
  x <- as.matrix(faithful)
  w <- rep(c(1, 2, 3), length.out = nrow(x))
  cls <- hc_start(x, 2)
  weighted <- gmm(x, 2, classification = cls, weights = w, tol = 0, max_iter = 10)
  copies <- gmm(x[rep(seq_len(nrow(x)), w), ], 2, classification = rep(cls, w), tol = 0,
                max_iter = 10)
  expect_lt(rel_diff(weighted$parameters$mean, copies$parameters$mean), 1e-12)
  expect_lt(rel_diff(weighted$parameters$variance$sigma, copies$parameters$variance$sigma),
            1e-12)
  expect_lt(abs(weighted$loglik - copies$loglik) / abs(copies$loglik), 1e-12)
})

test_that("the R defaults are the library's", {
  lib <- mixkern:::gmm_library_defaults()
  ours <- formals(gmm)
  for (name in names(lib)) expect_equal(eval(ours[[name]]), lib[[name]], label = name)
  lib <- mixkern:::mixreg_library_defaults()
  ours <- formals(mixreg)
  for (name in names(lib)) expect_equal(eval(ours[[name]]), lib[[name]], label = name)
})
