package data

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/reconalign/reconalign/backend"
)

func TestFromMatrixAndCollect(t *testing.T) {
	u8 := backend.Chunk{N: 4, D: 3, U8: []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}}
	f32 := backend.Chunk{N: 4, D: 3, F32: []float32{0.5, -1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1e30}}
	for _, x := range []backend.Chunk{u8, f32} {
		src, err := FromMatrix(x, []int{1, 0, 3, 1}, Shape{H: 1, W: 3, C: 1})
		if err != nil {
			t.Fatal(err)
		}
		m := src.Meta()
		if m.N != 4 || m.D != 3 || m.Classes != 4 || m.DType != x.DType() || m.Shape != (Shape{H: 1, W: 3, C: 1, Layout: HWC}) {
			t.Errorf("meta %+v", m)
		}
		got, labels, err := Collect(src)
		if err != nil {
			t.Fatal(err)
		}
		want := x.Float64(make([]float64, 12), nil)
		if got.N != 4 || got.D != 3 || got.F64 == nil || !slices.Equal(got.F64, want) || !slices.Equal(labels, []int{1, 0, 3, 1}) {
			t.Errorf("Collect: %+v, %v", got, labels)
		}
		native, labels, err := Load(src)
		if err != nil {
			t.Fatal(err)
		}
		if native.DType() != x.DType() || !slices.Equal(native.U8, x.U8) || !slices.Equal(native.F32, x.F32) || !slices.Equal(labels, []int{1, 0, 3, 1}) {
			t.Errorf("Load: %+v, %v", native, labels)
		}
		for _, chunk := range []int{1, 3, 4, 100} {
			var rows []float64
			forEachBatch(t, src, chunk, func(b Batch) { rows = append(rows, b.X.Float64(make([]float64, b.X.N*3), nil)...) })
			if !slices.Equal(rows, want) {
				t.Errorf("chunk %d: %v", chunk, rows)
			}
		}
	}
	// One feature per sample is valid data.
	if src, err := FromMatrix(backend.Chunk{N: 2, D: 1, F64: []float64{1, 2}}, nil, Shape{}); err != nil || src.Meta().D != 1 {
		t.Errorf("D=1: %v", err)
	}
}

func TestFromMatrixRejects(t *testing.T) {
	for _, tc := range []struct {
		x      backend.Chunk
		labels []int
		shape  Shape
		want   []string
	}{
		{backend.Chunk{N: 0, D: 3, F64: []float64{}}, nil, Shape{}, []string{"holds no samples"}},
		{backend.Chunk{N: 2, D: 0, F64: []float64{}}, nil, Shape{}, []string{"D must be at least 1"}},
		{backend.Chunk{N: 2, D: 2, F64: []float64{1, 2, 3}}, nil, Shape{}, []string{"2×2 holds 3 values"}},
		{backend.Chunk{N: 1, D: 1, F64: []float64{1}, F32: []float32{1}}, nil, Shape{}, []string{"exactly one"}},
		{backend.Chunk{N: 2, D: 2, F64: []float64{1, 2, math.Inf(-1), 4}}, nil, Shape{}, []string{"row 1, column 0", "not finite"}},
		{backend.Chunk{N: 1, D: 2, F32: []float32{float32(math.NaN()), 0}}, nil, Shape{}, []string{"row 0, column 0"}},
		{backend.Chunk{N: 2, D: 2, U8: []uint8{1, 2, 3, 4}}, []int{1}, Shape{}, []string{"2 samples", "1 labels"}},
		{backend.Chunk{N: 2, D: 2, U8: []uint8{1, 2, 3, 4}}, nil, Shape{H: 2, W: 2, C: 1}, []string{"4 features", "rows have 2"}},
		{backend.Chunk{N: 1, D: 4, U8: []uint8{1, 2, 3, 4}}, nil, Shape{H: 2, W: 2, C: 1, Layout: "whc"}, []string{`"whc"`}},
	} {
		_, err := FromMatrix(tc.x, tc.labels, tc.shape)
		wantErr(t, err, append(tc.want, "in-memory matrix")...)
	}
}

// shortSource declares more rows than it delivers, as a buggy generator might.
type shortSource struct{ Source }

func (s shortSource) Meta() Meta { m := s.Source.Meta(); m.N++; return m }

func TestCollectChecksTheDeclaredCount(t *testing.T) {
	_, _, err := Collect(shortSource{mustMatrix(t, 3)})
	wantErr(t, err, "delivered 3 rows but declares 4")
	_, _, err = Load(shortSource{mustMatrix(t, 3)})
	wantErr(t, err, "delivered 3 rows but declares 4")
}

