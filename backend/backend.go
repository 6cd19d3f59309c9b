package backend

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Errors shared by every implementation; match them with errors.Is.
var (
	// ErrUnavailable: the implementation cannot run here (not compiled in,
	// library or device missing). The wrapped message says why.
	ErrUnavailable = errors.New("backend unavailable")
	// ErrNotConverged: an iterative eigensolver did not converge.
	ErrNotConverged = errors.New("eigensolver did not converge")
	// ErrNotPositiveDefinite: a Cholesky factorisation met a non-positive pivot.
	ErrNotPositiveDefinite = errors.New("matrix is not positive definite")
)

// Unavailable wraps ErrUnavailable with the backend's name and the reason.
func Unavailable(name, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrUnavailable, name, fmt.Sprintf(format, args...))
}

// Info describes one opened implementation, for logs, reports and JSON output.
type Info struct {
	Name      string `json:"name"`      // registry name, e.g. "openblas"
	Device    string `json:"device"`    // "cpu" or the GPU's name
	Precision string `json:"precision"` // arithmetic of the Gram and factorizations, e.g. "float64"
	Threads   int    `json:"threads"`   // worker threads (CPU) or 0
	Library   string `json:"library"`   // version string of what does the work
}

// Backend is the set of primitives the engine needs. Implementations must be
// safe for use by one goroutine at a time; the engine does not call one Backend
// concurrently.
type Backend interface {
	Info() Info

	// GramAdd adds (X − 1·shiftᵀ)ᵀ(X − 1·shiftᵀ) for the chunk X (x.N × x.D)
	// into the upper triangle of g (x.D × x.D), accumulating in float64.
	// shift may be nil (no shift) or have length x.D.
	GramAdd(g blas64.General, x Chunk, shift []float64) error

	// Gemm computes c = alpha·op(a)·op(b) + beta·c.
	Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) error

	// SymEig computes all eigenpairs of the symmetric matrix a (only its upper
	// triangle is read). On return a holds the eigenvectors as columns and the
	// eigenvalues are returned in descending order. With vectors false, a is
	// destroyed and only the values are returned.
	SymEig(a blas64.General, vectors bool) ([]float64, error)

	// SymEigTop computes the k largest eigenpairs of the symmetric matrix a
	// (upper triangle read, a destroyed): values descending and an a.Rows × k
	// matrix of eigenvectors as columns.
	SymEigTop(a blas64.General, k int) ([]float64, blas64.General, error)

	// SymGenEig solves the symmetric-definite pencil a·v = λ·b·v (upper
	// triangles read; b positive definite). On return a holds the
	// b-orthonormal eigenvectors (vᵀ·b·v = I) as columns, b is destroyed, and
	// the eigenvalues are returned in descending order.
	SymGenEig(a, b blas64.General) ([]float64, error)

	// Cholesky factorises the symmetric positive definite a (upper triangle
	// read) in place: on return the upper triangle holds U with a = Uᵀ·U and
	// the strict lower triangle is zero.
	Cholesky(a blas64.General) error

	// TriSolve solves op(t)·X = B in place of b, where t is upper or lower
	// triangular (non-unit diagonal) as ul says.
	TriSolve(ul blas.Uplo, tA blas.Transpose, t, b blas64.General) error

	// QR computes the thin QR factorisation of a (m × n, m ≥ n): on return a
	// holds Q (orthonormal columns) and the n × n upper-triangular R is returned.
	QR(a blas64.General) (blas64.General, error)
}

// Closer is implemented by backends that hold resources (device memory,
// library handles). The engine calls Close when it is done with one.
type Closer interface {
	Close() error
}

// DType is the element type of a data chunk.
type DType int

const (
	U8 DType = iota
	F32
	F64
)

func (t DType) String() string {
	switch t {
	case U8:
		return "uint8"
	case F32:
		return "float32"
	case F64:
		return "float64"
	}
	return fmt.Sprintf("DType(%d)", int(t))
}

// Chunk is a block of N samples of D features, row-major, in exactly one of
// three element types (the other two slices are nil).
type Chunk struct {
	N, D int
	U8   []uint8
	F32  []float32
	F64  []float64
}

// DType reports which slice holds the data.
func (c Chunk) DType() DType {
	switch {
	case c.U8 != nil:
		return U8
	case c.F32 != nil:
		return F32
	default:
		return F64
	}
}

// Check panics unless exactly one slice is set with length N·D.
func (c Chunk) Check() {
	set := 0
	n := 0
	if c.U8 != nil {
		set++
		n = len(c.U8)
	}
	if c.F32 != nil {
		set++
		n = len(c.F32)
	}
	if c.F64 != nil {
		set++
		n = len(c.F64)
	}
	if c.N < 0 || c.D < 0 {
		panic(fmt.Sprintf("backend: chunk has negative shape %d×%d", c.N, c.D))
	}
	if set > 1 {
		panic("backend: chunk has more than one data slice set")
	}
	if n != c.N*c.D {
		panic(fmt.Sprintf("backend: chunk of %d×%d holds %d values", c.N, c.D, n))
	}
}

// Rows returns rows [i, j) of the chunk without copying.
func (c Chunk) Rows(i, j int) Chunk {
	out := Chunk{N: j - i, D: c.D}
	switch c.DType() {
	case U8:
		out.U8 = c.U8[i*c.D : j*c.D]
	case F32:
		out.F32 = c.F32[i*c.D : j*c.D]
	default:
		out.F64 = c.F64[i*c.D : j*c.D]
	}
	return out
}

