package data

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// FromMatrix makes a Source of a chunk held in memory, with one label per
// row (labels may be nil) and an optional image shape (zero for plain
// vectors; an empty Layout means HWC). Batches are views of x, not copies.
func FromMatrix(x backend.Chunk, labels []int, shape Shape) (Source, error) {
	const name = "in-memory matrix"
	if err := checkChunk(x); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	switch {
	case x.N == 0:
		return nil, fmt.Errorf("%s: holds no samples (%d×%d)", name, x.N, x.D)
	case x.D == 0:
		return nil, fmt.Errorf("%s: samples have no features (%d×%d): D must be at least 1", name, x.N, x.D)
	}
	if !shape.IsZero() {
		if shape.Layout == "" {
			shape.Layout = HWC
		}
		if _, err := ParseLayout(string(shape.Layout)); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if shape.D() != x.D {
			return nil, fmt.Errorf("%s: image shape %s has %d features but the rows have %d", name, shape, shape.D(), x.D)
		}
	}
	if i := firstNonFinite(x); i >= 0 {
		return nil, fmt.Errorf("%s: row %d, column %d is not finite: the data must be finite", name, i/x.D, i%x.D)
	}
	var src Source = &memSource{x: x, meta: Meta{Name: name, N: x.N, D: x.D, DType: x.DType(), Shape: shape}}
	if labels != nil {
		return Labeled(src, labels)
	}
	return src, nil
}

// checkChunk is backend.Chunk.Check as an error instead of a panic, for
// chunks handed in by library users.
func checkChunk(x backend.Chunk) error {
	set, n := 0, 0
	if x.U8 != nil {
		set, n = set+1, len(x.U8)
	}
	if x.F32 != nil {
		set, n = set+1, len(x.F32)
	}
	if x.F64 != nil {
		set, n = set+1, len(x.F64)
	}
	switch {
	case set != 1:
		return fmt.Errorf("chunk must have exactly one of U8, F32, F64 set, not %d", set)
	case x.N < 0 || x.D < 0:
		return fmt.Errorf("chunk has negative shape %d×%d", x.N, x.D)
	case x.D != 0 && x.N > math.MaxInt/x.D || n != x.N*x.D:
		return fmt.Errorf("chunk of %d×%d holds %d values", x.N, x.D, n)
	}
	return nil
}

func firstNonFinite(x backend.Chunk) int {
	for i, v := range x.F32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	for i, v := range x.F64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return i
		}
	}
	return -1
}

type memSource struct {
	x    backend.Chunk
	meta Meta
}

func (s *memSource) Meta() Meta { return s.meta }

func (s *memSource) Open(chunkRows int) (Reader, error) {
	if chunkRows < 1 {
		return nil, fmt.Errorf("%s: chunk of %d rows: must be at least 1", s.meta.Name, chunkRows)
	}
	return &memReader{x: s.x, chunkRows: chunkRows}, nil
}

type memReader struct {
	x         backend.Chunk
	chunkRows int
	row       int
}

func (r *memReader) Next() (Batch, error) {
	if r.row >= r.x.N {
		return Batch{}, io.EOF
	}
	end := min(r.row+r.chunkRows, r.x.N)
	b := Batch{X: r.x.Rows(r.row, end)}
	r.row = end
	return b, nil
}

func (r *memReader) Close() error {
	r.row = r.x.N
	return nil
}

// Collect reads a whole source into memory as an N×D float64 chunk, with its
// labels (nil when it has none). It is meant for small data: tests, examples
// and sizes where N·D float64 values comfortably fit in memory.
func Collect(src Source) (backend.Chunk, []int, error) {
	c, err := collect(src, backend.F64)
	return c.x, c.labels, err
}

// Load reads a whole source into memory in its own element type (uint8
// pixels stay one byte each, and keep the backends' exact uint8 Gram), with
// its labels (nil when it has none). Wrap the result with FromMatrix to make
// passes over memory.
func Load(src Source) (backend.Chunk, []int, error) {
	c, err := collect(src, src.Meta().DType)
	return c.x, c.labels, err
}

