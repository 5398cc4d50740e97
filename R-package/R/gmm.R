# Gaussian mixture fits: gmm() and its methods.

gmm <- function(data, G, covariance = c("full", "diagonal"), start = NULL, z = NULL,
                classification = NULL, weights = NULL, reg_covar = 1e-6, tol = 1e-3,
                max_iter = 100, n_init = 1, kmeans_iter = 10, seed = 0, prior_samples = 0,
                penalized = FALSE, threads = 1) {
  call <- match.call()
  covariance <- match.arg(covariance)
  x <- sample_matrix(data)
  n <- nrow(x)
  d <- ncol(x)
  G <- whole_number(G, "G", 1)
  if (G > n) {
    stop(sprintf("gmm: G = %d components need at least %d samples; the data have n = %d",
                 G, G, n), call. = FALSE)
  }
  if (!is.null(weights)) {
    if (!is.numeric(weights) || length(weights) != n || anyNA(weights)) {
      stop(sprintf("gmm: weights must be %d numbers (one per sample), without NA", n),
           call. = FALSE)
    }
    weights <- as.double(weights)
  }
  if (!is.logical(penalized) || length(penalized) != 1 || is.na(penalized)) {
    stop("'penalized' must be TRUE or FALSE", call. = FALSE)
  }
  opts <- list(reg_covar = non_negative(reg_covar, "reg_covar"), tol = non_negative(tol, "tol"),
               max_iter = whole_number(max_iter, "max_iter"),
               n_init = whole_number(n_init, "n_init", 1),
               kmeans_iter = whole_number(kmeans_iter, "kmeans_iter"),
               seed = whole_number(seed, "seed"),
               prior_samples = non_negative(prior_samples, "prior_samples"),
               penalized = penalized, threads = whole_number(threads, "threads", 1))
  fit <- .Call(mkr_gmm_fit, t(x), n, d, weights, G, cov_kinds[[covariance]], opts,
               gmm_start(start, z, classification, n, d, G, covariance))
  variables <- colnames(x)
  parameters <- r_parameters(fit$mixture, variables)
  zmat <- matrix(fit$z, n, G, byrow = TRUE, dimnames = list(rownames(x), seq_len(G)))
  df <- gmm_df(G, d, covariance)
  structure(list(call = call, data = x, n = n, d = d, G = G, covariance = covariance,
                 modelName = model_name(covariance), parameters = parameters, z = zmat,
                 classification = fit$classification, loglik = fit$loglik, df = df,
                 bic = -2 * fit$loglik + df * log(n), iterations = fit$iterations,
                 converged = fit$converged, trace = fit$trace, reseeded = fit$reseeded,
                 regularized = fit$regularized, best_restart = fit$best_restart,
                 weights = weights),
            class = c("mixkern_gmm", "mixkern_mixture"))
}

# Free parameters: (G - 1) weights, G d means, G d (d + 1) / 2 or G d covariance values.
gmm_df <- function(G, d, covariance) {
  (G - 1) + G * d + G * if (covariance == "full") d * (d + 1) / 2 else d
}

# The C start list (or NULL) from one of: parameters, responsibilities z, a classification.
gmm_start <- function(start, z, classification, n, d, G, covariance) {
  given <- !c(is.null(start), is.null(z), is.null(classification))
  if (sum(given) > 1) {
    stop("gmm: give at most one of 'start', 'z' and 'classification'", call. = FALSE)
  }
  none <- list(weights = NULL, means = NULL, covs = NULL, resp = NULL)
  if (!is.null(classification)) {
    if (length(classification) != n || anyNA(classification)) {
      stop(sprintf("gmm: classification must hold n = %d labels, without NA", n),
           call. = FALSE)
    }
    labels <- factor(classification)
    if (nlevels(labels) != G) {
      stop(sprintf("gmm: classification has %d distinct labels, G = %d", nlevels(labels), G),
           call. = FALSE)
    }
    z <- diag(G)[as.integer(labels), , drop = FALSE]
  }
  if (!is.null(z)) {
    z <- as.matrix(z)
    if (!is.numeric(z) || !identical(dim(z), as.integer(c(n, G))) || anyNA(z)) {
      stop(sprintf("gmm: z must be an n x G = %d x %d matrix without NA", n, G), call. = FALSE)
    }
    none$resp <- as.double(t(z))
    return(none)
  }
  if (is.null(start)) return(NULL)
  if (!is.null(start$pro)) {
    if (length(start$pro) != G) {
      stop(sprintf("gmm: start$pro must hold G = %d weights", G), call. = FALSE)
    }
    none$weights <- as.double(start$pro)
  }
  if (!is.null(start$mean)) {
    mean <- as.matrix(start$mean)
    if (!identical(dim(mean), as.integer(c(d, G)))) {
      stop(sprintf("gmm: start$mean must be a d x G = %d x %d matrix", d, G), call. = FALSE)
    }
    none$means <- as.double(mean)
  }
  if (!is.null(start$variance$sigma)) {
    none$covs <- c_covs(start$variance$sigma, d, G, covariance)
  }
  none
}

print.mixkern_gmm <- function(x, ...) {
  cat(sprintf("Gaussian mixture (mixkern), G = %d components, %s covariances (%s)\n",
              x$G, x$covariance, x$modelName))
  cat(sprintf("n = %d samples, d = %d; log-likelihood %.6g, df %d, BIC %.6g\n", x$n, x$d,
              x$loglik, as.integer(x$df), x$bic))
  cat(sprintf("EM: %d iterations, %s\n", as.integer(x$iterations),
              if (x$converged) "converged" else "stopped at max_iter"))
  invisible(x)
}

summary.mixkern_gmm <- function(object, ...) {
  structure(list(G = object$G, n = object$n, d = object$d, covariance = object$covariance,
                 modelName = object$modelName, loglik = object$loglik, df = object$df,
                 bic = object$bic, aic = -2 * object$loglik + 2 * object$df,
                 pro = object$parameters$pro, mean = object$parameters$mean,
                 table = table(factor(object$classification, seq_len(object$G))),
                 iterations = object$iterations, converged = object$converged),
            class = "summary.mixkern_gmm")
}

print.summary.mixkern_gmm <- function(x, digits = getOption("digits"), ...) {
  cat(sprintf("Gaussian mixture (mixkern): G = %d, %s covariances (%s), n = %d, d = %d\n\n",
              x$G, x$covariance, x$modelName, x$n, x$d))
  print(data.frame(log.likelihood = x$loglik, n = x$n, df = x$df, BIC = x$bic, AIC = x$aic,
                   row.names = ""), digits = digits)
  cat("\nClustering table:\n")
  print(x$table)
  cat("\nMixing probabilities:\n")
  print(x$pro, digits = digits)
  cat("\nMeans:\n")
  print(x$mean, digits = digits)
  cat(sprintf("\nEM: %d iterations, %s\n", as.integer(x$iterations),
              if (x$converged) "converged" else "stopped at max_iter"))
  invisible(x)
}

logLik.mixkern_gmm <- function(object, ...) {
  structure(object$loglik, df = object$df, nobs = object$n, class = "logLik")
}

nobs.mixkern_gmm <- function(object, ...) object$n

coef.mixkern_gmm <- function(object, ...) object$parameters
