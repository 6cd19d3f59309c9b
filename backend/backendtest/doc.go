// Package backendtest is the conformance suite that every backend.Backend
// implementation runs, so that all of them are held to the same cases.
//
// Each implementation's test file is one line per entry point:
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, open) }
//	func BenchmarkBackend(b *testing.B) { backendtest.Bench(b, open) }
//
// The references are independent of every backend: naive float64 loops for
// the Gram and Gemm (exact for integer data), matrices built from a known
// spectrum (A = Q·diag(λ)·Qᵀ with a seeded random orthogonal Q) and closed
// forms for the eigensolvers, and residuals for the factorizations. Seeds are
// fixed and derived from the case name, so a failing case reproduces on its
// own.
//
// Tolerances scale with the unit roundoff of the arithmetic the backend
// declares in Info().Precision, so a float32 GPU Gram is held to float32
// error bounds and a float64 one to float64 bounds (integer Grams must then be
// exact). The bounds are worst-case rounding-error estimates with a constant
// safety factor: a wrong triangle, transpose, order or shift gives errors many
// orders of magnitude above them.
package backendtest
