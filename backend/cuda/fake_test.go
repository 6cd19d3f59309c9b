package cuda

import (
	"fmt"
	"math"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"

	cu "github.com/reconalign/reconalign/cgo/cuda"
	"github.com/reconalign/reconalign/kernels"
)

// fakeDevice is the device interface on the CPU: column-major BLAS and LAPACK
// with cuBLAS/cuSOLVER semantics (only the named triangle is read; what
// cuSOLVER leaves undefined is filled with NaN), and the kernels' Go
// references. It checks bounds on every access, so a buffer sized too small
// by the backend fails the test, and it checks the staging protocol.
type fakeDevice struct {
	bufs      map[int][]uint64
	sizes     map[int]int64
	next      int
	total     int64 // simulated device memory
	pending   [2]bool
	stages    []int // slots staged, in order
	failAfter int   // when > 0, the n-th next BLAS call fails
	// eigCount, when set, is the eigenpair count syevdx reports for k asked
	// (a solver that computes fewer, or never writes the count: −1).
	eigCount func(k int) int
}

func newFakeDevice(total int64) *fakeDevice {
	return &fakeDevice{bufs: map[int][]uint64{}, sizes: map[int]int64{}, total: total}
}

func (f *fakeDevice) describe() deviceInfo {
	return deviceInfo{name: "CPU stand-in", major: 9, minor: 0, libs: "fake", totalMem: f.total}
}

func (f *fakeDevice) used() int64 {
	var u int64
	for _, s := range f.sizes {
		u += s
	}
	return u
}

func (f *fakeDevice) memInfo() (int64, int64, error) { return f.total - f.used(), f.total, nil }

func (f *fakeDevice) alloc(bytes int64) (mem, error) {
	if bytes <= 0 {
		panic(fmt.Sprintf("fake: alloc of %d bytes", bytes))
	}
	if f.used()+bytes > f.total {
		return mem{}, &cu.Error{Call: "cudaMalloc", Lib: cu.LibRuntime, Code: 2, Name: "cudaErrorMemoryAllocation", Detail: "out of memory"}
	}
	f.next++
	f.bufs[f.next] = make([]uint64, (bytes+7)/8)
	f.sizes[f.next] = bytes
	return mem{id: f.next}, nil
}

func (f *fakeDevice) free(m mem) error {
	if _, ok := f.bufs[m.id]; !ok || m.off != 0 {
		panic(fmt.Sprintf("fake: free of %+v, not an allocation", m))
	}
	delete(f.bufs, m.id)
	delete(f.sizes, m.id)
	return nil
}

// bytes is the device memory [m, m+n), bounds-checked.
func (f *fakeDevice) bytes(m mem, n int64) []byte {
	b, ok := f.bufs[m.id]
	if !ok {
		panic(fmt.Sprintf("fake: access to unallocated buffer %+v", m))
	}
	if m.off < 0 || n < 0 || m.off+n > f.sizes[m.id] {
		panic(fmt.Sprintf("fake: access to bytes [%d, %d) of a %d-byte buffer", m.off, m.off+n, f.sizes[m.id]))
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 8*len(b))[m.off : m.off+n]
}

// view is count elements of type T at m; nil for the zero mem.
func view[T any](f *fakeDevice, m mem, count int) []T {
	if m.isNil() || count == 0 {
		return nil
	}
	var z T
	b := f.bytes(m, int64(count)*int64(unsafe.Sizeof(z)))
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), count)
}

// colMajor is the element count of a rows × cols column-major matrix with ld.
func colMajor(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (cols-1)*ld + rows
}

func (f *fakeDevice) upload(dst mem, src []byte) error {
	copy(f.bytes(dst, int64(len(src))), src)
	return nil
}

func (f *fakeDevice) download(dst []byte, src mem) error {
	copy(dst, f.bytes(src, int64(len(dst))))
	return nil
}

func (f *fakeDevice) upload2D(dst mem, dpitch int64, src []byte, spitch, width, height int64) error {
	for r := int64(0); r < height; r++ {
		copy(f.bytes(dst.at(r*dpitch), width), src[r*spitch:r*spitch+width])
	}
	return nil
}

