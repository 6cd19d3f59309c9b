// Package cpu holds the CPU micro-kernels of the engine's CPU backends, in
// plain Go and Go assembly (no cgo, so CGO_ENABLED=0 builds keep them),
// each selected at run time with cpuid beside a portable Go version:
//
//   - a packed, register-blocked float64 Gram (XᵀX) and GEMM whose 4×8
//     kernel uses AVX2/FMA: gonum's Dsyrk/Dgemm on row-major data run at a
//     few GFLOP/s a core, and the Gram is the one operation whose cost
//     grows with N;
//   - an exact uint8 Gram in integer arithmetic (AVX-512 VNNI: 64 byte
//     products per instruction, eight times a float64 FMA's), used by both
//     CPU backends for pixel data: it is faster than OpenBLAS's float64
//     Dsyrk and has no rounding at all (gramu8.go explains the bounds).
package cpu
