//go:build !amd64 || purego

package cpu

// houseAVX512 is never set here: the Go loops do the work.
var houseAVX512 = false

func houseLeftAsm(x []float64, ldx, rows, cols int, v []float64, tau float64) bool { return false }

func houseRightAsm(x []float64, ldx, rows, cols int, v []float64, tau float64) bool { return false }

func houseSymAsm(c []float64, ldc, n int, u, y []float64, tau float64) bool { return false }

func dot(x, y []float64) float64 { return dotGo(x, y) }

func axpy(a float64, x, y []float64) { axpyGo(a, x, y) }

func dotAxpy(x, u, y []float64, a float64) float64 {
	s := dotGo(x, u)
	axpyGo(a, x, y)
	return s
}

func axpy2(x, y []float64, a1 float64, u []float64, a2 float64) {
	axpyGo(a1, y, x)
	axpyGo(a2, u, x)
}
