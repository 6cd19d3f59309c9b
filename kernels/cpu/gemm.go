package cpu

import (
	"runtime"
	"sync"
)

// Gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices: op(a)
// is m×k (a itself is k×m when transA), op(b) is k×n (n×k when transB), c is
// m×n with row stride ldc. Both factors are packed once into the strips the
// micro-kernel reads, then c's tiles are computed by up to workers
// goroutines, each tile summing in a fixed order. With beta = 0, c is not
// read (NaNs in it do not propagate).
func (g *Gram) Gemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int, workers int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		Scale(c, ldc, m, n, beta)
		return
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pm := (m + mr - 1) / mr * mr
	pn := (n + nr - 1) / nr * nr
	if cap(g.a) < pm*k {
		g.a = make([]float64, pm*k)
	}
	if cap(g.b) < pn*k {
		g.b = make([]float64, pn*k)
	}
	ap, bp := g.a[:pm*k], g.b[:pn*k]
	// op(a)[i][p] is a[p][i] when transposed: its strips of mr columns are
	// contiguous in a's rows, as for the Gram; otherwise they are gathered.
	if transA {
		pack4(ap, a, lda, k, m)
	} else {
		packRows(ap, a, lda, m, k, mr)
	}
	if transB {
		packRows(bp, b, ldb, n, k, nr)
	} else {
		pack8(bp, b, ldb, k, n)
	}
	ti, tj := (m+tile-1)/tile, (n+tile-1)/tile
	jobs := make(chan [2]int, ti*tj)
	for i := 0; i < ti; i++ {
		for j := 0; j < tj; j++ {
			jobs <- [2]int{i, j}
		}
	}
	close(jobs)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, ti*tj); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := make([]float64, accRows*accStride)
			for jb := range jobs {
				i0, j0 := jb[0]*tile, jb[1]*tile
				i1, j1 := min(i0+tile, m), min(j0+tile, n)
				acc = accumulate(acc, ap, bp, k, i0, i1, j0, j1, false)
				for r := 0; r < i1-i0; r++ {
					row := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j1]
					src := acc[r*accStride : r*accStride+j1-j0]
					if beta == 0 {
						for q, v := range src {
							row[q] = alpha * v
						}
					} else {
						for q, v := range src {
							row[q] = alpha*v + beta*row[q]
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}

// Scale sets the m×n matrix c (row stride ldc) to beta·c with BLAS
// semantics: beta = 0 clears c, NaNs included. It is what a GEMM with
// nothing to multiply (k = 0 or alpha = 0) leaves.
func Scale(c []float64, ldc, m, n int, beta float64) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for q := range row {
			if beta == 0 {
				row[q] = 0
			} else {
				row[q] *= beta
			}
		}
	}
}

// packRows lays the rows of x (rows × k, row stride ldx) out as strips of
// `width` rows, transposed: dst[s·k + p·width + r] = x[s+r][p], zero-padding
// the last strip. It is the packing of a factor whose strips run across its
// storage rows.
func packRows(dst, x []float64, ldx, rows, k, width int) {
	for s := 0; s < rows; s += width {
		strip := dst[s*k : s*k+k*width]
		for r := 0; r < width; r++ {
			if s+r >= rows {
				for p := 0; p < k; p++ {
					strip[p*width+r] = 0
				}
				continue
			}
			src := x[(s+r)*ldx : (s+r)*ldx+k]
			for p, v := range src {
				strip[p*width+r] = v
			}
		}
	}
}