func (f *fakeDevice) download2D(dst []byte, dpitch int64, src mem, spitch, width, height int64) error {
	for r := int64(0); r < height; r++ {
		copy(dst[r*dpitch:r*dpitch+width], f.bytes(src.at(r*spitch), width))
	}
	return nil
}

func (f *fakeDevice) zero(dst mem, bytes int64) error {
	clear(f.bytes(dst, bytes))
	return nil
}

func (f *fakeDevice) stage(slot int, raw mem, src []byte) error {
	if f.pending[slot] {
		return fmt.Errorf("fake: slot %d staged again before the compute stream consumed it", slot)
	}
	f.pending[slot] = true
	f.stages = append(f.stages, slot)
	copy(f.bytes(raw, int64(len(src))), src)
	return nil
}

func (f *fakeDevice) consumed(slot int) error {
	if !f.pending[slot] {
		return fmt.Errorf("fake: slot %d consumed but never staged", slot)
	}
	f.pending[slot] = false
	return nil
}

func (f *fakeDevice) sync() error { return nil }

func (f *fakeDevice) close() error {
	if len(f.bufs) != 0 {
		return fmt.Errorf("fake: %d device buffers still allocated at close", len(f.bufs))
	}
	return nil
}

func (f *fakeDevice) blasCall(name string) error {
	if f.failAfter > 0 {
		f.failAfter--
		if f.failAfter == 0 {
			return &cu.Error{Call: name, Lib: cu.LibBLAS, Code: 14, Name: "CUBLAS_STATUS_INTERNAL_ERROR"}
		}
	}
	return nil
}

// at reads element (i, j) of op(a), a column-major with leading dimension ld.
func at(a []float64, t cu.Operation, ld, i, j int) float64 {
	if t == cu.OpN {
		return a[i+j*ld]
	}
	return a[j+i*ld]
}

func (f *fakeDevice) dsyrk(uplo cu.FillMode, trans cu.Operation, n, k int, alpha float64, a mem, lda int, beta float64, c mem, ldc int) error {
	if err := f.blasCall("cublasDsyrk_v2"); err != nil {
		return err
	}
	rows, cols := n, k
	if trans != cu.OpN {
		rows, cols = k, n
	}
	A := view[float64](f, a, colMajor(rows, cols, lda))
	C := view[float64](f, c, colMajor(n, n, ldc))
	for j := 0; j < n; j++ {
		lo, hi := j, n // lower
		if uplo == cu.Upper {
			lo, hi = 0, j+1
		}
		for i := lo; i < hi; i++ {
			var s float64
			for l := 0; l < k; l++ {
				s += at(A, trans, lda, i, l) * at(A, trans, lda, j, l)
			}
			if beta == 0 {
				C[i+j*ldc] = alpha * s
			} else {
				C[i+j*ldc] = alpha*s + beta*C[i+j*ldc]
			}
		}
	}
	return nil
}

func (f *fakeDevice) dgemm(ta, tb cu.Operation, m, n, k int, alpha float64, a mem, lda int, b mem, ldb int, beta float64, c mem, ldc int) error {
	if err := f.blasCall("cublasDgemm_v2"); err != nil {
		return err
	}
	ar, ac := m, k
	if ta != cu.OpN {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb != cu.OpN {
		br, bc = n, k
	}
	A, B := view[float64](f, a, colMajor(ar, ac, lda)), view[float64](f, b, colMajor(br, bc, ldb))
	C := view[float64](f, c, colMajor(m, n, ldc))
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			var s float64
			for l := 0; l < k; l++ {
				s += at(A, ta, lda, i, l) * at(B, tb, ldb, l, j)
			}
			if beta == 0 {
				C[i+j*ldc] = alpha * s
			} else {
				C[i+j*ldc] = alpha*s + beta*C[i+j*ldc]
			}
		}
	}
	return nil
}

