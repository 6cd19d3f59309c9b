package cpu

import "runtime"

// SymmUpper computes c = alpha·a·b + beta·c for the symmetric m×m a of
// which only the upper triangle (row stride lda) is read, b m×n and c m×n
// (BLAS's dsymm, side left, uplo upper, for row-major matrices), by up to
// workers goroutines (0: GOMAXPROCS). With beta = 0, c is not read.
//
// It is the product of a blocked symmetric reduction, Y = A22·V with V a
// panel of n = 64 columns, where a GEMM is bound by memory, not arithmetic:
// a packing GEMM reads the whole of a, writes it packed and reads it again
// for 128 flops an element (measured at m = 4,096: 66 – 72 GFLOP/s against
// 135 for a square product, OpenBLAS's dgemm and dsymm alike). Here a is
// read once, half of it: the upper triangle is cut into T×T tiles, and each
// tile S = a[I, J] above the diagonal serves both c[I] += S·b[J] and
// c[J] += Sᵀ·b[I], its second packing read from L2; a diagonal tile is
// packed symmetric from its upper triangle. b is packed once. Tiles are dealt to the workers in turn (tiles
// are of one size, so this balances), each summing into its own copy of
// c without locks; the copies are added in worker order at the end, so
// the result depends on the number of workers only, not on their timing.
func (g *Gram) SymmUpper(m, n int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int, workers int) {
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 {
		Scale(c, ldc, m, n, beta)
		return
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	const t = symmTile
	nt := (m + t - 1) / t
	sn := (n + nr - 1) / nr
	npad := sn * nr
	mpad := nt * t
	// b, packed as the right factor one tile of K at a time.
	if cap(g.b) < nt*t*npad {
		g.b = make([]float64, nt*t*npad)
	}
	bp := g.b[:nt*t*npad]
	parallel(min(workers, nt), func(w int) {
		for jb := w; jb < nt; jb += min(workers, nt) {
			k := min(t, m-jb*t)
			packFactor(bp[jb*t*npad:], nr, k, kBlock(k), n, []piece{{x: b[jb*t*ldb:], ld: ldb, k: k}}, 0, sn)
		}
	})
	var tiles [][2]int
	for ib := 0; ib < nt; ib++ {
		for jb := ib; jb < nt; jb++ {
			tiles = append(tiles, [2]int{ib, jb})
		}
	}
	nw := min(workers, len(tiles))
	readInPlace := hasKernelInPlace() && symmInPlace
	for len(g.sym) < nw {
		g.sym = append(g.sym, symmWork{})
	}
	parallel(nw, func(w int) {
		sw := &g.sym[w]
		if cap(sw.acc) < mpad*npad {
			sw.acc = make([]float64, mpad*npad)
		}
		if cap(sw.pack) < t*t {
			sw.pack = make([]float64, t*t)
		}
		acc, pack := sw.acc[:mpad*npad], sw.pack[:t*t]
		clear(acc)
		// mul adds the product of a left factor (strips of mr rows, K = k)
		// and b's packed tile jb into acc's rows from r0; left gives strip
		// s of the K-block from p0 (kk steps) to the kernel with bs and c,
		// of which the first cols columns are b's.
		mul := func(strips, k, jb, r0 int, left func(p0, kk, s int, bs, c []float64, cols int)) {
			kb := kBlock(k)
			right := bp[jb*t*npad:]
			for p0 := 0; p0 < k; p0 += kb {
				kk := min(kb, k-p0)
				for q := 0; q < sn; q++ {
					bs := right[p0*npad+q*kk*nr : p0*npad+(q+1)*kk*nr]
					for s := 0; s < strips; s++ {
						left(p0, kk, s, bs, acc[(r0+s*mr)*npad+q*nr:], min(nr, n-q*nr))
					}
				}
			}
		}
		// packed is the left factor packed in pack; inPlace reads it from
		// the tile x where it lies: S by rows, or Sᵀ (S by columns).
		packed := func(strips int) func(p0, kk, s int, bs, c []float64, cols int) {
			return func(p0, kk, s int, bs, c []float64, cols int) {
				kernel(kk, pack[p0*strips*mr+s*kk*mr:p0*strips*mr+(s+1)*kk*mr], bs, c, npad, nil)
			}
		}
		inPlace := func(x []float64, byRows bool) func(p0, kk, s int, bs, c []float64, cols int) {
			return func(p0, kk, s int, bs, c []float64, cols int) {
				xs := x[p0*lda+s*mr:]
				if byRows {
					xs = x[s*mr*lda+p0:]
				}
				kernelInPlace(kk, xs, lda, byRows, bs, c, npad, cols)
			}
		}
		for q := w; q < len(tiles); q += nw {
			ib, jb := tiles[q][0], tiles[q][1]
			i0, j0 := ib*t, jb*t
			ki, kj := min(t, m-i0), min(t, m-j0)
			si, sj := (ki+mr-1)/mr, (kj+mr-1)/mr
			x := a[i0*lda+j0:]
			if ib == jb {
				packFactor(pack, mr, ki, kBlock(ki), ki, []piece{{x: x, ld: lda, k: ki, symUpper: true}}, 0, si)
				mul(si, ki, ib, i0, packed(si))
				continue
			}
			if readInPlace && ki%mr == 0 && kj%mr == 0 {
				mul(si, kj, jb, i0, inPlace(x, true))
				mul(sj, ki, ib, j0, inPlace(x, false))
				continue
			}
			// c[I] += S·b[J]: S's rows are the strips, K runs along them.
			packFactor(pack, mr, kj, kBlock(kj), ki, []piece{{x: x, ld: lda, byRows: true, k: kj}}, 0, si)
			mul(si, kj, jb, i0, packed(si))
			// c[J] += Sᵀ·b[I]: S's columns are the strips, K runs down them.
			packFactor(pack, mr, ki, kBlock(ki), kj, []piece{{x: x, ld: lda, k: ki}}, 0, sj)
			mul(sj, ki, ib, j0, packed(sj))
		}
	})
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for w := 0; w < nw; w++ {
			src := g.sym[w].acc[i*npad : i*npad+n]
			if w == 0 {
				combine(row, src, alpha, beta)
			} else {
				combine(row, src, alpha, 1)
			}
		}
	}
}

// symmInPlace lets SymmUpper read whole-strip tiles above the diagonal in
// place (kernelInPlace) instead of packing them twice; tests clear it to
// compare the two.
var symmInPlace = true

// symmTile is the order of SymmUpper's tiles of a: two packings of one
// (512 KB each) and the worker's rows of c stay in a 2 MB L2.
const symmTile = 256

// symmWork is one SymmUpper worker's scratch, kept between calls.
type symmWork struct {
	acc, pack []float64
}

// kBlock is the K-block length of a factor of inner size k: K cut into
// equal blocks of at most kc (the driver's rule).
func kBlock(k int) int {
	nb := (k + kc - 1) / kc
	return (k + nb - 1) / nb
}
