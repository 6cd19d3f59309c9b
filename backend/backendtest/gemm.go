package backendtest

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
)

func op(m dense, tr blas.Transpose) dense {
	if tr == blas.NoTrans {
		return m
	}
	return m.t()
}

func (s *suite) testGemm(t tb) {
	shapes := []struct{ m, n, k int }{{1, 1, 1}, {7, 5, 3}, {64, 33, 129}, {193, 191, 65}, {3, 200, 17}}
	for _, sh := range shapes {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, beta := range []float64{-0.5, 0} {
					name := fmt.Sprintf("%c%c/m=%d/n=%d/k=%d/beta=%g", tA, tB, sh.m, sh.n, sh.k, beta)
					t.run(name, func(t tb) { s.checkGemm(t, name, tA, tB, sh.m, sh.n, sh.k, beta) })
				}
			}
		}
	}
}

func (s *suite) checkGemm(t tb, name string, tA, tB blas.Transpose, m, n, k int, beta float64) {
	const alpha = 1.5
	rng := caseRNG("Gemm/" + name)
	// Stored shapes follow the transposes: op(a) is m×k, op(b) is k×n.
	a := randn(rng, m, k)
	if tA != blas.NoTrans {
		a = randn(rng, k, m)
	}
	b := randn(rng, k, n)
	if tB != blas.NoTrans {
		b = randn(rng, n, k)
	}
	c0 := randn(rng, m, n)
	if beta == 0 {
		// beta = 0 means c is not read: NaNs in it must not leak out.
		for i := range c0.v {
			c0.v[i] = math.NaN()
		}
	}
	ga, gb, gc := general(a, 1), general(b, 2), general(c0, 3)
	before := cloneGeneral(gc)
	if err := s.b.Gemm(tA, tB, alpha, ga, gb, beta, gc); err != nil {
		t.Fatalf("Gemm: %v", err)
	}
	prod := mul(op(a, tA), op(b, tB))
	scale := absMul(op(a, tA), op(b, tB))
	compare(t, "Gemm result", m, n, func(i, j int) (float64, float64, float64) {
		got := gc.Data[i*gc.Stride+j]
		want := alpha * prod.at(i, j)
		bound := alpha * scale.at(i, j)
		if beta != 0 {
			want += beta * c0.at(i, j)
			bound += math.Abs(beta * c0.at(i, j))
		}
		return got, want, 4 * s.u * float64(k+2) * bound
	})
	checkUntouched(t, "Gemm c", before, gc, false)
	unchanged(t, "Gemm left operand", general(a, 1), ga)
	unchanged(t, "Gemm right operand", general(b, 2), gb)
}
