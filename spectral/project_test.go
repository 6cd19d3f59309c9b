package spectral_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/spectral"
)

// testBackends are the backends Project runs on in these tests; the
// openblas build adds its own (openblas_test.go).
var testBackends = map[string]func() backend.Backend{
	"gonum": func() backend.Backend { return gonum.New(2) },
}

// reference is the independent answer Project is held to: LAPACK's dsyevd
// through the openblas backend when it is compiled in, else gonum's Dsyev
// (QR iteration, a different algorithm from every route here). P = M·U.
var reference = func(a, m blas64.General) ([]float64, blas64.General) {
	n := a.Rows
	u := backend.Clone(a)
	w := make([]float64, n)
	impl := lapackgonum.Implementation{}
	work := []float64{0}
	impl.Dsyev(lapack.EVCompute, blas.Upper, n, u.Data, u.Stride, w, work, -1)
	work = make([]float64, int(work[0]))
	if !impl.Dsyev(lapack.EVCompute, blas.Upper, n, u.Data, u.Stride, w, work, len(work)) {
		panic("reference Dsyev did not converge")
	}
	backend.Reverse(w, u)
	p := backend.NewGeneral(m.Rows, n)
	if m.Rows > 0 {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, m, u, 0, p)
	}
	return w, p
}

// problem is a symmetric A (full storage) and the rows M.
type problem struct {
	name string
	a, m blas64.General
}

func symmetricFrom(n int, f func(i, j int) float64) blas64.General {
	a := backend.NewGeneral(n, n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := f(i, j)
			a.Data[i*n+j], a.Data[j*n+i] = v, v
		}
	}
	return a
}

// withSpectrum is Q·diag(lam)·Qᵀ for a random orthogonal Q.
func withSpectrum(rng *rand.Rand, lam []float64) blas64.General {
	n := len(lam)
	q := backend.NewGeneral(n, n)
	for i := range q.Data {
		q.Data[i] = rng.NormFloat64()
	}
	if n > 0 {
		tau := make([]float64, n)
		impl := lapackgonum.Implementation{}
		work := make([]float64, 64*n)
		impl.Dgeqrf(n, n, q.Data, n, tau, work, len(work))
		impl.Dorgqr(n, n, n, q.Data, n, tau, work, len(work))
	}
	ql := backend.NewGeneral(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			ql.Data[i*n+j] = q.Data[i*n+j] * lam[j]
		}
	}
	a := backend.NewGeneral(n, n)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, ql, q, 0, a)
	backend.Symmetrize(a) // exact symmetry: the upper triangle is what counts
	return a
}

func gaussian(rng *rand.Rand, r, c int) blas64.General {
	m := backend.NewGeneral(r, c)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

// gramOf is XᵀX.
func gramOf(x blas64.General) blas64.General {
	g := backend.NewGeneral(x.Cols, x.Cols)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, x, x, 0, g)
	backend.Symmetrize(g)
	return g
}

// wilkinson is W_n+ (n odd): diagonal |i − (n−1)/2|, off-diagonal 1; its
// largest eigenvalues come in pairs equal to many digits.
func wilkinson(n int) blas64.General {
	h := (n - 1) / 2
	return symmetricFrom(n, func(i, j int) float64 {
		switch {
		case i == j:
			return math.Abs(float64(i - h))
		case j == i+1:
			return 1
		}
		return 0
	})
}

// gluedWilkinson is copies of W21+ joined by off-diagonal δ: clusters of
// eigenvalues within δ of each other.
func gluedWilkinson(copies int, delta float64) blas64.General {
	const w = 21
	n := copies * w
	return symmetricFrom(n, func(i, j int) float64 {
		switch {
		case i == j:
			return math.Abs(float64(i%w - 10))
		case j == i+1 && j%w == 0:
			return delta
		case j == i+1:
			return 1
		}
		return 0
	})
}

