package moments

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// planFn matches the shards and turns them into groups of shard pairs and
// the plan every worker follows. It runs once, on an impulse, and reads
// only the first shard.
type planFn struct {
	DataPattern, LabelsPattern string
	Layout                     string
	ChunkRows                  int
	Tile                       int
	Groups                     int
}

// shard is a matched file and its size in bytes.
type shard struct {
	path string
	size int64
}

// match lists the files glob matches, in lexical order, through Beam's
// filesystems (what fileio.MatchFiles calls; doing it here spares the
// pipeline the matching stages and the side inputs that would bring their
// lists to this step, about a tenth of a second on Prism). A glob that
// matches nothing is an error naming it.
func match(ctx context.Context, glob string) ([]shard, error) {
	fs, err := filesystem.New(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", glob, err)
	}
	defer fs.Close()
	names, err := fs.List(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", glob, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: pattern matches no files", glob)
	}
	sort.Strings(names)
	out := make([]shard, len(names))
	for i, n := range names {
		size, err := fs.Size(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		out[i] = shard{path: n, size: size}
	}
	return out, nil
}

func paths(files []shard) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out
}

func (fn *planFn) ProcessElement(ctx context.Context, _ []byte, emitGroup func(Group), emitPlan func(int, Part)) error {
	xsh, err := match(ctx, fn.DataPattern)
	if err != nil {
		return err
	}
	var ysh []shard
	if fn.LabelsPattern != "" {
		if ysh, err = match(ctx, fn.LabelsPattern); err != nil {
			return err
		}
	}
	xs, ys := paths(xsh), paths(ysh)
	if fn.LabelsPattern != "" && len(ys) != len(xs) {
		return unpaired(xs, ys, fn.DataPattern, fn.LabelsPattern)
	}
	plan := Plan{First: xs[0], Tile: fn.Tile}
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
		// first shard: so do all groups.
		done := errors.New("first chunk read")
		err := data.Each(src, fn.ChunkRows, func(b data.Batch) error {
			plan.Shift = engine.ProvisionalShift(b.X)
			return done
		})
		if !errors.Is(err, done) {
			return files.rename(err)
		}
	}
	part, err := planPart(plan, Sources{Data: xs, Labels: ys})
	if err != nil {
		return err
	}
	emitPlan(0, part)
	sizes := make([]int64, len(xsh))
	for i, f := range xsh {
		sizes[i] = f.size
	}
	for g, run := range deal(sizes, fn.Groups) {
		pairs := make([]Pair, 0, run[1]-run[0])
		for i := run[0]; i < run[1]; i++ {
			pairs = append(pairs, Pair{Index: i, Data: xs[i], Labels: at(ys, i)})
		}
		emitGroup(Group{Index: g, Pairs: pairs, Plan: plan})
	}
	return nil
}

// deal splits shards of the given sizes, in their order, into at most
// groups runs [start, end) of about equal bytes: a run ends with the shard
// whose middle byte comes before the run's share of the total. groups ≤ 0,
// or more groups than shards, gives one run per shard.
func deal(sizes []int64, groups int) [][2]int {
	n := len(sizes)
	if groups <= 0 || groups > n {
		groups = n
	}
	// Every shard weighs at least a byte, so that shards of unknown (zero)
	// size are dealt by count.
	cum := make([]float64, n+1)
	for i, s := range sizes {
		cum[i+1] = cum[i] + float64(max(s, 1))
	}
	runs := make([][2]int, 0, groups)
	start := 0
	for k := 0; k < groups; k++ {
		end := n
		if k < groups-1 {
			share := cum[n] * float64(k+1) / float64(groups)
			end = start + 1
			// Leave at least a shard for each run still to come.
			for end < n-(groups-1-k) && (cum[end]+cum[end+1])/2 <= share {
				end++
			}
		}
		runs = append(runs, [2]int{start, end})
		start = end
	}
	return runs
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
