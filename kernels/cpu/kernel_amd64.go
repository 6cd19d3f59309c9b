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

// u8Path selects the exact uint8 Gram's assembly: AVX-512 VNNI where the
// CPU has it, else AVX2; tests switch it to exercise each on one machine.
var u8Path = func() u8Kind {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VNNI):
		return u8VNNI
	case cpuid.CPU.Supports(cpuid.AVX2):
		return u8AVX2
	}
	return u8Go
}()

//go:noescape
func kernelU8VNNI(kq int, a, b *uint32, p *int32, ldp int)

//go:noescape
func kernelU8AVX2(kq int, a, b *uint32, p *int32, ldp int)

func kernelU8(kq int, a, b []uint32, p []int32, ldp int) {
	if u8Path == u8Go || kq == 0 {
		kernelU8Go(kq, a, b, p, ldp)
		return
	}
	_ = a[kq*u8MR-1]
	_ = b[kq*u8NR-1]
	_ = p[(u8MR-1)*ldp+u8NR-1]
	if u8Path == u8VNNI {
		kernelU8VNNI(kq, &a[0], &b[0], &p[0], ldp)
		return
	}
	// The AVX2 kernel covers 4×8 of the 8×48 tile per call.
	for h := 0; h < u8MR; h += 4 {
		for t := 0; t < u8NR; t += 8 {
			kernelU8AVX2(kq, &a[h], &b[t], &p[h*ldp+t], ldp)
		}
	}
}

//go:noescape
func packU8VNNI(kq int, x *uint8, ldx int, q, a *uint32, astrip int, sums *int32)

//go:noescape
func packU8AVX2(kq int, x *uint8, ldx int, q, a *uint32, astrip int, sums *int32)

// packU8 packs sixteen columns of kq whole quads (see packU8VNNI); only
// called when u8Path is not u8Go.
func packU8(kq int, x []uint8, ldx int, q, a []uint32, astrip int, sums []int32) {
	_ = x[(4*kq-1)*ldx+15]
	_ = q[(kq-1)*u8NR+15]
	_ = a[astrip+(kq-1)*u8MR+7]
	_ = sums[15]
	if u8Path == u8VNNI {
		packU8VNNI(kq, &x[0], ldx, &q[0], &a[0], astrip, &sums[0])
		return
	}
	packU8AVX2(kq, &x[0], ldx, &q[0], &a[0], astrip, &sums[0])
}

//go:noescape
func rotAVX2(n int, x, y *float64, c, s float64)

//go:noescape
func addBytesAVX2(n int, acc *int32, x *uint8)

//go:noescape
func rotSweep16AVX2(p *float64, ld, count int, cs, sn *float64)
