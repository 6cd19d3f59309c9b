package moments

import (
	"context"
	"fmt"
	"os"
	"path"
	"runtime"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Counters of the groups, for the launcher's report of the Gram rate
// inside the pipeline.
var (
	rowsCounter   = beam.NewCounter("reconalign", "rows")
	shardsCounter = beam.NewCounter("reconalign", "shards")
	groupsCounter = beam.NewCounter("reconalign", "groups")
	passNanos     = beam.NewCounter("reconalign", "pass_ns")
	threadsGauge  = beam.NewGauge("reconalign", "threads")
	// The first group's start and the last one's end (Unix ms) bound the
	// accumulation stage's wall time.
	groupStart = beam.NewDistribution("reconalign", "group_start_ms")
	groupEnd   = beam.NewDistribution("reconalign", "group_end_ms")
)

// groupFn accumulates each group of shards into one partial Moments with
// the engine and emits its sums when the group is done. A group is one
// element: its moments start from nothing and leave ProcessElement only
// when every shard is in, so a failed attempt emits nothing that a retry
// could count twice, whatever bundles the runner makes.
type groupFn struct {
	Backend   string
	Threads   int
	ChunkRows int
	Layout    string

	eng  *engine.Engine
	cpu  backend.Info // the engine's CPU backend, for the group's report
	gate chan struct{}
}

func (fn *groupFn) Setup() error {
	e, err := engine.New(engine.Options{Backend: fn.Backend, Threads: fn.Threads, ChunkRows: fn.ChunkRows})
	if err != nil {
		return err
	}
	fn.eng = e
	// The engine borrows a backend per pass and does not say which; an
	// empty operation shows the CPU backend it would lend.
	fn.cpu, err = e.Do(engine.OpMoments, engine.Shape{}, func(backend.Backend) error { return nil })
	fn.gate = passGate(fn.cpu.Threads)
	return err
}

func (fn *groupFn) Teardown() error {
	if fn.eng != nil {
		return fn.eng.Close()
	}
	return nil
}

// gates hold, per capacity, the tokens of passGate.
var gates sync.Map

// passGate bounds the groups that this process accumulates at once, so
// that their threads together stay within its cores: Prism runs several
// bundles at once in its process, a Dataflow worker several per SDK
// harness, and each pass already uses the threads it was given (all the
// cores by default). Waiting groups hold no accumulator.
func passGate(threads int) chan struct{} {
	cores := runtime.NumCPU()
	if threads <= 0 || threads > cores {
		threads = cores
	}
	n := max(1, cores/threads)
	g, _ := gates.LoadOrStore(n, make(chan struct{}, n))
	return g.(chan struct{})
}

// ProcessElement adds the group's shards, in order, to one partial Moments
// and emits its sums.
func (fn *groupFn) ProcessElement(ctx context.Context, g Group, emit func(string, []byte)) error {
	return fn.process(ctx, g, emit, nil)
}

// process is ProcessElement with a hook called after each shard is added
// (tests fail a group there, as a worker that dies mid-group would).
func (fn *groupFn) process(ctx context.Context, g Group, emit func(string, []byte), added func(Pair) error) error {
	if len(g.Pairs) == 0 {
		return nil
	}
	t0 := time.Now()
	select {
	case fn.gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-fn.gate }()
	start := time.Now()
	m, err := fn.accumulate(ctx, g, added)
	if err != nil {
		return err
	}
	plan := g.Plan
	if plan.Exact {
		// The raw integer sums do not depend on any shift: they add up
		// exactly whatever the grouping.
		if err := m.Reshift(make([]float64, m.D)); err != nil {
			return err
		}
	}
	pass := time.Since(start)
	groupsCounter.Inc(ctx, 1)
	passNanos.Inc(ctx, pass.Nanoseconds())
	groupStart.Update(ctx, start.UnixMilli())
	defer func() { groupEnd.Update(ctx, time.Now().UnixMilli()) }()
	name, threads := fn.eng.BackendFor(engine.OpMoments, engine.Shape{N: m.N, D: m.D}), 0
	if name == fn.cpu.Name {
		threads = fn.cpu.Threads
	}
	threadsGauge.Set(ctx, int64(threads))
	shards := path.Base(g.Pairs[0].Data)
	if n := len(g.Pairs); n > 1 {
		shards += " … " + path.Base(g.Pairs[n-1].Data)
	}
	fmt.Fprintf(os.Stderr, "reconalign-beam: group %d (%s, %d rows) on %s (%d threads): waited %.2fs, pass %.2fs\n",
		g.Index, shards, m.N, name, threads, start.Sub(t0).Seconds(), pass.Seconds())
	emitSums(m, plan, emit)
	return nil
}

// accumulate makes one pass over each shard of the group into fresh
// moments.
func (fn *groupFn) accumulate(ctx context.Context, g Group, added func(Pair) error) (*engine.Moments, error) {
	var m *engine.Moments
	for _, p := range g.Pairs {
		var err error
		if m, err = fn.add(ctx, m, p, g.Plan); err != nil {
			return nil, err
		}
		if added != nil {
			if err := added(p); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// add adds one shard to m (nil: the group's first shard) and returns m.
func (fn *groupFn) add(ctx context.Context, m *engine.Moments, p Pair, plan Plan) (*engine.Moments, error) {
	var files shardFiles
	defer files.cleanup()
	src, err := openPair(ctx, &files, p, fn.Layout)
	if err != nil {
		return nil, err
	}
	meta := src.Meta()
	if err := plan.check(p, meta); err != nil {
		return nil, err
	}
	c := engine.MomentsMetaOf(meta, nil).C
	switch {
	case m == nil:
		if m, err = engine.NewMoments(plan.D, c); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Data, err)
		}
		if !plan.Exact {
			m.Shift = append([]float64(nil), plan.Shift...)
		}
	case c > m.C:
		growClasses(m, c)
	}
	if err := fn.eng.AddTo(m, src); err != nil {
		return nil, files.rename(err)
	}
	shardsCounter.Inc(ctx, 1)
	rowsCounter.Inc(ctx, int64(meta.N))
	return m, nil
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
