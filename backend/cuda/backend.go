// Package cuda is the GPU backend: backend.Backend on an NVIDIA GPU through
// cuBLAS, cuSOLVER and a few NVRTC-compiled kernels (package kernels), all
// loaded at run time by package cgo/cuda. It registers itself as "cuda" with
// priority 20, above the CPU backends; where it cannot run (no cgo, no
// driver, no GPU, libraries missing) its factory returns an error matching
// backend.ErrUnavailable with the loader's reason, and nothing crashes.
//
// # Layout
//
// cuBLAS and cuSOLVER are column-major; the backend's matrices are row-major.
// A row-major r × c matrix copied compactly to the device is, read
// column-major with leading dimension c, its transpose (c × r). So:
//
//   - a symmetric matrix is its own transpose: it goes to the device as is,
//     and its row-major upper triangle is the column-major lower triangle
//     (every symmetric call uses CUBLAS_FILL_MODE_LOWER);
//   - a chunk X (n × d row-major) is the column-major d × n matrix Xᵀ, so
//     XᵀX = (Xᵀ)(Xᵀ)ᵀ is cublasDsyrk with trans N, n = d, k = n;
//   - C = op(A)·op(B) row-major is Cᵀ = op(B)ᵀ·op(A)ᵀ column-major: cuBLAS is
//     called with the operands swapped and the same transpose flags;
//   - results whose columns matter (eigenvectors, Q) are transposed back on
//     the device (kernel gather_t), which also reverses cuSOLVER's ascending
//     order into this project's descending one.
//
// # The Gram
//
// GramAdd uploads a chunk (as uint8, float32 or float64, whichever it is),
// converts it on the device (applying the shift in float64) and adds its Gram
// to a d × d float64 accumulator on the device, in the arithmetic chosen with
// SetPrecision (FP64 by default; see Precision). Large chunks are split to fit
// device memory (PlanChunks), uploads are double-buffered through page-locked
// memory. GramAdd itself returns after adding the accumulator into g, which
// costs a d × d download per call; GramBegin, GramChunk and GramEnd keep the
// accumulator on the device across any number of chunks and download once.
//
// BUG(cuda): in ExactU8 mode a shift is subtracted from the exact integer
// Gram afterwards, in float64 (G − c·sᵀ − s·cᵀ + n·s·sᵀ), where the other
// modes and the CPU backends subtract it from the data first. For uint8 data
// the error is about 1e-16 of n·255² per chunk: negligible for images, but
// a feature whose spread is tiny next to its mean loses digits.
//
// BUG(cuda): each GramAdd call downloads the d × d accumulator (1.2 GB at
// d = 12,288); stream many chunks through GramBegin/GramChunk/GramEnd.
package cuda

import (
	"errors"
	"fmt"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	cu "github.com/reconalign/reconalign/cgo/cuda"
	"github.com/reconalign/reconalign/kernels/cpu"
)

// Name is the registry name of this backend.
const Name = "cuda"

// Priority ranks it above the CPU backends in backend.OpenBest.
const Priority = 20

// Backend implements backend.Backend on one GPU.
type Backend struct {
	dev       device
	info      deviceInfo
	precision Precision
	gram      gramState
	// maxRows, when positive, caps the planner's rows per device chunk
	// (tests use it to exercise chunk splitting on small data).
	maxRows int
}

var (
	_ backend.Backend = (*Backend)(nil)
	_ backend.Closer  = (*Backend)(nil)
)

func newBackend(dev device) *Backend {
	return &Backend{dev: dev, info: dev.describe(), precision: FP64}
}

// SetPrecision chooses the arithmetic of the Gram for the following chunks.
// Changing it in the middle of a GramBegin…GramEnd sequence is an error.
func (b *Backend) SetPrecision(p Precision) error {
	if _, err := ParsePrecision(string(p)); err != nil {
		return err
	}
	if b.gram.active {
		return fmt.Errorf("cuda: SetPrecision(%s) while a Gram is being accumulated", p)
	}
	b.precision = p
	return nil
}

// Precision is the arithmetic of the Gram.
func (b *Backend) Precision() Precision { return b.precision }

