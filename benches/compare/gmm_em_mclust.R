#!/usr/bin/env Rscript
# mclust::em(): ms per EM iteration from the shared start (peer benchmark).
#
#   python3 benches/compare/gmm_data.py          # writes target/compare/
#   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 Rscript benches/compare/gmm_em_mclust.R \
#       [dir=target/compare] [iters=10] [repeats=5] [big_repeats=3] [kinds=full,diag] [only=name,...]
#
# (benches/compare/run_peers.sh installs r-base-core and r-cran-mclust from Debian and runs
# it.) Model "VVV" for full covariances, "VVI" for diagonal ones (mclust's names: variable
# volume, shape and orientation; VVI = variable volume and shape, axis-aligned).
#
# mclust::em(data, modelName, parameters, control = emControl(tol = c(0, 0), itmax = c(T, .)))
# is emVVV(): estepVVV() (one E-step from the given parameters, Fortran esvvv), then
# meVVV() (Fortran mevvv), whose loop is  M-step; E-step; err = |l_old - l| / (1 + |l|);
# "if (err .gt. tol .and. iter .lt. maxi) goto 100". With tol = 0 it runs exactly T
# (M-step + E-step) iterations; attr(fit, "info")["iterations"] is -T when the cap is hit
# (checked below). So one em() call = T M-steps and T + 1 E-steps; the time per iteration
# reported is (em() time) / T, the extra E-step included, nothing subtracted.
# mclust's M-step builds each Cholesky factor of Sigma_k by Givens rotations (drotg/drot)
# of sqrt(z_ik)(x_i - mu_k), one sample at a time: O(N K d^2) rotations, the reason it
# falls behind at d = 32. There is no reg_covar (no prior here); a component whose
# Cholesky factor gets too ill-conditioned (min/max diagonal <= sqrt(eps)) stops the fit.
# Start: pro = weights, mean = d x K, VVV variance from sigma (and its upper Cholesky
# factor cholsigma, which is what the E-step reads); VVI from scale_k = prod(var_k)^(1/d)
# and shape_k = var_k / scale_k (det(shape) = 1).
# The data matrix is converted to an N x d R matrix once, outside the timing.
#
# Output: one line per (size, kind):
#   RESULT mclust <N> <d> <K> <kind> <T> <median wall ms/iter> <min wall ms/iter>
#          <median cpu ms/iter> <ll_final>
# (wall-clock from Sys.time(); CPU = user + system time from proc.time(), 1 ms resolution.)
# ll_final = fit$loglik / N, the mean log-likelihood at the final parameters (mclust's
# last E-step comes after the last M-step).

suppressPackageStartupMessages(library(mclust))

args <- commandArgs(trailingOnly = TRUE)
opt <- list(dir = NULL, iters = "10", repeats = "5", big_repeats = "3", kinds = "full,diag", only = "")
for (a in args) {
  kv <- strsplit(a, "=", fixed = TRUE)[[1]]
  opt[[kv[1]]] <- kv[2]
}
if (is.null(opt$dir)) {
  file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  script_dir <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg))) else "."
  opt$dir <- file.path(script_dir, "..", "..", "target", "compare")
}
iters <- as.integer(opt$iters)
repeats <- as.integer(opt$repeats)
big_repeats <- as.integer(opt$big_repeats)
kinds <- strsplit(opt$kinds, ",")[[1]]
only <- if (nzchar(opt$only)) strsplit(opt$only, ",")[[1]] else character(0)

read_f64 <- function(name, part, len) {
  path <- file.path(opt$dir, paste0(name, ".", part, ".f64"))
  v <- readBin(path, what = "double", n = len + 1, size = 8, endian = "little")
  stopifnot(length(v) == len)
  v
}

lines <- readLines(file.path(opt$dir, "gmm_sizes.txt"))
lines <- lines[!grepl("^#", lines) & nzchar(trimws(lines))]

cat(sprintf("# mclust %s, %s\n", as.character(packageVersion("mclust")), R.version.string), file = stderr())

for (line in lines) {
  f <- strsplit(trimws(line), "[[:space:]]+")[[1]]
  name <- f[1]; n <- as.integer(f[2]); d <- as.integer(f[3]); k <- as.integer(f[4])
  if (length(only) && !(name %in% only)) next
  # row-major N x d on disk = column-major d x N: transpose once to R's N x d.
  x <- t(matrix(read_f64(name, "x", n * d), nrow = d, ncol = n))
  w0 <- read_f64(name, "weights", k)
  m0 <- matrix(read_f64(name, "means", k * d), nrow = d, ncol = k)  # column k = mean k
  for (kind in kinds) {
    if (kind == "full") {
      sigma <- array(read_f64(name, "covs_full", k * d * d), c(d, d, k))
      cholsigma <- array(0, c(d, d, k))
      for (g in seq_len(k)) cholsigma[, , g] <- chol(sigma[, , g])
      variance <- list(modelName = "VVV", d = d, G = k, sigma = sigma, cholsigma = cholsigma)
      model <- "VVV"
    } else {
      vars <- matrix(read_f64(name, "covs_diag", k * d), nrow = d, ncol = k)
      scale <- apply(vars, 2, function(v) exp(mean(log(v))))
      shape <- sweep(vars, 2, scale, "/")
      sigma <- array(0, c(d, d, k))
      for (g in seq_len(k)) sigma[, , g] <- diag(vars[, g], d)
      variance <- list(modelName = "VVI", d = d, G = k, sigma = sigma, scale = scale, shape = shape)
      model <- "VVI"
    }
    params <- list(pro = w0, mean = m0, variance = variance)
    ctrl <- emControl(tol = c(0, 0), itmax = c(iters, .Machine$integer.max))
    reps <- if (as.numeric(n) * d * k > 1e7) big_repeats else repeats
    times <- numeric(0)
    cpu <- numeric(0)
    ok <- TRUE
    for (r in 0:reps) {
      c0 <- proc.time()
      t0 <- Sys.time()
      fit <- em(data = x, modelName = model, parameters = params, control = ctrl, warn = FALSE)
      dt <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
      pc <- proc.time() - c0
      dc <- pc[["user.self"]] + pc[["sys.self"]]
      its <- attr(fit, "info")[["iterations"]]
      if (is.na(fit$loglik) || abs(its) != iters) {
        # err = 0 exactly (a fixed point) or a singular covariance stops mclust early.
        cat(sprintf("# mclust %s %s: em ran %s iterations, not %d (loglik %s): skipped\n",
                    name, kind, its, iters, fit$loglik), file = stderr())
        ok <- FALSE
        break
      }
      if (r > 0) {  # r = 0 is the warm-up
        times <- c(times, dt)
        cpu <- c(cpu, dc)
      }
    }
    if (!ok) next
    per <- 1e3 * times / iters
    cat(sprintf("RESULT mclust %d %d %d %s %d %.2f %.2f %.2f %.10f\n", n, d, k, kind, iters,
                median(per), min(per), 1e3 * median(cpu) / iters, fit$loglik / n))
  }
}
