// Package openblas exposes OpenBLAS's own control functions (thread count,
// build configuration) to Go. BLAS and LAPACK themselves are reached through
// gonum.org/v1/netlib; this package covers what the standard CBLAS and
// LAPACKE interfaces do not.
//
// It is compiled only with cgo and the build tag "openblas". The libraries
// are found with pkg-config (openblas and lapacke), so that `go build -tags
// openblas` links them without further settings, and fails at build time,
// naming the missing package, when pkg-config cannot find them; set
// PKG_CONFIG_PATH to choose another build of OpenBLAS. (Without this, a
// build linked despite the missing symbols, because go-nvml asks the linker
// to ignore unresolved ones, and the binary died at start.) The C prototypes
// are declared here instead of including <cblas.h>, so no include path is
// needed.
package openblas
