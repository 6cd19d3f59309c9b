package spectral

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/kernels/cpu"
)

// cpuGemmer is the pure-Go backend's product (the packed kernels of
// kernels/cpu) without the backend package, which imports this one.
type cpuGemmer struct {
	g       cpu.Gram
	workers int
}

func newCPUGemmer(workers int) *cpuGemmer { return &cpuGemmer{workers: workers} }

func (c *cpuGemmer) Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, out blas64.General) error {
	m, k := a.Rows, a.Cols
	if tA != blas.NoTrans {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if tB != blas.NoTrans {
		kb, n = n, kb
	}
	if k != kb || out.Rows != m || out.Cols != n {
		panic(fmt.Sprintf("cpuGemmer: op(a) %d×%d by op(b) %d×%d into %d×%d", m, k, kb, n, out.Rows, out.Cols))
	}
	c.g.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a.Data, a.Stride, b.Data, b.Stride, beta, out.Data, out.Stride, c.workers)
	return nil
}
