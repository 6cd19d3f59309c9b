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

// GramUpper adds XᵀX into the upper triangle (i ≤ j) of the d×d matrix c
// (row stride ldc), where X is n×d row-major with row stride ldx. Only the
// upper triangle of c is written. The work is split into column tiles over up
// to workers goroutines (0: GOMAXPROCS); each tile of c is owned by one
// goroutine, so the result does not depend on the number of workers.
func GramUpper(n, d int, x []float64, ldx int, c []float64, ldc int, workers int) {
	if n == 0 || d == 0 {
		return
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
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
			ws := newWorkspace()
			for jb := range jobs {
				i0, j0 := jb.i*tile, jb.j*tile
				ws.tile(n, x, ldx, i0, min(i0+tile, d), j0, min(j0+tile, d), c, ldc)
			}
		}()
	}
	wg.Wait()
}

// workspace holds one goroutine's packed panels and its C scratch tile.
type workspace struct {
	a, b []float64 // packed: strips of mr (a) or nr (b) columns, kc rows each
	acc  []float64 // padded tile accumulator, row-major, stride accStride
}

const accStride = (tile + nr - 1) / nr * nr

func newWorkspace() *workspace {
	pa := (tile + mr - 1) / mr * mr
	pb := (tile + nr - 1) / nr * nr
	return &workspace{
		a:   make([]float64, kc*pa),
		b:   make([]float64, kc*pb),
		acc: make([]float64, pa*accStride),
	}
}

// tile adds X[:, i0:i1]ᵀ X[:, j0:j1] into c, keeping only entries with row ≤
// column (the diagonal tiles straddle the triangle's edge).
func (w *workspace) tile(n int, x []float64, ldx, i0, i1, j0, j1 int, c []float64, ldc int) {
	wi, wj := i1-i0, j1-j0
	pi := (wi + mr - 1) / mr * mr
	pj := (wj + nr - 1) / nr * nr
	acc := w.acc[:pi*accStride]
	for k := range acc {
		acc[k] = 0
	}
	for n0 := 0; n0 < n; n0 += kc {
		k := min(kc, n-n0)
		pack(w.a, x, ldx, n0, k, i0, wi, mr)
		pack(w.b, x, ldx, n0, k, j0, wj, nr)
		for s := 0; s < pi; s += mr {
			ap := w.a[s*k : s*k+k*mr]
			for t := 0; t < pj; t += nr {
				// Whole micro-tiles below the diagonal are never kept.
				if i0 == j0 && t+nr <= s {
					continue
				}
				kernel(k, ap, w.b[t*k:t*k+k*nr], acc[s*accStride+t:], accStride)
			}
		}
	}
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

// pack copies X[n0:n0+k, c0:c0+w] into dst as strips of `width` columns,
// each strip k rows × width contiguous, zero-padding the last strip.
func pack(dst, x []float64, ldx, n0, k, c0, w, width int) {
	for s := 0; s < w; s += width {
		strip := dst[s*k : s*k+k*width]
		cols := min(width, w-s)
		for r := 0; r < k; r++ {
			src := x[(n0+r)*ldx+c0+s : (n0+r)*ldx+c0+s+cols]
			d := strip[r*width : r*width+width]
			copy(d, src)
			for q := cols; q < width; q++ {
				d[q] = 0
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