func (b *Backend) Info() backend.Info {
	prec := "float64"
	switch b.precision {
	case FP32:
		prec = "float32 Gram, float64 factorizations"
	case TF32:
		prec = "tf32 Gram (float32 accumulate), float64 factorizations"
	case BF16:
		prec = "bfloat16 Gram (float32 accumulate), float64 factorizations"
	case ExactU8:
		prec = "exact int8 Gram of uint8 data (float64 for other types), float64 factorizations"
	}
	dev := fmt.Sprintf("%s (compute capability %d.%d)", b.info.name, b.info.major, b.info.minor)
	return backend.Info{Name: Name, Device: dev, Precision: prec, Library: b.info.libs}
}

// Close frees the device memory and the library handles.
func (b *Backend) Close() error {
	if b.dev == nil {
		return nil
	}
	b.releaseGram(true)
	err := b.dev.close()
	b.dev = nil
	return err
}

// wrap names the operation in a device error; running out of device memory is
// an environment failure, reported as backend.ErrUnavailable so that callers
// can fall back to a CPU backend.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *cu.Error
	if errors.As(err, &ce) && ce.OutOfMemory() {
		return backend.Unavailable(Name, "%s: out of device memory: %v", op, err)
	}
	return fmt.Errorf("cuda: %s: %w", op, err)
}

// alloc allocates device memory; when the device is full it first gives back
// the Gram's chunk buffers (they are re-created on demand) and tries again.
func (b *Backend) alloc(bytes int64) (mem, error) {
	if b.dev == nil {
		return mem{}, errors.New("cuda: backend used after Close")
	}
	m, err := b.dev.alloc(max(bytes, 8))
	var ce *cu.Error
	if err != nil && errors.As(err, &ce) && ce.OutOfMemory() && b.gram.holdsChunkBuffers() {
		b.releaseGram(false)
		m, err = b.dev.alloc(max(bytes, 8))
	}
	return m, err
}

// scratch collects the allocations of one operation and frees them together.
type scratch struct {
	b   *Backend
	ms  []mem
	err error
}

func (s *scratch) get(bytes int64) mem {
	if s.err != nil {
		return mem{}
	}
	m, err := s.b.alloc(bytes)
	if err != nil {
		s.err = err
		return mem{}
	}
	s.ms = append(s.ms, m)
	return m
}

func (s *scratch) release() {
	for _, m := range s.ms {
		s.b.dev.free(m)
	}
}

func f64Bytes(v []float64) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
}

// span is the number of elements of a.Data a row-major matrix covers.
func span(op string, a blas64.General) int {
	if a.Rows == 0 || a.Cols == 0 {
		return 0
	}
	n := (a.Rows-1)*a.Stride + a.Cols
	if a.Stride < a.Cols || len(a.Data) < n {
		panic(fmt.Sprintf("cuda: %s: %d×%d matrix with stride %d needs %d values, has %d", op, a.Rows, a.Cols, a.Stride, n, len(a.Data)))
	}
	return n
}

// put copies a row-major matrix compactly (leading dimension a.Cols) to dst.
func (b *Backend) put(op string, dst mem, a blas64.General) error {
	n := span(op, a)
	if n == 0 {
		return nil
	}
	return b.dev.upload2D(dst, 8*int64(a.Cols), f64Bytes(a.Data[:n]), 8*int64(a.Stride), 8*int64(a.Cols), int64(a.Rows))
}

// get copies a compact row-major matrix from src into a.
func (b *Backend) get(op string, a blas64.General, src mem) error {
	n := span(op, a)
	if n == 0 {
		return nil
	}
	return b.dev.download2D(f64Bytes(a.Data[:n]), 8*int64(a.Stride), src, 8*int64(a.Cols), 8*int64(a.Cols), int64(a.Rows))
}

func checkSquare(op string, a blas64.General, n int) int {
	if a.Rows != n || a.Cols != n {
		panic(fmt.Sprintf("cuda: %s needs a %d×%d matrix, got %d×%d", op, n, n, a.Rows, a.Cols))
	}
	span(op, a)
	return n
}

func op(t blas.Transpose) cu.Operation {
	switch t {
	case blas.NoTrans:
		return cu.OpN
	case blas.Trans, blas.ConjTrans:
		return cu.OpT
	}
	panic(fmt.Sprintf("cuda: bad transpose flag %v", t))
}

