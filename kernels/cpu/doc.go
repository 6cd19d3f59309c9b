// Package cpu holds the CPU micro-kernels of the engine's CPU backends, in
// plain Go and Go assembly (no cgo, so CGO_ENABLED=0 builds keep them),
// each selected at run time with cpuid beside a portable Go version:
//
//   - one packed, register-blocked driver for the float64 products — GEMM,
//     the Gram XᵀX (SYRK) and the rank-2k update SYR2K — whose 8×24
//     micro-kernel uses AVX-512 (AVX2/FMA or Go where the CPU lacks it):
//     gonum's Dsyrk/Dgemm on row-major data run at a few GFLOP/s a core,
//     and the Gram is the one operation whose cost grows with N (gemm.go
//     explains the blocking);
//   - an exact uint8 Gram in integer arithmetic (AVX-512 VNNI: 64 byte
//     products per instruction, eight times a float64 FMA's), used by both
//     CPU backends for pixel data: it is faster than OpenBLAS's float64
//     Dsyrk and has no rounding at all (gramu8.go explains the bounds);
//   - the plane rotations of the QL eigensolver, the Householder
//     reflectors of the band → tridiagonal reduction, and the secular
//     equation's sums and eigenvectors in divide and conquer (secular.go).
//
// Build tags follow the standard library's: the assembly and the Go that
// declares and chooses it are built for amd64 without the purego tag
// (kernel_amd64.go and the *_amd64.s files); every other build takes
// kernel_other.go, the same functions in Go only. On amd64 the choice is
// made once from cpuid and kept in f64Path and u8Path, which the tests
// switch so that one machine runs every path it has.
package cpu
