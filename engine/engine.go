package engine

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// Options configure an Engine.
type Options struct {
	// Backend is a registered backend name, or "auto" (the default): the
	// preferred available CPU backend, and a GPU for operations large
	// enough to repay it (see Engine.Do).
	Backend string
	// Threads bounds CPU worker threads (0: all cores). Values above
	// MaxThreads are lowered to it, with a note through Logf.
	Threads int
	// Precision is the Gram's arithmetic on backends that offer several
	// (one of Precisions). Empty or "fp64" is float64, the only arithmetic
	// of the CPU backends (exact for uint8 data, as "exact-u8" asks); asking
	// a backend for one it lacks is an error matching
	// ErrPrecisionUnavailable, never a silent substitution.
	Precision string
	// ChunkRows is the number of rows read per chunk (0: DefaultChunkRows).
	ChunkRows int
	// Progress, when set, is called during each pass with rows done and the
	// total; the CLI draws a progress bar from it.
	Progress func(done, total int)
	// Logf receives one-line notes (routing decisions, fallbacks).
	//
	// When an Engine is shared by goroutines, Progress and Logf are called
	// from each of them and must be safe for that.
	Logf func(format string, args ...any)
}

// DefaultChunkRows keeps a chunk of float64 rows near 32 MB at D = 784 and
// makes the per-chunk overhead negligible against the Gram update.
const DefaultChunkRows = 4096

// Precisions are the Gram arithmetics a backend may offer (Options.Precision).
var Precisions = []string{"fp64", "fp32", "tf32", "bf16", "exact-u8"}

// MaxThreads is the most CPU threads an Engine will use: four per core
// (more only queue on the same cores, and cost memory per thread).
func MaxThreads() int { return 4 * runtime.NumCPU() }

// Engine routes the heavy operations of the analysis to backends (see Do).
//
// An Engine may be used by several goroutines at once: every operation
// borrows a backend instance of its own for its whole run (another CPU
// instance is opened when all are busy, up to one per core; operations on a
// GPU queue for its one instance). Close it when every operation has
// returned.
type Engine struct {
	opts Options
	cpu  *pool // the CPU default, or the backend named in Options
	auto bool
	// gpuMinFlops is GPUMinFlops, lowered by tests to route small problems.
	gpuMinFlops float64

	mu     sync.Mutex
	gpu    *pool // opened on first use by auto routing
	gpuErr error // why auto routing cannot use a GPU (set once tried)
}

// New opens the backend the options name (with "auto", the preferred CPU
// backend; a GPU is opened when an operation first needs one).
func New(opts Options) (*Engine, error) {
	switch {
	case opts.ChunkRows < 0:
		return nil, &OptionError{Option: "ChunkRows", Value: opts.ChunkRows, Want: "at least 1 row, or 0 for the default"}
	case opts.Threads < 0:
		return nil, &OptionError{Option: "Threads", Value: opts.Threads, Want: "0 (all cores) or a positive count"}
	}
	if opts.ChunkRows == 0 {
		opts.ChunkRows = DefaultChunkRows
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Threads > MaxThreads() {
		opts.Logf("threads: %d lowered to %d (4 per core on %d cores)", opts.Threads, MaxThreads(), runtime.NumCPU())
		opts.Threads = MaxThreads()
	}
	if opts.Precision != "" && opts.Precision != "float64" && !slices.Contains(Precisions, opts.Precision) {
		return nil, &OptionError{Option: "Precision", Value: fmt.Sprintf("%q", opts.Precision), Want: "one of " + strings.Join(Precisions, ", ")}
	}
	name := opts.Backend
	if name == "" {
		name = "auto"
	}
	e := &Engine{auto: name == "auto", gpuMinFlops: GPUMinFlops, opts: opts}
	names, size := []string{name}, cpuPoolSize()
	if e.auto {
		names = backend.NamesOn(backend.CPU)
	} else if dev, _ := backend.DeviceOf(name); dev == backend.GPU {
		size = 1
	}
	var err error
	if e.cpu, err = e.openPool(names, size); err != nil {
		return nil, err
	}
	info := e.cpu.all[0].Info()
	opts.Logf("backend: %s (%s, %s, %d threads)", info.Name, info.Device, info.Library, info.Threads)
	return e, nil
}

// usePrecision sets the Gram arithmetic, or fails when be cannot provide it.
func usePrecision(be backend.Backend, p string) error {
	if p == "" {
		return nil
	}
	if s, ok := be.(backend.PrecisionSelector); ok {
		if err := s.UsePrecision(p); err != nil {
			return fmt.Errorf("%w: %w", ErrPrecisionUnavailable, err)
		}
		return nil
	}
	// A CPU backend's Gram is float64, and exact for uint8 data with its
	// integral shift either way: integer dot products where the CPU has
	// them, else float64 partial sums that are integers below 2⁵³.
	if p == "fp64" || p == "float64" || p == "exact-u8" {
		return nil
	}
	return fmt.Errorf("%w: backend %s computes the Gram in float64 (exact for uint8 data) only, not %s", ErrPrecisionUnavailable, be.Info().Name, p)
}

// Options returns the options the engine runs with (defaults filled in).
func (e *Engine) Options() Options { return e.opts }

// Close releases the backends' resources.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return errors.Join(e.cpu.close(), e.gpu.close())
}

