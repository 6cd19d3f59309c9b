package data

import (
	"errors"
	"fmt"
	"io"

	"github.com/reconalign/reconalign/backend"
)

// MaxLabel is the largest class label accepted. A label beyond it is far more
// likely a misread file (floats read as integers, the wrong column) than a
// real class, and Classes = max label + 1 sizes C×D matrices.
const MaxLabel = 1_000_000

// ReadLabels reads integer class labels from an IDX file or an .npy file of
// any integer dtype, shaped (N,) or (N, 1), gzip-compressed or not. Labels
// must lie in [0, MaxLabel].
func ReadLabels(path string) ([]int, error) {
	a, err := readArray(path)
	if err != nil {
		return nil, err
	}
	return readLabels(a)
}

func readLabels(a *array) ([]int, error) {
	if a.elem.isFloat() {
		return nil, fmt.Errorf("%s: holds floating-point values (%s), not integer labels: save labels with astype(np.int64), or pass the file as dense targets", a.path, a.elem)
	}
	if len(a.dims) > 2 || len(a.dims) == 2 && a.dims[1] != 1 {
		return nil, fmt.Errorf("%s: labels must have shape (N,) or (N, 1), not %s", a.path, a.shapeString())
	}
	n := a.rows()
	if n == 0 || a.rowElems() == 0 {
		return nil, fmt.Errorf("%s: holds no labels (shape %s)", a.path, a.shapeString())
	}
	st, err := openStream(a.path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := st.skip(a.dataOff); err != nil {
		return nil, fmt.Errorf("%s: cannot reach the data after the %d-byte header: %v", a.path, a.dataOff, err)
	}
	labels := make([]int, n)
	raw := make([]byte, min(n, 1<<16)*a.elem.size)
	for i := 0; i < n; {
		k := min(n-i, len(raw)/a.elem.size)
		got, err := io.ReadFull(st.r, raw[:k*a.elem.size])
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, a.sizeError(int64(i*a.elem.size + got))
			}
			return nil, fmt.Errorf("%s: reading label %d: %v", a.path, i, err)
		}
		for j := 0; j < k; j++ {
			v := a.elem.integer(raw, j)
			if err := checkLabel(a.path, i+j, v); err != nil {
				return nil, err
			}
			labels[i+j] = int(v)
		}
		i += k
	}
	return labels, nil
}

func checkLabel(name string, i int, v int64) error {
	switch {
	case v < 0:
		return fmt.Errorf("%s: label %d is negative (%d): class labels must be 0, 1, 2, ...", name, i, v)
	case v > MaxLabel:
		return fmt.Errorf("%s: label %d is absurdly large (%d > %d): is this really a file of class labels?", name, i, v, MaxLabel)
	}
	return nil
}

// Labeled attaches one class label per sample to x. Batches then carry the
// labels of their rows and Meta.Classes is max label + 1.
func Labeled(x Source, labels []int) (Source, error) {
	m := x.Meta()
	if len(labels) != m.N {
		return nil, fmt.Errorf("%s has %d samples but %d labels were given", m.Name, m.N, len(labels))
	}
	classes := 0
	for i, v := range labels {
		if err := checkLabel("labels of "+m.Name, i, int64(v)); err != nil {
			return nil, err
		}
		classes = max(classes, v+1)
	}
	m.Classes = classes
	if m.LabelsName == "" {
		m.LabelsName = "labels of " + m.Name
	}
	return &labeledSource{x: x, labels: labels[:len(labels):len(labels)], meta: m}, nil
}

type labeledSource struct {
	x      Source
	labels []int
	meta   Meta
}

func (s *labeledSource) Meta() Meta { return s.meta }

func (s *labeledSource) Open(chunkRows int) (Reader, error) {
	r, err := s.x.Open(chunkRows)
	if err != nil {
		return nil, err
	}
	return &labeledReader{Reader: r, src: s}, nil
}

