package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	cu "github.com/reconalign/reconalign/cgo/cuda"
	"github.com/reconalign/reconalign/kernels"
)

// gramState is the device side of the Gram: the accumulator, and the chunk
// buffers sized by the current plan.
type gramState struct {
	active bool // between GramBegin and GramEnd
	d      int
	acc    mem       // d × d float64; its column-major lower triangle is the row-major upper one
	host   []float64 // GramEnd's download buffer

	haveBufs  bool
	plan      ChunkPlan
	raw       [2]mem // chunks as uploaded, double-buffered
	conv      mem    // the chunk converted for the multiply
	product   mem    // d × d float32 (or dpad × dpad int32) product of one chunk
	colsum    mem    // d uint64 column sums (exact mode)
	shift     mem    // d float64
	shiftHost []float64
	next      int // the raw slot the next chunk goes to
}

func (g *gramState) holdsChunkBuffers() bool { return g.haveBufs }

// releaseGram frees the chunk buffers, and the accumulator too when all.
func (b *Backend) releaseGram(all bool) {
	g := &b.gram
	if b.dev == nil {
		return
	}
	b.dev.sync() // a queued kernel may still use the buffers
	if g.haveBufs {
		for _, m := range []mem{g.raw[0], g.raw[1], g.conv, g.product, g.colsum, g.shift} {
			if !m.isNil() {
				b.dev.free(m)
			}
		}
		g.raw, g.conv, g.product, g.colsum, g.shift = [2]mem{}, mem{}, mem{}, mem{}, mem{}
		g.haveBufs, g.shiftHost = false, nil
	}
	if all && !g.acc.isNil() {
		b.dev.free(g.acc)
		g.acc, g.d, g.host, g.active = mem{}, 0, nil, false
	}
}

// GramAdd adds the (shifted) chunk's Gram to the upper triangle of g through
// the device accumulator: GramBegin, GramChunk, GramEnd.
func (b *Backend) GramAdd(g blas64.General, x backend.Chunk, shift []float64) error {
	x.Check()
	checkSquare("GramAdd", g, x.D)
	if shift != nil && len(shift) != x.D {
		panic(fmt.Sprintf("cuda: GramAdd shift has length %d, want %d", len(shift), x.D))
	}
	if x.N == 0 || x.D == 0 {
		return nil
	}
	if b.gram.active {
		return errors.New("cuda: GramAdd called between GramBegin and GramEnd")
	}
	if err := b.GramBegin(x.D); err != nil {
		return err
	}
	if err := b.GramChunk(x, shift); err != nil {
		b.gram.active = false
		return err
	}
	return b.GramEnd(g)
}

// GramBegin starts a d × d Gram accumulated on the device by GramChunk.
func (b *Backend) GramBegin(d int) error {
	if d < 0 {
		panic(fmt.Sprintf("cuda: GramBegin with %d features", d))
	}
	g := &b.gram
	if g.active {
		return errors.New("cuda: GramBegin called twice without GramEnd")
	}
	if b.dev == nil {
		return errors.New("cuda: backend used after Close")
	}
	if g.d != d || g.acc.isNil() {
		b.releaseGram(true)
		if d > 0 {
			acc, err := b.alloc(8 * int64(d) * int64(d))
			if err != nil {
				return wrap(fmt.Sprintf("GramBegin: the %d×%d accumulator", d, d), err)
			}
			g.acc, g.d = acc, d
		}
	}
	if d > 0 {
		if err := b.dev.zero(g.acc, 8*int64(d)*int64(d)); err != nil {
			return wrap("GramBegin", err)
		}
	}
	g.active = true
	return nil
}

