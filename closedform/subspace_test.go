package closedform

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// The cuts against the reference code's formulas, written as it writes
// them: eigenvalues ascending, explained = cumsum(reversed)[reversed],
// top = explained < v, bottom = explained >= 1 − v.
func TestCutsFollowReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for trial := 0; trial < 50; trial++ {
		d := 2 + rng.IntN(30)
		desc := make([]float64, d)
		for i := range desc {
			desc[i] = math.Exp(3 * rng.NormFloat64())
			if rng.IntN(8) == 0 {
				desc[i] = 0 // dead directions
			}
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(desc)))
		if desc[0] == 0 {
			desc[0] = 1
		}
		s := spectrumOf(desc)
		asc := make([]float64, d)
		total := 0.0
		for i, v := range desc {
			asc[d-1-i] = v
			total += v
		}
		explained := make([]float64, d) // explained[i] = Σ_{j≥i} asc[j]/total
		cum := 0.0
		for i := d - 1; i >= 0; i-- {
			cum += asc[i] / total
			explained[i] = cum
		}
		// v = 1 puts the cut exactly on the last share, where the reference's
		// own rounding decides; TestCutExamples pins it down.
		for _, v := range []float64{0.05, 0.2, 0.5, 0.8, 0.9, 0.99} {
			for _, keep := range []Keep{KeepTop, KeepBottom} {
				var want []int // descending indices
				for i := 0; i < d; i++ {
					in := explained[i] < v
					if keep == KeepBottom {
						in = explained[i] >= 1-v
					}
					if in {
						want = append(want, d-1-i)
					}
				}
				sort.Ints(want)
				sub, err := s.Cut(keep, v)
				if len(want) == 0 {
					if err == nil {
						t.Fatalf("%s %g of %v: empty cut accepted", keep, v, desc)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				// Rounding of the two cumulative sums may move a direction
				// whose share sits exactly on the cut; random spectra do not.
				if sub.First != want[0] || sub.Count != len(want) {
					t.Fatalf("%s %g of %v: directions [%d, %d), reference %v", keep, v, desc, sub.First, sub.First+sub.Count, want)
				}
			}
		}
	}
}

// spectrumOf builds a Spectrum with the given descending eigenvalues.
func spectrumOf(values []float64) *Spectrum {
	d := len(values)
	s := &Spectrum{D: d, Values: values, Share: make([]float64, d)}
	total := 0.0
	for _, v := range values {
		total += v
	}
	cum := 0.0
	for i, v := range values {
		cum += v
		s.Share[i] = cum / total
	}
	return s
}

func TestCutExamples(t *testing.T) {
	s := spectrumOf([]float64{5, 3, 1, 1, 0}) // shares .5 .8 .9 1 1
	cases := []struct {
		keep         Keep
		v            float64
		first, count int
		explained    float64
	}{
		{KeepTop, 0.8, 0, 1, 0.5},
		{KeepTop, 0.85, 0, 2, 0.8},
		{KeepTop, 1, 0, 3, 0.9},
		{KeepBottom, 0.2, 1, 4, 0.5},
		{KeepBottom, 0.1, 2, 3, 0.2},
		{KeepBottom, 1, 0, 5, 1},
	}
	for _, c := range cases {
		sub, err := s.Cut(c.keep, c.v)
		if err != nil {
			t.Fatal(err)
		}
		if sub.First != c.first || sub.Count != c.count || math.Abs(sub.Explained-c.explained) > 1e-15 {
			t.Errorf("%s %g: %+v, want first %d count %d explained %g", c.keep, c.v, sub, c.first, c.count, c.explained)
		}
	}
	for _, v := range []float64{0, -0.1, 1.5, math.NaN()} {
		if _, err := s.Cut(KeepTop, v); err == nil {
			t.Errorf("variance %g accepted", v)
		}
	}
	if _, err := s.Cut(KeepTop, 0.3); err == nil {
		t.Error("an empty top cut accepted")
	}
	if _, err := ParseKeep("middle"); err == nil {
		t.Error("keep middle accepted")
	}
}

