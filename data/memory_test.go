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
