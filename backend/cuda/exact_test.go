package cuda

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/kernels"
)

// float64Gram is XᵀX computed directly in float64: exact for uint8 data.
func float64Gram(x []uint8, n, d int) []float64 {
	g := make([]float64, d*d)
	for r := 0; r < n; r++ {
		row := x[r*d : (r+1)*d]
		for i := 0; i < d; i++ {
			for j := i; j < d; j++ {
				g[i*d+j] += float64(row[i]) * float64(row[j])
			}
		}
	}
	return g
}

func equal(a, b []float64) (int, bool) {
	for i := range a {
		if a[i] != b[i] {
			return i, false
		}
	}
	return 0, true
}

// The shift-and-correct identity: int8 products of x − 128 summed in int32
// and corrected with the column sums give XᵀX exactly.
func TestExactU8GramIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, sh := range []struct{ n, d int }{{1, 1}, {3, 5}, {100, 37}, {1000, 9}} {
		x := make([]uint8, sh.n*sh.d)
		for i := range x {
			x[i] = uint8(r.IntN(256))
		}
		x[0], x[len(x)-1] = 0, 255 // both extremes
		got, err := ExactU8Gram(x, sh.n, sh.d)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := equal(got, float64Gram(x, sh.n, sh.d)); !ok {
			t.Errorf("n=%d d=%d: entry (%d, %d) = %v, want %v", sh.n, sh.d, i/sh.d, i%sh.d, got[i], float64Gram(x, sh.n, sh.d)[i])
		}
	}
}

// The int32 bound: all-zero pixels shift to −128, whose products are the
// largest (16,384). 131,071 rows still sum inside int32; 131,072 reach 2³¹
// and wrap, which is why chunks are split at MaxExactRows.
func TestExactU8GramInt32Bound(t *testing.T) {
	const d = 2
	zeros := make([]uint8, (MaxExactRows+1)*d)
	got, err := ExactU8Gram(zeros[:MaxExactRows*d], MaxExactRows, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := equal(got, make([]float64, d*d)); !ok {
		t.Errorf("Gram of %d zero rows = %v, want zeros", MaxExactRows, got)
	}
	if wrapped := exactU8Gram(zeros, MaxExactRows+1, d); wrapped[0] != -(1 << 32) {
		t.Errorf("one row more: entry (0, 0) = %v, want the int32 wrap-around −2³² (the bound is tight)", wrapped[0])
	}
	if _, err := ExactU8Gram(zeros, MaxExactRows+1, d); err == nil || !strings.Contains(err.Error(), "131071") {
		t.Errorf("ExactU8Gram over the bound: %v", err)
	}
	if _, err := ExactU8Gram(zeros[:5], 2, d); err == nil {
		t.Error("ExactU8Gram with a short slice succeeded")
	}
}

// bfloat16 holds every pixel value exactly, and float32 every product of two
// of them: the bf16 Gram of uint8 data only rounds in its float32 sums.
func TestBF16ExactForPixels(t *testing.T) {
	for a := 0; a < 256; a++ {
		fa := kernels.BF16Float(kernels.BF16Bits(float32(a)))
		if fa != float32(a) {
			t.Fatalf("%d is not exact in bfloat16 (%v)", a, fa)
		}
		for b := a; b < 256; b++ {
			if p := fa * kernels.BF16Float(kernels.BF16Bits(float32(b))); p != float32(a*b) {
				t.Fatalf("%d·%d in float32 = %v", a, b, p)
			}
		}
	}
	// A shifted pixel generally is not: 128.5 needs 9 significant bits.
	if v := kernels.BF16Float(kernels.BF16Bits(128.5)); v == 128.5 {
		t.Error("128.5 exact in bfloat16?")
	}
}