// A source whose batches are not of the element type it declares.
type mistypedSource struct{ Source }

func (s mistypedSource) Meta() Meta { m := s.Source.Meta(); m.DType = backend.U8; return m }

func TestLoadChecksTheDeclaredType(t *testing.T) {
	_, _, err := Load(mistypedSource{mustMatrix(t, 3)})
	wantErr(t, err, "delivered float64 rows but declares uint8")
}

// Each visits every row once and stops at fn's first error, returning it.
func TestEach(t *testing.T) {
	src := mustMatrix(t, 10)
	rows, calls := 0, 0
	if err := Each(src, 3, func(b Batch) error { rows += b.X.N; calls++; return nil }); err != nil || rows != 10 || calls != 4 {
		t.Fatalf("rows %d, calls %d, err %v", rows, calls, err)
	}
	stop := errors.New("stop")
	calls = 0
	if err := Each(src, 3, func(Batch) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("calls %d, err %v", calls, err)
	}
	if err := Each(src, 0, func(Batch) error { return nil }); err == nil {
		t.Fatal("a chunk of 0 rows was accepted")
	}
}

// CollectXY builds Y as the closed forms want it: one-hot rows for labels,
// the dense targets as given, no columns without labels; Meta.Columns says
// how many.
func TestCollectXY(t *testing.T) {
	x := backend.Chunk{N: 3, D: 2, F64: []float64{1, 2, 3, 4, 5, 6}}
	labelled, err := FromMatrix(x, []int{2, 0, 2}, Shape{})
	if err != nil {
		t.Fatal(err)
	}
	xm, y, err := CollectXY(WithProgress(labelled, func(done, total int) {}))
	if err != nil {
		t.Fatal(err)
	}
	if labelled.Meta().Columns() != 3 || y.Rows != 3 || y.Cols != 3 || !slices.Equal(y.Data, []float64{0, 0, 1, 1, 0, 0, 0, 0, 1}) || !slices.Equal(xm.Data, x.F64) {
		t.Errorf("one-hot: %v %+v", y.Data, xm)
	}
	tsrc, _ := FromMatrix(backend.Chunk{N: 3, D: 1, F64: []float64{0.5, -1, 2}}, nil, Shape{})
	dense, err := WithTargets(mustSource(t, x), tsrc)
	if err != nil {
		t.Fatal(err)
	}
	_, y, err = CollectXY(dense)
	if err != nil || dense.Meta().Columns() != 1 || !slices.Equal(y.Data, []float64{0.5, -1, 2}) {
		t.Errorf("targets: %v %v", y.Data, err)
	}
	_, y, err = CollectXY(mustSource(t, x))
	if err != nil || y.Rows != 3 || y.Cols != 0 || mustSource(t, x).Meta().Columns() != 0 {
		t.Errorf("unlabelled: %+v %v", y, err)
	}
}

func mustSource(t *testing.T, x backend.Chunk) Source {
	t.Helper()
	s, err := FromMatrix(x, nil, Shape{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestArrayShapeAndProgress(t *testing.T) {
	for _, c := range []struct {
		m    Meta
		want []int
	}{
		{Meta{N: 5, D: 12}, []int{5, 12}},
		{Meta{N: 5, D: 12, Shape: Shape{H: 2, W: 2, C: 3, Layout: HWC}}, []int{5, 2, 2, 3}},
		{Meta{N: 5, D: 12, Shape: Shape{H: 2, W: 2, C: 3, Layout: CHW}}, []int{5, 3, 2, 2}},
		{Meta{N: 5, D: 12, Shape: Shape{H: 2, W: 2, C: 1}}, []int{5, 12}}, // shape of other rows
	} {
		if got := c.m.ArrayShape(); !slices.Equal(got, c.want) {
			t.Errorf("%+v: ArrayShape %v, want %v", c.m, got, c.want)
		}
	}
	if ChunkRowsFor(150528, 64<<20) != 55 || ChunkRowsFor(1<<30, 1) != 1 {
		t.Errorf("ChunkRowsFor: %d, %d", ChunkRowsFor(150528, 64<<20), ChunkRowsFor(1<<30, 1))
	}
	src := mustSource(t, backend.Chunk{N: 10, D: 1, F64: make([]float64, 10)})
	var seen []int
	if err := Each(WithProgress(src, func(done, total int) { seen = append(seen, done, total) }), 4, func(Batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{4, 10, 8, 10, 10, 10}) {
		t.Errorf("progress calls %v", seen)
	}
}
