// Package data reads datasets as streams of row chunks: IDX files of the MNIST
// family, NumPy .npy files and directories of .npy shards, each read chunk by
// chunk so that a file larger than memory streams through the moment
// accumulator. Every error names the file, the shape or value found and what
// was expected.
package data

import (
	"errors"
	"fmt"
	"io"

	"github.com/reconalign/reconalign/backend"
)

// Layout is how an image's pixels are ordered in a flattened row.
type Layout string

const (
	HWC Layout = "hwc" // NumPy (N,H,W,C) and IDX files: channel varies fastest
	CHW Layout = "chw" // PyTorch (N,C,H,W): column varies fastest within a channel plane
)

// ParseLayout accepts "hwc" or "chw".
func ParseLayout(s string) (Layout, error) {
	switch Layout(s) {
	case HWC, CHW:
		return Layout(s), nil
	}
	return "", fmt.Errorf("unknown layout %q: want hwc or chw", s)
}

// Shape is an image's height, width and channels, and the flattening layout.
// The zero Shape means the rows are plain feature vectors.
type Shape struct {
	H, W, C int
	Layout  Layout
}

// D is the number of features of one flattened image.
func (s Shape) D() int { return s.H * s.W * s.C }

// IsZero reports whether no image shape is known.
func (s Shape) IsZero() bool { return s.H == 0 && s.W == 0 && s.C == 0 }

func (s Shape) String() string {
	if s.IsZero() {
		return "none"
	}
	return fmt.Sprintf("%dx%dx%d (%s)", s.H, s.W, s.C, s.Layout)
}

// Meta describes a source before it is read.
type Meta struct {
	Name    string        // file, directory or generator spec, for messages
	N       int           // number of samples
	D       int           // features per sample
	Classes int           // number of classes (max label + 1) when labels are integers and known, else 0
	Targets int           // columns of dense targets when the source has them, else 0
	DType   backend.DType // element type of the rows
	Shape   Shape         // image shape, zero when unknown
	// LabelsName names where the labels or targets come from (their file),
	// for messages about them; empty when the source is unlabelled.
	LabelsName string
}

// Columns is the number of target columns C a labelled source gives Y
// (N×C): its dense targets' columns when it has them, else its number of
// classes (one-hot rows), 0 when it is unlabelled.
func (m Meta) Columns() int {
	if m.Targets > 0 {
		return m.Targets
	}
	return m.Classes
}

// ArrayShape is the shape an N-row array of these samples takes when it is
// written out: (N, H, W, C) for an hwc image shape, (N, C, H, W) for chw,
// else (N, D).
func (m Meta) ArrayShape() []int {
	s := m.Shape
	switch {
	case s.IsZero() || s.D() != m.D:
		return []int{m.N, m.D}
	case s.Layout == CHW:
		return []int{m.N, s.C, s.H, s.W}
	}
	return []int{m.N, s.H, s.W, s.C}
}

// ChunkRowsFor is the number of rows of d float64 features that fit in
// maxBytes (at least one): the size of a chunk when its bytes, not its rows,
// are what must stay bounded (very wide rows).
func ChunkRowsFor(d, maxBytes int) int { return max(1, maxBytes/(8*max(d, 1))) }

// Batch is one chunk of consecutive samples. Labels (one int per row) or
// Targets (Rows×Targets row-major) are set when the source has them. A Batch is
// valid only until the next call of the Reader that produced it.
type Batch struct {
	X       backend.Chunk
	Labels  []int
	Targets []float64
}

// Source is a dataset that can be read any number of times.
type Source interface {
	Meta() Meta
	// Open starts a new pass over the data, delivering at most chunkRows rows
	// per batch.
	Open(chunkRows int) (Reader, error)
}

// Reader delivers the batches of one pass.
type Reader interface {
	// Next returns the next batch, or io.EOF after the last one.
	Next() (Batch, error)
	Close() error
}

// Each makes one pass over src in batches of at most chunkRows rows,
// calling fn with each; it stops at the first error, fn's or the reader's,
// and returns it as is. A batch is valid only during its call.
func Each(src Source, chunkRows int, fn func(Batch) error) error {
	r, err := src.Open(chunkRows)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
}

// Resident is implemented by readers of data already in memory: the batches
// they return stay valid for the whole pass, so a consumer may keep them
// without copying and gains nothing from reading ahead.
type Resident interface {
	Resident() bool
}
