package spectral

import (
	"fmt"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
)

// The symmetric-definite pencil A·v = λ·B·v reduced to standard form with
// B's Cholesky factor, B = UᵀU: C = U⁻ᵀ·A·U⁻¹ has the same eigenvalues and
// v = U⁻¹·z. The factorisation (n³/3 flops) and the three triangular solves
// (n³ each) are blocked so that nearly all of their work is GEMM through
// the Gemmer; only nb×nb diagonal blocks go through gonum's unblocked
// routines. (gonum's own Dpotrf and Dtrsm run at a few GFLOP/s: at
// n = 2,048 they took longer than the eigendecomposition itself.)

// pencilBlock is the block size of the factorisation and the solves: the
// diagonal blocks' unblocked work is nb/n of the total.
const pencilBlock = 128

// SymGenEig solves the symmetric-definite pencil a·v = λ·b·v (upper
// triangles read; b positive definite). On return a holds the
// b-orthonormal eigenvectors (vᵀ·b·v = I) as columns in descending order of
// the returned eigenvalues, and b holds its Cholesky factor U (upper, zero
// below). A b that is not positive definite returns an error matching
// backend.ErrNotPositiveDefinite.
func SymGenEig(g Gemmer, a, b blas64.General, workers int) ([]float64, error) {
	n := a.Rows
	checkShape("SymGenEig", "a", a, n, n)
	checkShape("SymGenEig", "b", b, n, n)
	if err := checkFinite("A", a, true); err != nil {
		return nil, err
	}
	if err := checkFinite("B", b, true); err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if err := Cholesky(g, b); err != nil {
		return nil, err
	}
	backend.Symmetrize(a)
	// C = U⁻ᵀ·A·U⁻¹ as U⁻ᵀ·(U⁻ᵀ·A)ᵀ, A being symmetric: two solves of the
	// same kind with a transpose between them.
	if err := solveUpper(g, b, a, true); err != nil {
		return nil, err
	}
	transposeSquare(a)
	if err := solveUpper(g, b, a, true); err != nil {
		return nil, err
	}
	w, err := Eigen(g, a, workers)
	if err != nil {
		return nil, err
	}
	if err := solveUpper(g, b, a, false); err != nil {
		return nil, err
	}
	return w, nil
}

// Cholesky factorises the symmetric positive definite a (upper triangle
// read) in place: on return its upper triangle holds U with a = Uᵀ·U and
// the strict lower triangle is zero. Left-looking by blocks of columns:
// block j takes the update from the blocks before it as two GEMMs, then
// the nb×nb diagonal block is factorised (gonum's Dpotrf) and the rest of
// the block row solved against it.
func Cholesky(g Gemmer, a blas64.General) error {
	n, s := a.Rows, a.Stride
	checkShape("Cholesky", "a", a, n, n)
	impl := lapackgonum.Implementation{}
	for j0 := 0; j0 < n; j0 += pencilBlock {
		j1 := min(j0+pencilBlock, n)
		w := j1 - j0
		// A[j, j:] −= U[:j, j]ᵀ·U[:j, j:]: the diagonal block and the rest of
		// the block row in one product (the diagonal block's lower half is
		// computed and discarded).
		if j0 > 0 {
			above := blas64.General{Rows: j0, Cols: w, Stride: s, Data: a.Data[j0:]}
			right := blas64.General{Rows: j0, Cols: n - j0, Stride: s, Data: a.Data[j0:]}
			row := blas64.General{Rows: w, Cols: n - j0, Stride: s, Data: a.Data[j0*s+j0:]}
			if err := g.Gemm(blas.Trans, blas.NoTrans, -1, above, right, 1, row); err != nil {
				return err
			}
		}
		if !impl.Dpotrf(blas.Upper, w, a.Data[j0*s+j0:], s) {
			return fmt.Errorf("spectral: Cholesky of %d×%d: pivot block %d…%d: %w", n, n, j0, j1-1, backend.ErrNotPositiveDefinite)
		}
		if j1 < n {
			// U[j, j1:] = U_jj⁻ᵀ·A[j, j1:].
			blas64.Trsm(blas.Left, blas.Trans, 1,
				blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: w, Stride: s, Data: a.Data[j0*s+j0:]},
				blas64.General{Rows: w, Cols: n - j1, Stride: s, Data: a.Data[j0*s+j1:]})
		}
	}
	for i := 1; i < n; i++ {
		clear(a.Data[i*s : i*s+i])
	}
	return nil
}

// solveUpper overwrites x (n×r) with U⁻ᵀ·x (trans) or U⁻¹·x, for the upper
// triangular n×n u. By blocks of rows: block i first takes the product of
// the already solved blocks with its part of u (one GEMM), then the nb×nb
// triangular solve.
func solveUpper(g Gemmer, u, x blas64.General, trans bool) error {
	n, r, s := u.Rows, x.Cols, u.Stride
	if r == 0 {
		return nil
	}
	nb := (n + pencilBlock - 1) / pencilBlock
	for bi := range nb {
		if !trans {
			bi = nb - 1 - bi // U·X = B: from the last block up
		}
		i0, i1 := bi*pencilBlock, min((bi+1)*pencilBlock, n)
		xi := rowsOf(x, i0, i1)
		switch {
		case trans && i0 > 0:
			// Uᵀ·X = B: X_i = U_iiᵀ⁻¹·(B_i − U[:i, i]ᵀ·X[:i]).
			col := blas64.General{Rows: i0, Cols: i1 - i0, Stride: s, Data: u.Data[i0:]}
			if err := g.Gemm(blas.Trans, blas.NoTrans, -1, col, rowsOf(x, 0, i0), 1, xi); err != nil {
				return err
			}
		case !trans && i1 < n:
			// U·X = B: X_i = U_ii⁻¹·(B_i − U[i, i1:]·X[i1:]).
			row := blas64.General{Rows: i1 - i0, Cols: n - i1, Stride: s, Data: u.Data[i0*s+i1:]}
			if err := g.Gemm(blas.NoTrans, blas.NoTrans, -1, row, rowsOf(x, i1, n), 1, xi); err != nil {
				return err
			}
		}
		tA := blas.NoTrans
		if trans {
			tA = blas.Trans
		}
		blas64.Trsm(blas.Left, tA, 1,
			blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: i1 - i0, Stride: s, Data: u.Data[i0*s+i0:]}, xi)
	}
	return nil
}
