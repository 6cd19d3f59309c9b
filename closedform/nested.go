package closedform

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
)

// nestedBlock is the number of Householder reflectors per panel of
// nestedTargets: each panel is factorised by gonum's unblocked routines
// (about nb·r² flops over all panels) and applied to the rest as GEMMs of
// inner size nb. Measured at r = 784, C = 10 (wall seconds, shared 2-core
// machine): nb = 16: 0.048 – 0.063 openblas, 0.106 gonum; 32: 0.030 –
// 0.036, 0.056 – 0.059; 64: 0.032 – 0.052, 0.047 – 0.049; 96: 0.034 –
// 0.035, 0.041 – 0.055.
const nestedBlock = 64

// nestedTargets returns z·q̃ (C×m) for the nested orthonormal basis q̃ of the
// columns of e (r×m, m ≤ r, linearly independent): the thin QR e = q̃·R,
// q̃ = H₁⋯H_m·[I; 0] with the Householder reflectors H_j of LAPACK's
// dgeqrf. The curve of an encoder needs only these C-row products (z is
// the range's Z, or Z in another orthonormal basis of the range), so q̃ is
// never formed: the reflectors are applied to the rows of z as they are
// found (4·C·r·m flops), which saves dorgqr's 2·r·m² − (2/3)·m³ (as many
// as the factorisation's own) and the product with z. The
// arithmetic is dgeqrf's followed by dormqr's on zᵀ; the trailing updates
// and the updates of z are GEMMs on the backend (the pure-Go backend's
// lapack64.Geqrf would run them on gonum's own GEMM, about ten times
// slower: at r = 784 this takes 0.05 s where that QR took 0.24 s). e and z
// are not modified.
func nestedTargets(be backend.Backend, e, z blas64.General) (blas64.General, error) {
	r, m, c := e.Rows, e.Cols, z.Rows
	if z.Cols != r {
		panic("closedform: nestedTargets: z and e do not conform")
	}
	// The columns of e as the contiguous rows of et (m×r): the QR of e is
	// the LQ of et, whose reflectors lie along rows, and H₁⋯H_k of a panel
	// is I − Vᵀ·T·V with V the panel's reflectors as rows (dlarft, forward,
	// row-wise).
	et := backend.NewGeneral(m, r)
	for i := 0; i < r; i++ {
		for j, v := range e.Data[i*e.Stride : i*e.Stride+m] {
			et.Data[j*r+i] = v
		}
	}
	zt := backend.Clone(z)
	impl := lapackgonum.Implementation{}
	tau := make([]float64, nestedBlock)
	work := []float64{0}
	impl.Dgelqf(nestedBlock, r, et.Data, r, tau, work, -1)
	work = make([]float64, max(int(work[0]), nestedBlock*r))
	tf := make([]float64, nestedBlock*nestedBlock)
	vb := make([]float64, nestedBlock*r)
	xb := make([]float64, max(m, c)*nestedBlock)
	yb := make([]float64, max(m, c)*nestedBlock)
	for k := 0; k < m; k += nestedBlock {
		nb := min(nestedBlock, m-k)
		w := r - k
		panel := et.Data[k*r+k:]
		impl.Dgelqf(nb, w, panel, r, tau[:nb], work, len(work))
		// Dlarft writes T's upper triangle only; the GEMMs below read all of it.
		clear(tf)
		impl.Dlarft(lapack.Forward, lapack.RowWise, w, nb, panel, r, tau[:nb], tf, nb)
		// V with its unit diagonal and the zeros left of it written out.
		v := blas64.General{Rows: nb, Cols: w, Stride: w, Data: vb[:nb*w]}
		for i := 0; i < nb; i++ {
			row := v.Data[i*w : (i+1)*w]
			clear(row[:i])
			row[i] = 1
			copy(row[i+1:], panel[i*r+i+1:i*r+w])
		}
		t := blas64.General{Rows: nb, Cols: nb, Stride: nb, Data: tf[:nb*nb]}
		rest := blas64.General{Rows: m - k - nb, Cols: w, Stride: r, Data: et.Data[min((k+nb)*r+k, len(et.Data)):]}
		if err := applyReflectorsRight(be, rest, v, t, xb, yb); err != nil {
			return blas64.General{}, err
		}
		cols := blas64.General{Rows: c, Cols: w, Stride: zt.Stride, Data: zt.Data[min(k, len(zt.Data)):]}
		if err := applyReflectorsRight(be, cols, v, t, xb, yb); err != nil {
			return blas64.General{}, err
		}
	}
	return backend.Columns(zt, m), nil
}

// applyReflectorsRight overwrites a (n×w) with a·(I − Vᵀ·T·V) =
// a − (a·Vᵀ)·T·V, a times the product H₁⋯H_nb of the reflectors that are
// the rows of V (nb×w), T their triangular factor; xb and yb hold n·nb
// values each.
func applyReflectorsRight(be backend.Backend, a, v, t blas64.General, xb, yb []float64) error {
	n, nb := a.Rows, v.Rows
	if n == 0 || a.Cols == 0 {
		return nil
	}
	x := blas64.General{Rows: n, Cols: nb, Stride: nb, Data: xb[:n*nb]}
	y := blas64.General{Rows: n, Cols: nb, Stride: nb, Data: yb[:n*nb]}
	if err := be.Gemm(blas.NoTrans, blas.Trans, 1, a, v, 0, x); err != nil {
		return err
	}
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, x, t, 0, y); err != nil {
		return err
	}
	return be.Gemm(blas.NoTrans, blas.NoTrans, -1, y, v, 1, a)
}
