package data

import (
	"errors"
	"fmt"
	"io"

	"github.com/reconalign/reconalign/backend"
)

// Options say how the axes of an array file become samples.
type Options struct {
	// Layout names the axis order of a 4-D array: HWC (the default) reads
	// it as (N, H, W, C), CHW as (N, C, H, W). Rows are delivered as stored
	// either way; the layout only tells consumers which feature is which.
	Layout Layout
	// Shape declares the image shape of flat (N, D) or (N,) data; its D()
	// must equal the file's D. For 3-D and 4-D arrays it must agree with the
	// shape the file implies. Zero: take the shape from the file.
	Shape Shape
}

func (o Options) layout() (Layout, error) {
	if o.Layout == "" {
		return HWC, nil
	}
	return ParseLayout(string(o.Layout))
}

// sampleShape maps the array's shape to features per sample and an image
// shape: (N,) is one feature, (N, D) plain vectors, (N, H, W) one-channel
// images, (N, H, W, C) or (N, C, H, W) as opts.Layout says.
func (a *array) sampleShape(opts Options) (int, Shape, error) {
	layout, err := opts.layout()
	if err != nil {
		return 0, Shape{}, fmt.Errorf("%s: %v", a.path, err)
	}
	var shape Shape
	dims := a.dims
	switch len(dims) {
	case 1, 2:
	case 3:
		shape = Shape{H: dims[1], W: dims[2], C: 1, Layout: layout}
	case 4:
		if layout == CHW {
			shape = Shape{C: dims[1], H: dims[2], W: dims[3], Layout: CHW}
		} else {
			shape = Shape{H: dims[1], W: dims[2], C: dims[3], Layout: HWC}
		}
	default:
		return 0, Shape{}, fmt.Errorf("%s: array of shape %s has %d dimensions: expected (N,), (N, D), (N, H, W), (N, H, W, C) or (N, C, H, W)", a.path, a.shapeString(), len(dims))
	}
	if a.rows() == 0 {
		return 0, Shape{}, fmt.Errorf("%s: holds no samples (shape %s)", a.path, a.shapeString())
	}
	d := a.rowElems()
	if d == 0 {
		return 0, Shape{}, fmt.Errorf("%s: samples have no features (shape %s): D must be at least 1", a.path, a.shapeString())
	}
	if !opts.Shape.IsZero() {
		want := opts.Shape
		if want.Layout == "" {
			want.Layout = layout
		}
		if want.D() != d {
			return 0, Shape{}, fmt.Errorf("%s: declared image shape %s has %d features but the file's samples have %d (shape %s)", a.path, want, want.D(), d, a.shapeString())
		}
		if !shape.IsZero() && shape != want {
			return 0, Shape{}, fmt.Errorf("%s: declared image shape %s disagrees with the file's shape %s, read as %s", a.path, want, a.shapeString(), shape)
		}
		shape = want
	}
	return d, shape, nil
}

// fileSource is one array file, or several with the same row type read one
// after another as a single dataset (shards).
type fileSource struct {
	meta   Meta
	shards []*array
}

// newFileSource parses the headers of paths (in the order given) and checks
// that they agree. targets selects the reading of dense targets: (N,) or
// (N, C) only, no image shape.
func newFileSource(name string, paths []string, opts Options, targets bool) (*fileSource, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no files", name)
	}
	s := &fileSource{}
	for i, p := range paths {
		a, err := readArray(p)
		if err != nil {
			return nil, err
		}
		var d int
		var shape Shape
		if targets {
			if len(a.dims) > 2 {
				return nil, fmt.Errorf("%s: targets must have shape (N,) or (N, C), not %s", p, a.shapeString())
			}
			if a.rows() == 0 || a.rowElems() == 0 {
				return nil, fmt.Errorf("%s: holds no targets (shape %s)", p, a.shapeString())
			}
			d = a.rowElems()
		} else if d, shape, err = a.sampleShape(opts); err != nil {
			return nil, err
		}
		if i == 0 {
			s.meta = Meta{Name: name, D: d, DType: a.elem.out(), Shape: shape}
		} else {
			first := s.shards[0]
			switch {
			case a.elem != first.elem:
				return nil, fmt.Errorf("%s: shard has dtype %s but %s has %s: all shards must share one dtype", p, a.elem, first.path, first.elem)
			case d != s.meta.D:
				return nil, fmt.Errorf("%s: shard has %d features per sample (shape %s) but %s has %d (shape %s)", p, d, a.shapeString(), first.path, s.meta.D, first.shapeString())
			case shape != s.meta.Shape:
				return nil, fmt.Errorf("%s: shard has image shape %s but %s has %s", p, shape, first.path, s.meta.Shape)
			}
		}
		if s.meta.N > maxElems-a.rows() {
			return nil, fmt.Errorf("%s: too many samples in all", name)
		}
		s.meta.N += a.rows()
		s.shards = append(s.shards, a)
	}
	return s, nil
}

func (s *fileSource) Meta() Meta { return s.meta }

