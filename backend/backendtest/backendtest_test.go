package backendtest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
)

// recorder collects failures instead of reporting them, so that a test can
// assert that the suite DOES fail on a broken backend.
type recorder struct {
	name string
	log  *[]string
}

type fatalStop struct{}

func (r recorder) Helper()             {}
func (r recorder) Logf(string, ...any) {}
func (r recorder) Errorf(format string, args ...any) {
	*r.log = append(*r.log, r.name+": "+fmt.Sprintf(format, args...))
}
func (r recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(fatalStop{})
}
func (r recorder) run(name string, f func(tb)) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(fatalStop); !ok {
				panic(v)
			}
		}
	}()
	f(recorder{r.name + "/" + name, r.log})
}

func runGroup(t *testing.T, b backend.Backend, group string) []string {
	t.Helper()
	s, err := newSuite(b)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, g := range groups {
		if g.name == group {
			recorder{group, &log}.run("", func(r tb) { g.run(s, r) })
			return log
		}
	}
	t.Fatalf("no group %q", group)
	return nil
}

// broken wraps a correct backend and breaks one behaviour.
type broken struct {
	backend.Backend
	gramAdd   func(g blas64.General, x backend.Chunk, shift []float64) error
	gemm      func(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) error
	symEig    func(a blas64.General, vectors bool) ([]float64, error)
	symEigTop func(a blas64.General, k int) ([]float64, blas64.General, error)
	symGenEig func(a, b blas64.General) ([]float64, error)
	cholesky  func(a blas64.General) error
	triSolve  func(ul blas.Uplo, tA blas.Transpose, t, b blas64.General) error
	qr        func(a blas64.General) (blas64.General, error)
}

func (w broken) GramAdd(g blas64.General, x backend.Chunk, shift []float64) error {
	if w.gramAdd != nil {
		return w.gramAdd(g, x, shift)
	}
	return w.Backend.GramAdd(g, x, shift)
}
func (w broken) Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) error {
	if w.gemm != nil {
		return w.gemm(tA, tB, alpha, a, b, beta, c)
	}
	return w.Backend.Gemm(tA, tB, alpha, a, b, beta, c)
}
func (w broken) SymEig(a blas64.General, vectors bool) ([]float64, error) {
	if w.symEig != nil {
		return w.symEig(a, vectors)
	}
	return w.Backend.SymEig(a, vectors)
}
func (w broken) SymEigTop(a blas64.General, k int) ([]float64, blas64.General, error) {
	if w.symEigTop != nil {
		return w.symEigTop(a, k)
	}
	return w.Backend.SymEigTop(a, k)
}
func (w broken) SymGenEig(a, b blas64.General) ([]float64, error) {
	if w.symGenEig != nil {
		return w.symGenEig(a, b)
	}
	return w.Backend.SymGenEig(a, b)
}
func (w broken) Cholesky(a blas64.General) error {
	if w.cholesky != nil {
		return w.cholesky(a)
	}
	return w.Backend.Cholesky(a)
}
func (w broken) TriSolve(ul blas.Uplo, tA blas.Transpose, t, b blas64.General) error {
	if w.triSolve != nil {
		return w.triSolve(ul, tA, t, b)
	}
	return w.Backend.TriSolve(ul, tA, t, b)
}
func (w broken) QR(a blas64.General) (blas64.General, error) {
	if w.qr != nil {
		return w.qr(a)
	}
	return w.Backend.QR(a)
}

