package data

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
)

// golden is one entry of testdata/expected.json, written by
// scripts/gen_data_golden.py from the arrays NumPy saved.
type golden struct {
	Shape   []int     `json:"shape"`
	DType   string    `json:"dtype"`
	Values  []float64 `json:"values"`
	Classes int       `json:"classes"`
	Labels  []int     `json:"labels"`
}

func loadGoldens(t *testing.T) map[string]golden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatalf("goldens missing (run /usr/bin/python3 scripts/gen_data_golden.py data/testdata): %v", err)
	}
	var g map[string]golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g) < 20 {
		t.Fatalf("expected.json lists only %d files", len(g))
	}
	return g
}

func isLabelFile(name string) bool {
	return strings.HasPrefix(name, "labels") || strings.HasPrefix(name, "targets")
}

// wantDType is the chunk type each on-disk dtype must be delivered in.
var wantDType = map[string]backend.DType{
	"|u1": backend.U8, "<f4": backend.F32, "<f8": backend.F64,
	"|i1": backend.F32, "<i2": backend.F32, "<i4": backend.F64,
}

// wantShape is the image shape NumPy's shape implies under HWC.
func wantShape(dims []int) (int, Shape) {
	switch len(dims) {
	case 1:
		return 1, Shape{}
	case 2:
		return dims[1], Shape{}
	case 3:
		return dims[1] * dims[2], Shape{H: dims[1], W: dims[2], C: 1, Layout: HWC}
	}
	return dims[1] * dims[2] * dims[3], Shape{H: dims[1], W: dims[2], C: dims[3], Layout: HWC}
}

