package engine

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
)

// cpuBackends opens each CPU backend this build has, the fastest
// (openblas, when built) last.
func cpuBackends(t *testing.T) []backend.Backend {
	t.Helper()
	var out []backend.Backend
	for _, name := range []string{gonum.Name, "openblas"} {
		be, err := backend.Open(name, backend.Options{})
		if errors.Is(err, backend.ErrUnavailable) {
			t.Logf("%s skipped: %v", name, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, be)
	}
	return out
}

// engineOn opens an engine on the backend be names, closed when the test ends.
func engineOn(t *testing.T, be backend.Backend) *Engine {
	t.Helper()
	e, err := New(Options{Backend: be.Info().Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// imagesU8 makes n uint8 "images" of d pixels in c classes: a per-class
// pattern on a common background (level ± spread), with noise, so that the
// labels are partly aligned with the spectrum. Labels are i mod c.
func imagesU8(seed uint64, n, d, c int, level, spread float64) ([]uint8, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	back := make([]float64, d)
	for j := range back {
		back[j] = level + spread*(rng.Float64()-0.5)
	}
	pat := make([]float64, c*d)
	for i := range pat {
		pat[i] = spread / 4 * rng.NormFloat64()
	}
	x := make([]uint8, n*d)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		labels[i] = i % c
		amp := 1 + rng.Float64()
		for j := 0; j < d; j++ {
			v := back[j] + amp*pat[labels[i]*d+j] + spread/3*rng.NormFloat64()
			x[i*d+j] = uint8(math.Max(0, math.Min(255, math.Round(v))))
		}
	}
	return x, labels
}

func toFloat(x []uint8) []float64 {
	f := make([]float64, len(x))
	for i, v := range x {
		f[i] = float64(v)
	}
	return f
}

// K = XXᵀ from the integer kernel, fed in blocks of every size from a
// single quad up, is exactly the int64 Gram; D = 70,001 exceeds the
// kernel's int32 block of 65,536 rows with every product at its largest.
func TestGramDualU8Exact(t *testing.T) {
	for _, be := range cpuBackends(t) {
		for _, sh := range []struct{ n, d int }{{1, 1}, {5, 3}, {37, 1001}, {200, 3000}, {8, 70001}} {
			rng := rand.New(rand.NewPCG(uint64(sh.n), uint64(sh.d)))
			x := make([]uint8, sh.n*sh.d)
			for i := range x {
				if sh.d > 65536 {
					x[i] = 255 - uint8(rng.IntN(2))
				} else {
					x[i] = uint8(rng.IntN(256))
				}
			}
			want := make([]int64, sh.n*sh.n)
			for i := 0; i < sh.n; i++ {
				for j := 0; j < sh.n; j++ {
					s := int64(0)
					for f := 0; f < sh.d; f++ {
						s += int64(x[i*sh.d+f]) * int64(x[j*sh.d+f])
					}
					want[i*sh.n+j] = s
				}
			}
			chunk := backend.Chunk{N: sh.n, D: sh.d, U8: x}
			for _, rows := range []int{4, 12, 1000, 4096, sh.d} {
				k, err := gramDualU8(be, chunk, 2, rows)
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range k.Data {
					if v != float64(want[i]) {
						t.Fatalf("%s %d×%d, blocks of %d: K[%d,%d] = %.0f, want %d", be.Info().Name, sh.n, sh.d, rows, i/sh.n, i%sh.n, v, want[i])
					}
				}
			}
			if k, err := GramDualU8(be, chunk, 0); err != nil || k.Data[0] != float64(want[0]) {
				t.Fatalf("GramDualU8: %v", err)
			}
		}
	}
}

// The exact centring against rational arithmetic, on pixels whose mean
// (≈ 250) dwarfs their spread, where the centred entries are ~10⁻⁴ of the
// uncentred ones; the float64 formula is shown to lose digits there.
func TestCenterGramExact(t *testing.T) {
	n, d := 61, 5003
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]uint8, n*d)
	for i := range x {
		x[i] = 248 + uint8(rng.IntN(8))
	}
	be := gonum.New(1)
	k, err := GramDualU8(be, backend.Chunk{N: n, D: d, U8: x}, 1)
	if err != nil {
		t.Fatal(err)
	}
	kf := backend.Clone(k)
	centerGram(k)
	centerGramFloat(kf)
	// n²·K̃_ij = n²·K_ij − n·r_i − n·r_j + t, in big integers.
	r := make([]*big.Int, n)
	tot := new(big.Int)
	kint := func(i, j int) *big.Int {
		s := int64(0)
		for f := 0; f < d; f++ {
			s += int64(x[i*d+f]) * int64(x[j*d+f])
		}
		return big.NewInt(s)
	}
	full := make([]*big.Int, n*n)
	for i := 0; i < n; i++ {
		r[i] = new(big.Int)
		for j := 0; j < n; j++ {
			full[i*n+j] = kint(i, j)
			r[i].Add(r[i], full[i*n+j])
		}
		tot.Add(tot, r[i])
	}
	bn := big.NewInt(int64(n))
	n2 := new(big.Int).Mul(bn, bn)
	worstExact, worstFloat := 0.0, 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			num := new(big.Int).Mul(n2, full[i*n+j])
			num.Sub(num, new(big.Int).Mul(bn, r[i]))
			num.Sub(num, new(big.Int).Mul(bn, r[j]))
			num.Add(num, tot)
			want, _ := new(big.Rat).SetFrac(num, n2).Float64()
			scale := math.Max(math.Abs(want), 1)
			worstExact = math.Max(worstExact, math.Abs(k.Data[i*n+j]-want)/scale)
			worstFloat = math.Max(worstFloat, math.Abs(kf.Data[i*n+j]-want)/scale)
		}
	}
	t.Logf("largest relative error: exact centring %.2g, float64 formula %.2g", worstExact, worstFloat)
	if worstExact > 4e-16 {
		t.Errorf("exact centring is off by %.3g (relative), want within two roundings", worstExact)
	}
	if worstFloat < 100*worstExact && worstFloat < 1e-13 {
		t.Errorf("the float64 formula was expected to lose digits here (%.3g): the test no longer tells the two apart", worstFloat)
	}
}

