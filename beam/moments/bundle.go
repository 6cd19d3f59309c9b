package moments

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Counters of the bundles, for the launcher's report of the Gram rate
// inside the pipeline.
var (
	rowsCounter    = beam.NewCounter("reconalign", "rows")
	shardsCounter  = beam.NewCounter("reconalign", "shards")
	bundlesCounter = beam.NewCounter("reconalign", "bundles")
	passNanos      = beam.NewCounter("reconalign", "pass_ns")
	threadsGauge   = beam.NewGauge("reconalign", "threads")
	// The first bundle's start and the last one's end (Unix ms) bound the
	// accumulation stage's wall time.
	bundleStart = beam.NewDistribution("reconalign", "bundle_start_ms")
	bundleEnd   = beam.NewDistribution("reconalign", "bundle_end_ms")
)

// bundleFn accumulates the shards of one bundle into one partial Moments
// with the engine and emits its sums when the bundle finishes. It starts
// every bundle from nothing and emits nothing before the bundle's end, so
// a failed attempt leaves nothing behind that a retry could count twice.
type bundleFn struct {
	Backend   string
	Threads   int
	ChunkRows int
	Layout    string

	eng   *engine.Engine
	cpu   backend.Info // the engine's CPU backend, for the bundle's report
	m     *engine.Moments
	rows  int
	start time.Time
	pass  time.Duration
}

func (fn *bundleFn) Setup() error {
	e, err := engine.New(engine.Options{Backend: fn.Backend, Threads: fn.Threads, ChunkRows: fn.ChunkRows})
	if err != nil {
		return err
	}
	fn.eng = e
	// The engine borrows a backend per pass and does not say which; an
	// empty operation shows the CPU backend it would lend.
	fn.cpu, err = e.Do(engine.OpMoments, engine.Shape{}, func(backend.Backend) error { return nil })
	return err
}

func (fn *bundleFn) Teardown() error {
	if fn.eng != nil {
		return fn.eng.Close()
	}
	return nil
}

// StartBundle starts from empty moments. (Beam wants the side inputs and emitters of
// ProcessElement in StartBundle and FinishBundle too.)
func (fn *bundleFn) StartBundle(_ context.Context, _ Plan, _ func(string, []byte)) {
	fn.m, fn.rows, fn.pass, fn.start = nil, 0, 0, time.Now()
}

// ProcessElement adds one shard to the bundle's moments; they are emitted
// (through emit) only in FinishBundle.
func (fn *bundleFn) ProcessElement(ctx context.Context, p Pair, plan Plan, _ func(string, []byte)) error {
	var files shardFiles
	defer files.cleanup()
	src, err := openPair(ctx, &files, p, fn.Layout)
	if err != nil {
		return err
	}
	meta := src.Meta()
	if err := plan.check(p, meta); err != nil {
		return err
	}
	c := engine.MomentsMetaOf(meta, nil).C
	switch {
	case fn.m == nil:
		m, err := engine.NewMoments(plan.D, c)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Data, err)
		}
		if !plan.Exact {
			m.Shift = append([]float64(nil), plan.Shift...)
		}
		fn.m = m
	case c > fn.m.C:
		growClasses(fn.m, c)
	}
	t0 := time.Now()
	if err := fn.eng.AddTo(fn.m, src); err != nil {
		return files.rename(err)
	}
	fn.pass += time.Since(t0)
	fn.rows += meta.N
	shardsCounter.Inc(ctx, 1)
	rowsCounter.Inc(ctx, int64(meta.N))
	return nil
}

func (fn *bundleFn) FinishBundle(ctx context.Context, plan Plan, emit func(string, []byte)) error {
	m := fn.m
	fn.m = nil
	if m == nil {
		return nil
	}
	if plan.Exact {
		// The raw integer sums do not depend on any shift: they add up
		// exactly whatever bundles the runner made.
		if err := m.Reshift(make([]float64, m.D)); err != nil {
			return err
		}
	}
	bundlesCounter.Inc(ctx, 1)
	passNanos.Inc(ctx, fn.pass.Nanoseconds())
	bundleStart.Update(ctx, fn.start.UnixMilli())
	defer func() { bundleEnd.Update(ctx, time.Now().UnixMilli()) }()
	name, threads := fn.eng.BackendFor(engine.OpMoments, engine.Shape{N: fn.rows, D: m.D}), 0
	if name == fn.cpu.Name {
		threads = fn.cpu.Threads
	}
	threadsGauge.Set(ctx, int64(threads))
	fmt.Fprintf(os.Stderr, "reconalign-beam: bundle of %d rows on %s (%d threads): pass %.2fs, bundle %.2fs\n",
		fn.rows, name, threads, fn.pass.Seconds(), time.Since(fn.start).Seconds())
	emitSums(m, plan, emit)
	return nil
}

// check compares a shard with the plan the first shard set.
func (plan Plan) check(p Pair, meta data.Meta) error {
	mm := engine.MomentsMetaOf(meta, nil)
	switch {
	case meta.D != plan.D:
		return fmt.Errorf("%s: shard has %d features per sample but the first shard %s has %d", p.Data, meta.D, plan.First, plan.D)
	case meta.DType.String() != plan.DType:
		return fmt.Errorf("%s: shard holds %s samples but the first shard %s holds %s", p.Data, meta.DType, plan.First, plan.DType)
	case meta.Shape.H != plan.H || meta.Shape.W != plan.W || meta.Shape.C != plan.C:
		return fmt.Errorf("%s: shard has image shape %s but the first shard %s has %dx%dx%d", p.Data, meta.Shape, plan.First, plan.H, plan.W, plan.C)
	case mm.Labels != plan.Labels:
		return fmt.Errorf("%s: label shard holds %s but the first one holds %s", p.Labels, mm.Labels, plan.Labels)
	case plan.Labels == engine.LabelsTargets && mm.C != plan.Targets:
		return fmt.Errorf("%s: label shard has %d target columns but the first one has %d", p.Labels, mm.C, plan.Targets)
	}
	return nil
}

