package rsvd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// knownSpectrum builds an n×d matrix X = H·[diag(s)·Vᵀ; 0] whose Gram XᵀX
// has eigenvalues s_i² (and zeros) and eigenvectors v_i (returned as the
// rows of vt): V is the orthonormal DCT-II basis, columns shuffled and
// rotated by a Householder reflection so that no eigenvector is sparse, and
// H is a product of Householder reflections of R^n that mixes the rows.
// The construction costs O(n·d + d²), so it reaches d = 4096 in tests.
func knownSpectrum(rng *rand.Rand, n, d int, s []float64) (x []float64, vt [][]float64) {
	if len(s) > min(n, d) {
		panic("knownSpectrum: more singular values than min(n, d)")
	}
	perm := rng.Perm(d)
	u := randomUnit(rng, d)
	vt = make([][]float64, len(s))
	for i := range s {
		k := perm[i]
		v := make([]float64, d)
		ck := math.Sqrt(2 / float64(d))
		if k == 0 {
			ck = math.Sqrt(1 / float64(d))
		}
		for j := range v {
			v[j] = ck * math.Cos(math.Pi*float64((2*j+1)*k)/float64(2*d))
		}
		reflect(v, u)
		vt[i] = v
	}
	x = make([]float64, n*d)
	for i, si := range s {
		for j, v := range vt[i] {
			x[i*d+j] = si * v
		}
	}
	col := make([]float64, n)
	for range 3 {
		h := randomUnit(rng, n)
		for j := 0; j < d; j++ {
			for i := range col {
				col[i] = x[i*d+j]
			}
			reflect(col, h)
			for i := range col {
				x[i*d+j] = col[i]
			}
		}
	}
	return x, vt
}

func randomUnit(rng *rand.Rand, n int) []float64 {
	u := make([]float64, n)
	var s float64
	for i := range u {
		u[i] = rng.NormFloat64()
		s += u[i] * u[i]
	}
	for i := range u {
		u[i] /= math.Sqrt(s)
	}
	return u
}

// reflect applies I − 2uuᵀ to v.
func reflect(v, u []float64) {
	var dot float64
	for i := range v {
		dot += u[i] * v[i]
	}
	for i := range v {
		v[i] -= 2 * dot * u[i]
	}
}

