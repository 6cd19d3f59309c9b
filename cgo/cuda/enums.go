package cuda

import "fmt"

// The enum values below are copied from NVIDIA's headers; a wrong value is a
// silent bug (a call that does something else), so each group names its source.
// "12.6" is the CUDA 12.6 toolkit headers, "13.0" CUDA 13.0's; the values are
// the same in both wherever both were checked.

// DataType is cudaDataType_t (library_types.h, 12.6; the same numbers appear in
// every binding of it, e.g. nvmath-python's cublasLt enums for 13.0).
type DataType int32

const (
	R32F  DataType = 0  // CUDA_R_32F
	R64F  DataType = 1  // CUDA_R_64F
	R16F  DataType = 2  // CUDA_R_16F
	R8I   DataType = 3  // CUDA_R_8I
	R8U   DataType = 8  // CUDA_R_8U
	R32I  DataType = 10 // CUDA_R_32I
	R16BF DataType = 14 // CUDA_R_16BF
)

// Operation is cublasOperation_t (cublas_api.h, 13.0).
type Operation int32

const (
	OpN Operation = 0 // CUBLAS_OP_N
	OpT Operation = 1 // CUBLAS_OP_T
	OpC Operation = 2 // CUBLAS_OP_C
)

// FillMode is cublasFillMode_t (cublas_api.h, 13.0).
type FillMode int32

const (
	Lower FillMode = 0 // CUBLAS_FILL_MODE_LOWER
	Upper FillMode = 1 // CUBLAS_FILL_MODE_UPPER
	Full  FillMode = 2 // CUBLAS_FILL_MODE_FULL
)

// DiagType is cublasDiagType_t (cublas_api.h, 13.0).
type DiagType int32

const (
	NonUnit DiagType = 0 // CUBLAS_DIAG_NON_UNIT
	Unit    DiagType = 1 // CUBLAS_DIAG_UNIT
)

// SideMode is cublasSideMode_t (cublas_api.h, 13.0).
type SideMode int32

const (
	Left  SideMode = 0 // CUBLAS_SIDE_LEFT
	Right SideMode = 1 // CUBLAS_SIDE_RIGHT
)

// Math is cublasMath_t (cublas_api.h, 13.0).
type Math int32

const (
	DefaultMath    Math = 0 // CUBLAS_DEFAULT_MATH
	PedanticMath   Math = 2 // CUBLAS_PEDANTIC_MATH
	TF32TensorMath Math = 3 // CUBLAS_TF32_TENSOR_OP_MATH
)

// ComputeType is cublasComputeType_t (cublas_api.h, 13.0).
type ComputeType int32

const (
	Compute16F         ComputeType = 64 // CUBLAS_COMPUTE_16F
	Compute32F         ComputeType = 68 // CUBLAS_COMPUTE_32F
	Compute32FPedantic ComputeType = 69 // CUBLAS_COMPUTE_32F_PEDANTIC
	Compute64F         ComputeType = 70 // CUBLAS_COMPUTE_64F
	Compute32I         ComputeType = 72 // CUBLAS_COMPUTE_32I
	Compute32FFast16BF ComputeType = 75 // CUBLAS_COMPUTE_32F_FAST_16BF
	Compute32FFastTF32 ComputeType = 77 // CUBLAS_COMPUTE_32F_FAST_TF32
)

// GemmDefault is CUBLAS_GEMM_DEFAULT (cublasGemmAlgo_t, cublas_api.h, 13.0).
const GemmDefault = -1

// EigMode is cusolverEigMode_t (cusolver_common.h, 12.6).
type EigMode int32

const (
	NoVectors EigMode = 0 // CUSOLVER_EIG_MODE_NOVECTOR
	Vectors   EigMode = 1 // CUSOLVER_EIG_MODE_VECTOR
)

// EigRange is cusolverEigRange_t (cusolver_common.h, 12.6).
type EigRange int32

const (
	RangeAll   EigRange = 1001 // CUSOLVER_EIG_RANGE_ALL
	RangeIndex EigRange = 1002 // CUSOLVER_EIG_RANGE_I
	RangeValue EigRange = 1003 // CUSOLVER_EIG_RANGE_V
)

// EigType is cusolverEigType_t (cusolver_common.h, 12.6).
type EigType int32

const (
	EigType1 EigType = 1 // CUSOLVER_EIG_TYPE_1: A·x = λ·B·x
)

// MemcpyKind is cudaMemcpyKind (driver_types.h, 12.6).
type MemcpyKind int32

