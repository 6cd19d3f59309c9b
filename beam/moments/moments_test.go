package moments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// The pipelines run on Prism, in this process: no Docker, no Java, no
// network.
func TestMain(m *testing.M) {
	ptest.MainWithDefault(m, "prism")
}

const fmnist = "/usr/share/datasets/fashion-mnist"

// shards writes x (rows × d, image shape h×w when h > 0) and labels as
// count .npy shards x_NN.npy and y_NN.npy in dir.
func shards(t *testing.T, dir string, x backend.Chunk, h, w int, labels []int, count int) {
	t.Helper()
	for s := 0; s < count; s++ {
		a, b := s*x.N/count, (s+1)*x.N/count
		shape := []int{b - a, x.D}
		if h > 0 {
			shape = []int{b - a, h, w}
		}
		rows := x.Rows(a, b)
		var vals any = rows.U8
		if rows.F32 != nil {
			vals = rows.F32
		}
		if err := data.WriteNPY(filepath.Join(dir, fmt.Sprintf("x_%02d.npy", s)), vals, shape); err != nil {
			t.Fatal(err)
		}
		if labels == nil {
			continue
		}
		l := make([]int64, b-a)
		for i := range l {
			l[i] = int64(labels[a+i])
		}
		if err := data.WriteNPY(filepath.Join(dir, fmt.Sprintf("y_%02d.npy", s)), l, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// runPipeline runs the moments pipeline (with accumulate as its group DoFn
// when not nil) over dir's shards, dealt into groups (0: one per shard),
// into dir/out.npz.
func runPipeline(dir string, accumulate any, groups int) (string, error) {
	out := filepath.Join(dir, "out.npz")
	p, s := beam.NewPipelineWithRoot()
	opt := Options{Data: filepath.Join(dir, "x_*.npy"), Labels: filepath.Join(dir, "y_*.npy"), Out: out, Backend: "gonum", Tile: 300, Groups: groups}
	if _, err := build(s, opt, accumulate); err != nil {
		return "", err
	}
	return out, ptest.Run(p)
}

// reference writes the moments of one streaming pass (engine.WriteMoments,
// what `reconalign moments` runs) over x and y.
func reference(t *testing.T, x, y, out string) {
	t.Helper()
	src, err := data.Open(x, y, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Backend: "gonum"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.WriteMoments(src, nil, out); err != nil {
		t.Fatal(err)
	}
}

// arrays reads every array of a moments file but meta.
func arrays(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	z, err := data.OpenNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	out := map[string][]float64{}
	for _, name := range z.Names() {
		switch name {
		case "meta":
		case "n":
			n, err := z.Int64(name)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = []float64{float64(n)}
		default:
			a, _ := z.Array(name)
			v := make([]float64, a.Len())
			if err := z.Float64s(name, v); err != nil {
				t.Fatal(err)
			}
			out[name] = v
		}
	}
	return out
}

// curve is the centred alignment curve from a moments file.
func curve(t *testing.T, path string, center bool) *engine.Curve {
	t.Helper()
	ms, err := engine.OpenMoments(path)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := engine.New(engine.Options{Backend: "gonum"})
	defer e.Close()
	c, err := e.Align(ms, engine.AlignOptions{Center: center})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s[%d] = %.17g, want %.17g bit for bit", what, i, got[i], want[i])
		}
	}
}

// Fashion-MNIST in a dozen shards through the pipeline: the moments file
// of `reconalign moments` on the whole IDX file, bit for bit, and so the
// same alignment curve, whether each shard is its own group or the shards
// are dealt into five uneven groups (integer sums do not depend on the
// grouping).
func TestFashionMNISTShardsBitIdentical(t *testing.T) {
	idx := filepath.Join(fmnist, "train-images-idx3-ubyte.gz")
	lab := filepath.Join(fmnist, "train-labels-idx1-ubyte.gz")
	if _, err := os.Stat(idx); err != nil {
		t.Skip("Fashion-MNIST is not installed (Debian dataset-fashion-mnist)")
	}
	src, err := data.Open(idx, lab, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, labels, err := data.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	shards(t, dir, x, 28, 28, labels, 12)
	ref := filepath.Join(t.TempDir(), "ref.npz")
	reference(t, idx, lab, ref)
	want := arrays(t, ref)
	for _, groups := range []int{0, 5} {
		out, err := runPipeline(dir, nil, groups)
		if err != nil {
			t.Fatal(err)
		}
		got := arrays(t, out)
		if len(got) != len(want) {
			t.Fatalf("groups=%d: pipeline file has arrays %v, reconalign moments %v", groups, keys(got), keys(want))
		}
		for k, w := range want {
			sameBits(t, fmt.Sprintf("groups=%d: %s", groups, k), got[k], w)
		}
		for _, center := range []bool{false, true} {
			cw, cg := curve(t, ref, center), curve(t, out, center)
			sameBits(t, "alignment", cg.Alignment, cw.Alignment)
		}
		ms, _ := engine.OpenMoments(out)
		if info := ms.Info(); len(info.Sources) != 24 || info.Sources[0] != filepath.Join(dir, "x_00.npy") || info.ImageShape == nil || info.ImageShape.H != 28 || !info.Exact {
			t.Errorf("groups=%d: meta of the pipeline's file: %+v", groups, info)
		}
		os.Remove(out)
	}
}

func keys(m map[string][]float64) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// Float32 shards with a mean far from zero: the pipeline's float sums are
// those of one streaming pass over the shards within 1e-12, with the same
// shift, and so is the centred Gram.
func TestFloat32Shards(t *testing.T) {
	n, d := 3000, 40
	rng := rand.New(rand.NewPCG(8, 8))
	x := backend.Chunk{N: n, D: d, F32: make([]float32, n*d)}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(5)
		for j := 0; j < d; j++ {
			x.F32[i*d+j] = float32(300 + rng.NormFloat64() + 0.2*float64(labels[i]*(j%3)))
		}
	}
	dir := t.TempDir()
	shards(t, dir, x, 0, 0, labels, 7)
	out, err := runPipeline(dir, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "ref.npz")
	reference(t, filepath.Join(dir, "x_*.npy"), filepath.Join(dir, "y_*.npy"), ref)
	want, got := arrays(t, ref), arrays(t, out)
	sameBits(t, "shift", got["shift"], want["shift"])
	sameBits(t, "n", got["n"], want["n"])
	for k, w := range want {
		close12(t, k, got[k], w)
	}
	mw, _, _ := engine.LoadMoments(ref)
	mg, _, _ := engine.LoadMoments(out)
	sw, _ := mw.Finalize(true)
	sg, _ := mg.Finalize(true)
	close12(t, "centred Gram", sg.Gx.Data, sw.Gx.Data)
	close12(t, "centred YᵀX", sg.M.Data, sw.M.Data)
}

// close12 compares within 1e-12 of the largest entry.
func close12(t *testing.T, what string, got, want []float64) {
	t.Helper()
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > 1e-12*scale || math.IsNaN(got[i]) {
			t.Fatalf("%s[%d] = %.17g, want %.17g (off by %.3g of the largest entry)", what, i, got[i], want[i], d/scale)
		}
	}
}

// Bad shards fail the pipeline with a message that names the shard, and
// leave no moments file behind.
func TestBadShardsNamed(t *testing.T) {
	n, d := 600, 12
	x := backend.Chunk{N: n, D: d, U8: make([]uint8, n*d)}
	for i := range x.U8 {
		x.U8[i] = uint8(i * 13)
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 4
	}
	for _, tc := range []struct {
		name   string
		damage func(dir string) string // returns the shard to be named
	}{
		{"another D", func(dir string) string {
			p := filepath.Join(dir, "x_03.npy")
			data.WriteNPY(p, make([]uint8, 100*13), []int{100, 13})
			return p
		}},
		{"missing label shard", func(dir string) string {
			os.Remove(filepath.Join(dir, "y_04.npy"))
			return filepath.Join(dir, "x_04.npy")
		}},
		{"corrupt shard", func(dir string) string {
			p := filepath.Join(dir, "x_05.npy")
			raw, _ := os.ReadFile(p)
			os.WriteFile(p, raw[:len(raw)-7], 0o644)
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			shards(t, dir, x, 0, 0, labels, 6)
			named := tc.damage(dir)
			out, err := runPipeline(dir, nil, 2)
			t.Logf("%s: %v", tc.name, lastLine(err))
			if err == nil || !strings.Contains(err.Error(), named) {
				t.Fatalf("pipeline error %v does not name %s", err, named)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed pipeline left %s behind", out)
			}
		})
	}
}

// failOnceFn is the group DoFn with a fault: the first time it has added
// shard FailIndex to a group, it fails, as a worker that dies mid-group
// would. Beam then retries the bundle (Dataflow and Flink do; Prism fails
// the job), on a fresh DoFn or on this one.
type failOnceFn struct {
	groupFn
	FailIndex int
	failed    bool
}

func (fn *failOnceFn) ProcessElement(ctx context.Context, g Group, emit func(string, []byte)) error {
	return fn.process(ctx, g, emit, func(p Pair) error {
		if p.Index == fn.FailIndex && !fn.failed {
			fn.failed = true
			return fmt.Errorf("injected failure after shard %d", p.Index)
		}
		return nil
	})
}

func init() {
	beam.RegisterType(reflect.TypeOf((*failOnceFn)(nil)).Elem())
}

// A group that fails after some of its shards are in emits nothing, and
// its retry counts every shard once. The runner's part of the contract —
// outputs of a failed attempt are dropped — is played here as Dataflow and
// Flink play it; the DoFn's part is to emit a group's sums only once the
// whole group is in, from moments of its own. The retry reuses the failed
// DoFn instance, the case where state could leak.
func TestRetriedGroupCountsOnce(t *testing.T) {
	n, d := 900, 10
	rng := rand.New(rand.NewPCG(4, 4))
	x := backend.Chunk{N: n, D: d, U8: make([]uint8, n*d)}
	for i := range x.U8 {
		x.U8[i] = uint8(rng.IntN(256))
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(3)
	}
	dir := t.TempDir()
	shards(t, dir, x, 0, 0, labels, 4)
	ctx := context.Background()
	pairs := make([]Pair, 4)
	for i := range pairs {
		pairs[i] = Pair{Index: i, Data: filepath.Join(dir, fmt.Sprintf("x_%02d.npy", i)), Labels: filepath.Join(dir, fmt.Sprintf("y_%02d.npy", i))}
	}
	var groups []Group
	pf := &planFn{DataPattern: filepath.Join(dir, "x_*.npy"), LabelsPattern: filepath.Join(dir, "y_*.npy"), Layout: "hwc", ChunkRows: 128, Tile: 4, Groups: 2}
	err := pf.ProcessElement(ctx, nil, func(g Group) { groups = append(groups, g) }, func(int, Part) {})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || !reflect.DeepEqual(groups[0].Pairs, pairs[:2]) || !reflect.DeepEqual(groups[1].Pairs, pairs[2:]) {
		t.Fatalf("4 shards of equal size dealt into 2 groups: %+v", groups)
	}
	plan := groups[0].Plan
	fn := &failOnceFn{groupFn: groupFn{Backend: "gonum", ChunkRows: 128, Layout: "hwc"}, FailIndex: 2} // the second group's first shard
	if err := fn.Setup(); err != nil {
		t.Fatal(err)
	}
	defer fn.Teardown()
	sums := map[string][]byte{}
	commit := func(k string, v []byte) {
		s, err := sumFn{}.MergeAccumulators(sums[k], v)
		if err != nil {
			t.Fatal(err)
		}
		sums[k] = s
	}
	// attempt runs a bundle of the given groups: its outputs are kept only
	// if every group succeeds.
	attempt := func(gs ...Group) (emitted int, err error) {
		var pending [][2]any
		keep := func(k string, v []byte) { pending = append(pending, [2]any{k, v}) }
		for _, g := range gs {
			before := len(pending)
			if err := fn.ProcessElement(ctx, g, keep); err != nil {
				return len(pending) - before, err
			}
		}
		for _, kv := range pending {
			commit(kv[0].(string), kv[1].([]byte))
		}
		return len(pending), nil
	}
	if _, err := attempt(groups[0]); err != nil {
		t.Fatalf("first group: %v", err)
	}
	emitted, err := attempt(groups[1])
	if err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("second group's first attempt: %v", err)
	}
	if emitted != 0 {
		t.Fatalf("the group that failed mid-way emitted %d parts", emitted)
	}
	if _, err := attempt(groups[1]); err != nil {
		t.Fatalf("retry: %v", err)
	}
	m, err := assemble(plan, iterParts(sums))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := data.Open(filepath.Join(dir, "x_*.npy"), filepath.Join(dir, "y_*.npy"), data.Options{})
	e, _ := engine.New(engine.Options{Backend: "gonum"})
	defer e.Close()
	want, err := e.Moments(src)
	if err != nil {
		t.Fatal(err)
	}
	if m.N != n {
		t.Fatalf("the retried pipeline counted %d samples, want %d", m.N, n)
	}
	sw, _ := want.Finalize(true)
	sg, _ := m.Finalize(true)
	sameBits(t, "centred Gram", sg.Gx.Data, sw.Gx.Data)
	sameBits(t, "centred YᵀX", sg.M.Data, sw.M.Data)

	// On Prism, which does not retry, the faulty group fails the job and
	// no file is written.
	out, err := runPipeline(dir, &failOnceFn{groupFn: groupFn{Backend: "gonum", ChunkRows: 128, Layout: "hwc"}, FailIndex: 2}, 2)
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("pipeline with a failing group: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Error("a failed pipeline left its output behind")
	}
}