// Gemm maps c = alpha·op(a)·op(b) + beta·c to the column-major
// cᵀ = alpha·op(b)ᵀ·op(a)ᵀ + beta·cᵀ, where the row-major a, b, c on the
// device are column-major aᵀ, bᵀ, cᵀ: cuBLAS gets (b, a) with the same flags.
func (b *Backend) Gemm(tA, tB blas.Transpose, alpha float64, x, y blas64.General, beta float64, c blas64.General) error {
	m, n := c.Rows, c.Cols
	k := x.Cols
	xr := x.Rows
	if op(tA) == cu.OpT {
		k, xr = x.Rows, x.Cols
	}
	yr, yc := y.Rows, y.Cols
	if op(tB) == cu.OpT {
		yr, yc = y.Cols, y.Rows
	}
	if xr != m || yr != k || yc != n {
		panic(fmt.Sprintf("cuda: Gemm shapes: op(a) is %d×%d, op(b) %d×%d, c %d×%d", xr, k, yr, yc, m, n))
	}
	span("Gemm", x)
	span("Gemm", y)
	span("Gemm", c)
	if m == 0 || n == 0 {
		return nil
	}
	if k == 0 || alpha == 0 {
		// BLAS semantics: c = beta·c, and beta = 0 clears c even of NaNs.
		cpu.Scale(c.Data, c.Stride, m, n, beta)
		return nil
	}
	s := &scratch{b: b}
	defer s.release()
	dx := s.get(8 * int64(x.Rows) * int64(x.Cols))
	dy := s.get(8 * int64(y.Rows) * int64(y.Cols))
	dc := s.get(8 * int64(m) * int64(n))
	if s.err != nil {
		return wrap("Gemm", s.err)
	}
	if err := b.put("Gemm", dx, x); err != nil {
		return wrap("Gemm", err)
	}
	if err := b.put("Gemm", dy, y); err != nil {
		return wrap("Gemm", err)
	}
	if beta != 0 {
		if err := b.put("Gemm", dc, c); err != nil {
			return wrap("Gemm", err)
		}
	}
	if err := b.dev.dgemm(op(tB), op(tA), n, m, k, alpha, dy, y.Cols, dx, x.Cols, beta, dc, n); err != nil {
		return wrap("Gemm", err)
	}
	return wrap("Gemm", b.get("Gemm", c, dc))
}

// eigInfo turns cuSOLVER's info of an eigensolver into this package's errors.
func eigInfo(call string, info int) error {
	switch {
	case info == 0:
		return nil
	case info < 0:
		return fmt.Errorf("cuda: %s rejected argument %d", call, -info)
	}
	return backend.ErrNotConverged
}

// SymEig uses cusolverDnXsyevd on the lower (column-major) triangle, which is
// the row-major upper triangle.
func (b *Backend) SymEig(a blas64.General, vectors bool) ([]float64, error) {
	n := checkSquare("SymEig", a, a.Rows)
	w := make([]float64, n)
	if n == 0 {
		return w, nil
	}
	s := &scratch{b: b}
	defer s.release()
	nn := int64(n) * int64(n)
	da, dw := s.get(8*nn), s.get(8*int64(n))
	if s.err != nil {
		return nil, wrap("SymEig", s.err)
	}
	if err := b.put("SymEig", da, a); err != nil {
		return nil, wrap("SymEig", err)
	}
	info, err := b.dev.syevd(vectors, cu.Lower, n, da, dw)
	if err != nil {
		return nil, wrap("SymEig", err)
	}
	if err := eigInfo("cusolverDnXsyevd", info); err != nil {
		return nil, err
	}
	if err := b.dev.download(f64Bytes(w), dw); err != nil {
		return nil, wrap("SymEig", err)
	}
	backend.Reverse(w, blas64.General{})
	if vectors {
		dv := s.get(8 * nn)
		if s.err != nil {
			return nil, wrap("SymEig", s.err)
		}
		if err := b.dev.gatherT(dv, da, n, n, n, 0, true); err != nil {
			return nil, wrap("SymEig", err)
		}
		if err := b.get("SymEig", a, dv); err != nil {
			return nil, wrap("SymEig", err)
		}
	}
	return w, nil
}

