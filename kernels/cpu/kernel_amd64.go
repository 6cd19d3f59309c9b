//go:build amd64 && !purego

package cpu

import "github.com/klauspost/cpuid/v2"

// The assembly of this package and the functions that choose between it
// and the portable Go beside it. Builds for other architectures, or with
// the purego tag, take kernel_other.go instead: the same functions, Go
// only. The choice is made at run time from cpuid and kept in f64Path and
// u8Path, which tests switch to run every path this CPU has.

// f64Path selects the float64 kernels: AVX-512 where the CPU (and OS) has
// it, else AVX2/FMA, else Go.
var f64Path = func() f64Kind {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3):
		return f64AVX512
	case cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3):
		return f64AVX2
	}
	return f64Go
}()

//go:noescape
func kernel8x24AVX512(k int, a, b, c *float64, ldc int, pf *float64)

//go:noescape
func kernel8x24StepAVX512(k int, a *float64, lda int, b, c *float64, ldc int)

//go:noescape
func kernel8x24RowsAVX512(k int, a *float64, lda int, b, c *float64, ldc int)

//go:noescape
func kernel8x16StepAVX512(k int, a *float64, lda int, b, c *float64, ldc int)

//go:noescape
func kernel8x16RowsAVX512(k int, a *float64, lda int, b, c *float64, ldc int)

//go:noescape
func kernel4x8AVX2(k int, a, b, c *float64, ldc int)

// kernel adds the mr×nr product of k steps of the packed strips a and b
// into c (row stride ldc): c[r][q] += Σ_p a[p·mr+r]·b[p·nr+q]. The AVX-512
// kernel also fetches 2k values from pf on (or a, when pf is empty) into
// L2 (see accumulate).
func kernel(k int, a, b, c []float64, ldc int, pf []float64) {
	if f64Path == f64Go || k == 0 {
		kernelGo(k, a, b, c, ldc)
		return
	}
	_ = a[k*mr-1]
	_ = b[k*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	if f64Path == f64AVX512 {
		if len(pf) == 0 {
			pf = a
		}
		kernel8x24AVX512(k, &a[0], &b[0], &c[0], ldc, &pf[0])
		return
	}
	// Each 8-column third of b is one cache line a step: with the thirds
	// outermost a call pair reads 16 KB, which fits the 32 KB L1 of most
	// AVX2-only CPUs.
	for t := 0; t < nr; t += 8 {
		for h := 0; h < mr; h += 4 {
			kernel4x8AVX2(k, &a[h], &b[t], &c[h*ldc+t], ldc)
		}
	}
}

// kernelInPlace is kernel with the left factor read where it lies, a
// row-major block of row stride lda: by rows (step p's values a[r·lda+p])
// or else by columns (a[p·lda+r]). Only the first cols ≤ nr columns of c
// need be right (the rest of b's strip is zero padding): from 16 down, the
// 16-column kernels. Only where hasKernelInPlace.
func kernelInPlace(k int, a []float64, lda int, byRows bool, b, c []float64, ldc, cols int) {
	if k == 0 {
		return
	}
	narrow := cols <= 16
	_ = b[k*nr-1]
	if narrow {
		_ = c[(mr-1)*ldc+15]
	} else {
		_ = c[(mr-1)*ldc+nr-1]
	}
	if byRows {
		_ = a[(mr-1)*lda+k-1]
		if narrow {
			kernel8x16RowsAVX512(k, &a[0], lda, &b[0], &c[0], ldc)
		} else {
			kernel8x24RowsAVX512(k, &a[0], lda, &b[0], &c[0], ldc)
		}
		return
	}
	_ = a[(k-1)*lda+mr-1]
	if narrow {
		kernel8x16StepAVX512(k, &a[0], lda, &b[0], &c[0], ldc)
	} else {
		kernel8x24StepAVX512(k, &a[0], lda, &b[0], &c[0], ldc)
	}
}

// hasKernelInPlace reports whether kernelInPlace may be called: the
// AVX-512 path has it, the others pack.
func hasKernelInPlace() bool { return f64Path == f64AVX512 }

//go:noescape
func rotAVX2(n int, x, y *float64, c, s float64)

// rot is Rot on vectors of equal length.
func rot(x, y []float64, c, s float64) {
	head := 0
	if f64Path != f64Go && len(x) >= 4 {
		head = len(x) &^ 3
		_ = y[head-1]
		rotAVX2(head, &x[0], &y[0], c, s)
	}
	rotGo(x[head:], y[head:], c, s)
}

//go:noescape
func rotSweep16AVX2(p *float64, ld, count int, cs, sn *float64)

// rotSweepStrips applies RotSweep's rotations to the whole 16-column strips
// of columns k0..k1 and returns the first column it left to the caller.
func rotSweepStrips(z []float64, ld, lo, k0, k1 int, cs, sn []float64) int {
	if f64Path == f64Go {
		return k0
	}
	count := len(cs)
	hi := lo + count
	k := k0
	for ; k+16 <= k1; k += 16 {
		_ = z[lo*ld+k]
		_ = z[hi*ld+k+15]
		rotSweep16AVX2(&z[hi*ld+k], ld, count, &cs[count-1], &sn[count-1])
	}
	return k
}

// u8Path selects the exact uint8 Gram's assembly: AVX-512 VNNI where the
// CPU has it, else AVX2.
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

// packU8 packs sixteen columns of kq whole quads (see packU8Go).
func packU8(kq int, x []uint8, ldx int, q, a []uint32, astrip int, sums []int32) {
	if u8Path == u8Go || kq == 0 {
		packU8Go(kq, x, ldx, q, a, astrip, sums)
		return
	}
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
func addBytesAVX2(n int, acc *int32, x *uint8)

// addBytes is AddBytes on slices of equal length.
func addBytes(acc []int32, x []uint8) {
	head := 0
	if u8Path != u8Go && len(x) >= 8 {
		head = len(x) &^ 7
		_ = acc[head-1]
		addBytesAVX2(head, &acc[0], &x[0])
	}
	addBytesGo(acc[head:], x[head:])
}
