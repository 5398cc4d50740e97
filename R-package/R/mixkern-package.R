# The library's version, checked against the header the package was compiled with.
mixkern_version <- function() .Call(mkr_version)

# The C library's default options (the tests check that the R functions' defaults equal them).
gmm_library_defaults <- function() .Call(mkr_gmm_defaults)
mixreg_library_defaults <- function() .Call(mkr_mixreg_defaults)
