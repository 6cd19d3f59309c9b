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
func houseRightAVX512(x *float64, ldx, rows, cols int, v *float64, tau float64)

//go:noescape
func houseSymAVX512(c *float64, ldc, n int, u, y *float64, tau float64)

//go:noescape
func dotAVX512(n int, x, y *float64) float64

//go:noescape
func axpyAVX512(n int, a float64, x, y *float64)

//go:noescape
func dotAxpyAVX512(n int, x, u, y *float64, a float64) float64

//go:noescape
func axpy2AVX512(n int, x, y *float64, a1 float64, u *float64, a2 float64)

// The AVX-512 loops read and write the last partial chunk of 8 values
// through a mask, so its masked-off lanes address up to 56 bytes past a
// slice (or a row of a block). The hardware suppresses faults there and
// changes nothing, but where those lanes fall on a page the process has
// never touched (the rest of a fresh heap span after a small buffer, say),
// every such access is a microcode assist of about a microsecond: the
// bulge chase at n = 12,288 took 15 s instead of 3.5 s whenever its 1 KB
// work buffer happened to end at a page boundary. Hence:
//   - the rows of the blocks the House kernels work on (and v) should lie
//     inside memory the caller has written, as the bulge chase's band and
//     reflectors do: only speed depends on it, never a result;
//   - HouseSym's work buffer should come from HouseSymWork, which keeps it
//     within one page; another one takes the loops below, and
//   - the vector loops themselves (dot, axpy, dotAxpy, axpy2) run a partial
//     chunk whose 64-byte window would cross a page on copies in an
//     8-value buffer on the stack. That is rare (7 of every 512 positions)
//     and exact: the lanes hold the same values and the loops sum the
//     partial chunk apart from the rest.
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

func houseLeftAsm(x []float64, ldx, rows, cols int, v []float64, tau float64) bool {
	if !houseAVX512 {
		return false
	}
	houseLeftAVX512(&x[0], ldx, rows, cols, &v[0], tau)
	return true
}

func houseRightAsm(x []float64, ldx, rows, cols int, v []float64, tau float64) bool {
	if !houseAVX512 {
		return false
	}
	houseRightAVX512(&x[0], ldx, rows, cols, &v[0], tau)
	return true
}

// houseSymAsm runs HouseSym's loops in one call when u and y (adjacent,
// y after u) lie on one page with room after them, as HouseSymWork
// places them; otherwise the loops through dotAxpy, dot, axpy and axpy2
// guard each partial chunk of the work buffer, for the same bits.
func houseSymAsm(c []float64, ldc, n int, u, y []float64, tau float64) bool {
	if !houseAVX512 {
		return false
	}
	w0 := uintptr(unsafe.Pointer(&u[0]))
	if &u[:n+1][n] != &y[0] || w0/pageSize != (w0+uintptr(16*n)+55)/pageSize {
		return false
	}
	houseSymAVX512(&c[0], ldc, n, &u[0], &y[0], tau)
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
