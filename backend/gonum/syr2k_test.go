package gonum_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
)

// TestSyr2kMatchesTwoGemms: the rank-2k update equals alpha·x·yᵀ +
// alpha·y·xᵀ + beta·c formed with Gemm, on the upper triangle, and leaves
// the lower triangle alone.
func TestSyr2kMatchesTwoGemms(t *testing.T) {
	be := gonum.New(2)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, sz := range [][2]int{{1, 1}, {50, 7}, {200, 129}} {
		n, k := sz[0], sz[1]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			r, cols := n, k
			if tA == blas.Trans {
				r, cols = k, n
			}
			x, y := backend.NewGeneral(r, cols), backend.NewGeneral(r, cols)
			for i := range x.Data {
				x.Data[i], y.Data[i] = rng.NormFloat64(), rng.NormFloat64()
			}
			c := backend.NewGeneral(n, n)
			for i := range c.Data {
				c.Data[i] = rng.NormFloat64()
			}
			want := backend.Clone(c)
			tB := blas.Trans
			if tA == blas.Trans {
				tB = blas.NoTrans
			}
			const alpha, beta = -1.0, 1.0
			must(t, be.Gemm(tA, tB, alpha, x, y, beta, want))
			must(t, be.Gemm(tA, tB, alpha, y, x, 1, want))
			got := backend.Clone(c)
			must(t, be.Syr2k(tA, alpha, x, y, beta, got))
			what := fmt.Sprintf("n=%d k=%d tA=%c", n, k, tA)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					g := got.Data[i*n+j]
					if j < i {
						if g != c.Data[i*n+j] {
							t.Fatalf("%s: (%d,%d) below the diagonal changed", what, i, j)
						}
						continue
					}
					// Each side is within γ_{2k+4}·S of the exact value,
					// S = Σ|products| + |beta·c| (classical dot-product bound).
					s := math.Abs(beta * c.Data[i*n+j])
					for p := 0; p < k; p++ {
						s += math.Abs(at(x, tA, i, p)*at(y, tA, j, p)) + math.Abs(at(y, tA, i, p)*at(x, tA, j, p))
					}
					gamma := float64(2*k+4) * 0x1p-53 / (1 - float64(2*k+4)*0x1p-53)
					if w := want.Data[i*n+j]; math.Abs(g-w) > 2*gamma*s {
						t.Fatalf("%s: (%d,%d) = %g, two Gemms give %g", what, i, j, g, w)
					}
				}
			}
		}
	}
}

// at is element (i, p) of op(m).
func at(m blas64.General, tA blas.Transpose, i, p int) float64 {
	if tA == blas.Trans {
		return m.Data[p*m.Stride+i]
	}
	return m.Data[i*m.Stride+p]
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ interface {
	Syr2k(blas.Transpose, float64, blas64.General, blas64.General, float64, blas64.General) error
} = (*gonum.Backend)(nil)
