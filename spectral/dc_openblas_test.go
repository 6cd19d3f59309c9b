//go:build openblas && cgo

package spectral

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/lapack/lapacke"
)

// dcRefDstedc runs LAPACK's divide and conquer (compz = 'I') through LAPACKE:
// eigenvalues ascending and Z with the eigenvectors as columns.
func dcRefDstedc(t testing.TB, m dcCase) ([]float64, blas64.General) {
	n := m.n()
	d, e := m.copies()
	z := blas64.General{Rows: n, Cols: n, Stride: max(n, 1), Data: make([]float64, max(n*n, 1))}
	work, iwork := []float64{0}, []int32{0}
	if !lapacke.Dstedc('I', n, d, e, z.Data, z.Stride, work, -1, iwork, -1) {
		t.Fatalf("%s: dstedc workspace query failed", m.name)
	}
	work = make([]float64, int(work[0]))
	iwork = make([]int32, int(iwork[0]))
	if !lapacke.Dstedc('I', n, d, e, z.Data, z.Stride, work, len(work), iwork, len(iwork)) {
		t.Fatalf("%s: dstedc failed", m.name)
	}
	return d, z
}

// TestDCAgainstLAPACK compares eigenvalues and projections with LAPACK's
// own divide and conquer, an implementation we share no code with.
func TestDCAgainstLAPACK(t *testing.T) {
	gv := newCPUGemmer(0)
	for bname, g := range dcBackends(t) {
		for _, m := range dcCases(testing.Short()) {
			n := m.n()
			if n == 0 {
				continue
			}
			w := dcRandomBlock(n, 5, 3)
			p := blas64.General{Rows: n, Cols: w.Cols, Stride: w.Stride, Data: append([]float64(nil), w.Data...)}
			d, e := m.copies()
			if err := dcProject(d, e, p, g, 0); err != nil {
				t.Fatalf("%s/%s: %v", bname, m.name, err)
			}
			dl, zl := dcRefDstedc(t, m)
			dcCompareProjections(t, fmt.Sprintf("%s/%s vs dstedc", bname, m.name), m, w, d, p, dl, dcProjectRows(t, gv, zl, w))
		}
	}
}

func BenchmarkDCVsDstedc(b *testing.B) {
	for _, n := range []int{1024, 2048, 4096} {
		m := dcGOE(n, 1)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var d []float64
			cpu := dcProcessCPU()
			for i := 0; i < b.N; i++ {
				var z blas64.General
				d, z = dcRefDstedc(b, m)
				dcBenchSink += z.Data[0]
			}
			b.StopTimer()
			dcBenchCPU(b, cpu)
			dcCheckBench(b, m, d)
		})
	}
}
