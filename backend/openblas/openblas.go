//go:build openblas && cgo

package openblas

import (
	"errors"
	"fmt"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	"gonum.org/v1/netlib/lapack/lapacke"

	"github.com/reconalign/reconalign/backend"
	ob "github.com/reconalign/reconalign/cgo/openblas"
	"github.com/reconalign/reconalign/kernels/cpu"
)

func init() {
	backend.Register(Name, Priority, New)
}

// Backend implements backend.Backend with OpenBLAS and LAPACKE.
//
// All LAPACKE calls use the row-major interface of
// gonum.org/v1/netlib/lapack/lapacke. LAPACKE serves row-major input by
// transposing into a temporary column-major copy, which costs O(n²) time and
// one extra n×n matrix of memory per call, next to O(n³) work.
type Backend struct {
	threads int
	blas    netlib.Implementation
	buf     []float64 // float64 rows of the current chunk, reused across calls
	gramU8  cpu.GramU8
	gram    cpu.Gram // the pure-Go products of SymmUpper and Syr2k
}

var _ backend.Backend = (*Backend)(nil)

// defaultThreads is OpenBLAS's own choice, read before any backend changes it.
var defaultThreads = sync.OnceValue(ob.NumThreads)

// New opens the backend with opts.Threads OpenBLAS threads (0: OpenBLAS's
// default, all cores unless OPENBLAS_NUM_THREADS says otherwise).
func New(opts backend.Options) (backend.Backend, error) {
	want := defaultThreads()
	if opts.Threads > 0 {
		want = opts.Threads
	}
	ob.SetNumThreads(want)
	// OpenBLAS caps the request at the maximum it was built for; record what
	// it actually uses so Info reports the truth and the re-apply is exact.
	return &Backend{threads: ob.NumThreads()}, nil
}

func (b *Backend) Info() backend.Info {
	return backend.Info{Name: Name, Device: "cpu", Precision: "float64", Threads: b.threads, Library: ob.Config() + cpu.ExactU8Note()}
}

// enter re-applies this backend's thread count, which another backend in
// the process may have changed, and marks an OpenBLAS call in progress
// until the function it returns is called (YieldCores must not stop the
// threads under a running call).
func (b *Backend) enter() (leave func()) {
	inCall.RLock()
	if ob.NumThreads() != b.threads {
		ob.SetNumThreads(b.threads)
	}
	return inCall.RUnlock
}

// inCall is held for reading by every OpenBLAS call of every Backend in
// the process, and for writing while YieldCores stops the threads.
var inCall sync.RWMutex

// YieldCores stops OpenBLAS's worker threads unless a call is running,
// before work on goroutines of the caller's own. After each threaded call
// the workers spin, a core each, for about 2²⁸ cycles (a tenth of a
// second) before they sleep; goroutines that run meanwhile get that much
// less of the machine. (Measured on the two-core machine: a pure-Go
// symmetric rank-2k update right after OpenBLAS calls took 1.6 – 1.9 s of
// a D = 4,096 band reduction that takes 1.2 – 1.3 s without them.) The
// next threaded call starts the workers again, as after a fork. Package
// spectral finds it by type assertion.
func (b *Backend) YieldCores() {
	if inCall.TryLock() {
		ob.StopThreads()
		inCall.Unlock()
	}
}

// gramBlockValues bounds the float64 conversion buffer (64 MiB): a chunk is
// converted and multiplied in blocks of rows rather than all at once.
var gramBlockValues = 8 << 20

// gramMinRows keeps blocks tall enough for Dsyrk to run at full speed even
// when D is so large that the bound above would allow only a few rows.
var gramMinRows = 256

// ExactU8Gram: uint8 chunks with an integral shift take the exact integer
// Gram of kernels/cpu when the CPU has it.
func (b *Backend) ExactU8Gram() bool { return cpu.ExactU8() }

