package cpu

import (
	"runtime"
	"sync/atomic"
)

// The float64 products — GEMM, the Gram, SYRK and SYR2K — share one driver.
//
// Both factors are packed once, in parallel, into strips that the
// micro-kernel reads sequentially: the left factor op(A) (m×K) as strips of
// mr rows, the right factor op(B) (K×n) as strips of nr columns, each
// zero-padded to whole micro-tiles. K is cut into blocks of kb ≤ kc steps
// (all of one length but for a shorter last one, fixed by K alone), and each
// K-block of a factor is one contiguous panel, strip after strip
// (packFactor), so that a tile's part of it is one sequential stream for the
// prefetchers and the TLB. A factor may be the concatenation of two matrices
// along K: that is how SYR2K's A·Bᵀ + B·Aᵀ becomes the single product
// [A B]·[B A]ᵀ.
//
// c is cut into tiles of tileM × tileN, handed to the workers one at a time.
// A tile sums into the worker's scratch copy acc K-block by K-block, each
// micro-tile's steps in order, so every entry of c sums in an order that
// depends only on the shapes, never on the number of workers. The finished
// tile is combined with c once: c = alpha·acc + beta·c (beta = 0: c is not
// read). An update c ± L·R within one K-block skips acc where it can, with
// the same bits (see run).
//
// Cache blocking, on AVX-512 machines with a 48 KB L1 and 2 MB L2 a core
// (Sapphire Rapids): within a K-block one right strip (kb·nr values, 24 KB)
// stays in L1 while the tile's left strips (kb·mr values, 8 KB each) stream
// past it from L2 — a third of the L2 traffic of the opposite order. The
// tile's two panels (2 × 192 KB) and acc (288 KB) stay in L2. kc = 128 keeps
// the right strip and the streams within L1; measured, kc = 256 loses
// 10–20%.

// product is one call of the driver: c ← alpha·L·R + beta·c, with L = op(A)
// (m×K) and R = op(B) (K×n) given as lists of pieces along K.
type product struct {
	m, n        int
	left, right []piece
	alpha, beta float64
	c           []float64
	ldc         int
	upper       bool // square c; only entries with row ≤ column are read or written
}

// piece is a K-range of one factor: element (i, p) of the factor — i along
// its strips (rows of L, columns of R), p along K — for p in [0, k) is
// x[i·ld + p] when byRows (the strips run across x's rows), x[p·ld + i]
// otherwise (the strips are contiguous in x's rows).
//
// A symUpper piece is instead the symmetric k×k matrix whose upper
// triangle x holds (row stride ld): element (i, p) is x[i·ld + p] when
// i ≤ p, else x[p·ld + i]; it is the whole K range of a left factor with
// as many rows (SymmUpper's diagonal tiles).
type piece struct {
	x        []float64
	ld       int
	byRows   bool
	k        int
	symUpper bool
}

// Gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices: op(a)
// is m×k (a itself is k×m when transA), op(b) is k×n (n×k when transB), c is
// m×n with row stride ldc, computed by up to workers goroutines (0:
// GOMAXPROCS) with a result that does not depend on their number. With
// beta = 0, c is not read (NaNs in it do not propagate); with k = 0 or
// alpha = 0, a and b are not read and c = beta·c.
func (g *Gram) Gemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int, workers int) {
	if !transA && transB && m*n <= dotsMaxEntries && k >= dotsMinK && alpha != 0 {
		gemmDots(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers)
		return
	}
	g.run(product{
		m: m, n: n, alpha: alpha, beta: beta, c: c, ldc: ldc,
		left:  []piece{{x: a, ld: lda, byRows: !transA, k: k}},
		right: []piece{{x: b, ld: ldb, byRows: transB, k: k}},
	}, workers)
}

// A·Bᵀ with both factors' rows along K and few entries (stage 1's
// panels: P·Vᵀ and V1·V2ᵀ for blocks of 4 to 32 reflectors over K = D) is
// a table of dot products of contiguous rows. Packing would gather both
// factors across their rows for a handful of flops an element: at
// D = 4,096 the panels took 0.40 – 0.45 s that way against OpenBLAS's
// 0.10 – 0.11 s.
const (
	dotsMaxEntries = 32 * 32
	dotsMinK       = 256
)

// gemmDots sets c = alpha·a·bᵀ + beta·c (m×n, K = k; beta = 0: c is not
// read) entry by entry, rows of c dealt to the workers when there is
// enough work. Each entry is one dot product, whatever the workers.
func gemmDots(m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int, workers int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, m, max(1, int(2*float64(m)*float64(n)*float64(k)/(1<<22))))
	parallel(workers, func(w int) {
		for i := m * w / workers; i < m*(w+1)/workers; i++ {
			ai := a[i*lda : i*lda+k]
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				d := alpha * dot(ai, b[j*ldb:j*ldb+k])
				if beta == 0 {
					row[j] = d
				} else {
					row[j] = d + beta*row[j]
				}
			}
		}
	})
}

