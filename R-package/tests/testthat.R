library(testthat)
library(mixkern)

test_check("mixkern")
