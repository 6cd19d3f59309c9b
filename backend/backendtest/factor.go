package backendtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"

	"github.com/reconalign/reconalign/backend"
)

func (s *suite) testCholesky(t tb) {
	for _, n := range []int{1, 2, 7, 65, 193} {
		name := fmt.Sprintf("n=%d", n)
		t.run(name, func(t tb) {
			rng := caseRNG("Cholesky/" + name)
			a := spd(rng, n)
			g := upperGeneral(a, n%2)
			before := cloneGeneral(g)
			if err := s.b.Cholesky(g); err != nil {
				t.Fatalf("Cholesky: %v", err)
			}
			checkUntouched(t, "Cholesky", before, g, false)
			u := fromGeneral(g)
			compare(t, "strict lower triangle zeroed", n, n, func(i, j int) (float64, float64, float64) {
				if j >= i {
					return 0, 0, 0
				}
				return u.at(i, j), 0, 0
			})
			for i := 0; i < n; i++ {
				if !(u.at(i, i) > 0) {
					t.Errorf("Cholesky: diagonal [%d] = %v, want positive", i, u.at(i, i))
					break
				}
			}
			utu := mul(u.t(), u)
			tol := slack * float64(n) * s.u * frob(a)
			compare(t, "UᵀU = A", n, n, func(i, j int) (float64, float64, float64) {
				return utu.at(i, j), a.at(i, j), tol
			})
		})
	}
	indefinite := map[string]func(*rand.Rand) dense{
		"negative1x1": func(*rand.Rand) dense { return dense{1, 1, []float64{-1}} },
		"zero1x1":     func(*rand.Rand) dense { return dense{1, 1, []float64{0}} },
		"oneNegativeEigenvalue": func(rng *rand.Rand) dense {
			return withSpectrum(orthogonal(rng, 12), []float64{5, 4, 3, 2, 1, 1, 1, 1, 1, 1, -0.5, 2})
		},
	}
	for name, make := range indefinite {
		t.run("Indefinite/"+name, func(t tb) {
			a := make(caseRNG("Cholesky/Indefinite/" + name))
			err := s.b.Cholesky(upperGeneral(a, 0))
			if !errors.Is(err, backend.ErrNotPositiveDefinite) {
				t.Errorf("Cholesky of an indefinite matrix: error %v, want one matching backend.ErrNotPositiveDefinite", err)
			}
		})
	}
}

// triangular returns a well-conditioned n×n triangle (diagonal of magnitude
// 1 to 2 with random signs, off-diagonal entries of order 1/n) and fills the
// other triangle with NaN, which a solver must not read.
func triangular(rng *rand.Rand, ul blas.Uplo, n int) dense {
	t := newDense(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			switch {
			case i == j:
				d := 1 + rng.Float64()
				if rng.IntN(2) == 0 {
					d = -d
				}
				t.set(i, j, d)
			case (ul == blas.Upper) == (j > i):
				t.set(i, j, rng.NormFloat64()/float64(n))
			default:
				t.set(i, j, math.NaN())
			}
		}
	}
	return t
}

// clean is t with the NaN triangle zeroed, for the reference products.
func clean(t dense) dense {
	out := t.clone()
	for i, x := range out.v {
		if math.IsNaN(x) {
			out.v[i] = 0
		}
	}
	return out
}

func (s *suite) testTriSolve(t tb) {
	for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, sh := range []struct{ n, m int }{{1, 1}, {7, 3}, {65, 17}, {193, 5}} {
				name := fmt.Sprintf("%c%c/n=%d/m=%d", ul, tA, sh.n, sh.m)
				t.run(name, func(t tb) {
					rng := caseRNG("TriSolve/" + name)
					tri := triangular(rng, ul, sh.n)
					rhs := randn(rng, sh.n, sh.m)
					gt := general(tri, 1)
					gb := general(rhs, 2)
					before := cloneGeneral(gb)
					if err := s.b.TriSolve(ul, tA, gt, gb); err != nil {
						t.Fatalf("TriSolve: %v", err)
					}
					checkUntouched(t, "TriSolve b", before, gb, false)
					unchanged(t, "TriSolve t", general(tri, 1), gt)
					x := fromGeneral(gb)
					ct := op(clean(tri), tA)
					tx := mul(ct, x)
					scale := absMul(ct, x)
					compare(t, "op(t)·X = B", sh.n, sh.m, func(i, j int) (float64, float64, float64) {
						return tx.at(i, j), rhs.at(i, j), slack * float64(sh.n) * s.u * (scale.at(i, j) + math.Abs(rhs.at(i, j)))
					})
				})
			}
		}
	}
}

func (s *suite) testQR(t tb) {
	shapes := []struct {
		m, n   int
		repeat bool // duplicate columns: rank deficient
	}{{1, 1, false}, {7, 7, false}, {50, 7, false}, {200, 65, false}, {193, 191, false}, {40, 12, true}}
	for _, sh := range shapes {
		name := fmt.Sprintf("m=%d/n=%d", sh.m, sh.n)
		if sh.repeat {
			name += "/rankdeficient"
		}
		t.run(name, func(t tb) {
			rng := caseRNG("QR/" + name)
			a := randn(rng, sh.m, sh.n)
			if sh.repeat {
				for i := 0; i < sh.m; i++ {
					for j := sh.n / 2; j < sh.n; j++ {
						a.set(i, j, a.at(i, j-sh.n/2))
					}
				}
			}
			g := general(a, 3)
			before := cloneGeneral(g)
			rg, err := s.b.QR(g)
			if err != nil {
				t.Fatalf("QR: %v", err)
			}
			checkUntouched(t, "QR", before, g, false)
			if rg.Rows != sh.n || rg.Cols != sh.n || rg.Stride < max(1, sh.n) || len(rg.Data) < (sh.n-1)*rg.Stride+sh.n {
				t.Fatalf("QR returned a malformed R: %d×%d, stride %d, %d values; want %d×%d",
					rg.Rows, rg.Cols, rg.Stride, len(rg.Data), sh.n, sh.n)
			}
			q, r := fromGeneral(g), fromGeneral(rg)
			compare(t, "R upper triangular", sh.n, sh.n, func(i, j int) (float64, float64, float64) {
				if j >= i {
					return 0, 0, 0
				}
				return r.at(i, j), 0, 0
			})
			qr := mul(q, r)
			tol := slack * float64(sh.m) * s.u * frob(a)
			compare(t, "Q·R = A", sh.m, sh.n, func(i, j int) (float64, float64, float64) {
				return qr.at(i, j), a.at(i, j), tol
			})
			qtq := mul(q.t(), q)
			compare(t, "QᵀQ = I", sh.n, sh.n, func(i, j int) (float64, float64, float64) {
				return qtq.at(i, j), b2f(i == j), slack * float64(sh.m) * s.u
			})
		})
	}
}
