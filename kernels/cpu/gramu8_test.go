package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// naiveU8 is the reference: the shifted Gram by a triple loop in int64.
func naiveU8(n, d int, x []uint8, ldx int, shift []float64) []int64 {
	g := make([]int64, d*d)
	v := make([]int64, d)
	for r := 0; r < n; r++ {
		for j := range v {
			v[j] = int64(x[r*ldx+j])
			if shift != nil {
				v[j] -= int64(shift[j])
			}
		}
		for i, a := range v {
			for j, b := range v {
				g[i*d+j] += a * b
			}
		}
	}
	return g
}

// withU8Paths runs f with every inner-loop implementation of the uint8
// Gram this CPU can run: the assembly ones it has and the portable one.
func withU8Paths(t *testing.T, f func(t *testing.T)) {
	withPaths(t, &u8Path, []u8Kind{u8VNNI, u8AVX2, u8Go}, f)
}

// withPaths runs f as a subtest with *path set to each of kinds (best
// first) that is no better than what this CPU has, then restores it.
func withPaths[K interface {
	~int
	String() string
}](t *testing.T, path *K, kinds []K, f func(t *testing.T)) {
	saved := *path
	defer func() { *path = saved }()
	for _, k := range kinds {
		if k > saved {
			t.Logf("%v: not on this CPU", k)
			continue
		}
		*path = k
		t.Run(k.String(), f)
	}
}

func TestGramU8Exact(t *testing.T) {
	withU8Paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2, 3))
		var g GramU8 // reused across shapes: stale padding must not leak
		for _, sz := range [][2]int{{1, 1}, {3, 5}, {4, 48}, {257, 7}, {301, 49}, {513, 130}, {40, 260}, {4099, 97}} {
			n, d := sz[0], sz[1]
			ldx := d + 3
			x := make([]uint8, n*ldx)
			for i := range x {
				x[i] = uint8(rng.IntN(256))
			}
			for _, shifted := range []bool{false, true} {
				var shift []float64
				if shifted {
					shift = make([]float64, d)
					for j := range shift {
						shift[j] = float64(rng.IntN(300) - 20)
					}
				}
				want := naiveU8(n, d, x, ldx, shift)
				for _, workers := range []int{1, 2, 3} {
					ldc := d + 2
					c := make([]float64, d*ldc)
					for i := range c {
						c[i] = -1 // sentinel: lower triangle and padding must stay
					}
					g.AddUpper(n, d, x, ldx, shift, c, ldc, workers)
					checkUpperPlus(t, fmt.Sprintf("%dx%d shifted=%v workers=%d", n, d, shifted, workers), c, ldc, d, func(i, j int) float64 { return float64(want[i*d+j]) })
				}
			}
		}
	})
}

// TestGramU8Extremes drives the int32 lanes to their bound: columns of 0
// and 255 over more than one flush block, where a lane would overflow if
// a block were any longer.
func TestGramU8Extremes(t *testing.T) {
	withU8Paths(t, func(t *testing.T) {
		n, d := u8BlockRows+u8BlockRows/2+3, 3
		x := make([]uint8, n*d)
		for r := 0; r < n; r++ {
			x[r*d+0], x[r*d+1], x[r*d+2] = 0, 255, uint8(r)
		}
		c := make([]float64, d*d)
		var g GramU8
		g.AddUpper(n, d, x, d, nil, c, d, 2)
		want := naiveU8(n, d, x, d, nil)
		for i := 0; i < d; i++ {
			for j := i; j < d; j++ {
				if c[i*d+j] != float64(want[i*d+j]) {
					t.Fatalf("(%d,%d) = %.0f, want %d", i, j, c[i*d+j], want[i*d+j])
				}
			}
		}
	})
}

func TestIntegralShift(t *testing.T) {
	for _, tc := range []struct {
		s    []float64
		want bool
	}{{nil, true}, {[]float64{0, 3, -7}, true}, {[]float64{0.5}, false}, {[]float64{1 << 21}, false}} {
		if got := IntegralShift(tc.s); got != tc.want {
			t.Errorf("IntegralShift(%v) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func BenchmarkGramU8(b *testing.B) {
	saved := u8Path
	defer func() { u8Path = saved }()
	for _, sz := range [][2]int{{4096, 784}, {4096, 3072}} {
		n, d := sz[0], sz[1]
		x := make([]uint8, n*d)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range x {
			x[i] = uint8(rng.IntN(256))
		}
		c := make([]float64, d*d)
		for _, k := range []u8Kind{u8VNNI, u8AVX2} {
			if k > saved {
				continue
			}
			u8Path = k
			var g GramU8
			b.Run(fmt.Sprintf("%v/N=%d,D=%d", k, n, d), func(b *testing.B) {
				for b.Loop() {
					g.AddUpper(n, d, x, d, nil, c, d, 0)
				}
				// The float64 Gram's convention (BENCHMARKS.md): N·D·(D+1) flops.
				b.ReportMetric(float64(n)*float64(d)*float64(d+1)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func TestAddBytes(t *testing.T) {
	withU8Paths(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 784, 1000} {
			x := make([]uint8, n)
			acc := make([]int32, n)
			for j := range x {
				x[j] = uint8(j*37 + 11)
				acc[j] = int32(j) - 500
			}
			AddBytes(acc, x)
			AddBytes(acc, x)
			for j := range x {
				if want := int32(j) - 500 + 2*int32(x[j]); acc[j] != want {
					t.Fatalf("n=%d: acc[%d] = %d, want %d", n, j, acc[j], want)
				}
			}
		}
	})
}

// TestPackU8PathsAgree: the assembly packers and packU8Go write the same
// words and column sums.
func TestPackU8PathsAgree(t *testing.T) {
	const kq, ldx, astrip = 37, 21, 400
	rng := rand.New(rand.NewPCG(6, 6))
	x := make([]uint8, 4*kq*ldx)
	for i := range x {
		x[i] = uint8(rng.IntN(256))
	}
	type out struct {
		q, a []uint32
		sums []int32
	}
	var want *out
	withU8Paths(t, func(t *testing.T) {
		o := out{make([]uint32, kq*u8NR), make([]uint32, astrip+kq*u8MR), make([]int32, 16)}
		for i := range o.sums {
			o.sums[i] = int32(i) // sums accumulate
		}
		packU8(kq, x, ldx, o.q, o.a, astrip, o.sums)
		if want == nil {
			want = &o
			return
		}
		for i := range o.q {
			if o.q[i] != want.q[i] {
				t.Fatalf("q[%d] = %#x, first path %#x", i, o.q[i], want.q[i])
			}
		}
		for i := range o.a {
			if o.a[i] != want.a[i] {
				t.Fatalf("a[%d] = %#x, first path %#x", i, o.a[i], want.a[i])
			}
		}
		for i := range o.sums {
			if o.sums[i] != want.sums[i] {
				t.Fatalf("sums[%d] = %d, first path %d", i, o.sums[i], want.sums[i])
			}
		}
	})
}
