package cpu

import (
	"runtime"
	"sync/atomic"
)

// The float64 products — GEMM, the Gram, SYRK and SYR2K — share one driver.
//
// Both factors are packed once, in parallel, into strips that the
// micro-kernel reads sequentially: the left factor op(A) (m×K) as strips of
// mr rows, K long (element (i, p) of strip s at s·mr·K + p·mr + i mod mr),
// the right factor op(B) (K×n) as strips of nr columns the same way. Strips
// are zero-padded to whole micro-tiles. A factor may be the concatenation of
// two matrices along K: that is how SYR2K's A·Bᵀ + B·Aᵀ becomes the single
// product [A B]·[B A]ᵀ.
//
// c is cut into square tiles of side `tile`, handed to the workers one at a
// time. A tile sums into the worker's scratch copy acc over K-blocks of at
// most kc (all the same length, fixed by K alone), each K-block micro-tile by
// micro-tile, so every entry of c sums in an order that depends only on the
// shapes, never on the number of workers. The finished tile is combined with
// c once: c = alpha·acc + beta·c (beta = 0: c is not read).
//
// Cache blocking: the micro-kernel keeps one left strip's K-block (kc·mr
// values, 8 KB) in L1 while it streams the tile's right strips
// (kc·nr values each) from L2; both must fit L1 with room to spare, or the
// left strip is evicted between its reuses — measured, kc = 128 runs at full
// speed where kc = 256 loses a fifth. A tile's two K-blocks and acc (3·tile²
// values at most, under 1 MB) stay in L2.

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
type piece struct {
	x      []float64
	ld     int
	byRows bool
	k      int
}

// Gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices: op(a)
// is m×k (a itself is k×m when transA), op(b) is k×n (n×k when transB), c is
// m×n with row stride ldc, computed by up to workers goroutines (0:
// GOMAXPROCS) with a result that does not depend on their number. With
// beta = 0, c is not read (NaNs in it do not propagate); with k = 0 or
// alpha = 0, a and b are not read and c = beta·c.
func (g *Gram) Gemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int, workers int) {
	g.run(product{
		m: m, n: n, alpha: alpha, beta: beta, c: c, ldc: ldc,
		left:  []piece{{a, lda, !transA, k}},
		right: []piece{{b, ldb, transB, k}},
	}, workers)
}

// Syrk computes c = alpha·op(a)·op(a)ᵀ + beta·c on the upper triangle
// (i ≤ j) of the n×n matrix c (row stride ldc): op(a) is a (n×k) or, when
// trans, aᵀ (a is k×n). Entries below the diagonal are neither read nor
// written. Workers and the special values of alpha, beta and k are as for
// Gemm.
func (g *Gram) Syrk(trans bool, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int, workers int) {
	g.run(product{
		m: n, n: n, alpha: alpha, beta: beta, c: c, ldc: ldc, upper: true,
		left:  []piece{{a, lda, !trans, k}},
		right: []piece{{a, lda, !trans, k}},
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
		left:  []piece{{a, lda, !trans, k}, {b, ldb, !trans, k}},
		right: []piece{{b, ldb, !trans, k}, {a, lda, !trans, k}},
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
	sa, sb := (m+mr-1)/mr, (n+nr-1)/nr // strips
	if cap(g.a) < sa*mr*k {
		g.a = make([]float64, sa*mr*k)
	}
	if cap(g.b) < sb*nr*k {
		g.b = make([]float64, sb*nr*k)
	}
	a, b := g.a[:sa*mr*k], g.b[:sb*nr*k]
	nb := (k + kc - 1) / kc
	kb := (k + nb - 1) / nb // K-blocks of equal length, but for a shorter last one
	parallel(min(workers, sa+sb), func(w int) {
		nw := min(workers, sa+sb)
		packFactor(a, mr, k, kb, m, pr.left, sa*w/nw, sa*(w+1)/nw)
		packFactor(b, nr, k, kb, n, pr.right, sb*w/nw, sb*(w+1)/nw)
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
	var next atomic.Int64
	parallel(min(workers, len(jobs)), func(int) {
		acc := make([]float64, tileM*tileN)
		for {
			q := int(next.Add(1) - 1)
			if q >= len(jobs) {
				return
			}
			i0, j0 := jobs[q][0]*tileM, jobs[q][1]*tileN
			i1, j1 := min(i0+tileM, m), min(j0+tileN, n)
			accumulate(acc, a, b, k, kb, i0, i1, j0, j1, pr.upper)
			for i := i0; i < i1; i++ {
				start := j0
				if pr.upper {
					start = max(j0, i)
				}
				if start >= j1 {
					continue
				}
				row := pr.c[i*pr.ldc+start : i*pr.ldc+j1]
				src := acc[(i-i0)*tileN+start-j0 : (i-i0)*tileN+j1-j0]
				combine(row, src, pr.alpha, pr.beta)
			}
		}
	})
}

// combine sets row = alpha·src + beta·row, not reading row when beta = 0.
func combine(row, src []float64, alpha, beta float64) {
	src = src[:len(row)]
	if beta == 0 {
		for q, v := range src {
			row[q] = alpha * v
		}
		return
	}
	for q, v := range src {
		row[q] = alpha*v + beta*row[q]
	}
}

// accumulate computes rows i0..i1 × columns j0..j1 of L·R into acc (row
// stride tileN) from the packed strips a (mr rows each) and b (nr columns
// each), K-block by K-block (kb long, the last one possibly shorter). Each
// right strip's K-block stays in L1 while the tile's left strips stream past
// it. With upper, micro-tiles wholly below the diagonal are left out: their
// entries are never kept.
func accumulate(acc, a, b []float64, k, kb, i0, i1, j0, j1 int, upper bool) {
	pi := (i1 - i0 + mr - 1) / mr * mr
	pj := (j1 - j0 + nr - 1) / nr * nr
	la, lb := len(a)/k, len(b)/k // padded extents: S·mr and S·nr
	clear(acc[:pi*tileN])
	for p0 := 0; p0 < k; p0 += kb {
		kk := min(kb, k-p0)
		pa, pb := a[p0*la:], b[p0*lb:]
		// The next K-block's part of both factors, fetched into L2 a
		// slice per kernel call while this one is computed.
		var next []float64
		var nextB []float64
		if p1 := p0 + kk; p1 < k {
			k1 := min(kb, k-p1)
			next = a[p1*la+i0*k1 : p1*la+(i0+pi)*k1]
			nextB = b[p1*lb+j0*k1 : p1*lb+(j0+pj)*k1]
		}
		calls := (pi / mr) * (pj / nr)
		per := (len(next) + len(nextB) + calls - 1) / calls
		per = (per + 7) &^ 7
		for t := 0; t < pj; t += nr {
			bp := pb[(j0+t)*kk : (j0+t+nr)*kk]
			for s := 0; s < pi; s += mr {
				if upper && j0+t+nr <= i0+s {
					break
				}
				ap := pa[(i0+s)*kk : (i0+s+mr)*kk]
				kernel(kk, ap, bp, acc[s*tileN+t:], tileN)
				if len(next) > 0 {
					q := min(per, len(next))
					prefetch(next[:q])
					next = next[q:]
				} else if len(nextB) > 0 {
					q := min(per, len(nextB))
					prefetch(nextB[:q])
					nextB = nextB[q:]
				}
			}
		}
	}
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