// growClasses makes room for class labels up to c−1: a bundle learns the
// classes from its shards, and the assembly from all of them.
func growClasses(m *engine.Moments, c int) {
	d := m.D
	mm, gy, sy := backend.NewGeneral(c, d), backend.NewGeneral(c, c), make([]float64, c)
	copy(mm.Data, m.M.Data)
	for k := 0; k < m.C; k++ {
		copy(gy.Data[k*c:k*c+m.C], m.Gy.Data[k*m.C:(k+1)*m.C])
	}
	copy(sy, m.Sy)
	m.M, m.Gy, m.Sy, m.C = mm, gy, sy, c
}

// Value encodings: a kind byte, then little-endian values. Exact sums go
// as int32 when every value fits (a bundle's integer Gram usually does,
// and it halves what the runner moves), else as int64; float sums as
// float64.
const (
	kindInt32 = 'j'
	kindInt   = 'i'
	kindFloat = 'f'
)

func encodeSums(exact bool, vals []float64) []byte {
	if !exact {
		b := make([]byte, 1, 1+8*len(vals))
		b[0] = kindFloat
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	ints := make([]int64, len(vals))
	for i, v := range vals {
		ints[i] = int64(v)
	}
	return encodeInts(ints)
}

// encodeInts encodes integer sums in the narrowest width that holds them.
func encodeInts(vals []int64) []byte {
	narrow := true
	for _, v := range vals {
		if v != int64(int32(v)) {
			narrow = false
			break
		}
	}
	if narrow {
		b := make([]byte, 1, 1+4*len(vals))
		b[0] = kindInt32
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
		}
		return b
	}
	b := make([]byte, 1, 1+8*len(vals))
	b[0] = kindInt
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

// decodeInts reads integer sums of either width.
func decodeInts(key string, b []byte) ([]int64, error) {
	width := 8
	if len(b) > 0 && b[0] == kindInt32 {
		width = 4
	}
	if len(b) == 0 || (b[0] != kindInt && b[0] != kindInt32) || (len(b)-1)%width != 0 {
		return nil, fmt.Errorf("part %s: %d bytes are not encoded integer sums", key, len(b))
	}
	vals := make([]int64, (len(b)-1)/width)
	for i := range vals {
		if width == 4 {
			vals[i] = int64(int32(binary.LittleEndian.Uint32(b[1+4*i:])))
		} else {
			vals[i] = int64(binary.LittleEndian.Uint64(b[1+8*i:]))
		}
	}
	return vals, nil
}

// decodeSums turns summed values back into float64s; integer sums must
// have stayed below 2⁵³ to be exact there.
func decodeSums(key string, b []byte) ([]float64, error) {
	if len(b) > 0 && b[0] == kindFloat {
		if (len(b)-1)%8 != 0 {
			return nil, fmt.Errorf("part %s: %d bytes are not encoded sums", key, len(b))
		}
		vals := make([]float64, (len(b)-1)/8)
		for i := range vals {
			vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[1+8*i:]))
		}
		return vals, nil
	}
	ints, err := decodeInts(key, b)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, len(ints))
	for i, v := range ints {
		if v >= 1<<53 || v <= -(1<<53) {
			return nil, fmt.Errorf("part %s: the summed value %d has reached 2⁵³: integer moments of this many samples are no longer exact", key, v)
		}
		vals[i] = float64(v)
	}
	return vals, nil
}

// emitSums sends the partial moments as keyed parts: the upper triangle of
// the Gram as Tile×Tile tiles "g/I/J" (I ≤ J; below the diagonal of a
// diagonal tile, zeros), the sums "n" and "sx", the rows "m/K" of YᵀX, and
// for class labels the counts "c/K", for dense targets the rows "y/K" of
// YᵀY and "sy".
func emitSums(m *engine.Moments, plan Plan, emit func(string, []byte)) {
	d, t := m.D, plan.Tile
	enc := func(v []float64) []byte { return encodeSums(plan.Exact, v) }
	emit("n", enc([]float64{float64(m.N)}))
	emit("sx", enc(m.Sx))
	nt := (d + t - 1) / t
	buf := make([]float64, t*t)
	for bi := 0; bi < nt; bi++ {
		for bj := bi; bj < nt; bj++ {
			r0, r1, c0, c1 := bi*t, min(d, (bi+1)*t), bj*t, min(d, (bj+1)*t)
			w := c1 - c0
			tile := buf[:(r1-r0)*w]
			for i := r0; i < r1; i++ {
				row := tile[(i-r0)*w : (i-r0+1)*w]
				copy(row, m.G.Data[i*d+c0:i*d+c1])
				for j := c0; j < min(i, c1); j++ {
					row[j-c0] = 0
				}
			}
			emit(fmt.Sprintf("g/%d/%d", bi, bj), enc(tile))
		}
	}
	for k := 0; k < m.C; k++ {
		emit(fmt.Sprintf("m/%d", k), enc(m.M.Data[k*d:(k+1)*d]))
		switch plan.Labels {
		case engine.LabelsClasses:
			emit(fmt.Sprintf("c/%d", k), enc(m.Sy[k:k+1]))
		case engine.LabelsTargets:
			emit(fmt.Sprintf("y/%d", k), enc(m.Gy.Data[k*m.C:(k+1)*m.C]))
		}
	}
	if plan.Labels == engine.LabelsTargets {
		emit("sy", enc(m.Sy))
	}
}