// Syrk computes c = alpha·op(a)·op(a)ᵀ + beta·c on the upper triangle
// (i ≤ j) of the n×n matrix c (row stride ldc): op(a) is a (n×k) or, when
// trans, aᵀ (a is k×n). Entries below the diagonal are neither read nor
// written. Workers and the special values of alpha, beta and k are as for
// Gemm.
func (g *Gram) Syrk(trans bool, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int, workers int) {
	g.run(product{
		m: n, n: n, alpha: alpha, beta: beta, c: c, ldc: ldc, upper: true,
		left:  []piece{{x: a, ld: lda, byRows: !trans, k: k}},
		right: []piece{{x: a, ld: lda, byRows: !trans, k: k}},
	}, workers)
}

// Syr2k computes the symmetric rank-2k update
//
//	c = alpha·(op(a)·op(b)ᵀ + op(b)·op(a)ᵀ) + beta·c
//
// on the upper triangle of the n×n matrix c, where op(x) is x (n×k) or,
// when trans, xᵀ (x is k×n): with alpha = −1, beta = 1 and trans false it is
// the update c ← c − A·Bᵀ − B·Aᵀ of a blocked tridiagonal or band
// reduction. It runs as the single product [op(a) op(b)]·[op(b) op(a)]ᵀ of
// inner dimension 2k, at GEMM speed. Entries below the diagonal are neither
// read nor written; workers and special values are as for Gemm.
func (g *Gram) Syr2k(trans bool, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int, workers int) {
	g.run(product{
		m: n, n: n, alpha: alpha, beta: beta, c: c, ldc: ldc, upper: true,
		left:  []piece{{x: a, ld: lda, byRows: !trans, k: k}, {x: b, ld: ldb, byRows: !trans, k: k}},
		right: []piece{{x: b, ld: ldb, byRows: !trans, k: k}, {x: a, ld: lda, byRows: !trans, k: k}},
	}, workers)
}

