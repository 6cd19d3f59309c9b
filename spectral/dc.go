package spectral

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
)

// Divide and conquer for the symmetric tridiagonal T (diagonal d, off-diagonal
// e), after Cuppen, Gu & Eisenstat and LAPACK's dstedc. Tearing T at m,
//
//	T = diag(T₁, T₂) + ρ·v·vᵀ,  v = (e_{m-1} + sign(β)·e_m)/√2,  ρ = 2|β|,
//
// where β = e[m-1] and T₁, T₂ have |β| taken off their touching diagonal
// entries. With Tᵢ = Qᵢ·Λᵢ·Qᵢᵀ solved recursively, T is similar to
// diag(Λ₁, Λ₂) + ρ·z·zᵀ, z = diag(Q₁, Q₂)ᵀ·v: z is the last row of Q₁ and
// (signed) the first row of Q₂, over √2. Its eigenvalues are the roots of the
// secular equation (dcsecular.go) and its eigenvectors the columns of a
// Cauchy-like matrix U, so that T's eigenvectors are diag(Q₁, Q₂)·U.
//
// Both solvers carry a block of rows, one per eigenvector of the current
// subproblem, and each merge replaces the subproblem's rows by Uᵀ times them
// (GEMM): for dcVectors the rows are Zᵀ itself (row i is eigenvector i, nonzero
// only inside its subproblem's columns), for dcProject they are Zᵀ·w plus two
// columns Zᵀ·e_first and Zᵀ·e_last, which give the next merge its z without Z.

// dcLeaf is the largest subproblem solved directly by the implicit QL/QR
// iteration instead of being torn in two (LAPACK's SMLSIZ is 25).
var dcLeaf = 32

// dcSpawnMin is the smallest subproblem whose halves are solved on separate
// goroutines; below it the goroutine would cost more than it saves.
const dcSpawnMin = 256

// dcProject overwrites d with T's eigenvalues in ascending order and w (n×R,
// rows indexed by T's coordinates) with Zᵀ·w: row i of w becomes the
// projection on the eigenvector of d[i]. e (length at least n-1) is
// destroyed. Products run through g, one call at a time; the rest keeps up
// to workers cores busy (0: GOMAXPROCS), never while g runs.
func dcProject(d, e []float64, w blas64.General, g Gemmer, workers int) error {
	n := len(d)
	if w.Rows != n || (n > 0 && w.Stride < w.Cols) || (n > 0 && w.Cols > 0 && len(w.Data) < (n-1)*w.Stride+w.Cols) {
		panic(fmt.Sprintf("spectral: dcProject of order %d with w of %d×%d, stride %d, %d values", n, w.Rows, w.Cols, w.Stride, len(w.Data)))
	}
	if err := checkTridiag("dcProject", d, e); err != nil {
		return err
	}
	r := w.Cols
	for i := 0; i < n && r > 0; i++ {
		for j, v := range w.Data[i*w.Stride : i*w.Stride+r] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("spectral: dcProject: w[%d,%d] = %v is not finite", i, j, v)
			}
		}
	}
	if n == 0 {
		return nil
	}
	// The carried rows: w, then Zᵀ·e_first and Zᵀ·e_last of each subproblem.
	rows := backend.NewGeneral(n, r+2)
	for i := 0; i < n && r > 0; i++ {
		copy(rows.Data[i*rows.Stride:], w.Data[i*w.Stride:i*w.Stride+r])
	}
	s := newDCSolver(d, e, rows, false, g, workers)
	s.ends = r
	order, err := s.run()
	if err != nil {
		return err
	}
	for i, src := range order {
		if r > 0 {
			copy(w.Data[i*w.Stride:i*w.Stride+r], rows.Data[src*rows.Stride:])
		}
	}
	return nil
}