func source(t testing.TB, x []float64, n, d int, labels []int) data.Source {
	t.Helper()
	src, err := data.FromMatrix(backend.Chunk{N: n, D: d, F64: x}, labels, data.Shape{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// exactEigenvalues is the reference: the full Gram (centered about the
// exact mean when center) through the gonum backend's GramAdd and SymEig.
func exactEigenvalues(t testing.TB, x []float64, n, d int, center bool) []float64 {
	t.Helper()
	be := gonum.New(0)
	var shift []float64
	if center {
		shift = columnMeans(x, n, d)
	}
	g := backend.NewGeneral(d, d)
	if err := be.GramAdd(g, backend.Chunk{N: n, D: d, F64: x}, shift); err != nil {
		t.Fatal(err)
	}
	w, err := be.SymEig(g, false)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func columnMeans(x []float64, n, d int) []float64 {
	mu := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			mu[j] += x[i*d+j]
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	return mu
}

// maxRelError is max_j |got_j − want_j| / want_j.
func maxRelError(got, want []float64) float64 {
	worst := 0.0
	for j, g := range got {
		worst = math.Max(worst, math.Abs(g-want[j])/want[j])
	}
	return worst
}

func geometric(k int, ratio, floor float64) []float64 {
	s := make([]float64, k)
	for i := range s {
		s[i] = math.Max(math.Pow(ratio, float64(i)), floor)
	}
	return s
}

func squares(s []float64) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = v * v
	}
	return out
}

// Fast decay, two power iterations: the top-K eigenvalues agree with both
// the exact decomposition and the closed form to 1e-8, the eigenvectors
// with the constructed ones, and the reported error bound holds.
func TestFastDecayMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n, d, k = 500, 300, 20
	s := geometric(250, 0.8, 1e-3)
	x, vt := knownSpectrum(rng, n, d, s)
	exact := exactEigenvalues(t, x, n, d, false)
	if e := maxRelError(exact[:k], squares(s)[:k]); e > 1e-11 {
		t.Fatalf("test data: exact eigenvalues differ from s² by %.2g", e)
	}
	opt := Options{K: k, Oversample: 10, PowerIters: 2, Seed: 3, ChunkRows: 64, Stream: true}
	var calls [][2]int
	opt.Progress = func(p, total int) { calls = append(calls, [2]int{p, total}) }
	res, err := TopK(gonum.New(0), source(t, x, n, d, nil), opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Passes != 4 || len(calls) != 4 || calls[3] != [2]int{4, 4} {
		t.Errorf("passes %d, progress calls %v: want 4 passes reported as 1..4 of 4", res.Passes, calls)
	}
	trueErr := maxRelError(res.Values, exact[:k])
	if trueErr > 1e-8 {
		t.Errorf("top-%d eigenvalues: relative error %.2g, want ≤ 1e-8", k, trueErr)
	}
	t.Logf("true relative error %.3g, estimate %.3g, bound %.3g", trueErr, res.ErrorEstimate, res.ErrorBound)
	if res.ErrorBound < trueErr || res.ErrorBound > 1e-6 {
		t.Errorf("error bound %.3g for a true error of %.3g: want an honest bound ≤ 1e-6", res.ErrorBound, trueErr)
	}
	for j := 0; j < k; j++ {
		if res.Singular[j] != math.Sqrt(res.Values[j]) {
			t.Errorf("Singular[%d] = %v, want √%v", j, res.Singular[j], res.Values[j])
		}
		var dot float64
		for i := 0; i < d; i++ {
			dot += res.Vectors.Data[i*k+j] * vt[j][i]
		}
		// Eigengaps are 36% of λ_j, so the angle is ~residual/gap.
		if 1-math.Abs(dot) > 1e-8 {
			t.Errorf("eigenvector %d: |cos| with the true one = %.12f", j, math.Abs(dot))
		}
		if res.Residuals[j] > 1e-4*res.Values[j] {
			t.Errorf("residual %d: %.3g for λ = %.3g", j, res.Residuals[j], res.Values[j])
		}
	}
	if got, want := res.Trace, sum(squares(s)); math.Abs(got-want) > 1e-10*want {
		t.Errorf("trace %.15g, want %.15g", got, want)
	}
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

// A slowly decaying spectrum: the true error falls with every power
// iteration, and the reported bound is never below it nor far above it.
func TestSlowDecayErrorIsHonestAndShrinks(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const n, d, k = 600, 400, 10
	s := make([]float64, d)
	for i := range s {
		s[i] = 1 / math.Sqrt(float64(i+1)) // λ_i = 1/i
	}
	x, _ := knownSpectrum(rng, n, d, s)
	exact := exactEigenvalues(t, x, n, d, false)
	src := source(t, x, n, d, nil)
	prev := math.Inf(1)
	for q := 0; q <= 3; q++ {
		res, err := TopK(gonum.New(0), src, Options{K: k, Oversample: 5, PowerIters: q, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		trueErr := 0.0
		for j := 0; j < k; j++ {
			e := (exact[j] - res.Values[j]) / exact[j]
			trueErr = math.Max(trueErr, e)
			if res.Values[j] > exact[j]*(1+1e-12) {
				t.Errorf("q=%d: Ritz value %d = %.15g exceeds the eigenvalue %.15g", q, j, res.Values[j], exact[j])
			}
			if exact[j]-res.Values[j] > res.ValueBounds[j]*(1+1e-9) {
				t.Errorf("q=%d: value %d is off by %.3g, beyond its bound %.3g", q, j, exact[j]-res.Values[j], res.ValueBounds[j])
			}
			if e := exact[j] - res.Values[j]; res.ValueErrors[j] < e/3 || res.ValueErrors[j] > 30*e {
				t.Errorf("q=%d: value %d is off by %.3g, estimated %.3g", q, j, e, res.ValueErrors[j])
			}
		}
		t.Logf("q=%d: true relative error %.3g, estimate %.3g (×%.2f), bound %.3g (×%.0f)", q, trueErr, res.ErrorEstimate, res.ErrorEstimate/trueErr, res.ErrorBound, res.ErrorBound/trueErr)
		if trueErr >= prev {
			t.Errorf("q=%d: true error %.3g did not fall below %.3g of q=%d", q, trueErr, prev, q-1)
		}
		if res.ErrorBound < trueErr {
			t.Errorf("q=%d: bound %.3g below the true error %.3g", q, res.ErrorBound, trueErr)
		}
		if res.ErrorEstimate < trueErr/2 || res.ErrorEstimate > 10*trueErr {
			t.Errorf("q=%d: estimate %.3g for a true error of %.3g: want within [1/2, 10]× of it", q, res.ErrorEstimate, trueErr)
		}
		prev = trueErr
	}
}

// The explicit-Gram route (one pass, then iterations in memory) is the same
// algorithm on the same A: it agrees with the streamed one to rounding.
func TestExplicitGramRouteMatchesStreaming(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, d, k = 400, 120, 10
	x, _ := knownSpectrum(rng, n, d, geometric(120, 0.9, 1e-2))
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 3
	}
	for _, center := range []bool{false, true} {
		opt := Options{K: k, Oversample: 8, PowerIters: 2, Seed: 5, ChunkRows: 37, Center: center}
		streamed, err := TopK(gonum.New(0), source(t, x, n, d, labels), Options{K: k, Oversample: 8, PowerIters: 2, Seed: 5, ChunkRows: 37, Center: center, Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		// What Begin and Progress say agrees with Result.Passes.
		var begun, progress []int
		opt.Begin = func(method string, passes int) { begun = append(begun, passes) }
		opt.Progress = func(pass, passes int) { progress = append(progress, pass, passes) }
		gram, err := Run(engine.Fixed(gonum.New(0)), source(t, x, n, d, labels), SubspaceIteration, opt)
		if err != nil {
			t.Fatal(err)
		}
		if gram.Passes != 1 || streamed.Passes != 4 || !slices.Equal(begun, []int{1}) || !slices.Equal(progress, []int{1, 1}) || gram.Backend.Name != "gonum" {
			t.Fatalf("passes: gram %d (begin %v, progress %v, on %q), streamed %d", gram.Passes, begun, progress, gram.Backend.Name, streamed.Passes)
		}
		if e := maxRelError(gram.Values, streamed.Values); e > 1e-10 {
			t.Fatalf("center=%v: eigenvalues differ by %.2g", center, e)
		}
		for i := range streamed.LabelProj.Data {
			if a, b := math.Abs(gram.LabelProj.Data[i]), math.Abs(streamed.LabelProj.Data[i]); math.Abs(a-b) > 1e-8*(1+b) {
				t.Fatalf("center=%v: |LabelProj| differs at %d: %g vs %g", center, i, a, b)
			}
		}
		if math.Abs(gram.Trace-streamed.Trace) > 1e-10*streamed.Trace {
			t.Fatalf("trace %g vs %g", gram.Trace, streamed.Trace)
		}
	}
}

// The route rule: the explicit Gram when D is small against the streamed
// work, sooner for an exact uint8 Gram, never when the Gram would not fit.
func TestUseGram(t *testing.T) {
	for _, tc := range []struct {
		d, l, passes int
		exactU8      bool
		want         bool
	}{
		{784, 110, 4, false, true},    // 784 < 4·4·110
		{784, 30, 4, false, false},    // 784 ≥ 480
		{784, 30, 4, true, true},      // 196 < 480
		{3072, 30, 4, true, false},    // 768 ≥ 480
		{16384, 1010, 4, true, false}, // the Gram alone is 2 GiB
	} {
		if got := useGram(tc.d, tc.l, tc.passes, tc.exactU8); got != tc.want {
			t.Errorf("useGram(%d, %d, %d, %v) = %v, want %v", tc.d, tc.l, tc.passes, tc.exactU8, got, tc.want)
		}
	}
}