// Shards are dealt into runs of consecutive shards of about equal bytes,
// each run at least a shard; zero sizes count as one byte.
func TestDeal(t *testing.T) {
	for _, tc := range []struct {
		sizes  []int64
		groups int
		want   [][2]int
	}{
		{[]int64{10, 10, 10, 10, 10, 10}, 3, [][2]int{{0, 2}, {2, 4}, {4, 6}}},
		{[]int64{10, 10, 10, 10, 10, 10}, 0, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}}},
		{[]int64{10, 10, 10}, 7, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
		{[]int64{100, 1, 1, 1, 1, 100}, 2, [][2]int{{0, 3}, {3, 6}}},
		{[]int64{1000, 1, 1, 1}, 3, [][2]int{{0, 1}, {1, 2}, {2, 4}}},
		{[]int64{0, 0, 0, 0, 0}, 2, [][2]int{{0, 3}, {3, 5}}},
		{[]int64{5, 5, 5, 5, 5, 5, 5}, 1, [][2]int{{0, 7}}},
	} {
		if got := deal(tc.sizes, tc.groups); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("deal(%v, %d) = %v, want %v", tc.sizes, tc.groups, got, tc.want)
		}
	}
}

// With all cores to each pass, one group runs at a time in a process; with
// one thread each, as many as there are cores.
func TestPassGate(t *testing.T) {
	cores := runtime.NumCPU()
	for _, tc := range []struct{ threads, want int }{{0, 1}, {cores, 1}, {4 * cores, 1}, {1, cores}, {max(1, cores/2), cores / max(1, cores/2)}} {
		if got := cap(passGate(tc.threads)); got != tc.want {
			t.Errorf("passGate(%d threads) admits %d groups at once on %d cores, want %d", tc.threads, got, cores, tc.want)
		}
	}
}