func problems(rng *rand.Rand) []problem {
	var ps []problem
	add := func(name string, a blas64.General, c int) {
		ps = append(ps, problem{name: fmt.Sprintf("%s/n=%d/c=%d", name, a.Rows, c), a: a, m: gaussian(rng, c, a.Rows)})
	}
	goe := func(n int) blas64.General {
		r := gaussian(rng, n, n)
		return symmetricFrom(n, func(i, j int) float64 { return r.Data[i*n+j] })
	}
	// Sizes around the bandwidths and blocks the routes use (b = 8 … 64,
	// the trailing update's 256-column blocks, the kernels' 8- and 32-wide
	// strips), and not multiples of them.
	for _, n := range []int{1, 2, 3, 8, 9, 31, 32, 33, 65, 131, 300} {
		add("goe", goe(n), 5)
	}
	add("goe", goe(257), 1)
	add("goe", goe(70), 0) // eigenvalues only (spectral.Values)
	add("goe", goe(40), 40)
	add("goe", goe(37), 53)
	for _, n := range []int{50, 211} {
		levels := []float64{3, 1, 0, -2}
		lam := make([]float64, n)
		for i := range lam {
			lam[i] = levels[rng.IntN(len(levels))]
		}
		add("repeated", withSpectrum(rng, lam), 7)
	}
	for _, n := range []int{40, 170} {
		lam := make([]float64, n)
		for i := range lam {
			lam[i] = math.Pow(10, -15*float64(i)/float64(n-1))
		}
		add("graded", withSpectrum(rng, lam), 10)
	}
	// Rank-deficient Grams: fewer samples than features, and duplicated rows.
	x := gaussian(rng, 30, 120)
	add("gram-rank30", gramOf(x), 10)
	xd := gaussian(rng, 160, 90)
	for i := 80; i < 160; i++ {
		copy(xd.Data[i*90:(i+1)*90], xd.Data[(i-80)*90:(i-79)*90])
	}
	add("gram-duplicated", gramOf(xd), 10)
	xi := backend.NewGeneral(500, 200) // pixel-like: integers, a dead border
	for i := 0; i < 500; i++ {
		for j := 20; j < 200; j++ {
			xi.Data[i*200+j] = float64(rng.IntN(256))
		}
	}
	add("gram-uint8", gramOf(xi), 10)
	add("wilkinson", wilkinson(21), 4)
	add("wilkinson", wilkinson(101), 4)
	add("glued-wilkinson", gluedWilkinson(10, 1e-10), 6)
	add("zero", backend.NewGeneral(20, 20), 3)
	return ps
}

// norm2 is max |λ|.
func norm2(values []float64) float64 {
	s := 0.0
	for _, v := range values {
		s = math.Max(s, math.Abs(v))
	}
	return s
}

// clusters splits the descending values into runs whose neighbours are
// within 1e-6·‖A‖: inside a run the eigenvectors are not determined to the
// tolerance of these tests (their error is ε‖A‖/gap), only the run's
// invariant subspace is, so projections are compared as run sums.
func clusters(values []float64) [][2]int {
	tol := 1e-6 * norm2(values)
	var out [][2]int
	start := 0
	for j := 1; j <= len(values); j++ {
		if j == len(values) || values[j-1]-values[j] > tol {
			out = append(out, [2]int{start, j})
			start = j
		}
	}
	return out
}

// directionWeights returns, for each column of p, ‖p_j‖² and p_jᵀ·G·p_j
// for a fixed positive definite G (the regression and gram forms of
// engine/alignment.go), each divided by its total over all columns.
func directionWeights(p blas64.General, gm blas64.General) (plain, weighted []float64) {
	c, n := p.Rows, p.Cols
	plain = make([]float64, n)
	weighted = make([]float64, n)
	col := make([]float64, c)
	for j := 0; j < n; j++ {
		for i := 0; i < c; i++ {
			col[i] = p.Data[i*p.Stride+j]
			plain[j] += col[i] * col[i]
		}
		for i := 0; i < c; i++ {
			s := 0.0
			for k := 0; k < c; k++ {
				s += gm.Data[i*c+k] * col[k]
			}
			weighted[j] += col[i] * s
		}
	}
	return normalized(plain), normalized(weighted)
}

func normalized(x []float64) []float64 {
	t := 0.0
	for _, v := range x {
		t += v
	}
	if t > 0 {
		for i := range x {
			x[i] /= t
		}
	}
	return x
}

// checkAgainst compares a Project result with the reference: eigenvalues
// within 1e-12·‖A‖, per-cluster sums of both direction weights and their
// cumulative curves within 1e-10.
func checkAgainst(t *testing.T, res *spectral.Result, wantW []float64, wantP blas64.General, m blas64.General) {
	t.Helper()
	n := len(wantW)
	if len(res.Values) != n || res.P.Rows != m.Rows || res.P.Cols != n {
		t.Fatalf("got %d values and a %d×%d P, want %d and %d×%d", len(res.Values), res.P.Rows, res.P.Cols, n, m.Rows, n)
	}
	scale := math.Max(norm2(wantW), math.SmallestNonzeroFloat64)
	for j := range wantW {
		if d := math.Abs(res.Values[j] - wantW[j]); !(d <= 1e-12*scale) {
			t.Fatalf("eigenvalue %d: %.17g, reference %.17g (|diff| %.3g > 1e-12·‖A‖ = %.3g)", j, res.Values[j], wantW[j], d, 1e-12*scale)
		}
	}
	c := m.Rows
	rng := rand.New(rand.NewPCG(1, 2))
	l := gaussian(rng, c, c)
	gm := backend.NewGeneral(c, c)
	if c > 0 {
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, l, l, 0, gm)
	}
	gotPlain, gotWeighted := directionWeights(res.P, gm)
	wantPlain, wantWeighted := directionWeights(wantP, gm)
	for _, f := range []struct {
		name      string
		got, want []float64
	}{{"‖M·u_j‖²", gotPlain, wantPlain}, {"(M·u_j)ᵀG(M·u_j)", gotWeighted, wantWeighted}} {
		cumGot, cumWant := 0.0, 0.0
		for _, cl := range clusters(wantW) {
			sg, sw := 0.0, 0.0
			for j := cl[0]; j < cl[1]; j++ {
				sg += f.got[j]
				sw += f.want[j]
			}
			cumGot += sg
			cumWant += sw
			if d := math.Abs(sg - sw); !(d <= 1e-10) {
				t.Fatalf("%s, directions %d…%d (λ ≈ %.6g): %.15g, reference %.15g (|diff| %.3g)", f.name, cl[0], cl[1]-1, wantW[cl[0]], sg, sw, d)
			}
			if d := math.Abs(cumGot - cumWant); !(d <= 1e-10) {
				t.Fatalf("%s curve at k = %d: %.15g, reference %.15g (|diff| %.3g)", f.name, cl[1], cumGot, cumWant, d)
			}
		}
	}
}

