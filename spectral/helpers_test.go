package spectral

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/kernels/cpu"
)

// cpuGemmer is the pure-Go backend's product (the packed kernels of
// kernels/cpu) without the backend package, which imports this one. The
// shapes are the output's and op(a)'s inner size; the kernels check the
// rest against the slices.
type cpuGemmer struct {
	g       cpu.Gram
	workers int
}

func newCPUGemmer(workers int) *cpuGemmer { return &cpuGemmer{workers: workers} }

func (c *cpuGemmer) Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, out blas64.General) error {
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	c.g.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, out.Rows, out.Cols, k, alpha, a.Data, a.Stride, b.Data, b.Stride, beta, out.Data, out.Stride, c.workers)
	return nil
}
