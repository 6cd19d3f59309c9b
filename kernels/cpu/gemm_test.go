package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The GEMM, SYRK and SYR2K checks: every kernel path, shapes on both sides
// of every block edge, both transposes, padded strides and the special
// values of alpha and beta, against a compensated-sum reference with the
// classical error bound
//
//	|ĉ_ij − c_ij| ≤ γ_{k+7} · (|alpha|·Σ_p |a_ip·b_pj| + |beta|·|c_ij|),   γ_n = n·u/(1 − n·u),
//
// u = 2⁻⁵³: a dot product of k terms summed in any order, with or without
// FMA, is within γ_{k+1}·Σ|a·b| (Higham, Accuracy and Stability, §3.1);
// the K-blocks add at most one rounding a term on top of what the order of
// summation already counts, and alpha·s + beta·c three more; the reference
// rounds its own alpha·s + beta·c three times (the last three of k+7).

const unit = 0x1p-53

func gamma(n int) float64 { return float64(n) * unit / (1 - float64(n)*unit) }

// dot2 is the compensated dot product of Ogita, Rump and Oishi (2005): the
// error of each product (exact, by FMA) and of each addition (TwoSum) is
// summed apart, so the result is as accurate as if computed in twice the
// working precision. It also returns Σ|x_p·y_p|.
func dot2(k int, x, y func(p int) float64) (s, abs float64) {
	var c float64
	for p := 0; p < k; p++ {
		xv, yv := x(p), y(p)
		h := xv * yv
		r := math.FMA(xv, yv, -h)
		t := s + h
		z := t - s
		c += (s - (t - z)) + (h - z) + r
		s = t
		abs += math.Abs(h)
	}
	return s + c, abs
}

// general is a test matrix with a padded row stride; the padding holds NaN,
// which poisons any result that reads it.
type general struct {
	r, c, ld int
	v        []float64
}

func newGeneral(rng *rand.Rand, r, c, pad int) general {
	g := general{r, c, c + pad, make([]float64, max(r*(c+pad), 1))}
	for i := range g.v {
		g.v[i] = math.NaN()
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			// Magnitudes over a few binades, so that sums cancel.
			g.v[i*g.ld+j] = rng.NormFloat64() * math.Ldexp(1, rng.IntN(9)-4)
		}
	}
	return g
}

func (g general) at(i, j int) float64 { return g.v[i*g.ld+j] }

// op returns element (i, p) of g, or of gᵀ when trans.
func (g general) op(trans bool) func(i, p int) float64 {
	if trans {
		return func(i, p int) float64 { return g.at(p, i) }
	}
	return g.at
}

// outC is an m×n output with padding set to a sentinel that must survive.
const sentinel = -7.25

func newOut(rng *rand.Rand, m, n int, nanC bool) general {
	c := general{m, n, n + 3, make([]float64, max(m*(n+3), 1))}
	for i := range c.v {
		c.v[i] = sentinel
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if nanC {
				c.v[i*c.ld+j] = math.NaN()
			} else {
				c.v[i*c.ld+j] = rng.NormFloat64()
			}
		}
	}
	return c
}

// check compares got with alpha·(Σ_p x(i,p)·y(p,j)) + beta·c0 on the
// entries keep(i, j) selects, and requires every other entry of got —
// padding included — to be unchanged from c0.
func check(t *testing.T, what string, got, c0 general, k int, alpha, beta float64, x, y func(i, j, p int) float64, keep func(i, j int) bool) {
	t.Helper()
	for i := 0; i < got.r; i++ {
		for j := 0; j < got.ld; j++ {
			g, old := got.v[i*got.ld+j], c0.v[i*c0.ld+j]
			if j >= got.c || !keep(i, j) {
				if math.Float64bits(g) != math.Float64bits(old) {
					t.Fatalf("%s: entry (%d,%d) outside the result changed: %g → %g", what, i, j, old, g)
				}
				continue
			}
			var s, abs float64
			if alpha != 0 {
				s, abs = dot2(k, func(p int) float64 { return x(i, j, p) }, func(p int) float64 { return y(i, j, p) })
			}
			want, bound := alpha*s, gamma(k+7)*math.Abs(alpha)*abs
			if beta != 0 {
				want += beta * old
				bound += gamma(k+7) * math.Abs(beta*old)
			}
			if !(math.Abs(g-want) <= bound) {
				t.Fatalf("%s: (%d,%d) = %.17g, want %.17g ± %.3g", what, i, j, g, want, bound)
			}
		}
	}
}