// toRowMajor copies a column-major rows × cols matrix into a row-major one.
func toRowMajor(a []float64, rows, cols, ld int) blas64.General {
	g := blas64.General{Rows: rows, Cols: cols, Stride: max(cols, 1), Data: make([]float64, rows*max(cols, 1))}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			g.Data[i*g.Stride+j] = a[i+j*ld]
		}
	}
	return g
}

func fromRowMajor(a []float64, ld int, g blas64.General) {
	for i := 0; i < g.Rows; i++ {
		for j := 0; j < g.Cols; j++ {
			a[i+j*ld] = g.Data[i*g.Stride+j]
		}
	}
}

func gonumUplo(u cu.FillMode) blas.Uplo {
	if u == cu.Lower {
		return blas.Lower
	}
	return blas.Upper
}

func (f *fakeDevice) dtrsm(side cu.SideMode, uplo cu.FillMode, trans cu.Operation, m, n int, a mem, lda int, b mem, ldb int) error {
	if err := f.blasCall("cublasDtrsm_v2"); err != nil {
		return err
	}
	s := m
	if side == cu.Right {
		s = n
	}
	// The triangle named by uplo only: the other one is poisoned.
	T := toRowMajor(view[float64](f, a, colMajor(s, s, lda)), s, s, lda)
	for i := 0; i < s; i++ {
		for j := 0; j < s; j++ {
			if (uplo == cu.Lower && j > i) || (uplo == cu.Upper && j < i) {
				T.Data[i*s+j] = math.NaN()
			}
		}
	}
	B := view[float64](f, b, colMajor(m, n, ldb))
	X := toRowMajor(B, m, n, ldb)
	gside := blas.Left
	if side == cu.Right {
		gside = blas.Right
	}
	gt := blas.NoTrans
	if trans != cu.OpN {
		gt = blas.Trans
	}
	blas64.Trsm(gside, gt, 1, blas64.Triangular{Uplo: gonumUplo(uplo), Diag: blas.NonUnit, N: s, Stride: s, Data: T.Data}, X)
	fromRowMajor(B, ldb, X)
	return nil
}

// element reads a GEMM operand of type dt as float64, rounding float32 to
// TF32 (10-bit mantissa, to nearest even) when the compute type allows it.
func (f *fakeDevice) operand(m mem, dt cu.DataType, count int, tf32 bool) []float64 {
	out := make([]float64, count)
	switch dt {
	case cu.R32F:
		for i, v := range view[float32](f, m, count) {
			if tf32 {
				u := math.Float32bits(v)
				u = (u + 0xFFF + ((u >> 13) & 1)) &^ 0x1FFF
				v = math.Float32frombits(u)
			}
			out[i] = float64(v)
		}
	case cu.R16BF:
		for i, v := range view[uint16](f, m, count) {
			out[i] = float64(kernels.BF16Float(v))
		}
	case cu.R8I:
		for i, v := range view[int8](f, m, count) {
			out[i] = float64(v)
		}
	default:
		panic(fmt.Sprintf("fake: gemmEx operand type %d", dt))
	}
	return out
}

