# Mixtures of linear regressions: mixreg() and its methods.

noise_models <- c(component = 0L, shared = 1L, known = 2L)
mixreg_inits <- c(least_squares = 1L, random = 2L)

mixreg <- function(formula, data, K, noise = c("component", "shared", "known"), sigma = NULL,
                   symmetric = FALSE, start = NULL, init = c("auto", "least_squares", "random"),
                   tol = 1e-8, max_iter = 200, n_init = 1, seed = 0) {
  call <- match.call()
  noise <- match.arg(noise)
  init <- match.arg(init)
  K <- whole_number(K, "K", 1)
  parts <- split_formula(formula)
  mf <- tryCatch(
    stats::model.frame(parts$formula, data, na.action = stats::na.fail),
    error = function(e) {
      stop("mixreg: ", conditionMessage(e),
           if (grepl("missing values", conditionMessage(e))) ": remove the rows with NA first",
           call. = FALSE)
    })
  terms <- attr(mf, "terms")
  y <- stats::model.response(mf, "numeric")
  X <- stats::model.matrix(terms, mf)
  intercept <- attr(terms, "intercept") == 1
  X <- X[, colnames(X) != "(Intercept)", drop = FALSE]
  if (ncol(X) == 0) stop("mixreg: the formula needs at least one covariate", call. = FALSE)
  if (is.null(y)) stop("mixreg: the formula needs a response (y ~ ...)", call. = FALSE)
  n <- nrow(X)
  d <- ncol(X)
  p <- d + intercept
  if (K > n) {
    stop(sprintf("mixreg: K = %d components need at least %d samples; the data have n = %d",
                 K, K, n), call. = FALSE)
  }
  if (symmetric && (K != 2 || intercept)) {
    stop("mixreg: the symmetric model needs K = 2 and no intercept (y ~ x - 1 | group)",
         call. = FALSE)
  }
  known_sigma <- 0
  if (noise == "known") {
    if (is.null(sigma) || !is.numeric(sigma) || length(sigma) != 1 || !(sigma > 0)) {
      stop("mixreg: noise = \"known\" needs sigma, the noise standard deviation (> 0)",
           call. = FALSE)
    }
    known_sigma <- as.double(sigma)
  }
  grouped <- !is.null(parts$group)
  order_rows <- seq_len(n)
  sizes <- NULL
  if (grouped) {
    group <- eval(parts$group, data, environment(formula))
    if (length(group) != n || anyNA(group)) {
      stop(sprintf("mixreg: the group variable must hold n = %d values, without NA", n),
           call. = FALSE)
    }
    group <- droplevels(factor(group))
    order_rows <- order(group)
    sizes <- as.integer(table(group))
  }
  if (init == "auto") init <- if (grouped && is.null(start)) "least_squares" else "random"
  opts <- list(noise = noise_models[[noise]], known_sigma = known_sigma,
               symmetric = isTRUE(symmetric), init = mixreg_inits[[init]],
               tol = non_negative(tol, "tol"), max_iter = whole_number(max_iter, "max_iter", 1),
               n_init = whole_number(n_init, "n_init", 1), seed = whole_number(seed, "seed"))
  fit <- .Call(mkr_mixreg_fit, t(X[order_rows, , drop = FALSE]), n, d,
               as.double(y[order_rows]), sizes, K, intercept, opts,
               mixreg_start(start, K, p))
  components <- paste0("Comp.", seq_len(K))
  coefficients <- matrix(fit$coefs, p, K, dimnames = list(
    c(if (intercept) "(Intercept)", colnames(X)), components))
  rows <- if (grouped) levels(group) else rownames(mf)
  posterior <- matrix(fit$posterior, length(rows), K, byrow = TRUE,
                      dimnames = list(rows, components))
  row_cluster <- max.col(posterior, ties.method = "first")
  cluster <- if (grouped) row_cluster[as.integer(group)] else row_cluster
  df <- round((fit$bic + 2 * fit$loglik) / log(n))
  structure(list(call = call, formula = formula, grouped = grouped, K = K, n = n,
                 groups = if (grouped) length(rows), noise = noise, symmetric = isTRUE(symmetric),
                 coefficients = coefficients,
                 sigma = stats::setNames(sqrt(fit$sigma2), components),
                 pro = stats::setNames(fit$weights, components), posterior = posterior,
                 cluster = cluster, loglik = fit$loglik, df = df, bic = fit$bic,
                 iterations = fit$iterations, converged = fit$converged, trace = fit$trace,
                 best_restart = fit$best_restart, emptied = fit$emptied,
                 sigma_floored = fit$sigma_floored),
            class = "mixkern_mixreg")
}