func TestGoldenFilesReadAsNumPyWroteThem(t *testing.T) {
	for name, g := range loadGoldens(t) {
		if isLabelFile(name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			src, err := OpenFile(filepath.Join("testdata", name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			m := src.Meta()
			d, shape := wantShape(g.Shape)
			if m.N != g.Shape[0] || m.D != d || m.Shape != shape || m.DType != wantDType[g.DType] || m.Classes != 0 {
				t.Fatalf("meta %+v, want N=%d D=%d shape %v dtype %v", m, g.Shape[0], d, shape, wantDType[g.DType])
			}
			x, labels, err := Collect(src)
			if err != nil {
				t.Fatal(err)
			}
			if labels != nil {
				t.Errorf("unlabeled file delivered labels %v", labels)
			}
			if !slices.Equal(x.F64, g.Values) {
				t.Errorf("values differ from NumPy's:\n got %v\nwant %v", x.F64, g.Values)
			}
		})
	}
}

// TestCHWLayout reads the transposed copy of an (N,H,W,C) array as
// (N,C,H,W) and checks that the declared shape maps every pixel back to the
// same value: chw[c·H·W + h·W + w] == hwc[(h·W + w)·C + c].
func TestCHWLayout(t *testing.T) {
	hwc, err := OpenNPY("testdata/f32_hwc.npy", Options{})
	if err != nil {
		t.Fatal(err)
	}
	chw, err := OpenNPY("testdata/f32_chw.npy", Options{Layout: CHW})
	if err != nil {
		t.Fatal(err)
	}
	sh, sc := hwc.Meta().Shape, chw.Meta().Shape
	if sh != (Shape{H: 2, W: 3, C: 3, Layout: HWC}) || sc != (Shape{H: 2, W: 3, C: 3, Layout: CHW}) {
		t.Fatalf("shapes %v and %v, want 2x3x3 hwc and chw", sh, sc)
	}
	xh, _, err := Collect(hwc)
	if err != nil {
		t.Fatal(err)
	}
	xc, _, err := Collect(chw)
	if err != nil {
		t.Fatal(err)
	}
	H, W, C, D := sh.H, sh.W, sh.C, sh.D()
	checked := 0
	for n := 0; n < xh.N; n++ {
		for h := 0; h < H; h++ {
			for w := 0; w < W; w++ {
				for c := 0; c < C; c++ {
					a := xh.F64[n*D+(h*W+w)*C+c]
					b := xc.F64[n*D+c*H*W+h*W+w]
					if a != b {
						t.Fatalf("sample %d pixel (%d,%d,%d): hwc %v, chw %v", n, h, w, c, a, b)
					}
					checked++
				}
			}
		}
	}
	if checked != 6*18 {
		t.Fatalf("checked %d values", checked)
	}
	// The layout option only concerns 4-D arrays; a declared shape must agree.
	if _, err := OpenNPY("testdata/f32_chw.npy", Options{Layout: "nchw"}); err == nil || !strings.Contains(err.Error(), `"nchw"`) {
		t.Errorf("bad layout: %v", err)
	}
}

func TestDeclaredShapeForFlatData(t *testing.T) {
	src, err := OpenFile("testdata/f64_flat.npy", Options{Shape: Shape{H: 1, W: 5, C: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if s := src.Meta().Shape; s != (Shape{H: 1, W: 5, C: 1, Layout: HWC}) {
		t.Errorf("shape %v", s)
	}
	_, err = OpenFile("testdata/f64_flat.npy", Options{Shape: Shape{H: 2, W: 2, C: 1}})
	wantErr(t, err, "f64_flat.npy", "4 features", "have 5")
	_, err = OpenFile("testdata/u8_img.npy", Options{Shape: Shape{H: 4, W: 3, C: 1}})
	wantErr(t, err, "u8_img.npy", "disagrees", "(5, 3, 4)")
}

func TestReadLabelsGoldens(t *testing.T) {
	g := loadGoldens(t)
	for _, name := range []string{"labels_i8.npy", "labels_i4_col.npy", "labels_u1.npy", "labels-idx1-ubyte.gz"} {
		got, err := ReadLabels(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int, len(g[name].Values))
		for i, v := range g[name].Values {
			want[i] = int(v)
		}
		if !slices.Equal(got, want) || len(want) < 5 {
			t.Errorf("%s: labels %v, want %v", name, got, want)
		}
	}
	_, err := ReadLabels("testdata/targets_f8.npy")
	wantErr(t, err, "targets_f8.npy", "floating-point", "<f8")
	_, err = ReadLabels("testdata/u8_img.npy")
	wantErr(t, err, "u8_img.npy", "(N,) or (N, 1)", "(5, 3, 4)")
}

func TestOpenAttachesLabels(t *testing.T) {
	g := loadGoldens(t)
	for _, lf := range []string{"labels_i8.npy", "labels_i4_col.npy", "labels_u1.npy"} {
		src, err := Open("testdata/f64_flat.npy", filepath.Join("testdata", lf), Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := src.Meta()
		if m.Classes != g[lf].Classes || m.N != 7 || m.Targets != 0 {
			t.Errorf("%s: meta %+v, want 10 classes", lf, m)
		}
		// Chunks of 3 rows: each batch carries its own 3 (or 1) labels.
		var labels []int
		forEachBatch(t, src, 3, func(b Batch) {
			if len(b.Labels) != b.X.N {
				t.Fatalf("batch of %d rows carries %d labels", b.X.N, len(b.Labels))
			}
			labels = append(labels, b.Labels...)
		})
		if want := []int{3, 0, 2, 2, 9, 1, 0}; !slices.Equal(labels, want) {
			t.Errorf("%s: labels %v, want %v", lf, labels, want)
		}
	}
	src, err := Open("testdata/images-idx3-ubyte.gz", "testdata/labels-idx1-ubyte.gz", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, labels, err := Collect(src); err != nil || !slices.Equal(labels, []int{3, 0, 2, 2, 9}) {
		t.Errorf("IDX labels %v, %v", labels, err)
	}
}

func TestOpenAttachesTargets(t *testing.T) {
	g := loadGoldens(t)
	for _, tc := range []struct {
		file string
		cols int
	}{{"targets_f8.npy", 3}, {"targets_f4_1d.npy", 1}} {
		src, err := Open("testdata/f64_flat.npy", filepath.Join("testdata", tc.file), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m := src.Meta(); m.Targets != tc.cols || m.Classes != 0 {
			t.Fatalf("%s: meta %+v", tc.file, m)
		}
		for _, chunk := range []int{1, 2, 7} {
			var targets, x []float64
			forEachBatch(t, src, chunk, func(b Batch) {
				if len(b.Targets) != b.X.N*tc.cols || b.Labels != nil {
					t.Fatalf("batch of %d rows carries %d targets, labels %v", b.X.N, len(b.Targets), b.Labels)
				}
				targets = append(targets, b.Targets...)
				x = append(x, b.X.F64...)
			})
			if !slices.Equal(targets, g[tc.file].Values) || !slices.Equal(x, g["f64_flat.npy"].Values) {
				t.Errorf("%s chunk %d: targets %v, want %v", tc.file, chunk, targets, g[tc.file].Values)
			}
		}
	}
}

// forEachBatch reads one pass and checks the batch-size contract.
func forEachBatch(t *testing.T, src Source, chunk int, f func(Batch)) {
	t.Helper()
	r, err := src.Open(chunk)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows := 0
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b.X.Check()
		if b.X.N < 1 || b.X.N > chunk || b.X.D != src.Meta().D || b.X.DType() != src.Meta().DType {
			t.Fatalf("batch %d×%d (%v) with chunk %d, meta %+v", b.X.N, b.X.D, b.X.DType(), chunk, src.Meta())
		}
		rows += b.X.N
		f(b)
	}
	if rows != src.Meta().N {
		t.Fatalf("read %d rows, meta says %d", rows, src.Meta().N)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after EOF: %v", err)
	}
}

// TestChunkedEqualsWhole reads every golden data file with chunks of 1, 7,
// N and more than N rows and compares the concatenation with the values NumPy
// saved, so that buffer reuse and the last short chunk are both exercised.
func TestChunkedEqualsWhole(t *testing.T) {
	for name, g := range loadGoldens(t) {
		if isLabelFile(name) {
			continue
		}
		src, err := OpenFile(filepath.Join("testdata", name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := src.Meta().N
		for _, chunk := range []int{1, 7, n, n + 5} {
			var got []float64
			forEachBatch(t, src, chunk, func(b Batch) {
				got = append(got, b.X.Float64(make([]float64, b.X.N*b.X.D), nil)...)
			})
			if !slices.Equal(got, g.Values) {
				t.Errorf("%s, chunk %d: values differ", name, chunk)
			}
		}
	}
}

func TestShardsEqualConcatenation(t *testing.T) {
	g := loadGoldens(t)["shards_all.npy"]
	// A single labels file covering all shards, too.
	one := filepath.Join(t.TempDir(), "all_labels.npy")
	if err := WriteNPY(one, g.Labels, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ data, labels string }{
		{"testdata/shards/", "testdata/shardlabels/"},
		{"testdata/shards", "testdata/shardlabels/part-*.npy"},
		{"testdata/shards/*.npy", one},
	} {
		src, err := Open(tc.data, tc.labels, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := src.Meta()
		if m.N != 9 || m.D != 5 || m.DType != backend.F32 || m.Name != tc.data || m.Classes != slices.Max(g.Labels)+1 {
			t.Fatalf("%s: meta %+v", tc.data, m)
		}
		for _, chunk := range []int{1, 2, 7, 9} {
			var x []float64
			var labels []int
			forEachBatch(t, src, chunk, func(b Batch) {
				if len(b.Labels) != b.X.N {
					t.Fatalf("batch of %d rows carries %d labels", b.X.N, len(b.Labels))
				}
				x = append(x, b.X.Float64(make([]float64, b.X.N*b.X.D), nil)...)
				labels = append(labels, b.Labels...)
			})
			if !slices.Equal(x, g.Values) || !slices.Equal(labels, g.Labels) {
				t.Errorf("%s chunk %d: shards differ from their concatenation", tc.data, chunk)
			}
		}
	}
}

func TestLabeledBatchesFollowRows(t *testing.T) {
	x := backend.Chunk{N: 5, D: 2, F64: []float64{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}}
	src, err := FromMatrix(x, []int{0, 1, 2, 3, 4}, Shape{})
	if err != nil {
		t.Fatal(err)
	}
	forEachBatch(t, src, 2, func(b Batch) {
		for i, l := range b.Labels {
			if b.X.F64[2*i] != float64(l) {
				t.Errorf("row with value %v carries label %d", b.X.F64[2*i], l)
			}
		}
	})
}
