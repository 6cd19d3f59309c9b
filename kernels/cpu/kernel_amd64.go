package cpu

import "github.com/klauspost/cpuid/v2"

// hasAVX2FMA selects the assembly kernel; tests may clear it to exercise the
// portable one on the same machine.
var hasAVX2FMA = cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)

//go:noescape
func kernel4x8AVX2(k int, a, b, c *float64, ldc int)

func kernel(k int, a, b, c []float64, ldc int) {
	if hasAVX2FMA && k > 0 {
		_ = a[k*mr-1]
		_ = b[k*nr-1]
		_ = c[(mr-1)*ldc+nr-1]
		kernel4x8AVX2(k, &a[0], &b[0], &c[0], ldc)
		return
	}
	kernelGo(k, a, b, c, ldc)
}

// Kernel names the micro-kernel in use, for backend descriptions.
func Kernel() string {
	if hasAVX2FMA {
		return "avx2-fma 4x8"
	}
	return "go 4x8"
}
