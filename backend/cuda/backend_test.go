package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	gbackend "github.com/reconalign/reconalign/backend/gonum"
)

// reference is the pure-Go backend every result is compared with.
var reference = gbackend.New(1)

func randomChunk(r *rand.Rand, t backend.DType, n, d int) backend.Chunk {
	c := backend.Chunk{N: n, D: d}
	switch t {
	case backend.U8:
		c.U8 = make([]uint8, n*d)
		for i := range c.U8 {
			c.U8[i] = uint8(r.IntN(256))
		}
	case backend.F32:
		c.F32 = make([]float32, n*d)
		for i := range c.F32 {
			c.F32[i] = float32(r.NormFloat64()*100 + 50)
		}
	default:
		c.F64 = make([]float64, n*d)
		for i := range c.F64 {
			c.F64[i] = r.NormFloat64()*1e3 + 1e4 // a large mean, which a shift removes
		}
	}
	return c
}

// prefilled is a d × d matrix with a padded stride whose upper triangle holds
// 1.5 (GramAdd must add to it) and whose lower triangle holds −7 (it must not
// be touched).
func prefilled(d int) blas64.General {
	g := blas64.General{Rows: d, Cols: d, Stride: d + 3, Data: make([]float64, d*(d+3))}
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			if j >= i {
				g.Data[i*g.Stride+j] = 1.5
			} else {
				g.Data[i*g.Stride+j] = -7
			}
		}
	}
	return g
}

// gramTolerance is the relative error (to the largest entry) each mode
// guarantees; 0 means bit-exact.
func gramTolerance(p Precision, t backend.DType, shifted bool) float64 {
	switch p.For(t) {
	case ExactU8:
		if !shifted {
			return 0
		}
		return 1e-12
	case FP32:
		return 1e-5
	case TF32:
		return 5e-3
	case BF16:
		if t == backend.U8 && !shifted {
			return 0 // exact products, integer float32 sums below 2^24
		}
		return 2e-2
	}
	return 1e-12
}

// compareUpper checks the upper triangles within tol of the largest entry and
// that got's lower triangle still holds −7.
func compareUpper(t *testing.T, what string, got, want blas64.General, tol float64) {
	t.Helper()
	d := got.Rows
	var scale, worst float64
	wi, wj := 0, 0
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			scale = max(scale, math.Abs(want.Data[i*want.Stride+j]))
		}
	}
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			g := got.Data[i*got.Stride+j]
			if j < i {
				if g != -7 {
					t.Fatalf("%s: lower-triangle entry (%d, %d) changed to %v", what, i, j, g)
				}
				continue
			}
			if e := math.Abs(g - want.Data[i*want.Stride+j]); e > worst || math.IsNaN(g) {
				worst, wi, wj = e, i, j
			}
		}
	}
	if worst > tol*scale || math.IsNaN(worst) {
		t.Fatalf("%s: entry (%d, %d) = %v, want %v (error %.3g of scale %.3g, tolerance %.3g)",
			what, wi, wj, got.Data[wi*got.Stride+wj], want.Data[wi*want.Stride+wj], worst, scale, tol)
	}
}

func TestGramAddMatchesGonum(t *testing.T) {
	forEachDevice(t, func(t *testing.T, b *Backend) {
		r := rand.New(rand.NewPCG(7, 8))
		const n, d = 50, 37
		for _, dt := range []backend.DType{backend.U8, backend.F32, backend.F64} {
			x := randomChunk(r, dt, n, d)
			mean := make([]float64, d)
			xf := x.Float64(make([]float64, n*d), nil)
			for i := 0; i < n; i++ {
				for j := 0; j < d; j++ {
					mean[j] += xf[i*d+j] / n
				}
			}
			for _, p := range Precisions {
				for _, shift := range [][]float64{nil, mean} {
					for _, rows := range []int{0, 7} {
						what := fmt.Sprintf("%v data, %s, shift %v, rows per chunk %d", dt, p, shift != nil, rows)
						if err := b.SetPrecision(p); err != nil {
							t.Fatal(err)
						}
						setMaxRows(b, rows)
						got, want := prefilled(d), prefilled(d)
						if err := b.GramAdd(got, x, shift); err != nil {
							t.Fatalf("%s: %v", what, err)
						}
						if err := reference.GramAdd(want, x, shift); err != nil {
							t.Fatal(err)
						}
						compareUpper(t, what, got, want, gramTolerance(p, dt, shift != nil))
					}
				}
			}
		}
	})
}

