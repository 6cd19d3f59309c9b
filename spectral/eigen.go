package spectral

import (
	"fmt"
	"runtime"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
)

// Eigen computes all eigenpairs of the symmetric n×n matrix a (upper
// triangle read): the eigenvalues are returned in descending order and the
// unit eigenvectors overwrite the columns of a, in the same order. g does
// the BLAS-3 work; workers bounds the goroutines of the rest. A non-finite
// entry of a is an error; non-convergence wraps backend.ErrNotConverged.
func Eigen(g Gemmer, a blas64.General, workers int) ([]float64, error) {
	n := a.Rows
	checkShape("Eigen", "a", a, n, n)
	if err := checkFinite("A", a, true); err != nil {
		return nil, err
	}
	if n == 0 {
		return []float64{}, nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if b := eigenBandwidth(n); b > 0 {
		return eigenTwoStage(g, a, b, workers)
	}
	return eigenOneStage(g, a, workers)
}

// Values computes all eigenvalues of the symmetric n×n matrix a (upper
// triangle read), in descending order; a is destroyed. It is Project's
// two-stage route with no rows to carry, so its cubic work is GEMM.
func Values(g Gemmer, a blas64.General, workers int) ([]float64, error) {
	n := a.Rows
	res, err := Project(g, a, blas64.General{Rows: 0, Cols: n, Stride: max(n, 1)}, Options{Workers: workers, Route: RouteTwoStageQL})
	if err != nil {
		return nil, err
	}
	return res.Values, nil
}

// EigenTop computes the k largest eigenpairs of the symmetric n×n matrix a
// (upper triangle read, a destroyed): values descending and an n×k matrix
// of unit eigenvectors as columns. Only those k columns of the tridiagonal
// eigenvectors go through the back-transforms.
func EigenTop(g Gemmer, a blas64.General, k, workers int) ([]float64, blas64.General, error) {
	n := a.Rows
	checkShape("EigenTop", "a", a, n, n)
	if k < 0 || k > n {
		panic(fmt.Sprintf("spectral: EigenTop k = %d outside [0, %d]", k, n))
	}
	if err := checkFinite("A", a, true); err != nil {
		return nil, blas64.General{}, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if b := eigenBandwidth(n); b > 0 {
		w, u, err := twoStageVectors(g, a, b, k, workers)
		if err != nil {
			return nil, blas64.General{}, err
		}
		return w[:k], u, nil
	}
	w, err := eigenOneStage(g, a, workers)
	if err != nil {
		return nil, blas64.General{}, err
	}
	return w[:k], backend.Columns(a, k), nil
}

// eigenTwoStage is Eigen's two-stage route: all n vectors, written to a.
func eigenTwoStage(g Gemmer, a blas64.General, b, workers int) ([]float64, error) {
	n := a.Rows
	w, u, err := twoStageVectors(g, a, b, n, workers)
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		copy(a.Data[i*a.Stride:i*a.Stride+n], u.Data[i*u.Stride:i*u.Stride+n])
	}
	return w, nil
}

// twoStageVectors reduces a to band form (its reflectors kept in a's lower
// triangle), chases the band to tridiagonal form, solves the tridiagonal
// problem with vectors Z by divide and conquer and back-transforms the k
// leading columns: U_k = Q1·(Q2·Z_k). It returns all n eigenvalues
// descending and U_k (n×k, columns descending).
func twoStageVectors(g Gemmer, a blas64.General, b, k, workers int) ([]float64, blas64.General, error) {
	n := a.Rows
	b = max(1, min(b, n-1))
	bd, err := reduceToBand(g, a, b, blas64.General{}, true)
	if err != nil {
		return nil, blas64.General{}, err
	}
	yieldCores(g)
	bg := newBulge(a, b)
	bg.run(workers)
	d, e := bg.tridiagonal()
	z, err := dcVectors(d, e, g, workers)
	if err != nil {
		return nil, blas64.General{}, err
	}
	// Columns in descending order: in place when all are kept.
	u := z
	if k < n {
		u = backend.NewGeneral(n, k)
	}
	for i := 0; i < n; i++ {
		row := z.Data[i*z.Stride : i*z.Stride+n]
		out := u.Data[i*u.Stride : i*u.Stride+k]
		if k == n {
			slices.Reverse(row)
			continue
		}
		for j := range out {
			out[j] = row[n-1-j]
		}
	}
	bg.applyQ2(u, false, workers)
	if err := bd.backQ1(g, a, u); err != nil {
		return nil, blas64.General{}, err
	}
	w := make([]float64, n)
	for j := range w {
		w[j] = d[n-1-j]
	}
	return w, u, nil
}

// eigenOneStage reduces a to tridiagonal form with gonum's Dsytrd, forms Q
// with Dorgtr and carries Qᵀ through the QL rotations: the rows become the
// eigenvectors, which are written to a's columns in descending order.
func eigenOneStage(g Gemmer, a blas64.General, workers int) ([]float64, error) {
	n := a.Rows
	impl := lapackgonum.Implementation{}
	d := make([]float64, n)
	e := make([]float64, max(n-1, 1))
	tau := make([]float64, max(n-1, 1))
	work := []float64{0}
	impl.Dsytrd(blas.Upper, n, a.Data, a.Stride, d, e[:n-1], tau, work, -1)
	lwork := int(work[0])
	impl.Dorgtr(blas.Upper, n, a.Data, a.Stride, tau, work, -1)
	lwork = max(lwork, int(work[0]), 1)
	work = make([]float64, lwork)
	impl.Dsytrd(blas.Upper, n, a.Data, a.Stride, d, e[:n-1], tau, work, lwork)
	impl.Dorgtr(blas.Upper, n, a.Data, a.Stride, tau, work, lwork)

	// Uᵀ starts as Qᵀ: row k holds the k-th column of Q.
	ut := transpose(a)
	if err := tridiagProject(d, e, ut, g, workers); err != nil {
		return nil, err
	}
	return descendingColumns(d, ut, a), nil
}

// descendingColumns writes the rows of ut (eigenvectors of the ascending
// values d) into the columns of a in descending order and returns the
// values descending.
func descendingColumns(d []float64, ut, a blas64.General) []float64 {
	n := len(d)
	w := make([]float64, n)
	for j := 0; j < n; j++ {
		src := n - 1 - j
		w[j] = d[src]
	}
	const blk = 64
	for j0 := 0; j0 < n; j0 += blk {
		for i0 := 0; i0 < n; i0 += blk {
			for j := j0; j < min(j0+blk, n); j++ {
				row := ut.Data[(n-1-j)*ut.Stride:]
				for i := i0; i < min(i0+blk, n); i++ {
					a.Data[i*a.Stride+j] = row[i]
				}
			}
		}
	}
	return w
}
