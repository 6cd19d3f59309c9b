//go:build amd64 && !purego

package cpu

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

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

// The AVX-512 loops read and write the last partial chunk of 8 values
// through a mask, so its masked-off lanes address memory past the slice.
// The hardware suppresses faults there, but where those lanes fall on a page
// the process has never touched (the rest of a fresh heap span after a
// small buffer, say), every such access is a microcode assist of about a
// microsecond: the bulge chase at n = 12,288 took 15 s instead of 3.5 s
// whenever its 1 KB work buffer happened to end at a page boundary. So a
// partial chunk whose 64-byte window would cross a page runs on copies in
// an 8-value buffer on the stack instead. That is rare (7 of every 512
// positions), and exact: the lanes hold the same values and the loops sum
// the partial chunk apart from the rest.
const pageSize = 4096

// tailCrossesPage reports whether the masked last chunk of n values from p
// would reach across a page boundary.
func tailCrossesPage(p *float64, n int) bool {
	if n&7 == 0 {
		return false
	}
	t := uintptr(unsafe.Pointer(p)) + uintptr(8*(n&^7))
	return t%pageSize > pageSize-64
}

// The callers have checked the bounds (rows×cols within x, rows within v;
// equal lengths below).

// houseLeftAsm's columns are independent, so a partial chunk that would
// cross a page is done on a copy with rows of 8.
func houseLeftAsm(x []float64, ldx, rows, cols int, v []float64, tau float64) bool {
	if !houseAVX512 {
		return false
	}
	full, r := cols&^7, cols&7
	split := false
	for i := 0; r != 0 && i < rows && !split; i++ {
		split = tailCrossesPage(&x[i*ldx], cols)
	}
	if !split {
		houseLeftAVX512(&x[0], ldx, rows, cols, &v[0], tau)
		return true
	}
	if full > 0 {
		houseLeftAVX512(&x[0], ldx, rows, full, &v[0], tau)
	}
	t := make([]float64, 8*rows)
	clear(t) // fresh memory may be untouched; the masked lanes read it
	for i := range rows {
		copy(t[8*i:8*i+r], x[i*ldx+full:])
	}
	houseLeftAVX512(&t[0], 8, rows, r, &v[0], tau)
	for i := range rows {
		copy(x[i*ldx+full:i*ldx+cols], t[8*i:])
	}
	return true
}

func dot(x, y []float64) float64 {
	n := len(x)
	if !houseAVX512 || n == 0 {
		return dotGo(x, y)
	}
	_ = y[n-1]
	if !tailCrossesPage(&x[0], n) && !tailCrossesPage(&y[0], n) {
		return dotAVX512(n, &x[0], &y[0])
	}
	full := n &^ 7
	var xt, yt [8]float64
	copy(xt[:], x[full:])
	copy(yt[:], y[full:n])
	return dotAVX512(full, &x[0], &y[0]) + dotAVX512(n-full, &xt[0], &yt[0])
}

func axpy(a float64, x, y []float64) {
	n := len(x)
	if !houseAVX512 || n == 0 {
		axpyGo(a, x, y)
		return
	}
	_ = y[n-1]
	if !tailCrossesPage(&x[0], n) && !tailCrossesPage(&y[0], n) {
		axpyAVX512(n, a, &x[0], &y[0])
		return
	}
	full := n &^ 7
	var xt, yt [8]float64
	copy(xt[:], x[full:])
	copy(yt[:], y[full:n])
	axpyAVX512(full, a, &x[0], &y[0])
	axpyAVX512(n-full, a, &xt[0], &yt[0])
	copy(y[full:n], yt[:])
}

func dotAxpy(x, u, y []float64, a float64) float64 {
	n := len(x)
	if !houseAVX512 || n == 0 {
		s := dotGo(x, u)
		axpyGo(a, x, y)
		return s
	}
	_ = u[n-1]
	_ = y[n-1]
	if !tailCrossesPage(&x[0], n) && !tailCrossesPage(&u[0], n) && !tailCrossesPage(&y[0], n) {
		return dotAxpyAVX512(n, &x[0], &u[0], &y[0], a)
	}
	full := n &^ 7
	var xt, ut, yt [8]float64
	copy(xt[:], x[full:])
	copy(ut[:], u[full:n])
	copy(yt[:], y[full:n])
	s := dotAxpyAVX512(full, &x[0], &u[0], &y[0], a) + dotAxpyAVX512(n-full, &xt[0], &ut[0], &yt[0], a)
	copy(y[full:n], yt[:])
	return s
}

func axpy2(x, y []float64, a1 float64, u []float64, a2 float64) {
	n := len(x)
	if !houseAVX512 || n == 0 {
		axpyGo(a1, y, x)
		axpyGo(a2, u, x)
		return
	}
	_ = y[n-1]
	_ = u[n-1]
	if !tailCrossesPage(&x[0], n) && !tailCrossesPage(&y[0], n) && !tailCrossesPage(&u[0], n) {
		axpy2AVX512(n, &x[0], &y[0], a1, &u[0], a2)
		return
	}
	full := n &^ 7
	var xt, yt, ut [8]float64
	copy(xt[:], x[full:])
	copy(yt[:], y[full:n])
	copy(ut[:], u[full:n])
	axpy2AVX512(full, &x[0], &y[0], a1, &u[0], a2)
	axpy2AVX512(n-full, &xt[0], &yt[0], a1, &ut[0], a2)
	copy(x[full:], xt[:n-full])
}
