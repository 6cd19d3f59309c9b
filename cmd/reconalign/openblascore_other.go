//go:build !unix

package main

// useOpenBLASKernels cannot re-execute the process here; set
// OPENBLAS_CORETYPE by hand when OpenBLAS does not know the CPU, and
// OPENBLAS_THREAD_TIMEOUT (openblas.ThreadTimeout).
func useOpenBLASKernels() {}