// TestSuiteCatchesBugs runs single groups of the suite against backends with
// one plausible bug each and requires the suite to report it.
func TestSuiteCatchesBugs(t *testing.T) {
	good := gonum.New(1)
	bugs := []struct {
		name, group string
		b           broken
	}{
		{"GramAdd ignores the shift", "GramAdd", broken{gramAdd: func(g blas64.General, x backend.Chunk, _ []float64) error {
			return good.GramAdd(g, x, nil)
		}}},
		{"GramAdd writes the lower triangle", "GramAdd", broken{gramAdd: func(g blas64.General, x backend.Chunk, s []float64) error {
			err := good.GramAdd(g, x, s)
			backend.Symmetrize(g)
			return err
		}}},
		{"GramAdd overwrites instead of adding", "GramAdd", broken{gramAdd: func(g blas64.General, x backend.Chunk, s []float64) error {
			for i := 0; i < g.Rows; i++ {
				for j := i; j < g.Cols; j++ {
					g.Data[i*g.Stride+j] = 0
				}
			}
			return good.GramAdd(g, x, s)
		}}},
		{"GramAdd rounds to float32 but claims float64", "GramAdd", broken{gramAdd: func(g blas64.General, x backend.Chunk, s []float64) error {
			tmp := backend.NewGeneral(g.Rows, g.Cols)
			err := good.GramAdd(tmp, x, s)
			for i := 0; i < g.Rows; i++ {
				for j := i; j < g.Cols; j++ {
					g.Data[i*g.Stride+j] += float64(float32(tmp.Data[i*g.Cols+j]))
				}
			}
			return err
		}}},
		{"GramAdd shifts after multiplying", "GramAdd", broken{gramAdd: func(g blas64.General, x backend.Chunk, s []float64) error {
			// XᵀX − s·Σxᵀ − Σx·sᵀ + N·s·sᵀ: right in exact arithmetic only.
			err := good.GramAdd(g, x, nil)
			if s == nil {
				return err
			}
			sum := make([]float64, x.D)
			for i := 0; i < x.N; i++ {
				for j := range sum {
					sum[j] += value(x, i, j)
				}
			}
			for i := 0; i < x.D; i++ {
				for j := i; j < x.D; j++ {
					g.Data[i*g.Stride+j] += -s[i]*sum[j] - sum[i]*s[j] + float64(x.N)*s[i]*s[j]
				}
			}
			return err
		}}},
		{"Gemm ignores beta", "Gemm", broken{gemm: func(tA, tB blas.Transpose, alpha float64, a, b blas64.General, _ float64, c blas64.General) error {
			return good.Gemm(tA, tB, alpha, a, b, 1, c)
		}}},
		{"SymEig ascending", "SymEig", broken{symEig: func(a blas64.General, vectors bool) ([]float64, error) {
			w, err := good.SymEig(a, vectors)
			if vectors {
				backend.Reverse(w, a)
			} else {
				backend.Reverse(w, blas64.General{})
			}
			return w, err
		}}},
		{"SymEig reads the lower triangle", "SymEig", broken{symEig: func(a blas64.General, vectors bool) ([]float64, error) {
			for i := 0; i < a.Rows; i++ {
				for j := 0; j < i; j++ {
					a.Data[j*a.Stride+i] = a.Data[i*a.Stride+j]
				}
			}
			return good.SymEig(a, vectors)
		}}},
		{"SymEigTop returns the bottom k", "SymEigTop", broken{symEigTop: func(a blas64.General, k int) ([]float64, blas64.General, error) {
			n := a.Rows
			w, err := good.SymEig(a, true)
			v := backend.NewGeneral(n, k)
			for i := 0; i < n; i++ {
				copy(v.Data[i*k:(i+1)*k], a.Data[i*a.Stride+n-k:i*a.Stride+n])
			}
			return w[n-k:], v, err
		}}},
		{"SymGenEig ignores b", "SymGenEig", broken{symGenEig: func(a, _ blas64.General) ([]float64, error) {
			return good.SymEig(a, true)
		}}},
		{"Cholesky leaves the lower triangle", "Cholesky", broken{cholesky: func(a blas64.General) error {
			err := good.Cholesky(a)
			backend.Symmetrize(a)
			return err
		}}},
		{"Cholesky swallows failure", "Cholesky", broken{cholesky: func(a blas64.General) error {
			good.Cholesky(a)
			return nil
		}}},
		{"TriSolve ignores the transpose", "TriSolve", broken{triSolve: func(ul blas.Uplo, _ blas.Transpose, t, b blas64.General) error {
			return good.TriSolve(ul, blas.NoTrans, t, b)
		}}},
		{"QR returns Rᵀ", "QR", broken{qr: func(a blas64.General) (blas64.General, error) {
			r, err := good.QR(a)
			n := r.Rows
			for i := 0; i < n; i++ {
				for j := i + 1; j < n; j++ {
					r.Data[j*r.Stride+i], r.Data[i*r.Stride+j] = r.Data[i*r.Stride+j], r.Data[j*r.Stride+i]
				}
			}
			return r, err
		}}},
		{"GramAdd accepts a short shift", "Misuse", broken{gramAdd: func(g blas64.General, x backend.Chunk, s []float64) (err error) {
			defer func() { recover() }()
			return good.GramAdd(g, x, s)
		}}},
	}
	for _, bug := range bugs {
		t.Run(bug.name, func(t *testing.T) {
			b := bug.b
			b.Backend = good
			log := runGroup(t, b, bug.group)
			if len(log) == 0 {
				t.Errorf("the %s checks passed a backend where %s", bug.group, bug.name)
			} else {
				t.Logf("caught (%d failures), first: %s", len(log), log[0])
			}
		})
	}
}

