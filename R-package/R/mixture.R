# Gaussian mixtures as R users hold them (mclust's layout) and as the C API takes them.
#
# parameters = list(pro = G weights, mean = d x G matrix, variance = list(sigma = d x d x G
# array)); the C API takes weights, means (K x d row-major: the d x G matrix's storage) and
# covariances (K x d x d row-major, or K x d variances for diagonal ones).

cov_kinds <- c(full = 0L, diagonal = 1L)

model_name <- function(covariance) {
  c(full = "VVV", diagonal = "VVI")[[covariance]]
}

# The C list(k, d, kind, weights, means, covs) of an R parameters list.
c_mixture <- function(parameters, covariance) {
  mean <- as.matrix(parameters$mean)
  d <- nrow(mean)
  G <- ncol(mean)
  if (length(parameters$pro) != G) {
    stop(sprintf("pro must hold G = %d weights", G), call. = FALSE)
  }
  list(k = G, d = d, kind = cov_kinds[[covariance]], weights = as.double(parameters$pro),
       means = as.double(mean), covs = c_covs(parameters$variance$sigma, d, G, covariance))
}

# The C covariance array of a d x d x G array sigma (its diagonals for diagonal ones).
c_covs <- function(sigma, d, G, covariance) {
  if (is.null(sigma) || !identical(as.integer(dim(sigma)), as.integer(c(d, d, G)))) {
    stop(sprintf("variance$sigma must be a %d x %d x %d array (d x d x G)", d, d, G),
         call. = FALSE)
  }
  as.double(if (covariance == "full") sigma else apply(sigma, 3, diag))
}

# The R parameters list of a C mixture; `variables` names the d dimensions.
r_parameters <- function(mix, variables = NULL) {
  d <- mix$d
  G <- mix$k
  covariance <- names(cov_kinds)[cov_kinds == mix$kind]
  components <- seq_len(G)
  mean <- matrix(mix$means, d, G, dimnames = list(variables, components))
  sigma <- if (covariance == "full") {
    array(mix$covs, c(d, d, G))
  } else {
    variances <- matrix(mix$covs, d, G)
    array(vapply(components, function(k) diag(variances[, k], d), numeric(d * d)), c(d, d, G))
  }
  dimnames(sigma) <- list(variables, variables, components)
  variance <- list(modelName = model_name(covariance), d = d, G = G, sigma = sigma)
  # mclust's own fields of these models, so that its functions (estep, dens, ...) take them.
  if (covariance == "full") {
    variance$cholsigma <- array(vapply(components, function(k) chol(sigma[, , k]),
                                       numeric(d * d)), c(d, d, G), dimnames(sigma))
  } else {
    variance$scale <- apply(variances, 2, function(v) exp(mean(log(v))))
    variance$shape <- sweep(variances, 2, variance$scale, "/")
  }
  list(pro = stats::setNames(mix$weights, components), mean = mean, variance = variance)
}

# A numeric matrix of samples (rows) from a matrix, data frame or vector, with clear errors.
sample_matrix <- function(data, what = "data", d = NULL) {
  if (is.data.frame(data)) {
    numeric_columns <- vapply(data, is.numeric, logical(1))
    if (!all(numeric_columns)) {
      stop(sprintf("%s: columns %s are not numeric", what,
                   paste(names(data)[!numeric_columns], collapse = ", ")), call. = FALSE)
    }
    data <- as.matrix(data)
  }
  if (is.null(dim(data))) data <- matrix(data, ncol = 1)
  if (!is.numeric(data) || length(dim(data)) != 2) {
    stop(sprintf("%s must be a numeric matrix, data frame or vector", what), call. = FALSE)
  }
  if (nrow(data) == 0 || ncol(data) == 0) {
    stop(sprintf("%s has no samples or no columns", what), call. = FALSE)
  }
  if (anyNA(data)) {
    stop(sprintf("%s contains missing values (NA or NaN): remove or impute them first", what),
         call. = FALSE)
  }
  if (!is.null(d) && ncol(data) != d) {
    stop(sprintf("%s has %d columns, the mixture has d = %d dimensions", what, ncol(data), d),
         call. = FALSE)
  }
  storage.mode(data) <- "double"
  data
}

# A whole number >= lower, for counts and seeds.
whole_number <- function(x, name, lower = 0) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x) || x != floor(x) || x < lower ||
      x > 2^53) {
    stop(sprintf("'%s' must be a whole number >= %s", name, format(lower)), call. = FALSE)
  }
  as.double(x)
}

# A finite number >= 0.
non_negative <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || !is.finite(x) || x < 0) {
    stop(sprintf("'%s' must be a finite number >= 0", name), call. = FALSE)
  }
  as.double(x)
}

# Densities, responsibilities and classification of new data under a mixture.
predict_mixture <- function(parameters, covariance, newdata) {
  d <- nrow(as.matrix(parameters$mean))
  x <- sample_matrix(newdata, "newdata", d)
  # Columns named like the fit's variables are taken by name, in any order.
  variables <- rownames(parameters$mean)
  if (!is.null(variables) && !is.null(colnames(x)) && setequal(colnames(x), variables)) {
    x <- x[, variables, drop = FALSE]
  }
  out <- .Call(mkr_gmm_predict, t(x), nrow(x), d, c_mixture(parameters, covariance))
  z <- matrix(out$z, nrow(x), length(parameters$pro), byrow = TRUE,
              dimnames = list(rownames(x), names(parameters$pro)))
  list(classification = max.col(z, ties.method = "first"), z = z,
       density = exp(out$log_density), log_density = out$log_density)
}

predict.mixkern_mixture <- function(object, newdata, ...) {
  if (missing(newdata)) {
    if (is.null(object$data)) stop("predict: give newdata", call. = FALSE)
    newdata <- object$data
  }
  predict_mixture(object$parameters, object$covariance, newdata)
}
