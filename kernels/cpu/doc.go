// Package cpu holds the CPU micro-kernels of the pure-Go backend: a packed,
// register-blocked Gram (XᵀX) update whose inner 4×8 kernel is written in
// amd64 assembly with AVX2/FMA, selected at run time with cpuid, and a
// portable Go kernel used everywhere else. It is plain Go and Go assembly (no
// cgo), so CGO_ENABLED=0 builds keep it.
//
// Why it exists: gonum's Dsyrk/Dgemm on row-major data run at a few GFLOP/s a
// core; the Gram is the one operation whose cost grows with N, so the pure-Go
// backend needs it near the machine's peak to stay usable at scale.
package cpu
