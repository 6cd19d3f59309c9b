package cpu

import (
	"runtime"
	"sync"
)

// Micro-tile and blocking sizes. A 4×8 tile keeps eight 4-wide accumulators
// in registers (enough independent FMAs to hide their latency); a K-block of
// kc rows keeps one packed A strip (kc×4) in L1 and the B panel in L2.
const (
	mr = 4
	nr = 8
	kc = 256
	// tile is the side of the square C tiles handed to workers.
	tile = 128
)

// Gram computes Gram updates with buffers reused across calls. The zero
// value is ready to use; a Gram must not be used by two goroutines at once.
type Gram struct {
	a, b []float64 // the chunk packed as strips of mr (a) and nr (b) columns
}

// GramUpper adds XᵀX into the upper triangle (i ≤ j) of the d×d matrix c
// (row stride ldc), where X is n×d row-major with row stride ldx. Only the
// upper triangle of c is written. The chunk is packed once, then the
// triangle's column tiles are computed by up to workers goroutines (0:
// GOMAXPROCS); each tile of c is owned by one goroutine and sums in a fixed
// order, so the result does not depend on the number of workers.
func (g *Gram) GramUpper(n, d int, x []float64, ldx int, c []float64, ldc int, workers int) {
	if n == 0 || d == 0 {
		return
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pa := (d + mr - 1) / mr * mr
	pb := (d + nr - 1) / nr * nr
	if cap(g.a) < n*pa {
		g.a = make([]float64, n*pa)
	}
	if cap(g.b) < n*pb {
		g.b = make([]float64, n*pb)
	}
	a, b := g.a[:n*pa], g.b[:n*pb]
	if workers >= 2 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			pack8(b, x, ldx, n, d)
		}()
		pack4(a, x, ldx, n, d)
		wg.Wait()
	} else {
		pack4(a, x, ldx, n, d)
		pack8(b, x, ldx, n, d)
	}
	nt := (d + tile - 1) / tile
	type job struct{ i, j int }
	jobs := make(chan job, nt*(nt+1)/2)
	for i := 0; i < nt; i++ {
		for j := i; j < nt; j++ {
			jobs <- job{i, j}
		}
	}
	close(jobs)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, nt*(nt+1)/2); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := make([]float64, accRows*accStride)
			for jb := range jobs {
				i0, j0 := jb.i*tile, jb.j*tile
				addTile(acc, a, b, n, i0, min(i0+tile, d), j0, min(j0+tile, d), c, ldc)
			}
		}()
	}
	wg.Wait()
}

// GramUpper is Gram.GramUpper with buffers allocated for this call.
func GramUpper(n, d int, x []float64, ldx int, c []float64, ldc int, workers int) {
	var g Gram
	g.GramUpper(n, d, x, ldx, c, ldc, workers)
}

const (
	accRows   = (tile + mr - 1) / mr * mr
	accStride = (tile + nr - 1) / nr * nr
)

// addTile adds X[:, i0:i1]ᵀ X[:, j0:j1] into c from the packed chunk,
// keeping only entries with row ≤ column (diagonal tiles straddle the
// triangle's edge). acc is the goroutine's padded scratch tile.
func addTile(acc, a, b []float64, n, i0, i1, j0, j1 int, c []float64, ldc int) {
	acc = accumulate(acc, a, b, n, i0, i1, j0, j1, i0 == j0)
	wi, wj := i1-i0, j1-j0
	for r := 0; r < wi; r++ {
		row := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j1]
		src := acc[r*accStride : r*accStride+wj]
		start := 0
		if i0 == j0 {
			start = r
		}
		for q := start; q < wj; q++ {
			row[q] += src[q]
		}
	}
}

