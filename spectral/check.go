package spectral

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
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

// checkShape is backend.CheckGeneral for this package.
func checkShape(op, name string, a blas64.General, rows, cols int) {
	backend.CheckGeneral("spectral", op, name, a, rows, cols)
}