// A chunk of 131,072 zero pixels has int8 sums of exactly 2³¹ per entry: one
// more than int32 holds. The backend must split it (MaxExactRows) so that the
// result stays exact.
func TestExactGramSplitsAtTheInt32Bound(t *testing.T) {
	forEachDevice(t, func(t *testing.T, b *Backend) {
		if err := b.SetPrecision(ExactU8); err != nil {
			t.Fatal(err)
		}
		const n, d = MaxExactRows + 1, 2
		x := backend.Chunk{N: n, D: d, U8: make([]uint8, n*d)}
		x.U8[0] = 255 // one non-zero pixel: G_00 = 255²
		g := backend.NewGeneral(d, d)
		if err := b.GramAdd(g, x, nil); err != nil {
			t.Fatal(err)
		}
		if want := []float64{65025, 0, 0, 0}; fmt.Sprint(g.Data) != fmt.Sprint(want) {
			t.Errorf("Gram = %v, want %v", g.Data, want)
		}
	})
}

func TestGramBeginChunkEnd(t *testing.T) {
	forEachDevice(t, func(t *testing.T, b *Backend) {
		r := rand.New(rand.NewPCG(9, 10))
		const d = 21
		chunks := []backend.Chunk{randomChunk(r, backend.U8, 30, d), randomChunk(r, backend.F32, 11, d), randomChunk(r, backend.U8, 5, d)}
		shift := make([]float64, d)
		for i := range shift {
			shift[i] = 100 + float64(i)
		}
		for _, p := range []Precision{FP64, ExactU8} {
			b.SetPrecision(p)
			got, want := prefilled(d), prefilled(d)
			if err := b.GramBegin(d); err != nil {
				t.Fatal(err)
			}
			if err := b.SetPrecision(TF32); err == nil {
				t.Error("SetPrecision during a Gram succeeded")
			}
			if err := b.GramAdd(backend.NewGeneral(d, d), chunks[0], nil); err == nil {
				t.Error("GramAdd during a Gram succeeded")
			}
			for _, c := range chunks {
				if err := b.GramChunk(c, shift); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				reference.GramAdd(want, c, shift)
			}
			if err := b.GramEnd(got); err != nil {
				t.Fatal(err)
			}
			compareUpper(t, string(p)+" over three chunks", got, want, 1e-12)
			if err := b.GramEnd(got); err == nil {
				t.Error("second GramEnd succeeded")
			}
		}
		if err := b.GramChunk(chunks[0], nil); err == nil || !strings.Contains(err.Error(), "without GramBegin") {
			t.Errorf("GramChunk without GramBegin: %v", err)
		}
	})
}

func TestGramSplitsByPlan(t *testing.T) {
	// d = 40, uint8 data, fp64: per row 2·40 raw bytes and 8·40 converted
	// ones (400); fixed: the 12,800-byte accumulator, the 320-byte shift and
	// a reserve of an eighth of the free memory. With 20,937 bytes free the
	// reserve is 2,617 and (20,937 − 15,737) / 400 = 13 rows fit.
	const d, rows = 40, 13
	f := newFakeDevice(20937)
	b := newBackend(f)
	defer b.Close()
	r := rand.New(rand.NewPCG(11, 12))
	x := randomChunk(r, backend.U8, 100, d)
	got, want := prefilled(d), prefilled(d)
	if err := b.GramAdd(got, x, nil); err != nil {
		t.Fatal(err)
	}
	reference.GramAdd(want, x, nil)
	compareUpper(t, "planned split", got, want, 1e-12)
	if b.gram.plan.Rows != rows || len(f.stages) != 8 {
		t.Errorf("planned %d rows per chunk and staged %d chunks; want %d rows and 8 chunks", b.gram.plan.Rows, len(f.stages), rows)
	}
	for i, s := range f.stages {
		if s != i%2 {
			t.Fatalf("staging slots %v do not alternate", f.stages)
		}
	}
}

