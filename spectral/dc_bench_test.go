package spectral

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

var benchSink float64

func BenchmarkDCVectors(b *testing.B) {
	for _, n := range []int{1024, 2048, 4096} {
		m := goeTridiag(n, 1)
		for bname, g := range backends(b) {
			b.Run(fmt.Sprintf("n=%d/%s", n, bname), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					d, e := m.copies()
					z, err := dcVectors(d, e, g, 0)
					if err != nil {
						b.Fatal(err)
					}
					benchSink += z.Data[0]
				}
			})
		}
	}
}

func BenchmarkDsteqr(b *testing.B) {
	for _, n := range []int{1024, 2048} {
		m := goeTridiag(n, 1)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				d, e := m.copies()
				z := make([]float64, n*n)
				if !(lapackgonum.Implementation{}).Dsteqr(lapack.EVTridiag, n, d, e, z, n, make([]float64, 2*n)) {
					b.Fatal("no convergence")
				}
				benchSink += z[0]
			}
		})
	}
}

func BenchmarkDCProject(b *testing.B) {
	for _, n := range []int{4096} {
		m := goeTridiag(n, 1)
		for _, r := range []int{10, 1000} {
			w := randomBlock(n, r, 2)
			for bname, g := range backends(b) {
				b.Run(fmt.Sprintf("n=%d/R=%d/%s", n, r, bname), func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						d, e := m.copies()
						if err := dcProject(d, e, w, g, 0); err != nil {
							b.Fatal(err)
						}
						benchSink += d[0]
					}
				})
			}
		}
	}
}
