//go:build !amd64 || purego

package cpu

// secularAVX512 is never set here: the Go loops do the work.
var secularAVX512 = false

func secularSumsAVX512(n int, delta, z *float64, base, tau, dw8 float64, w *[8]float64, acc *[32]float64) {
	panic("cpu: no AVX-512 secular loops in this build")
}

func secularVectorAVX512(n int, delta, zh, v *float64, base, tau float64, acc *[8]float64) {
	panic("cpu: no AVX-512 secular loops in this build")
}