// alphaBetas are the special values: beta = 0 must clear NaNs in c,
// alpha = 0 must not read a or b (then poisoned with NaN).
var alphaBetas = []struct {
	alpha, beta float64
	nanC        bool
}{
	{1, 0, true}, {-1, 1, false}, {0.5, -2, false}, {2, 1, false},
	{1, 1, false}, {0, 0, true}, {0, 3, false}, {-1, 0, false},
}

// poison sets every entry of g to NaN.
func poison(g general) general {
	g.v = append([]float64(nil), g.v...)
	for i := range g.v {
		g.v[i] = math.NaN()
	}
	return g
}

// edges lists sizes on both sides of every block edge of one dimension:
// the micro-tile side, the tile side and (for K) the K-block.
func edges(micro, tile int) []int {
	return []int{0, 1, micro - 1, micro, micro + 1, tile - 1, tile + 1}
}

func gemmShapes() [][3]int {
	base := [3]int{9, 25, 129}
	var out [][3]int
	for _, m := range edges(mr, tileM) {
		out = append(out, [3]int{m, base[1], base[2]})
	}
	for _, n := range edges(nr, tileN) {
		out = append(out, [3]int{base[0], n, base[2]})
	}
	for _, k := range []int{0, 1, kc - 1, kc, kc + 1, 2*kc + 1} {
		out = append(out, [3]int{base[0], base[1], k})
	}
	return append(out, [3]int{tileM + 1, tileN + 1, 2*kc + 1}, [3]int{2*tileM - 1, 1, 3})
}

func TestGemmAgainstCompensated(t *testing.T) {
	withF64Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		var g Gram // reused: stale packing must not leak between shapes
		for si, sh := range gemmShapes() {
			m, n, k := sh[0], sh[1], sh[2]
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					ab := alphaBetas[(si*4+boolInt(tA)*2+boolInt(tB))%len(alphaBetas)]
					a := newGeneral(rng, m, k, 2)
					if tA {
						a = newGeneral(rng, k, m, 2)
					}
					b := newGeneral(rng, k, n, 5)
					if tB {
						b = newGeneral(rng, n, k, 5)
					}
					if ab.alpha == 0 {
						a, b = poison(a), poison(b)
					}
					c0 := newOut(rng, m, n, ab.nanC)
					c := c0
					c.v = append([]float64(nil), c0.v...)
					g.Gemm(tA, tB, m, n, k, ab.alpha, a.v, a.ld, b.v, b.ld, ab.beta, c.v, c.ld, 2)
					opA, opB := a.op(tA), b.op(tB)
					check(t, fmt.Sprintf("%dx%dx%d tA=%v tB=%v alpha=%g beta=%g", m, n, k, tA, tB, ab.alpha, ab.beta), c, c0, k, ab.alpha, ab.beta,
						func(i, j, p int) float64 { return opA(i, p) },
						func(i, j, p int) float64 { return opB(p, j) },
						func(i, j int) bool { return true })
				}
			}
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestGemmAlphaBeta: every alpha and beta, on a packed product and on the
// shapes of A·Bᵀ that go by dot products (gemmDots).
func TestGemmAlphaBeta(t *testing.T) {
	withF64Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(8, 8))
		for _, sh := range []struct {
			m, n, k int
			tB      bool
		}{{17, 30, 40, false}, {1, 1, dotsMinK, true}, {5, 7, 3*kc + 5, true}, {32, 32, 4*kc + 3, true}, {3, 300, dotsMinK + 1, true}} {
			m, n, k := sh.m, sh.n, sh.k
			for _, ab := range alphaBetas {
				a, b := newGeneral(rng, m, k, 1), newGeneral(rng, k, n, 1)
				if sh.tB {
					b = newGeneral(rng, n, k, 1)
				}
				if ab.alpha == 0 {
					a, b = poison(a), poison(b)
				}
				c0 := newOut(rng, m, n, ab.nanC)
				c := c0
				c.v = append([]float64(nil), c0.v...)
				var g Gram
				g.Gemm(false, sh.tB, m, n, k, ab.alpha, a.v, a.ld, b.v, b.ld, ab.beta, c.v, c.ld, 2)
				opB := b.op(sh.tB)
				check(t, fmt.Sprintf("%dx%dx%d tB=%v alpha=%g beta=%g", m, n, k, sh.tB, ab.alpha, ab.beta), c, c0, k, ab.alpha, ab.beta,
					func(i, j, p int) float64 { return a.at(i, p) },
					func(i, j, p int) float64 { return opB(p, j) },
					func(i, j int) bool { return true })
			}
		}
	})
}

