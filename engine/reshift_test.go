package engine

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
)

// u8Data is n×d uint8 pixels whose columns drift with the row, so that the
// provisional mean of the first chunk depends on the chunk's size.
func u8Data(n, d, c int, seed uint64) ([]uint8, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]uint8, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			x[i*d+j] = uint8(min(255, rng.IntN(128)+(i*(j+1))%128))
		}
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(c)
	}
	return x, labels
}

func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s[%d] = %.17g, want %.17g bit for bit", what, i, got[i], want[i])
		}
	}
}

func sameStats(t *testing.T, what string, got, want *Stats) {
	t.Helper()
	sameBits(t, what+" Gx", got.Gx.Data, want.Gx.Data)
	sameBits(t, what+" M", got.M.Data, want.M.Data)
	sameBits(t, what+" Gy", got.Gy.Data, want.Gy.Data)
	sameBits(t, what+" MeanX", got.MeanX, want.MeanX)
	sameBits(t, what+" MeanY", got.MeanY, want.MeanY)
}

// Finalized integer moments depend on the data alone: not on the chunk size
// (which fixes the provisional shift), nor on how partial moments were
// split and merged. Before Finalize re-expressed them around the rounded
// mean of all the data, the centred Gram differed in its last bits.
func TestIntegerFinalizeIndependentOfChunking(t *testing.T) {
	n, d, c := 1037, 29, 4
	x, labels := u8Data(n, d, c, 5)
	src := memSource(t, backend.Chunk{N: n, D: d, U8: x}, labels)
	var want [2]*Stats
	var shifts [][]float64
	for _, rows := range []int{4096, 7, 300} {
		e := newEngine(t, rows)
		m, err := e.Moments(src)
		if err != nil {
			t.Fatal(err)
		}
		shifts = append(shifts, append([]float64(nil), m.Shift...))
		for ci, center := range []bool{false, true} {
			st, err := m.Finalize(center)
			if err != nil {
				t.Fatal(err)
			}
			if want[ci] == nil {
				want[ci] = st
				continue
			}
			sameStats(t, "chunk rows "+strconv.Itoa(rows), st, want[ci])
		}
	}
	if sameFloats(shifts[0], shifts[1]) {
		t.Fatal("the test data give every chunking the same provisional shift: the test proves nothing")
	}
	// Parts merged in two orders.
	be := gonum.New(0)
	cuts := []int{0, 1, 400, 401, n}
	part := func(i int) *Moments {
		m, _ := NewMoments(d, c)
		a, b := cuts[i], cuts[i+1]
		if err := m.Add(be, data.Batch{X: backend.Chunk{N: b - a, D: d, U8: x[a*d : b*d]}, Labels: labels[a:b]}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 1, 0, 2}} {
		total, _ := NewMoments(d, c)
		for _, i := range order {
			if err := total.Merge(part(i)); err != nil {
				t.Fatal(err)
			}
		}
		for ci, center := range []bool{false, true} {
			st, err := total.Finalize(center)
			if err != nil {
				t.Fatal(err)
			}
			sameStats(t, "merged", st, want[ci])
		}
	}
}

func sameFloats(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Reshift to the zero shift gives the raw sums, exactly as integer
// arithmetic computes them; an entry that would reach 2⁵³ is refused.
func TestReshiftToRawSums(t *testing.T) {
	n, d, c := 333, 13, 3
	x, labels := u8Data(n, d, c, 7)
	m, _ := NewMoments(d, c)
	if err := m.Add(gonum.New(0), data.Batch{X: backend.Chunk{N: n, D: d, U8: x}, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	if err := m.Reshift(make([]float64, d)); err != nil {
		t.Fatal(err)
	}
	if !m.Integer {
		t.Fatal("moving to the zero shift lost exactness")
	}
	for i := 0; i < d; i++ {
		var s int64
		for r := 0; r < n; r++ {
			s += int64(x[r*d+i])
		}
		if m.Sx[i] != float64(s) {
			t.Fatalf("Σx[%d] = %v, want %d", i, m.Sx[i], s)
		}
		for j := i; j < d; j++ {
			var g int64
			for r := 0; r < n; r++ {
				g += int64(x[r*d+i]) * int64(x[r*d+j])
			}
			if m.G.Data[i*d+j] != float64(g) {
				t.Fatalf("XᵀX[%d,%d] = %v, want %d", i, j, m.G.Data[i*d+j], g)
			}
		}
	}
	for k := 0; k < c; k++ {
		for j := 0; j < d; j++ {
			var s int64
			for r := 0; r < n; r++ {
				if labels[r] == k {
					s += int64(x[r*d+j])
				}
			}
			if m.M.Data[k*d+j] != float64(s) {
				t.Fatalf("YᵀX[%d,%d] = %v, want %d", k, j, m.M.Data[k*d+j], s)
			}
		}
	}
	// An entry near 2⁵³ cannot move.
	m.G.Data[0] = 1 << 52
	m.Sx[0] = 1 << 50
	shift := make([]float64, d)
	shift[0] = -8
	if err := m.Reshift(shift); err == nil || !strings.Contains(err.Error(), "2⁵³") {
		t.Fatalf("moving an entry past 2⁵³: %v", err)
	}
}
