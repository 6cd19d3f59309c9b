package spectral_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/spectral"
)

// Eigen's routes against the reference: eigenvalues within 1e-12·‖A‖,
// orthonormal vectors, residuals ‖A·u − λu‖ ≤ 1e-12·n·‖A‖ (issue 14's bound)
// and, through P = M·U, the same projections as Project's tests.
func TestEigenRoutes(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	routes := map[string]func(g spectral.Gemmer, a blas64.General) ([]float64, error){
		"one-stage": func(g spectral.Gemmer, a blas64.General) ([]float64, error) { return spectral.EigenOneStage(g, a, 2) },
		"two-stage/b=3": func(g spectral.Gemmer, a blas64.General) ([]float64, error) {
			return spectral.EigenTwoStage(g, a, 3, 2)
		},
		"two-stage/b=32": func(g spectral.Gemmer, a blas64.General) ([]float64, error) {
			return spectral.EigenTwoStage(g, a, 32, 2)
		},
		"Eigen": func(g spectral.Gemmer, a blas64.General) ([]float64, error) { return spectral.Eigen(g, a, 2) },
	}
	for _, p := range problems(rng) {
		wantW, wantP := reference(backend.Clone(p.a), p.m)
		for bname, newBackend := range testBackends {
			be := newBackend()
			for rname, route := range routes {
				t.Run(fmt.Sprintf("%s/%s/%s", p.name, bname, rname), func(t *testing.T) {
					n := p.a.Rows
					a := padded(p.a, 3)
					w, err := route(be, a)
					if err != nil {
						t.Fatal(err)
					}
					u := backend.Columns(a, n)
					checkEigenpairs(t, p.a, w, u)
					pm := backend.NewGeneral(p.m.Rows, n)
					if p.m.Rows > 0 {
						blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, p.m, u, 0, pm)
					}
					checkAgainst(t, &spectral.Result{Values: w, P: pm}, wantW, wantP, p.m)
				})
			}
		}
	}
}

// padded copies a into a matrix with a wider row stride and NaN in the
// lower triangle and the padding, none of which may be read.
func padded(a blas64.General, pad int) blas64.General {
	n := a.Rows
	s := n + pad
	out := blas64.General{Rows: n, Cols: n, Stride: s, Data: make([]float64, n*s)}
	for i := range out.Data {
		out.Data[i] = math.NaN()
	}
	for i := 0; i < n; i++ {
		copy(out.Data[i*s+i:i*s+n], a.Data[i*n+i:i*n+n])
	}
	return out
}

func checkEigenpairs(t *testing.T, a blas64.General, w []float64, u blas64.General) {
	t.Helper()
	n := a.Rows
	scale := math.Max(norm2(w), math.SmallestNonzeroFloat64)
	for j := 1; j < n; j++ {
		if !(w[j-1] >= w[j]) {
			t.Fatalf("eigenvalues not descending at %d: %v then %v", j, w[j-1], w[j])
		}
	}
	utu := backend.NewGeneral(n, n)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, u, u, 0, utu)
	au := backend.NewGeneral(n, n)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, a, u, 0, au)
	worstO, worstR := 0.0, 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			worstO = math.Max(worstO, math.Abs(utu.Data[i*n+j]-want))
			worstR = math.Max(worstR, math.Abs(au.Data[i*n+j]-u.Data[i*n+j]*w[j]))
		}
	}
	if !(worstO <= 1e-12*float64(max(n, 1))) {
		t.Errorf("UᵀU − I: %.3g > 1e-12·n", worstO)
	}
	if !(worstR <= 1e-12*float64(max(n, 1))*scale) {
		t.Errorf("A·U − U·Λ: %.3g > 1e-12·n·‖A‖ = %.3g", worstR, 1e-12*float64(n)*scale)
	}
}

// EigenTop's k columns are the leading eigenpairs: values as the
// reference's first k, orthonormal columns, residuals at rounding level.
func TestEigenTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	for _, p := range problems(rng) {
		n := p.a.Rows
		wantW, _ := reference(backend.Clone(p.a), p.m)
		for _, k := range []int{0, 1, (n + 2) / 3, n} {
			if k > n {
				continue
			}
			t.Run(fmt.Sprintf("%s/k=%d", p.name, k), func(t *testing.T) {
				w, u, err := spectral.EigenTop(testBackends["gonum"](), padded(p.a, 1), k, 2)
				if err != nil {
					t.Fatal(err)
				}
				if len(w) != k || u.Rows != n || u.Cols != k {
					t.Fatalf("%d values and a %d×%d matrix, want %d and %d×%d", len(w), u.Rows, u.Cols, k, n, k)
				}
				scale := math.Max(norm2(wantW), math.SmallestNonzeroFloat64)
				for j := range w {
					if d := math.Abs(w[j] - wantW[j]); !(d <= 1e-12*scale) {
						t.Fatalf("eigenvalue %d: %v, reference %v", j, w[j], wantW[j])
					}
				}
				if k == 0 {
					return
				}
				utu := backend.NewGeneral(k, k)
				blas64.Gemm(blas.Trans, blas.NoTrans, 1, u, u, 0, utu)
				au := backend.NewGeneral(n, k)
				blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, p.a, u, 0, au)
				for i := 0; i < n; i++ {
					for j := 0; j < k; j++ {
						if i < k {
							want := 0.0
							if i == j {
								want = 1
							}
							if d := math.Abs(utu.Data[i*k+j] - want); d > 1e-12*float64(n) {
								t.Fatalf("UᵀU (%d, %d) off by %.3g", i, j, d)
							}
						}
						if d := math.Abs(au.Data[i*k+j] - u.Data[i*u.Stride+j]*w[j]); d > 1e-12*float64(n)*scale {
							t.Fatalf("residual (%d, %d): %.3g", i, j, d)
						}
					}
				}
			})
		}
	}
}
