package spectral_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/spectral"
)

// Sizes on both sides of the 128-row blocks of the factorisation and the
// solves.
var pencilSizes = []int{1, 2, 5, 127, 128, 129, 300, 513}

func TestCholesky(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	for _, n := range pencilSizes {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			lam := make([]float64, n)
			for i := range lam {
				lam[i] = math.Pow(10, 3*rng.Float64()-1)
			}
			a0 := withSpectrum(rng, lam)
			a := padded(a0, 2)
			if err := spectral.Cholesky(testBackends["gonum"](), a); err != nil {
				t.Fatal(err)
			}
			u := backend.Columns(a, n)
			for i := 0; i < n; i++ {
				for j := 0; j < i; j++ {
					if u.Data[i*n+j] != 0 {
						t.Fatalf("U(%d, %d) = %g below the diagonal", i, j, u.Data[i*n+j])
					}
				}
			}
			utu := backend.NewGeneral(n, n)
			blas64.Gemm(blas.Trans, blas.NoTrans, 1, u, u, 0, utu)
			if d := maxAbs(sub(utu, a0)); d > 1e-13*float64(n)*norm2(lam) {
				t.Errorf("UᵀU − A: %.3g", d)
			}
		})
	}
	a := withSpectrum(rng, []float64{3, 2, -1e-3, 1, 5})
	if err := spectral.Cholesky(testBackends["gonum"](), a); !errors.Is(err, backend.ErrNotPositiveDefinite) {
		t.Errorf("indefinite: %v, want ErrNotPositiveDefinite", err)
	}
}

func sub(a, b blas64.General) blas64.General {
	c := backend.Clone(a)
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < a.Cols; j++ {
			c.Data[i*c.Stride+j] -= b.Data[i*b.Stride+j]
		}
	}
	return c
}

func maxAbs(a blas64.General) float64 {
	m := 0.0
	for i := 0; i < a.Rows; i++ {
		for _, v := range a.Data[i*a.Stride : i*a.Stride+a.Cols] {
			m = math.Max(m, math.Abs(v))
		}
	}
	return m
}

// The pencil A = Pᵀ·diag(λ)·P, B = PᵀP has eigenvalues λ exactly: checked
// with the residual A·V − B·V·Λ and VᵀBV = I.
func TestSymGenEig(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 32))
	for _, n := range pencilSizes {
		for bname, newBackend := range testBackends {
			t.Run(fmt.Sprintf("n=%d/%s", n, bname), func(t *testing.T) {
				s := make([]float64, n)
				lam := make([]float64, n)
				for i := range s {
					s[i] = math.Exp2(2*rng.Float64() - 1)
					lam[i] = rng.NormFloat64()
				}
				p := gaussian(rng, n, n)
				for i := 0; i < n; i++ { // P = diag(s)·(orthogonal-ish rows)
					for j := 0; j < n; j++ {
						p.Data[i*n+j] *= s[i] / math.Sqrt(float64(n))
					}
				}
				pl := backend.Clone(p)
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						pl.Data[i*n+j] *= lam[i]
					}
				}
				a0 := backend.NewGeneral(n, n)
				blas64.Gemm(blas.Trans, blas.NoTrans, 1, p, pl, 0, a0)
				backend.Symmetrize(a0)
				b0 := gramOf(p)
				a, b := padded(a0, 1), padded(b0, 3)
				w, err := spectral.SymGenEig(newBackend(), a, b, 2)
				if err != nil {
					t.Fatal(err)
				}
				want := sortedDesc(lam)
				v := backend.Columns(a, n)
				av := backend.NewGeneral(n, n)
				bv := backend.NewGeneral(n, n)
				blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, a0, v, 0, av)
				blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, b0, v, 0, bv)
				vbv := backend.NewGeneral(n, n)
				blas64.Gemm(blas.Trans, blas.NoTrans, 1, v, bv, 0, vbv)
				// P's condition number enters every bound.
				cond := condition(gramOf(p))
				tol := 1e-13 * float64(n) * cond
				for j := range w {
					if d := math.Abs(w[j] - want[j]); d > tol*norm2(lam) {
						t.Fatalf("λ_%d = %.15g, want %.15g (cond %.3g)", j, w[j], want[j], cond)
					}
				}
				resTol := tol * norm2(lam) * maxAbs(b0)
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						if d := math.Abs(av.Data[i*n+j] - bv.Data[i*n+j]*w[j]); d > resTol {
							t.Fatalf("residual (%d, %d): %.3g", i, j, d)
						}
						id := 0.0
						if i == j {
							id = 1
						}
						if d := math.Abs(vbv.Data[i*n+j] - id); d > tol {
							t.Fatalf("VᵀBV − I at (%d, %d): %.3g", i, j, d)
						}
					}
				}
			})
		}
	}
}

// condition is the 2-norm condition number of the symmetric positive
// definite g, from its reference eigenvalues.
func condition(g blas64.General) float64 {
	w, _ := reference(backend.Clone(g), backend.NewGeneral(0, g.Rows))
	return w[0] / w[len(w)-1]
}
