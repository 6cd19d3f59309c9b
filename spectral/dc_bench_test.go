package spectral

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

// The benchmarks solve the GOE tridiagonal model, whose merges deflate
// little (a random tridiagonal deflates most poles and flatters D&C). Each
// checks its last eigenvalues against Dsterf, after the clock, and reports
// CPU seconds per operation beside the wall time.

var benchSink float64

// benchLarge adds the ImageNet-width order 12,288 to BenchmarkDCProject
// (minutes and 200 MB per run); set RECONALIGN_BENCH_LARGE=1 to run it.
var benchLarge = os.Getenv("RECONALIGN_BENCH_LARGE") == "1"

// benchCPU reports the CPU seconds per operation spent since start (see
// processCPU); call it right after the timed loop.
func benchCPU(b *testing.B, start float64) {
	b.ReportMetric((processCPU()-start)/float64(b.N), "cpu-s/op")
}

// checkBenchEigenvalues checks the last run's eigenvalues, after the clock.
func checkBenchEigenvalues(b *testing.B, m tridiag, d []float64) {
	b.Helper()
	if r := eigenvalueRatio(m, d, dsterf(b, m)); !(r <= ratioLimit) {
		b.Fatalf("%s: eigenvalue ratio %.3g against Dsterf", m.name, r)
	}
}

func BenchmarkDCVectors(b *testing.B) {
	for _, n := range []int{1024, 2048, 4096} {
		m := goeTridiag(n, 1)
		for bname, g := range backends(b) {
			b.Run(fmt.Sprintf("n=%d/%s", n, bname), func(b *testing.B) {
				var d []float64
				cpu := processCPU()
				for i := 0; i < b.N; i++ {
					var e []float64
					d, e = m.copies()
					z, err := dcVectors(d, e, g, 0)
					if err != nil {
						b.Fatal(err)
					}
					benchSink += z.Data[0]
				}
				b.StopTimer()
				benchCPU(b, cpu)
				checkBenchEigenvalues(b, m, d)
			})
		}
	}
}

// BenchmarkDsteqr is gonum's implicit QL/QR with vectors, the pure-Go
// alternative (n = 4,096 takes many minutes and is left out).
func BenchmarkDsteqr(b *testing.B) {
	for _, n := range []int{1024, 2048} {
		m := goeTridiag(n, 1)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var d []float64
			cpu := processCPU()
			for i := 0; i < b.N; i++ {
				var e []float64
				d, e = m.copies()
				z := make([]float64, n*n)
				if !(lapackgonum.Implementation{}).Dsteqr(lapack.EVTridiag, n, d, e, z, n, make([]float64, 2*n)) {
					b.Fatal("Dsteqr did not converge")
				}
				benchSink += z[0]
			}
			b.StopTimer()
			benchCPU(b, cpu)
			checkBenchEigenvalues(b, m, d)
		})
	}
}

func BenchmarkDCProject(b *testing.B) {
	sizes := []int{4096}
	if benchLarge {
		sizes = append(sizes, 12288)
	}
	for _, n := range sizes {
		m := goeTridiag(n, 1)
		for _, r := range []int{10, 1000} {
			w0 := randomBlock(n, r, 2)
			for bname, g := range backends(b) {
				b.Run(fmt.Sprintf("n=%d/R=%d/%s", n, r, bname), func(b *testing.B) {
					var d []float64
					cpu := processCPU()
					for i := 0; i < b.N; i++ {
						w := blas64.General{Rows: n, Cols: r, Stride: w0.Stride, Data: slices.Clone(w0.Data)}
						var e []float64
						d, e = m.copies()
						if err := dcProject(d, e, w, g, 0); err != nil {
							b.Fatal(err)
						}
						benchSink += w.Data[0]
					}
					b.StopTimer()
					benchCPU(b, cpu)
					checkBenchEigenvalues(b, m, d)
				})
			}
		}
	}
}