const (
	HostToHost     MemcpyKind = 0 // cudaMemcpyHostToHost
	HostToDevice   MemcpyKind = 1 // cudaMemcpyHostToDevice
	DeviceToHost   MemcpyKind = 2 // cudaMemcpyDeviceToHost
	DeviceToDevice MemcpyKind = 3 // cudaMemcpyDeviceToDevice
)

// DeviceAttr is cudaDeviceAttr (driver_types.h, 12.6).
type DeviceAttr int32

const (
	AttrMultiProcessorCount    DeviceAttr = 16 // cudaDevAttrMultiProcessorCount
	AttrComputeCapabilityMajor DeviceAttr = 75 // cudaDevAttrComputeCapabilityMajor
	AttrComputeCapabilityMinor DeviceAttr = 76 // cudaDevAttrComputeCapabilityMinor
)

// cudaEventDisableTiming (driver_types.h, 12.6): events used only to order
// work are cheaper without timing.
const eventDisableTiming = 0x02

// cudaErrorMemoryAllocation (driver_types.h, 12.6).
const cudaErrorMemoryAllocation = 2

// cublasStatus_t (cublas_api.h, 13.0). cuBLAS has a name function too, but a
// table saves resolving one more symbol.
var cublasStatusNames = map[int]string{
	0: "CUBLAS_STATUS_SUCCESS", 1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
	7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
	13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR",
	15: "CUBLAS_STATUS_NOT_SUPPORTED", 16: "CUBLAS_STATUS_LICENSE_ERROR",
}

// cusolverStatus_t (cusolver_common.h, 12.6); cuSOLVER has no name function.
var cusolverStatusNames = map[int]string{
	0: "CUSOLVER_STATUS_SUCCESS", 1: "CUSOLVER_STATUS_NOT_INITIALIZED", 2: "CUSOLVER_STATUS_ALLOC_FAILED",
	3: "CUSOLVER_STATUS_INVALID_VALUE", 4: "CUSOLVER_STATUS_ARCH_MISMATCH", 5: "CUSOLVER_STATUS_MAPPING_ERROR",
	6: "CUSOLVER_STATUS_EXECUTION_FAILED", 7: "CUSOLVER_STATUS_INTERNAL_ERROR",
	8: "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED", 9: "CUSOLVER_STATUS_NOT_SUPPORTED",
	10: "CUSOLVER_STATUS_ZERO_PIVOT", 11: "CUSOLVER_STATUS_INVALID_LICENSE",
	31: "CUSOLVER_STATUS_INVALID_WORKSPACE",
}

const (
	cublasStatusAllocFailed   = 3
	cusolverStatusAllocFailed = 2
)

// Library says which CUDA library a status code came from.
type Library int

const (
	LibRuntime Library = iota
	LibBLAS
	LibSolver
	LibNVRTC
	LibDriver
)

func (l Library) String() string {
	switch l {
	case LibRuntime:
		return "CUDA runtime"
	case LibBLAS:
		return "cuBLAS"
	case LibSolver:
		return "cuSOLVER"
	case LibNVRTC:
		return "NVRTC"
	case LibDriver:
		return "CUDA driver"
	}
	return fmt.Sprintf("Library(%d)", int(l))
}

// Error is a failed call: which function, and the status it returned.
type Error struct {
	Call   string  // the C function, e.g. "cublasDsyrk_v2"
	Lib    Library // whose status code Code is
	Code   int
	Name   string // the status's name, e.g. "CUBLAS_STATUS_INVALID_VALUE"
	Detail string // the library's description, when it has one
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s failed: %s (%d)", e.Call, e.Name, e.Code)
	if e.Detail != "" && e.Detail != e.Name {
		s += ": " + e.Detail
	}
	return s
}

// OutOfMemory reports whether the call failed for lack of device memory.
func (e *Error) OutOfMemory() bool {
	switch e.Lib {
	case LibRuntime:
		return e.Code == cudaErrorMemoryAllocation
	case LibBLAS:
		return e.Code == cublasStatusAllocFailed
	case LibSolver:
		return e.Code == cusolverStatusAllocFailed
	case LibDriver:
		return e.Code == 2 // CUDA_ERROR_OUT_OF_MEMORY (cuda.h, 12.6)
	}
	return false
}

func statusName(table map[int]string, prefix string, code int) string {
	if s, ok := table[code]; ok {
		return s
	}
	return fmt.Sprintf("%s_%d", prefix, code)
}