// GramChunk adds the Gram of the chunk, minus shift (nil for none), to the
// device accumulator. It returns once the chunk has been copied out of x,
// usually before the GPU has finished with it. An error ends the Gram.
func (b *Backend) GramChunk(x backend.Chunk, shift []float64) (err error) {
	x.Check()
	g := &b.gram
	if !g.active {
		return errors.New("cuda: GramChunk called without GramBegin")
	}
	if x.D != g.d {
		panic(fmt.Sprintf("cuda: GramChunk of a %d-feature chunk into a %d×%d Gram", x.D, g.d, g.d))
	}
	if shift != nil && len(shift) != x.D {
		panic(fmt.Sprintf("cuda: GramChunk shift has length %d, want %d", len(shift), x.D))
	}
	if x.N == 0 || x.D == 0 {
		return nil
	}
	defer func() {
		if err != nil {
			g.active = false
		}
	}()
	if err := b.chunkBuffers(x.DType()); err != nil {
		return err
	}
	dshift, err := b.uploadShift(shift)
	if err != nil {
		return wrap("GramChunk: shift", err)
	}
	for r0 := 0; r0 < x.N; r0 += g.plan.Rows {
		if err := b.gramChunk(x.Rows(r0, min(x.N, r0+g.plan.Rows)), dshift); err != nil {
			return wrap(fmt.Sprintf("GramChunk (%s, rows %d–%d)", g.plan.Precision, r0, min(x.N, r0+g.plan.Rows)), err)
		}
	}
	return nil
}

// GramEnd waits for the queued chunks, adds the accumulator into the upper
// triangle of gm and ends the Gram.
func (b *Backend) GramEnd(gm blas64.General) error {
	g := &b.gram
	if !g.active {
		return errors.New("cuda: GramEnd called without GramBegin")
	}
	d := g.d
	checkSquare("GramEnd", gm, d)
	g.active = false
	if d == 0 {
		return nil
	}
	if err := b.dev.sync(); err != nil {
		return wrap("GramEnd", err)
	}
	if len(g.host) != d*d {
		g.host = make([]float64, d*d)
	}
	if err := b.dev.download(f64Bytes(g.host), g.acc); err != nil {
		return wrap("GramEnd", err)
	}
	addUpper(gm, g.host, d)
	return nil
}

// addUpper adds the upper triangle of the row-major d × d src into dst,
// spread over the cores (d = 12,288 is 75 million additions).
func addUpper(dst blas64.General, src []float64, d int) {
	workers := max(1, min(runtime.GOMAXPROCS(0), d/256))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < d; i += workers {
				row := dst.Data[i*dst.Stride+i : i*dst.Stride+d]
				for j, v := range src[i*d+i : i*d+d] {
					row[j] += v
				}
			}
		}()
	}
	wg.Wait()
}

// chunkBuffers (re)allocates the chunk buffers for chunks of type t in the
// current precision, planned on the device memory free now.
func (b *Backend) chunkBuffers(t backend.DType) error {
	g := &b.gram
	mode := b.precision.For(t)
	if g.haveBufs && g.plan.DType == t && g.plan.Precision == mode && g.plan.D == g.d {
		return nil
	}
	b.releaseGram(false)
	free, _, err := b.dev.memInfo()
	if err != nil {
		return wrap("GramChunk: device memory", err)
	}
	d := int64(g.d)
	// The accumulator is already allocated; the plan counts it.
	plan, err := PlanChunks(free+8*d*d, g.d, t, b.precision)
	if err != nil {
		return fmt.Errorf("%w: %w", backend.ErrUnavailable, err) // err names the backend
	}
	if b.maxRows > 0 && plan.Rows > b.maxRows {
		plan = plan.withRows(b.maxRows)
	}
	s := &scratch{b: b}
	raw0, raw1, conv := s.get(plan.RawBytes), s.get(plan.RawBytes), s.get(plan.ConvBytes)
	shift := s.get(8 * d)
	var product, colsum mem
	switch mode {
	case FP32, TF32, BF16:
		product = s.get(4 * d * d)
	case ExactU8:
		dp := roundUp(d, exactColAlign)
		product, colsum = s.get(4*dp*dp), s.get(8*d)
	}
	if s.err != nil {
		s.release()
		return wrap(fmt.Sprintf("GramChunk: buffers for %d rows of %d features", plan.Rows, g.d), s.err)
	}
	g.plan, g.raw, g.conv, g.product, g.colsum, g.shift = plan, [2]mem{raw0, raw1}, conv, product, colsum, shift
	g.haveBufs, g.shiftHost, g.next = true, nil, 0
	return nil
}

