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

var dcBenchSink float64

// dcBenchLarge adds the ImageNet-width order 12,288 to BenchmarkDCProject
// (minutes and 200 MB per run); set RECONALIGN_BENCH_LARGE=1 to run it.
var dcBenchLarge = os.Getenv("RECONALIGN_BENCH_LARGE") == "1"

// dcBenchCPU reports the CPU seconds per operation spent since start (see
// processCPU); call it right after the timed loop.
func dcBenchCPU(b *testing.B, start float64) {
	b.ReportMetric((dcProcessCPU()-start)/float64(b.N), "cpu-s/op")
}

// dcCheckBench checks the last run's eigenvalues, after the clock.
func dcCheckBench(b *testing.B, m dcCase, d []float64) {
	b.Helper()
	if r := dcEigenvalueRatio(m, d, dcRefDsterf(b, m)); !(r <= dcRatioLimit) {
		b.Fatalf("%s: eigenvalue ratio %.3g against Dsterf", m.name, r)
	}
}

func BenchmarkDCVectors(b *testing.B) {
	for _, n := range []int{1024, 2048, 4096} {
		m := dcGOE(n, 1)
		for bname, g := range dcBackends(b) {
			b.Run(fmt.Sprintf("n=%d/%s", n, bname), func(b *testing.B) {
				var d []float64
				cpu := dcProcessCPU()
				for i := 0; i < b.N; i++ {
					var e []float64
					d, e = m.copies()
					z, err := dcVectors(d, e, g, 0)
					if err != nil {
						b.Fatal(err)
					}
					dcBenchSink += z.Data[0]
				}
				b.StopTimer()
				dcBenchCPU(b, cpu)
				dcCheckBench(b, m, d)
			})
		}
	}
}

// BenchmarkDCVsDsteqr is gonum's implicit QL/QR with vectors, the pure-Go
// alternative (n = 4,096 takes many minutes and is left out).
func BenchmarkDCVsDsteqr(b *testing.B) {
	for _, n := range []int{1024, 2048} {
		m := dcGOE(n, 1)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var d []float64
			cpu := dcProcessCPU()
			for i := 0; i < b.N; i++ {
				var e []float64
				d, e = m.copies()
				z := make([]float64, n*n)
				if !(lapackgonum.Implementation{}).Dsteqr(lapack.EVTridiag, n, d, e, z, n, make([]float64, 2*n)) {
					b.Fatal("Dsteqr did not converge")
				}
				dcBenchSink += z[0]
			}
			b.StopTimer()
			dcBenchCPU(b, cpu)
			dcCheckBench(b, m, d)
		})
	}
}

func BenchmarkDCProject(b *testing.B) {
	sizes := []int{4096}
	if dcBenchLarge {
		sizes = append(sizes, 12288)
	}
	for _, n := range sizes {
		m := dcGOE(n, 1)
		for _, r := range []int{10, 1000} {
			w0 := dcRandomBlock(n, r, 2)
			for bname, g := range dcBackends(b) {
				b.Run(fmt.Sprintf("n=%d/R=%d/%s", n, r, bname), func(b *testing.B) {
					var d []float64
					cpu := dcProcessCPU()
					for i := 0; i < b.N; i++ {
						w := blas64.General{Rows: n, Cols: r, Stride: w0.Stride, Data: slices.Clone(w0.Data)}
						var e []float64
						d, e = m.copies()
						if err := dcProject(d, e, w, g, 0); err != nil {
							b.Fatal(err)
						}
						dcBenchSink += w.Data[0]
					}
					b.StopTimer()
					dcBenchCPU(b, cpu)
					dcCheckBench(b, m, d)
				})
			}
		}
	}
}
