//go:build !openblas

package openblas

const unavailableReason = "built without the openblas tag (make sets it when pkg-config finds OpenBLAS; install libopenblas-dev liblapacke-dev)"