// symBackend has the optional symmetric primitives, each possibly broken.
type symBackend struct {
	backend.Backend
	syr2k func(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error
}

func (w symBackend) Syr2k(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error {
	return w.syr2k(tA, alpha, x, y, beta, c)
}

// SymmUpper forms the product by Gemm from a copy of a mirrored from its
// lower triangle: wrong, since only the upper one is valid.
func (w symBackend) SymmUpper(alpha float64, a, b blas64.General, beta float64, c blas64.General) error {
	full := backend.Clone(a)
	for i := 0; i < a.Rows; i++ {
		for j := i + 1; j < a.Cols; j++ {
			full.Data[i*full.Stride+j] = full.Data[j*full.Stride+i]
		}
	}
	return w.Gemm(blas.NoTrans, blas.NoTrans, alpha, full, b, beta, c)
}

// TestSuiteCatchesSymmetricBugs: a Syr2k that forgets one of its two
// products, one that writes the lower triangle, and a SymmUpper that reads
// the lower triangle all fail the Symmetric group.
func TestSuiteCatchesSymmetricBugs(t *testing.T) {
	good := gonum.New(1)
	for name, f := range map[string]func(blas.Transpose, float64, blas64.General, blas64.General, float64, blas64.General) error{
		"one product": func(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error {
			tB := blas.Trans
			if tA == blas.Trans {
				tB = blas.NoTrans
			}
			return good.Gemm(tA, tB, 2*alpha, x, y, beta, c)
		},
		"lower triangle written": func(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error {
			err := good.Syr2k(tA, alpha, x, y, beta, c)
			backend.Symmetrize(c)
			return err
		},
	} {
		log := runGroup(t, symBackend{Backend: good, syr2k: f}, "Symmetric")
		var syr2k, symm int
		for _, l := range log {
			switch {
			case strings.Contains(l, "Syr2k"):
				syr2k++
			case strings.Contains(l, "SymmUpper"):
				symm++
			}
		}
		if syr2k == 0 || symm == 0 {
			t.Errorf("Syr2k broken (%s) and SymmUpper reading the lower triangle: %d and %d failures, want both > 0", name, syr2k, symm)
		}
	}
}

// TestSuitePassesGonumQuietly is the control for TestSuiteCatchesBugs: the
// same recorder sees no failure from the unmodified backend.
func TestSuitePassesGonumQuietly(t *testing.T) {
	for _, g := range []string{"GramAdd", "SymEig", "Cholesky", "Symmetric"} {
		if log := runGroup(t, gonum.New(1), g); len(log) > 0 {
			t.Errorf("%s: %d failures, first %s", g, len(log), log[0])
		}
	}
}

// The references themselves are checked against closed forms, independently
// of any backend.

func TestOrthogonalIsOrthogonal(t *testing.T) {
	for _, n := range []int{1, 5, 64} {
		q := orthogonal(caseRNG("orth"), n)
		for _, m := range []dense{mul(q.t(), q), mul(q, q.t())} {
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					if d := math.Abs(m.at(i, j) - b2f(i == j)); d > 1e-14 {
						t.Fatalf("n=%d: QᵀQ or QQᵀ off identity by %g at [%d,%d]", n, d, i, j)
					}
				}
			}
		}
	}
}

func TestReferenceProblemsHoldTheirEigenpairs(t *testing.T) {
	check := func(name string, a, b, v dense, lambda []float64) {
		t.Helper()
		av, bv := mul(a, v), mul(b, v)
		for i := 0; i < a.r; i++ {
			for j := 0; j < a.r; j++ {
				if d := math.Abs(av.at(i, j) - lambda[j]*bv.at(i, j)); d > 1e-12 {
					t.Fatalf("%s: A·v ≠ λ·B·v by %g at [%d,%d]", name, d, i, j)
				}
			}
		}
	}
	for _, n := range []int{1, 2, 9, 40} {
		p := laplacian(n)
		check(fmt.Sprintf("laplacian n=%d", n), p.a, identity(n), p.vecs, p.lambda)
		ep := newEigProblem(caseRNG("ref"), spectra[0], n)
		check(fmt.Sprintf("distinct n=%d", n), ep.a, identity(n), ep.vecs, ep.lambda)
		gp := newGenProblem(caseRNG("ref"), spectra[0], n)
		check(fmt.Sprintf("pencil n=%d", n), gp.a, gp.b, gp.vecs, gp.lambda)
	}
	if l := laplacian(3).lambda; math.Abs(l[0]-(2+math.Sqrt2)) > 1e-15 || math.Abs(l[2]-(2-math.Sqrt2)) > 1e-15 {
		t.Errorf("laplacian(3) eigenvalues %v, want 2±√2 and 2", l)
	}
}

func TestCompareFlagsNaNAndBounds(t *testing.T) {
	cases := []struct {
		got, want, bound float64
		ok               bool
	}{
		{1, 1, 0, true}, {1, 1.5, 1, true}, {1, 2.5, 1, false},
		{math.NaN(), 1, 1e9, false}, {math.Nextafter(1, 2), 1, 0, false},
	}
	for _, c := range cases {
		var log []string
		got := compare(recorder{"x", &log}, "x", 1, 1, func(int, int) (float64, float64, float64) {
			return c.got, c.want, c.bound
		})
		if got != c.ok || (len(log) == 0) != c.ok {
			t.Errorf("compare(%v, %v, ±%v) = %v with %d reports, want %v", c.got, c.want, c.bound, got, len(log), c.ok)
		}
	}
}
