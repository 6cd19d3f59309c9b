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

// hasVNNI selects the exact uint8 Gram's assembly kernel (AVX-512 VNNI).
var hasVNNI = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VNNI)

//go:noescape
func kernelU8VNNI(kq int, a, b *uint32, p *int32, ldp int)

func kernelU8(kq int, a, b []uint32, p []int32, ldp int) {
	if hasVNNI && kq > 0 {
		_ = a[kq*u8MR-1]
		_ = b[kq*u8NR-1]
		_ = p[(u8MR-1)*ldp+u8NR-1]
		kernelU8VNNI(kq, &a[0], &b[0], &p[0], ldp)
		return
	}
	kernelU8Go(kq, a, b, p, ldp)
}

//go:noescape
func packU8VNNI(kq int, x *uint8, ldx int, q, a *uint32, astrip int, sums *int32)

// packU8 packs sixteen columns of kq whole quads (see packU8VNNI).
func packU8(kq int, x []uint8, ldx int, q, a []uint32, astrip int, sums []int32) {
	_ = x[(4*kq-1)*ldx+15]
	_ = q[(kq-1)*u8NR+15]
	_ = a[astrip+(kq-1)*u8MR+7]
	_ = sums[15]
	packU8VNNI(kq, &x[0], ldx, &q[0], &a[0], astrip, &sums[0])
}

//go:noescape
func rotAVX2(n int, x, y *float64, c, s float64)