func TestSyrkSyr2kAgainstCompensated(t *testing.T) {
	withF64Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 9))
		var g Gram
		sizes := [][2]int{{1, 1}, {mr + 1, 3}, {nr - 1, kc + 1}, {tileM + 1, 5}, {tileN - 1, 2*kc + 1}, {40, 0},
			// the band reduction's updates c − L·R (2k = kc), across the
			// diagonal and the tile edges.
			{tileM + 13, kc / 2}, {2*tileN + 3, 2*mr + 1}}
		for si, sz := range sizes {
			n, k := sz[0], sz[1]
			for _, trans := range []bool{false, true} {
				ab := alphaBetas[(2*si+boolInt(trans))%len(alphaBetas)]
				if si >= 6 { // c − … and c + …
					ab = alphaBetas[1+3*boolInt(trans)]
				}
				r, cc := n, k
				if trans {
					r, cc = k, n
				}
				a, b := newGeneral(rng, r, cc, 3), newGeneral(rng, r, cc, 1)
				if ab.alpha == 0 {
					a, b = poison(a), poison(b)
				}
				opA, opB := a.op(trans), b.op(trans)
				upper := func(i, j int) bool { return i <= j }
				what := fmt.Sprintf("n=%d k=%d trans=%v alpha=%g beta=%g", n, k, trans, ab.alpha, ab.beta)

				c0 := newOut(rng, n, n, ab.nanC)
				c := c0
				c.v = append([]float64(nil), c0.v...)
				g.Syrk(trans, n, k, ab.alpha, a.v, a.ld, ab.beta, c.v, c.ld, 3)
				check(t, "Syrk "+what, c, c0, k, ab.alpha, ab.beta,
					func(i, j, p int) float64 { return opA(i, p) },
					func(i, j, p int) float64 { return opA(j, p) }, upper)

				c.v = append([]float64(nil), c0.v...)
				g.Syr2k(trans, n, k, ab.alpha, a.v, a.ld, b.v, b.ld, ab.beta, c.v, c.ld, 3)
				// op(a)·op(b)ᵀ + op(b)·op(a)ᵀ as one sum of 2k terms.
				check(t, "Syr2k "+what, c, c0, 2*k, ab.alpha, ab.beta,
					func(i, j, p int) float64 {
						if p < k {
							return opA(i, p)
						}
						return opB(i, p-k)
					},
					func(i, j, p int) float64 {
						if p < k {
							return opB(j, p)
						}
						return opA(j, p-k)
					}, upper)
			}
		}
	})
}