func TestGramOutOfDeviceMemory(t *testing.T) {
	b := newBackend(newFakeDevice(1 << 20))
	defer b.Close()
	// 350×350: the accumulator fits, not the plan's fixed part.
	x := backend.Chunk{N: 2, D: 350, U8: make([]uint8, 700)}
	err := b.GramAdd(backend.NewGeneral(350, 350), x, nil)
	if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "350×350 Gram") || !strings.Contains(err.Error(), "free") {
		t.Errorf("GramAdd 350×350 on a 1 MiB device: %v", err)
	}
	// 400×400: not even the accumulator.
	x = backend.Chunk{N: 2, D: 400, U8: make([]uint8, 800)}
	err = b.GramAdd(backend.NewGeneral(400, 400), x, nil)
	if !errors.Is(err, backend.ErrUnavailable) || !strings.Contains(err.Error(), "400×400 accumulator") {
		t.Errorf("GramAdd 400×400 on a 1 MiB device: %v", err)
	}
	// The backend stays usable.
	g := backend.NewGeneral(3, 3)
	if err := b.GramAdd(g, backend.Chunk{N: 1, D: 3, F64: []float64{1, 2, 3}}, nil); err != nil || g.Data[5] != 6 {
		t.Errorf("small GramAdd after a failed one: %v, %v", err, g.Data)
	}
}

func TestDeviceErrorsNameTheCall(t *testing.T) {
	f := newFakeDevice(32 << 20)
	b := newBackend(f)
	defer b.Close()
	f.failAfter = 1
	err := b.GramAdd(backend.NewGeneral(3, 3), backend.Chunk{N: 1, D: 3, F64: []float64{1, 2, 3}}, nil)
	if err == nil || !strings.Contains(err.Error(), "cublasDsyrk_v2 failed: CUBLAS_STATUS_INTERNAL_ERROR (14)") {
		t.Errorf("failing cuBLAS call: %v", err)
	}
	if errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("an internal error is not unavailability: %v", err)
	}
}

// TestSymEigTopChecksTheCount: when cuSOLVER reports computing another number
// of eigenpairs than asked for (or never writes the count), SymEigTop says so
// with both numbers instead of returning vectors it did not compute.
func TestSymEigTopChecksTheCount(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	a := spd(r, 9)
	for _, c := range []struct {
		name  string
		count func(k int) int
		want  string
	}{
		{"one short", func(k int) int { return k - 1 }, "computed 3 eigenpairs, asked for 4 (the largest of a 9×9 matrix)"},
		{"one over", func(k int) int { return k + 1 }, "computed 5 eigenpairs, asked for 4"},
		{"never written", func(int) int { return -1 }, "left its eigenpair count unwritten (meig = -1), asked for 4"},
	} {
		f := newFakeDevice(32 << 20)
		f.eigCount = c.count
		b := newBackend(f)
		w, v, err := b.SymEigTop(clone(a), 4)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "cusolverDnXsyevdx") {
			t.Errorf("%s: SymEigTop = %v, %d×%d, %v; want an error containing %q", c.name, w, v.Rows, v.Cols, err, c.want)
		}
		if err := b.Close(); err != nil { // no device buffer left behind
			t.Errorf("%s: Close: %v", c.name, err)
		}
	}
}

func randomGeneral(r *rand.Rand, rows, cols, stride int) blas64.General {
	g := blas64.General{Rows: rows, Cols: cols, Stride: stride, Data: make([]float64, max(0, (rows-1)*stride+cols))}
	for i := range g.Data {
		g.Data[i] = r.NormFloat64()
	}
	return g
}

