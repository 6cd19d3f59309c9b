package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// naive is the reference: the full XᵀX by a triple loop.
func naive(n, d int, x []float64, ldx int) []float64 {
	g := make([]float64, d*d)
	for r := 0; r < n; r++ {
		row := x[r*ldx : r*ldx+d]
		for i, a := range row {
			for j, b := range row {
				g[i*d+j] += a * b
			}
		}
	}
	return g
}

func TestGramUpperMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, asm := range []bool{true, false} {
		if asm && !hasAVX2FMA {
			continue
		}
		saved := hasAVX2FMA
		hasAVX2FMA = asm
		for _, sz := range [][2]int{{1, 1}, {3, 5}, {257, 7}, {300, 129}, {513, 130}, {40, 260}} {
			n, d := sz[0], sz[1]
			ldx := d + 3 // padded stride
			x := make([]float64, n*ldx)
			for i := range x {
				x[i] = float64(rng.IntN(256)) // exact in any summation order
			}
			ldc := d + 2
			c := make([]float64, d*ldc)
			for i := range c {
				c[i] = -1 // sentinel: lower triangle and padding must stay
			}
			for _, workers := range []int{1, 3} {
				for i := range c {
					c[i] = -1
				}
				GramUpper(n, d, x, ldx, c, ldc, workers)
				want := naive(n, d, x, ldx)
				for i := 0; i < d; i++ {
					for j := 0; j < ldc; j++ {
						got := c[i*ldc+j]
						switch {
						case j >= d || j < i:
							if got != -1 {
								t.Fatalf("asm=%v %dx%d: entry (%d,%d) outside the upper triangle written: %g", asm, n, d, i, j, got)
							}
						case got != want[i*d+j]-1:
							t.Fatalf("asm=%v %dx%d workers=%d: (%d,%d) = %g, want %g", asm, n, d, workers, i, j, got, want[i*d+j]-1)
						}
					}
				}
			}
		}
		hasAVX2FMA = saved
	}
}

func BenchmarkGramUpper(b *testing.B) {
	for _, sz := range [][2]int{{4096, 784}, {4096, 2048}} {
		n, d := sz[0], sz[1]
		x := make([]float64, n*d)
		for i := range x {
			x[i] = float64(i % 251)
		}
		c := make([]float64, d*d)
		b.Run(fmt.Sprintf("n=%d/d=%d/%s", n, d, Kernel()), func(b *testing.B) {
			var g Gram
			for i := 0; i < b.N; i++ {
				g.GramUpper(n, d, x, d, c, d, 0)
			}
			b.ReportMetric(float64(n)*float64(d)*float64(d+1)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