// ReleaseScratch drops the buffers the Gram keeps between calls
// (backend.ScratchReleaser).
func (b *Backend) ReleaseScratch() int64 {
	n := 8*int64(cap(b.buf)) + b.gramU8.ScratchBytes() + b.gram.ScratchBytes()
	b.buf = nil
	b.gramU8 = cpu.GramU8{}
	b.gram = cpu.Gram{}
	return n
}

func (b *Backend) GramAdd(g blas64.General, x backend.Chunk, shift []float64) error {
	x.Check()
	checkGeneral("GramAdd", "g", g, x.D, x.D)
	if shift != nil && len(shift) != x.D {
		panic(fmt.Sprintf("openblas: GramAdd shift has length %d, want D = %d", len(shift), x.D))
	}
	if x.N == 0 || x.D == 0 {
		return nil
	}
	if x.DType() == backend.U8 && cpu.ExactU8() && cpu.IntegralShift(shift) {
		// Integer dot products beat OpenBLAS's float64 Dsyrk several times
		// over here, and are exact.
		b.gramU8.AddUpper(x.N, x.D, x.U8, x.D, shift, g.Data, g.Stride, b.threads)
		return nil
	}
	defer b.enter()()
	d := x.D
	if x.DType() == backend.F64 && shift == nil {
		b.syrk(d, x.N, x.F64, g)
		return nil
	}
	rows := min(x.N, max(gramMinRows, gramBlockValues/d))
	if cap(b.buf) < rows*d {
		b.buf = make([]float64, rows*d)
	}
	for i := 0; i < x.N; i += rows {
		part := x.Rows(i, min(i+rows, x.N))
		xf := part.Float64(b.buf, shift)
		b.syrk(d, part.N, xf, g)
	}
	return nil
}

// syrk adds XᵀX (X is n×d, row-major, contiguous) into the upper triangle
// of g with one Dsyrk. (A triangle cut into column blocks, Dgemm above the
// diagonal, measured 15–35% slower than the plain call at D ≥ 784 here.)
func (b *Backend) syrk(d, n int, x []float64, g blas64.General) {
	b.blas.Dsyrk(blas.Upper, blas.Trans, d, n, 1, x, d, 1, g.Data, g.Stride)
}

func (b *Backend) Gemm(tA, tB blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error {
	checkTrans("Gemm", "tA", tA)
	checkTrans("Gemm", "tB", tB)
	m, k := x.Rows, x.Cols
	if tA != blas.NoTrans {
		m, k = k, m
	}
	ky, n := y.Rows, y.Cols
	if tB != blas.NoTrans {
		ky, n = n, ky
	}
	if k != ky || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("openblas: Gemm of op(a) %d×%d by op(b) %d×%d into c %d×%d", m, k, ky, n, c.Rows, c.Cols))
	}
	checkGeneral("Gemm", "a", x, x.Rows, x.Cols)
	checkGeneral("Gemm", "b", y, y.Rows, y.Cols)
	checkGeneral("Gemm", "c", c, m, n)
	if m == 0 || n == 0 {
		return nil
	}
	if k == 0 {
		// Nothing to multiply, and a, b may be 0-stride empties that the
		// binding's leading-dimension checks reject: only c = beta·c remains.
		cpu.Scale(c.Data, c.Stride, m, n, beta)
		return nil
	}
	defer b.enter()()
	b.blas.Dgemm(tA, tB, m, n, k, alpha, x.Data, x.Stride, y.Data, y.Stride, beta, c.Data, c.Stride)
	return nil
}

// SymmUpper sets c = alpha·a·b + beta·c for the symmetric m×m a of which
// only the upper triangle is read, with the pure-Go tiled product of
// kernels/cpu (cpu.Gram.SymmUpper) after YieldCores, not dsymm: it reads
// each tile of the triangle once for both of its products, where dsymm
// packs the whole matrix. Over a D = 4,096 band reduction on two cores it
// took 0.47 – 0.50 s against dsymm's 0.57 – 0.70 s. Like Syr2k it is not
// part of backend.Backend: package spectral's band reduction finds both by
// type assertion, and one call per panel replaces a GEMM per block column.
func (b *Backend) SymmUpper(alpha float64, a, x blas64.General, beta float64, c blas64.General) error {
	m, n := x.Rows, x.Cols
	if a.Rows != m || a.Cols != m || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("openblas: SymmUpper of a %d×%d by b %d×%d into c %d×%d", a.Rows, a.Cols, m, n, c.Rows, c.Cols))
	}
	b.YieldCores()
	b.gram.SymmUpper(m, n, alpha, a.Data, a.Stride, x.Data, x.Stride, beta, c.Data, c.Stride, b.threads)
	return nil
}

