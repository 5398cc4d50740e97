# flexmix as an oracle (used by test-mixreg.R and by tools/bench.R, which sources this file).
#
# flexmix with its gaussian driver's sigma replaced by the ML estimate sqrt(sum(w r^2) /
# sum(w)) (its stock driver divides by N - p: not the EM M-step). flexmix's iteration i is
# M-step then E-step, so its iteration 1 gives mixkern's start Q_1 and its iteration T + 1 the
# components after mixkern's T iterations; its @prior after T iterations is mixkern's weights.
ml_driver <- function() {
  drv <- flexmix::FLXMRglm(family = "gaussian")
  define <- drv@defineComponent
  drv@fit <- function(x, y, w, component) {
    fit <- stats::lm.wfit(x, y, w = w)
    define(para = list(coef = stats::coef(fit), df = ncol(x) + 1,
                       sigma = sqrt(sum(w * fit$residuals^2) / sum(w))))
  }
  drv
}
flexmix_parameters <- function(fit) {
  list(coefficients = sapply(fit@components, function(c) c[[1]]@parameters$coef),
       sigma = sapply(fit@components, function(c) c[[1]]@parameters$sigma))
}