func clone(g blas64.General) blas64.General {
	g.Data = append([]float64(nil), g.Data...)
	return g
}

// spd returns a well-conditioned symmetric positive definite matrix with a
// padded stride and garbage (NaN) in its lower triangle, which must not be read.
func spd(r *rand.Rand, n int) blas64.General {
	x := randomGeneral(r, n+5, n, n)
	a := blas64.General{Rows: n, Cols: n, Stride: n + 2, Data: make([]float64, n*(n+2))}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, x, x, 0, a)
	for i := 0; i < n; i++ {
		a.Data[i*a.Stride+i] += float64(n)
		for j := 0; j < i; j++ {
			a.Data[i*a.Stride+j] = math.NaN()
		}
	}
	return a
}

func maxDiff(a, b blas64.General) float64 {
	var m float64
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < a.Cols; j++ {
			d := math.Abs(a.Data[i*a.Stride+j] - b.Data[i*b.Stride+j])
			if math.IsNaN(d) {
				return math.Inf(1)
			}
			m = max(m, d)
		}
	}
	return m
}

func TestGemmMatchesGonum(t *testing.T) {
	forEachDevice(t, func(t *testing.T, b *Backend) {
		r := rand.New(rand.NewPCG(13, 14))
		const m, n, k = 17, 9, 23
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, ab := range [][2]float64{{1, 0}, {-0.5, 2}, {0, 3}} {
					ar, ac := m, k
					if tA == blas.Trans {
						ar, ac = k, m
					}
					br, bc := k, n
					if tB == blas.Trans {
						br, bc = n, k
					}
					x, y := randomGeneral(r, ar, ac, ac+1), randomGeneral(r, br, bc, bc+3)
					c := randomGeneral(r, m, n, n+2)
					if ab[1] == 0 {
						for i := range c.Data {
							c.Data[i] = math.NaN() // beta = 0 must not read c
						}
					}
					want := clone(c)
					reference.Gemm(tA, tB, ab[0], x, y, ab[1], want)
					if err := b.Gemm(tA, tB, ab[0], x, y, ab[1], c); err != nil {
						t.Fatal(err)
					}
					if d := maxDiff(c, want); d > 1e-12 {
						t.Errorf("Gemm(%v, %v, alpha %v, beta %v): max error %g", tA, tB, ab[0], ab[1], d)
					}
				}
			}
		}
	})
}

func TestSymEigMatchesGonum(t *testing.T) {
	forEachDevice(t, func(t *testing.T, b *Backend) {
		r := rand.New(rand.NewPCG(15, 16))
		for _, n := range []int{1, 5, 40} {
			a := spd(r, n)
			for i := 0; i < n; i++ { // make it indefinite
				a.Data[i*a.Stride+i] -= float64(n) + 3
			}
			orig := clone(a)
			ref := clone(a)
			wantW, err := reference.SymEig(ref, true)
			if err != nil {
				t.Fatal(err)
			}
			got := clone(a)
			w, err := b.SymEig(got, true)
			if err != nil {
				t.Fatal(err)
			}
			for i := range w {
				if math.Abs(w[i]-wantW[i]) > 1e-10*math.Abs(wantW[0]) {
					t.Fatalf("n=%d: eigenvalue %d = %v, want %v", n, i, w[i], wantW[i])
				}
			}
			checkEigenpairs(t, fmt.Sprintf("SymEig n=%d", n), orig, w, got, n)

			vals, err := b.SymEig(clone(a), false)
			if err != nil || fmt.Sprint(vals) != fmt.Sprint(w) {
				t.Errorf("n=%d: values-only SymEig = %v, %v; want %v", n, vals, err, w)
			}
			for _, k := range []int{0, 1, n / 2, n} {
				wk, v, err := b.SymEigTop(clone(a), k)
				if err != nil {
					t.Fatal(err)
				}
				if len(wk) != k || v.Rows != n || v.Cols != k {
					t.Fatalf("SymEigTop(%d) of %d×%d: %d values, %d×%d vectors", k, n, n, len(wk), v.Rows, v.Cols)
				}
				for i := range wk {
					if math.Abs(wk[i]-w[i]) > 1e-10*math.Abs(w[0]) {
						t.Fatalf("SymEigTop(%d): value %d = %v, want %v", k, i, wk[i], w[i])
					}
				}
				checkEigenpairs(t, fmt.Sprintf("SymEigTop n=%d k=%d", n, k), orig, wk, v, k)
			}
		}
	})
}