// TestSymmUpperAgainstCompensated: c = alpha·A·B + beta·c for a symmetric
// A of which only the upper triangle is stored (NaN below it and in the
// padding, so a read of either shows), on every kernel path, with orders
// on both sides of the strip, K-block and tile edges; then the same product
// with other numbers of workers, each of which repeats its own bits.
func TestSymmUpperAgainstCompensated(t *testing.T) {
	withF64Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(12, 12))
		var g Gram
		sizes := [][2]int{{1, 1}, {mr + 1, 3}, {nr - 1, nr + 2}, {kc + 1, 5}, {symmTile - 3, 2 * nr}, {symmTile + 1, 7}, {2*symmTile + 13, 17}, {2*symmTile + 3*mr, 64}}
		for si, sz := range sizes {
			m, n := sz[0], sz[1]
			ab := alphaBetas[si%len(alphaBetas)]
			a := newGeneral(rng, m, m, 3)
			for i := 0; i < m; i++ {
				for j := 0; j < i; j++ {
					a.v[i*a.ld+j] = math.NaN()
				}
			}
			b := newGeneral(rng, m, n, 1)
			if ab.alpha == 0 {
				a, b = poison(a), poison(b)
			}
			sym := func(i, p int) float64 { return a.at(min(i, p), max(i, p)) }
			what := fmt.Sprintf("m=%d n=%d alpha=%g beta=%g", m, n, ab.alpha, ab.beta)
			c0 := newOut(rng, m, n, ab.nanC)
			for _, workers := range []int{3, 1, 2} {
				c := c0
				c.v = append([]float64(nil), c0.v...)
				g.SymmUpper(m, n, ab.alpha, a.v, a.ld, b.v, b.ld, ab.beta, c.v, c.ld, workers)
				check(t, fmt.Sprintf("SymmUpper %s workers=%d", what, workers), c, c0, m, ab.alpha, ab.beta,
					func(i, j, p int) float64 { return sym(i, p) },
					func(i, j, p int) float64 { return b.at(p, j) },
					func(i, j int) bool { return true })
				again := append([]float64(nil), c0.v...)
				g.SymmUpper(m, n, ab.alpha, a.v, a.ld, b.v, b.ld, ab.beta, again, c.ld, workers)
				for i := range again {
					if math.Float64bits(again[i]) != math.Float64bits(c.v[i]) {
						t.Fatalf("%s workers=%d: c[%d] differs between two runs: %v, %v", what, workers, i, again[i], c.v[i])
					}
				}
			}
		}
	})
}

// SymmUpper reads the tiles above the diagonal in place where their strips
// are whole (on the AVX-512 path): the same products in the same order as
// packed, so the same bits.
func TestSymmUpperInPlaceMatchesPacked(t *testing.T) {
	if !hasKernelInPlace() {
		t.Skip("no in-place kernel on this CPU (or a purego build)")
	}
	rng := rand.New(rand.NewPCG(13, 13))
	for _, sz := range [][2]int{{2*symmTile + 3*mr, 64}, {3 * symmTile, 33}, {symmTile + 5*mr, nr}} {
		m, n := sz[0], sz[1]
		a := newGeneral(rng, m, m, 3)
		b := newGeneral(rng, m, n, 1)
		c0 := newOut(rng, m, n, false)
		run := func(inPlace bool) []float64 {
			defer func(v bool) { symmInPlace = v }(symmInPlace)
			symmInPlace = inPlace
			c := append([]float64(nil), c0.v...)
			var g Gram
			g.SymmUpper(m, n, -1, a.v, a.ld, b.v, b.ld, 1, c, c0.ld, 2)
			return c
		}
		packed, inPlace := run(false), run(true)
		for i := range packed {
			if math.Float64bits(packed[i]) != math.Float64bits(inPlace[i]) {
				t.Fatalf("m=%d n=%d: c[%d] in place %v, packed %v", m, n, i, inPlace[i], packed[i])
			}
		}
	}
}

