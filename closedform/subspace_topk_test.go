package closedform

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/rsvd"
)

// decayingData draws n samples μ + z·diag(σ)·Qᵀ in d dimensions with σ_j =
// decay^j and a random rotation Q: a spectrum whose shares are known up to
// sampling noise and whose gaps make the top directions well determined.
func decayingData(seed uint64, n, d int, decay float64) dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	g := mat.NewDense(d, d, nil)
	for i := range d * d {
		g.RawMatrix().Data[i] = rng.NormFloat64()
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	z := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			z.Set(i, j, rng.NormFloat64()*math.Pow(decay, float64(j)))
		}
	}
	var x mat.Dense
	x.Mul(z, q.T())
	out := x.RawMatrix().Data
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			out[i*d+j] += 3 + math.Sin(float64(j)) // a mean far from 0
		}
	}
	return dataset{n: n, d: d, c: 1, x: out, labels: make([]int, n)}
}

// leading runs the randomized top-K on ds and wraps it.
func leading(t *testing.T, be backend.Backend, ds dataset, k int) *LeadingSpectrum {
	t.Helper()
	opt := rsvd.DefaultOptions(k)
	opt.NoLabels, opt.Stream, opt.ChunkRows = true, true, 128 // the route huge D takes
	res, err := rsvd.TopK(be, ds.source(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := NewLeadingSpectrum(res.Mean, res.Values, res.Vectors, res.Trace)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// With K well beyond the cut, the leading spectrum from rsvd gives the
// full-spectrum cuts and projections; top(p) and bottom(1−p) add up to x + μ.
func TestLeadingSpectrumMatchesFull(t *testing.T) {
	be := gonumBackend()
	ds := decayingData(3, 600, 96, 0.8)
	full, err := NewSpectrum(be, ds.stats(t, be, true), 0)
	if err != nil {
		t.Fatal(err)
	}
	ls := leading(t, be, ds, 40)
	total := 0.0
	for _, v := range full.Values {
		total += v
	}
	if math.Abs(ls.Trace-total) > 1e-10*total {
		t.Fatalf("trace %.15g, sum of all eigenvalues %.15g", ls.Trace, total)
	}
	test := decayingData(4, 50, 96, 0.8)
	for _, p := range []float64{0.5, 0.75, 0.93, 0.99} {
		for _, keep := range []Keep{KeepTop, KeepBottom} {
			v := p
			if keep == KeepBottom {
				v = 1 - p
			}
			want, err := full.Cut(keep, v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ls.Cut(keep, v)
			if err != nil {
				t.Fatal(err)
			}
			if got.First != want.First || got.Count != want.Count || math.Abs(got.Explained-want.Explained) > 1e-9 {
				t.Fatalf("%s(%g): leading cut %+v, full %+v", keep, v, got, want)
			}
			a := append([]float64(nil), test.x...)
			b := append([]float64(nil), test.x...)
			pl, err := ls.Projector(be, got)
			if err != nil {
				t.Fatal(err)
			}
			if err := pl.Project(a, test.n); err != nil {
				t.Fatal(err)
			}
			if err := full.Projector(be, want).Project(b, test.n); err != nil {
				t.Fatal(err)
			}
			assertClose(t, string(keep)+" projection", a, b, 1e-8)
		}
		// The split: top(p) + bottom(1−p) = x + μ.
		top, _ := ls.Cut(KeepTop, p)
		bot, _ := ls.Cut(KeepBottom, 1-p)
		if bot.First != top.Count || top.Count+bot.Count != ds.d {
			t.Fatalf("top(%g) %+v and bottom(%g) %+v do not split the directions", p, top, 1-p, bot)
		}
		a := append([]float64(nil), test.x...)
		b := append([]float64(nil), test.x...)
		pt, _ := ls.Projector(be, top)
		pb, _ := ls.Projector(be, bot)
		pt.Project(a, test.n)
		pb.Project(b, test.n)
		for i := range a {
			a[i] += b[i] - test.x[i] - ls.Mean[i%ds.d]
		}
		if m := maxAbs(a); m > 1e-12*(1+maxAbs(test.x)) {
			t.Fatalf("top(%g) + bottom(%g) − x − μ reaches %g", p, 1-p, m)
		}
	}
}

// Cuts beyond the known directions fail with the shares involved; with all D
// directions known nothing is beyond.
func TestLeadingSpectrumTooShort(t *testing.T) {
	be := gonumBackend()
	ds := decayingData(5, 300, 40, 0.8)
	ls := leading(t, be, ds, 3)
	explained := ls.Share[2]
	if !(explained > 0.5 && explained < 0.9) {
		t.Fatalf("3 directions explain %g: the cases below assume 0.5–0.9", explained)
	}
	for _, c := range []struct {
		keep     Keep
		variance float64
		short    bool
	}{
		{KeepTop, 0.9, true},
		{KeepBottom, 0.05, true}, // the complement of top(0.95)
		{KeepTop, 0.5, false},
		{KeepBottom, 0.5, false},
		{KeepBottom, 1, false}, // everything: no direction removed
	} {
		sub, err := ls.Cut(c.keep, c.variance)
		var short *ShortSpectrumError
		if c.short {
			if !errors.As(err, &short) || short.K != 3 || short.Explained != explained {
				t.Fatalf("%s(%g): %v (%+v), want a ShortSpectrumError for K=3 at %g", c.keep, c.variance, err, sub, explained)
			}
			if !strings.Contains(err.Error(), "top K=3 directions explain only") {
				t.Errorf("message %q", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s(%g): %v", c.keep, c.variance, err)
		}
		if _, err := ls.Projector(be, sub); err != nil {
			t.Fatal(err)
		}
	}
	all := leading(t, be, ds, ds.d)
	if _, err := all.Cut(KeepTop, 1); err != nil {
		t.Errorf("K = D: %v", err)
	}
}

func TestLeadingSpectrumRejects(t *testing.T) {
	u := backend.NewGeneral(3, 2)
	mean := []float64{0, 0, 0}
	for _, c := range []struct {
		values []float64
		u      [2]int
		trace  float64
		want   string
	}{
		{nil, [2]int{3, 0}, 1, "no eigenpairs"},
		{[]float64{2, 1}, [2]int{2, 2}, 5, "eigenvectors are 2×2, want D×K = 3×2"},
		{[]float64{2, 1}, [2]int{3, 2}, 0, "no variance"},
		{[]float64{1, 2}, [2]int{3, 2}, 5, "not descending"},
		{[]float64{2, 1}, [2]int{3, 2}, 2.5, "more than the trace"},
	} {
		v := backend.NewGeneral(c.u[0], c.u[1])
		_, err := NewLeadingSpectrum(mean, c.values, v, c.trace)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.values, err, c.want)
		}
	}
	ls, err := NewLeadingSpectrum(mean, []float64{2, 1}, u, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Projector(gonumBackend(), Subspace{Keep: KeepTop, Count: 3}); err == nil {
		t.Error("a top subspace beyond K accepted")
	}
}
