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
