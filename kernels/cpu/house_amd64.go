//go:build amd64 && !purego

package cpu

import "github.com/klauspost/cpuid/v2"

// houseAVX512 selects the AVX-512 loops of the Householder kernels; tests
// clear it to run the Go ones on the same machine.
var houseAVX512 = cpuid.CPU.Supports(cpuid.AVX512F)

//go:noescape
func houseLeftAVX512(x *float64, ldx, rows, cols int, v *float64, tau float64)

//go:noescape
func dotAVX512(n int, x, y *float64) float64

//go:noescape
func axpyAVX512(n int, a float64, x, y *float64)

//go:noescape
func dotAxpyAVX512(n int, x, u, y *float64, a float64) float64

//go:noescape
func axpy2AVX512(n int, x, y *float64, a1 float64, u *float64, a2 float64)

// The callers have checked the bounds (rows×cols within x, rows within v;
// equal lengths below).

func houseLeftAsm(x []float64, ldx, rows, cols int, v []float64, tau float64) bool {
	if !houseAVX512 {
		return false
	}
	houseLeftAVX512(&x[0], ldx, rows, cols, &v[0], tau)
	return true
}

func dot(x, y []float64) float64 {
	if houseAVX512 && len(x) > 0 {
		_ = y[len(x)-1]
		return dotAVX512(len(x), &x[0], &y[0])
	}
	return dotGo(x, y)
}

func axpy(a float64, x, y []float64) {
	if houseAVX512 && len(x) > 0 {
		_ = y[len(x)-1]
		axpyAVX512(len(x), a, &x[0], &y[0])
		return
	}
	axpyGo(a, x, y)
}

func dotAxpy(x, u, y []float64, a float64) float64 {
	if houseAVX512 && len(x) > 0 {
		_ = u[len(x)-1]
		_ = y[len(x)-1]
		return dotAxpyAVX512(len(x), &x[0], &u[0], &y[0], a)
	}
	s := dotGo(x, u)
	axpyGo(a, x, y)
	return s
}

func axpy2(x, y []float64, a1 float64, u []float64, a2 float64) {
	if houseAVX512 && len(x) > 0 {
		_ = y[len(x)-1]
		_ = u[len(x)-1]
		axpy2AVX512(len(x), &x[0], &y[0], a1, &u[0], a2)
		return
	}
	axpyGo(a1, y, x)
	axpyGo(a2, u, x)
}
