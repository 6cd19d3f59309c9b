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

// A Gemmer may also have these symmetric primitives (both CPU backends
// have both); stage 1 then makes one call per panel for each product where
// it would otherwise make a GEMM per block column. Both read and write the
// upper triangle only. And it may have coreYielder.
type (
	// symmer sets c = alpha·a·b + beta·c for the symmetric m×m a (upper
	// triangle read) and m×n b, c.
	symmer interface {
		SymmUpper(alpha float64, a, b blas64.General, beta float64, c blas64.General) error
	}
	// coreYielder stops a backend's own threads, which would otherwise
	// spin beside the goroutines of the stages that follow (openblas).
	coreYielder interface{ YieldCores() }
	// syr2ker updates the upper triangle of the n×n c with
	// alpha·(x·yᵀ + y·xᵀ) + beta·c for n×k x, y (tA = blas.NoTrans).
	syr2ker interface {
		Syr2k(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error
	}
)

// yieldCores hands g's threads' cores to the goroutines that come next,
// where g has threads of its own that keep them.
func yieldCores(g Gemmer) {
	if y, ok := g.(coreYielder); ok {
		y.YieldCores()
	}
}