// SymEigTop uses cusolverDnXsyevdx with the index range n−k+1 … n.
func (b *Backend) SymEigTop(a blas64.General, k int) ([]float64, blas64.General, error) {
	n := checkSquare("SymEigTop", a, a.Rows)
	if k < 0 || k > n {
		panic(fmt.Sprintf("cuda: SymEigTop k = %d outside [0, %d]", k, n))
	}
	v := backend.NewGeneral(n, k)
	if k == 0 {
		return []float64{}, v, nil
	}
	s := &scratch{b: b}
	defer s.release()
	nn := int64(n) * int64(n)
	da, dw, dv := s.get(8*nn), s.get(8*int64(n)), s.get(8*int64(n)*int64(k))
	if s.err != nil {
		return nil, blas64.General{}, wrap("SymEigTop", s.err)
	}
	if err := b.put("SymEigTop", da, a); err != nil {
		return nil, blas64.General{}, wrap("SymEigTop", err)
	}
	info, found, err := b.dev.syevdx(cu.Lower, n, k, da, dw)
	if err != nil {
		return nil, blas64.General{}, wrap("SymEigTop", err)
	}
	if err := eigInfo("cusolverDnXsyevdx", info); err != nil {
		return nil, blas64.General{}, err
	}
	if found != k {
		// w and a would not hold the k pairs read back below.
		what := fmt.Sprintf("computed %d eigenpairs", found)
		if found < 0 {
			what = fmt.Sprintf("left its eigenpair count unwritten (meig = %d)", found)
		}
		return nil, blas64.General{}, fmt.Errorf("cuda: SymEigTop: cusolverDnXsyevdx %s, asked for %d (the largest of a %d×%d matrix)", what, k, n, n)
	}
	w := make([]float64, k)
	if err := b.dev.download(f64Bytes(w), dw); err != nil {
		return nil, blas64.General{}, wrap("SymEigTop", err)
	}
	backend.Reverse(w, blas64.General{})
	if err := b.dev.gatherT(dv, da, n, n, k, 0, true); err != nil {
		return nil, blas64.General{}, wrap("SymEigTop", err)
	}
	if err := b.get("SymEigTop", v, dv); err != nil {
		return nil, blas64.General{}, wrap("SymEigTop", err)
	}
	return w, v, nil
}

// SymGenEig uses cusolverDnDsygvd (itype 1: a·v = λ·b·v).
func (b *Backend) SymGenEig(a, bm blas64.General) ([]float64, error) {
	n := checkSquare("SymGenEig", a, a.Rows)
	checkSquare("SymGenEig", bm, n)
	w := make([]float64, n)
	if n == 0 {
		return w, nil
	}
	s := &scratch{b: b}
	defer s.release()
	nn := int64(n) * int64(n)
	da, db, dw := s.get(8*nn), s.get(8*nn), s.get(8*int64(n))
	if s.err != nil {
		return nil, wrap("SymGenEig", s.err)
	}
	if err := b.put("SymGenEig", da, a); err != nil {
		return nil, wrap("SymGenEig", err)
	}
	if err := b.put("SymGenEig", db, bm); err != nil {
		return nil, wrap("SymGenEig", err)
	}
	info, err := b.dev.sygvd(cu.Lower, n, da, db, dw)
	if err != nil {
		return nil, wrap("SymGenEig", err)
	}
	if info > n {
		return nil, backend.ErrNotPositiveDefinite
	}
	if err := eigInfo("cusolverDnDsygvd", info); err != nil {
		return nil, err
	}
	if err := b.dev.download(f64Bytes(w), dw); err != nil {
		return nil, wrap("SymGenEig", err)
	}
	backend.Reverse(w, blas64.General{})
	dv := s.get(8 * nn)
	if s.err != nil {
		return nil, wrap("SymGenEig", s.err)
	}
	if err := b.dev.gatherT(dv, da, n, n, n, 0, true); err != nil {
		return nil, wrap("SymGenEig", err)
	}
	return w, wrap("SymGenEig", b.get("SymGenEig", a, dv))
}

// Cholesky factors the column-major lower triangle (a = L·Lᵀ); read
// row-major, L is the upper-triangular U = Lᵀ with a = UᵀU.
func (b *Backend) Cholesky(a blas64.General) error {
	n := checkSquare("Cholesky", a, a.Rows)
	if n == 0 {
		return nil
	}
	s := &scratch{b: b}
	defer s.release()
	da := s.get(8 * int64(n) * int64(n))
	if s.err != nil {
		return wrap("Cholesky", s.err)
	}
	if err := b.put("Cholesky", da, a); err != nil {
		return wrap("Cholesky", err)
	}
	info, err := b.dev.potrf(cu.Lower, n, da)
	if err != nil {
		return wrap("Cholesky", err)
	}
	switch {
	case info > 0:
		return backend.ErrNotPositiveDefinite
	case info < 0:
		return fmt.Errorf("cuda: cusolverDnDpotrf rejected argument %d", -info)
	}
	if err := b.get("Cholesky", a, da); err != nil {
		return wrap("Cholesky", err)
	}
	// The column-major strict upper triangle (row-major strict lower) still
	// holds the input.
	for i := 1; i < n; i++ {
		clear(a.Data[i*a.Stride : i*a.Stride+i])
	}
	return nil
}

