package spectral

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
)

// randomSymmetric is a GOE-like matrix: N(0,1) entries, symmetric. Only its
// upper triangle is meaningful to the routines under test, so the lower one
// is filled with garbage that must never be read.
func randomSymmetric(rng *rand.Rand, n int) (upper, full blas64.General) {
	full = backend.NewGeneral(n, n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := rng.NormFloat64()
			full.Data[i*n+j], full.Data[j*n+i] = v, v
		}
	}
	upper = backend.Clone(full)
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			upper.Data[i*n+j] = math.NaN()
		}
	}
	return upper, full
}

func mulT(g Gemmer, ta, tb blas.Transpose, a, b blas64.General) blas64.General {
	m, n := a.Rows, b.Cols
	if ta == blas.Trans {
		m = a.Cols
	}
	if tb == blas.Trans {
		n = b.Rows
	}
	c := backend.NewGeneral(m, n)
	if err := g.Gemm(ta, tb, 1, a, b, 0, c); err != nil {
		panic(err)
	}
	return c
}

func maxAbsDiff(a, b blas64.General) float64 {
	d := 0.0
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < a.Cols; j++ {
			d = math.Max(d, math.Abs(a.Data[i*a.Stride+j]-b.Data[i*b.Stride+j]))
		}
	}
	return d
}

// checkSimilarity reports where q (n×n) is not orthogonal to within tol, or
// q·mid·qᵀ differs from full by more than tol·√n; qName, midName and
// fullName name the three in the messages.
func checkSimilarity(t *testing.T, g Gemmer, q, mid, full blas64.General, tol float64, qName, midName, fullName string) {
	t.Helper()
	n := q.Rows
	if d := maxAbsDiff(mulT(g, blas.Trans, blas.NoTrans, q, q), identity(n)); d > tol {
		t.Errorf("%sᵀ%s − I: %.3g", qName, qName, d)
	}
	qmq := mulT(g, blas.NoTrans, blas.Trans, mulT(g, blas.NoTrans, blas.NoTrans, q, mid), q)
	if d := maxAbsDiff(qmq, full); d > tol*math.Sqrt(float64(n)) {
		t.Errorf("%s·%s·%sᵀ − %s: %.3g", qName, midName, qName, fullName, d)
	}
}

func identity(n int) blas64.General {
	z := backend.NewGeneral(n, n)
	for i := 0; i < n; i++ {
		z.Data[i*n+i] = 1
	}
	return z
}

// Stage 1 is a similarity by an orthogonal Q1 that leaves a band: checked
// as Q1ᵀQ1 = I, Q1·B·Q1ᵀ = A and nothing outside the band, with Q1 formed by
// the back-transform of the kept reflectors; the carried block must come
// out as Q1ᵀ·carry.
func TestReduceToBand(t *testing.T) {
	// Both paths of the trailing update: GEMMs by block column, and the
	// symmetric products a backend may have (beside which the look-ahead
	// goroutine runs; make test runs this under the race detector).
	gemmers := map[string]Gemmer{"gemm": newCPUGemmer(2), "symmetric": symCPUGemmer{newCPUGemmer(2)}}
	for gname, g := range gemmers {
		for _, b := range []int{1, 2, 5, 16, 33, 64} {
			for _, n := range []int{1, 2, 3, b, b + 1, b + 2, 2*b + 3, 61, 130} {
				t.Run(fmt.Sprintf("%s/b=%d/n=%d", gname, b, n), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(n), uint64(b)))
					a, full := randomSymmetric(rng, n)
					r := 3
					carry := backend.NewGeneral(n, r)
					for i := range carry.Data {
						carry.Data[i] = rng.NormFloat64()
					}
					c0 := backend.Clone(carry)
					bd, err := reduceToBand(g, a, b, carry, true)
					if err != nil {
						t.Fatal(err)
					}
					bnd := backend.NewGeneral(n, n)
					for i := 0; i < n; i++ {
						for j := i; j < n; j++ {
							v := a.Data[i*n+j]
							if j-i > b {
								if v != 0 {
									t.Fatalf("entry (%d, %d) outside the band is %g", i, j, v)
								}
								continue
							}
							bnd.Data[i*n+j], bnd.Data[j*n+i] = v, v
						}
					}
					q := identity(n)
					if err := bd.backQ1(g, a, q); err != nil {
						t.Fatal(err)
					}
					tol := 1e-13 * float64(n)
					checkSimilarity(t, g, q, bnd, full, tol, "Q1", "B", "A")
					if d := maxAbsDiff(mulT(g, blas.Trans, blas.NoTrans, q, c0), carry); d > tol {
						t.Errorf("carried block − Q1ᵀ·carry: %.3g", d)
					}
				})
			}
		}
	}
}

// TestPanelLQ: the recursive panel factorization against gonum's Dgelqf and
// Dlarft on the same panel — the same L, reflectors, τ and T up to
// rounding — for panels on both sides of the leaf size and of its halving.
func TestPanelLQ(t *testing.T) {
	g := newCPUGemmer(2)
	impl := lapackgonum.Implementation{}
	for _, nr := range []int{1, 15, 16, 17, 33, 48, 64} {
		// Panels wider than tall, and the last panels of a reduction,
		// taller than wide (min(nr, m) reflectors, all rows transformed).
		for _, m := range []int{1, 5, nr, nr + 1, 100, 301} {
			rng := rand.New(rand.NewPCG(uint64(nr), uint64(m)))
			s := m + 3
			p0 := make([]float64, nr*s)
			for i := range p0 {
				p0[i] = rng.NormFloat64()
			}
			want := append([]float64(nil), p0...)
			k := min(nr, m)
			wtau := make([]float64, k)
			work := make([]float64, 64*max(m, nr))
			impl.Dgelqf(nr, m, want, s, wtau, work, len(work))
			wt := make([]float64, nr*nr)
			impl.Dlarft(lapack.Forward, lapack.RowWise, m, k, want, s, wtau, wt, nr)

			got := append([]float64(nil), p0...)
			tau := make([]float64, nr)
			tf := make([]float64, nr*nr)
			pf := panelLQ{g: g, p: got, s: s, m: m, tau: tau, t: tf, ldt: nr,
				v: make([]float64, k*m), x: make([]float64, 2*nr*nr), work: make([]float64, nr)}
			if err := pf.run(nr); err != nil {
				t.Fatal(err)
			}
			tol := 1e-12 * float64(m)
			for i := 0; i < nr; i++ {
				for j := 0; j < m; j++ {
					if d := math.Abs(got[i*s+j] - want[i*s+j]); d > tol {
						t.Fatalf("nr=%d m=%d: panel (%d, %d) = %v, Dgelqf %v", nr, m, i, j, got[i*s+j], want[i*s+j])
					}
				}
				if i >= k {
					continue
				}
				if d := math.Abs(tau[i] - wtau[i]); d > tol {
					t.Fatalf("nr=%d m=%d: τ[%d] = %v, Dgelqf %v", nr, m, i, tau[i], wtau[i])
				}
				for j := i; j < k; j++ {
					if d := math.Abs(tf[i*nr+j] - wt[i*nr+j]); d > tol*(1+math.Abs(wt[i*nr+j])) {
						t.Fatalf("nr=%d m=%d: T(%d, %d) = %v, Dlarft %v", nr, m, i, j, tf[i*nr+j], wt[i*nr+j])
					}
				}
			}
		}
	}
}
