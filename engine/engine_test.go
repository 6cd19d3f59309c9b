package engine

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
)

// memSource wraps data.FromMatrix for tests that build their data inline.
func memSource(t testing.TB, x backend.Chunk, labels []int) data.Source {
	t.Helper()
	s, err := data.FromMatrix(x, labels, data.Shape{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type golden map[string]json.RawMessage

type goldenSweep struct {
	Rank        int       `json:"rank"`
	Eigenvalues []float64 `json:"eigenvalues"`
	Full        []float64 `json:"full"`
	Papercode   []float64 `json:"papercode"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden_alignment.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func newEngine(t testing.TB, chunk int) *Engine {
	t.Helper()
	e, err := New(Options{Backend: gonum.Name, ChunkRows: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > tol*math.Max(1, math.Abs(want[i])) || math.IsNaN(got[i]) {
			t.Fatalf("%s[%d] = %.15g, want %.15g (diff %.3g > %.3g)", what, i, got[i], want[i], d, tol)
		}
	}
}

// The random problems of the golden file, through both routes and both forms,
// against NumPy's thin-SVD route.
func TestAlignmentMatchesNumPySVD(t *testing.T) {
	g := loadGolden(t)
	for _, name := range []string{"tall", "wide"} {
		var p map[string]json.RawMessage
		if err := json.Unmarshal(g[name], &p); err != nil {
			t.Fatal(err)
		}
		var x []float64
		var labels []int
		var n, d, c int
		json.Unmarshal(p["x"], &x)
		json.Unmarshal(p["labels"], &labels)
		json.Unmarshal(p["n"], &n)
		json.Unmarshal(p["d"], &d)
		json.Unmarshal(p["classes"], &c)
		src := memSource(t, backend.Chunk{N: n, D: d, F64: x}, labels)
		for _, center := range []bool{false, true} {
			for _, form := range []Form{FormGram, FormRegression} {
				key := "center=" + map[bool]string{false: "False", true: "True"}[center] + ",form=" + string(form)
				var want goldenSweep
				if err := json.Unmarshal(p[key], &want); err != nil {
					t.Fatal(key, err)
				}
				for _, norm := range []Normalize{NormalizeFull, NormalizePapercode} {
					e := newEngine(t, 17)
					curve, err := e.Align(src, AlignOptions{Center: center, Form: form, Normalize: norm})
					if err != nil {
						t.Fatal(err)
					}
					ref := want.Full
					if norm == NormalizePapercode {
						ref = want.Papercode
					}
					if curve.Rank != want.Rank {
						t.Fatalf("%s %s: rank %d, want %d", name, key, curve.Rank, want.Rank)
					}
					wantRoute := RouteDirect
					if n < d {
						wantRoute = RouteDual
					}
					if curve.Route.Side() != wantRoute {
						t.Errorf("%s: route %s, want %s", name, curve.Route, wantRoute)
					}
					assertClose(t, name+" "+key+" "+string(norm), curve.Alignment, ref, 1e-9)
					// The norm scale is the square root of the squared one.
					e2 := newEngine(t, 17)
					cn, err := e2.Align(src, AlignOptions{Center: center, Form: form, Normalize: norm, Scale: ScaleNorm})
					if err != nil {
						t.Fatal(err)
					}
					sq := make([]float64, len(ref))
					for i, v := range ref {
						sq[i] = math.Sqrt(v)
					}
					assertClose(t, name+" norm scale", cn.Alignment, sq, 1e-9)
				}
			}
		}
	}
}

func randomMatrix(rng *rand.Rand, n, d int, mean float64) blas64.General {
	x := backend.NewGeneral(n, d)
	for i := range x.Data {
		x.Data[i] = mean + rng.NormFloat64()*float64(1+i%d)/float64(d)
	}
	return x
}

// The dual (N×N) and direct (D×D) routes give the same nonzero spectrum and
// the same feature-space vectors, on both sides of N = D.
func TestDualAndDirectRoutesAgree(t *testing.T) {
	be := gonum.New(0)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{30, 80}, {80, 30}, {50, 50}} {
		n, d := sz[0], sz[1]
		x := randomMatrix(rng, n, d, 0.3)
		for _, center := range []bool{false, true} {
			auto, err := GramEigh(be, x, center, 0)
			if err != nil {
				t.Fatal(err)
			}
			// The direct route on the same data, forced through the moments.
			m, _ := NewMoments(d, 0)
			if err := m.Add(be, data.Batch{X: backend.Chunk{N: n, D: d, F64: x.Data}}); err != nil {
				t.Fatal(err)
			}
			st, _ := m.Finalize(center)
			direct, err := EighStats(be, st, 0, true)
			if err != nil {
				t.Fatal(err)
			}
			if auto.Rank != direct.Rank {
				t.Fatalf("%dx%d center=%v: rank %d (auto %s) vs %d (direct)", n, d, center, auto.Rank, auto.Route, direct.Rank)
			}
			r := auto.Rank
			assertClose(t, "eigenvalues", auto.Values[:r], direct.Values[:r], 1e-10)
			// Vectors agree up to sign.
			for j := 0; j < r; j++ {
				dot := 0.0
				for i := 0; i < d; i++ {
					dot += auto.Vectors.Data[i*auto.Vectors.Stride+j] * direct.Vectors.Data[i*direct.Vectors.Stride+j]
				}
				if math.Abs(math.Abs(dot)-1) > 1e-8 {
					t.Fatalf("%dx%d: vector %d: |⟨v_dual, v_direct⟩| = %g", n, d, j, math.Abs(dot))
				}
			}
		}
	}
}

// Splitting the data over chunks and merging partials equals one pass.
func TestMergeEqualsOnePass(t *testing.T) {
	be := gonum.New(0)
	rng := rand.New(rand.NewPCG(3, 4))
	n, d, c := 301, 23, 5
	x := randomMatrix(rng, n, d, 2)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(c)
	}
	one, _ := NewMoments(d, c)
	one.Add(be, data.Batch{X: backend.Chunk{N: n, D: d, F64: x.Data}, Labels: labels})
	parts := []int{0, 1, 90, 200, n}
	total, _ := NewMoments(d, c)
	for i := 0; i+1 < len(parts); i++ {
		p, _ := NewMoments(d, c)
		a, b := parts[i], parts[i+1]
		// Scale one part so that its provisional mean differs a lot.
		if err := p.Add(be, data.Batch{X: backend.Chunk{N: b - a, D: d, F64: x.Data[a*d : b*d]}, Labels: labels[a:b]}); err != nil {
			t.Fatal(err)
		}
		if err := total.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, center := range []bool{false, true} {
		s1, _ := one.Finalize(center)
		s2, _ := total.Finalize(center)
		assertClose(t, "Gx", s2.Gx.Data, s1.Gx.Data, 1e-12)
		assertClose(t, "M", s2.M.Data, s1.M.Data, 1e-12)
		assertClose(t, "Gy", s2.Gy.Data, s1.Gy.Data, 0)
		assertClose(t, "mean", s2.MeanX, s1.MeanX, 1e-14)
	}
	if err := total.Merge(&Moments{D: d + 1, C: c}); err == nil {
		t.Fatal("merging moments of another width succeeded")
	}
}

// With the mean 10⁶ times the spread, the naive Σxxᵀ − nμμᵀ loses about 12
// digits; the shifted accumulation must keep the centred Gram to ~1e-9.
func TestCenteringWithLargeMean(t *testing.T) {
	be := gonum.New(0)
	rng := rand.New(rand.NewPCG(5, 6))
	n, d := 2000, 8
	x := randomMatrix(rng, n, d, 1e6)
	// Reference: two-pass centring in float64, then the Gram.
	ref := centered(x)
	want := make([]float64, d*d)
	for i := 0; i < n; i++ {
		r := ref.Data[i*d : (i+1)*d]
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				want[a*d+b] += r[a] * r[b]
			}
		}
	}
	m, _ := NewMoments(d, 0)
	for a := 0; a < n; a += 300 {
		b := min(a+300, n)
		m.Add(be, data.Batch{X: backend.Chunk{N: b - a, D: d, F64: x.Data[a*d : b*d]}})
	}
	st, _ := m.Finalize(true)
	for i := range want {
		if rel := math.Abs(st.Gx.Data[i]-want[i]) / math.Abs(want[i*0+(i/d)*d+i/d]); rel > 1e-9 {
			t.Fatalf("centred Gram entry %d: %.12g vs %.12g (relative to the diagonal %.3g)", i, st.Gx.Data[i], want[i], rel)
		}
	}
	// The same data merged from partials with different shifts.
	m2, _ := NewMoments(d, 0)
	for a := 0; a < n; a += 500 {
		p, _ := NewMoments(d, 0)
		b := min(a+500, n)
		p.Add(be, data.Batch{X: backend.Chunk{N: b - a, D: d, F64: x.Data[a*d : b*d]}})
		m2.Merge(p)
	}
	st2, _ := m2.Finalize(true)
	for i := range want {
		if rel := math.Abs(st2.Gx.Data[i]-want[i]) / math.Abs(want[(i/d)*d+i/d]); rel > 1e-9 {
			t.Fatalf("merged centred Gram entry %d: relative error %.3g", i, rel)
		}
	}
}

// Constant pixels and duplicated columns make Gx singular: the curve stops at
// the rank and reaches exactly 1 there.
func TestRankDeficientData(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n, d, c := 400, 12, 3
	x := randomMatrix(rng, n, d, 1)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		labels[i] = rng.IntN(c)
		row := x.Data[i*d : (i+1)*d]
		row[0] = 7          // constant pixel
		row[5] = row[3]     // duplicated column
		row[9] = 2 * row[4] // linearly dependent column
		row[2] += float64(labels[i])
	}
	src := memSource(t, backend.Chunk{N: n, D: d, F64: x.Data}, labels)
	for _, center := range []bool{false, true} {
		curve, err := newEngine(t, 64).Align(src, AlignOptions{Center: center})
		if err != nil {
			t.Fatal(err)
		}
		want := d - 2 // duplicate and dependent column
		if center {
			want-- // the constant pixel vanishes too
		}
		if curve.Rank != want || len(curve.Alignment) != want {
			t.Fatalf("center=%v: rank %d with %d points, want %d", center, curve.Rank, len(curve.Alignment), want)
		}
		if last := curve.Alignment[want-1]; math.Abs(last-1) > 1e-12 {
			t.Fatalf("center=%v: alignment(rank) = %.15g, want 1", center, last)
		}
		for k := 1; k < want; k++ {
			if curve.Alignment[k] < curve.Alignment[k-1]-1e-15 {
				t.Fatalf("curve decreases at k=%d", k+1)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	be := gonum.New(0)
	if _, err := NewMoments(0, 2); err == nil {
		t.Error("D = 0 accepted")
	}
	m, _ := NewMoments(3, 2)
	if err := m.Add(be, data.Batch{X: backend.Chunk{N: 1, D: 4, F64: make([]float64, 4)}, Labels: []int{0}}); err == nil {
		t.Error("chunk of the wrong width accepted")
	}
	if err := m.Add(be, data.Batch{X: backend.Chunk{N: 1, D: 3, F64: make([]float64, 3)}, Labels: []int{2}}); err == nil {
		t.Error("label outside [0, C) accepted")
	}
	if err := m.Add(be, data.Batch{X: backend.Chunk{N: 2, D: 3, F64: make([]float64, 6)}, Labels: []int{0}}); err == nil {
		t.Error("label count mismatch accepted")
	}
	if _, err := m.Finalize(false); err == nil {
		t.Error("finalizing no samples succeeded")
	}
	// D = 1 is valid data: one direction, alignment 1.
	x1 := backend.Chunk{N: 4, D: 1, F64: []float64{1, 2, 3, 5}}
	src := memSource(t, x1, []int{0, 0, 1, 1})
	curve, err := newEngine(t, 3).Align(src, AlignOptions{})
	if err != nil || curve.Rank != 1 || curve.Alignment[0] != 1 {
		t.Fatalf("D = 1: %+v, %v", curve, err)
	}
	// Unlabelled data cannot have an alignment.
	if _, err := newEngine(t, 3).Align(memSource(t, x1, nil), AlignOptions{}); err == nil {
		t.Error("alignment without labels succeeded")
	}
}

// The figures README quotes for Fashion-MNIST (train, one-hot, not
// centred, gram form, squared scale), and the full NumPy golden grid.
func TestFashionMNISTGoldens(t *testing.T) {
	src, err := data.FashionMNIST("", "train")
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("60,000×784 pass skipped in -short mode")
	}
	eng, err := New(Options{}) // the best backend compiled in
	if err != nil {
		t.Fatal(err)
	}
	m, err := eng.Moments(src)
	if err != nil {
		t.Fatal(err)
	}
	be, err := backend.Open(m.Backend.Name, backend.Options{}) // the one the moments came from
	if err != nil {
		t.Fatal(err)
	}
	issue := map[Normalize]map[int]float64{
		NormalizeFull:      {1: 0.143203, 10: 0.729984, 100: 0.949021, 784: 1},
		NormalizePapercode: {10: 0.465129, 784: 0.637177},
	}
	var grid map[string]struct {
		Rank      int       `json:"rank"`
		K         []int     `json:"k"`
		Full      []float64 `json:"full"`
		Papercode []float64 `json:"papercode"`
	}
	if err := json.Unmarshal(loadGolden(t)["fashion_mnist_train"], &grid); err != nil {
		t.Fatal(err)
	}
	for _, center := range []bool{false, true} {
		st, err := m.Finalize(center)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range []Form{FormGram, FormRegression} {
			for _, norm := range []Normalize{NormalizeFull, NormalizePapercode} {
				c, _, err := AlignmentCurve(be, st, AlignOptions{Center: center, Form: form, Normalize: norm})
				if err != nil {
					t.Fatal(err)
				}
				if !center && form == FormGram {
					for k, want := range issue[norm] {
						if got := c.Alignment[k-1]; math.Abs(got-want) > 1e-5 {
							t.Errorf("%s alignment(%d) = %.6f, want %.6f", norm, k, got, want)
						}
					}
				}
				key := "center=" + map[bool]string{false: "False", true: "True"}[center] + ",form=" + string(form)
				g := grid[key]
				if c.Rank != g.Rank {
					t.Fatalf("%s: rank %d, want %d", key, c.Rank, g.Rank)
				}
				want := g.Full
				if norm == NormalizePapercode {
					want = g.Papercode
				}
				got := make([]float64, len(g.K))
				for i, k := range g.K {
					got[i] = c.Alignment[k-1]
				}
				assertClose(t, key+" "+string(norm), got, want, 1e-8)
			}
		}
	}
}

// The uint8 route (integer sums, the chunk handed to the backend as is)
// must give the very same moments as the float64 route on the same values:
// both are exact integer arithmetic.
func TestUint8RouteEqualsFloatRoute(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	n, d, c := 1037, 61, 4
	u8 := make([]uint8, n*d)
	f64 := make([]float64, n*d)
	for i := range u8 {
		u8[i] = uint8(rng.IntN(256))
		f64[i] = float64(u8[i])
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(c)
	}
	for _, be := range cpuBackends(t) {
		name := be.Info().Name
		for _, classes := range []int{c, 0} {
			var lab []int
			if classes > 0 {
				lab = labels
			}
			mu, _ := NewMoments(d, classes)
			mf, _ := NewMoments(d, classes)
			for _, cut := range [][2]int{{0, 300}, {300, 301}, {301, n}} {
				a, b := cut[0], cut[1]
				var l []int
				if lab != nil {
					l = lab[a:b]
				}
				if err := mu.Add(be, data.Batch{X: backend.Chunk{N: b - a, D: d, U8: u8[a*d : b*d]}, Labels: l}); err != nil {
					t.Fatal(err)
				}
				if mf.Shift == nil {
					// The float route with the uint8 route's integral shift.
					mf.Shift = append([]float64(nil), mu.Shift...)
				}
				if err := mf.Add(be, data.Batch{X: backend.Chunk{N: b - a, D: d, F64: f64[a*d : b*d]}, Labels: l}); err != nil {
					t.Fatal(err)
				}
			}
			if !mu.Integer {
				t.Fatalf("%s: uint8 moments lost their integral shift", name)
			}
			backend.Symmetrize(mu.G)
			backend.Symmetrize(mf.G)
			for what, pair := range map[string][2][]float64{
				"G": {mu.G.Data, mf.G.Data}, "Sx": {mu.Sx, mf.Sx}, "M": {mu.M.Data, mf.M.Data},
				"Gy": {mu.Gy.Data, mf.Gy.Data}, "Sy": {mu.Sy, mf.Sy},
			} {
				assertClose(t, name+" "+what, pair[0], pair[1], 0)
			}
		}
	}
}

// releaseCounter is a backend that counts ReleaseScratch calls.
type releaseCounter struct {
	backend.Backend
	calls int
}

func (r *releaseCounter) ReleaseScratch() int64 { r.calls++; return 0 }

// TestPassReleasesScratch: the work buffers a pass leaves in the backend
// are let go once the pass ends (not chunk by chunk), and the moments are
// those of a backend that keeps them.
func TestPassReleasesScratch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	n, d := 300, 17
	x := make([]uint8, n*d)
	labels := make([]int, n)
	for i := range x {
		x[i] = uint8(rng.IntN(256))
	}
	for i := range labels {
		labels[i] = i % 3
	}
	src := memSource(t, backend.Chunk{N: n, D: d, U8: x}, labels)
	e, err := New(Options{ChunkRows: 64})
	if err != nil {
		t.Fatal(err)
	}
	rc := &releaseCounter{Backend: gonum.New(1)}
	m, err := e.MomentsOn(rc, src)
	if err != nil {
		t.Fatal(err)
	}
	if rc.calls != 1 {
		t.Errorf("ReleaseScratch called %d times in one pass of 5 chunks, want once", rc.calls)
	}
	want, err := e.MomentsOn(gonum.New(1), src)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.G.Data {
		if m.G.Data[i] != want.G.Data[i] {
			t.Fatalf("G[%d] = %v, without the release %v", i, m.G.Data[i], want.G.Data[i])
		}
	}
}
