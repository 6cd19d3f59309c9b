package moments

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
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
	Shift      []float64
	H, W, C    int    // image shape, zero when unknown
	Layout     string // its layout
	First      string // the first data shard, for messages
	DataFiles  []string
	LabelFiles []string
	Tile       int // side of the Gram tiles
}

// Part is one keyed piece of the summed moments on its way to assembly:
// its values are encoded as in encodeSums.
type Part struct {
	Key  string
	Vals []byte
}

func init() {
	beam.RegisterType(reflect.TypeOf((*Pair)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Plan)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Part)(nil)).Elem())
	register.DoFn6x1[context.Context, []byte, func(*fileio.FileMetadata) bool, func(*fileio.FileMetadata) bool, func(Pair), func(Plan), error](&planFn{})
	// bundleFn reads the plan in StartBundle too, a signature the
	// generic wrappers cannot build: it goes through reflection, at no cost
	// that matters for one call per shard.
	beam.RegisterType(reflect.TypeOf((*bundleFn)(nil)).Elem())
	register.Combiner1[[]byte](&sumFn{})
	register.Function3x0[string, []byte, func(int, Part)](toPart)
	register.DoFn5x1[context.Context, int, func(*Part) bool, Plan, func(string), error](&writeFn{})
	register.Emitter1[Pair]()
	register.Emitter1[Plan]()
	register.Emitter1[string]()
	register.Emitter2[string, []byte]()
	register.Emitter2[int, Part]()
	register.Iter1[fileio.FileMetadata]()
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
	return nil
}

// Build adds the moments pipeline to s; it returns the PCollection of the
// written file's path (one element once the file is written).
func Build(s beam.Scope, opt Options) (beam.PCollection, error) {
	return build(s, opt, nil)
}

// build is Build with the bundle DoFn replaceable (tests inject failures).
func build(s beam.Scope, opt Options, bundle any) (beam.PCollection, error) {
	if err := opt.defaults(); err != nil {
		return beam.PCollection{}, err
	}
	if bundle == nil {
		bundle = &bundleFn{Backend: opt.Backend, Threads: opt.Threads, ChunkRows: opt.ChunkRows, Layout: opt.Layout}
	}
	s = s.Scope("reconalign.Moments")
	dataFiles := fileio.MatchFiles(s.Scope("MatchData"), opt.Data, fileio.MatchEmptyDisallow())
	labelFiles := beam.CreateList(s, []fileio.FileMetadata{})
	if opt.Labels != "" {
		labelFiles = fileio.MatchFiles(s.Scope("MatchLabels"), opt.Labels, fileio.MatchEmptyDisallow())
	}
	pf := &planFn{DataPattern: opt.Data, LabelsPattern: opt.Labels, Layout: opt.Layout, ChunkRows: opt.ChunkRows, Tile: opt.Tile}
	pairs, plan := beam.ParDo2(s.Scope("Plan"), pf, beam.Impulse(s),
		beam.SideInput{Input: dataFiles}, beam.SideInput{Input: labelFiles})
	spread := beam.Reshuffle(s, pairs)
	partial := beam.ParDo(s.Scope("AccumulateBundles"), bundle, spread, beam.SideInput{Input: plan})
	summed := beam.CombinePerKey(s.Scope("SumParts"), &sumFn{}, partial)
	keyed := beam.ParDo(s, toPart, summed)
	all := beam.GroupByKey(s, keyed)
	return beam.ParDo(s.Scope("WriteMomentsFile"), &writeFn{Out: opt.Out}, all, beam.SideInput{Input: plan}), nil
}

// toPart gathers every summed part under one key for the assembly.
func toPart(key string, vals []byte, emit func(int, Part)) {
	emit(0, Part{Key: key, Vals: vals})
}
