package backendtest

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The optional symmetric primitives that blocked symmetric reductions
// (package spectral's band reduction) find by type assertion. A backend
// need not have them; one that does must get them right.
type (
	syr2ker interface {
		Syr2k(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error
	}
	symmer interface {
		SymmUpper(alpha float64, a, b blas64.General, beta float64, c blas64.General) error
	}
)

func (s *suite) testSymmetric(t tb) {
	sy2, ok2 := s.b.(syr2ker)
	sym, okm := s.b.(symmer)
	if !ok2 && !okm {
		t.Logf("neither Syr2k nor SymmUpper: nothing to check")
		return
	}
	if ok2 {
		for _, sh := range []struct{ n, k int }{{1, 1}, {7, 3}, {50, 7}, {129, 64}, {200, 129}} {
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				name := fmt.Sprintf("Syr2k/%c/n=%d/k=%d", tA, sh.n, sh.k)
				t.run(name, func(t tb) { s.checkSyr2k(t, sy2, name, tA, sh.n, sh.k) })
			}
		}
	}
	if okm {
		for _, sh := range []struct{ m, n int }{{1, 1}, {7, 3}, {129, 64}, {300, 17}} {
			name := fmt.Sprintf("SymmUpper/m=%d/n=%d", sh.m, sh.n)
			t.run(name, func(t tb) { s.checkSymm(t, sym, name, sh.m, sh.n) })
		}
	}
}

// checkSyr2k: the upper triangle of c becomes alpha·(op(x)·op(y)ᵀ +
// op(y)·op(x)ᵀ) + beta·c; the strict lower triangle and padding stay.
func (s *suite) checkSyr2k(t tb, b syr2ker, name string, tA blas.Transpose, n, k int) {
	const alpha, beta = -1.0, 0.75
	rng := caseRNG(name)
	x, y := randn(rng, n, k), randn(rng, n, k)
	if tA != blas.NoTrans {
		x, y = x.t(), y.t()
	}
	c0 := randn(rng, n, n)
	gx, gy, gc := general(x, 1), general(y, 2), general(c0, 3)
	before := cloneGeneral(gc)
	if err := b.Syr2k(tA, alpha, gx, gy, beta, gc); err != nil {
		t.Fatalf("Syr2k: %v", err)
	}
	ox, oy := op(x, tA), op(y, tA)
	xy, yx := mul(ox, oy.t()), mul(oy, ox.t())
	scale := absMul(ox, oy.t())
	scale2 := absMul(oy, ox.t())
	compare(t, "Syr2k upper triangle", n, n, func(i, j int) (float64, float64, float64) {
		if j < i {
			return 0, 0, 1 // checked below, bit for bit
		}
		got := gc.Data[i*gc.Stride+j]
		want := alpha*(xy.at(i, j)+yx.at(i, j)) + beta*c0.at(i, j)
		bound := scale.at(i, j) + scale2.at(i, j) + math.Abs(beta*c0.at(i, j))
		return got, want, 4 * s.u * float64(2*k+2) * bound
	})
	checkUntouched(t, "Syr2k c", before, gc, true)
	unchanged(t, "Syr2k x", general(x, 1), gx)
	unchanged(t, "Syr2k y", general(y, 2), gy)
}

// checkSymm: c = alpha·A·b + beta·c where A is read from its upper triangle
// only (the strict lower triangle holds NaN).
func (s *suite) checkSymm(t tb, b symmer, name string, m, n int) {
	const alpha, beta = 1.5, -0.5
	rng := caseRNG(name)
	a := randn(rng, m, m)
	for i := 0; i < m; i++ {
		for j := 0; j < i; j++ {
			a.set(i, j, a.at(j, i))
		}
	}
	x, c0 := randn(rng, m, n), randn(rng, m, n)
	ga, gx, gc := upperGeneral(a, 1), general(x, 2), general(c0, 3)
	before := cloneGeneral(gc)
	if err := b.SymmUpper(alpha, ga, gx, beta, gc); err != nil {
		t.Fatalf("SymmUpper: %v", err)
	}
	prod, scale := mul(a, x), absMul(a, x)
	compare(t, "SymmUpper result", m, n, func(i, j int) (float64, float64, float64) {
		return gc.Data[i*gc.Stride+j], alpha*prod.at(i, j) + beta*c0.at(i, j),
			4 * s.u * float64(m+2) * (alpha*scale.at(i, j) + math.Abs(beta*c0.at(i, j)))
	})
	checkUntouched(t, "SymmUpper c", before, gc, false)
	unchanged(t, "SymmUpper b", general(x, 2), gx)
}
