package data

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/internal/atomicfile"
)

// NPYWriter writes a .npy file row by row, so that an array larger than
// memory (projected data at ImageNet scale) can be produced chunk by chunk.
// The shape is declared up front because the header comes first; Close
// checks that exactly that many values arrived. Like WriteNPY it writes a
// temporary file and renames it only when complete, so a reader never sees a
// partial array under the final name.
type NPYWriter struct {
	path    string
	f       *atomicfile.File
	w       *bufio.Writer
	dtype   backend.DType
	shape   []int
	rowLen  int // values per row: the product of shape[1:]
	total   int // values the shape holds
	written int
	err     error // the first failure; later calls return it
	buf     []byte
}

// NewNPYWriter starts a C-order .npy file of the given shape (at least one
// dimension) whose elements are dtype: F64, F32 or U8 (values rounded to the
// nearest integer, which must lie in [0, 255]).
func NewNPYWriter(path string, dtype backend.DType, shape []int) (*NPYWriter, error) {
	var descr string
	switch dtype {
	case backend.F64:
		descr = "<f8"
	case backend.F32:
		descr = "<f4"
	case backend.U8:
		descr = "|u1"
	default:
		return nil, fmt.Errorf("%s: NPYWriter cannot write %v (want F64, F32 or U8)", path, dtype)
	}
	if len(shape) == 0 {
		return nil, fmt.Errorf("%s: NPYWriter needs a shape of at least one dimension", path)
	}
	total, err := shapeTotal(path, shape)
	if err != nil {
		return nil, err
	}
	rowLen, _ := shapeTotal(path, shape[1:]) // a factor of total: cannot overflow
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := &NPYWriter{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20), dtype: dtype,
		shape: append([]int(nil), shape...), rowLen: rowLen, total: total}
	if _, err := w.w.Write(npyHeader(descr, shape)); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// WriteRows appends whole rows (len(rows) a multiple of the row length,
// row-major), converted to the file's element type.
func (w *NPYWriter) WriteRows(rows []float64) error {
	if w.err != nil {
		return w.err
	}
	if w.rowLen > 0 && len(rows)%w.rowLen != 0 {
		return w.fail(fmt.Errorf("%s: %d values are not whole rows of %d (shape %s)", w.path, len(rows), w.rowLen, dimsString(w.shape)))
	}
	if len(rows) > w.total-w.written {
		return w.fail(fmt.Errorf("%s: shape %s holds %d values but %d were written", w.path, dimsString(w.shape), w.total, w.written+len(rows)))
	}
	size := 8
	switch w.dtype {
	case backend.F32:
		size = 4
	case backend.U8:
		size = 1
	}
	if cap(w.buf) < len(rows)*size {
		w.buf = make([]byte, len(rows)*size)
	}
	b := w.buf[:len(rows)*size]
	le := binary.LittleEndian
	switch w.dtype {
	case backend.F64:
		for i, v := range rows {
			le.PutUint64(b[8*i:], math.Float64bits(v))
		}
	case backend.F32:
		for i, v := range rows {
			le.PutUint32(b[4*i:], math.Float32bits(float32(v)))
		}
	case backend.U8:
		for i, v := range rows {
			r := math.Round(v)
			if !(r >= 0 && r <= 255) {
				return w.fail(fmt.Errorf("%s: value %g (element %d) does not fit uint8 [0, 255]", w.path, v, w.written+i))
			}
			b[i] = uint8(r)
		}
	}
	if _, err := w.w.Write(b); err != nil {
		return w.fail(err)
	}
	w.written += len(rows)
	return nil
}

// Close finishes the file and gives it its name. If fewer values than the
// shape holds were written, or a write failed, the partial file is removed
// and Close says why.
func (w *NPYWriter) Close() error {
	if err := w.Finish(); err != nil {
		return err
	}
	return w.Commit()
}

// Finish checks that the array is complete and writes it out under its
// temporary name: Commit then gives it its name, or Abort removes it. A
// group of outputs finished first and committed together appear together
// or not at all (atomicfile.Set).
func (w *NPYWriter) Finish() error {
	if w.err != nil {
		return w.err
	}
	if w.written != w.total {
		return w.fail(fmt.Errorf("%s: shape %s holds %d values but only %d were written", w.path, dimsString(w.shape), w.total, w.written))
	}
	if err := w.w.Flush(); err != nil {
		return w.fail(err)
	}
	if err := w.f.Close(); err != nil {
		return w.fail(err)
	}
	w.err = fmt.Errorf("%s: NPYWriter already finished", w.path)
	return nil
}

// Commit gives a finished file its name.
func (w *NPYWriter) Commit() error { return w.f.Commit() }

// Abort removes the partial file: for a producer that fails before the end
// (use it with defer; after Close it does nothing).
func (w *NPYWriter) Abort() {
	w.f.Abort()
	if w.err == nil {
		w.err = fmt.Errorf("%s: NPYWriter aborted", w.path)
	}
}

// fail records err, discards the temporary file and returns err.
func (w *NPYWriter) fail(err error) error {
	w.err = err
	w.f.Abort()
	return err
}
