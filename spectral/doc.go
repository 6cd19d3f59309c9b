// Package spectral computes all eigenvalues of a symmetric D×D matrix A
// together with the projections P = M·U of a few rows M (C×D) onto its
// eigenvectors, without ever forming U; and, from the same pieces, a full
// eigensolver at BLAS-3 speed for the pure-Go backend. The cubic work runs
// through a backend's GEMM (see Gemmer), the rest is pure Go with the
// vector kernels of kernels/cpu.
//
// Every closed form of this module that ends in a_j = (M·u_j)ᵀ·W·(M·u_j)/λ_j
// needs all eigenvalues but only P. A full U costs O(D³) more than that; P
// does not need it. The route (Project):
//
//  1. dense → band of half-bandwidth b by blocked Householder panels; the
//     two-sided trailing update, (4/3)·D³ flops, is GEMM-sized products
//     through the backend's Gemm (band.go);
//  2. band → tridiagonal by bulge chasing on a compact copy of the band,
//     with sweeps in flight on several cores (bulge.go);
//  3. both stages' reflectors applied to the carried block W (band.go,
//     bulge.go);
//  4. the tridiagonal eigenproblem with its rotations (implicit QL,
//     tridiag.go) or its merges (divide and conquer, dc*.go) applied to W.
//
// Layout convention: the carried block is W = Pᵀ, an n×R row-major matrix
// whose rows are indexed by the coordinate the current stage works in, so
// that every back-transform and every rotation acts on whole contiguous rows
// of length R. It starts as Mᵀ, becomes Q1ᵀMᵀ after the dense→band
// reflectors, Q2ᵀQ1ᵀMᵀ after the band→tridiagonal ones, and Zᵀ·Q2ᵀQ1ᵀMᵀ =
// (M·U)ᵀ after the tridiagonal solver.
//
// Eigen runs the same stages for the full eigendecomposition, U = Q1·Q2·Z,
// with the two back-transforms applied to Z.
//
// The tridiagonal stage has two solvers with the same shape: the implicit QL
// iteration and divide and conquer (dc*.go: Cuppen's tearing, deflation as
// LAPACK's dlaed2, the secular equation solved relative to its nearest pole
// and the eigenvectors rebuilt from Gu and Eisenstat's Löwner formula so
// that they stay orthogonal).
package spectral
