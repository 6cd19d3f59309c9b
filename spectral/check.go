package spectral

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"
)

// checkFinite reports the first NaN or Inf of a (its upper triangle only
// when upper is set) as an error naming the matrix, the entry and its shape:
// a non-finite entry would otherwise run the iterations to their limit or
// come back as a silent NaN curve.
func checkFinite(name string, a blas64.General, upper bool) error {
	for i := 0; i < a.Rows; i++ {
		j0 := 0
		if upper {
			j0 = i
		}
		for j, v := range a.Data[i*a.Stride+j0 : i*a.Stride+a.Cols] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("spectral: %s (%d×%d) has %v at (%d, %d); want finite values", name, a.Rows, a.Cols, v, i, j0+j)
			}
		}
	}
	return nil
}

// checkShape panics unless a is a valid rows×cols row-major matrix: a short
// stride or slice is caller misuse, which would otherwise read out of bounds.
func checkShape(op, name string, a blas64.General, rows, cols int) {
	if a.Rows != rows || a.Cols != cols {
		panic(fmt.Sprintf("spectral: %s needs %s of %d×%d, got %d×%d", op, name, rows, cols, a.Rows, a.Cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if a.Stride < cols {
		panic(fmt.Sprintf("spectral: %s: %s has stride %d < %d columns", op, name, a.Stride, cols))
	}
	if need := (rows-1)*a.Stride + cols; len(a.Data) < need {
		panic(fmt.Sprintf("spectral: %s: %s (%d×%d, stride %d) needs %d values, has %d", op, name, rows, cols, a.Stride, need, len(a.Data)))
	}
}