// accumulate computes the tile rows i0..i1 × columns j0..j1 of A'ᵀ·B' into
// acc (row stride accStride), where a holds k-long strips of mr rows of the
// left factor and b k-long strips of nr columns of the right one (strip i
// starts at i·k). With skipLower, micro-tiles wholly below the diagonal are
// left out (their entries are never kept). It returns acc.
func accumulate(acc, a, b []float64, k, i0, i1, j0, j1 int, skipLower bool) []float64 {
	pi := (i1 - i0 + mr - 1) / mr * mr
	pj := (j1 - j0 + nr - 1) / nr * nr
	acc = acc[:pi*accStride]
	for q := range acc {
		acc[q] = 0
	}
	for p0 := 0; p0 < k; p0 += kc {
		kk := min(kc, k-p0)
		for s := 0; s < pi; s += mr {
			ap := a[(i0+s)*k+p0*mr : (i0+s)*k+(p0+kk)*mr]
			for t := 0; t < pj; t += nr {
				if skipLower && t+nr <= s {
					continue
				}
				bp := b[(j0+t)*k+p0*nr : (j0+t)*k+(p0+kk)*nr]
				kernel(kk, ap, bp, acc[s*accStride+t:], accStride)
			}
		}
	}
	return acc
}

// pack4 lays X (n×d) out as strips of 4 columns, each n rows × 4 contiguous
// (strip s starts at s·4·n), zero-padding the last strip.
func pack4(dst, x []float64, ldx, n, d int) {
	full := d / 4 * 4
	for s := 0; s < full; s += 4 {
		strip := dst[s*n : s*n+4*n]
		for r := 0; r < n; r++ {
			src := x[r*ldx+s : r*ldx+s+4 : r*ldx+s+4]
			o := strip[4*r : 4*r+4 : 4*r+4]
			o[0], o[1], o[2], o[3] = src[0], src[1], src[2], src[3]
		}
	}
	if full < d {
		packTail(dst[full*n:], x, ldx, n, full, d, 4)
	}
}

// pack8 is pack4 with strips of 8 columns.
func pack8(dst, x []float64, ldx, n, d int) {
	full := d / 8 * 8
	for s := 0; s < full; s += 8 {
		strip := dst[s*n : s*n+8*n]
		for r := 0; r < n; r++ {
			src := x[r*ldx+s : r*ldx+s+8 : r*ldx+s+8]
			o := strip[8*r : 8*r+8 : 8*r+8]
			o[0], o[1], o[2], o[3] = src[0], src[1], src[2], src[3]
			o[4], o[5], o[6], o[7] = src[4], src[5], src[6], src[7]
		}
	}
	if full < d {
		packTail(dst[full*n:], x, ldx, n, full, d, 8)
	}
}

// packTail packs the last, partial strip of columns [c0, d).
func packTail(strip, x []float64, ldx, n, c0, d, width int) {
	for r := 0; r < n; r++ {
		o := strip[width*r : width*r+width]
		for q := range o {
			if c0+q < d {
				o[q] = x[r*ldx+c0+q]
			} else {
				o[q] = 0
			}
		}
	}
}

// kernelGo is the portable 4×8 kernel: c[r][q] += Σ_k a[k][r]·b[k][q].
func kernelGo(k int, a, b, c []float64, ldc int) {
	var acc [mr][nr]float64
	for p := 0; p < k; p++ {
		ar := a[p*mr : p*mr+mr : p*mr+mr]
		br := b[p*nr : p*nr+nr : p*nr+nr]
		for r := 0; r < mr; r++ {
			v := ar[r]
			acc[r][0] += v * br[0]
			acc[r][1] += v * br[1]
			acc[r][2] += v * br[2]
			acc[r][3] += v * br[3]
			acc[r][4] += v * br[4]
			acc[r][5] += v * br[5]
			acc[r][6] += v * br[6]
			acc[r][7] += v * br[7]
		}
	}
	for r := 0; r < mr; r++ {
		row := c[r*ldc : r*ldc+nr]
		for q := range row {
			row[q] += acc[r][q]
		}
	}
}