// Moments makes one pass over src and returns its accumulated moments. The
// next chunk is read while the current one is accumulated.
func (e *Engine) Moments(src data.Source) (*Moments, error) {
	var m *Moments
	info, err := e.Do(OpMoments, shapeOf(src), func(be backend.Backend) (err error) {
		m, err = e.MomentsOn(be, src)
		return err
	})
	if err != nil {
		return nil, err
	}
	m.Backend = info
	return m, nil
}

func shapeOf(src data.Source) Shape {
	m := src.Meta()
	return Shape{N: m.N, D: m.D}
}

// MomentsOn is Moments on a backend the caller holds (inside Do, for an
// operation that continues on the same backend), with the engine's chunk
// size and progress reporting.
func (e *Engine) MomentsOn(be backend.Backend, src data.Source) (*Moments, error) {
	if m, ok := heldMoments(src); ok { // a moments file: no pass
		return m, nil
	}
	meta := src.Meta()
	m, err := NewMoments(meta.D, meta.Columns())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", meta.Name, err)
	}
	stream, ok := be.(backend.GramStreamer)
	if ok {
		if err := stream.GramBegin(meta.D); err != nil {
			return nil, err
		}
		m.streaming = true
	}
	err = e.pass(src, func(b data.Batch) error { return m.Add(be, b) })
	if m.streaming {
		m.streaming = false
		if endErr := stream.GramEnd(m.G); err == nil {
			err = endErr
		}
	}
	if err != nil {
		return nil, err
	}
	if m.N == 0 {
		return nil, fmt.Errorf("%s: the data hold no samples", meta.Name)
	}
	m.Backend = be.Info()
	releaseScratch(be)
	return m, nil
}

// releaseScratch lets go of the work buffers a pass left in be, and when
// they were large (the uint8 Gram's block accumulator is D×D int32) hands
// the memory back at once: the Go heap would otherwise keep it until its
// next collection, which a heap of a few gigabytes may not reach before the
// eigendecomposition allocates on top (the pure-Go D = 12,288 alignment
// peaked at 3.6 GB without this).
func releaseScratch(be backend.Backend) {
	r, ok := be.(backend.ScratchReleaser)
	if !ok {
		return
	}
	if r.ReleaseScratch() >= 64<<20 {
		debug.FreeOSMemory()
	}
}

