// Package openblas exposes OpenBLAS's own control functions (thread count,
// build configuration) to Go. BLAS and LAPACK themselves are reached through
// gonum.org/v1/netlib; this package covers what the standard CBLAS and
// LAPACKE interfaces do not.
//
// It is compiled only with cgo and the build tag "openblas". The library is
// chosen at link time through CGO_LDFLAGS (the Makefile passes
// `pkg-config --libs openblas lapacke`); the sources carry no #cgo LDFLAGS so
// that which build of OpenBLAS is linked, and how, stays the builder's
// choice. The C prototypes are declared here instead of including <cblas.h>,
// so no include path is needed either.
package openblas