// A Gram that is not integral (a reduced-precision GPU Gram) is centred by
// the float64 formula: rows and columns of the result sum to zero.
func TestCenterGramNonIntegral(t *testing.T) {
	k := blas64.General{Rows: 3, Cols: 3, Stride: 3, Data: []float64{2.5, 1, 0, 1, 3, 1, 0, 1, 4}}
	centerGram(k)
	for i := 0; i < 3; i++ {
		s := 0.0
		for j := 0; j < 3; j++ {
			s += k.Data[i*3+j]
		}
		if math.Abs(s) > 1e-15 {
			t.Fatalf("row %d of the centred Gram sums to %g", i, s)
		}
	}
}

// routes computes the alignment of one dataset three ways:
// the uint8 dual route (Align on the uint8 source), the float64 dual route
// (Align on the same values as float64) and, for D ≤ directMaxD, the
// direct route (moments, the D×D eigendecomposition done once per
// centring, on the fastest backend: it is the reference; nil above).
type routes struct {
	t      *testing.T
	ref    backend.Backend // the direct route's
	e      *Engine
	u8src  data.Source
	f64src data.Source
	m      *Moments
	direct map[bool]*Eigen
	proj   map[bool]Projections
}

// directMaxD keeps the direct route's D×D eigendecomposition (a pure-Go
// one on the gonum backend) to a few seconds.
const directMaxD = 1100

