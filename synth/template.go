package synth

import (
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// TemplateSpec sizes a TemplateStream.
type TemplateSpec struct {
	N, H, W, C int
	Classes    int
	Seed       uint64
}

// D is the number of features of one image.
func (s TemplateSpec) D() int { return s.H * s.W * s.C }

func (s TemplateSpec) String() string {
	return fmt.Sprintf("N=%d,%dx%dx%d,classes=%d,seed=%d", s.N, s.H, s.W, s.C, s.Classes, s.Seed)
}

// TemplateStream is a labelled uint8 dataset built for checking a streamed
// Gram, not for its statistics: pixel j of row i is a template value of the
// row's class (0..127, one template per class) plus uniform noise (0..127),
// each a pure function of (seed, row, column). Any entry of its Gram can
// therefore be recomputed in O(N) from two columns without storing the
// data (GramEntry), which is what lets a benchmark check a Gram of 15 GB of
// pixels generated on the fly. It costs a hash per eight pixels, far less
// than the Generator's inverse FFT per image, so a pass measures the
// consumer. The classes are partly separable, so an alignment curve on it is
// not trivial.
type TemplateStream struct {
	Spec TemplateSpec
}

var _ data.Source = TemplateStream{}

// Sequences of a template stream (the Generator uses 1, 2 and 3).
const (
	templateNoise = 4 + iota
	templateLabel
	templateClass
)

// Meta implements data.Source.
func (s TemplateStream) Meta() data.Meta {
	return data.Meta{Name: "synthetic(" + s.Spec.String() + ")", N: s.Spec.N, D: s.Spec.D(), Classes: s.Spec.Classes,
		DType: backend.U8, Shape: data.Shape{H: s.Spec.H, W: s.Spec.W, C: s.Spec.C, Layout: data.HWC}}
}

// templateKeys are the keys of a stream's three sequences.
type templateKeys struct{ noise, label, class uint64 }

func (s TemplateStream) keys() templateKeys {
	return templateKeys{keyOf(s.Spec.Seed, templateNoise), keyOf(s.Spec.Seed, templateLabel), keyOf(s.Spec.Seed, templateClass)}
}

// Label is the class of row i.
func (s TemplateStream) Label(i int) int { return s.label(s.keys(), i) }

func (s TemplateStream) label(k templateKeys, i int) int {
	return int(draw(k.label, uint64(i)) % uint64(s.Spec.Classes))
}

// template is the class-c value of pixel j, in [0, 128).
func (s TemplateStream) template(k templateKeys, c, j int) uint8 {
	return uint8(draw(k.class, uint64(c)*uint64(s.Spec.D())+uint64(j)) & 0x7f)
}

// noise of pixel j of row i, in [0, 128): one 64-bit hash serves eight
// consecutive pixels of the flattened stream.
func (s TemplateStream) noise(k templateKeys, i, j int) uint8 {
	f := uint64(i)*uint64(s.Spec.D()) + uint64(j)
	h := draw(k.noise, f>>3)
	return uint8(h>>(8*(f&7))) & 0x7f
}

// Pixel is x[i][j].
func (s TemplateStream) Pixel(i, j int) uint8 { return s.pixel(s.keys(), i, j) }

func (s TemplateStream) pixel(k templateKeys, i, j int) uint8 {
	return s.template(k, s.label(k, i), j) + s.noise(k, i, j)
}

// fillRows writes rows [r0, r1) into dst (row-major) and their labels.
func (s TemplateStream) fillRows(dst []uint8, labels []int, r0, r1 int, tmpl []uint8) {
	d := s.Spec.D()
	keys := s.keys()
	for i := r0; i < r1; i++ {
		row := dst[(i-r0)*d : (i-r0+1)*d]
		c := s.label(keys, i)
		labels[i-r0] = c
		t := tmpl[c*d : (c+1)*d]
		// Eight pixels per hash, aligned on the flattened index.
		k := uint64(i) * uint64(d)
		for j := 0; j < d; {
			kk := k + uint64(j)
			h := draw(keys.noise, kk>>3)
			for b := kk & 7; b < 8 && j < d; b++ {
				row[j] = t[j] + uint8(h>>(8*b))&0x7f
				j++
			}
		}
	}
}

// templates computes every class template once per pass.
func (s TemplateStream) templates() []uint8 {
	d := s.Spec.D()
	keys := s.keys()
	t := make([]uint8, s.Spec.Classes*d)
	for c := 0; c < s.Spec.Classes; c++ {
		for j := 0; j < d; j++ {
			t[c*d+j] = s.template(keys, c, j)
		}
	}
	return t
}

// Open implements data.Source. Rows are generated on all cores, one chunk
// at a time.
func (s TemplateStream) Open(chunkRows int) (data.Reader, error) {
	if s.Spec.N < 0 || s.Spec.D() < 1 || s.Spec.Classes < 1 || s.Spec.Classes > 256 {
		return nil, fmt.Errorf("synthetic stream %s: want N ≥ 0, D ≥ 1 and 1..256 classes", s.Spec)
	}
	if chunkRows < 1 {
		return nil, fmt.Errorf("synthetic stream %s: chunk of %d rows: must be at least 1", s.Spec, chunkRows)
	}
	return &templateReader{s: s, rows: chunkRows, tmpl: s.templates(), workers: runtime.GOMAXPROCS(0)}, nil
}

type templateReader struct {
	s       TemplateStream
	rows    int
	at      int
	tmpl    []uint8
	buf     []uint8
	labels  []int
	workers int
}

func (r *templateReader) Next() (data.Batch, error) {
	n := r.s.Spec.N
	if r.at >= n {
		return data.Batch{}, io.EOF
	}
	r0, r1 := r.at, min(r.at+r.rows, n)
	d := r.s.Spec.D()
	if len(r.buf) < (r1-r0)*d {
		r.buf = make([]uint8, (r1-r0)*d)
		r.labels = make([]int, r1-r0)
	}
	// Split the chunk's rows over the cores.
	var wg sync.WaitGroup
	per := (r1 - r0 + r.workers - 1) / r.workers
	for a := r0; a < r1; a += per {
		b := min(a+per, r1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.s.fillRows(r.buf[(a-r0)*d:(b-r0)*d], r.labels[a-r0:b-r0], a, b, r.tmpl)
		}()
	}
	wg.Wait()
	r.at = r1
	return data.Batch{X: backend.Chunk{N: r1 - r0, D: d, U8: r.buf[:(r1-r0)*d]}, Labels: r.labels[:r1-r0]}, nil
}

func (r *templateReader) Close() error { return nil }

// GramEntry recomputes Σ_i x_ia·x_ib over the whole stream (exact: every
// product and partial sum is an integer below 2⁵³ for N < 2⁵³/254²).
func (s TemplateStream) GramEntry(a, b int) float64 {
	keys := s.keys()
	var sum uint64
	for i := 0; i < s.Spec.N; i++ {
		sum += uint64(s.pixel(keys, i, a)) * uint64(s.pixel(keys, i, b))
	}
	return float64(sum)
}
