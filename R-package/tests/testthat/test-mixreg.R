# Regression mixtures against mixtools::regmixEM and flexmix (with the ML variance) from the
# same start, on their own data sets. One regmixEM iteration (E-step, then M-step) is one
# mixkern iteration; epsilon = -Inf makes it run exactly maxit of them.

# regmixEM prints "WARNING! NOT CONVERGENT!" when it stops at maxit, as these runs do.
quietly <- function(expr) {
  utils::capture.output(value <- expr)
  value
}
max_diff <- function(a, b) max(abs(unname(a) - unname(b)))
rel_diff <- function(a, b) max_diff(a, b) / max(abs(b))

expect_same_as_regmixEM <- function(ours, theirs, tol = 1e-6) {
  expect_equal(theirs$restarts, 0)
  expect_lt(rel_diff(ours$coefficients, theirs$beta), tol)
  expect_lt(rel_diff(ours$sigma, rep_len(theirs$sigma, length(ours$sigma))), tol)
  expect_lt(max_diff(ours$pro, theirs$lambda), tol)
  expect_lt(abs(ours$loglik - theirs$loglik) / abs(theirs$loglik), tol)
  # mixkern's trace holds the log-likelihood at the start of each iteration.
  T <- length(ours$trace)
  expect_lt(rel_diff(ours$trace, theirs$all.loglik[seq_len(T)]), tol)
}

test_that("tonedata: per-component and shared noise equal mixtools regmixEM", {
  skip_if_not_installed("mixtools")
  data("tonedata", package = "mixtools", envir = environment())
  w0 <- c(0.5, 0.5)
  B0 <- cbind(c(1.9, 0), c(0, 1))
  for (T in c(1, 25)) {
    theirs <- quietly(mixtools::regmixEM(tonedata$tuned, tonedata$stretchratio, lambda = w0,
                                         beta = B0, sigma = c(0.1, 0.5), k = 2,
                                         epsilon = -Inf, maxit = T))
    ours <- mixreg(tuned ~ stretchratio, tonedata, K = 2, tol = 0, max_iter = T,
                   start = list(pro = w0, coefficients = B0, sigma = c(0.1, 0.5)))
    expect_same_as_regmixEM(ours, theirs)
  }
  theirs <- quietly(mixtools::regmixEM(tonedata$tuned, tonedata$stretchratio, lambda = w0,
                                       beta = B0, sigma = c(0.3, 0.3), k = 2, epsilon = -Inf,
                                       maxit = 25, arbvar = FALSE))
  ours <- mixreg(tuned ~ stretchratio, tonedata, K = 2, noise = "shared", tol = 0,
                 max_iter = 25, start = list(pro = w0, coefficients = B0, sigma = 0.3))
  expect_same_as_regmixEM(ours, theirs)
  expect_equal(attr(logLik(ours), "df"), (2 - 1) + 2 * 2 + 1)
})

test_that("CO2data: per-component noise equals mixtools regmixEM", {
  skip_if_not_installed("mixtools")
  data("CO2data", package = "mixtools", envir = environment())
  # The start of mixtools' own example for these data.
  w0 <- c(1, 3) / 4
  B0 <- matrix(c(8, -1, 1, 1), 2, 2)
  theirs <- quietly(mixtools::regmixEM(CO2data$CO2, CO2data$GNP, lambda = w0, beta = B0,
                                       sigma = c(2, 1), k = 2, epsilon = -Inf, maxit = 25))
  ours <- mixreg(CO2 ~ GNP, CO2data, K = 2, tol = 0, max_iter = 25,
                 start = list(pro = w0, coefficients = B0, sigma = c(2, 1)))
  expect_same_as_regmixEM(ours, theirs)
  expect_equal(rownames(coef(ours)), c("(Intercept)", "GNP"))
  expect_equal(BIC(ours), ours$bic)
})

