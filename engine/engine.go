package engine

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// Options configure an Engine.
type Options struct {
	// Backend is a registered backend name, or "auto" (the default): the
	// preferred available CPU backend (see Auto).
	Backend string
	// Threads bounds CPU worker threads (0: all cores).
	Threads int
	// Precision is the Gram's arithmetic on backends that offer several
	// ("fp64", "fp32", "tf32", "bf16", "exact-u8" on cuda). Empty or "fp64"
	// is float64, the only arithmetic of the CPU backends; asking a backend
	// for one it lacks is an error, never a silent substitution.
	Precision string
	// ChunkRows is the number of rows read per chunk (0: DefaultChunkRows).
	ChunkRows int
	// Progress, when set, is called during each pass with rows done and the
	// total; the CLI draws a progress bar from it.
	Progress func(done, total int)
	// Logf receives one-line notes (routing decisions, fallbacks).
	Logf func(format string, args ...any)
}

// DefaultChunkRows keeps a chunk of float64 rows near 32 MB at D = 784 and
// makes the per-chunk overhead negligible against the Gram update.
const DefaultChunkRows = 4096

// Engine routes the heavy operations of the analysis to a backend: the one
// named in Options, or with "auto" the best CPU backend, and the GPU for
// problems large enough to repay its start-up (see GPUWorthIt).
type Engine struct {
	be   backend.Backend // the CPU default, or the backend named in Options
	auto bool
	gpu  backend.Backend // opened on first use by auto routing
	// gpuErr is why auto routing cannot use a GPU (set once tried).
	gpuErr error
	last   backend.Backend // the backend of the latest operation
	// gpuMinFlops is GPUMinFlops, lowered by tests to route small problems.
	gpuMinFlops float64
	opts        Options
}

