package spectral

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// randomBand is a symmetric matrix of half-bandwidth b with N(0,1) entries,
// its upper band in a's upper triangle (the rest of a is garbage that
// stage 2 may use as scratch) and the full matrix beside it.
func randomBand(rng *rand.Rand, n, b int) (a, full blas64.General) {
	a = backend.NewGeneral(n, n)
	full = backend.NewGeneral(n, n)
	for i := range a.Data {
		a.Data[i] = math.NaN()
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := 0.0
			if j-i <= b {
				v = rng.NormFloat64()
			}
			a.Data[i*n+j] = v
			full.Data[i*n+j], full.Data[j*n+i] = v, v
		}
	}
	return a, full
}

// Stage 2 is an orthogonal similarity B = Q2·T·Q2ᵀ with T tridiagonal:
// checked with Q2 formed by the backward application of the kept
// reflectors to I, the forward one giving Q2ᵀ; serial and pipelined runs
// must agree bit for bit (each task's arithmetic is fixed, so any
// difference is a race).
func TestBulgeChase(t *testing.T) {
	g := newCPUGemmer(2)
	for _, b := range []int{2, 3, 8, 16} {
		for _, n := range []int{1, 2, 3, b, b + 1, b + 2, 2*b + 1, 3*b + 2, 50, 131} {
			t.Run(fmt.Sprintf("b=%d/n=%d", b, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), uint64(b)))
				a, full := randomBand(rng, n, b)
				a2 := backend.Clone(a)
				bg := newBulge(a, b)
				bg.run(1)
				d, e := bg.tridiagonal()
				bg2 := newBulge(a2, b)
				bg2.run(3)
				d2, e2 := bg2.tridiagonal()
				for i := range d {
					if d[i] != d2[i] || (i < len(e) && e[i] != e2[i]) {
						t.Fatalf("pipelined run differs at %d: d %v vs %v", i, d[i], d2[i])
					}
				}
				for i := 0; i < n; i++ {
					for j := i + 2; j < min(i+2*b+1, n); j++ {
						if v := bg.bnd[i*bg.ld+j]; v != 0 {
							t.Fatalf("(%d, %d) = %g left beyond the tridiagonal", i, j, v)
						}
					}
				}
				tri := backend.NewGeneral(n, n)
				for i := 0; i < n; i++ {
					tri.Data[i*n+i] = d[i]
					if i+1 < n {
						tri.Data[i*n+i+1], tri.Data[(i+1)*n+i] = e[i], e[i]
					}
				}
				q := identity(n)
				bg.applyQ2(q, false, 2)
				tol := 1e-13 * float64(n)
				checkSimilarity(t, g, q, tri, full, tol, "Q2", "T", "B")
				qt := identity(n)
				bg.applyQ2(qt, true, 2)
				if dd := maxAbsDiff(mulT(g, blas.NoTrans, blas.NoTrans, qt, q), identity(n)); dd > tol {
					t.Errorf("forward application is not Q2ᵀ: %.3g", dd)
				}
			})
		}
	}
}