// checkEigenpairs checks A·v_j = w_j·v_j and VᵀV = I for the first k columns
// of v, with A's upper triangle taken from a.
func checkEigenpairs(t *testing.T, what string, a blas64.General, w []float64, v blas64.General, k int) {
	t.Helper()
	n := a.Rows
	full := backend.NewGeneral(n, n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			full.Data[i*n+j], full.Data[j*n+i] = a.Data[i*a.Stride+j], a.Data[i*a.Stride+j]
		}
	}
	scale := 0.0
	for j := range w {
		if j == 0 {
			scale = math.Abs(w[0])
			continue
		}
		scale = max(scale, math.Abs(w[j]))
		if w[j] > w[j-1] {
			t.Fatalf("%s: eigenvalues not descending: %v", what, w)
		}
	}
	for j := 0; j < k; j++ {
		for i := 0; i < n; i++ {
			var av float64
			for l := 0; l < n; l++ {
				av += full.Data[i*n+l] * v.Data[l*v.Stride+j]
			}
			if math.Abs(av-w[j]*v.Data[i*v.Stride+j]) > 1e-9*max(scale, 1) {
				t.Fatalf("%s: (A·v_%d)_%d = %v, want λ·v = %v", what, j, i, av, w[j]*v.Data[i*v.Stride+j])
			}
		}
		for l := 0; l <= j; l++ {
			var dot float64
			for i := 0; i < n; i++ {
				dot += v.Data[i*v.Stride+j] * v.Data[i*v.Stride+l]
			}
			if want := b2f(j == l); math.Abs(dot-want) > 1e-10 {
				t.Fatalf("%s: v_%d·v_%d = %v, want %v", what, j, l, dot, want)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestSymGenEigMatchesGonum(t *testing.T) {
	forEachDevice(t, func(t *testing.T, b *Backend) {
		r := rand.New(rand.NewPCG(17, 18))
		const n = 30
		a, bm := spd(r, n), spd(r, n)
		for i := 0; i < n; i++ {
			a.Data[i*a.Stride+i] -= 2 * n // indefinite a, definite b
		}
		ra, rb := clone(a), clone(bm)
		wantW, err := reference.SymGenEig(ra, rb)
		if err != nil {
			t.Fatal(err)
		}
		ga := clone(a)
		w, err := b.SymGenEig(ga, clone(bm))
		if err != nil {
			t.Fatal(err)
		}
		for i := range w {
			if math.Abs(w[i]-wantW[i]) > 1e-9*math.Abs(wantW[n-1]) {
				t.Fatalf("eigenvalue %d = %v, want %v", i, w[i], wantW[i])
			}
		}
		// Each vector matches the reference up to sign (distinct eigenvalues).
		for j := 0; j < n; j++ {
			sign := 1.0
			if ga.Data[j]*ra.Data[j] < 0 {
				sign = -1
			}
			for i := 0; i < n; i++ {
				if d := math.Abs(sign*ga.Data[i*ga.Stride+j] - ra.Data[i*ra.Stride+j]); d > 1e-8 {
					t.Fatalf("vector %d, entry %d: %v, want ±%v", j, i, ga.Data[i*ga.Stride+j], ra.Data[i*ra.Stride+j])
				}
			}
		}
		// b not positive definite.
		bad := clone(bm)
		bad.Data[0] = -1
		if _, err := b.SymGenEig(clone(a), bad); !errors.Is(err, backend.ErrNotPositiveDefinite) {
			t.Errorf("indefinite b: %v, want ErrNotPositiveDefinite", err)
		}
	})
}

func TestCholeskyTriSolveQR(t *testing.T) {
	forEachDevice(t, func(t *testing.T, b *Backend) {
		r := rand.New(rand.NewPCG(19, 20))
		const n = 25
		a := spd(r, n)
		got, want := clone(a), clone(a)
		if err := reference.Cholesky(want); err != nil {
			t.Fatal(err)
		}
		if err := b.Cholesky(got); err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(got, want); d > 1e-10 {
			t.Errorf("Cholesky: max difference %g from gonum", d)
		}
		notPD := clone(a)
		notPD.Data[(n-1)*notPD.Stride+n-1] = -1
		if err := b.Cholesky(notPD); !errors.Is(err, backend.ErrNotPositiveDefinite) {
			t.Errorf("Cholesky of an indefinite matrix: %v", err)
		}

		// Triangular solves with U (upper) and its transpose as a lower factor.
		lower := backend.NewGeneral(n, n)
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				lower.Data[i*n+j] = want.Data[j*want.Stride+i]
			}
		}
		for _, tri := range []struct {
			ul blas.Uplo
			t  blas64.General
		}{{blas.Upper, want}, {blas.Lower, lower}} {
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				rhs := randomGeneral(r, n, 4, 6)
				g, w := clone(rhs), clone(rhs)
				reference.TriSolve(tri.ul, tA, tri.t, w)
				if err := b.TriSolve(tri.ul, tA, tri.t, g); err != nil {
					t.Fatal(err)
				}
				if d := maxDiff(g, w); d > 1e-10 {
					t.Errorf("TriSolve(%v, %v): max difference %g from gonum", tri.ul, tA, d)
				}
			}
		}

		// QR of a tall matrix with a padded stride.
		m := randomGeneral(r, 31, 12, 15)
		q := clone(m)
		rr, err := b.QR(q)
		if err != nil {
			t.Fatal(err)
		}
		qr := backend.NewGeneral(31, 12)
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, q, rr, 0, qr)
		if d := maxDiff(qr, m); d > 1e-12 {
			t.Errorf("QR: ‖QR − A‖ = %g", d)
		}
		qtq := backend.NewGeneral(12, 12)
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, q, q, 0, qtq)
		for i := 0; i < 12; i++ {
			for j := 0; j < 12; j++ {
				if math.Abs(qtq.Data[i*12+j]-b2f(i == j)) > 1e-12 {
					t.Fatalf("QR: QᵀQ[%d,%d] = %v", i, j, qtq.Data[i*12+j])
				}
				if j < i && rr.Data[i*12+j] != 0 {
					t.Fatalf("QR: R[%d,%d] = %v below the diagonal", i, j, rr.Data[i*12+j])
				}
			}
		}
		wantR, err := reference.QR(clone(m))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 12; i++ { // R is unique up to the sign of each row
			s := math.Copysign(1, rr.Data[i*12+i]*wantR.Data[i*12+i])
			for j := i; j < 12; j++ {
				if math.Abs(s*rr.Data[i*12+j]-wantR.Data[i*12+j]) > 1e-12 {
					t.Fatalf("QR: R[%d,%d] = %v, gonum has %v", i, j, rr.Data[i*12+j], wantR.Data[i*12+j])
				}
			}
		}
	})
}