// CollectXY reads a whole source into memory as the float64 matrices of the
// closed forms: X (N×D) and Y (N×C, C = Meta.Columns()), whose rows are
// one-hot for integer labels and the dense targets as given, with no
// columns when the source is unlabelled.
func CollectXY(src Source) (x, y blas64.General, err error) {
	c, err := collect(src, backend.F64)
	if err != nil {
		return x, y, err
	}
	m := src.Meta()
	n, d, k := m.N, m.D, m.Columns()
	x = blas64.General{Rows: n, Cols: d, Stride: d, Data: c.x.F64}
	y = blas64.General{Rows: n, Cols: k, Stride: max(k, 1), Data: make([]float64, n*k)}
	switch {
	case k == 0:
	case c.targets != nil:
		copy(y.Data, c.targets)
	case c.labels != nil:
		for i, l := range c.labels {
			if l < 0 || l >= k {
				return x, y, fmt.Errorf("%s: label %d of row %d is outside [0, %d)", m.LabelsName, l, i, k)
			}
			y.Data[i*k+l] = 1
		}
	default:
		return x, y, fmt.Errorf("%s: declares %d target columns but delivered no labels or targets", m.Name, k)
	}
	return x, y, nil
}

// collected is a whole source in memory.
type collected struct {
	x       backend.Chunk
	labels  []int
	targets []float64 // N×Targets, row-major
}

func collect(src Source, dt backend.DType) (collected, error) {
	var c collected
	m := src.Meta()
	if m.N < 0 || m.D < 1 || m.N > math.MaxInt/8/m.D || m.Targets < 0 || m.Targets > 0 && m.N > math.MaxInt/8/m.Targets {
		return c, fmt.Errorf("%s: cannot collect %d×%d values", m.Name, m.N, m.D)
	}
	c.x = backend.Chunk{N: m.N, D: m.D}
	switch dt {
	case backend.U8:
		c.x.U8 = make([]uint8, m.N*m.D)
	case backend.F32:
		c.x.F32 = make([]float32, m.N*m.D)
	default:
		c.x.F64 = make([]float64, m.N*m.D)
	}
	row := 0
	err := Each(src, min(max(m.N, 1), 4096), func(b Batch) error {
		if b.X.D != m.D || row+b.X.N > m.N {
			return fmt.Errorf("%s: delivered a %d×%d batch after %d rows, inconsistent with its declared %d×%d", m.Name, b.X.N, b.X.D, row, m.N, m.D)
		}
		lo, hi := row*m.D, (row+b.X.N)*m.D
		switch {
		case dt == backend.F64:
			b.X.Float64(c.x.F64[lo:], nil)
		case b.X.DType() != dt:
			return fmt.Errorf("%s: delivered %v rows but declares %v", m.Name, b.X.DType(), dt)
		case dt == backend.U8:
			copy(c.x.U8[lo:hi], b.X.U8)
		default:
			copy(c.x.F32[lo:hi], b.X.F32)
		}
		if b.Labels != nil {
			if c.labels == nil {
				c.labels = make([]int, m.N)
			}
			copy(c.labels[row:], b.Labels)
		}
		if b.Targets != nil && m.Targets > 0 {
			if len(b.Targets) != b.X.N*m.Targets {
				return fmt.Errorf("%s: delivered %d target values for %d rows of %d columns", m.LabelsName, len(b.Targets), b.X.N, m.Targets)
			}
			if c.targets == nil {
				c.targets = make([]float64, m.N*m.Targets)
			}
			copy(c.targets[row*m.Targets:], b.Targets)
		}
		row += b.X.N
		return nil
	})
	if err != nil {
		return collected{}, err
	}
	if row != m.N {
		return collected{}, fmt.Errorf("%s: delivered %d rows but declares %d", m.Name, row, m.N)
	}
	return c, nil
}

// Resident: the batches are views of the caller's matrix.
func (r *memReader) Resident() bool { return true }