// Projections against explicit dense algebra, and the two halves of a
// split adding back up: (μ + (x−μ)P_top) + (μ + (x−μ)P_bottom) = x + μ.
func TestProjector(t *testing.T) {
	ds := imageData(20, 300, 5, 5, 1, 3)
	be := gonumBackend()
	st := ds.stats(t, be, true)
	s, err := NewSpectrum(be, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	test := imageData(21, 40, 5, 5, 1, 3)
	for _, v := range []float64{0.6, 0.8, 0.95} {
		top, err := s.Cut(KeepTop, v)
		if err != nil {
			t.Fatal(err)
		}
		bot, err := s.Cut(KeepBottom, 1-v)
		if err != nil {
			t.Fatal(err)
		}
		if top.Count+bot.Count != ds.d || bot.First != top.Count {
			t.Fatalf("top(%g) %+v and bottom(%g) %+v do not split the directions", v, top, 1-v, bot)
		}
		a := append([]float64(nil), test.x...)
		b := append([]float64(nil), test.x...)
		if err := s.Projector(be, top).Project(a, test.n); err != nil {
			t.Fatal(err)
		}
		if err := s.Projector(be, bot).Project(b, test.n); err != nil {
			t.Fatal(err)
		}
		// Dense reference for the top half.
		u := mat.NewDense(ds.d, ds.d, s.U.Data).Slice(0, ds.d, 0, top.Count)
		var proj mat.Dense
		proj.Mul(u, u.T())
		xc := mat.NewDense(test.n, ds.d, nil)
		for i := 0; i < test.n; i++ {
			for j := 0; j < ds.d; j++ {
				xc.Set(i, j, test.x[i*ds.d+j]-s.Mean[j])
			}
		}
		var want mat.Dense
		want.Mul(xc, &proj)
		for i := 0; i < test.n; i++ {
			for j := 0; j < ds.d; j++ {
				w := want.At(i, j) + s.Mean[j]
				if math.Abs(a[i*ds.d+j]-w) > 1e-10*(1+math.Abs(w)) {
					t.Fatalf("top(%g) row %d col %d: %.15g, dense %.15g", v, i, j, a[i*ds.d+j], w)
				}
				if sum := a[i*ds.d+j] + b[i*ds.d+j]; math.Abs(sum-test.x[i*ds.d+j]-s.Mean[j]) > 1e-10*(1+math.Abs(sum)) {
					t.Fatalf("split of %g does not add up at row %d col %d", v, i, j)
				}
			}
		}
		// Projecting twice changes nothing.
		c := append([]float64(nil), a...)
		s.Projector(be, top).Project(c, test.n)
		assertClose(t, "idempotent", c, a, 1e-10)
	}
}

// The probe from moments against least squares with an intercept on the
// explicitly projected data (gonum's dense QR), and the one-pass sweep
// against probes fitted one by one.
func TestProbeMatchesLeastSquares(t *testing.T) {
	ds := imageData(22, 400, 6, 4, 1, 4)
	test := imageData(23, 200, 6, 4, 1, 4)
	be := gonumBackend()
	s, err := NewSpectrum(be, ds.stats(t, be, true), 0)
	if err != nil {
		t.Fatal(err)
	}
	grid := []float64{0.6, 0.8, 0.95, 1}
	sweep, err := ProbeSweep(be, s, test.source(t), grid, 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	for gi, v := range grid {
		for _, keep := range []Keep{KeepTop, KeepBottom} {
			for _, ridge := range []float64{0, 50} {
				sub, err := s.Cut(keep, v)
				if err != nil {
					t.Fatal(err)
				}
				p, err := FitProbe(be, s, sub, ridge)
				if err != nil {
					t.Fatal(err)
				}
				acc, err := p.Accuracy(be, test.source(t), 33)
				if err != nil {
					t.Fatal(err)
				}
				wantW, wantAcc := denseProbe(s, ds, test, sub, ridge)
				assertClose(t, "W", p.W.Data, wantW, 1e-8)
				if acc != wantAcc {
					t.Errorf("%s %g ridge %g: accuracy %.4f, dense least squares %.4f", keep, v, ridge, acc, wantAcc)
				}
				if ridge == 0 {
					got := sweep[gi].Top
					if keep == KeepBottom {
						got = sweep[gi].Bottom
					}
					if got == nil || got.Accuracy != acc || got.Dims != sub.Count {
						t.Errorf("%s %g: sweep %+v, probe accuracy %.4f dims %d", keep, v, got, acc, sub.Count)
					}
				}
			}
		}
	}
}

// denseProbe solves min ‖[T 1]·B − Y‖² + ridge·‖B_T‖² with T = X_c·U_S the
// coordinates of the projected training data, and returns W = U_S·B_T and
// the test accuracy of argmax([T_test 1]·B).
func denseProbe(s *Spectrum, train, test dataset, sub Subspace, ridge float64) ([]float64, float64) {
	d, c, k := train.d, train.c, sub.Count
	u := mat.NewDense(d, d, s.U.Data).Slice(0, d, sub.First, sub.First+k)
	coords := func(ds dataset) *mat.Dense {
		xc := mat.NewDense(ds.n, d, nil)
		for i := 0; i < ds.n; i++ {
			for j := 0; j < d; j++ {
				xc.Set(i, j, ds.x[i*d+j]-s.Mean[j])
			}
		}
		var tt mat.Dense
		tt.Mul(xc, u)
		a := mat.NewDense(ds.n, k+1, nil)
		for i := 0; i < ds.n; i++ {
			for j := 0; j < k; j++ {
				a.Set(i, j, tt.At(i, j))
			}
			a.Set(i, k, 1)
		}
		return a
	}
	a := coords(train)
	y := mat.NewDense(train.n, c, nil)
	for i, l := range train.labels {
		y.Set(i, l, 1)
	}
	var b mat.Dense
	if ridge == 0 {
		if err := b.Solve(a, y); err != nil {
			panic(err)
		}
	} else { // normal equations with the intercept left unpenalised
		var ata mat.Dense
		ata.Mul(a.T(), a)
		for j := 0; j < k; j++ {
			ata.Set(j, j, ata.At(j, j)+ridge)
		}
		var aty mat.Dense
		aty.Mul(a.T(), y)
		if err := b.Solve(&ata, &aty); err != nil {
			panic(err)
		}
	}
	var w mat.Dense
	w.Mul(u, b.Slice(0, k, 0, c))
	at := coords(test)
	var scores mat.Dense
	scores.Mul(at, &b)
	correct := 0
	for i := 0; i < test.n; i++ {
		best := 0
		for j := 1; j < c; j++ {
			if scores.At(i, j) > scores.At(i, best) {
				best = j
			}
		}
		if best == test.labels[i] {
			correct++
		}
	}
	return w.RawMatrix().Data, float64(correct) / float64(test.n)
}

// Figure 4's table on real data against NumPy (explicit projections and
// lstsq), when Fashion-MNIST is installed.
func TestProbeSweepFashionMNIST(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden_closedform.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Probe *struct {
			Train, Test int
			Grid        []float64
			Rows        []struct {
				Top, Bottom *struct{ Accuracy float64 }
			}
		} `json:"fashion_probe"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if g.Probe == nil {
		t.Skip("the golden file was generated without Fashion-MNIST")
	}
	train := fashionSubset(t, g.Probe.Train)
	testSrc, err := data.FashionMNIST("", "test")
	if err != nil {
		t.Skip(err)
	}
	r, _ := testSrc.Open(g.Probe.Test)
	b, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	test, err := data.FromMatrix(backend.Chunk{N: b.X.N, D: b.X.D, F64: b.X.Float64(make([]float64, b.X.N*b.X.D), nil)}, append([]int(nil), b.Labels...), data.Shape{})
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	be := backends(t)[0]
	s, err := NewSpectrum(be, train.stats(t, be, true), 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ProbeSweep(be, s, test, g.Probe.Grid, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := float64(g.Probe.Test)
	for i, want := range g.Probe.Rows {
		for _, h := range []struct {
			name      string
			got       *ProbeScore
			wantScore *struct{ Accuracy float64 }
		}{{"top", rows[i].Top, want.Top}, {"bottom", rows[i].Bottom, want.Bottom}} {
			if (h.got == nil) != (h.wantScore == nil) {
				t.Fatalf("%s %g: empty cut disagrees with NumPy", h.name, rows[i].Variance)
			}
			if h.got == nil {
				continue
			}
			t.Logf("%s %4.2f: %3d dims, explains %.3f, accuracy %.4f (NumPy %.4f)", h.name, rows[i].Variance, h.got.Dims, h.got.Explained, h.got.Accuracy, h.wantScore.Accuracy)
			// A prediction on a near-tie may flip between two solvers.
			if math.Abs(h.got.Accuracy-h.wantScore.Accuracy)*n > 2 {
				t.Errorf("%s %g: accuracy %.4f, NumPy %.4f", h.name, rows[i].Variance, h.got.Accuracy, h.wantScore.Accuracy)
			}
		}
	}
}

func TestProbeBadInput(t *testing.T) {
	ds := imageData(24, 100, 3, 3, 1, 3)
	be := gonumBackend()
	if _, err := NewSpectrum(be, ds.stats(t, be, false), 0); err == nil {
		t.Error("uncentred moments accepted")
	}
	s, _ := NewSpectrum(be, ds.stats(t, be, true), 0)
	sub, _ := s.Cut(KeepTop, 0.9)
	if _, err := FitProbe(be, s, sub, -1); err == nil {
		t.Error("negative ridge accepted")
	}
	if _, err := ProbeSweep(be, s, ds.source(t), nil, 0, 0); err == nil {
		t.Error("empty grid accepted")
	}
	if _, err := ProbeSweep(be, s, ds.source(t), []float64{1.2}, 0, 0); err == nil {
		t.Error("variance 1.2 accepted")
	}
	other := imageData(25, 20, 4, 4, 1, 3)
	p, _ := FitProbe(be, s, sub, 0)
	if _, err := p.Accuracy(be, other.source(t), 0); err == nil {
		t.Error("test data of another D accepted")
	}
	unlabelled, _ := data.FromMatrix(backend.Chunk{N: ds.n, D: ds.d, F64: ds.x}, nil, data.Shape{})
	if _, err := p.Accuracy(be, unlabelled, 0); err == nil {
		t.Error("unlabelled test data accepted")
	}
	many := ds
	many.labels = append([]int(nil), ds.labels...)
	many.labels[3] = 7
	many.c = 8
	if _, err := p.Accuracy(be, many.source(t), 0); err == nil {
		t.Error("a test label outside the training classes accepted")
	}
	if err := ProjectSource(s.Projector(be, sub), other.source(t), 0, func([]float64, int) error { return nil }); err == nil {
		t.Error("projecting data of another D accepted")
	}
}
