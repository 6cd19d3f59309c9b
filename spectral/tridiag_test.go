package spectral

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
)

// symmetric matrices that stress an eigensolver: random, repeated and
// clustered eigenvalues, a split (block-diagonal) tridiagonal form, graded
// entries over 30 orders of magnitude, Wilkinson's W21+ (pairs of nearly
// equal eigenvalues), and a low-rank Gram with hundreds of zero eigenvalues.
func hardMatrices(rng *rand.Rand) map[string]blas64.General {
	out := map[string]blas64.General{}
	sym := func(name string, n int, f func(i, j int) float64) {
		a := backend.NewGeneral(n, n)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				v := f(i, j)
				a.Data[i*n+j], a.Data[j*n+i] = v, v
			}
		}
		out[name] = a
	}
	for _, n := range []int{1, 2, 3, 17, 130} {
		r := make([]float64, n*n)
		for i := range r {
			r[i] = rng.NormFloat64()
		}
		sym(fmt.Sprintf("random/n=%d", n), n, func(i, j int) float64 { return r[i*n+j] })
	}
	sym("identity", 40, func(i, j int) float64 { return b2f(i == j) })
	sym("zero", 9, func(i, j int) float64 { return 0 })
	sym("two-blocks", 60, func(i, j int) float64 {
		if (i < 30) != (j < 30) {
			return 0
		}
		return 1 + b2f(i == j)*float64(i%3)
	})
	sym("graded", 30, func(i, j int) float64 { return math.Pow(10, -float64(i+j)/2) * (1 + 0.1*b2f(i != j)) })
	sym("wilkinson21", 21, func(i, j int) float64 {
		switch {
		case i == j:
			return math.Abs(float64(i - 10))
		case j == i+1:
			return 1
		}
		return 0
	})
	// A 300-feature Gram of 40 samples: rank 40.
	x := make([]float64, 40*300)
	for i := range x {
		x[i] = float64(rng.IntN(256))
	}
	sym("gram-rank40", 300, func(i, j int) float64 {
		s := 0.0
		for r := 0; r < 40; r++ {
			s += x[r*300+i] * x[r*300+j]
		}
		return s
	})
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Against gonum's own Dsyev (an independent route through Dsteqr): the
// eigenvalues agree to rounding, and the vectors are orthonormal and leave
// residuals at rounding level.
func TestSymEigVectorsAgainstDsyev(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for name, a0 := range hardMatrices(rng) {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(t *testing.T) {
				n := a0.Rows
				norm := 0.0
				for _, v := range a0.Data {
					norm = math.Max(norm, math.Abs(v))
				}
				norm *= float64(n) // ≥ the 2-norm
				a := backend.NewGeneral(n, n)
				copy(a.Data, a0.Data)
				w, err := Eigen(newCPUGemmer(workers), a, workers)
				if err != nil {
					t.Fatal(err)
				}
				ref := backend.NewGeneral(n, n)
				copy(ref.Data, a0.Data)
				wr := make([]float64, n)
				work := make([]float64, 1)
				impl := lapackgonum.Implementation{}
				impl.Dsyev(lapack.EVNone, blas.Upper, n, ref.Data, n, wr, work, -1)
				work = make([]float64, int(work[0]))
				if !impl.Dsyev(lapack.EVNone, blas.Upper, n, ref.Data, n, wr, work, len(work)) {
					t.Fatal("Dsyev did not converge")
				}
				sort.Sort(sort.Reverse(sort.Float64Slice(wr)))
				tol := 1e-13 * math.Max(norm, math.SmallestNonzeroFloat64)
				for k := range w {
					if math.Abs(w[k]-wr[k]) > tol || (k > 0 && w[k] > w[k-1]) {
						t.Fatalf("eigenvalue %d: %.17g, Dsyev %.17g (tol %.3g)", k, w[k], wr[k], tol)
					}
				}
				for p := 0; p < n; p++ {
					for q := p; q < n; q++ {
						dot, res := 0.0, 0.0
						for i := 0; i < n; i++ {
							dot += a.Data[i*n+p] * a.Data[i*n+q]
						}
						if math.Abs(dot-b2f(p == q)) > 1e-13*float64(n) {
							t.Fatalf("vectors %d·%d = %.3g", p, q, dot)
						}
						if q == p {
							for i := 0; i < n; i++ {
								av := 0.0
								for j := 0; j < n; j++ {
									av += a0.Data[i*n+j] * a.Data[j*n+p]
								}
								res = math.Max(res, math.Abs(av-w[p]*a.Data[i*n+p]))
							}
							if res > tol {
								t.Fatalf("residual of pair %d: %.3g (tol %.3g)", p, res, tol)
							}
						}
					}
				}
			})
		}
	}
}

// Graded matrices keep their small eigenvalues to high relative accuracy
// only if the split test is relative; a diagonal one must come back exact.
func TestTridiagQLDiagonalIsExact(t *testing.T) {
	n := 12
	d := make([]float64, n)
	for i := range d {
		d[i] = math.Pow(10, -float64(2*i))
	}
	e := make([]float64, n)
	zt := make([]float64, n*n)
	for i := 0; i < n; i++ {
		zt[i*n+i] = 1
	}
	want := append([]float64(nil), d...)
	if !tridiagQL(d, e, zt, n, n, 1) {
		t.Fatal("no convergence")
	}
	for i := range d {
		if d[i] != want[i] || zt[i*n+i] != 1 {
			t.Fatalf("d[%d] = %g, want %g", i, d[i], want[i])
		}
	}
}
