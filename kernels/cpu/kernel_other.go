//go:build !amd64 || purego

package cpu

// The portable build (another architecture, or the purego tag): the same
// functions as kernel_amd64.go, in Go only.

var (
	f64Path = f64Go
	u8Path  = u8Go
)

func kernel(k int, a, b, c []float64, ldc int, pf []float64) { kernelGo(k, a, b, c, ldc) }

func rot(x, y []float64, c, s float64) { rotGo(x, y, c, s) }

func kernelInPlace(k int, a []float64, lda int, byRows bool, b, c []float64, ldc, cols int) {
	panic("cpu: no in-place kernel in this build")
}

func hasKernelInPlace() bool { return false }

func rotSweepStrips(z []float64, ld, lo, k0, k1 int, cs, sn []float64) int { return k0 }

func kernelU8(kq int, a, b []uint32, p []int32, ldp int) { kernelU8Go(kq, a, b, p, ldp) }

func packU8(kq int, x []uint8, ldx int, q, a []uint32, astrip int, sums []int32) {
	packU8Go(kq, x, ldx, q, a, astrip, sums)
}

func addBytes(acc []int32, x []uint8) { addBytesGo(acc, x) }
