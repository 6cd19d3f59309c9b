//go:build cgo && linux

package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	cu "github.com/reconalign/reconalign/cgo/cuda"
	"github.com/reconalign/reconalign/kernels"
)

// gpu is the device interface on a real GPU. Work goes to the compute stream;
// chunk uploads go to a second stream so that the copy of one chunk overlaps
// the multiply of the previous one, ordered by events.
type gpu struct {
	ordinal int
	info    deviceInfo
	compute cu.Stream
	copier  cu.Stream
	blas    cu.Blas
	solver  cu.Solver
	module  cu.Module
	fns     map[string]cu.Function
	allocs  map[int]cu.DevicePtr
	nextID  int
	devInfo cu.DevicePtr // cuSOLVER's info output
	slots   [2]stagingSlot
	pinner  runtime.Pinner
}

// stagingSlot is one page-locked host buffer a chunk is copied through.
type stagingSlot struct {
	host     unsafe.Pointer
	bytes    int64
	uploaded cu.Event // the copy from host to device is done: host may be reused
	consumed cu.Event // the compute stream is done with the device buffer
}

// openGPU loads the CUDA libraries, selects the device and compiles the
// kernels for it. Any failure closes what was set up and says why.
func openGPU(ordinal int) (_ *gpu, err error) {
	if err := cu.Load(); err != nil {
		return nil, err
	}
	n, err := cu.DeviceCount()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("the CUDA runtime sees no device")
	}
	if ordinal >= n {
		return nil, fmt.Errorf("no CUDA device %d (the runtime sees %d)", ordinal, n)
	}
	if err := cu.SetDevice(ordinal); err != nil {
		return nil, err
	}
	g := &gpu{ordinal: ordinal, fns: map[string]cu.Function{}, allocs: map[int]cu.DevicePtr{}}
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	if g.info.name, err = cu.DeviceName(ordinal); err != nil {
		return nil, err
	}
	if g.info.major, err = cu.DeviceAttribute(cu.AttrComputeCapabilityMajor, ordinal); err != nil {
		return nil, err
	}
	if g.info.minor, err = cu.DeviceAttribute(cu.AttrComputeCapabilityMinor, ordinal); err != nil {
		return nil, err
	}
	if g.compute, err = cu.NewStream(); err != nil {
		return nil, err
	}
	if g.copier, err = cu.NewStream(); err != nil {
		return nil, err
	}
	if g.blas, err = cu.NewBlas(); err != nil {
		return nil, err
	}
	if err = g.blas.SetStream(g.compute); err != nil {
		return nil, err
	}
	// Plain float32 unless a call asks for TF32 through its compute type.
	if err = g.blas.SetMathMode(cu.DefaultMath); err != nil {
		return nil, err
	}
	if g.solver, err = cu.NewSolver(); err != nil {
		return nil, err
	}
	if err = g.solver.SetStream(g.compute); err != nil {
		return nil, err
	}
	for i := range g.slots {
		if g.slots[i].uploaded, err = cu.NewEvent(false); err != nil {
			return nil, err
		}
		if g.slots[i].consumed, err = cu.NewEvent(false); err != nil {
			return nil, err
		}
	}
	if g.devInfo, err = cu.Malloc(8); err != nil {
		return nil, err
	}
	arch := fmt.Sprintf("sm_%d%d", g.info.major, g.info.minor)
	cubin, err := cu.CompileCUBIN(kernels.Source, "gram.cu", arch)
	if err != nil {
		return nil, fmt.Errorf("compiling the kernels for %s: %w", arch, err)
	}
	if g.module, err = cu.LoadModule(cubin); err != nil {
		return nil, err
	}
	for _, name := range kernels.Names {
		if g.fns[name], err = g.module.Function(name); err != nil {
			return nil, err
		}
	}
	_, g.info.totalMem, err = cu.MemGetInfo()
	if err != nil {
		return nil, err
	}
	g.info.libs = libraryVersions(g.blas)
	return g, nil
}