func (f *fakeDevice) gemmEx(ta, tb cu.Operation, m, n, k int, a mem, at_ cu.DataType, lda int, b mem, bt cu.DataType, ldb int,
	c mem, ct cu.DataType, ldc int, compute cu.ComputeType) error {
	if err := f.blasCall("cublasGemmEx"); err != nil {
		return err
	}
	if compute == cu.Compute32I && (at_ != cu.R8I || bt != cu.R8I || ct != cu.R32I || lda%4 != 0 || ldb%4 != 0 || ldc%4 != 0) {
		return &cu.Error{Call: "cublasGemmEx", Lib: cu.LibBLAS, Code: 15, Name: "CUBLAS_STATUS_NOT_SUPPORTED"}
	}
	ar, ac := m, k
	if ta != cu.OpN {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb != cu.OpN {
		br, bc = n, k
	}
	tf32 := compute == cu.Compute32FFastTF32
	A := f.operand(a, at_, colMajor(ar, ac, lda), tf32)
	B := f.operand(b, bt, colMajor(br, bc, ldb), tf32)
	switch ct {
	case cu.R32F:
		C := view[float32](f, c, colMajor(m, n, ldc))
		for j := 0; j < n; j++ {
			for i := 0; i < m; i++ {
				var s float32 // float32 accumulation, as on the GPU
				for l := 0; l < k; l++ {
					s += float32(at(A, ta, lda, i, l) * at(B, tb, ldb, l, j))
				}
				C[i+j*ldc] = s
			}
		}
	case cu.R32I:
		C := view[int32](f, c, colMajor(m, n, ldc))
		for j := 0; j < n; j++ {
			for i := 0; i < m; i++ {
				var s int32 // wraps like the hardware
				for l := 0; l < k; l++ {
					s += int32(at(A, ta, lda, i, l)) * int32(at(B, tb, ldb, l, j))
				}
				C[i+j*ldc] = s
			}
		}
	default:
		panic(fmt.Sprintf("fake: gemmEx output type %d", ct))
	}
	return nil
}

// symmetric builds the full symmetric matrix from the lower triangle of a
// column-major n × n matrix; the fake solvers take only Lower, as the backend
// always asks for it.
func symmetric(a []float64, uplo cu.FillMode, n int) blas64.General {
	if uplo != cu.Lower {
		panic("fake: the backend should always pass CUBLAS_FILL_MODE_LOWER")
	}
	s := blas64.General{Rows: n, Cols: n, Stride: n, Data: make([]float64, n*n)}
	for j := 0; j < n; j++ {
		for i := j; i < n; i++ {
			s.Data[i*n+j], s.Data[j*n+i] = a[i+j*n], a[i+j*n]
		}
	}
	return s
}

func poison(a []float64) {
	for i := range a {
		a[i] = math.NaN()
	}
}

// eig returns the eigenvalues ascending and the eigenvectors as columns.
func eig(s blas64.General) ([]float64, blas64.General, bool) {
	n := s.Rows
	w := make([]float64, n)
	sym := blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: s.Data}
	work := []float64{0}
	lapack64.Syev(lapack.EVCompute, sym, w, work, -1)
	work = make([]float64, int(work[0]))
	ok := lapack64.Syev(lapack.EVCompute, sym, w, work, len(work))
	return w, s, ok
}

func (f *fakeDevice) syevd(vectors bool, uplo cu.FillMode, n int, a, w mem) (int, error) {
	A := view[float64](f, a, n*n)
	vals, vecs, ok := eig(symmetric(A, uplo, n))
	if !ok {
		return 1, nil
	}
	copy(view[float64](f, w, n), vals)
	if vectors {
		fromRowMajor(A, n, vecs)
	} else {
		poison(A)
	}
	return 0, nil
}

func (f *fakeDevice) syevdx(uplo cu.FillMode, n, k int, a, w mem) (int, int, error) {
	A := view[float64](f, a, n*n)
	vals, vecs, ok := eig(symmetric(A, uplo, n))
	if !ok {
		return 1, -1, nil
	}
	found := k
	if f.eigCount != nil {
		found = f.eigCount(k)
	}
	copy(view[float64](f, w, n), vals[n-k:])
	poison(A)
	for j := 0; j < k; j++ {
		for i := 0; i < n; i++ {
			A[i+j*n] = vecs.Data[i*n+n-k+j]
		}
	}
	return 0, found, nil
}

