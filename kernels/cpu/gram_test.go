package cpu

import (
	"fmt"
	"math"
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

// withF64Paths runs f with every float64 kernel path this CPU can run: the
// assembly ones it has and the portable one.
func withF64Paths(t *testing.T, f func(t *testing.T)) {
	withPaths(t, &f64Path, []f64Kind{f64AVX512, f64AVX2, f64Go}, f)
}

func TestGramUpperMatchesNaive(t *testing.T) {
	withF64Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 1))
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
				checkUpperPlus(t, fmt.Sprintf("%dx%d workers=%d", n, d, workers), c, ldc, d, func(i, j int) float64 { return want[i*d+j] })
			}
		}
	})
}

// checkUpperPlus checks that c (d×d, row stride ldc), set to -1 before a
// Gram update, now holds want(i, j) − 1 exactly on and above the diagonal
// and still -1 everywhere else (lower triangle and padding).
func checkUpperPlus(t *testing.T, what string, c []float64, ldc, d int, want func(i, j int) float64) {
	t.Helper()
	for i := 0; i < d; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			switch {
			case j >= d || j < i:
				if got != -1 {
					t.Fatalf("%s: entry (%d,%d) outside the upper triangle written: %g", what, i, j, got)
				}
			case got != want(i, j)-1:
				t.Fatalf("%s: (%d,%d) = %.0f, want %.0f", what, i, j, got+1, want(i, j))
			}
		}
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

func TestGemmMatchesNaive(t *testing.T) {
	withF64Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2, 2))
		for _, sz := range [][3]int{{1, 1, 1}, {5, 3, 7}, {130, 9, 300}, {7, 257, 129}, {64, 64, 0}, {300, 140, 513}} {
			m, n, k := sz[0], sz[1], sz[2]
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					ar, ac := m, k
					if tA {
						ar, ac = k, m
					}
					br, bc := k, n
					if tB {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+2, bc+1, n+3
					a := make([]float64, max(ar*lda, 1))
					b := make([]float64, max(br*ldb, 1))
					for i := range a {
						a[i] = float64(rng.IntN(19) - 9)
					}
					for i := range b {
						b[i] = float64(rng.IntN(19) - 9)
					}
					c := make([]float64, m*ldc)
					for i := range c {
						c[i] = float64(i % 5)
					}
					want := append([]float64(nil), c...)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							s := 0.0
							for p := 0; p < k; p++ {
								var av, bv float64
								if tA {
									av = a[p*lda+i]
								} else {
									av = a[i*lda+p]
								}
								if tB {
									bv = b[j*ldb+p]
								} else {
									bv = b[p*ldb+j]
								}
								s += av * bv
							}
							want[i*ldc+j] = 2*s - 3*c[i*ldc+j]
						}
					}
					var g Gram
					g.Gemm(tA, tB, m, n, k, 2, a, lda, b, ldb, -3, c, ldc, 3)
					for i := range c {
						if c[i] != want[i] {
							t.Fatalf("%dx%dx%d tA=%v tB=%v: c[%d] = %g, want %g", m, n, k, tA, tB, i, c[i], want[i])
						}
					}
				}
			}
		}
	})
}

func TestRotMatchesScalar(t *testing.T) {
	withF64Paths(t, testRotMatchesScalar)
}

func testRotMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{0, 1, 3, 4, 5, 17, 64} {
		x, y := make([]float64, n), make([]float64, n)
		for k := range x {
			x[k], y[k] = rng.NormFloat64(), rng.NormFloat64()
		}
		c, s := 0.6, -0.8
		wx, wy := make([]float64, n), make([]float64, n)
		for k := range x {
			wx[k], wy[k] = c*x[k]-s*y[k], s*x[k]+c*y[k]
		}
		Rot(x, y, c, s)
		for k := range x {
			// FMA rounds once where the scalar code rounds twice.
			if math.Abs(x[k]-wx[k]) > 1e-15*(1+math.Abs(wx[k])) || math.Abs(y[k]-wy[k]) > 1e-15*(1+math.Abs(wy[k])) {
				t.Fatalf("n=%d k=%d: (%g, %g), want (%g, %g)", n, k, x[k], y[k], wx[k], wy[k])
			}
		}
	}
}

func TestRotSweepMatchesRot(t *testing.T) {
	withF64Paths(t, testRotSweepMatchesRot)
}

func testRotSweepMatchesRot(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const ld, rows = 45, 30
	for _, tc := range []struct{ lo, count, k0, k1 int }{{0, 29, 0, 45}, {3, 10, 5, 37}, {7, 1, 0, 16}, {2, 0, 0, 45}, {0, 5, 40, 45}} {
		z := make([]float64, rows*ld)
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		want := append([]float64(nil), z...)
		cs, sn := make([]float64, tc.count), make([]float64, tc.count)
		for i := range cs {
			th := rng.Float64() * 6.28
			cs[i], sn[i] = math.Cos(th), math.Sin(th)
		}
		for t := tc.count - 1; t >= 0; t-- {
			i := tc.lo + t
			for k := tc.k0; k < tc.k1; k++ {
				x, y := want[i*ld+k], want[(i+1)*ld+k]
				want[i*ld+k], want[(i+1)*ld+k] = cs[t]*x-sn[t]*y, sn[t]*x+cs[t]*y
			}
		}
		RotSweep(z, ld, tc.lo, tc.k0, tc.k1, cs, sn)
		for i := range z {
			if math.Abs(z[i]-want[i]) > 1e-14 {
				t.Fatalf("%+v: z[%d] = %g, want %g", tc, i, z[i], want[i])
			}
		}
	}
}
