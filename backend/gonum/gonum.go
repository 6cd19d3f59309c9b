// Package gonum is the pure-Go backend: always available, needs no cgo, and
// runs the Gram and GEMM across all cores with the packed micro-kernels of
// kernels/cpu (Go assembly where the CPU has AVX-512 or AVX2/FMA, Go
// elsewhere and under the purego tag). The symmetric eigensolvers are
// package spectral's (a two-stage reduction whose cubic work is this
// backend's GEMM); the other factorizations go through gonum's
// lapack64/blas64 front ends. No package of this module
// installs another implementation there with blas64.Use or lapack64.Use (the
// openblas backend calls OpenBLAS directly), so this backend measures pure Go
// even in a binary that also contains the openblas one.
package gonum

import (
	"fmt"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/kernels/cpu"
	"github.com/reconalign/reconalign/spectral"
)

// Name is the registry name of this backend.
const Name = "gonum"

func init() {
	backend.Register(Name, 0, func(o backend.Options) (backend.Backend, error) { return New(o.Threads), nil })
}

// Backend implements backend.Backend with gonum.
type Backend struct {
	threads int
	buf     []float64 // float64 copy of the current chunk, reused across calls
	gram    cpu.Gram
	gramU8  cpu.GramU8
}

var _ backend.Backend = (*Backend)(nil)

// New returns a gonum backend using threads goroutines for the Gram (0: all cores).
func New(threads int) *Backend {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &Backend{threads: threads}
}

func (b *Backend) Info() backend.Info {
	return backend.Info{Name: Name, Device: "cpu", Precision: "float64", Threads: b.threads, Library: "gonum v0.17.0 (pure Go), GEMM and Gram kernel " + cpu.Kernel() + cpu.ExactU8Note()}
}

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
	checkSquare("GramAdd", g, x.D)
	if shift != nil && len(shift) != x.D {
		panic(fmt.Sprintf("gonum: GramAdd shift has length %d, want %d", len(shift), x.D))
	}
	if x.N == 0 || x.D == 0 {
		return nil
	}
	if x.DType() == backend.U8 && cpu.ExactU8() && cpu.IntegralShift(shift) {
		b.gramU8.AddUpper(x.N, x.D, x.U8, x.D, shift, g.Data, g.Stride, b.threads)
		return nil
	}
	var xf blas64.General
	if x.DType() == backend.F64 && shift == nil {
		xf = blas64.General{Rows: x.N, Cols: x.D, Stride: x.D, Data: x.F64} // already what the kernel reads
	} else {
		if cap(b.buf) < x.N*x.D {
			b.buf = make([]float64, x.N*x.D)
		}
		xf = blas64.General{Rows: x.N, Cols: x.D, Stride: x.D, Data: x.Float64(b.buf, shift)}
	}
	b.gram.GramUpper(xf.Rows, xf.Cols, xf.Data, xf.Stride, g.Data, g.Stride, b.threads)
	return nil
}

func (b *Backend) Gemm(tA, tB blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error {
	m, k := x.Rows, x.Cols
	if tA != blas.NoTrans {
		m, k = k, m
	}
	ky, n := y.Rows, y.Cols
	if tB != blas.NoTrans {
		ky, n = n, ky
	}
	if k != ky || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("gonum: Gemm of op(a) %d×%d by op(b) %d×%d into c %d×%d", m, k, ky, n, c.Rows, c.Cols))
	}
	// The packed micro-kernel outruns gonum's Dgemm by ~10× here; it also
	// carries the rsvd and closed-form products of this backend.
	b.gram.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, x.Data, x.Stride, y.Data, y.Stride, beta, c.Data, c.Stride, b.threads)
	return nil
}