func libraryVersions(h cu.Blas) string {
	rt, _ := cu.RuntimeVersion()
	drv, _ := cu.DriverVersion()
	bl, _ := h.Version()
	so, _ := cu.SolverVersion()
	ma, mi, _ := cu.NVRTCVersion()
	return fmt.Sprintf("CUDA runtime %d.%d (driver supports %d.%d), cuBLAS %d, cuSOLVER %d, NVRTC %d.%d",
		rt/1000, rt%1000/10, drv/1000, drv%1000/10, bl, so, ma, mi)
}

func (g *gpu) describe() deviceInfo { return g.info }

func (g *gpu) memInfo() (int64, int64, error) { return cu.MemGetInfo() }

func (g *gpu) alloc(bytes int64) (mem, error) {
	p, err := cu.Malloc(bytes)
	if err != nil {
		return mem{}, err
	}
	g.nextID++
	g.allocs[g.nextID] = p
	return mem{id: g.nextID}, nil
}

func (g *gpu) free(m mem) error {
	p, ok := g.allocs[m.id]
	if !ok {
		return fmt.Errorf("cuda: free of unknown device buffer %d", m.id)
	}
	delete(g.allocs, m.id)
	return cu.Free(p)
}

// ptr is the device address of m; the zero mem is NULL.
func (g *gpu) ptr(m mem) cu.DevicePtr {
	if m.isNil() {
		return cu.DevicePtr{}
	}
	p, ok := g.allocs[m.id]
	if !ok {
		panic(fmt.Sprintf("cuda: use of unknown device buffer %d", m.id))
	}
	return p.Add(m.off)
}

// transfer runs one copy of Go memory on the compute stream and waits for it,
// with the Go buffer pinned while the copy engine may read or write it.
func (g *gpu) transfer(buf []byte, copy func(host unsafe.Pointer) error) error {
	if len(buf) == 0 {
		return nil
	}
	g.pinner.Pin(&buf[0])
	defer g.pinner.Unpin()
	if err := copy(unsafe.Pointer(&buf[0])); err != nil {
		return err
	}
	return g.compute.Synchronize()
}

func (g *gpu) upload(dst mem, src []byte) error {
	return g.transfer(src, func(h unsafe.Pointer) error {
		return cu.CopyToDevice(g.ptr(dst), h, int64(len(src)), g.compute)
	})
}

func (g *gpu) download(dst []byte, src mem) error {
	return g.transfer(dst, func(h unsafe.Pointer) error {
		return cu.CopyToHost(h, g.ptr(src), int64(len(dst)), g.compute)
	})
}

func (g *gpu) upload2D(dst mem, dpitch int64, src []byte, spitch, width, height int64) error {
	return g.transfer(src, func(h unsafe.Pointer) error {
		return cu.Copy2DToDevice(g.ptr(dst), dpitch, h, spitch, width, height, g.compute)
	})
}

func (g *gpu) download2D(dst []byte, dpitch int64, src mem, spitch, width, height int64) error {
	return g.transfer(dst, func(h unsafe.Pointer) error {
		return cu.Copy2DToHost(h, dpitch, g.ptr(src), spitch, width, height, g.compute)
	})
}

func (g *gpu) zero(dst mem, bytes int64) error { return cu.Memset(g.ptr(dst), 0, bytes, g.compute) }

// stage copies the chunk into the slot's page-locked buffer (once the slot's
// previous upload is done), then queues its upload on the copy stream after
// the compute stream has finished with raw, and makes the compute stream wait
// for the upload. The host returns while the GPU copies and computes.
func (g *gpu) stage(slot int, raw mem, src []byte) error {
	s := &g.slots[slot]
	n := int64(len(src))
	if err := s.uploaded.Synchronize(); err != nil {
		return err
	}
	if s.bytes < n {
		if err := cu.FreeHost(s.host); err != nil {
			return err
		}
		s.host, s.bytes = nil, 0
		h, err := cu.MallocHost(n)
		if err != nil {
			return err
		}
		s.host, s.bytes = h, n
	}
	parallelCopy(unsafe.Slice((*byte)(s.host), n), src)
	if err := g.copier.Wait(s.consumed); err != nil {
		return err
	}
	if err := cu.CopyToDevice(g.ptr(raw), s.host, n, g.copier); err != nil {
		return err
	}
	if err := s.uploaded.Record(g.copier); err != nil {
		return err
	}
	return g.compute.Wait(s.uploaded)
}

