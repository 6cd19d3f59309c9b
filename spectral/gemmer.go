package spectral

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Gemmer is the one primitive spectral needs from a backend; backend.Backend
// has it. It computes c = alpha·op(a)·op(b) + beta·c. Like a backend, a
// Gemmer is used by one goroutine at a time: the solvers here serialize
// their calls.
type Gemmer interface {
	Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) error
}
