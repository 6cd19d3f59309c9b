//go:build !amd64

package cpu

var hasAVX2FMA = false

func kernel(k int, a, b, c []float64, ldc int) { kernelGo(k, a, b, c, ldc) }

// Kernel names the micro-kernel in use, for backend descriptions.
func Kernel() string { return "go 4x8" }

var u8Path = u8Go

func kernelU8(kq int, a, b []uint32, p []int32, ldp int) {
	kernelU8Go(kq, a, b, p, ldp)
}

func packU8(kq int, x []uint8, ldx int, q, a []uint32, astrip int, sums []int32) {
	panic("cpu: no assembly packer on this architecture")
}

func rotAVX2(n int, x, y *float64, c, s float64) { panic("cpu: no assembly rotation here") }

func addBytesAVX2(n int, acc *int32, x *uint8) { panic("cpu: no assembly here") }

func rotSweep16AVX2(p *float64, ld, count int, cs, sn *float64) { panic("cpu: no assembly here") }
