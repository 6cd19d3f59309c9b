package spectral

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// symCPUGemmer is the pure-Go backend's set of primitives: cpuGemmer with
// the symmetric products that the band reduction finds by type assertion.
type symCPUGemmer struct{ *cpuGemmer }

func (c symCPUGemmer) Syr2k(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, out blas64.General) error {
	c.g.Syr2k(tA != blas.NoTrans, out.Rows, x.Cols, alpha, x.Data, x.Stride, y.Data, y.Stride, beta, out.Data, out.Stride, c.workers)
	return nil
}

func (c symCPUGemmer) SymmUpper(alpha float64, a, x blas64.General, beta float64, out blas64.General) error {
	c.g.SymmUpper(a.Rows, x.Cols, alpha, a.Data, a.Stride, x.Data, x.Stride, beta, out.Data, out.Stride, c.workers)
	return nil
}

// BenchmarkReduceToBand times stage 1 alone (dense → band, b = 64, ten
// rows carried) on the pure-Go primitives and, in an openblas build, the
// openblas backend's, with the process CPU seconds per run beside the
// wall time (the look-ahead's aim is to keep both cores busy):
//
//	go test -run '^$' -bench ReduceToBand -benchtime 4x ./spectral/
func BenchmarkReduceToBand(b *testing.B) {
	for _, n := range []int{4096} {
		rng := rand.New(rand.NewPCG(3, uint64(n)))
		a0, _ := randomSymmetric(rng, n)
		carry0 := backend.NewGeneral(n, 10)
		for i := range carry0.Data {
			carry0.Data[i] = rng.NormFloat64()
		}
		for name, g := range timingGemmers() {
			b.Run(fmt.Sprintf("n=%d/%s", n, name), func(b *testing.B) {
				a, carry := backend.Clone(a0), backend.Clone(carry0)
				var cpu float64
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					copy(a.Data, a0.Data)
					copy(carry.Data, carry0.Data)
					c0 := processCPU()
					b.StartTimer()
					if _, err := reduceToBand(g, a, 64, carry, false); err != nil {
						b.Fatal(err)
					}
					cpu += processCPU() - c0
				}
				b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			})
		}
	}
}
