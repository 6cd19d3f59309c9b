//go:build cgo && linux

package cuda

// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// All BLAS calls use cuBLAS's column-major convention: element (i, j) of an
// m × n matrix with leading dimension ld is at i + j·ld. Scalars (alpha, beta)
// are host values, read before the call returns (CUBLAS_POINTER_MODE_HOST,
// the default).

// Blas is a cublasHandle_t.
type Blas struct{ p unsafe.Pointer }

func blasErr(call string, st C.rc_status) error {
	if st == 0 {
		return nil
	}
	code := int(st)
	return &Error{Call: call, Lib: LibBLAS, Code: code, Name: statusName(cublasStatusNames, "CUBLAS_STATUS", code)}
}

// NewBlas is cublasCreate_v2, bound to the selected device.
func NewBlas() (Blas, error) {
	var p unsafe.Pointer
	err := blasErr("cublasCreate_v2", C.rc_cublasCreate_v2(&p))
	return Blas{p}, err
}

// Destroy is cublasDestroy_v2; the zero Blas is left alone.
func (h Blas) Destroy() error {
	if h.p == nil {
		return nil
	}
	return blasErr("cublasDestroy_v2", C.rc_cublasDestroy_v2(h.p))
}

// Version is cublasGetVersion_v2 (e.g. 130000 for 13.0.0).
func (h Blas) Version() (int, error) {
	var v C.int
	err := blasErr("cublasGetVersion_v2", C.rc_cublasGetVersion_v2(h.p, &v))
	return int(v), err
}

// SetStream is cublasSetStream_v2.
func (h Blas) SetStream(s Stream) error {
	return blasErr("cublasSetStream_v2", C.rc_cublasSetStream_v2(h.p, s.p))
}

// SetMathMode is cublasSetMathMode.
func (h Blas) SetMathMode(m Math) error {
	return blasErr("cublasSetMathMode", C.rc_cublasSetMathMode(h.p, C.int(m)))
}

// Dsyrk is cublasDsyrk_v2: c = alpha·op(a)·op(a)ᵀ + beta·c on the uplo
// triangle of the n × n matrix c; op(a) is n × k.
func (h Blas) Dsyrk(uplo FillMode, trans Operation, n, k int, alpha float64, a DevicePtr, lda int,
	beta float64, c DevicePtr, ldc int) error {
	al, be := C.double(alpha), C.double(beta)
	return blasErr("cublasDsyrk_v2", C.rc_cublasDsyrk_v2(h.p, C.int(uplo), C.int(trans), C.int(n), C.int(k),
		&al, (*C.double)(a.p), C.int(lda), &be, (*C.double)(c.p), C.int(ldc)))
}

// Dgemm is cublasDgemm_v2: c = alpha·op(a)·op(b) + beta·c, c is m × n.
func (h Blas) Dgemm(ta, tb Operation, m, n, k int, alpha float64, a DevicePtr, lda int, b DevicePtr, ldb int,
	beta float64, c DevicePtr, ldc int) error {
	al, be := C.double(alpha), C.double(beta)
	return blasErr("cublasDgemm_v2", C.rc_cublasDgemm_v2(h.p, C.int(ta), C.int(tb), C.int(m), C.int(n), C.int(k),
		&al, (*C.double)(a.p), C.int(lda), (*C.double)(b.p), C.int(ldb), &be, (*C.double)(c.p), C.int(ldc)))
}

// Dtrsm is cublasDtrsm_v2: solves op(a)·x = alpha·b (side Left) or
// x·op(a) = alpha·b (side Right) in place of the m × n matrix b.
func (h Blas) Dtrsm(side SideMode, uplo FillMode, trans Operation, diag DiagType, m, n int, alpha float64,
	a DevicePtr, lda int, b DevicePtr, ldb int) error {
	al := C.double(alpha)
	return blasErr("cublasDtrsm_v2", C.rc_cublasDtrsm_v2(h.p, C.int(side), C.int(uplo), C.int(trans), C.int(diag),
		C.int(m), C.int(n), &al, (*C.double)(a.p), C.int(lda), (*C.double)(b.p), C.int(ldb)))
}

// GemmEx is cublasGemmEx: c = alpha·op(a)·op(b) + beta·c with per-operand
// element types. alpha and beta are given as float64 and passed in the scale
// type the compute type implies: int32 for Compute32I (which cuBLAS accepts
// only with alpha, beta ∈ {0, 1}, 4-byte aligned operands and lda, ldb
// multiples of 4), float64 for Compute64F, float32 otherwise.
func (h Blas) GemmEx(ta, tb Operation, m, n, k int, alpha float64, a DevicePtr, atype DataType, lda int,
	b DevicePtr, btype DataType, ldb int, beta float64, c DevicePtr, ctype DataType, ldc int,
	compute ComputeType) error {
	var scalars [2]uint64 // alpha, beta in the scale type, in Go memory read during the call
	switch compute {
	case Compute32I:
		if (alpha != 0 && alpha != 1) || (beta != 0 && beta != 1) {
			return fmt.Errorf("cublasGemmEx with int32 compute needs alpha, beta in {0, 1}, got %v, %v", alpha, beta)
		}
		*(*int32)(unsafe.Pointer(&scalars[0])) = int32(alpha)
		*(*int32)(unsafe.Pointer(&scalars[1])) = int32(beta)
	case Compute64F:
		*(*float64)(unsafe.Pointer(&scalars[0])) = alpha
		*(*float64)(unsafe.Pointer(&scalars[1])) = beta
	default:
		*(*float32)(unsafe.Pointer(&scalars[0])) = float32(alpha)
		*(*float32)(unsafe.Pointer(&scalars[1])) = float32(beta)
	}
	return blasErr("cublasGemmEx", C.rc_cublasGemmEx(h.p, C.int(ta), C.int(tb), C.int(m), C.int(n), C.int(k),
		unsafe.Pointer(&scalars[0]), a.p, C.int(atype), C.int(lda), b.p, C.int(btype), C.int(ldb),
		unsafe.Pointer(&scalars[1]), c.p, C.int(ctype), C.int(ldc), C.int(compute), C.int(GemmDefault)))
}
