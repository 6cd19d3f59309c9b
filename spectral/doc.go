// Package spectral computes the eigenvalues of symmetric matrices together
// with projections onto their eigenvectors, and full eigendecompositions,
// from backend primitives: the cubic work runs through a backend's GEMM
// (see Gemmer), the rest is pure Go.
//
// The tridiagonal stage has two solvers with the same shape: the implicit QL
// iteration and divide and conquer (dc*.go: Cuppen's tearing, deflation as
// LAPACK's dlaed2, the secular equation solved relative to its nearest pole
// and the eigenvectors rebuilt from Gu and Eisenstat's Löwner formula so
// that they stay orthogonal).
package spectral