# y ~ x | g  ->  list(formula = y ~ x, group = g); without "|", group is NULL.
split_formula <- function(formula) {
  if (!inherits(formula, "formula") || length(formula) != 3) {
    stop("mixreg: formula must be a two-sided formula, y ~ x or y ~ x | group", call. = FALSE)
  }
  rhs <- formula[[3]]
  group <- NULL
  if (is.call(rhs) && identical(rhs[[1]], as.name("|"))) {
    group <- rhs[[3]]
    formula[[3]] <- rhs[[2]]
  }
  list(formula = formula, group = group)
}

# The C start from list(pro = K weights, coefficients = p x K, sigma = K standard deviations).
mixreg_start <- function(start, K, p) {
  if (is.null(start)) return(NULL)
  coefficients <- if (is.numeric(start$coefficients)) as.matrix(start$coefficients)
  if (length(start$pro) != K || !identical(dim(coefficients), as.integer(c(p, K))) ||
      !(length(start$sigma) %in% c(1, K))) {
    stop(sprintf(paste("mixreg: start must be list(pro = %d weights, coefficients = a %d x %d",
                       "matrix, sigma = %d standard deviations)"), K, p, K, K), call. = FALSE)
  }
  list(weights = as.double(start$pro), coefs = as.double(coefficients),
       sigma2 = rep_len(as.double(start$sigma)^2, K))
}

print.mixkern_mixreg <- function(x, ...) {
  cat(sprintf("Mixture of %d linear regressions (mixkern), %s noise%s\n", x$K, x$noise,
              if (x$symmetric) ", symmetric model" else ""))
  cat(sprintf("n = %d samples%s; log-likelihood %.6g, df %d, BIC %.6g\n", x$n,
              if (x$grouped) sprintf(" in %d groups", x$groups) else "", x$loglik,
              as.integer(x$df), x$bic))
  cat("\nCoefficients:\n")
  print(x$coefficients)
  cat("\nsigma:\n")
  print(x$sigma)
  cat("\nMixing probabilities:\n")
  print(x$pro)
  invisible(x)
}

summary.mixkern_mixreg <- function(object, ...) {
  structure(c(unclass(object), list(aic = -2 * object$loglik + 2 * object$df,
                                    table = table(factor(object$cluster, seq_len(object$K))))),
            class = "summary.mixkern_mixreg")
}

print.summary.mixkern_mixreg <- function(x, digits = getOption("digits"), ...) {
  print.mixkern_mixreg(x)
  cat("\n")
  print(data.frame(log.likelihood = x$loglik, n = x$n, df = x$df, BIC = x$bic, AIC = x$aic,
                   row.names = ""), digits = digits)
  cat("\nClustering table (samples):\n")
  print(x$table)
  cat(sprintf("\nEM: %d iterations, %s\n", as.integer(x$iterations),
              if (x$converged) "converged" else "stopped at max_iter"))
  invisible(x)
}

logLik.mixkern_mixreg <- function(object, ...) {
  structure(object$loglik, df = object$df, nobs = object$n, class = "logLik")
}

nobs.mixkern_mixreg <- function(object, ...) object$n

coef.mixkern_mixreg <- function(object, ...) object$coefficients