func (f *fakeDevice) sygvd(uplo cu.FillMode, n int, a, b, w mem) (int, error) {
	A, B := view[float64](f, a, n*n), view[float64](f, b, n*n)
	sa, sb := symmetric(A, uplo, n), symmetric(B, uplo, n)
	// b = UᵀU; C = U⁻ᵀ·a·U⁻¹ has the pencil's eigenvalues and v = U⁻¹·z.
	if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: sb.Data}); !ok {
		return n + 1, nil
	}
	u := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: n, Stride: n, Data: sb.Data}
	blas64.Trsm(blas.Left, blas.Trans, 1, u, sa)
	blas64.Trsm(blas.Right, blas.NoTrans, 1, u, sa)
	for i := 0; i < n; i++ { // symmetrise away the rounding
		for j := i + 1; j < n; j++ {
			v := (sa.Data[i*n+j] + sa.Data[j*n+i]) / 2
			sa.Data[i*n+j], sa.Data[j*n+i] = v, v
		}
	}
	vals, vecs, ok := eig(sa)
	if !ok {
		return 1, nil
	}
	blas64.Trsm(blas.Left, blas.NoTrans, 1, u, vecs)
	copy(view[float64](f, w, n), vals)
	fromRowMajor(A, n, vecs)
	poison(B)
	return 0, nil
}

func (f *fakeDevice) potrf(uplo cu.FillMode, n int, a mem) (int, error) {
	A := view[float64](f, a, n*n)
	s := symmetric(A, uplo, n)
	if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: s.Data}); !ok {
		return 1, nil
	}
	for j := 0; j < n; j++ { // the lower triangle only, as cuSOLVER
		for i := j; i < n; i++ {
			A[i+j*n] = s.Data[i*n+j]
		}
	}
	return 0, nil
}

func (f *fakeDevice) geqrf(m, n int, a, tau mem) (int, error) {
	A := view[float64](f, a, m*n)
	g := toRowMajor(A, m, n, m)
	t := view[float64](f, tau, n)
	work := []float64{0}
	lapack64.Geqrf(g, t, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Geqrf(g, t, work, len(work))
	fromRowMajor(A, m, g)
	return 0, nil
}

func (f *fakeDevice) orgqr(m, n, k int, a, tau mem) (int, error) {
	A := view[float64](f, a, m*n)
	g := toRowMajor(A, m, n, m)
	t := view[float64](f, tau, k)
	work := []float64{0}
	lapack64.Orgqr(g, t, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Orgqr(g, t, work, len(work))
	fromRowMajor(A, m, g)
	return 0, nil
}

func (f *fakeDevice) convert(dst mem, out kernels.Elem, src mem, in kernels.Elem, shift mem, n, d int) error {
	var s, o any
	switch in {
	case kernels.U8:
		s = view[uint8](f, src, n*d)
	case kernels.F32:
		s = view[float32](f, src, n*d)
	default:
		s = view[float64](f, src, n*d)
	}
	switch out {
	case kernels.F64:
		o = view[float64](f, dst, n*d)
	case kernels.F32:
		o = view[float32](f, dst, n*d)
	default:
		o = view[uint16](f, dst, n*d)
	}
	kernels.ConvertRef(o, s, view[float64](f, shift, d), n, d)
	return nil
}

func (f *fakeDevice) u8ToI8T(dst, src mem, n, d, dpad, kpad int) error {
	kernels.U8ToI8TRef(view[int8](f, dst, dpad*kpad), view[uint8](f, src, n*d), n, d, dpad, kpad)
	return nil
}

func (f *fakeDevice) colSumU8(sums, src mem, n, d int) error {
	kernels.ColSumU8Ref(view[uint64](f, sums, d), view[uint8](f, src, n*d), n, d)
	return nil
}

func (f *fakeDevice) exactFinish(acc, gi mem, ldg int, colsum, shift mem, n, d int) error {
	kernels.ExactFinishRef(view[float64](f, acc, d*d), view[int32](f, gi, colMajor(d, d, ldg)), ldg, view[uint64](f, colsum, d), view[float64](f, shift, d), n, d)
	return nil
}

func (f *fakeDevice) addLowerF32(acc, s mem, d int) error {
	kernels.AddLowerF32Ref(view[float64](f, acc, d*d), view[float32](f, s, d*d), d)
	return nil
}

func (f *fakeDevice) gatherT(dst, src mem, ld, rows, cols, col0 int, reverse bool) error {
	kernels.GatherTRef(view[float64](f, dst, rows*cols), view[float64](f, src, colMajor(rows, col0+cols, ld)), ld, rows, cols, col0, reverse)
	return nil
}
