package moments

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// planFn turns the matched files into shard pairs and the plan every
// worker follows. It runs once (on an impulse), with both file lists as
// side inputs, and reads only the first shard.
type planFn struct {
	DataPattern, LabelsPattern string
	Layout                     string
	ChunkRows                  int
	Tile                       int
}

func sortedPaths(files func(*fileio.FileMetadata) bool) []string {
	var out []string
	var md fileio.FileMetadata
	for files(&md) {
		out = append(out, md.Path)
	}
	sort.Strings(out)
	return out
}

func (fn *planFn) ProcessElement(ctx context.Context, _ []byte, dataFiles, labelFiles func(*fileio.FileMetadata) bool, emitPair func(Pair), emitPlan func(Plan)) error {
	xs, ys := sortedPaths(dataFiles), sortedPaths(labelFiles)
	if len(xs) == 0 {
		return fmt.Errorf("%s: pattern matches no files", fn.DataPattern)
	}
	if fn.LabelsPattern != "" && len(ys) != len(xs) {
		return unpaired(xs, ys, fn.DataPattern, fn.LabelsPattern)
	}
	plan := Plan{DataFiles: xs, LabelFiles: ys, First: xs[0], Tile: fn.Tile}
	var files shardFiles
	defer files.cleanup()
	src, err := openPair(ctx, &files, Pair{Data: xs[0], Labels: first(ys)}, fn.Layout)
	if err != nil {
		return err
	}
	meta := src.Meta()
	plan.D, plan.DType = meta.D, meta.DType.String()
	plan.H, plan.W, plan.C, plan.Layout = meta.Shape.H, meta.Shape.W, meta.Shape.C, string(meta.Shape.Layout)
	mm := engine.MomentsMetaOf(meta, nil)
	plan.Labels, plan.Exact = mm.Labels, mm.Exact
	if mm.Labels == engine.LabelsTargets {
		plan.Targets = mm.C
	}
	if !plan.Exact {
		// The streaming pass takes its shift from the first chunk of the
		// first shard: so do all bundles.
		done := errors.New("first chunk read")
		err := data.Each(src, fn.ChunkRows, func(b data.Batch) error {
			plan.Shift = engine.ProvisionalShift(b.X)
			return done
		})
		if !errors.Is(err, done) {
			return files.rename(err)
		}
	}
	for i, x := range xs {
		emitPair(Pair{Index: i, Data: x, Labels: at(ys, i)})
	}
	emitPlan(plan)
	return nil
}

func first(s []string) string { return at(s, 0) }

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// openPair opens a data shard with its labels (copied to the worker when
// remote). Errors name the shards themselves.
func openPair(ctx context.Context, files *shardFiles, p Pair, layout string) (data.Source, error) {
	l, err := data.ParseLayout(layout)
	if err != nil {
		return nil, err
	}
	x, err := files.local(ctx, p.Data)
	if err != nil {
		return nil, err
	}
	y, err := files.local(ctx, p.Labels)
	if err != nil {
		return nil, err
	}
	src, err := data.Open(x, y, data.Options{Layout: l})
	if err != nil {
		return nil, files.rename(err)
	}
	return src, nil
}

// unpaired explains why data and label shards cannot be paired one for
// one, naming the shards without a partner when their names say which:
// shards are told apart by what varies in their names (x_07.npy and
// y_07.npy share "07").
func unpaired(xs, ys []string, dataPattern, labelsPattern string) error {
	what := fmt.Sprintf("%s matches %d data shards but %s matches %d label shards: data and label shards pair one for one, in lexical order", dataPattern, len(xs), labelsPattern, len(ys))
	xk, yk := stems(xs), stems(ys)
	have := map[string]bool{}
	for _, k := range yk {
		have[k] = true
	}
	var lonely []string
	for i, k := range xk {
		if !have[k] {
			lonely = append(lonely, xs[i])
		}
	}
	if len(lonely) > 0 && len(lonely) < len(xs) {
		return fmt.Errorf("no label shard for %s (%s)", strings.Join(lonely, ", "), what)
	}
	return errors.New(what)
}

// stems strips from each base name the prefix and suffix all names share,
// keeping whole numbers whole: x_00.npy … x_11.npy give 00 … 11.
func stems(paths []string) []string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = path.Base(p)
	}
	if len(names) < 2 {
		return names
	}
	pre, suf := names[0], names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, pre) {
			pre = pre[:len(pre)-1]
		}
		for !strings.HasSuffix(n, suf) {
			suf = suf[1:]
		}
	}
	digit := func(b byte) bool { return b >= '0' && b <= '9' }
	for len(pre) > 0 && digit(pre[len(pre)-1]) {
		pre = pre[:len(pre)-1]
	}
	for len(suf) > 0 && digit(suf[0]) {
		suf = suf[1:]
	}
	out := make([]string, len(names))
	for i, n := range names {
		if len(pre)+len(suf) <= len(n) {
			n = n[len(pre) : len(n)-len(suf)]
		}
		out[i] = n
	}
	return out
}
