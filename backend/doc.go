// Package backend declares the numeric primitives the engine is built from and
// keeps the registry of their implementations.
//
// Every implementation (pure-Go gonum, OpenBLAS/LAPACKE through cgo, CUDA loaded
// at run time) lives in its own sub-package and registers a Factory under its
// name from an init function. The engine never names an implementation: it asks
// the registry, so a binary built without cgo or without a GPU still works and
// says why a backend is missing.
//
// Conventions shared by all implementations:
//   - matrices are row-major (blas64.General), samples are rows;
//   - eigenvalues are returned in DESCENDING order and eigenvectors are the
//     columns of the matrix that held the input, in the same order;
//   - Gram updates touch the upper triangle only (i ≤ j); callers symmetrise;
//   - three error channels: caller misuse panics with a message naming the
//     argument, numerical failure returns ErrNotConverged or
//     ErrNotPositiveDefinite, and a missing environment (library, device)
//     returns an error matching ErrUnavailable.
package backend
