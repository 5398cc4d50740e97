#!/usr/bin/env bash
# Builds the source tarball (tools/stage.sh) and runs `R CMD check --as-cran` on it, as CRAN
# would, in target/r/. The PDF manual is not built (--no-manual: it needs LaTeX; the Rd files
# are still checked), and the checks that ask CRAN's servers are skipped when offline
# (_R_CHECK_CRAN_INCOMING_REMOTE_=false). Prints the check's log; exits non-zero on an ERROR.
#
#   bash R-package/tools/check.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tarball=$(bash "$here/stage.sh")
cd "$(dirname "$tarball")"
echo "tarball: $tarball ($(wc -c < "$tarball") bytes)"
_R_CHECK_CRAN_INCOMING_REMOTE_=false R CMD check --as-cran --no-manual "$tarball"
