//go:build !amd64 || purego

package cpu

// houseLeftAsm has no assembly here: the Go loop does the work.
func houseLeftAsm(x []float64, ldx, rows, cols int, v []float64, tau float64) bool { return false }