func iterParts(sums map[string][]byte) func(*Part) bool {
	var ks []string
	for k := range sums {
		ks = append(ks, k)
	}
	i := 0
	return func(p *Part) bool {
		if i == len(ks) {
			return false
		}
		*p = Part{Key: ks[i], Vals: sums[ks[i]]}
		i++
		return true
	}
}

// lastLine is the end of a pipeline error, where the DoFn's own message is.
func lastLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := strings.TrimSpace(err.Error())
	return s[strings.LastIndex(s, "\n")+1:]
}

// Integer parts travel in the fewest bytes that hold their widest value
// and widen when a sum needs it; the decoded sums are exact at every
// width, and sums past 2⁵³ are refused.
func TestSumEncodings(t *testing.T) {
	small := encodeSums(true, []float64{1, -2, 1 << 30})
	if small[0] != kindInt || small[1] != 4 || len(small) != 2+3*4 {
		t.Fatalf("small integers encoded as %q, width %d, in %d bytes", small[0], small[1], len(small))
	}
	big := encodeSums(true, []float64{1 << 40, 0, 1})
	if big[0] != kindInt || big[1] != 6 {
		t.Fatalf("2⁴⁰ encoded as %q, width %d", big[0], big[1])
	}
	s, err := sumFn{}.MergeAccumulators(append([]byte(nil), small...), small)
	if err != nil {
		t.Fatal(err)
	}
	if s[1] != 5 { // 2³¹ needs a fifth byte, with its sign bit
		t.Fatalf("2·2³⁰ kept in %d bytes", s[1])
	}
	s, err = sumFn{}.MergeAccumulators(s, big)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSums("x", s)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "sums", got, []float64{2 + 1<<40, -4, 1<<31 + 1})
	huge := encodeSums(true, []float64{1 << 52})
	h, _ := sumFn{}.MergeAccumulators(append([]byte(nil), huge...), huge)
	if _, err := decodeSums("g/0/0", h); err == nil || !strings.Contains(err.Error(), "2⁵³") {
		t.Fatalf("a sum of 2⁵³: %v", err)
	}
	f, _ := sumFn{}.MergeAccumulators(encodeSums(false, []float64{0.1, 2}), encodeSums(false, []float64{0.2, -2}))
	got, _ = decodeSums("f", f)
	a, b := 0.1, 0.2 // variables: float64 arithmetic, not exact constants
	sameBits(t, "float sums", got, []float64{a + b, 0})
	if _, err := (sumFn{}).MergeAccumulators(encodeSums(false, []float64{1}), small); err == nil {
		t.Fatal("float and integer parts were summed")
	}
	// Every width, both signs, through the slack-free end of a part.
	rng := rand.New(rand.NewPCG(5, 5))
	for w := 1; w <= 8; w++ {
		vals := make([]int64, 1+rng.IntN(20))
		for i := range vals {
			vals[i] = rng.Int64() >> (64 - 8*w) // fits w bytes, either sign
		}
		vals[0] = -1 << (8*w - 1) // the most negative of the width
		enc := encodeInts(vals)
		if enc[1] != byte(w) || len(enc) != 2+w*len(vals) {
			t.Fatalf("width %d: encoded in width %d, %d bytes", w, enc[1], len(enc))
		}
		got, err := decodeInts("x", enc)
		if err != nil || !reflect.DeepEqual(got, vals) {
			t.Fatalf("width %d: %v decoded as %v (%v)", w, vals, got, err)
		}
	}
	if _, err := decodeInts("g/1/2", []byte{kindInt, 3, 1, 2}); err == nil || !strings.Contains(err.Error(), "g/1/2") {
		t.Fatalf("a truncated part: %v", err)
	}
}

