//go:build amd64 && !purego && linux

package cpu

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// pageEnd maps 17 pages, the last one inaccessible, and returns the
// values of the first 16: a slice that ends at pageEnd's end is followed
// by a page no access may touch, the case in which a masked tail must not
// run in place (house_amd64.go).
func pageEnd(t testing.TB) []float64 {
	t.Helper()
	const pages = 16
	mem, err := syscall.Mmap(-1, 0, (pages+1)*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	if err := syscall.Mprotect(mem[pages*pageSize:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	return unsafe.Slice((*float64)(unsafe.Pointer(&mem[0])), pages*pageSize/8)
}

func TestTailCrossesPage(t *testing.T) {
	p := pageEnd(t)
	p = p[len(p)-512:] // the last page before the inaccessible one
	for _, c := range []struct {
		start, n int
		want     bool
	}{
		{512 - 8, 8, false}, // no partial chunk
		{512 - 7, 7, true},  // the partial chunk's window runs 8 values past the page
		{512 - 15, 15, true},
		{512 - 9, 9, true},   // one value left: its window runs 7 values past
		{512 - 16, 9, false}, // the window ends exactly at the page
		{512 - 12, 4, false},
		{512 - 3, 3, true},
		{0, 3, false},
	} {
		if got := tailCrossesPage(&p[c.start], c.n); got != c.want {
			t.Errorf("start %d, n %d: %v, want %v", c.start, c.n, got, c.want)
		}
	}
}

// At the end of a page, before an inaccessible one, the vector loops give
// bit for bit what they give elsewhere: the partial chunk runs on copies
// holding the same lanes.
func TestVectorLoopsAtPageEnd(t *testing.T) {
	if !houseAVX512 {
		t.Skip("no AVX-512 loops on this CPU")
	}
	p := pageEnd(t)
	rng := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{1, 5, 7, 9, 15, 17, 31, 33, 63} {
		for _, which := range []int{0, 1, 2} { // the operand placed at the page end
			ref := [3][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
			for _, r := range ref {
				for i := range r {
					r[i] = rng.NormFloat64()
				}
			}
			place := func() [3][]float64 {
				var o [3][]float64
				for k := range o {
					o[k] = append([]float64(nil), ref[k]...)
				}
				o[which] = p[len(p)-n:]
				copy(o[which], ref[which])
				return o
			}
			a, a2 := rng.NormFloat64(), rng.NormFloat64()
			// The reference lies wherever the heap put it; its tails are
			// checked to run in place.
			in := [3][]float64{append([]float64(nil), ref[0]...), append([]float64(nil), ref[1]...), append([]float64(nil), ref[2]...)}
			o := place()
			if got, want := dot(o[0], o[1]), dot(in[0], in[1]); got != want {
				t.Errorf("dot n=%d at page end (operand %d): %v, want %v", n, which, got, want)
			}
			axpy(a, o[0], o[1])
			axpy(a, in[0], in[1])
			same(t, "axpy", n, which, o[1], in[1])
			o, in = place(), [3][]float64{append([]float64(nil), ref[0]...), append([]float64(nil), ref[1]...), append([]float64(nil), ref[2]...)}
			if got, want := dotAxpy(o[0], o[1], o[2], a), dotAxpy(in[0], in[1], in[2], a); got != want {
				t.Errorf("dotAxpy n=%d at page end (operand %d): %v, want %v", n, which, got, want)
			}
			same(t, "dotAxpy", n, which, o[2], in[2])
			o, in = place(), [3][]float64{append([]float64(nil), ref[0]...), append([]float64(nil), ref[1]...), append([]float64(nil), ref[2]...)}
			axpy2(o[0], o[1], a, o[2], a2)
			axpy2(in[0], in[1], a, in[2], a2)
			same(t, "axpy2", n, which, o[0], in[0])
		}
	}
}

func same(t *testing.T, what string, n, which int, got, want []float64) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s n=%d at page end (operand %d) [%d]: %v, want %v", what, n, which, i, got[i], want[i])
		}
	}
}

// HouseLeft on a block whose last row ends at the page (slow there, but
// right), and HouseSym with its work buffer there (the bulge chase's case,
// through the guarded loops), match the same calls elsewhere bit for bit.
func TestHouseKernelsAtPageEnd(t *testing.T) {
	if !houseAVX512 {
		t.Skip("no AVX-512 loops on this CPU")
	}
	p := pageEnd(t)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{3, 9, 17, 33, 64} {
		rows, cols, ldx := n, n+(n%8+1)%8, n+11
		size := (rows-1)*ldx + cols
		x := make([]float64, size)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		v := make([]float64, rows)
		for i := range v {
			v[i] = rng.NormFloat64() / math.Sqrt(float64(rows))
		}
		tau := 2 / (1 + dot(v[1:], v[1:]))
		xp := p[len(p)-size:]
		copy(xp, x)
		HouseLeft(x, ldx, rows, cols, v, tau, make([]float64, cols))
		HouseLeft(xp, ldx, rows, cols, v, tau, make([]float64, cols))
		same(t, "HouseLeft", n, 0, xp, x)

		ldc := n + 5
		c := make([]float64, (n-1)*ldc+n)
		for i := range c {
			c[i] = rng.NormFloat64()
		}
		c2 := append([]float64(nil), c...)
		HouseSym(c, ldc, n, v[:n], tau, make([]float64, 2*n))
		HouseSym(c2, ldc, n, v[:n], tau, p[len(p)-2*n:])
		same(t, "HouseSym", n, 2, c2, c)
	}
}

// BenchmarkHouseSymPageEnd is HouseSym at b = 64 with its work buffer at
// the end of a page before an inaccessible one, against one in the middle
// of a page and one from HouseSymWork. With the masked tails run in place
// the first took about five times as long; on copies, about twice.
func BenchmarkHouseSymPageEnd(b *testing.B) {
	p := pageEnd(b)
	const n, ldc = 64, 136
	rng := rand.New(rand.NewPCG(6, 6))
	c := make([]float64, n*ldc)
	for i := range c {
		c[i] = rng.NormFloat64()
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64() / 8
	}
	tau := 2 / (1 + dot(v[1:], v[1:]))
	for _, bc := range []struct {
		name string
		work []float64
	}{{"page-end", p[len(p)-2*n:]}, {"mid-page", p[256 : 256+2*n]}, {"HouseSymWork", HouseSymWork(n)}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				// H·C·H twice is C again, up to rounding: the values stay put.
				HouseSym(c, ldc, n, v, tau, bc.work)
			}
		})
	}
}

