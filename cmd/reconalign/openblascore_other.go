//go:build !unix

package main

// useOpenBLASKernels cannot re-execute the process here; set
// OPENBLAS_CORETYPE by hand when OpenBLAS does not know the CPU.
func useOpenBLASKernels() {}