// The Gram's upper triangle crosses as tiles, the diagonal ones packed:
// every entry on or above the diagonal lands once, at its place.
func TestTilesCoverTheUpperTriangle(t *testing.T) {
	for _, c := range []struct{ d, t int }{{1, 4}, {7, 3}, {9, 3}, {10, 4}, {5, 1024}} {
		seen := make([]int, c.d*c.d)
		nt := (c.d + c.t - 1) / c.t
		total := 0
		for bi := 0; bi < nt; bi++ {
			for bj := bi; bj < nt; bj++ {
				n := 0
				eachInTile(c.d, c.t, bi, bj, func(k, gi int) {
					if k != n {
						t.Fatalf("D=%d T=%d tile %d/%d: value %d at position %d", c.d, c.t, bi, bj, n, k)
					}
					n++
					seen[gi]++
				})
				if n != tileLen(c.d, c.t, bi, bj) {
					t.Fatalf("D=%d T=%d tile %d/%d: %d values, tileLen says %d", c.d, c.t, bi, bj, n, tileLen(c.d, c.t, bi, bj))
				}
				total += n
			}
		}
		for i := 0; i < c.d; i++ {
			for j := 0; j < c.d; j++ {
				if want := map[bool]int{true: 1, false: 0}[j >= i]; seen[i*c.d+j] != want {
					t.Fatalf("D=%d T=%d: entry (%d, %d) sent %d times", c.d, c.t, i, j, seen[i*c.d+j])
				}
			}
		}
		if total != c.d*(c.d+1)/2 {
			t.Fatalf("D=%d T=%d: %d values for %d in the triangle", c.d, c.t, total, c.d*(c.d+1)/2)
		}
	}
}