// Float64 writes the chunk, minus shift (nil for none), into dst (length at
// least N·D, row-major) and returns dst[:N·D].
func (c Chunk) Float64(dst []float64, shift []float64) []float64 {
	c.Check()
	dst = dst[:c.N*c.D]
	d := c.D
	for i := 0; i < c.N; i++ {
		row := dst[i*d : (i+1)*d]
		switch c.DType() {
		case U8:
			for j, v := range c.U8[i*d : (i+1)*d] {
				row[j] = float64(v)
			}
		case F32:
			for j, v := range c.F32[i*d : (i+1)*d] {
				row[j] = float64(v)
			}
		default:
			copy(row, c.F64[i*d:(i+1)*d])
		}
		if shift != nil {
			for j := range row {
				row[j] -= shift[j]
			}
		}
	}
	return dst
}

// NewGeneral allocates a zeroed r × c row-major matrix.
func NewGeneral(r, c int) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
}

// Clone copies a into a new compact matrix (stride = columns).
func Clone(a blas64.General) blas64.General { return Columns(a, a.Cols) }

// Columns copies the first k columns of a into a new compact matrix.
func Columns(a blas64.General, k int) blas64.General {
	out := NewGeneral(a.Rows, k)
	for i := 0; i < a.Rows; i++ {
		copy(out.Data[i*k:(i+1)*k], a.Data[i*a.Stride:i*a.Stride+k])
	}
	return out
}

// Symmetrize copies the upper triangle of the square matrix a into its lower triangle.
//
// It goes by 64×64 tiles, each read along the rows of the upper triangle and
// written along the rows of the lower one from cache: row by row, the
// writes went down a column, one cache line and at large D one page each,
// which at D = 12,288 took 0.96 s against 0.19 s.
func Symmetrize(a blas64.General) {
	const t = 64
	n, s := a.Rows, a.Stride
	for i0 := 0; i0 < n; i0 += t {
		i1 := min(i0+t, n)
		for j0 := i0; j0 < n; j0 += t {
			for j := j0; j < min(j0+t, n); j++ {
				row := a.Data[j*s:]
				for i := i0; i < min(i1, j); i++ {
					row[i] = a.Data[i*s+j]
				}
			}
		}
	}
}

// Reverse reverses the order of w and of the columns of v (when v has
// columns), turning LAPACK's ascending order into this package's descending one.
func Reverse(w []float64, v blas64.General) {
	for i, j := 0, len(w)-1; i < j; i, j = i+1, j-1 {
		w[i], w[j] = w[j], w[i]
	}
	if v.Cols < 2 {
		return
	}
	for r := 0; r < v.Rows; r++ {
		row := v.Data[r*v.Stride : r*v.Stride+v.Cols]
		for i, j := 0, len(row)-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}

// GramStreamer is implemented by backends that can keep the Gram accumulator
// where they compute (device memory) across chunks and hand it back once:
// GramBegin starts a d×d accumulation, GramChunk adds one chunk's
// (X − 1·shiftᵀ)ᵀ(X − 1·shiftᵀ), and GramEnd adds the total into the upper
// triangle of g. Without it, the engine calls GramAdd per chunk.
type GramStreamer interface {
	GramBegin(d int) error
	GramChunk(x Chunk, shift []float64) error
	GramEnd(g blas64.General) error
}

// ScratchReleaser is implemented by backends that keep work buffers between
// calls (a CPU backend's uint8 Gram keeps a D×D int32 block accumulator,
// 600 MB at D = 12,288). ReleaseScratch drops them and returns how many
// bytes it let go; the next call allocates afresh. The engine calls it when
// a pass over the data ends, before the eigendecomposition needs the room.
type ScratchReleaser interface {
	ReleaseScratch() int64
}

// ExactU8Gram is implemented by backends that can say whether their Gram of
// uint8 chunks with an integral shift runs in exact integer arithmetic,
// which costs a fraction of the float64 Gram's time per product; callers
// weighing a Gram against other work use it.
type ExactU8Gram interface {
	ExactU8Gram() bool
}

// PrecisionSelector is implemented by backends that can compute the Gram in
// more than one arithmetic (the CPU backends compute in float64, exact for
// uint8 data, only).
// UsePrecision takes a name such as "fp64", "tf32" or "exact-u8" and returns
// an error for a name it does not know.
type PrecisionSelector interface {
	UsePrecision(name string) error
}

// CheckGeneral panics unless a is a valid rows×cols row-major matrix (shape,
// stride and length), naming pkg, the operation and the operand: a short
// stride or slice is caller misuse, which would otherwise read or write out
// of bounds (in C code, silently).
func CheckGeneral(pkg, op, name string, a blas64.General, rows, cols int) {
	if a.Rows != rows || a.Cols != cols {
		panic(fmt.Sprintf("%s: %s needs %s of %d×%d, got %d×%d", pkg, op, name, rows, cols, a.Rows, a.Cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if a.Stride < cols {
		panic(fmt.Sprintf("%s: %s: %s has stride %d < %d columns", pkg, op, name, a.Stride, cols))
	}
	if need := (rows-1)*a.Stride + cols; len(a.Data) < need {
		panic(fmt.Sprintf("%s: %s: %s (%d×%d, stride %d) needs %d values, has %d", pkg, op, name, rows, cols, a.Stride, need, len(a.Data)))
	}
}