// TestGemmDeterministic: the result does not depend on the number of
// workers, and the AVX2 and AVX-512 kernels, which sum in the same order
// with the same FMAs, agree to the last bit.
func TestGemmDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	m, n, k := 2*tileM+5, 2*tileN+7, 3*kc+1
	a, b := newGeneral(rng, m, k, 0), newGeneral(rng, k, n, 0)
	var want []float64
	withF64Paths(t, func(t *testing.T) {
		var c []float64
		for _, workers := range []int{1, 2, 5} {
			got := make([]float64, m*n)
			var g Gram
			g.Gemm(false, false, m, n, k, 1, a.v, a.ld, b.v, b.ld, 0, got, n, workers)
			if c == nil {
				c = got
				continue
			}
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(c[i]) {
					t.Fatalf("workers=%d: c[%d] = %x, with 1 worker %x", workers, i, got[i], c[i])
				}
			}
		}
		if f64Path == f64Go {
			return // without FMA on most targets: its own rounding
		}
		if want == nil {
			want = c
			return
		}
		for i := range c {
			if math.Float64bits(c[i]) != math.Float64bits(want[i]) {
				t.Fatalf("c[%d] = %x, on the first path %x", i, c[i], want[i])
			}
		}
	})
}

// TestDirectUpdatesMatchAcc: an update c ± L·R of a single K-block, summed
// into c in place, gives the bits of the sum through acc, on every kernel
// path: Syr2k across the diagonal and the tile edges (the entries below
// the diagonal and the padding untouched) and Gemm with partial tiles.
func TestDirectUpdatesMatchAcc(t *testing.T) {
	withF64Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 15))
		for _, sz := range [][2]int{{tileM + 13, kc / 2}, {2*tileN + 3, 2*mr + 1}, {nr + 5, 1}} {
			n, k := sz[0], sz[1]
			x, y := newGeneral(rng, n, k, 2), newGeneral(rng, n, k, 1)
			gm, gk := newGeneral(rng, n+7, kc, 1), newGeneral(rng, kc, n, 3)
			c0 := newOut(rng, n, n, false)
			c1 := newOut(rng, n+7, n, false)
			for _, alpha := range []float64{-1, 1} {
				run := func(direct bool) (syr2k, gemm []float64) {
					defer func(v bool) { directUpdates = v }(directUpdates)
					directUpdates = direct
					var g Gram
					syr2k = append([]float64(nil), c0.v...)
					g.Syr2k(false, n, k, alpha, x.v, x.ld, y.v, y.ld, 1, syr2k, c0.ld, 2)
					gemm = append([]float64(nil), c1.v...)
					g.Gemm(false, false, n+7, n, kc, alpha, gm.v, gm.ld, gk.v, gk.ld, 1, gemm, c1.ld, 2)
					return syr2k, gemm
				}
				s0, g0 := run(false)
				s1, g1 := run(true)
				for what, pair := range map[string][2][]float64{"Syr2k": {s0, s1}, "Gemm": {g0, g1}} {
					for i := range pair[0] {
						if math.Float64bits(pair[0][i]) != math.Float64bits(pair[1][i]) {
							t.Fatalf("%s n=%d k=%d alpha=%g: c[%d] in place %v, through acc %v", what, n, k, alpha, i, pair[1][i], pair[0][i])
						}
					}
				}
			}
		}
	})
}