// run packs both factors and computes c's tiles.
func (g *Gram) run(pr product, workers int) {
	m, n := pr.m, pr.n
	if m == 0 || n == 0 {
		return
	}
	k := 0
	for _, p := range pr.left {
		k += p.k
	}
	if k == 0 || pr.alpha == 0 {
		if pr.upper {
			scaleUpper(pr.c, pr.ldc, n, pr.beta)
		} else {
			Scale(pr.c, pr.ldc, m, n, pr.beta)
		}
		return
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// A general product whose packed factor would pass the budget runs as
	// row (or column) blocks of c, each packing its own slice of that
	// factor. Every entry sums in the same order (fixed by K alone), so the
	// bits do not change.
	if !pr.upper {
		if rows := blockFor(m, k, tileM); rows < m {
			for i0 := 0; i0 < m; i0 += rows {
				g.run(pr.rowBlock(i0, min(i0+rows, m)), workers)
			}
			return
		}
		if cols := blockFor(n, k, tileN); cols < n {
			for j0 := 0; j0 < n; j0 += cols {
				g.run(pr.colBlock(j0, min(j0+cols, n)), workers)
			}
			return
		}
	}
	sa, sb := (m+mr-1)/mr, (n+nr-1)/nr // strips
	if cap(g.a) < sa*mr*k {
		g.a = make([]float64, sa*mr*k)
	}
	if cap(g.b) < sb*nr*k {
		g.b = make([]float64, sb*nr*k)
	}
	a, b := g.a[:sa*mr*k], g.b[:sb*nr*k]
	kb := kBlock(k) // K-blocks of equal length, but for a shorter last one
	// An update c ± L·R with a single K-block adds each micro-tile's sum
	// into c as the kernel finishes it: the same arithmetic as summing into
	// acc and combining (c + (±Σ), the sign carried by the packed left
	// factor, exactly), without the pass over acc and c that followed each
	// tile — a quarter of SYR2K's time at K = 128, bound by memory.
	direct := directUpdates && pr.beta == 1 && (pr.alpha == 1 || pr.alpha == -1) && k <= kb
	parallel(min(workers, sa+sb), func(w int) {
		nw := min(workers, sa+sb)
		packFactor(a, mr, k, kb, m, pr.left, sa*w/nw, sa*(w+1)/nw)
		packFactor(b, nr, k, kb, n, pr.right, sb*w/nw, sb*(w+1)/nw)
		if direct && pr.alpha == -1 {
			mine := a[sa*w/nw*mr*k : sa*(w+1)/nw*mr*k]
			for q, v := range mine {
				mine[q] = -v
			}
		}
	})

	ti, tj := (m+tileM-1)/tileM, (n+tileN-1)/tileN
	var jobs [][2]int
	for i := 0; i < ti; i++ {
		for j := 0; j < tj; j++ {
			// Upper: tiles with an entry on or above the diagonal.
			if !pr.upper || i*tileM < min((j+1)*tileN, n) {
				jobs = append(jobs, [2]int{i, j})
			}
		}
	}
	var claimed atomic.Int64
	claim := func() (span, bool) {
		q := int(claimed.Add(1) - 1)
		if q >= len(jobs) {
			return span{}, false
		}
		i0, j0 := jobs[q][0]*tileM, jobs[q][1]*tileN
		return span{i0, min(i0+tileM, m), j0, min(j0+tileN, n)}, true
	}
	nw := min(workers, len(jobs))
	for len(g.acc) < nw {
		g.acc = append(g.acc, make([]float64, tileM*tileN))
	}
	parallel(nw, func(w int) {
		acc := g.acc[w]
		// Each worker claims its next tile before it computes the current
		// one, so that the last K-block can fetch the next tile's first.
		cur, ok := claim()
		for ok {
			next, more := claim()
			if direct {
				accumulate(acc, a, b, k, kb, cur, next, more, pr.upper, pr.c, pr.ldc)
				cur, ok = next, more
				continue
			}
			accumulate(acc, a, b, k, kb, cur, next, more, pr.upper, nil, 0)
			for i := cur.i0; i < cur.i1; i++ {
				start := cur.j0
				if pr.upper {
					start = max(start, i)
				}
				if start >= cur.j1 {
					continue
				}
				row := pr.c[i*pr.ldc+start : i*pr.ldc+cur.j1]
				src := acc[(i-cur.i0)*tileN+start-cur.j0 : (i-cur.i0)*tileN+cur.j1-cur.j0]
				combine(row, src, pr.alpha, pr.beta)
			}
			cur, ok = next, more
		}
	})
}

// directUpdates lets single-K-block updates sum into c in place (see run);
// tests clear it to compare with the path through acc.
var directUpdates = true

// packBudget bounds the values of one packed factor of a general product
// (128 MB): without it, a product with an n×n left factor (a divide and
// conquer merge at n = 12,288) packed a second copy of it, 1.2 GB.
var packBudget = 1 << 24

// blockFor is how many of a factor's m strips-worth of rows (or columns) to
// pack at once for inner size k: all m within the budget, else a multiple
// of the tile size t.
func blockFor(m, k, t int) int {
	if m*k <= packBudget {
		return m
	}
	return max(t, packBudget/k/t*t)
}

// rowBlock is the product restricted to rows [i0, i1) of c and L.
func (pr product) rowBlock(i0, i1 int) product {
	pr.m = i1 - i0
	pr.c = pr.c[i0*pr.ldc:]
	pr.left = offsetPieces(pr.left, i0)
	return pr
}

// colBlock is the product restricted to columns [j0, j1) of c and R.
func (pr product) colBlock(j0, j1 int) product {
	pr.n = j1 - j0
	pr.c = pr.c[j0:]
	pr.right = offsetPieces(pr.right, j0)
	return pr
}

// offsetPieces starts each piece at its strip index i0.
func offsetPieces(ps []piece, i0 int) []piece {
	out := make([]piece, len(ps))
	for q, p := range ps {
		if p.byRows {
			p.x = p.x[i0*p.ld:]
		} else {
			p.x = p.x[i0:]
		}
		out[q] = p
	}
	return out
}

// span is a tile of c: rows i0..i1, columns j0..j1.
type span struct{ i0, i1, j0, j1 int }

// combine sets row = alpha·src + beta·row, not reading row when beta = 0.
func combine(row, src []float64, alpha, beta float64) {
	src = src[:len(row)]
	switch {
	case beta == 1:
		// Every update c −= …, the common case of the solvers: the vector
		// loop, where Go's scalar one held back products of small inner
		// size (backQ1's V·S at K = 64 spent a third of its time here).
		axpy(alpha, src, row)
		return
	case beta == 0 && alpha == 1:
		copy(row, src)
		return
	case beta == 0:
		for q, v := range src {
			row[q] = alpha * v
		}
		return
	}
	for q, v := range src {
		row[q] = alpha*v + beta*row[q]
	}
}

// accumulate computes the tile sp of L·R into acc (row stride tileN) from
// the packed strips a (mr rows each) and b (nr columns each), K-block by
// K-block (kb long, the last one possibly shorter). Each right strip's
// K-block stays in L1 while the tile's left strips stream past it. With
// upper, micro-tiles wholly below the diagonal are left out: their entries
// are never kept.
//
// With c (a single K-block), the sums go into c itself (row stride ldc):
// a micro-tile that lies wholly inside the tile, and with upper wholly on
// or above the diagonal, straight from the kernel's registers; any other
// is summed in acc and its kept entries added to c from there.
//
// Meanwhile the kernel fetches into L2 what comes next — the tile's next
// K-block, or after the last one the first of the tile next (when more) —
// a line every four steps of each call. Measured on one core of a loaded
// 2-core machine, this took the 1,536² product from 50 to 62 GFLOP/s: the
// hardware prefetchers alone leave the first pass over each panel waiting
// on L3.
func accumulate(acc, a, b []float64, k, kb int, sp, next span, more, upper bool, c []float64, ldc int) {
	pi := (sp.i1 - sp.i0 + mr - 1) / mr * mr
	pj := (sp.j1 - sp.j0 + nr - 1) / nr * nr
	if c == nil {
		clear(acc[:pi*tileN])
	}
	for p0 := 0; p0 < k; p0 += kb {
		kk := min(kb, k-p0)
		pa, pb := panels(a, b, k, kb, p0, sp)
		var ahead [2][]float64
		switch {
		case p0+kk < k:
			ahead[0], ahead[1] = panels(a, b, k, kb, p0+kk, sp)
		case more:
			ahead[0], ahead[1] = panels(a, b, k, kb, 0, next)
		}
		for t := 0; t < pj; t += nr {
			bp := pb[t*kk : (t+nr)*kk]
			for s := 0; s < pi; s += mr {
				i, j := sp.i0+s, sp.j0+t
				if upper && j+nr <= i {
					break
				}
				ap := pa[s*kk : (s+mr)*kk]
				if len(ahead[0]) == 0 {
					ahead[0], ahead[1] = ahead[1], nil
				}
				pf := ahead[0] // empty when all is fetched
				ahead[0] = ahead[0][min(2*kk, len(ahead[0])):]
				switch {
				case c == nil:
					kernel(kk, ap, bp, acc[s*tileN+t:], tileN, pf)
				case i+mr <= sp.i1 && j+nr <= sp.j1 && (!upper || i+mr-1 <= j):
					kernel(kk, ap, bp, c[i*ldc+j:], ldc, pf)
				default:
					mt := acc[:mr*nr]
					clear(mt)
					kernel(kk, ap, bp, mt, nr, pf)
					for r := 0; r < mr && i+r < sp.i1; r++ {
						j0, j1 := j, min(j+nr, sp.j1)
						if upper {
							j0 = max(j0, i+r)
						}
						if j0 < j1 {
							axpy(1, mt[r*nr+j0-j:r*nr+j1-j], c[(i+r)*ldc+j0:(i+r)*ldc+j1])
						}
					}
				}
			}
		}
	}
}

// panels returns the parts of K-block p0 of the packed factors that the
// tile sp reads: its left strips and its right strips, each run contiguous.
func panels(a, b []float64, k, kb, p0 int, sp span) (pa, pb []float64) {
	kk := min(kb, k-p0)
	la, lb := len(a)/k, len(b)/k // padded extents: S·mr and S·nr
	pi := (sp.i1 - sp.i0 + mr - 1) / mr * mr
	pj := (sp.j1 - sp.j0 + nr - 1) / nr * nr
	return a[p0*la+sp.i0*kk : p0*la+(sp.i0+pi)*kk], b[p0*lb+sp.j0*kk : p0*lb+(sp.j0+pj)*kk]
}

// Scale sets the m×n matrix c (row stride ldc) to beta·c with BLAS
// semantics: beta = 0 clears c, NaNs included. It is what a GEMM with
// nothing to multiply (k = 0 or alpha = 0) leaves.
func Scale(c []float64, ldc, m, n int, beta float64) {
	for i := 0; i < m; i++ {
		scaleRow(c[i*ldc:i*ldc+n], beta)
	}
}

// scaleUpper is Scale on the upper triangle of the n×n matrix c.
func scaleUpper(c []float64, ldc, n int, beta float64) {
	for i := 0; i < n; i++ {
		scaleRow(c[i*ldc+i:i*ldc+n], beta)
	}
}

func scaleRow(row []float64, beta float64) {
	switch beta {
	case 0:
		clear(row)
	case 1:
	default:
		for q := range row {
			row[q] *= beta
		}
	}
}
