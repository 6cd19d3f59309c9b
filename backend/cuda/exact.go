package cuda

import (
	"fmt"

	"github.com/reconalign/reconalign/kernels"
)

// ExactU8Gram computes the Gram XᵀX of a row-major n × d uint8 chunk on the
// CPU with exactly the arithmetic of the ExactU8 mode on the GPU:
//
//   - z = x − 128 as int8, transposed to feature-major (kernel u8_to_i8_t);
//   - ZᵀZ with int8 products summed in int32, as cublasGemmEx with
//     CUBLAS_COMPUTE_32I does (two's-complement wrap-around included);
//   - G_ij = (ZᵀZ)_ij + 128(c_i + c_j) − 16384·n with the column sums c of X,
//     in int64 (kernels colsum_u8 and exact_finish).
//
// It returns the d × d row-major result with the upper triangle filled, like
// GramAdd into a zero matrix. The result equals the float64 Gram exactly; it
// refuses chunks over MaxExactRows rows, where the int32 sums could wrap.
func ExactU8Gram(x []uint8, n, d int) ([]float64, error) {
	if n > MaxExactRows {
		return nil, fmt.Errorf("cuda: an exact uint8 Gram sums at most %d rows in int32, got %d", MaxExactRows, n)
	}
	if len(x) != n*d {
		return nil, fmt.Errorf("cuda: ExactU8Gram of %d×%d given %d values", n, d, len(x))
	}
	return exactU8Gram(x, n, d), nil
}

// exactU8Gram is ExactU8Gram without the row bound: past it the int32 sums
// wrap exactly as on the GPU.
func exactU8Gram(x []uint8, n, d int) []float64 {
	kpad := int(roundUp(int64(n), exactRowAlign))
	dpad := int(roundUp(int64(d), exactColAlign))
	zt := make([]int8, dpad*kpad)
	kernels.U8ToI8TRef(zt, x, n, d, dpad, kpad)
	sums := make([]uint64, d)
	kernels.ColSumU8Ref(sums, x, n, d)
	gi := make([]int32, dpad*dpad) // column-major, as cuBLAS writes it
	for j := 0; j < dpad; j++ {
		zj := zt[j*kpad : (j+1)*kpad]
		for i := 0; i < dpad; i++ {
			zi := zt[i*kpad : (i+1)*kpad]
			var s int32
			for k := range zi {
				s += int32(zi[k]) * int32(zj[k]) // wraps like the tensor cores' int32 accumulator
			}
			gi[i+j*dpad] = s
		}
	}
	acc := make([]float64, d*d)
	kernels.ExactFinishRef(acc, gi, dpad, sums, nil, n, d)
	// The column-major lower triangle read row-major is the upper triangle.
	return acc
}