func newRoutes(t *testing.T, be backend.Backend, x []uint8, labels []int, n, d int) *routes {
	t.Helper()
	all := cpuBackends(t)
	e := engineOn(t, be)
	r := &routes{t: t, ref: all[len(all)-1], e: e, direct: map[bool]*Eigen{}, proj: map[bool]Projections{},
		u8src:  memSource(t, backend.Chunk{N: n, D: d, U8: x}, labels),
		f64src: memSource(t, backend.Chunk{N: n, D: d, F64: toFloat(x)}, labels)}
	if d > directMaxD {
		return r
	}
	var err error
	if r.m, err = e.Moments(r.f64src); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *routes) curves(opt AlignOptions) (u8, f64, direct *Curve) {
	t := r.t
	t.Helper()
	var err error
	if u8, err = r.e.Align(r.u8src, opt); err != nil {
		t.Fatal(err)
	}
	if f64, err = r.e.Align(r.f64src, opt); err != nil {
		t.Fatal(err)
	}
	if r.m == nil {
		return u8, f64, nil
	}
	if r.direct[opt.Center] == nil {
		st, err := r.m.Finalize(opt.Center)
		if err != nil {
			t.Fatal(err)
		}
		eig, err := EighStats(r.ref, st, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		if r.proj[opt.Center], err = ProjectionsFromStats(r.ref, st, eig); err != nil {
			t.Fatal(err)
		}
		r.direct[opt.Center] = eig
	}
	if direct, err = CurveFrom(r.proj[opt.Center], r.direct[opt.Center], opt.Center, opt); err != nil {
		t.Fatal(err)
	}
	return u8, f64, direct
}

// assertSameCurve checks rank, route, eigenvalues (within 1e-12·λ₁) and
// the curve (within 1e-10) of got against want.
func assertSameCurve(t *testing.T, what string, got, want *Curve) {
	t.Helper()
	if got.Route.Side() != RouteDual {
		t.Errorf("%s: route %s, want dual", what, got.Route)
	}
	if got.Rank != want.Rank {
		t.Fatalf("%s: rank %d, want %d", what, got.Rank, want.Rank)
	}
	l1 := want.Eigenvalues[0]
	for i, v := range got.Eigenvalues {
		if d := math.Abs(v - want.Eigenvalues[i]); d > 1e-12*l1 {
			t.Fatalf("%s: λ_%d = %.17g, want %.17g (diff %.3g·λ₁)", what, i+1, v, want.Eigenvalues[i], d/l1)
		}
	}
	for i := range want.Eigenvalues[len(got.Eigenvalues):] {
		if v := want.Eigenvalues[len(got.Eigenvalues)+i]; math.Abs(v) > 1e-12*l1 {
			t.Fatalf("%s: the reference has a nonzero eigenvalue %g beyond N", what, v)
		}
	}
	assertClose(t, what+" alignment", got.Alignment, want.Alignment, 1e-10)
}

// The uint8 dual route gives the float64 dual route's and the direct
// route's eigenvalues and curves, centred or not, in both forms and both
// normalisations, on data with N < D whose D is a multiple of no block.
func TestAlignDualU8MatchesOtherRoutes(t *testing.T) {
	for _, be := range cpuBackends(t) {
		for _, sh := range []struct {
			n, d          int
			level, spread float64
		}{{200, 1037, 128, 200}, {60, 3001, 240, 20}} {
			x, labels := imagesU8(uint64(sh.d), sh.n, sh.d, 7, sh.level, sh.spread)
			r := newRoutes(t, be, x, labels, sh.n, sh.d)
			for _, center := range []bool{false, true} {
				for _, form := range []Form{FormGram, FormRegression} {
					for _, norm := range []Normalize{NormalizeFull, NormalizePapercode} {
						opt := AlignOptions{Center: center, Form: form, Normalize: norm}
						what := fmt.Sprintf("%s %d×%d center=%v %s %s", be.Info().Name, sh.n, sh.d, center, form, norm)
						u8, f64, direct := r.curves(opt)
						assertSameCurve(t, what+" vs float64 dual", u8, f64)
						if direct != nil {
							assertSameCurve(t, what+" vs direct", u8, direct)
						}
						if want := sampleRank(sh.n, center); u8.Rank != want {
							t.Errorf("%s: rank %d, want %d", what, u8.Rank, want)
						}
					}
				}
			}
		}
	}
}

// Rank-deficient data: duplicated rows, a dataset of one repeated image,
// and black and white images among the others.
func TestAlignDualU8RankDeficient(t *testing.T) {
	be := cpuBackends(t)[0]
	n, d := 90, 1001
	x, labels := imagesU8(5, n, d, 3, 100, 150)
	// A black and a white image, then rows 60..89 repeat rows 0..29: 60
	// distinct rows, one of them zero, so rank 59 both uncentred and
	// centred (60 distinct points span 59 dimensions about their mean).
	clear(x[10*d : 11*d])
	for j := 11 * d; j < 12*d; j++ {
		x[j] = 255
	}
	copy(x[60*d:], x[:30*d])
	copy(labels[60:], labels[:30])
	r := newRoutes(t, be, x, labels, n, d)
	for _, center := range []bool{false, true} {
		u8, f64, direct := r.curves(AlignOptions{Center: center})
		what := fmt.Sprintf("duplicated rows, center=%v", center)
		assertSameCurve(t, what+" vs float64 dual", u8, f64)
		assertSameCurve(t, what+" vs direct", u8, direct)
		if u8.Rank != 59 {
			t.Errorf("%s: rank %d, want 59", what, u8.Rank)
		}
		if a := u8.Alignment[u8.Rank-1]; math.Abs(a-1) > 1e-12 {
			t.Errorf("%s: curve ends at %.15g, want 1", what, a)
		}
	}

	// One image repeated: rank 1 uncentred; centred, K̃ is exactly zero and
	// the alignment is undefined, which is said, not returned as NaN.
	same := make([]uint8, n*d)
	for i := 0; i < n; i++ {
		copy(same[i*d:(i+1)*d], x[:d])
	}
	e := engineOn(t, be)
	src := memSource(t, backend.Chunk{N: n, D: d, U8: same}, labels)
	c, err := e.Align(src, AlignOptions{})
	if err != nil || c.Rank != 1 || math.Abs(c.Alignment[0]-1) > 1e-15 {
		t.Fatalf("one repeated image: %v, %+v", err, c)
	}
	if _, err := e.Align(src, AlignOptions{Center: true}); err == nil || !strings.Contains(err.Error(), "undefined") {
		t.Fatalf("one repeated image, centred: %v, want the alignment said to be undefined", err)
	}
	eig, err := e.Eigh(src, true, 0, 0)
	if err != nil || eig.Rank != 0 || eig.Vectors.Cols != 0 {
		t.Fatalf("one repeated image, centred eigh: %v, rank %d", err, eig.Rank)
	}
	for _, v := range eig.Values {
		if v != 0 {
			t.Fatalf("one repeated image, centred: eigenvalue %g, want exactly 0", v)
		}
	}
}

// Centred random data of N < D samples have rank exactly N − 1: the rank
// cut keeps N − 1 directions, the curve reaches 1 there, and the dropped
// eigenvalue is zero to rounding.
func TestAlignDualU8CentredRankIsNMinusOne(t *testing.T) {
	be := cpuBackends(t)[0]
	n, d := 64, 777
	x, labels := imagesU8(11, n, d, 4, 128, 100)
	e := engineOn(t, be)
	c, err := e.Align(memSource(t, backend.Chunk{N: n, D: d, U8: x}, labels), AlignOptions{Center: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Rank != n-1 || len(c.Eigenvalues) != n {
		t.Fatalf("rank %d of %d eigenvalues, want %d of %d", c.Rank, len(c.Eigenvalues), n-1, n)
	}
	if last := c.Eigenvalues[n-1]; math.Abs(last) > 1e-13*c.Eigenvalues[0] {
		t.Errorf("λ_N = %g, want 0 to rounding (λ₁ = %g)", last, c.Eigenvalues[0])
	}
	if c.Eigenvalues[n-2] < 1e-3*c.Eigenvalues[0] {
		t.Errorf("λ_{N−1} = %g is not clearly above the cut", c.Eigenvalues[n-2])
	}
	if a := c.Alignment[n-2]; math.Abs(a-1) > 1e-12 {
		t.Errorf("curve ends at %.15g, want 1", a)
	}
}

// Engine.Eigh on uint8 data (the uint8 dual route, vectors from the bytes)
// gives GramEigh's eigenvalues and vectors (up to sign), with and without
// centring and --top.
func TestEighDualU8MatchesGramEigh(t *testing.T) {
	be := cpuBackends(t)[0]
	n, d := 50, 2049
	x, _ := imagesU8(13, n, d, 5, 200, 60)
	e := engineOn(t, be)
	xf := blas64.General{Rows: n, Cols: d, Stride: d, Data: toFloat(x)}
	for _, center := range []bool{false, true} {
		want, err := GramEigh(be, xf, center, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, top := range []int{0, 7} {
			got, err := e.Eigh(memSource(t, backend.Chunk{N: n, D: d, U8: x}, nil), center, top, 0)
			if err != nil {
				t.Fatal(err)
			}
			what := fmt.Sprintf("center=%v top=%d", center, top)
			r := want.Rank
			if top > 0 {
				r = top
			}
			if got.Route != RouteDual || got.Rank != r || got.Vectors.Rows != d || got.Vectors.Cols != r {
				t.Fatalf("%s: route %s rank %d vectors %d×%d, want dual, %d, %d×%d", what, got.Route, got.Rank, got.Vectors.Rows, got.Vectors.Cols, r, d, r)
			}
			l1 := want.Values[0]
			for i := range got.Values {
				if math.Abs(got.Values[i]-want.Values[i]) > 1e-12*l1 {
					t.Fatalf("%s: λ_%d = %g, want %g", what, i+1, got.Values[i], want.Values[i])
				}
			}
			for j := 0; j < r; j++ {
				dot := 0.0
				for i := 0; i < d; i++ {
					dot += got.Vectors.Data[i*r+j] * want.Vectors.Data[i*want.Vectors.Stride+j]
				}
				sign := math.Copysign(1, dot)
				for i := 0; i < d; i++ {
					g, w := sign*got.Vectors.Data[i*r+j], want.Vectors.Data[i*want.Vectors.Stride+j]
					if math.Abs(g-w) > 1e-9 {
						t.Fatalf("%s: v_%d[%d] = %.15g, want %.15g", what, j+1, i, g, w)
					}
				}
			}
		}
	}
}

// badLabels delivers one label fewer than rows in its second batch.
type badLabels struct{ data.Source }

func (s badLabels) Open(chunkRows int) (data.Reader, error) {
	r, err := s.Source.Open(chunkRows)
	return &badLabelsReader{Reader: r}, err
}

type badLabelsReader struct {
	data.Reader
	batches int
}

func (r *badLabelsReader) Next() (data.Batch, error) {
	b, err := r.Reader.Next()
	if r.batches++; r.batches == 2 && err == nil {
		b.Labels = b.Labels[:len(b.Labels)-1]
	}
	return b, err
}

// short announces one row more than it delivers.
type short struct{ data.Source }

func (s short) Meta() data.Meta {
	m := s.Source.Meta()
	m.N++
	return m
}

func (s short) Open(chunkRows int) (data.Reader, error) { return s.Source.Open(chunkRows) }

// Bad input is a clear error naming what was found and what was expected.
func TestAlignDualU8BadInput(t *testing.T) {
	n, d := 20, 100
	x, labels := imagesU8(1, n, d, 3, 128, 50)
	src := memSource(t, backend.Chunk{N: n, D: d, U8: x}, labels)
	e, err := New(Options{Backend: gonum.Name, ChunkRows: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// loadDualU8 reads in chunks of its own size: make them small.
	for _, tc := range []struct {
		src  data.Source
		want string
	}{
		{badLabels{src}, "7 labels for 8 samples"},
		{short{src}, "declares 21 rows but delivered 20"},
		{memSource(t, backend.Chunk{N: n, D: d, U8: x}, nil), "no labels or targets"},
	} {
		_, err := e.Align(tc.src, AlignOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error saying %q", err, tc.want)
		}
	}
	// A labels file of the wrong length is refused where labels meet data.
	if _, err := data.Labeled(memSource(t, backend.Chunk{N: n, D: d, U8: x}, nil), labels[:n-1]); err == nil || !strings.Contains(err.Error(), "has 20 samples but 19 labels") {
		t.Errorf("labels count mismatch: %v", err)
	}
}

// uint8 data are held as bytes, so the dual route takes them at sizes
// where a float64 copy would not fit: 4,000 ImageNet-224 images are 0.6 GB
// as uint8 and 4.8 GB as float64.
func TestDualFitsByElementSize(t *testing.T) {
	meta := data.Meta{N: 4000, D: 150528, DType: backend.U8}
	if !dualFits(meta) {
		t.Errorf("4,000 uint8 images of 224×224×3 (%.2g bytes) sent to the direct route", dualBytes(meta.N, meta.D, dualElemBytes(meta)))
	}
	meta.DType = backend.F32
	if dualFits(meta) {
		t.Errorf("4,000 float32 images of 224×224×3 (%.2g bytes as float64) kept on the dual route", dualBytes(meta.N, meta.D, dualElemBytes(meta)))
	}
}

// Data already in memory are used in place; a stream is copied once.
func TestLoadDualU8InPlace(t *testing.T) {
	n, d := 30, 50
	x, labels := imagesU8(2, n, d, 3, 128, 50)
	e := newEngine(t, 7)
	got, yt, err := e.loadDualU8(memSource(t, backend.Chunk{N: n, D: d, U8: x}, labels))
	if err != nil {
		t.Fatal(err)
	}
	if &got.U8[0] != &x[0] {
		t.Error("an in-memory uint8 matrix was copied")
	}
	streamed, yt2, err := e.loadDualU8(streamU8{n, d})
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := data.Collect(streamU8{n, d})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range streamed.U8 {
		if float64(v) != want.F64[i] {
			t.Fatalf("streamed value %d: %d, want %g", i, v, want.F64[i])
		}
	}
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			if w := float64(map[bool]int{true: 1}[labels[i] == c]); yt.Data[c*n+i] != w {
				t.Fatalf("Yᵀ[%d,%d] = %g, want %g", c, i, yt.Data[c*n+i], w)
			}
		}
		if yt2.Data[(i%10)*n+i] != 1 {
			t.Fatalf("streamed Yᵀ misses row %d's label", i)
		}
	}
}