type labeledReader struct {
	Reader
	src  *labeledSource
	done int
}

func (r *labeledReader) Next() (Batch, error) {
	b, err := r.Reader.Next()
	if err != nil {
		return b, err
	}
	end := r.done + b.X.N
	if end > len(r.src.labels) {
		return Batch{}, fmt.Errorf("%s delivered more than the %d samples it declares", r.src.meta.Name, len(r.src.labels))
	}
	b.Labels = r.src.labels[r.done:end:end]
	r.done = end
	return b, nil
}

// WithTargets attaches dense targets to x: row i of targets (any DType,
// Meta.D columns) is the target of sample i. Batches carry them as float64,
// Rows×C row-major; both sources are streamed side by side.
func WithTargets(x, targets Source) (Source, error) {
	m, t := x.Meta(), targets.Meta()
	if t.N != m.N {
		return nil, fmt.Errorf("%s has %d rows of targets but %s has %d samples", t.Name, t.N, m.Name, m.N)
	}
	if t.D < 1 {
		return nil, fmt.Errorf("%s: targets have %d columns", t.Name, t.D)
	}
	m.Targets = t.D
	m.LabelsName = t.Name
	return &targetSource{x: x, t: targets, meta: m}, nil
}

type targetSource struct {
	x, t Source
	meta Meta
}

func (s *targetSource) Meta() Meta { return s.meta }

func (s *targetSource) Open(chunkRows int) (Reader, error) {
	xr, err := s.x.Open(chunkRows)
	if err != nil {
		return nil, err
	}
	tr, err := s.t.Open(chunkRows)
	if err != nil {
		xr.Close()
		return nil, err
	}
	return &targetReader{Reader: xr, t: tr, src: s, buf: make([]float64, min(chunkRows, s.meta.N)*s.meta.Targets)}, nil
}

// targetReader pulls exactly as many target rows as each data batch has,
// whatever the batch sizes of the targets reader.
type targetReader struct {
	Reader
	t       Reader
	src     *targetSource
	buf     []float64
	pending backend.Chunk // target rows read but not yet delivered
}

func (r *targetReader) Next() (Batch, error) {
	b, err := r.Reader.Next()
	if err == io.EOF {
		if r.pending.N > 0 {
			return Batch{}, fmt.Errorf("%s has more rows of targets than %s has samples", r.src.t.Meta().Name, r.src.x.Meta().Name)
		}
		return b, err
	}
	if err != nil {
		return b, err
	}
	c := r.src.meta.Targets
	if b.X.N*c > len(r.buf) {
		r.buf = make([]float64, b.X.N*c)
	}
	out := r.buf[:b.X.N*c]
	for filled := 0; filled < b.X.N; {
		if r.pending.N == 0 {
			tb, err := r.t.Next()
			if err == io.EOF {
				return Batch{}, fmt.Errorf("%s has fewer rows of targets than %s has samples", r.src.t.Meta().Name, r.src.x.Meta().Name)
			}
			if err != nil {
				return Batch{}, err
			}
			if tb.X.D != c {
				return Batch{}, fmt.Errorf("%s delivered rows of %d targets, declared %d", r.src.t.Meta().Name, tb.X.D, c)
			}
			r.pending = tb.X
		}
		k := min(b.X.N-filled, r.pending.N)
		r.pending.Rows(0, k).Float64(out[filled*c:], nil)
		r.pending = r.pending.Rows(k, r.pending.N)
		filled += k
	}
	b.Targets = out
	return b, nil
}

func (r *targetReader) Close() error {
	err := r.Reader.Close()
	if err2 := r.t.Close(); err == nil {
		err = err2
	}
	return err
}

// Resident: labels are slices of a resident array, so batches stay valid
// exactly when the data reader's do.
func (r *labeledReader) Resident() bool {
	rr, ok := r.Reader.(Resident)
	return ok && rr.Resident()
}