// TriSolve solves op(t)·X = B. Row-major X and B are the column-major Xᵀ and
// Bᵀ, and op(t)·X = B ⇔ Xᵀ·op(t)ᵀ = Bᵀ: cublasDtrsm from the right on the
// column-major tᵀ, whose triangle is the other one and whose flag is the same.
func (b *Backend) TriSolve(ul blas.Uplo, tA blas.Transpose, t, x blas64.General) error {
	n := checkSquare("TriSolve", t, t.Rows)
	if x.Rows != n {
		panic(fmt.Sprintf("cuda: TriSolve right-hand side has %d rows, want %d", x.Rows, n))
	}
	span("TriSolve", x)
	m := x.Cols
	if n == 0 || m == 0 {
		return nil
	}
	var uplo cu.FillMode
	switch ul {
	case blas.Upper:
		uplo = cu.Lower
	case blas.Lower:
		uplo = cu.Upper
	default:
		panic(fmt.Sprintf("cuda: TriSolve: bad uplo %v", ul))
	}
	s := &scratch{b: b}
	defer s.release()
	dt, dx := s.get(8*int64(n)*int64(n)), s.get(8*int64(n)*int64(m))
	if s.err != nil {
		return wrap("TriSolve", s.err)
	}
	if err := b.put("TriSolve", dt, t); err != nil {
		return wrap("TriSolve", err)
	}
	if err := b.put("TriSolve", dx, x); err != nil {
		return wrap("TriSolve", err)
	}
	if err := b.dev.dtrsm(cu.Right, uplo, op(tA), m, n, dt, n, dx, m); err != nil {
		return wrap("TriSolve", err)
	}
	return wrap("TriSolve", b.get("TriSolve", x, dx))
}

// QR transposes a on the device into column-major form, runs
// cusolverDnDgeqrf and cusolverDnDorgqr there, and transposes R and Q back.
func (b *Backend) QR(a blas64.General) (blas64.General, error) {
	m, n := a.Rows, a.Cols
	if m < n {
		panic(fmt.Sprintf("cuda: QR of a %d×%d matrix needs rows ≥ columns", m, n))
	}
	span("QR", a)
	r := backend.NewGeneral(n, n)
	if n == 0 {
		return r, nil
	}
	s := &scratch{b: b}
	defer s.release()
	mn := int64(m) * int64(n)
	drow, dcol, tau, dr := s.get(8*mn), s.get(8*mn), s.get(8*int64(n)), s.get(8*int64(n)*int64(n))
	if s.err != nil {
		return blas64.General{}, wrap("QR", s.err)
	}
	if err := b.put("QR", drow, a); err != nil {
		return blas64.General{}, wrap("QR", err)
	}
	// drow is column-major n × m (aᵀ); its transpose, written row-major n × m,
	// is a column-major m × n with leading dimension m.
	if err := b.dev.gatherT(dcol, drow, n, n, m, 0, false); err != nil {
		return blas64.General{}, wrap("QR", err)
	}
	info, err := b.dev.geqrf(m, n, dcol, tau)
	if err == nil && info != 0 {
		err = fmt.Errorf("cusolverDnDgeqrf: info %d", info)
	}
	if err != nil {
		return blas64.General{}, wrap("QR", err)
	}
	if err := b.dev.gatherT(dr, dcol, m, n, n, 0, false); err != nil {
		return blas64.General{}, wrap("QR", err)
	}
	if err := b.dev.download(f64Bytes(r.Data), dr); err != nil {
		return blas64.General{}, wrap("QR", err)
	}
	for i := 1; i < n; i++ {
		clear(r.Data[i*n : i*n+i]) // the reflectors below R's diagonal
	}
	info, err = b.dev.orgqr(m, n, n, dcol, tau)
	if err == nil && info != 0 {
		err = fmt.Errorf("cusolverDnDorgqr: info %d", info)
	}
	if err != nil {
		return blas64.General{}, wrap("QR", err)
	}
	if err := b.dev.gatherT(drow, dcol, m, m, n, 0, false); err != nil {
		return blas64.General{}, wrap("QR", err)
	}
	return r, wrap("QR", b.get("QR", a, drow))
}