// dcVectors overwrites d with T's eigenvalues in ascending order and returns
// Z (n×n row-major, column i the unit eigenvector of d[i]). e (length at
// least n-1) is destroyed. Products run through g, one call at a time; the
// rest keeps up to workers cores busy (0: GOMAXPROCS), never while g runs.
func dcVectors(d, e []float64, g Gemmer, workers int) (blas64.General, error) {
	n := len(d)
	if err := checkTridiag("dcVectors", d, e); err != nil {
		return blas64.General{}, err
	}
	zt := blas64.General{Rows: n, Cols: n, Stride: max(n, 1), Data: make([]float64, n*n)}
	s := newDCSolver(d, e, zt, true, g, workers)
	order, err := s.run()
	if err != nil {
		return blas64.General{}, err
	}
	// Z's column j is row order[j] of zt: a transpose, in tiles that stay
	// in cache.
	z := blas64.General{Rows: n, Cols: n, Stride: max(n, 1), Data: s.tmp.Data}
	const tile = 32
	for j0 := 0; j0 < n; j0 += tile {
		for i0 := 0; i0 < n; i0 += tile {
			for j := j0; j < min(j0+tile, n); j++ {
				row := zt.Data[order[j]*n:]
				for i := i0; i < min(i0+tile, n); i++ {
					z.Data[i*n+j] = row[i]
				}
			}
		}
	}
	return z, nil
}

// checkTridiag reports the first non-finite entry of d or e[:n-1], and
// panics when e is too short (a caller's mistake, not data).
func checkTridiag(op string, d, e []float64) error {
	n := len(d)
	if len(e) < n-1 {
		panic(fmt.Sprintf("spectral: %s of order %d needs %d off-diagonal entries, got %d", op, n, n-1, len(e)))
	}
	for i, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("spectral: %s: diagonal d[%d] = %v is not finite", op, i, v)
		}
	}
	for i, v := range e[:max(n-1, 0)] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("spectral: %s: off-diagonal e[%d] = %v is not finite", op, i, v)
		}
	}
	return nil
}

// dcSolver holds one divide-and-conquer run. Subproblems own disjoint
// ranges [lo, hi) of d, e, rows and tmp, so that independent subtrees run
// on separate goroutines without locks; only g is shared.
type dcSolver struct {
	d, e []float64
	// rows holds one row per eigenvector of the current subproblems: Zᵀ
	// (vectors) or Zᵀ·[w e_first e_last] (projections).
	rows blas64.General
	// phys maps eigenvalues to rows: within a solved subproblem [lo, hi),
	// the row of d[i] is phys[i], also in [lo, hi). (Merges write their rows
	// in the order the products produce them rather than sorting them.)
	phys []int
	// tmp has rows' shape; a merge of [lo, hi) stages its rows in tmp's rows
	// [lo, hi).
	tmp     blas64.General
	vectors bool
	ends    int // projections: the column of Zᵀ·e_first; Zᵀ·e_last follows

	cores  *cores
	gemmMu sync.Mutex
	g      Gemmer
	spawn  chan struct{} // one token per goroutine that may solve a subtree
	stats  dcStats
}

func newDCSolver(d, e []float64, rows blas64.General, vectors bool, g Gemmer, workers int) *dcSolver {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &dcSolver{
		d: d, e: e, rows: rows, vectors: vectors, g: g, cores: newCores(workers), phys: make([]int, len(d)),
		tmp:   blas64.General{Rows: rows.Rows, Cols: rows.Cols, Stride: rows.Stride, Data: make([]float64, len(rows.Data))},
		spawn: make(chan struct{}, workers-1),
	}
}

// run splits T where an off-diagonal is negligible, solves each block at
// unit scale, and returns where the eigenvectors are: on return d is
// ascending and the row of d[i] is row order[i] of rows.
func (s *dcSolver) run() ([]int, error) {
	n := len(s.d)
	d, e := s.d, s.e
	const eps = 0x1p-53
	for lo := 0; lo < n; {
		hi := lo + 1
		// dstedc's test, relative to the neighbouring diagonal entries, so
		// that the small eigenvalues of a graded matrix are not lost to an
		// absolute threshold.
		for hi < n && math.Abs(e[hi-1]) > eps*math.Sqrt(math.Abs(d[hi-1]))*math.Sqrt(math.Abs(d[hi])) {
			hi++
		}
		if hi < n {
			e[hi-1] = 0
		}
		if err := s.block(lo, hi); err != nil {
			return nil, err
		}
		lo = hi
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(p, q int) bool { return d[order[p]] < d[order[q]] })
	sorted := make([]float64, n)
	for i, src := range order {
		sorted[i] = d[src]
		order[i] = s.phys[src]
	}
	copy(d, sorted)
	return order, nil
}

