package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

type shiftKind int

const (
	noShift   shiftKind = iota
	intShift            // integers: uint8 Grams stay exact
	realShift           // per-feature non-integers, as a provisional mean
)

func (k shiftKind) String() string {
	return [...]string{"noshift", "intshift", "realshift"}[k]
}

func (k shiftKind) make(rng *rand.Rand, d int) []float64 {
	if k == noShift {
		return nil
	}
	s := make([]float64, d)
	for j := range s {
		if k == intShift {
			s[j] = float64(rng.IntN(256))
		} else {
			s[j] = 127.5 + 40*rng.NormFloat64()
		}
	}
	return s
}

// randomChunk returns n×d samples of the given type: all 256 byte values for
// uint8, values around 100 with unit-scale spread for the floating types.
func randomChunk(rng *rand.Rand, dt backend.DType, n, d int) backend.Chunk {
	c := backend.Chunk{N: n, D: d}
	switch dt {
	case backend.U8:
		c.U8 = make([]uint8, n*d)
		for i := range c.U8 {
			c.U8[i] = uint8(rng.IntN(256))
		}
	case backend.F32:
		c.F32 = make([]float32, n*d)
		for i := range c.F32 {
			c.F32[i] = float32(100 + 30*rng.NormFloat64())
		}
	default:
		c.F64 = make([]float64, n*d)
		for i := range c.F64 {
			c.F64[i] = 100 + 30*rng.NormFloat64()
		}
	}
	return c
}

// value reads sample i, feature j of a chunk without any conversion helper
// of the backend package.
func value(c backend.Chunk, i, j int) float64 {
	switch {
	case c.U8 != nil:
		return float64(c.U8[i*c.D+j])
	case c.F32 != nil:
		return float64(c.F32[i*c.D+j])
	default:
		return c.F64[i*c.D+j]
	}
}

// gramRef accumulates what GramAdd must add for a set of chunks (in
// float64, naive loops) together with the scales that bound its rounding
// error.
type gramRef struct {
	d int
	// sum[i,j] = Σ_k a_ki·a_kj with a = x − shift.
	sum dense
	// sq[i] = Σ_k a_ki² (Cauchy–Schwarz scale of the dot products).
	sq []float64
	// mag[i,j] = Σ_k |a_ki|·(|x_kj|+|s_j|) + (i↔j): the scale of the error of
	// forming a = x − s in the backend's precision.
	mag dense
	// n is the longest dot product so far.
	n int
}

func newGramRef(d int) *gramRef {
	return &gramRef{d: d, sum: newDense(d, d), sq: make([]float64, d), mag: newDense(d, d)}
}

func (r *gramRef) add(c backend.Chunk, shift []float64) {
	d := r.d
	a := make([]float64, d)
	m := make([]float64, d)
	for k := 0; k < c.N; k++ {
		for j := 0; j < d; j++ {
			x := value(c, k, j)
			s := 0.0
			if shift != nil {
				s = shift[j]
			}
			a[j] = x - s
			m[j] = math.Abs(x) + math.Abs(s)
		}
		for i := 0; i < d; i++ {
			r.sq[i] += a[i] * a[i]
			for j := i; j < d; j++ {
				r.sum.v[i*d+j] += a[i] * a[j]
				r.mag.v[i*d+j] += math.Abs(a[i])*m[j] + m[i]*math.Abs(a[j])
			}
		}
	}
	r.n += c.N
}

// check compares the upper triangle of g (which started as g0) with g0 plus
// the reference. With exact set every entry must match bit for bit.
func (s *suite) checkGram(t tb, what string, g blas64.General, g0 dense, r *gramRef, exact bool) {
	t.Helper()
	d := r.d
	compare(t, what, d, d, func(i, j int) (float64, float64, float64) {
		if j < i {
			return 0, 0, 0
		}
		got := g.Data[i*g.Stride+j]
		want := g0.at(i, j) + r.sum.at(i, j)
		if exact {
			return got, want, 0
		}
		scale := float64(r.n+2)*math.Sqrt(r.sq[i]*r.sq[j]) + r.mag.at(i, j) + math.Abs(g0.at(i, j))
		return got, want, 8 * s.u * scale
	})
}

// initialGram returns a d×d matrix of small integers in the upper triangle,
// so that accumulation into it is visible and stays exact.
func initialGram(rng *rand.Rand, d int) dense {
	g := newDense(d, d)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			g.set(i, j, float64(rng.IntN(2001)-1000))
		}
	}
	return g
}

