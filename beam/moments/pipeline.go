package moments

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/reconalign/reconalign/engine"
)

// Options say what the pipeline reads and writes and how its workers
// compute.
type Options struct {
	Data   string // glob of the data shards (.npy, .npy.gz, IDX)
	Labels string // glob of the label shards, one per data shard; empty: unlabelled
	Out    string // the moments file to write (a local path, gs://…, s3://…)
	// Layout is the axis order of 4-D arrays: "hwc" (default) or "chw".
	Layout string
	// Backend is the engine backend each worker opens ("auto": its best).
	Backend string
	// Threads bounds each worker's CPU threads (0: all its cores).
	Threads int
	// ChunkRows is the rows read per chunk (0: engine.DefaultChunkRows).
	// The first chunk of the first shard fixes the shift of float sums, as
	// in `reconalign moments` with the same chunk size.
	ChunkRows int
	// Tile is the side of the Gram tiles that travel between workers (0:
	// DefaultTile).
	Tile int
	// Groups is how many groups the shards are dealt into (runs of
	// consecutive shards in lexical order, of about equal bytes): a group
	// is one unit of work, one pass whose Gram is emitted once. 0: one
	// group per shard; more groups than shards: one per shard.
	Groups int
}

// DefaultTile makes a Gram tile 1024² float64s: 8 MB, far below the
// element sizes runners handle well, and few enough tiles (78 at
// D = 12,288) that their keys cost nothing.
const DefaultTile = 1024

// MaxTileBytes bounds an element: a Gram tile of Tile² values.
const MaxTileBytes = 64 << 20

// Pair is one data shard with its label shard ("" when unlabelled), and its
// rank in lexical order.
type Pair struct {
	Index  int
	Data   string
	Labels string
}

// Group is a run of shard pairs that one worker accumulates into one
// partial Moments, with the plan they follow. The plan travels inside the
// element rather than as a side input: Prism re-evaluates the watermarks of
// a stage with a side input without pause while one of its bundles runs,
// which costs a core for the whole accumulation.
type Group struct {
	Index int
	Pairs []Pair
	Plan  Plan
}

// Plan is what every worker must agree on, decided once from the sorted
// shard lists and the first shard.
type Plan struct {
	D       int
	DType   string // element type of the samples: uint8, float32, float64
	Labels  string // engine.LabelsClasses, LabelsTargets or LabelsNone
	Targets int    // target columns, for dense targets
	// Exact: integer sums (uint8 samples, class labels or none), combined
	// in int64 around the zero shift.
	Exact bool
	// Shift is the common shift of float sums: the provisional mean of the
	// first chunk of the first shard (nil for exact sums).
	Shift   []float64
	H, W, C int    // image shape, zero when unknown
	Layout  string // its layout
	First   string // the first data shard, for messages
	Shards  int    // data shards in all
	Tile    int    // side of the Gram tiles
}

// Sources are the sorted shard lists, which only the assembly needs (the
// moments file records them): they reach it as a part of their own, so
// that no group element carries every file name.
type Sources struct {
	Data   []string
	Labels []string
}

// Part is one keyed piece of the summed moments on its way to assembly:
// its values are encoded as in encodeSums.
type Part struct {
	Key  string
	Vals []byte
}

func init() {
	beam.RegisterType(reflect.TypeOf((*Pair)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Group)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Plan)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Part)(nil)).Elem())
	register.DoFn4x1[context.Context, []byte, func(Group), func(int, Part), error](&planFn{})
	register.DoFn3x1[context.Context, Group, func(string, []byte), error](&groupFn{})
	register.Combiner1[[]byte](&sumFn{})
	register.Function3x0[string, []byte, func(int, Part)](toPart)
	register.DoFn4x1[context.Context, int, func(*Part) bool, func(string), error](&writeFn{})
	register.Emitter1[Group]()
	register.Emitter1[string]()
	register.Emitter2[string, []byte]()
	register.Emitter2[int, Part]()
	register.Iter1[Part]()
}

func (o *Options) defaults() error {
	if o.Data == "" {
		return errors.New("no data: give the glob of the data shards")
	}
	if o.Out == "" {
		return errors.New("no output: give the moments file to write")
	}
	if o.Layout == "" {
		o.Layout = "hwc"
	}
	if o.Backend == "" {
		o.Backend = "auto"
	}
	if o.ChunkRows <= 0 {
		o.ChunkRows = engine.DefaultChunkRows
	}
	if o.Tile <= 0 {
		o.Tile = DefaultTile
	}
	if 8*o.Tile*o.Tile > MaxTileBytes {
		return fmt.Errorf("tile %d: a tile of %d×%d float64s passes the %d MB element bound", o.Tile, o.Tile, o.Tile, MaxTileBytes>>20)
	}
	if o.Groups < 0 {
		return fmt.Errorf("groups %d: give a positive number of groups, or 0 for one per shard", o.Groups)
	}
	return nil
}

// Build adds the moments pipeline to s; it returns the PCollection of the
// written file's path (one element once the file is written).
func Build(s beam.Scope, opt Options) (beam.PCollection, error) {
	return build(s, opt, nil)
}

// build is Build with the group DoFn replaceable (tests inject failures).
func build(s beam.Scope, opt Options, accumulate any) (beam.PCollection, error) {
	if err := opt.defaults(); err != nil {
		return beam.PCollection{}, err
	}
	if accumulate == nil {
		accumulate = &groupFn{Backend: opt.Backend, Threads: opt.Threads, ChunkRows: opt.ChunkRows, Layout: opt.Layout}
	}
	s = s.Scope("reconalign.Moments")
	pf := &planFn{DataPattern: opt.Data, LabelsPattern: opt.Labels, Layout: opt.Layout, ChunkRows: opt.ChunkRows, Tile: opt.Tile, Groups: opt.Groups}
	// No step takes a side input (see Group): the plan reaches the groups
	// inside them and the assembly as a part.
	groups, planPart := beam.ParDo2(s.Scope("Plan"), pf, beam.Impulse(s))
	// Spread the groups over the workers (a runner that fuses the planning
	// step with the accumulation would otherwise run them all in one bundle).
	spread := beam.Reshuffle(s, groups)
	partial := beam.ParDo(s.Scope("AccumulateGroups"), accumulate, spread)
	summed := beam.CombinePerKey(s.Scope("SumParts"), &sumFn{}, partial)
	keyed := beam.ParDo(s, toPart, summed)
	all := beam.GroupByKey(s, beam.Flatten(s, keyed, planPart))
	return beam.ParDo(s.Scope("WriteMomentsFile"), &writeFn{Out: opt.Out}, all), nil
}

// toPart gathers every summed part under one key for the assembly.
func toPart(key string, vals []byte, emit func(int, Part)) {
	emit(0, Part{Key: key, Vals: vals})
}