// TestGemmPackBudget: a product cut into row or column blocks because a
// packed factor would pass the budget gives the bits of the uncut product,
// with every transpose and a padded c (whose padding stays untouched).
func TestGemmPackBudget(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	m, n, k := 2*tileM+5, 2*tileN+7, kc+3
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		ar, ac := m, k
		if tr[0] {
			ar, ac = k, m
		}
		br, bc := k, n
		if tr[1] {
			br, bc = n, k
		}
		a, b := newGeneral(rng, ar, ac, 3), newGeneral(rng, br, bc, 1)
		ldc := n + 2
		c0 := make([]float64, m*ldc)
		for i := range c0 {
			c0[i] = rng.NormFloat64()
		}
		var g Gram
		want := append([]float64(nil), c0...)
		g.Gemm(tr[0], tr[1], m, n, k, 1.5, a.v, a.ld, b.v, b.ld, -0.5, want, ldc, 2)
		for _, budget := range []int{m * k / 2, tileM * k, m * k} { // rows; rows; columns (m·k fits, n·k does not)
			saved := packBudget
			packBudget = budget
			got := append([]float64(nil), c0...)
			g.Gemm(tr[0], tr[1], m, n, k, 1.5, a.v, a.ld, b.v, b.ld, -0.5, got, ldc, 2)
			packBudget = saved
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("trans %v, budget %d: c[%d] (row %d) = %v, uncut %v", tr, budget, i, i/ldc, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkGemm times c = a·b (square, beta = 0) on every kernel path this
// CPU has, all cores (the backend comparison with OpenBLAS is
// backend/gonum's BenchmarkDgemm).
func BenchmarkGemm(b *testing.B) {
	saved := f64Path
	defer func() { f64Path = saved }()
	for _, n := range []int{512, 1536} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		x, y := newGeneral(rng, n, n, 0), newGeneral(rng, n, n, 0)
		c := make([]float64, n*n)
		for _, k := range []f64Kind{f64AVX512, f64AVX2, f64Go} {
			if k > saved {
				continue
			}
			f64Path = k
			var g Gram
			b.Run(fmt.Sprintf("n=%d/%v", n, k), func(b *testing.B) {
				for b.Loop() {
					g.Gemm(false, false, n, n, n, 1, x.v, x.ld, y.v, y.ld, 0, c, n, 0)
				}
				b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkSymmUpper times Y = A·V for the band reduction's shape (V a
// panel of 64 columns) against a GEMM with the same A stored in full, all
// cores.
// BenchmarkSyr2k is the band reduction's trailing update c −= x·yᵀ + y·xᵀ
// with panels of 64 columns.
func BenchmarkSyr2k(b *testing.B) {
	for _, m := range []int{2048, 4096} {
		rng := rand.New(rand.NewPCG(14, 14))
		c, x, y := newGeneral(rng, m, m, 0), newGeneral(rng, m, 64, 0), newGeneral(rng, m, 64, 0)
		var g Gram
		flops := 2 * float64(m) * float64(m) * 64
		b.Run(fmt.Sprintf("m=%d", m), func(b *testing.B) {
			for range b.N {
				g.Syr2k(false, m, 64, -1, x.v, x.ld, y.v, y.ld, 1, c.v, c.ld, 0)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkSymmUpper(b *testing.B) {
	for _, m := range []int{2048, 4096} {
		rng := rand.New(rand.NewPCG(13, 13))
		a, v := newGeneral(rng, m, m, 0), newGeneral(rng, m, 64, 0)
		y := make([]float64, m*64)
		var g Gram
		flops := 2 * float64(m) * float64(m) * 64
		for _, inPlace := range []bool{true, false} {
			name := "symm"
			if !inPlace {
				name = "symm-packed"
			}
			b.Run(fmt.Sprintf("m=%d/%s", m, name), func(b *testing.B) {
				defer func(v bool) { symmInPlace = v }(symmInPlace)
				symmInPlace = inPlace
				for range b.N {
					g.SymmUpper(m, 64, 1, a.v, a.ld, v.v, v.ld, 0, y, 64, 0)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		b.Run(fmt.Sprintf("m=%d/gemm", m), func(b *testing.B) {
			for range b.N {
				g.Gemm(false, false, m, 64, m, 1, a.v, a.ld, v.v, v.ld, 0, y, 64, 0)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
