//go:build openblas && !cgo

package openblas

const unavailableReason = "built with the openblas tag but without cgo (CGO_ENABLED=0); OpenBLAS is reached through cgo"