// block solves the unreduced block [lo, hi) scaled to max-norm 1, as dstedc
// does, so that tolerances are absolute and nothing overflows.
func (s *dcSolver) block(lo, hi int) error {
	d, e := s.d[lo:hi], s.e[lo:hi-1]
	if hi-lo == 1 {
		s.phys[lo] = lo
		if s.vectors {
			s.rows.Data[lo*s.rows.Stride+lo] = 1
		}
		return nil
	}
	norm := 0.0
	for _, v := range d {
		norm = math.Max(norm, math.Abs(v))
	}
	for _, v := range e {
		norm = math.Max(norm, math.Abs(v))
	}
	for i := range d {
		d[i] /= norm
	}
	for i := range e {
		e[i] /= norm
	}
	if err := s.solve(lo, hi); err != nil {
		return err
	}
	for i := range d {
		d[i] *= norm
	}
	return nil
}

// solve diagonalizes the subproblem [lo, hi): on return d[lo:hi] holds its
// eigenvalues ascending and rows [lo, hi) the matching rows.
func (s *dcSolver) solve(lo, hi int) error {
	if hi-lo <= dcLeaf {
		return s.leaf(lo, hi)
	}
	m := lo + (hi-lo)/2
	beta := s.e[m-1]
	s.d[m-1] -= math.Abs(beta)
	s.d[m] -= math.Abs(beta)
	var left error
	spawned := false
	if hi-lo >= dcSpawnMin {
		select {
		case s.spawn <- struct{}{}:
			spawned = true
		default:
		}
	}
	if spawned {
		done := make(chan struct{})
		go func() {
			left = s.solve(lo, m)
			<-s.spawn
			close(done)
		}()
		right := s.solve(m, hi)
		<-done
		if right != nil {
			return right
		}
	} else {
		left = s.solve(lo, m)
		if left == nil {
			left = s.solve(m, hi)
		}
	}
	if left != nil {
		return left
	}
	return s.merge(lo, m, hi, beta)
}

// leaf solves [lo, hi) by gonum's Dsteqr on the identity (small enough to
// live in L1, where its column-wise rotations cost nothing).
func (s *dcSolver) leaf(lo, hi int) error {
	n := hi - lo
	q := make([]float64, n*n)
	work := make([]float64, max(1, 2*n-2))
	s.cores.acquire(1)
	ok := (lapackgonum.Implementation{}).Dsteqr(lapack.EVTridiag, n, s.d[lo:hi], s.e[lo:max(lo, hi-1)], q, n, work)
	s.cores.release(1)
	if !ok {
		return fmt.Errorf("spectral: implicit QL on a block of order %d: %w", n, backend.ErrNotConverged)
	}
	rs := s.rows.Stride
	for i := lo; i < hi; i++ {
		s.phys[i] = i
	}
	if s.vectors {
		for i := 0; i < n; i++ {
			for j, v := range q[i*n : i*n+n] {
				s.rows.Data[(lo+j)*rs+lo+i] = v
			}
		}
		return nil
	}
	// The first and last rows of Q are Qᵀ·e_first and Qᵀ·e_last; the merges
	// keep them up to date with the same products as the rest of the row.
	in := s.rowBlock(s.rows, lo, hi, 0, s.rows.Cols)
	out := s.rowBlock(s.tmp, lo, hi, 0, s.rows.Cols)
	if err := s.gemm(blas.Trans, blas64.General{Rows: n, Cols: n, Stride: n, Data: q}, in, out); err != nil {
		return err
	}
	for j := 0; j < n; j++ {
		row := s.rows.Data[(lo+j)*rs : (lo+j)*rs+s.rows.Cols]
		copy(row, out.Data[j*out.Stride:])
		row[s.ends] = q[j]
		row[s.ends+1] = q[(n-1)*n+j]
	}
	return nil
}

// rowBlock returns rows [r0, r1) and columns [c0, c1) of a as a view.
func (s *dcSolver) rowBlock(a blas64.General, r0, r1, c0, c1 int) blas64.General {
	return blas64.General{Rows: r1 - r0, Cols: c1 - c0, Stride: a.Stride, Data: a.Data[r0*a.Stride+c0:]}
}

// gemm computes c = a·b (a transposed with tA) through g, one call at a
// time (a backend is used by one goroutine at a time) and holding every
// core, which its GEMM uses.
func (s *dcSolver) gemm(tA blas.Transpose, a, b, c blas64.General) error {
	s.gemmMu.Lock()
	defer s.gemmMu.Unlock()
	s.cores.acquire(s.cores.n)
	defer s.cores.release(s.cores.n)
	err := s.g.Gemm(tA, blas.NoTrans, 1, a, b, 0, c)
	// The secular equations and deflations around it run on goroutines.
	yieldCores(s.g)
	return err
}