// New opens the backend the options name.
func New(opts Options) (*Engine, error) {
	if opts.ChunkRows <= 0 {
		opts.ChunkRows = DefaultChunkRows
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	name := opts.Backend
	if name == "" {
		name = "auto"
	}
	var be backend.Backend
	var err error
	if name == "auto" {
		be, err = Auto(backend.Options{Threads: opts.Threads})
	} else {
		be, err = backend.Open(name, backend.Options{Threads: opts.Threads})
	}
	if err != nil {
		return nil, err
	}
	if err := usePrecision(be, opts.Precision); err != nil {
		if c, ok := be.(backend.Closer); ok {
			c.Close()
		}
		return nil, err
	}
	opts.Logf("backend: %s (%s, %s, %d threads)", be.Info().Name, be.Info().Device, be.Info().Library, be.Info().Threads)
	return &Engine{be: be, auto: name == "auto", last: be, gpuMinFlops: GPUMinFlops, opts: opts}, nil
}

// usePrecision sets the Gram arithmetic, or fails when be cannot provide it.
func usePrecision(be backend.Backend, p string) error {
	if p == "" {
		return nil
	}
	if s, ok := be.(backend.PrecisionSelector); ok {
		return s.UsePrecision(p)
	}
	// A CPU backend's Gram is float64, and exact for uint8 data with its
	// integral shift either way: integer dot products where the CPU has
	// them, else float64 partial sums that are integers below 2⁵³.
	if p == "fp64" || p == "float64" || p == "exact-u8" {
		return nil
	}
	return fmt.Errorf("backend %s computes the Gram in float64 (exact for uint8 data) only; precision %q needs a backend that offers it (--backend cuda)", be.Info().Name, p)
}

// GPUMinFlops is the work (2·N·D² for the Gram plus 10·D³ for the
// eigendecomposition) above which auto routing sends an operation to a GPU.
// A GPU's fixed cost (context, library handles, NVRTC compilation, the D×D
// transfer) is of order a second; this machine's CPU backends reach 30–90
// GFLOP/s (BENCHMARKS.md), so below ~2·10¹¹ flops the CPU finishes first.
// BUG(engine): the GPU side of this rule comes from the anchor timings of
// docs, not from a measurement of this engine on a GPU: refine it with the
// GPU check (scripts/gpu-check.sh).
const GPUMinFlops = 2e11

// GPUWorthIt applies the routing rule to a dataset's shape.
func GPUWorthIt(n, d int) bool { return routeFlops(n, d) >= GPUMinFlops }

func routeFlops(n, d int) float64 {
	fn, fd := float64(n), float64(d)
	return 2*fn*fd*fd + 10*fd*fd*fd
}

// backendFor picks the backend for an operation on data of meta's shape.
func (e *Engine) backendFor(meta data.Meta) backend.Backend {
	if !e.auto || routeFlops(meta.N, meta.D) < e.gpuMinFlops {
		return e.be
	}
	if e.gpu == nil && e.gpuErr == nil {
		e.gpu, e.gpuErr = backend.Open("cuda", backend.Options{Threads: e.opts.Threads})
		if e.gpuErr == nil {
			e.gpuErr = usePrecision(e.gpu, e.opts.Precision)
		}
		if e.gpuErr != nil {
			e.gpu = nil
			e.opts.Logf("route: staying on %s: %v", e.be.Info().Name, e.gpuErr)
		}
	}
	if e.gpu == nil {
		return e.be
	}
	e.opts.Logf("route: %d×%d is worth a GPU (≥ %.0e flops): %s", meta.N, meta.D, GPUMinFlops, e.gpu.Info().Device)
	return e.gpu
}

// withFallback runs op on the backend chosen for meta; when that is an
// auto-chosen GPU that fails for environmental reasons (out of memory, a
// library error), it says why and runs op again on the CPU backend, whose
// float64 arithmetic is the GPU's default too (a non-default precision is
// never replaced: its failure is returned).
func (e *Engine) withFallback(meta data.Meta, op func(backend.Backend) error) error {
	be := e.backendFor(meta)
	e.last = be
	err := op(be)
	if err != nil && be != e.be && e.opts.Precision == "" && errors.Is(err, backend.ErrUnavailable) {
		e.opts.Logf("route: %s failed (%v); falling back to %s", be.Info().Name, err, e.be.Info().Name)
		e.last = e.be
		err = op(e.be)
	}
	return err
}

// Auto opens the preferred available CPU backend. GPU backends are chosen by
// name only for now: the size above which a transfer pays off has not been
// measured on a GPU machine yet.
func Auto(opts backend.Options) (backend.Backend, error) {
	var names []string
	for _, n := range backend.Names() {
		if n != "cuda" {
			names = append(names, n)
		}
	}
	return backend.OpenBest(opts, names...)
}

// Backend returns the backend of the latest operation (before any, the
// default one).
func (e *Engine) Backend() backend.Backend { return e.last }

// Close releases the backends' resources.
func (e *Engine) Close() error {
	var errs []error
	for _, be := range []backend.Backend{e.be, e.gpu} {
		if c, ok := be.(backend.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// Moments makes one pass over src and returns its accumulated moments. The
// next chunk is read while the current one is accumulated.
func (e *Engine) Moments(src data.Source) (*Moments, error) {
	var m *Moments
	err := e.withFallback(src.Meta(), func(be backend.Backend) error {
		var err error
		m, err = e.moments(be, src)
		return err
	})
	return m, err
}

func (e *Engine) moments(be backend.Backend, src data.Source) (*Moments, error) {
	meta := src.Meta()
	c := meta.Classes
	if meta.Targets > 0 {
		c = meta.Targets
	}
	m, err := NewMoments(meta.D, c)
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
	return m, nil
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

// dualFits reports whether the N×N route is both cheaper and small enough
// to hold the data in memory.
func dualFits(meta data.Meta) bool {
	return meta.N > 0 && meta.N < meta.D && dualBytes(meta) < DualMaxBytes
}

// Eigh eigendecomposes the Gram of src (centred when center is set): all
// pairs, or the top ones when top > 0. Vectors are feature-space (D × r).
func (e *Engine) Eigh(src data.Source, center bool, top int, rtol float64) (*Eigen, error) {
	meta := src.Meta()
	if top < 0 || top > meta.D {
		return nil, fmt.Errorf("--top %d: want 0 (all) or a number of pairs in [1, D = %d]", top, meta.D)
	}
	var eig *Eigen
	err := e.withFallback(meta, func(be backend.Backend) (err error) {
		eig, err = e.eigh(be, src, center, top, rtol)
		return err
	})
	if err != nil {
		return nil, err
	}
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
		x, _, err := e.collect(src)
		if err != nil {
			return nil, err
		}
		return GramEigh(be, x, center, rtol)
	}
	m, err := e.moments(be, Unlabeled{Source: src})
	if err != nil {
		return nil, err
	}
	st, err := m.Finalize(center)
	if err != nil {
		return nil, err
	}
	if top == 0 {
		return EighStats(be, st, rtol, true)
	}
	// Only the leading pairs: LAPACK's dsyevr and cuSOLVER's syevdx skip
	// the back-transformation of the others.
	a := backend.NewGeneral(st.D, st.D)
	copy(a.Data, st.Gx.Data)
	w, v, err := be.SymEigTop(a, top)
	if err != nil {
		return nil, fmt.Errorf("top-%d eigenpairs of the %d×%d Gram: %w", top, st.D, st.D, err)
	}
	eig := &Eigen{Route: RouteDirect, Values: w, Rank: rankOf(w, rtol, sampleRank(st.N, center))}
	eig.Vectors = backend.Columns(v, eig.Rank)
	return eig, nil
}

// Unlabeled hides a source's labels and targets, so that its moments skip
// YᵀX (the eigendecomposition alone does not need them).
type Unlabeled struct{ data.Source }

func (u Unlabeled) Meta() data.Meta {
	m := u.Source.Meta()
	m.Classes, m.Targets = 0, 0
	return m
}

// Align computes the alignment curve of src, choosing the route: the N×N
// dual when N < D and the data fit in memory, else one streaming pass of
// moments and the D×D eigendecomposition.
func (e *Engine) Align(src data.Source, opt AlignOptions) (*Curve, error) {
	opt = opt.withDefaults()
	var c *Curve
	err := e.withFallback(src.Meta(), func(be backend.Backend) (err error) {
		c, err = e.align(be, src, opt)
		return err
	})
	return c, err
}

func (e *Engine) align(be backend.Backend, src data.Source, opt AlignOptions) (*Curve, error) {
	meta := src.Meta()
	if dualFits(meta) {
		e.opts.Logf("route: dual (N = %d < D = %d)", meta.N, meta.D)
		return e.alignDual(be, src, opt)
	}
	m, err := e.moments(be, src)
	if err != nil {
		return nil, err
	}
	st, err := m.Finalize(opt.Center)
	if err != nil {
		return nil, err
	}
	c, _, err := AlignmentCurve(be, st, opt)
	return c, err
}

func (e *Engine) alignDual(be backend.Backend, src data.Source, opt AlignOptions) (*Curve, error) {
	if src.Meta().DType == backend.U8 {
		return e.alignDualU8(be, src, opt)
	}
	x, y, err := e.collect(src)
	if err != nil {
		return nil, err
	}
	if y.Cols == 0 {
		return nil, fmt.Errorf("%s: alignment needs labels or targets", src.Meta().Name)
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

// collect reads the whole source into memory as float64, with its targets
// as a dense N×C matrix (one-hot for integer labels; zero columns when the
// source has none).
func (e *Engine) collect(src data.Source) (x, y blas64.General, err error) {
	meta := src.Meta()
	c := meta.Classes
	if meta.Targets > 0 {
		c = meta.Targets
	}
	x = backend.NewGeneral(meta.N, meta.D)
	y = backend.NewGeneral(meta.N, c)
	row := 0
	err = e.pass(src, func(b data.Batch) error {
		if row+b.X.N > meta.N {
			return fmt.Errorf("source delivered more than the %d rows it announced", meta.N)
		}
		b.X.Float64(x.Data[row*meta.D:], nil)
		for i := 0; i < b.X.N && c > 0; i++ {
			yr := y.Data[(row+i)*c : (row+i+1)*c]
			switch {
			case b.Labels != nil:
				if l := b.Labels[i]; l < 0 || l >= c {
					return fmt.Errorf("label %d of row %d is outside [0, %d)", l, row+i, c)
				}
				yr[b.Labels[i]] = 1
			case b.Targets != nil:
				copy(yr, b.Targets[i*c:(i+1)*c])
			default:
				return fmt.Errorf("batch has no labels or targets")
			}
		}
		row += b.X.N
		return nil
	})
	if err == nil && row != meta.N {
		err = fmt.Errorf("%s: source announced %d rows but delivered %d", meta.Name, meta.N, row)
	}
	return x, y, err
}

// BackendNames lists the registered backends, for flag help.
func BackendNames() string { return strings.Join(append([]string{"auto"}, backend.Names()...), "|") }