// uploadShift puts shift on the device unless it is already there.
func (b *Backend) uploadShift(shift []float64) (mem, error) {
	g := &b.gram
	if shift == nil {
		return mem{}, nil
	}
	if g.shiftHost != nil && slices.Equal(shift, g.shiftHost) {
		return g.shift, nil
	}
	// Queued kernels may still read the previous shift.
	if err := b.dev.sync(); err != nil {
		return mem{}, err
	}
	if err := b.dev.upload(g.shift, f64Bytes(shift)); err != nil {
		return mem{}, err
	}
	g.shiftHost = append(g.shiftHost[:0], shift...)
	return g.shift, nil
}

func chunkBytes(x backend.Chunk) []byte {
	switch x.DType() {
	case backend.U8:
		return x.U8
	case backend.F32:
		return unsafe.Slice((*byte)(unsafe.Pointer(&x.F32[0])), 4*len(x.F32))
	}
	return f64Bytes(x.F64)
}

func elemOf(t backend.DType) kernels.Elem {
	switch t {
	case backend.U8:
		return kernels.U8
	case backend.F32:
		return kernels.F32
	}
	return kernels.F64
}

// gramChunk queues one device-sized chunk: upload, convert, multiply, add.
func (b *Backend) gramChunk(x backend.Chunk, shift mem) error {
	g := &b.gram
	dev := b.dev
	n, d := x.N, x.D
	slot := g.next
	g.next ^= 1
	raw := g.raw[slot]
	if err := dev.stage(slot, raw, chunkBytes(x)); err != nil {
		return err
	}
	in := elemOf(x.DType())
	switch mode := g.plan.Precision; mode {
	case FP64:
		// The row-major n × d chunk is the column-major d × n matrix Xᵀ:
		// XᵀX = (Xᵀ)(Xᵀ)ᵀ, the lower triangle (row-major upper).
		if err := dev.convert(g.conv, kernels.F64, raw, in, shift, n, d); err != nil {
			return err
		}
		if err := dev.consumed(slot); err != nil {
			return err
		}
		return dev.dsyrk(cu.Lower, cu.OpN, d, n, 1, g.conv, d, 1, g.acc, d)
	case FP32, TF32, BF16:
		out, dt, compute := kernels.F32, cu.R32F, cu.Compute32F
		switch mode {
		case TF32:
			compute = cu.Compute32FFastTF32
		case BF16:
			out, dt = kernels.BF16, cu.R16BF
		}
		if err := dev.convert(g.conv, out, raw, in, shift, n, d); err != nil {
			return err
		}
		if err := dev.consumed(slot); err != nil {
			return err
		}
		if err := dev.gemmEx(cu.OpN, cu.OpT, d, d, n, g.conv, dt, d, g.conv, dt, d, g.product, cu.R32F, d, compute); err != nil {
			return err
		}
		return dev.addLowerF32(g.acc, g.product, d)
	case ExactU8:
		// Z = X − 128 transposed to feature-major and zero-padded: the
		// column-major kpad × dpad matrix Z, with both GEMM operands
		// contiguous along the samples ("TN"); the padding adds nothing.
		kpad := int(roundUp(int64(n), exactRowAlign))
		dpad := int(roundUp(int64(d), exactColAlign))
		if err := dev.zero(g.colsum, 8*int64(d)); err != nil {
			return err
		}
		if err := dev.colSumU8(g.colsum, raw, n, d); err != nil {
			return err
		}
		if err := dev.u8ToI8T(g.conv, raw, n, d, dpad, kpad); err != nil {
			return err
		}
		if err := dev.consumed(slot); err != nil {
			return err
		}
		if err := dev.gemmEx(cu.OpT, cu.OpN, dpad, dpad, kpad, g.conv, cu.R8I, kpad, g.conv, cu.R8I, kpad, g.product, cu.R32I, dpad, cu.Compute32I); err != nil {
			return err
		}
		return dev.exactFinish(g.acc, g.product, dpad, g.colsum, shift, n, d)
	}
	panic("cuda: unknown precision " + string(g.plan.Precision))
}