func routesUnderTest() []string {
	return []string{spectral.RouteFull, spectral.RouteTwoStageQL, spectral.RouteTwoStageDC}
}

func TestProjectAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	for _, p := range problems(rng) {
		wantW, wantP := reference(backend.Clone(p.a), p.m)
		for bname, newBackend := range testBackends {
			be := newBackend()
			for _, route := range routesUnderTest() {
				bands := []int{0}
				if route != spectral.RouteFull {
					bands = []int{0, 3, 8, 64}
				}
				for _, b := range bands {
					t.Run(fmt.Sprintf("%s/%s/%s/b=%d", p.name, bname, route, b), func(t *testing.T) {
						a := padded(p.a, b%3) // NaN outside the upper triangle
						m0 := backend.Clone(p.m)
						res, err := spectral.Project(be, a, p.m, spectral.Options{Route: route, Bandwidth: b})
						if err != nil {
							t.Fatal(err)
						}
						if res.Route != route {
							t.Errorf("route %q, asked for %q", res.Route, route)
						}
						for i := range m0.Data {
							if m0.Data[i] != p.m.Data[i] {
								t.Fatal("Project modified M")
							}
						}
						checkAgainst(t, res, wantW, wantP, p.m)
					})
				}
			}
		}
	}
}

// The route chosen by cost must be one of the named ones and give the same
// answer.
func TestProjectChoosesARoute(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, nc := range [][2]int{{10, 3}, {200, 2}, {200, 300}} {
		n, c := nc[0], nc[1]
		a := withSpectrum(rng, normalized(gaussian(rng, 1, n).Data))
		m := gaussian(rng, c, n)
		wantW, wantP := reference(backend.Clone(a), m)
		res, err := spectral.Project(gonum.New(2), a, m, spectral.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Route, "full") && !strings.HasPrefix(res.Route, "two-stage+") {
			t.Errorf("n=%d c=%d: route %q", n, c, res.Route)
		}
		checkAgainst(t, res, wantW, wantP, m)
	}
}

// NaN or Inf anywhere in what is read is an error naming the matrix, never
// a hang or a NaN result; the lower triangle of A is not read.
func TestProjectRejectsNonFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n, c := 40, 3
	for _, route := range routesUnderTest() {
		for _, bad := range []struct {
			where   string
			i, j    int
			v       float64
			wantErr string
		}{
			{"A", 3, 17, math.NaN(), "A (40×40) has NaN at (3, 17)"},
			{"A", 5, 5, math.Inf(1), "A (40×40) has +Inf at (5, 5)"},
			{"M", 2, 39, math.Inf(-1), "M (3×40) has -Inf at (2, 39)"},
		} {
			a := withSpectrum(rng, gaussian(rng, 1, n).Data)
			m := gaussian(rng, c, n)
			target := a
			if bad.where == "M" {
				target = m
			}
			target.Data[bad.i*target.Stride+bad.j] = bad.v
			_, err := spectral.Project(gonum.New(2), a, m, spectral.Options{Route: route})
			if err == nil || !strings.Contains(err.Error(), bad.wantErr) {
				t.Errorf("%s: %s at (%d, %d): error %v, want one containing %q", route, bad.where, bad.i, bad.j, err, bad.wantErr)
			}
		}
		a := withSpectrum(rng, gaussian(rng, 1, n).Data)
		a.Data[30*n+2] = math.NaN() // lower triangle: not read
		if _, err := spectral.Project(gonum.New(2), a, gaussian(rng, c, n), spectral.Options{Route: route}); err != nil {
			t.Errorf("%s: NaN in the lower triangle: %v", route, err)
		}
	}
}

// sortedDesc is a copy of x in descending order.
func sortedDesc(x []float64) []float64 {
	y := append([]float64(nil), x...)
	sort.Sort(sort.Reverse(sort.Float64Slice(y)))
	return y
}
