package cuda

import (
	cu "github.com/reconalign/reconalign/cgo/cuda"
	"github.com/reconalign/reconalign/kernels"
)

// mem names a place in device memory: an allocation and a byte offset in it.
// The zero mem is "none" (a NULL pointer for the kernels).
type mem struct {
	id  int
	off int64
}

func (m mem) at(bytes int64) mem { return mem{m.id, m.off + bytes} }
func (m mem) isNil() bool        { return m.id == 0 }

// deviceInfo describes the GPU and the libraries driving it.
type deviceInfo struct {
	name     string
	major    int // compute capability
	minor    int
	libs     string // library versions, for Info
	totalMem int64
}

// device is the GPU as the backend uses it. Matrices on the device are
// column-major (cuBLAS and cuSOLVER's convention); the backend maps its
// row-major matrices onto them. Work is queued in order on one compute
// stream; methods returning host data, and host transfers, wait for it.
//
// gpu (gpu.go, cgo) implements it on a real GPU through package cgo/cuda. The
// tests implement it on the CPU, with the same column-major semantics and the
// Go references of the kernels, so that the backend's layout logic is tested
// without a GPU.
type device interface {
	describe() deviceInfo
	memInfo() (free, total int64, err error)
	alloc(bytes int64) (mem, error)
	free(m mem) error

	// Transfers of Go memory; they return once the data has arrived.
	upload(dst mem, src []byte) error
	download(dst []byte, src mem) error
	// 2D transfers: height rows of width bytes, spitch apart in the source
	// and dpitch apart in the destination.
	upload2D(dst mem, dpitch int64, src []byte, spitch, width, height int64) error
	download2D(dst []byte, dpitch int64, src mem, spitch, width, height int64) error
	// zero queues setting bytes of dst to 0.
	zero(dst mem, bytes int64) error

	// stage queues the copy of a chunk's bytes into raw through staging slot
	// slot (0 or 1), so that the host may prepare the next chunk while this
	// one is copied and computed; the compute stream's later work sees the
	// data. consumed marks the point of the compute stream after which raw
	// (and the slot) may be reused.
	stage(slot int, raw mem, src []byte) error
	consumed(slot int) error
	// sync waits for all queued work.
	sync() error

	// cuBLAS, column-major.
	dsyrk(uplo cu.FillMode, trans cu.Operation, n, k int, alpha float64, a mem, lda int, beta float64, c mem, ldc int) error
	dgemm(ta, tb cu.Operation, m, n, k int, alpha float64, a mem, lda int, b mem, ldb int, beta float64, c mem, ldc int) error
	dtrsm(side cu.SideMode, uplo cu.FillMode, trans cu.Operation, m, n int, a mem, lda int, b mem, ldb int) error
	// gemmEx computes c = op(a)·op(b) (alpha 1, beta 0) with the given
	// element and compute types.
	gemmEx(ta, tb cu.Operation, m, n, k int, a mem, at cu.DataType, lda int, b mem, bt cu.DataType, ldb int,
		c mem, ct cu.DataType, ldc int, compute cu.ComputeType) error

	// cuSOLVER, column-major, float64; they wait for the result and return
	// LAPACK's info.
	syevd(vectors bool, uplo cu.FillMode, n int, a, w mem) (int, error)
	// syevdx computes the k largest eigenpairs: values ascending in w[0:k],
	// vectors in the first k columns of a. Besides info it returns how many
	// eigenpairs the solver reports computing (its meig output; −1 when it
	// wrote none), which the backend checks against k.
	syevdx(uplo cu.FillMode, n, k int, a, w mem) (info, found int, err error)
	sygvd(uplo cu.FillMode, n int, a, b, w mem) (int, error)
	potrf(uplo cu.FillMode, n int, a mem) (int, error)
	geqrf(m, n int, a, tau mem) (int, error)
	orgqr(m, n, k int, a, tau mem) (int, error)

	// The kernels of package kernels (see their Go references there).
	convert(dst mem, out kernels.Elem, src mem, in kernels.Elem, shift mem, n, d int) error
	u8ToI8T(dst, src mem, n, d, dpad, kpad int) error
	colSumU8(sums, src mem, n, d int) error
	exactFinish(acc, gi mem, ldg int, colsum, shift mem, n, d int) error
	addLowerF32(acc, s mem, d int) error
	gatherT(dst, src mem, ld, rows, cols, col0 int, reverse bool) error

	close() error
}
