package cpu

import "runtime"

// TransposeU8 writes columns f0..f1 of the row-major uint8 matrix x (n
// rows, row stride ldx) into dst as rows: dst is (f1−f0)×n, row-major, so
// that row f of dst is feature f0+f of every sample. This is how the Gram
// of Xᵀ (the N×N dual Gram XXᵀ) is fed to the exact uint8 Gram, whose
// rows are summed over. Square tiles of 64×64 bytes keep both sides in L1;
// the features are split over up to workers goroutines (0: GOMAXPROCS).
func TransposeU8(dst, x []uint8, n, ldx, f0, f1, workers int) {
	const tile = 64
	if n == 0 || f1 <= f0 {
		return
	}
	_ = dst[(f1-f0)*n-1]
	_ = x[(n-1)*ldx+f1-1]
	tiles := (f1 - f0 + tile - 1) / tile
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, tiles))
	parallel(workers, func(w int) {
		for g := tiles * w / workers; g < tiles*(w+1)/workers; g++ {
			g0 := f0 + g*tile
			g1 := min(g0+tile, f1)
			for i0 := 0; i0 < n; i0 += tile {
				for i := i0; i < min(i0+tile, n); i++ {
					out := dst[(g0-f0)*n+i:]
					for j, v := range x[i*ldx+g0 : i*ldx+g1] {
						out[j*n] = v
					}
				}
			}
		}
	})
}