func TestEmptyOperands(t *testing.T) {
	forEachDevice(t, func(t *testing.T, b *Backend) {
		if w, err := b.SymEig(backend.NewGeneral(0, 0), true); err != nil || len(w) != 0 {
			t.Errorf("SymEig of 0×0: %v, %v", w, err)
		}
		if r, err := b.QR(backend.NewGeneral(4, 0)); err != nil || r.Rows != 0 {
			t.Errorf("QR of 4×0: %v, %v", r, err)
		}
		c := blas64.General{Rows: 2, Cols: 2, Stride: 2, Data: []float64{1, 2, 3, math.NaN()}}
		if err := b.Gemm(blas.NoTrans, blas.NoTrans, 1, backend.NewGeneral(2, 0), backend.NewGeneral(0, 2), 0, c); err != nil ||
			fmt.Sprint(c.Data) != "[0 0 0 0]" {
			t.Errorf("Gemm with k = 0, beta = 0: %v, %v", c.Data, err)
		}
		if err := b.GramAdd(backend.NewGeneral(3, 3), backend.Chunk{N: 0, D: 3, F64: []float64{}}, nil); err != nil {
			t.Errorf("GramAdd of no rows: %v", err)
		}
	})
}

func TestInfoAndPrecision(t *testing.T) {
	b := newBackend(newFakeDevice(1 << 20))
	defer b.Close()
	info := b.Info()
	if info.Name != Name || !strings.Contains(info.Device, "compute capability 9.0") || info.Precision != "float64" {
		t.Errorf("Info = %+v", info)
	}
	for _, p := range Precisions {
		if err := b.SetPrecision(p); err != nil || b.Precision() != p {
			t.Errorf("SetPrecision(%s): %v", p, err)
		}
		if q, err := ParsePrecision(string(p)); err != nil || q != p {
			t.Errorf("ParsePrecision(%q) = %v, %v", p, q, err)
		}
	}
	if err := b.SetPrecision("fp16"); err == nil {
		t.Error("SetPrecision(fp16) accepted")
	}
	if _, err := ParsePrecision("fp16"); err == nil || !strings.Contains(err.Error(), "exact-u8") {
		t.Errorf("ParsePrecision(fp16): %v", err)
	}
}

