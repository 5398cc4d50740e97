# Bad input is an R error that names the problem; R never crashes and nothing is returned.

test_that("gmm: missing values, wrong shapes and impossible sizes are named", {
  x <- as.matrix(faithful)
  with_na <- x
  with_na[5, 2] <- NA
  expect_error(gmm(with_na, 2), "missing values")
  with_inf <- x
  with_inf[3, 1] <- Inf
  expect_error(gmm(with_inf, 2), "NaN or infinite")
  expect_error(gmm(x[1:3, ], 5), "G = 5 components need at least 5 samples")
  expect_error(gmm(x, 0), "'G' must be a whole number >= 1")
  expect_error(gmm(x, 2.5), "'G'")
  expect_error(gmm(iris, 3), "Species are not numeric")
  expect_error(gmm(x, 2, tol = -1), "'tol'")
  expect_error(gmm(x, 2, reg_covar = NaN), "'reg_covar'")
  expect_error(gmm(x, 2, weights = rep(1, 3)), "weights must be 272 numbers")
  expect_error(gmm(x, 2, weights = rep(-1, nrow(x))), "sample weights")
  expect_error(gmm(x, 2, classification = rep(1:3, length.out = nrow(x))), "3 distinct labels")
  expect_error(gmm(x, 2, z = matrix(0.5, 3, 2)), "n x G = 272 x 2")
  expect_error(gmm(x, 2, start = list(mean = matrix(0, 3, 2))), "d x G = 2 x 2")
  bad_sigma <- list(variance = list(sigma = array(c(1, 2, 2, 1), c(2, 2, 2))))
  expect_error(gmm(x, 2, start = bad_sigma), "not symmetric positive definite")
  expect_error(gmm(x, 2, z = matrix(0.5, nrow(x), 2), classification = rep(1:2, 136)),
               "at most one")
  expect_error(gmm(matrix(1e200, 10, 2) + 1:20, 2), "rescale")
})

test_that("predict: newdata of the wrong width or with NA is named", {
  fit <- gmm(faithful, 2)
  expect_error(predict(fit, iris[, 1:4]), "4 columns, the mixture has d = 2")
  expect_error(predict(fit, matrix(c(1, NA), 1)), "missing values")
})

test_that("mixreg: missing values, a missing group value and K > n are named", {
  d <- data.frame(y = c(1, 2, 3, NA, 5), x = 1:5, g = c(1, 1, 2, 2, 3))
  expect_error(mixreg(y ~ x, d, K = 2), "NA")
  d$y[4] <- 4
  expect_error(mixreg(y ~ x, d, K = 6), "K = 6 components need at least 6 samples")
  d$g[2] <- NA
  expect_error(mixreg(y ~ x | g, d, K = 2), "group variable")
  expect_error(mixreg(y ~ 1, d, K = 2), "at least one covariate")
  expect_error(mixreg(~ x, d, K = 2), "two-sided formula")
  expect_error(mixreg(y ~ x, d, K = 2, noise = "known"), "needs sigma")
  expect_error(mixreg(y ~ x, d, K = 2, start = list(pro = 1)), "start must be")
})

test_that("aggregate_fits: elements that are neither fits nor messages are named", {
  expect_error(aggregate_fits(list()), "non-empty list")
  expect_error(aggregate_fits(list(1, 2, 3)), "element 1")
  expect_error(aggregate_fits(list(raw(3), raw(3), raw(3))), "learning the shape")
})
