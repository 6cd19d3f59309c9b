//go:build !amd64

package cpu

var hasAVX2FMA = false

func kernel(k int, a, b, c []float64, ldc int) { kernelGo(k, a, b, c, ldc) }

// Kernel names the micro-kernel in use, for backend descriptions.
func Kernel() string { return "go 4x8" }