// pass streams src through fn with one chunk of read-ahead. Batches are
// copied out of the reader's buffer so that reading and computing overlap.
func (e *Engine) pass(src data.Source, fn func(data.Batch) error) error {
	meta := src.Meta()
	r, err := src.Open(e.opts.ChunkRows)
	if err != nil {
		return err
	}
	defer r.Close()
	done := 0
	start := time.Now()
	handle := func(b data.Batch) error {
		if err := fn(b); err != nil {
			return fmt.Errorf("%s: rows %d..%d: %w", meta.Name, done, done+b.X.N, err)
		}
		done += b.X.N
		if e.opts.Progress != nil {
			e.opts.Progress(done, meta.N)
		}
		return nil
	}
	defer func() { e.opts.Logf("pass over %s: %d rows in %.2fs", meta.Name, done, time.Since(start).Seconds()) }()
	if rr, ok := r.(data.Resident); ok && rr.Resident() {
		// In-memory data: batches stay valid, so no copy and no read-ahead.
		for {
			b, err := r.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := handle(b); err != nil {
				return err
			}
		}
	}
	type item struct {
		b   data.Batch
		err error
	}
	ch := make(chan item, 1)
	free := make(chan data.Batch, 2)
	free <- data.Batch{}
	free <- data.Batch{}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(ch)
		for {
			var buf data.Batch
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			b, err := r.Next()
			if err == nil {
				b = copyBatch(buf, b)
			}
			select {
			case ch <- item{b, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for it := range ch {
		if errors.Is(it.err, io.EOF) {
			return nil
		}
		if it.err != nil {
			return it.err
		}
		if err := handle(it.b); err != nil {
			return err
		}
		free <- it.b
	}
	return nil
}

// copyBatch copies b into the buffers of dst, growing them as needed.
func copyBatch(dst, b data.Batch) data.Batch {
	out := data.Batch{X: backend.Chunk{N: b.X.N, D: b.X.D}}
	switch b.X.DType() {
	case backend.U8:
		out.X.U8 = append(dst.X.U8[:0], b.X.U8...)
	case backend.F32:
		out.X.F32 = append(dst.X.F32[:0], b.X.F32...)
	default:
		out.X.F64 = append(dst.X.F64[:0], b.X.F64...)
	}
	if b.Labels != nil {
		out.Labels = append(dst.Labels[:0], b.Labels...)
	}
	if b.Targets != nil {
		out.Targets = append(dst.Targets[:0], b.Targets...)
	}
	return out
}

// DualMaxBytes bounds the in-memory copy the dual route needs (the data,
// see dualBytes, plus the N×N Gram); above it the direct route is used even
// when N < D.
const DualMaxBytes = 4 << 30

// DualFits is the route rule: the N×N dual route is taken when it is both
// cheaper (N < D) and small enough to hold the data, elemBytes a value (1
// for uint8 kept as bytes, 8 for float64), and the N×N Gram in memory.
func DualFits(n, d, elemBytes int) bool {
	return n > 0 && n < d && dualBytes(n, d, elemBytes) < DualMaxBytes
}

// dualFits applies DualFits to a source on the engine's own dual route,
// which keeps uint8 data as bytes.
func dualFits(meta data.Meta) bool { return DualFits(meta.N, meta.D, dualElemBytes(meta)) }

// Eigh eigendecomposes the Gram of src (centred when center is set): all
// pairs, or the top ones when top > 0. Vectors are feature-space (D × r).
func (e *Engine) Eigh(src data.Source, center bool, top int, rtol float64) (*Eigen, error) {
	meta := src.Meta()
	if top < 0 || top > meta.D {
		return nil, &OptionError{Option: "Top", Value: top, Want: fmt.Sprintf("0 (all) or a number of pairs in [1, D = %d]", meta.D)}
	}
	var eig *Eigen
	info, err := e.Do(OpEigh, shapeOf(src), func(be backend.Backend) (err error) {
		eig, err = e.eigh(be, src, center, top, rtol)
		return err
	})
	if err != nil {
		return nil, err
	}
	eig.Backend = info
	if top > 0 && top < eig.Rank {
		eig.Rank = top
		eig.Vectors = backend.Columns(eig.Vectors, top)
		eig.Values = eig.Values[:top]
	}
	return eig, nil
}

func (e *Engine) eigh(be backend.Backend, src data.Source, center bool, top int, rtol float64) (*Eigen, error) {
	meta := src.Meta()
	if dualFits(meta) {
		e.opts.Logf("route: dual (N = %d < D = %d)", meta.N, meta.D)
		if meta.DType == backend.U8 {
			return e.eighDualU8(be, src, center, top, rtol)
		}
		x, _, err := e.Collect(Unlabeled{Source: src})
		if err != nil {
			return nil, err
		}
		return GramEigh(be, x, center, rtol)
	}
	m, err := e.MomentsOn(be, Unlabeled{Source: src})
	if err != nil {
		return nil, err
	}
	st, err := m.Release(center)
	if err != nil {
		return nil, err
	}
	if top == 0 {
		return EighStats(be, st, rtol, true)
	}
	// Only the leading pairs: LAPACK's dsyevr and cuSOLVER's syevdx skip
	// the back-transformation of the others.
	a, err := st.gramForEigen()
	if err != nil {
		return nil, err
	}
	w, v, err := be.SymEigTop(a, top)
	if err != nil {
		return nil, fmt.Errorf("top-%d eigenpairs of the %d×%d Gram: %w", top, st.D, st.D, err)
	}
	eig := &Eigen{Route: RouteDirect, Values: w, Rank: NumericalRank(w, rtol, sampleRank(st.N, center))}
	eig.Vectors = backend.Columns(v, eig.Rank)
	return eig, nil
}

// Unlabeled hides a source's labels and targets, so that its moments skip
// YᵀX (the eigendecomposition alone does not need them).
type Unlabeled struct{ data.Source }

func (u Unlabeled) Meta() data.Meta {
	m := u.Source.Meta()
	m.Classes, m.Targets, m.LabelsName = 0, 0, ""
	return m
}

// Align computes the alignment curve of src, choosing the route: the N×N
// dual when N < D and the data fit in memory, else one streaming pass of
// moments and the D×D eigendecomposition.
func (e *Engine) Align(src data.Source, opt AlignOptions) (*Curve, error) {
	opt = opt.withDefaults()
	meta := src.Meta()
	if meta.Columns() == 0 {
		return nil, fmt.Errorf("%s: alignment: %w", meta.Name, ErrNeedsLabels)
	}
	var c *Curve
	info, err := e.Do(OpAlign, shapeOf(src), func(be backend.Backend) (err error) {
		c, err = e.align(be, src, opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.Backend = info
	return c, nil
}

func (e *Engine) align(be backend.Backend, src data.Source, opt AlignOptions) (*Curve, error) {
	meta := src.Meta()
	if dualFits(meta) {
		e.opts.Logf("route: dual (N = %d < D = %d)", meta.N, meta.D)
		return e.alignDual(be, src, opt)
	}
	m, err := e.MomentsOn(be, src)
	if err != nil {
		return nil, err
	}
	st, err := m.Release(opt.Center)
	if err != nil {
		return nil, err
	}
	c, eig, err := AlignmentCurve(be, st, opt)
	if err == nil {
		e.opts.Logf("eigen: %s (D = %d, C = %d): %s", c.Route, st.D, st.C, eig.StageSummary())
	}
	return c, err
}

func (e *Engine) alignDual(be backend.Backend, src data.Source, opt AlignOptions) (*Curve, error) {
	if src.Meta().DType == backend.U8 {
		return e.alignDualU8(be, src, opt)
	}
	x, y, err := e.Collect(src)
	if err != nil {
		return nil, err
	}
	eig, err := GramEigh(be, x, opt.Center, opt.RTol)
	if err != nil {
		return nil, err
	}
	p := Projections{YQ: backend.NewGeneral(y.Cols, eig.Rank), Gy: backend.NewGeneral(y.Cols, y.Cols)}
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, y, y, 0, p.Gy); err != nil {
		return nil, err
	}
	if eig.Rank > 0 {
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, y, eig.Sample, 0, p.YQ); err != nil {
			return nil, err
		}
	}
	return CurveFrom(p, eig, opt.Center, opt)
}

// Collect reads the whole source into memory as float64 with its targets
// (data.CollectXY), reporting progress as the engine's passes do.
func (e *Engine) Collect(src data.Source) (x, y blas64.General, err error) {
	start := time.Now()
	x, y, err = data.CollectXY(data.WithProgress(src, e.opts.Progress))
	e.opts.Logf("read %s into memory: %d rows in %.2fs", src.Meta().Name, x.Rows, time.Since(start).Seconds())
	return x, y, err
}

// BackendNames lists the registered backends, for flag help.
func BackendNames() string { return strings.Join(append([]string{"auto"}, backend.Names()...), "|") }