// Syr2k is the symmetric rank-2k update c = alpha·(op(x)·op(y)ᵀ +
// op(y)·op(x)ᵀ) + beta·c on the upper triangle of the square c, op(x) = x
// (n×k) or xᵀ (x is k×n) when tA is blas.Trans, with the pure-Go product
// of kernels/cpu (cpu.Gram.Syr2k) after YieldCores. It runs as fast as
// dsyr2k here, and its workers claim tiles as they go: the band
// reduction factors the next panel on a goroutine beside it, which
// dsyr2k's fixed split of the work between its threads could not absorb
// (measured: no gain from that look-ahead with dsyr2k, 0.1 s of 1.3 with
// this).
func (b *Backend) Syr2k(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error {
	checkTrans("Syr2k", "tA", tA)
	n, k := x.Rows, x.Cols
	if tA != blas.NoTrans {
		n, k = k, n
	}
	if y.Rows != x.Rows || y.Cols != x.Cols || c.Rows != n || c.Cols != n {
		panic(fmt.Sprintf("openblas: Syr2k of x %d×%d and y %d×%d into c %d×%d", x.Rows, x.Cols, y.Rows, y.Cols, c.Rows, c.Cols))
	}
	b.YieldCores()
	b.gram.Syr2k(tA != blas.NoTrans, n, k, alpha, x.Data, x.Stride, y.Data, y.Stride, beta, c.Data, c.Stride, b.threads)
	return nil
}

// SymEig uses dsyevd (divide and conquer): for the eigenvectors of a dense
// matrix it is several times faster than the QR iteration of dsyev that
// gonum's EigenSym uses, at the price of O(n²) extra workspace.
func (b *Backend) SymEig(a blas64.General, vectors bool) ([]float64, error) {
	n := a.Rows
	checkGeneral("SymEig", "a", a, n, n)
	w := make([]float64, n)
	if n == 0 {
		return w, nil
	}
	defer b.enter()()
	if err := syevd(a, w, vectors); err != nil {
		return nil, fmt.Errorf("openblas: SymEig of %d×%d: %w", n, n, err)
	}
	if vectors {
		backend.Reverse(w, a)
	} else {
		backend.Reverse(w, blas64.General{})
	}
	return w, nil
}

// errQuery reports a failed workspace query, which after the argument checks
// here means LAPACKE rejected something they let through: a bug, not data.
var errQuery = errors.New("LAPACKE workspace query failed")

// syevd runs dsyevd on the upper triangle of a, leaving ascending values in w.
//
// The row-major LAPACKE wrappers return only success or failure, so a
// failure is reported as non-convergence, the one numerical failure dsyevd
// has; LAPACKE's own out-of-memory code cannot be told apart.
func syevd(a blas64.General, w []float64, vectors bool) error {
	n := a.Rows
	jobz := byte('N')
	if vectors {
		jobz = 'V'
	}
	work, iwork := []float64{0}, []int32{0}
	if !lapacke.Dsyevd(jobz, 'U', n, a.Data, a.Stride, w, work, -1, iwork, -1) {
		return fmt.Errorf("dsyevd: %w", errQuery)
	}
	work = make([]float64, max(1, int(work[0])))
	iwork = make([]int32, max(1, int(iwork[0])))
	if !lapacke.Dsyevd(jobz, 'U', n, a.Data, a.Stride, w, work, len(work), iwork, len(iwork)) {
		return fmt.Errorf("dsyevd: %w", backend.ErrNotConverged)
	}
	return nil
}

// safeMin is LAPACK's dlamch('S'), the smallest normal float64: as dsyevr's
// absolute tolerance it asks for eigenvalues to full relative accuracy.
const safeMin = 0x1p-1022

// SymEigTop uses dsyevr (MRRR) with range 'I', which computes only the
// requested eigenvectors: after the O(n³) tridiagonal reduction the rest
// costs O(n·k) instead of O(n²) per vector.
func (b *Backend) SymEigTop(a blas64.General, k int) ([]float64, blas64.General, error) {
	n := a.Rows
	checkGeneral("SymEigTop", "a", a, n, n)
	if k < 0 || k > n {
		panic(fmt.Sprintf("openblas: SymEigTop k = %d outside [0, %d]", k, n))
	}
	if k == 0 {
		return []float64{}, blas64.General{Rows: n, Cols: 0, Stride: 1}, nil
	}
	defer b.enter()()
	w := make([]float64, n)
	v := backend.NewGeneral(n, k)
	found := []int32{0}
	isuppz := make([]int32, 2*k)
	il, iu := n-k+1, n // 1-based, ascending: the k largest
	work, iwork := []float64{0}, []int32{0}
	if !lapacke.Dsyevr('V', 'I', 'U', n, a.Data, a.Stride, 0, 0, il, iu, safeMin, found, w, v.Data, v.Stride, isuppz, work, -1, iwork, -1) {
		return nil, blas64.General{}, fmt.Errorf("openblas: SymEigTop of %d×%d, k = %d: dsyevr: %w", n, n, k, errQuery)
	}
	work = make([]float64, max(1, int(work[0])))
	iwork = make([]int32, max(1, int(iwork[0])))
	if !lapacke.Dsyevr('V', 'I', 'U', n, a.Data, a.Stride, 0, 0, il, iu, safeMin, found, w, v.Data, v.Stride, isuppz, work, len(work), iwork, len(iwork)) {
		return nil, blas64.General{}, fmt.Errorf("openblas: SymEigTop of %d×%d, k = %d: dsyevr: %w", n, n, k, backend.ErrNotConverged)
	}
	if int(found[0]) != k {
		return nil, blas64.General{}, fmt.Errorf("openblas: SymEigTop of %d×%d: dsyevr found %d of %d eigenvalues: %w",
			n, n, found[0], k, backend.ErrNotConverged)
	}
	w = w[:k]
	backend.Reverse(w, v)
	return w, v, nil
}

// SymGenEig performs the steps of dsygvd one by one — dpotrf (b = UᵀU),
// dsygst (C = U⁻ᵀ·a·U⁻¹), dsyevd on C, then v = U⁻¹·z with dtrsm — because
// the LAPACKE binding reports only success or failure: run separately, an
// indefinite b (ErrNotPositiveDefinite) is told apart from an eigensolver
// that did not converge (ErrNotConverged). The arithmetic is dsygvd's.
func (b *Backend) SymGenEig(a, bm blas64.General) ([]float64, error) {
	n := a.Rows
	checkGeneral("SymGenEig", "a", a, n, n)
	checkGeneral("SymGenEig", "b", bm, n, n)
	w := make([]float64, n)
	if n == 0 {
		return w, nil
	}
	defer b.enter()()
	if !lapacke.Dpotrf('U', n, bm.Data, bm.Stride) {
		return nil, fmt.Errorf("openblas: SymGenEig of %d×%d: b: %w", n, n, backend.ErrNotPositiveDefinite)
	}
	if !lapacke.Dsygst(1, 'U', n, a.Data, a.Stride, bm.Data, bm.Stride) {
		return nil, fmt.Errorf("openblas: SymGenEig of %d×%d: dsygst failed", n, n)
	}
	if err := syevd(a, w, true); err != nil {
		return nil, fmt.Errorf("openblas: SymGenEig of %d×%d: %w", n, n, err)
	}
	b.blas.Dtrsm(blas.Left, blas.Upper, blas.NoTrans, blas.NonUnit, n, n, 1, bm.Data, bm.Stride, a.Data, a.Stride)
	backend.Reverse(w, a)
	return w, nil
}

func (b *Backend) Cholesky(a blas64.General) error {
	n := a.Rows
	checkGeneral("Cholesky", "a", a, n, n)
	if n == 0 {
		return nil
	}
	defer b.enter()()
	if !lapacke.Dpotrf('U', n, a.Data, a.Stride) {
		return fmt.Errorf("openblas: Cholesky of %d×%d: %w", n, n, backend.ErrNotPositiveDefinite)
	}
	for i := 1; i < n; i++ {
		clear(a.Data[i*a.Stride : i*a.Stride+i])
	}
	return nil
}

func (b *Backend) TriSolve(ul blas.Uplo, tA blas.Transpose, t, x blas64.General) error {
	if ul != blas.Upper && ul != blas.Lower {
		panic(fmt.Sprintf("openblas: TriSolve ul = %q, want blas.Upper or blas.Lower", byte(ul)))
	}
	checkTrans("TriSolve", "tA", tA)
	n := t.Rows
	checkGeneral("TriSolve", "t", t, n, n)
	if x.Rows != n {
		panic(fmt.Sprintf("openblas: TriSolve right-hand side has %d rows, want %d", x.Rows, n))
	}
	checkGeneral("TriSolve", "b", x, n, x.Cols)
	if n == 0 || x.Cols == 0 {
		return nil
	}
	defer b.enter()()
	b.blas.Dtrsm(blas.Left, ul, tA, blas.NonUnit, n, x.Cols, 1, t.Data, t.Stride, x.Data, x.Stride)
	return nil
}

func (b *Backend) QR(a blas64.General) (blas64.General, error) {
	m, n := a.Rows, a.Cols
	if m < n {
		panic(fmt.Sprintf("openblas: QR of a %d×%d matrix needs rows ≥ columns", m, n))
	}
	checkGeneral("QR", "a", a, m, n)
	r := backend.NewGeneral(n, n)
	if n == 0 {
		return r, nil
	}
	defer b.enter()()
	tau := make([]float64, n)
	query := []float64{0}
	if !lapacke.Dgeqrf(m, n, a.Data, a.Stride, tau, query, -1) {
		return blas64.General{}, fmt.Errorf("openblas: QR of %d×%d: dgeqrf: %w", m, n, errQuery)
	}
	lwork := int(query[0])
	if !lapacke.Dorgqr(m, n, n, a.Data, a.Stride, tau, query, -1) {
		return blas64.General{}, fmt.Errorf("openblas: QR of %d×%d: dorgqr: %w", m, n, errQuery)
	}
	work := make([]float64, max(1, n, lwork, int(query[0])))
	if !lapacke.Dgeqrf(m, n, a.Data, a.Stride, tau, work, len(work)) {
		return blas64.General{}, fmt.Errorf("openblas: QR of %d×%d: dgeqrf failed", m, n)
	}
	for i := 0; i < n; i++ {
		copy(r.Data[i*n+i:(i+1)*n], a.Data[i*a.Stride+i:i*a.Stride+n])
	}
	if !lapacke.Dorgqr(m, n, n, a.Data, a.Stride, tau, work, len(work)) {
		return blas64.General{}, fmt.Errorf("openblas: QR of %d×%d: dorgqr failed", m, n)
	}
	return r, nil
}

// checkGeneral is backend.CheckGeneral for this package.
func checkGeneral(op, name string, a blas64.General, rows, cols int) {
	backend.CheckGeneral("openblas", op, name, a, rows, cols)
}

func checkTrans(op, name string, t blas.Transpose) {
	if t != blas.NoTrans && t != blas.Trans && t != blas.ConjTrans {
		panic(fmt.Sprintf("openblas: %s %s = %q, want blas.NoTrans or blas.Trans", op, name, byte(t)))
	}
}
