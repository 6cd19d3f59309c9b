//go:build amd64 && !purego

package cpu

import "github.com/klauspost/cpuid/v2"

// secularAVX512 selects the AVX-512 loops of the secular kernels; tests
// clear it to run the Go ones on the same machine.
var secularAVX512 = cpuid.CPU.Supports(cpuid.AVX512F)

// The loops take whole chunks of eight (n a positive multiple of 8); the
// Go callers finish the rest, so no masked access reaches past a slice.

//go:noescape
func secularSumsAVX512(n int, delta, z *float64, base, tau, dw8 float64, w *[8]float64, acc *[32]float64)

//go:noescape
func secularVectorAVX512(n int, delta, zh, v *float64, base, tau float64, acc *[8]float64)