// parallelCopy spreads a large host copy over the cores: one core copies a
// few GB/s, less than PCIe moves.
func parallelCopy(dst, src []byte) {
	const piece = 8 << 20
	workers := min(runtime.GOMAXPROCS(0), (len(src)+piece-1)/piece)
	if workers <= 1 {
		copy(dst, src)
		return
	}
	per := (len(src) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(src); lo += per {
		hi := min(len(src), lo+per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			copy(dst[lo:hi], src[lo:hi])
		}()
	}
	wg.Wait()
}

func (g *gpu) consumed(slot int) error { return g.slots[slot].consumed.Record(g.compute) }

func (g *gpu) sync() error {
	if err := g.copier.Synchronize(); err != nil {
		return err
	}
	return g.compute.Synchronize()
}

func (g *gpu) dsyrk(uplo cu.FillMode, trans cu.Operation, n, k int, alpha float64, a mem, lda int, beta float64, c mem, ldc int) error {
	return g.blas.Dsyrk(uplo, trans, n, k, alpha, g.ptr(a), lda, beta, g.ptr(c), ldc)
}

func (g *gpu) dgemm(ta, tb cu.Operation, m, n, k int, alpha float64, a mem, lda int, b mem, ldb int, beta float64, c mem, ldc int) error {
	return g.blas.Dgemm(ta, tb, m, n, k, alpha, g.ptr(a), lda, g.ptr(b), ldb, beta, g.ptr(c), ldc)
}

func (g *gpu) dtrsm(side cu.SideMode, uplo cu.FillMode, trans cu.Operation, m, n int, a mem, lda int, b mem, ldb int) error {
	return g.blas.Dtrsm(side, uplo, trans, cu.NonUnit, m, n, 1, g.ptr(a), lda, g.ptr(b), ldb)
}

func (g *gpu) gemmEx(ta, tb cu.Operation, m, n, k int, a mem, at cu.DataType, lda int, b mem, bt cu.DataType, ldb int,
	c mem, ct cu.DataType, ldc int, compute cu.ComputeType) error {
	return g.blas.GemmEx(ta, tb, m, n, k, 1, g.ptr(a), at, lda, g.ptr(b), bt, ldb, 0, g.ptr(c), ct, ldc, compute)
}

// readInfo waits for the solver and returns its info.
func (g *gpu) readInfo() (int, error) {
	var info [2]int32
	if err := g.transfer(unsafe.Slice((*byte)(unsafe.Pointer(&info[0])), 4), func(h unsafe.Pointer) error {
		return cu.CopyToHost(h, g.devInfo, 4, g.compute)
	}); err != nil {
		return 0, err
	}
	return int(info[0]), nil
}

// workspace allocates a solver's device (and host) workspace.
type workspace struct {
	dev  cu.DevicePtr
	host unsafe.Pointer
}

func newWorkspace(devBytes, hostBytes int64) (workspace, error) {
	var w workspace
	var err error
	if w.dev, err = cu.Malloc(max(devBytes, 8)); err != nil {
		return w, fmt.Errorf("solver workspace: %w", err)
	}
	if hostBytes > 0 {
		if w.host, err = cu.MallocHost(hostBytes); err != nil {
			cu.Free(w.dev)
			return w, fmt.Errorf("solver host workspace: %w", err)
		}
	}
	return w, nil
}

// release frees the workspace once the queued work using it is done.
func (w workspace) release(g *gpu) {
	g.compute.Synchronize()
	cu.Free(w.dev)
	cu.FreeHost(w.host)
}

func (g *gpu) syevd(vectors bool, uplo cu.FillMode, n int, a, w mem) (int, error) {
	jobz := cu.NoVectors
	if vectors {
		jobz = cu.Vectors
	}
	n64 := int64(n)
	db, hb, err := g.solver.XsyevdBufferSize(jobz, uplo, n64, g.ptr(a), n64, g.ptr(w))
	if err != nil {
		return 0, err
	}
	ws, err := newWorkspace(db, hb)
	if err != nil {
		return 0, err
	}
	defer ws.release(g)
	if err := g.solver.Xsyevd(jobz, uplo, n64, g.ptr(a), n64, g.ptr(w), ws.dev, db, ws.host, hb, g.devInfo); err != nil {
		return 0, err
	}
	return g.readInfo()
}

func (g *gpu) syevdx(uplo cu.FillMode, n, k int, a, w mem) (int, int, error) {
	n64, il, iu := int64(n), int64(n-k+1), int64(n) // 1-based, ascending: the k largest
	db, hb, err := g.solver.XsyevdxBufferSize(cu.Vectors, uplo, n64, g.ptr(a), n64, il, iu, g.ptr(w))
	if err != nil {
		return 0, 0, err
	}
	ws, err := newWorkspace(db, hb)
	if err != nil {
		return 0, 0, err
	}
	defer ws.release(g)
	if err := g.solver.Xsyevdx(cu.Vectors, uplo, n64, g.ptr(a), n64, il, iu, g.ptr(w), ws.dev, db, ws.host, hb, g.devInfo); err != nil {
		return 0, 0, err
	}
	info, err := g.readInfo() // synchronizes the stream: meig is final
	if err != nil {
		return 0, 0, err
	}
	return info, int(g.solver.EigenpairsFound()), nil
}

func (g *gpu) sygvd(uplo cu.FillMode, n int, a, b, w mem) (int, error) {
	lwork, err := g.solver.DsygvdBufferSize(cu.EigType1, cu.Vectors, uplo, n, g.ptr(a), n, g.ptr(b), n, g.ptr(w))
	if err != nil {
		return 0, err
	}
	ws, err := newWorkspace(8*int64(lwork), 0)
	if err != nil {
		return 0, err
	}
	defer ws.release(g)
	if err := g.solver.Dsygvd(cu.EigType1, cu.Vectors, uplo, n, g.ptr(a), n, g.ptr(b), n, g.ptr(w), ws.dev, lwork, g.devInfo); err != nil {
		return 0, err
	}
	return g.readInfo()
}

func (g *gpu) potrf(uplo cu.FillMode, n int, a mem) (int, error) {
	lwork, err := g.solver.DpotrfBufferSize(uplo, n, g.ptr(a), n)
	if err != nil {
		return 0, err
	}
	ws, err := newWorkspace(8*int64(lwork), 0)
	if err != nil {
		return 0, err
	}
	defer ws.release(g)
	if err := g.solver.Dpotrf(uplo, n, g.ptr(a), n, ws.dev, lwork, g.devInfo); err != nil {
		return 0, err
	}
	return g.readInfo()
}

func (g *gpu) geqrf(m, n int, a, tau mem) (int, error) {
	lwork, err := g.solver.DgeqrfBufferSize(m, n, g.ptr(a), m)
	if err != nil {
		return 0, err
	}
	ws, err := newWorkspace(8*int64(lwork), 0)
	if err != nil {
		return 0, err
	}
	defer ws.release(g)
	if err := g.solver.Dgeqrf(m, n, g.ptr(a), m, g.ptr(tau), ws.dev, lwork, g.devInfo); err != nil {
		return 0, err
	}
	return g.readInfo()
}

func (g *gpu) orgqr(m, n, k int, a, tau mem) (int, error) {
	lwork, err := g.solver.DorgqrBufferSize(m, n, k, g.ptr(a), m, g.ptr(tau))
	if err != nil {
		return 0, err
	}
	ws, err := newWorkspace(8*int64(lwork), 0)
	if err != nil {
		return 0, err
	}
	defer ws.release(g)
	if err := g.solver.Dorgqr(m, n, k, g.ptr(a), m, g.ptr(tau), ws.dev, lwork, g.devInfo); err != nil {
		return 0, err
	}
	return g.readInfo()
}

func (g *gpu) launch(name string, c kernels.Config, args ...any) error {
	f, ok := g.fns[name]
	if !ok {
		return fmt.Errorf("kernel %s not loaded", name)
	}
	if err := f.Launch(c.Grid, c.Block, g.compute, args...); err != nil {
		return fmt.Errorf("kernel %s (grid %v, block %v): %w", name, c.Grid, c.Block, err)
	}
	return nil
}

func checkTiled(name string, y int) error {
	if y > kernels.MaxTiledY {
		return fmt.Errorf("kernel %s: extent %d exceeds the grid limit %d", name, y, kernels.MaxTiledY)
	}
	return nil
}

func (g *gpu) convert(dst mem, out kernels.Elem, src mem, in kernels.Elem, shift mem, n, d int) error {
	return g.launch(kernels.ConvertName(in, out), kernels.Elementwise(int64(n)*int64(d)),
		g.ptr(src), g.ptr(dst), g.ptr(shift), int64(n), int64(d))
}

func (g *gpu) u8ToI8T(dst, src mem, n, d, dpad, kpad int) error {
	if err := checkTiled("u8_to_i8_t", kpad); err != nil {
		return err
	}
	return g.launch("u8_to_i8_t", kernels.Tiled(int64(dpad), int64(kpad)), g.ptr(src), g.ptr(dst), int64(n), int64(d), int64(dpad), int64(kpad))
}

func (g *gpu) colSumU8(sums, src mem, n, d int) error {
	c, rows := kernels.ColSum(int64(n), int64(d))
	return g.launch("colsum_u8", c, g.ptr(src), g.ptr(sums), int64(n), int64(d), rows)
}

func (g *gpu) exactFinish(acc, gi mem, ldg int, colsum, shift mem, n, d int) error {
	if err := checkTiled("exact_finish", d); err != nil {
		return err
	}
	return g.launch("exact_finish", kernels.Tiled(int64(d), int64(d)), g.ptr(acc), g.ptr(gi), int64(ldg), g.ptr(colsum), g.ptr(shift), int64(n), int64(d))
}

func (g *gpu) addLowerF32(acc, s mem, d int) error {
	if err := checkTiled("add_lower_f32", d); err != nil {
		return err
	}
	return g.launch("add_lower_f32", kernels.Tiled(int64(d), int64(d)), g.ptr(acc), g.ptr(s), int64(d))
}

func (g *gpu) gatherT(dst, src mem, ld, rows, cols, col0 int, reverse bool) error {
	if err := checkTiled("gather_t", cols); err != nil {
		return err
	}
	rev := int64(0)
	if reverse {
		rev = 1
	}
	return g.launch("gather_t", kernels.Tiled(int64(rows), int64(cols)), g.ptr(src), int64(ld), int64(rows), int64(cols), int64(col0), rev, g.ptr(dst))
}

// close releases everything openGPU and the backend set up; the first error
// is returned, the rest is still released.
func (g *gpu) close() error {
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if g.compute != (cu.Stream{}) {
		keep(g.sync())
	}
	for id, p := range g.allocs {
		keep(cu.Free(p))
		delete(g.allocs, id)
	}
	for i := range g.slots {
		s := &g.slots[i]
		keep(cu.FreeHost(s.host))
		keep(s.uploaded.Destroy())
		keep(s.consumed.Destroy())
		*s = stagingSlot{}
	}
	keep(cu.Free(g.devInfo))
	keep(g.module.Unload())
	keep(g.solver.Destroy())
	keep(g.blas.Destroy())
	keep(g.copier.Destroy())
	keep(g.compute.Destroy())
	g.devInfo, g.module, g.solver, g.blas, g.copier, g.compute = cu.DevicePtr{}, cu.Module{}, cu.Solver{}, cu.Blas{}, cu.Stream{}, cu.Stream{}
	keep(cu.ReleaseDevice(g.ordinal))
	return errors.Join(errs...)
}