func TestPanicsOnMisuse(t *testing.T) {
	b := newBackend(newFakeDevice(1 << 20))
	defer b.Close()
	for name, f := range map[string]func(){
		"GramAdd shape": func() { b.GramAdd(backend.NewGeneral(2, 2), backend.Chunk{N: 1, D: 3, F64: []float64{1, 2, 3}}, nil) },
		"GramAdd shift": func() {
			b.GramAdd(backend.NewGeneral(3, 3), backend.Chunk{N: 1, D: 3, F64: []float64{1, 2, 3}}, []float64{1})
		},
		"Gemm shapes": func() {
			b.Gemm(blas.NoTrans, blas.NoTrans, 1, backend.NewGeneral(2, 3), backend.NewGeneral(2, 3), 0, backend.NewGeneral(2, 3))
		},
		"short data":       func() { b.SymEig(blas64.General{Rows: 3, Cols: 3, Stride: 3, Data: make([]float64, 8)}, true) },
		"SymEigTop k":      func() { b.SymEigTop(backend.NewGeneral(3, 3), 4) },
		"QR wide":          func() { b.QR(backend.NewGeneral(2, 3)) },
		"TriSolve rows":    func() { b.TriSolve(blas.Upper, blas.NoTrans, backend.NewGeneral(3, 3), backend.NewGeneral(2, 1)) },
		"SymGenEig shapes": func() { b.SymGenEig(backend.NewGeneral(3, 3), backend.NewGeneral(2, 2)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestGramChunkErrorEndsTheGram(t *testing.T) {
	f := newFakeDevice(32 << 20)
	b := newBackend(f)
	defer b.Close()
	if err := b.GramBegin(3); err != nil {
		t.Fatal(err)
	}
	f.failAfter = 1
	if err := b.GramChunk(backend.Chunk{N: 1, D: 3, F64: []float64{1, 2, 3}}, nil); err == nil {
		t.Fatal("failing chunk succeeded")
	}
	if err := b.GramEnd(backend.NewGeneral(3, 3)); err == nil {
		t.Error("GramEnd after a failed chunk succeeded")
	}
	g := backend.NewGeneral(3, 3)
	if err := b.GramAdd(g, backend.Chunk{N: 1, D: 3, F64: []float64{1, 2, 3}}, nil); err != nil || g.Data[8] != 9 {
		t.Errorf("GramAdd after a failed Gram: %v, %v", err, g.Data)
	}
}
