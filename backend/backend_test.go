package backend

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
)

// TestSymmetrize: every entry below the diagonal becomes its mirror above
// it, the upper triangle and the padding past Cols are left alone, for
// orders on both sides of the tile size and a stride wider than the
// matrix.
func TestSymmetrize(t *testing.T) {
	for _, n := range []int{0, 1, 2, 63, 64, 65, 130} {
		for _, pad := range []int{0, 3} {
			t.Run(fmt.Sprintf("n=%d/pad=%d", n, pad), func(t *testing.T) {
				s := n + pad
				a := blas64.General{Rows: n, Cols: n, Stride: s, Data: make([]float64, n*s)}
				for i := range a.Data {
					a.Data[i] = float64(i)
				}
				Symmetrize(a)
				for i := 0; i < n; i++ {
					for j := 0; j < s; j++ {
						want := float64(i*s + j) // upper triangle and padding untouched
						if j < i {
							want = float64(j*s + i)
						}
						if got := a.Data[i*s+j]; got != want {
							t.Fatalf("a[%d][%d] = %g, want %g", i, j, got, want)
						}
					}
				}
			})
		}
	}
}
