package cpu

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// withAVX512 runs f with the AVX-512 loops that *flag selects (where the
// CPU has them) and with the Go ones.
func withAVX512(t *testing.T, flag *bool, f func(t *testing.T)) {
	saved := *flag
	defer func() { *flag = saved }()
	if saved {
		t.Run("avx512", f)
	} else {
		t.Log("avx512: not on this CPU (or a purego build)")
	}
	*flag = false
	t.Run("go", f)
}

// exactDot is Σ x_i·y_i rounded once, through math/big.
func exactDot(x, y []float64) float64 {
	s := new(big.Float).SetPrec(2048)
	for i := range x {
		p := new(big.Float).SetPrec(2048).SetFloat64(x[i])
		p.Mul(p, new(big.Float).SetFloat64(y[i]))
		s.Add(s, p)
	}
	f, _ := s.Float64()
	return f
}

// filled returns n normal values behind a guard region of NaN on each side,
// so a kernel that reads or writes outside [0, n) is caught.
func filled(rng *rand.Rand, n int) (all, inner []float64) {
	const guard = 9
	all = make([]float64, n+2*guard)
	for i := range all {
		all[i] = math.NaN()
	}
	inner = all[guard : guard+n : guard+n]
	for i := range inner {
		inner[i] = rng.NormFloat64()
	}
	return all, inner
}

func checkGuards(t *testing.T, what string, all []float64, n int) {
	t.Helper()
	for i, v := range all {
		if (i < 9 || i >= 9+n) && !math.IsNaN(v) {
			t.Fatalf("%s wrote outside its %d elements (index %d)", what, n, i-9)
		}
	}
}

var vectorLengths = []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 100}

func TestVectorLoops(t *testing.T) {
	withAVX512(t, &houseAVX512, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 1))
		for _, n := range vectorLengths {
			_, x := filled(rng, n)
			_, u := filled(rng, n)
			tol := 1e-15 * float64(n+1)
			if got, want := dot(x, u), exactDot(x, u); math.Abs(got-want) > tol*(1+math.Abs(want)) {
				t.Errorf("dot n=%d: %v, want %v", n, got, want)
			}
			ya, y := filled(rng, n)
			y0 := append([]float64(nil), y...)
			a := rng.NormFloat64()
			axpy(a, x, y)
			checkGuards(t, "axpy", ya, n)
			for i := range y {
				if want := y0[i] + a*x[i]; math.Abs(y[i]-want) > 1e-15*(1+math.Abs(want)) {
					t.Fatalf("axpy n=%d [%d]: %v, want %v", n, i, y[i], want)
				}
			}
			copy(y, y0)
			s := dotAxpy(x, u, y, a)
			checkGuards(t, "dotAxpy", ya, n)
			if want := exactDot(x, u); math.Abs(s-want) > tol*(1+math.Abs(want)) {
				t.Errorf("dotAxpy n=%d: dot %v, want %v", n, s, want)
			}
			for i := range y {
				if want := y0[i] + a*x[i]; math.Abs(y[i]-want) > 1e-15*(1+math.Abs(want)) {
					t.Fatalf("dotAxpy n=%d [%d]: %v, want %v", n, i, y[i], want)
				}
			}
			xa, xx := filled(rng, n)
			x0 := append([]float64(nil), xx...)
			a2 := rng.NormFloat64()
			axpy2(xx, y0, a, u, a2)
			checkGuards(t, "axpy2", xa, n)
			for i := range xx {
				want := x0[i] + a*y0[i] + a2*u[i]
				if math.Abs(xx[i]-want) > 4e-16*(math.Abs(x0[i])+math.Abs(a*y0[i])+math.Abs(a2*u[i])) {
					t.Fatalf("axpy2 n=%d [%d]: %v, want %v", n, i, xx[i], want)
				}
			}
		}
	})
}

// reflect is H·x for H = I − τ·u·uᵀ, u = (1, v[1:]), column by column with
// exact dot products: the reference for the kernels.
func reflectColumns(x []float64, ldx, rows, cols int, v []float64, tau float64) []float64 {
	u := append([]float64{1}, v[1:rows]...)
	out := make([]float64, rows*cols)
	col := make([]float64, rows)
	for j := 0; j < cols; j++ {
		for i := range col {
			col[i] = x[i*ldx+j]
		}
		w := exactDot(u, col)
		for i := range col {
			out[i*cols+j] = col[i] - tau*u[i]*w
		}
	}
	return out
}