// Syr2k is the symmetric rank-2k update c = alpha·(op(x)·op(y)ᵀ +
// op(y)·op(x)ᵀ) + beta·c on the upper triangle of the square c, op(x) = x
// (n×k) or xᵀ (x is k×n) when tA is blas.Trans; entries below the diagonal
// are neither read nor written. It is not part of backend.Backend: blocked
// symmetric reductions find it by type assertion and otherwise make two Gemm
// calls. It runs at GEMM speed as one product of inner dimension 2k
// (cpu.Gram.Syr2k).
func (b *Backend) Syr2k(tA blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error {
	n, k := x.Rows, x.Cols
	if tA != blas.NoTrans {
		n, k = k, n
	}
	if y.Rows != x.Rows || y.Cols != x.Cols || c.Rows != n || c.Cols != n {
		panic(fmt.Sprintf("gonum: Syr2k of x %d×%d and y %d×%d into c %d×%d", x.Rows, x.Cols, y.Rows, y.Cols, c.Rows, c.Cols))
	}
	b.gram.Syr2k(tA != blas.NoTrans, n, k, alpha, x.Data, x.Stride, y.Data, y.Stride, beta, c.Data, c.Stride, b.threads)
	return nil
}

// SymmUpper sets c = alpha·a·b + beta·c for the symmetric m×m a of which
// only the upper triangle is read (cpu.Gram.SymmUpper, which reads each
// tile of the triangle once for both of its products). Like
// Syr2k it is found by type assertion: package spectral's band reduction
// makes one call per panel instead of a GEMM per block column.
func (b *Backend) SymmUpper(alpha float64, a, x blas64.General, beta float64, c blas64.General) error {
	m, n := x.Rows, x.Cols
	if a.Rows != m || a.Cols != m || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("gonum: SymmUpper of a %d×%d by b %d×%d into c %d×%d", a.Rows, a.Cols, m, n, c.Rows, c.Cols))
	}
	b.gram.SymmUpper(m, n, alpha, a.Data, a.Stride, x.Data, x.Stride, beta, c.Data, c.Stride, b.threads)
	return nil
}

// SymEig uses package spectral: a two-stage reduction whose cubic work is
// this backend's GEMM, then divide and conquer (with vectors) or the QL
// iteration (values only).
func (b *Backend) SymEig(a blas64.General, vectors bool) ([]float64, error) {
	checkSquare("SymEig", a, a.Rows)
	if vectors {
		return spectral.Eigen(b, a, b.threads)
	}
	return spectral.Values(b, a, b.threads)
}

// SymEigTop back-transforms only the k leading tridiagonal eigenvectors.
func (b *Backend) SymEigTop(a blas64.General, k int) ([]float64, blas64.General, error) {
	n := checkSquare("SymEigTop", a, a.Rows)
	if k < 0 || k > n {
		panic(fmt.Sprintf("gonum: SymEigTop k = %d outside [0, %d]", k, n))
	}
	return spectral.EigenTop(b, a, k, b.threads)
}

// SymGenEig reduces the pencil to standard form with the Cholesky factor of
// b and solves it with spectral.Eigen; the factorisation and the triangular
// solves are blocked onto this backend's GEMM (spectral.SymGenEig).
func (b *Backend) SymGenEig(a, bm blas64.General) ([]float64, error) {
	n := checkSquare("SymGenEig", a, a.Rows)
	checkSquare("SymGenEig", bm, n)
	return spectral.SymGenEig(b, a, bm, b.threads)
}

// Cholesky is blocked onto this backend's GEMM (spectral.Cholesky).
func (b *Backend) Cholesky(a blas64.General) error {
	checkSquare("Cholesky", a, a.Rows)
	return spectral.Cholesky(b, a)
}

func (b *Backend) TriSolve(ul blas.Uplo, tA blas.Transpose, t, x blas64.General) error {
	n := checkSquare("TriSolve", t, t.Rows)
	if x.Rows != n {
		panic(fmt.Sprintf("gonum: TriSolve right-hand side has %d rows, want %d", x.Rows, n))
	}
	blas64.Trsm(blas.Left, tA, 1, blas64.Triangular{Uplo: ul, Diag: blas.NonUnit, N: n, Stride: t.Stride, Data: t.Data}, x)
	return nil
}

func (b *Backend) QR(a blas64.General) (blas64.General, error) {
	m, n := a.Rows, a.Cols
	if m < n {
		panic(fmt.Sprintf("gonum: QR of a %d×%d matrix needs rows ≥ columns", m, n))
	}
	r := backend.NewGeneral(n, n)
	if n == 0 {
		return r, nil
	}
	tau := make([]float64, n)
	work := []float64{0}
	lapack64.Geqrf(a, tau, work, -1)
	lapack64.Orgqr(a, tau, work[:1], -1)
	work = make([]float64, max(int(work[0]), n))
	lapack64.Geqrf(a, tau, work, -1)
	if int(work[0]) > len(work) {
		work = make([]float64, int(work[0]))
	}
	lapack64.Geqrf(a, tau, work, len(work))
	for i := 0; i < n; i++ {
		copy(r.Data[i*n+i:(i+1)*n], a.Data[i*a.Stride+i:i*a.Stride+n])
	}
	work[0] = 0
	lapack64.Orgqr(a, tau, work, -1)
	if int(work[0]) > len(work) {
		work = make([]float64, int(work[0]))
	}
	lapack64.Orgqr(a, tau, work, len(work))
	return r, nil
}

func checkSquare(op string, a blas64.General, n int) int {
	if a.Rows != n || a.Cols != n {
		panic(fmt.Sprintf("gonum: %s needs a %d×%d matrix, got %d×%d", op, n, n, a.Rows, a.Cols))
	}
	return n
}
