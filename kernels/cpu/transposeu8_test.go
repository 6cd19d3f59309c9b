package cpu

import (
	"math/rand/v2"
	"testing"
)

// Every block of columns, at tile edges and off them, with a padded row
// stride, on one worker and on more workers than tiles.
func TestTransposeU8(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sh := range []struct{ n, d, ld int }{{1, 1, 1}, {3, 200, 203}, {65, 129, 129}, {130, 64, 70}} {
		x := make([]uint8, (sh.n-1)*sh.ld+sh.d)
		for i := range x {
			x[i] = uint8(rng.IntN(256))
		}
		for _, cut := range [][2]int{{0, sh.d}, {sh.d / 3, sh.d}, {0, (sh.d + 1) / 2}} {
			f0, f1 := cut[0], cut[1]
			for _, workers := range []int{1, 5} {
				dst := make([]uint8, (f1-f0)*sh.n)
				TransposeU8(dst, x, sh.n, sh.ld, f0, f1, workers)
				for f := f0; f < f1; f++ {
					for i := 0; i < sh.n; i++ {
						if got, want := dst[(f-f0)*sh.n+i], x[i*sh.ld+f]; got != want {
							t.Fatalf("%d×%d (ld %d), columns %d..%d, %d workers: dst[%d][%d] = %d, want %d", sh.n, sh.d, sh.ld, f0, f1, workers, f-f0, i, got, want)
						}
					}
				}
			}
		}
	}
}

// transposeScalar is TransposeU8 a byte at a time, in the same tiles: the
// baseline the register blocks are measured against.
func transposeScalar(dst, x []uint8, n, ldx, f0, f1 int) {
	const tile = 64
	for g0 := f0; g0 < f1; g0 += tile {
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
}

// One block of the ImageNet-224 dual Gram (3,000 samples, 8,192 of their
// 150,528 features), on one core, against the byte-at-a-time transpose.
func BenchmarkTransposeU8(b *testing.B) {
	const n, d, fb = 3000, 150528, 8192
	x := make([]uint8, n*d)
	for i := range x {
		x[i] = uint8(i * 7)
	}
	dst := make([]uint8, fb*n)
	for _, scalar := range []bool{false, true} {
		name := map[bool]string{false: "blocks", true: "bytes"}[scalar]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(fb * n)
			for b.Loop() {
				if scalar {
					transposeScalar(dst, x, n, d, 4096, 4096+fb)
				} else {
					TransposeU8(dst, x, n, d, 4096, 4096+fb, 1)
				}
			}
		})
	}
}
