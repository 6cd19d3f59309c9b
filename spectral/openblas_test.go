//go:build openblas && cgo

package spectral_test

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/openblas"
)

// With the openblas backend compiled in, every test also runs on it, and
// the reference is LAPACK's dsyevd (its SymEig with vectors) and dgemm.
func init() {
	open := func() backend.Backend {
		be, err := openblas.New(backend.Options{})
		if err != nil {
			panic(err)
		}
		return be
	}
	testBackends["openblas"] = open
	lapack := open()
	reference = func(a, m blas64.General) ([]float64, blas64.General) {
		u := backend.Clone(a)
		w, err := lapack.SymEig(u, true)
		if err != nil {
			panic(err)
		}
		p := backend.NewGeneral(m.Rows, a.Rows)
		if m.Rows > 0 && a.Rows > 0 {
			if err := lapack.Gemm(blas.NoTrans, blas.NoTrans, 1, m, u, 0, p); err != nil {
				panic(err)
			}
		}
		return w, p
	}
	base := benchBackends
	benchBackends = func() map[string]backend.Backend {
		out := base()
		out["openblas"] = open()
		return out
	}
}