# flexmix runs with the ML-variance driver of helper-flexmix.R (ml_driver): see there.
test_that("ChickWeight, weight ~ Time | Chick: the grouped fit equals flexmix", {
  skip_if_not_installed("flexmix")
  suppressPackageStartupMessages(library(flexmix))
  chicks <- as.data.frame(ChickWeight)
  chicks$Chick <- factor(as.character(chicks$Chick))
  K <- 2
  m <- nlevels(chicks$Chick)
  # Start posteriors per chick, from a fixed formula (no random numbers).
  r0 <- cbind(0.3 + 0.4 * (seq_len(m) %% 3 == 0), 0.7 - 0.4 * (seq_len(m) %% 3 == 0))
  run <- function(iterations) {
    flexmix(weight ~ Time | Chick, data = chicks, k = K, cluster = r0[as.integer(chicks$Chick), ],
            model = ml_driver(),
            control = list(iter.max = iterations, minprior = 0, tolerance = 0, verbose = 0))
  }
  q1 <- flexmix_parameters(run(1))
  T <- 10
  after <- run(T + 1)
  ours <- mixreg(weight ~ Time | Chick, chicks, K = K, tol = 0, max_iter = T,
                 start = list(pro = colMeans(r0), coefficients = q1$coefficients,
                              sigma = q1$sigma))
  theirs <- flexmix_parameters(after)
  expect_lt(rel_diff(ours$coefficients, theirs$coefficients), 1e-6)
  expect_lt(rel_diff(ours$sigma, theirs$sigma), 1e-6)
  expect_lt(max_diff(ours$pro, run(T)@prior), 1e-6)
  expect_lt(abs(ours$loglik - after@logLik) / abs(after@logLik), 1e-6)
  expect_equal(BIC(ours), BIC(after), tolerance = 1e-6)
  first <- !duplicated(chicks$Chick)
  expect_lt(max_diff(ours$posterior[as.character(chicks$Chick[first]), ],
                     after@posterior$scaled[first, ]), 1e-6)
  # Every sample of a chick carries its chick's cluster.
  expect_equal(ours$cluster, max.col(ours$posterior, "first")[as.integer(chicks$Chick)])
})

test_that("tonedata, tuned ~ stretchratio: the ungrouped fit equals flexmix", {
  skip_if_not_installed("flexmix")
  skip_if_not_installed("mixtools")
  suppressPackageStartupMessages(library(flexmix))
  data("tonedata", package = "mixtools", envir = environment())
  n <- nrow(tonedata)
  # Start posteriors per sample, from a fixed rule (no random numbers).
  low <- tonedata$tuned < 1.5
  r0 <- cbind(ifelse(low, 0.3, 0.7), ifelse(low, 0.7, 0.3))
  run <- function(iterations) {
    flexmix(tuned ~ stretchratio, data = tonedata, k = 2, cluster = r0, model = ml_driver(),
            control = list(iter.max = iterations, minprior = 0, tolerance = 0, verbose = 0))
  }
  q1 <- flexmix_parameters(run(1))
  T <- 20
  after <- run(T + 1)
  ours <- mixreg(tuned ~ stretchratio, tonedata, K = 2, tol = 0, max_iter = T,
                 start = list(pro = colMeans(r0), coefficients = q1$coefficients,
                              sigma = q1$sigma))
  theirs <- flexmix_parameters(after)
  expect_lt(rel_diff(ours$coefficients, theirs$coefficients), 1e-6)
  expect_lt(rel_diff(ours$sigma, theirs$sigma), 1e-6)
  expect_lt(max_diff(ours$pro, run(T)@prior), 1e-6)
  expect_lt(abs(ours$loglik - after@logLik) / abs(after@logLik), 1e-6)
  expect_lt(max_diff(ours$posterior, after@posterior$scaled), 1e-6)
  expect_equal(nrow(ours$posterior), n)
})

test_that("the grouped fit does not depend on the order of the rows", {
  chicks <- as.data.frame(ChickWeight)
  shuffled <- chicks[c(seq(2, nrow(chicks), 2), seq(1, nrow(chicks), 2)), ]
  a <- mixreg(weight ~ Time | Chick, chicks, K = 2, seed = 1)
  b <- mixreg(weight ~ Time | Chick, shuffled, K = 2, seed = 1)
  expect_lt(rel_diff(a$coefficients, b$coefficients), 1e-12)
  expect_equal(a$cluster[order(rownames(chicks))], b$cluster[order(rownames(shuffled))])
})

test_that("the symmetric model (the clustered seed's) is invariant to flipping y's sign", {
  set.seed(10)
  nodes <- rep(1:40, each = 5)
  x <- matrix(rnorm(200 * 2), ncol = 2)
  label <- ifelse(runif(40) < 0.5, -1, 1)[nodes]
  y <- label * (x %*% c(1.5, -1)) + 0.3 * rnorm(200)
  d <- data.frame(y = y, x1 = x[, 1], x2 = x[, 2], node = nodes)
  d_flipped <- transform(d, y = -y)
  a <- mixreg(y ~ x1 + x2 - 1 | node, d, K = 2, symmetric = TRUE, noise = "known",
              sigma = 0.3)
  b <- mixreg(y ~ x1 + x2 - 1 | node, d_flipped, K = 2, symmetric = TRUE, noise = "known",
              sigma = 0.3)
  expect_equal(unname(a$coefficients[, 1]), -unname(a$coefficients[, 2]))
  expect_equal(unname(a$pro), c(0.5, 0.5))
  expect_equal(a$loglik, b$loglik, tolerance = 1e-8)
  # theta is recovered to the sampling error, sign aside.
  theta <- a$coefficients[, 1] * sign(a$coefficients[1, 1])
  expect_lt(max(abs(theta - c(1.5, -1))), 0.1)
  expect_error(mixreg(y ~ x1 + x2 | node, d, K = 2, symmetric = TRUE), "no intercept")
})
