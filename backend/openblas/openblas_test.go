package openblas_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/backendtest"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/backend/openblas"
)

func open() (backend.Backend, error) { return backend.Open(openblas.Name, backend.Options{}) }

func TestConformance(t *testing.T) { backendtest.Run(t, open) }

func BenchmarkBackend(b *testing.B) { backendtest.Bench(b, open) }

// TestAgreesWithGonum runs one small analysis — shifted Gram, eigenpairs,
// a generalized pencil, Cholesky, QR — through both CPU backends and
// requires the same numbers: two unrelated code bases (OpenBLAS/LAPACK and
// gonum's pure Go) that agree are unlikely to share a bug.
func TestAgreesWithGonum(t *testing.T) {
	ob, err := open()
	if errors.Is(err, backend.ErrUnavailable) {
		t.Skipf("skipped: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	gb := gonum.New(0)
	const n, d = 600, 150
	rng := rand.New(rand.NewPCG(1, 2))
	// Pixel-like data: ten latent factors of geometrically falling strength
	// (so the leading eigenvalues are well separated) plus noise, clipped to
	// bytes, with every 37th feature dead.
	const factors = 10
	loading := make([]float64, factors*d)
	for i := range loading {
		loading[i] = rng.NormFloat64()
	}
	x := backend.Chunk{N: n, D: d, U8: make([]uint8, n*d)}
	z := make([]float64, factors)
	for k := 0; k < n; k++ {
		for f := range z {
			z[f] = 30 * math.Pow(0.8, float64(f)) * rng.NormFloat64()
		}
		for j := 0; j < d; j++ {
			if j%37 == 0 {
				continue
			}
			v := 128 + 4*rng.NormFloat64()
			for f := range z {
				v += z[f] * loading[f*d+j]
			}
			x.U8[k*d+j] = uint8(min(255, max(0, math.Round(v))))
		}
	}
	shift := make([]float64, d)
	for j := range shift {
		shift[j] = 127.75
	}

	gram := func(be backend.Backend) blas64.General {
		g := backend.NewGeneral(d, d)
		for _, cut := range [][2]int{{0, 250}, {250, n}} {
			if err := be.GramAdd(g, x.Rows(cut[0], cut[1]), shift); err != nil {
				t.Fatal(err)
			}
		}
		backend.Symmetrize(g)
		return g
	}
	go1, gg := gram(ob), gram(gb)
	scale := maxAbs(gg.Data)
	agree(t, "Gram", go1.Data, gg.Data, 1e-13*scale)

	eig := func(be backend.Backend, g blas64.General) ([]float64, blas64.General) {
		a := clone(g)
		w, err := be.SymEig(a, true)
		if err != nil {
			t.Fatal(err)
		}
		return w, a
	}
	wo, vo := eig(ob, gg)
	wg, vg := eig(gb, gg)
	agree(t, "eigenvalues", wo, wg, 1e-12*wg[0])
	// The leading eigenvectors are well separated here; compare them up to sign.
	for j := 0; j < 10; j++ {
		if gap := wg[j] - wg[j+1]; gap < 1e-3*wg[0] {
			t.Fatalf("test problem has eigengap %g at %d; pick another seed", gap, j)
		}
		c := 0.0
		for i := 0; i < d; i++ {
			c += vo.Data[i*d+j] * vg.Data[i*d+j]
		}
		if math.Abs(math.Abs(c)-1) > 1e-10 {
			t.Errorf("eigenvector %d: |cos| between backends = %v, want 1", j, math.Abs(c))
		}
	}

	wt, _, err := ob.SymEigTop(clone(gg), 10)
	if err != nil {
		t.Fatal(err)
	}
	agree(t, "top-10 eigenvalues", wt, wg[:10], 1e-12*wg[0])

	// The Gaussian-noise denoising pencil (Gx, Gx + σ²·n·I) of the analysis.
	pencil := func(be backend.Backend) []float64 {
		a, b := clone(gg), clone(gg)
		for i := 0; i < d; i++ {
			b.Data[i*d+i] += 0.01 * scale
		}
		w, err := be.SymGenEig(a, b)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	agree(t, "generalized eigenvalues", pencil(ob), pencil(gb), 1e-11)

	chol := func(be backend.Backend) []float64 {
		a := clone(gg)
		for i := 0; i < d; i++ {
			a.Data[i*d+i] += 0.01 * scale
		}
		if err := be.Cholesky(a); err != nil {
			t.Fatal(err)
		}
		return a.Data
	}
	agree(t, "Cholesky factor", chol(ob), chol(gb), 1e-12*math.Sqrt(scale))

	// QR's R is unique up to the signs of its rows.
	qr := func(be backend.Backend) []float64 {
		a := backend.NewGeneral(n, d)
		qrng := rand.New(rand.NewPCG(3, 4))
		for i := range a.Data {
			a.Data[i] = qrng.NormFloat64()
		}
		r, err := be.QR(a)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < d; i++ {
			if r.Data[i*d+i] < 0 {
				for j := i; j < d; j++ {
					r.Data[i*d+j] = -r.Data[i*d+j]
				}
			}
		}
		return r.Data
	}
	ro, rg := qr(ob), qr(gb)
	agree(t, "QR factor R (rows sign-normalised)", ro, rg, 1e-12*maxAbs(rg))
}

func agree(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: openblas gave %d values, gonum %d", what, len(got), len(want))
	}
	worst, at := 0.0, 0
	for i := range want {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(d) {
			t.Errorf("%s: NaN at element %d (openblas %v, gonum %v)", what, i, got[i], want[i])
			return
		}
		if d > worst {
			worst, at = d, i
		}
	}
	t.Logf("%s: largest difference %.3g (tolerance %.3g)", what, worst, tol)
	if worst > tol {
		t.Errorf("%s: openblas and gonum differ by %g at element %d (%v vs %v), tolerance %g",
			what, worst, at, got[at], want[at], tol)
	}
}

func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

func clone(g blas64.General) blas64.General {
	g.Data = append([]float64(nil), g.Data...)
	return g
}
