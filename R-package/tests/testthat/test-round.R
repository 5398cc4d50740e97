# The distributed round: wire messages and the robust aggregation of local fits.

# Machine i's samples: a three-component mixture in two dimensions, 400 samples, seeded.
truth <- list(pro = c(0.3, 0.3, 0.4), mean = cbind(c(-4, 0), c(0, 4), c(4, 0)))
machine_samples <- function(i, n = 400) {
  set.seed(100 + i)
  labels <- sample(3, n, replace = TRUE, prob = truth$pro)
  t(truth$mean[, labels]) + matrix(rnorm(2 * n), n, 2)
}

test_that("encode_fit and decode_message round-trip a fit bit for bit", {
  fit <- gmm(machine_samples(1), 3, seed = 1)
  message <- encode_fit(fit)
  expect_type(message, "raw")
  back <- decode_message(message)
  expect_identical(back$n, 400)
  expect_identical(unname(back$parameters$pro), unname(fit$parameters$pro))
  expect_identical(unname(back$parameters$mean), unname(fit$parameters$mean))
  # The message carries the lower triangle; the decoder mirrors it (exactly symmetric).
  sigma <- fit$parameters$variance$sigma
  for (k in 1:3) {
    lower <- sigma[, , k]
    lower[upper.tri(lower)] <- t(lower)[upper.tri(lower)]
    expect_identical(unname(back$parameters$variance$sigma[, , k]), unname(lower))
  }
  expect_identical(encode_fit(back), message)
  # A decoded mixture predicts like the fit.
  new <- machine_samples(2, 50)
  expect_lt(max(abs(predict(back, new)$log_density - predict(fit, new)$log_density)), 1e-12)
  diag_fit <- gmm(machine_samples(1), 3, covariance = "diagonal", seed = 1)
  diag_back <- decode_message(encode_fit(diag_fit, n = 7))
  expect_identical(diag_back$covariance, "diagonal")
  expect_identical(diag_back$n, 7)
  expect_identical(unname(diag_back$parameters$variance$sigma),
                   unname(diag_fit$parameters$variance$sigma))
})

test_that("a corrupted or truncated message is an R error naming the problem", {
  message <- encode_fit(gmm(machine_samples(1), 3, seed = 1))
  flipped <- message
  flipped[40] <- xor(flipped[40], as.raw(1))
  expect_error(decode_message(flipped), "malformed")
  expect_error(decode_message(message[-length(message)]), "malformed")
  expect_error(decode_message(raw(0)), "no message")
  expect_error(decode_message("MKGM"), "raw vector")
})

test_that("aggregation excludes and reports corrupted, missing and attacking machines", {
  skip_if_not_installed("parallel")
  m <- 9
  cores <- if (.Platform$OS.type == "windows") 1 else 2
  fits <- parallel::mclapply(seq_len(m), function(i) gmm(machine_samples(i), 3, seed = i,
                                                        n_init = 3, prior_samples = 1),
                             mc.cores = cores)
  messages <- lapply(fits, encode_fit)
  honest <- aggregate_fits(messages)
  expect_true(all(honest$status == "ok"))
  # DFMR pools the machines within rho r_COAT of COAT: a strict majority at least.
  expect_gte(sum(honest$pooled), m %/% 2 + 1)
  expect_equal(honest$cut, honest$rho * honest$radius)
  expect_true(all(honest$pooled == (honest$coat_distance <= honest$cut)))

  attacked <- messages
  attacked[[2]][60] <- xor(attacked[[2]][60], as.raw(255))   # corrupted in transit
  attacked[3] <- list(NULL)                                   # sent nothing
  shifted <- fits[[5]]                                        # a mean attack
  shifted$parameters$mean <- shifted$parameters$mean + 100
  attacked[[5]] <- encode_fit(shifted)
  agg <- aggregate_fits(attacked)
  expect_match(agg$status[[2]], "malformed")
  expect_match(agg$status[[3]], "no message")
  expect_match(agg$status[[5]], "far outside")
  expect_equal(unname(agg$status_code[c(2, 3, 5)]), c(10L, 13L, 21L))
  expect_true(all(agg$status[-c(2, 3, 5)] == "ok"))
  expect_equal(agg$valid, 6)
  expect_false(any(agg$pooled[c(2, 3, 5)]))
  expect_gte(sum(agg$pooled), m %/% 2 + 1)
  # The aggregate is close to the truth (components matched by their means' first coordinate).
  order_k <- order(agg$parameters$mean[1, ])
  expect_lt(max(abs(agg$parameters$mean[, order_k] - truth$mean)), 0.2)
  expect_lt(max(abs(agg$parameters$pro[order_k] - truth$pro)), 0.03)
  # The same fits given as objects and as messages aggregate alike.
  objects <- fits
  objects[[5]] <- shifted
  as_messages <- messages
  as_messages[[5]] <- encode_fit(shifted)
  expect_identical(aggregate_fits(objects)$parameters, aggregate_fits(as_messages)$parameters)
  # The vanilla reduction without the screening has no filter: the attack pulls it away.
  vanilla <- aggregate_fits(objects, method = "vanilla", screening = "paper")
  expect_true(vanilla$pooled[[5]])
  expect_gt(max(abs(vanilla$parameters$mean)), 10)
})

test_that("without an honest majority the aggregation is an R error listing the machines", {
  fits <- lapply(1:3, function(i) gmm(machine_samples(i), 3, seed = i))
  # Two machines send well-framed messages whose covariances are not positive definite.
  for (i in 1:2) fits[[i]]$parameters$variance$sigma[, , 1] <- matrix(c(1, 2, 2, 1), 2)
  expect_error(aggregate_fits(fits), "no honest majority.*1: a matrix is not symmetric")
})