func TestHouseLeftRight(t *testing.T) {
	withAVX512(t, &houseAVX512, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2, 2))
		for _, rows := range []int{1, 2, 3, 8, 33, 64} {
			for _, cols := range []int{1, 5, 8, 13, 32, 40, 64, 71} {
				t.Run(fmt.Sprintf("%dx%d", rows, cols), func(t *testing.T) {
					ldx := cols + 5
					xa, x := filled(rng, (rows-1)*ldx+cols)
					_, v := filled(rng, max(rows, cols))
					v[0] = math.NaN() // never read: the leading 1 is implied
					tau := 2 / (1 + exactDot(v[1:rows], v[1:rows]))
					want := reflectColumns(x, ldx, rows, cols, v, tau)
					pad := append([]float64(nil), x...)
					HouseLeft(x, ldx, rows, cols, v, tau, make([]float64, cols))
					checkGuards(t, "HouseLeft", xa, len(x))
					for i := 0; i < rows; i++ {
						for j := ldx * i; j < ldx*i+ldx && j < len(x); j++ {
							if j-ldx*i >= cols {
								if x[j] != pad[j] {
									t.Fatalf("HouseLeft wrote the stride padding at (%d, %d)", i, j-ldx*i)
								}
								continue
							}
							if d := math.Abs(x[j] - want[i*cols+j-ldx*i]); d > 1e-14*float64(rows) {
								t.Fatalf("HouseLeft (%d, %d): %v, want %v", i, j-ldx*i, x[j], want[i*cols+j-ldx*i])
							}
						}
					}
					// Right: x·H is (H·xᵀ)ᵀ; transpose, reflect, compare.
					xt := make([]float64, cols*rows)
					for i := 0; i < rows; i++ {
						for j := 0; j < cols; j++ {
							xt[j*rows+i] = x[i*ldx+j]
						}
					}
					tauR := 2 / (1 + exactDot(v[1:cols], v[1:cols]))
					wantR := reflectColumns(xt, rows, cols, rows, v, tauR)
					HouseRight(x, ldx, rows, cols, v, tauR)
					checkGuards(t, "HouseRight", xa, len(x))
					for i := 0; i < rows; i++ {
						for j := 0; j < cols; j++ {
							if d := math.Abs(x[i*ldx+j] - wantR[j*rows+i]); d > 1e-14*float64(cols) {
								t.Fatalf("HouseRight (%d, %d): %v, want %v", i, j, x[i*ldx+j], wantR[j*rows+i])
							}
						}
					}
				})
			}
		}
	})
}

func TestHouseSym(t *testing.T) {
	withAVX512(t, &houseAVX512, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 3))
		for _, n := range []int{1, 2, 3, 8, 9, 16, 17, 33, 64, 65} {
			ldc := n + 3
			ca, c := filled(rng, (n-1)*ldc+n)
			full := make([]float64, n*n)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					if j < i {
						c[i*ldc+j] = math.NaN() // lower triangle: never read
						continue
					}
					full[i*n+j], full[j*n+i] = c[i*ldc+j], c[i*ldc+j]
				}
			}
			_, v := filled(rng, n)
			tau := 2 / (1 + exactDot(v[1:], v[1:]))
			// H·C·H = H·(H·C)ᵀ since C and H are symmetric.
			hc := reflectColumns(full, n, n, n, v, tau)
			hct := make([]float64, n*n)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					hct[j*n+i] = hc[i*n+j]
				}
			}
			want := reflectColumns(hct, n, n, n, v, tau)
			HouseSym(c, ldc, n, v, tau, make([]float64, 2*n))
			checkGuards(t, "HouseSym", ca, len(c))
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					if j < i {
						if !math.IsNaN(c[i*ldc+j]) {
							t.Fatalf("n=%d: HouseSym wrote the lower triangle at (%d, %d)", n, i, j)
						}
						continue
					}
					if d := math.Abs(c[i*ldc+j] - want[i*n+j]); d > 1e-14*float64(n) {
						t.Fatalf("n=%d: HouseSym (%d, %d): %v, want %v", n, i, j, c[i*ldc+j], want[i*n+j])
					}
				}
			}
		}
	})
}