func (s *suite) testGramAdd(t tb) {
	// D on both sides of 64, 128 and 192-wide tiles (and 2·192+1); N from
	// a single sample to a few hundred.
	shapes := []struct{ n, d int }{{1, 1}, {5, 7}, {64, 191}, {33, 193}, {40, 385}, {300, 16}, {129, 65}, {0, 7}}
	for _, sh := range shapes {
		for _, dt := range []backend.DType{backend.U8, backend.F32, backend.F64} {
			for _, sk := range []shiftKind{noShift, intShift, realShift} {
				name := fmt.Sprintf("%v/N=%d/D=%d/%v", dt, sh.n, sh.d, sk)
				t.run(name, func(t tb) {
					rng := caseRNG("GramAdd/" + name)
					x := randomChunk(rng, dt, sh.n, sh.d)
					shift := sk.make(rng, sh.d)
					g0 := initialGram(rng, sh.d)
					g := general(g0, sh.d%3) // padded strides for some D
					before := cloneGeneral(g)
					if err := s.b.GramAdd(g, x, shift); err != nil {
						t.Fatalf("GramAdd: %v", err)
					}
					ref := newGramRef(sh.d)
					ref.add(x, shift)
					exact := s.exact && dt == backend.U8 && sk != realShift
					s.checkGram(t, "GramAdd upper triangle", g, g0, ref, exact)
					checkUntouched(t, "GramAdd", before, g, true)
				})
			}
		}
	}

	// Several calls accumulate; chunk sizes grow and shrink so that a
	// backend reusing a conversion buffer cannot carry rows over, and the
	// element type changes between calls.
	t.run("Accumulate", func(t tb) {
		const d = 193
		rng := caseRNG("GramAdd/Accumulate")
		shift := realShift.make(rng, d)
		g0 := initialGram(rng, d)
		g := general(g0, 2)
		before := cloneGeneral(g)
		ref := newGramRef(d)
		rel, releases := s.b.(backend.ScratchReleaser)
		for i, n := range []int{50, 0, 1, 120, 7, 64} {
			x := randomChunk(rng, []backend.DType{backend.U8, backend.F32, backend.F64}[i%3], n, d)
			if err := s.b.GramAdd(g, x, shift); err != nil {
				t.Fatalf("GramAdd call %d: %v", i, err)
			}
			ref.add(x, shift)
			// A backend that drops its buffers between passes must start
			// afresh, with nothing of the last call carried over.
			if releases && i == 3 {
				if b := rel.ReleaseScratch(); b < 0 {
					t.Fatalf("ReleaseScratch reported %d bytes", b)
				}
			}
		}
		s.checkGram(t, "accumulated GramAdd", g, g0, ref, false)
		checkUntouched(t, "GramAdd", before, g, true)
	})

	t.run("AccumulateExact", func(t tb) {
		const d = 65
		rng := caseRNG("GramAdd/AccumulateExact")
		g0 := initialGram(rng, d)
		g := general(g0, 0)
		ref := newGramRef(d)
		x := randomChunk(rng, backend.U8, 400, d)
		// Rows views of one chunk, as the engine streams a source.
		for _, cut := range [][2]int{{0, 150}, {150, 151}, {151, 400}} {
			part := x.Rows(cut[0], cut[1])
			if err := s.b.GramAdd(g, part, nil); err != nil {
				t.Fatalf("GramAdd rows %v: %v", cut, err)
			}
			ref.add(part, nil)
		}
		s.checkGram(t, "uint8 GramAdd over row views", g, g0, ref, s.exact)
	})

	// A mean far larger than the spread: a backend must subtract the shift
	// before multiplying. Forming XᵀX first and correcting afterwards loses
	// about log10(mean²/spread²) = 12 digits and fails here.
	t.run("LargeMean", func(t tb) {
		const n, d = 200, 33
		rng := caseRNG("GramAdd/LargeMean")
		x := backend.Chunk{N: n, D: d, F64: make([]float64, n*d)}
		for i := range x.F64 {
			x.F64[i] = 1e6 + rng.NormFloat64()
		}
		shift := make([]float64, d)
		for j := range shift {
			for i := 0; i < n; i++ {
				shift[j] += x.F64[i*d+j] / n
			}
		}
		g := backend.NewGeneral(d, d)
		if err := s.b.GramAdd(g, x, shift); err != nil {
			t.Fatalf("GramAdd: %v", err)
		}
		ref := newGramRef(d)
		ref.add(x, shift)
		s.checkGram(t, "GramAdd with mean 1e6, spread 1", g, newDense(d, d), ref, false)
	})
}