// HouseRight's rows in one call give, bit for bit, what they give one by
// one through dot and axpy (the way taken when a row's partial chunk would
// cross a page).
func TestHouseRightOneCallMatchesRows(t *testing.T) {
	if !houseAVX512 {
		t.Skip("no AVX-512 loops on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, rows := range []int{1, 2, 7, 63, 64} {
		for _, cols := range []int{1, 2, 8, 9, 33, 63, 64, 65, 100} {
			ldx := cols + 3
			x := make([]float64, (rows-1)*ldx+cols)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			v := make([]float64, cols)
			for i := range v {
				v[i] = rng.NormFloat64() / math.Sqrt(float64(cols))
			}
			tau := 2 / (1 + dotGo(v[1:], v[1:]))
			one := append([]float64(nil), x...)
			houseRightAVX512(&one[0], ldx, rows, cols, &v[0], tau)
			houseRightRows(x, ldx, rows, cols, v, tau)
			for i := range x {
				if math.Float64bits(x[i]) != math.Float64bits(one[i]) {
					t.Fatalf("rows=%d cols=%d: [%d] one call %v, row by row %v", rows, cols, i, one[i], x[i])
				}
			}
		}
	}
}

// HouseSym's loops in one call give, bit for bit, what the loops through
// dotAxpy, dot, axpy and axpy2 give (the way taken near a page boundary).
func TestHouseSymOneCallMatchesLoops(t *testing.T) {
	if !houseAVX512 {
		t.Skip("no AVX-512 loops on this CPU")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{1, 2, 3, 7, 8, 9, 16, 17, 33, 63, 64, 65, 100} {
		ldc := n + 5
		c := make([]float64, (n-1)*ldc+n)
		for i := range c {
			c[i] = rng.NormFloat64()
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64() / math.Sqrt(float64(n))
		}
		tau := 2 / (1 + dotGo(v[1:], v[1:]))
		setup := func() (u, y []float64) {
			w := make([]float64, 2*n)
			copy(w, v)
			w[0] = 1
			return w[:n], w[n:]
		}
		one := append([]float64(nil), c...)
		u1, y1 := setup()
		houseSymAVX512(&one[0], ldc, n, &u1[0], &y1[0], tau)
		u2, y2 := setup()
		houseSymLoops(c, ldc, n, u2, y2, tau)
		for i := range c {
			if math.Float64bits(c[i]) != math.Float64bits(one[i]) {
				t.Fatalf("n=%d: c[%d] one call %v, loops %v", n, i, one[i], c[i])
			}
		}
	}
}