func (s *fileSource) Open(chunkRows int) (Reader, error) {
	if chunkRows < 1 {
		return nil, fmt.Errorf("%s: chunk of %d rows: must be at least 1", s.meta.Name, chunkRows)
	}
	maxRows := 0
	for _, a := range s.shards {
		maxRows = max(maxRows, min(chunkRows, a.rows()))
	}
	r := &fileReader{src: s, chunkRows: chunkRows, raw: make([]byte, maxRows*s.meta.D*s.shards[0].elem.size)}
	if s.meta.DType != backend.U8 {
		r.out = newChunkBuffer(s.meta.DType, maxRows*s.meta.D)
	}
	return r, nil
}

// fileReader streams the shards one after another through one reused
// buffer of raw bytes (and one of decoded values when the types differ).
type fileReader struct {
	src       *fileSource
	chunkRows int
	shard     int     // index of the shard being read
	st        *stream // open stream of that shard, nil between shards
	row       int     // rows of the shard already delivered
	before    int     // rows of earlier shards
	raw       []byte
	out       backend.Chunk
	err       error // sticky: once a pass fails it stays failed
}

func (r *fileReader) Next() (Batch, error) {
	if r.err != nil {
		return Batch{}, r.err
	}
	b, err := r.next()
	if err != nil {
		r.err = err
		r.closeShard()
	}
	return b, err
}

func (r *fileReader) next() (Batch, error) {
	for {
		if r.shard == len(r.src.shards) {
			return Batch{}, io.EOF
		}
		a := r.src.shards[r.shard]
		if r.st == nil {
			st, err := openWhole(a.path)
			if err != nil {
				return Batch{}, err
			}
			r.st, r.row = st, 0
			if err := st.skip(a.dataOff); err != nil {
				return Batch{}, fmt.Errorf("%s: cannot reach the data after the %d-byte header: %v", a.path, a.dataOff, err)
			}
		}
		if r.row == a.rows() {
			if err := r.finishShard(a); err != nil {
				return Batch{}, err
			}
			continue
		}
		d := r.src.meta.D
		rowBytes := d * a.elem.size
		k := min(r.chunkRows, a.rows()-r.row)
		raw := r.raw[:k*rowBytes]
		if n, err := io.ReadFull(r.st.r, raw); err != nil {
			done := int64(r.row)*int64(rowBytes) + int64(n)
			switch {
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
				return Batch{}, a.sizeError(done)
			case r.st.gzipped:
				return Batch{}, gzipError(a.path, err, a.dataOff+done)
			}
			return Batch{}, fmt.Errorf("%s: reading row %d: %v", a.path, r.row+n/rowBytes, err)
		}
		x := backend.Chunk{N: k, D: d}
		if r.src.meta.DType == backend.U8 {
			x.U8 = raw
		} else {
			if bad := a.elem.decode(raw, r.out); bad >= 0 {
				return Batch{}, r.nonFinite(a, bad)
			}
			if r.out.F32 != nil {
				x.F32 = r.out.F32[:k*d]
			} else {
				x.F64 = r.out.F64[:k*d]
			}
		}
		r.row += k
		return Batch{X: x}, nil
	}
}

func (r *fileReader) nonFinite(a *array, bad int) error {
	d := r.src.meta.D
	var v float64
	if r.out.F32 != nil {
		v = float64(r.out.F32[bad])
	} else {
		v = r.out.F64[bad]
	}
	row := r.row + bad/d
	where := ""
	if len(r.src.shards) > 1 {
		where = fmt.Sprintf(" (sample %d of %s)", r.before+row, r.src.meta.Name)
	}
	return fmt.Errorf("%s: row %d, column %d holds %v%s: the data must be finite", a.path, row, bad%d, v, where)
}

// finishShard makes sure a compressed shard ends where its header says (a raw
// one was measured when opened) and moves to the next shard. Reading past
// the end also makes gzip verify its checksum.
func (r *fileReader) finishShard(a *array) error {
	if r.st.gzipped {
		var one [1]byte
		n, err := io.ReadFull(r.st.r, one[:])
		switch {
		case n > 0 && a.trailerOK:
			return fmt.Errorf("%s: corrupt gzip stream: it decompresses to more than the %d bytes its gzip trailer records, so the compressed data are damaged", a.path, a.dataOff+a.bodyBytes())
		case n > 0:
			return fmt.Errorf("%s: has trailing bytes after the %d bytes of data its header declares", a.path, a.bodyBytes())
		case err != io.EOF:
			return gzipError(a.path, err, a.dataOff+a.bodyBytes())
		}
	}
	r.closeShard()
	r.before += a.rows()
	r.shard++
	return nil
}

func (r *fileReader) closeShard() {
	if r.st != nil {
		r.st.Close()
		r.st = nil
	}
}

func (r *fileReader) Close() error {
	r.closeShard()
	if r.err == nil {
		r.err = errors.New(r.src.meta.Name + ": reader is closed")
	}
	return nil
}
