package bench

import (
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// StreamSpec sizes a synthetic labelled uint8 image stream.
type StreamSpec struct {
	N, H, W, C int
	Classes    int
	Seed       uint64
}

// D is the number of features of one image.
func (s StreamSpec) D() int { return s.H * s.W * s.C }

func (s StreamSpec) String() string {
	return fmt.Sprintf("N=%d,%dx%dx%d,classes=%d,seed=%d", s.N, s.H, s.W, s.C, s.Classes, s.Seed)
}

// Stream is a synthetic labelled dataset whose every pixel is a pure
// function of (seed, row, column). Any entry of its Gram can therefore be
// recomputed in O(N) from two columns without storing the data, which is
// what lets a benchmark check a streamed Gram of 15 GB of pixels. Rows are
// generated in parallel while the consumer works on the previous chunk.
//
// A pixel is a class template value (0..127, one template per class) plus
// uniform noise (0..127): the classes are linearly separable in part, so the
// alignment curve is not trivial.
type Stream struct {
	Spec StreamSpec
}

var _ data.Source = Stream{}

func (s Stream) Meta() data.Meta {
	return data.Meta{Name: "synthetic(" + s.Spec.String() + ")", N: s.Spec.N, D: s.Spec.D(), Classes: s.Spec.Classes,
		DType: backend.U8, Shape: data.Shape{H: s.Spec.H, W: s.Spec.W, C: s.Spec.C, Layout: data.HWC}}
}

// splitmix64 is a strong 64-bit mixer: consecutive inputs give independent
// looking outputs, which a counter-based generator needs.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

const (
	streamNoise    = 0x5eed0001
	streamLabel    = 0x5eed0002
	streamTemplate = 0x5eed0003
)

// Label is the class of row i.
func (s Stream) Label(i int) int {
	return int(splitmix64(s.Spec.Seed^streamLabel<<32^uint64(i)) % uint64(s.Spec.Classes))
}

// template is the class-c value of pixel j, in [0, 128).
func (s Stream) template(c, j int) uint8 {
	return uint8(splitmix64(s.Spec.Seed^streamTemplate<<32^uint64(c)*uint64(s.Spec.D())^uint64(j)) & 0x7f)
}

// noise of pixel j of row i, in [0, 128): one 64-bit hash serves eight
// consecutive pixels of the flattened stream.
func (s Stream) noise(i, j int) uint8 {
	k := uint64(i)*uint64(s.Spec.D()) + uint64(j)
	h := splitmix64(s.Spec.Seed ^ streamNoise<<32 ^ k>>3)
	return uint8(h>>(8*(k&7))) & 0x7f
}

// Pixel is x[i][j].
func (s Stream) Pixel(i, j int) uint8 { return s.template(s.Label(i), j) + s.noise(i, j) }

// fillRows writes rows [r0, r1) into dst (row-major) and their labels.
func (s Stream) fillRows(dst []uint8, labels []int, r0, r1 int, tmpl []uint8) {
	d := s.Spec.D()
	for i := r0; i < r1; i++ {
		row := dst[(i-r0)*d : (i-r0+1)*d]
		c := s.Label(i)
		labels[i-r0] = c
		t := tmpl[c*d : (c+1)*d]
		// Eight pixels per hash, aligned on the flattened index.
		k := uint64(i) * uint64(d)
		for j := 0; j < d; {
			kk := k + uint64(j)
			h := splitmix64(s.Spec.Seed ^ streamNoise<<32 ^ kk>>3)
			for b := kk & 7; b < 8 && j < d; b++ {
				row[j] = t[j] + uint8(h>>(8*b))&0x7f
				j++
			}
		}
	}
}

// templates computes every class template once per pass.
func (s Stream) templates() []uint8 {
	d := s.Spec.D()
	t := make([]uint8, s.Spec.Classes*d)
	for c := 0; c < s.Spec.Classes; c++ {
		for j := 0; j < d; j++ {
			t[c*d+j] = s.template(c, j)
		}
	}
	return t
}

func (s Stream) Open(chunkRows int) (data.Reader, error) {
	if s.Spec.N < 0 || s.Spec.D() < 1 || s.Spec.Classes < 1 || s.Spec.Classes > 256 {
		return nil, fmt.Errorf("synthetic stream %s: want N ≥ 0, D ≥ 1 and 1..256 classes", s.Spec)
	}
	if chunkRows < 1 {
		return nil, fmt.Errorf("synthetic stream: chunk of %d rows", chunkRows)
	}
	return &streamReader{s: s, rows: chunkRows, tmpl: s.templates(), workers: runtime.GOMAXPROCS(0)}, nil
}

type streamReader struct {
	s       Stream
	rows    int
	at      int
	tmpl    []uint8
	buf     []uint8
	labels  []int
	workers int
}

func (r *streamReader) Next() (data.Batch, error) {
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

func (r *streamReader) Close() error { return nil }

// GramEntry recomputes Σ_i x_ia·x_ib over the whole stream (exact: every
// product and partial sum is an integer below 2⁵³ for N < 2⁵³/254²).
func (s Stream) GramEntry(a, b int) float64 {
	var sum uint64
	for i := 0; i < s.Spec.N; i++ {
		sum += uint64(s.Pixel(i, a)) * uint64(s.Pixel(i, b))
	}
	return float64(sum)
}
