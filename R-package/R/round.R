# The distributed round: wire messages and the robust aggregation of local fits.

aggregators <- c(dfmr = 0L, vanilla = 1L, trim = 2L, coat = 3L, medoid = 4L)

encode_fit <- function(fit, n = fit$n) {
  if (!inherits(fit, "mixkern_mixture")) {
    stop("encode_fit: fit must be a gmm() fit or a decoded mixture", call. = FALSE)
  }
  .Call(mkr_wire_encode, c_mixture(fit$parameters, fit$covariance), whole_number(n, "n", 1))
}

decode_message <- function(message) {
  if (!is.raw(message)) stop("decode_message: message must be a raw vector", call. = FALSE)
  out <- .Call(mkr_wire_decode, message)
  mixture_object(out$mixture, list(n = out$n), "mixkern_message")
}

# An object of a decoded or aggregated mixture, with predict() from mixkern_mixture.
mixture_object <- function(mix, fields, class) {
  parameters <- r_parameters(mix)
  covariance <- names(cov_kinds)[cov_kinds == mix$kind]
  structure(c(list(G = mix$k, d = mix$d, covariance = covariance,
                   modelName = model_name(covariance), parameters = parameters), fields),
            class = c(class, "mixkern_mixture"))
}

aggregate_fits <- function(fits, method = c("dfmr", "vanilla", "trim", "coat", "medoid"),
                           screening = c("robust", "paper"), rho = NULL, trim_alpha = NULL) {
  method <- match.arg(method)
  screening <- match.arg(screening)
  if (!is.list(fits) || length(fits) == 0) {
    stop("aggregate_fits: fits must be a non-empty list of gmm() fits or raw messages",
         call. = FALSE)
  }
  messages <- lapply(seq_along(fits), function(i) {
    f <- fits[[i]]
    if (is.null(f) || is.raw(f)) f
    else if (inherits(f, "mixkern_mixture")) encode_fit(f)
    else stop(sprintf("aggregate_fits: element %d is neither a fit, a raw message nor NULL", i),
              call. = FALSE)
  })
  number_or_na <- function(v, name) {
    if (is.null(v)) return(NA_real_)
    if (!is.numeric(v) || length(v) != 1 || is.na(v)) {
      stop(sprintf("aggregate_fits: '%s' must be a number", name), call. = FALSE)
    }
    as.double(v)
  }
  out <- .Call(mkr_aggregate, messages, aggregators[[method]], screening == "paper",
               number_or_na(rho, "rho"), number_or_na(trim_alpha, "trim_alpha"))
  machines <- if (is.null(names(fits))) seq_along(fits) else names(fits)
  status <- stats::setNames(.Call(mkr_status_messages, out$status), machines)
  mixture_object(out$mixture, list(
    method = method, screening = screening, status = status,
    status_code = stats::setNames(out$status, machines),
    pooled = stats::setNames(out$selected, machines),
    coat_distance = stats::setNames(out$coat_distance, machines), coat = out$coat,
    radius = out$radius, rho = out$rho, cut = out$cut, valid = out$valid), "mixkern_aggregate")
}

print.mixkern_aggregate <- function(x, ...) {
  cat(sprintf("Aggregate of %d machines (mixkern, %s, %s screening): G = %d, d = %d, %s\n",
              length(x$status), x$method, x$screening, x$G, x$d, x$covariance))
  cat(sprintf("valid %d, pooled %d; COAT machine %d, radius %.4g, cut %.4g\n", x$valid,
              sum(x$pooled), x$coat, x$radius, x$cut))
  print(data.frame(status = x$status, pooled = x$pooled,
                   coat_distance = signif(x$coat_distance, 4)))
  invisible(x)
}

print.mixkern_message <- function(x, ...) {
  cat(sprintf("Decoded mixture (mixkern wire message): G = %d, d = %d, %s, n = %d\n", x$G,
              x$d, x$covariance, as.integer(x$n)))
  invisible(x)
}
