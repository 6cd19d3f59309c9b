// Package input makes the seeded inputs of reconalign's benchmark suite:
// every scenario derives its data from a fixed seed, so two runs, on two
// machines, time the same numbers, and a failed check reproduces.
package input

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6265_6e63_68)) }

// Chunk is an n×d chunk of the given element type: uniform bytes for
// "u8", standard normal values otherwise.
func Chunk(dtype string, n, d int, seed uint64) backend.Chunk {
	rng := newRNG(seed)
	c := backend.Chunk{N: n, D: d}
	switch dtype {
	case "u8":
		c.U8 = make([]uint8, n*d)
		for i := 0; i < len(c.U8); i += 8 {
			v := rng.Uint64()
			for b := 0; b < 8 && i+b < len(c.U8); b++ {
				c.U8[i+b] = uint8(v >> (8 * b))
			}
		}
	case "f32":
		c.F32 = make([]float32, n*d)
		for i := range c.F32 {
			c.F32[i] = float32(rng.NormFloat64())
		}
	default:
		c.F64 = make([]float64, n*d)
		for i := range c.F64 {
			c.F64[i] = rng.NormFloat64()
		}
	}
	return c
}

// At returns x(i, j) of a chunk as float64, for the reference loops.
func At(c backend.Chunk) func(i, j int) float64 {
	switch c.DType() {
	case backend.U8:
		return func(i, j int) float64 { return float64(c.U8[i*c.D+j]) }
	case backend.F32:
		return func(i, j int) float64 { return float64(c.F32[i*c.D+j]) }
	}
	return func(i, j int) float64 { return c.F64[i*c.D+j] }
}

// ElemBytes is the size of one element of a dtype name.
func ElemBytes(dtype string) float64 {
	switch dtype {
	case "u8":
		return 1
	case "f32":
		return 4
	}
	return 8
}

// General is an r×c matrix of standard normal values.
func General(r, c int, seed uint64) blas64.General {
	m := backend.NewGeneral(r, c)
	rng := newRNG(seed)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

// GOE is a random symmetric matrix (Gaussian orthogonal ensemble): its
// eigenvalues spread over a semicircle with no clusters, so a
// divide-and-conquer solver gets no free deflation and the timing is that
// of a generic dense problem.
func GOE(n int, seed uint64) blas64.General {
	a := General(n, n, seed)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			v := (a.Data[i*n+j] + a.Data[j*n+i]) / 2
			a.Data[i*n+j], a.Data[j*n+i] = v, v
		}
	}
	return a
}

// ImageLike is an n×d data matrix with a decaying spectrum, as pixels have:
// column j has scale 1/(1 + 4j/d) and a common offset, so the Gram is full
// rank with a condition number of a few hundred.
func ImageLike(n, d int, seed uint64) blas64.General {
	x := General(n, d, seed)
	for i := 0; i < n; i++ {
		row := x.Data[i*d : (i+1)*d]
		for j := range row {
			row[j] = 0.5 + row[j]/(1+4*float64(j)/float64(d))
		}
	}
	return x
}
