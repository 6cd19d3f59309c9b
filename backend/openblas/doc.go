// Package openblas is the CPU backend that hands the work to OpenBLAS: the
// Gram as one Dsyrk per chunk, the dense factorizations through LAPACKE's
// divide-and-conquer and MRRR eigensolvers (dsyevd, dsyevr), Cholesky and
// Householder QR.
//
// It needs cgo and the build tag "openblas", and is linked against the
// library named in CGO_LDFLAGS:
//
//	CGO_LDFLAGS="$(pkg-config --libs openblas lapacke)" go test -tags openblas ./backend/...
//
// (Do not put pkg-config's --cflags into CGO_CFLAGS: its OpenBLAS include
// directory shadows the cblas.h that gonum.org/v1/netlib/blas/netlib ships,
// and that package then fails to compile with "unknown type name blasint".
// Nothing here needs an include path.)
//
// Without the tag or without cgo the package still registers its name, with
// a factory that returns an error matching backend.ErrUnavailable and saying
// how to build it, so `reconalign devices` can explain what is missing.
//
// Registering does NOT install netlib as gonum's global BLAS/LAPACK
// (blas64.Use, lapack64.Use): this backend calls netlib and LAPACKE
// directly, and the "gonum" backend in the same binary keeps measuring pure
// Go, so the two can be compared.
//
// OpenBLAS's thread count is process-wide. Each backend remembers the count
// it was opened with (backend.Options.Threads, 0 for OpenBLAS's default,
// which honours OPENBLAS_NUM_THREADS) and re-applies it before every call, so
// two backends with different counts in one process each get theirs.
//
// OpenBLAS chooses its kernels from the CPU's model number when it loads. A
// release older than the CPU (Debian 12's 0.3.21 on Intel Emerald Rapids,
// for one) falls back to generic SSE3 kernels several times slower than the
// machine allows; CoreTypeAdvice names the OPENBLAS_CORETYPE that fixes it.
// The reconalign command applies it by re-executing itself; a program that
// embeds this backend sets the variable in its own environment.
package openblas

// Name is the registry name of this backend.
const Name = "openblas"

// Priority ranks this backend above the pure-Go one (priority 0) in
// backend.OpenBest.
const Priority = 10
