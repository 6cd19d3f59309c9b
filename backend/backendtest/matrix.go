package backendtest

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/blas/blas64"
)

// dense is the suite's own reference matrix: contiguous, row-major, and
// handled only by the naive loops below, never by a backend.
type dense struct {
	r, c int
	v    []float64
}

func newDense(r, c int) dense { return dense{r, c, make([]float64, r*c)} }

func (m dense) at(i, j int) float64     { return m.v[i*m.c+j] }
func (m dense) set(i, j int, x float64) { m.v[i*m.c+j] = x }

func (m dense) clone() dense {
	return dense{m.r, m.c, append([]float64(nil), m.v...)}
}

func (m dense) t() dense {
	out := newDense(m.c, m.r)
	for i := 0; i < m.r; i++ {
		for j := 0; j < m.c; j++ {
			out.set(j, i, m.at(i, j))
		}
	}
	return out
}

// mul is the naive triple loop.
func mul(a, b dense) dense {
	if a.c != b.r {
		panic("backendtest: mul shape mismatch")
	}
	out := newDense(a.r, b.c)
	for i := 0; i < a.r; i++ {
		for l := 0; l < a.c; l++ {
			ail := a.at(i, l)
			for j := 0; j < b.c; j++ {
				out.v[i*out.c+j] += ail * b.at(l, j)
			}
		}
	}
	return out
}

// absMul is |a|·|b|, the scale of the rounding error of a·b.
func absMul(a, b dense) dense {
	return mul(abs(a), abs(b))
}

func abs(a dense) dense {
	out := a.clone()
	for i, x := range out.v {
		out.v[i] = math.Abs(x)
	}
	return out
}

func identity(n int) dense {
	out := newDense(n, n)
	for i := 0; i < n; i++ {
		out.set(i, i, 1)
	}
	return out
}

func frob(a dense) float64 {
	s := 0.0
	for _, x := range a.v {
		s += x * x
	}
	return math.Sqrt(s)
}

func randn(rng *rand.Rand, r, c int) dense {
	out := newDense(r, c)
	for i := range out.v {
		out.v[i] = rng.NormFloat64()
	}
	return out
}

// orthogonal returns a random n×n orthogonal matrix: modified Gram–Schmidt,
// applied twice for full working accuracy, on the rows of a Gaussian matrix.
func orthogonal(rng *rand.Rand, n int) dense {
	q := randn(rng, n, n)
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < n; i++ {
			ri := q.v[i*n : (i+1)*n]
			for j := 0; j < i; j++ {
				rj := q.v[j*n : (j+1)*n]
				d := dot(ri, rj)
				for l := range ri {
					ri[l] -= d * rj[l]
				}
			}
			s := 1 / math.Sqrt(dot(ri, ri))
			for l := range ri {
				ri[l] *= s
			}
		}
	}
	return q
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// withSpectrum returns Q·diag(λ)·Qᵀ, exactly symmetric (the upper triangle is
// computed and mirrored).
func withSpectrum(q dense, lambda []float64) dense {
	n := q.r
	a := newDense(n, n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s := 0.0
			for l := 0; l < n; l++ {
				s += q.at(i, l) * lambda[l] * q.at(j, l)
			}
			a.set(i, j, s)
			a.set(j, i, s)
		}
	}
	return a
}

// descending returns the indices that sort x in descending order.
func descending(x []float64) []int {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] > x[idx[b]] })
	return idx
}

// caseRNG seeds a generator from the case name, so every case is reproducible
// on its own and independent of the order cases run in.
func caseRNG(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(h.Sum64(), 0x9e3779b97f4a7c15))
}

// sentinel marks storage a primitive must not write: padding beyond Cols and
// the triangle it does not own. It is finite so that any write is visible as
// a change of bits.
const sentinel = -1234.5

// general copies m into a fresh blas64.General with pad spare columns per row
// (filled with sentinel).
func general(m dense, pad int) blas64.General {
	g := blas64.General{Rows: m.r, Cols: m.c, Stride: max(1, m.c+pad)}
	g.Data = make([]float64, max(1, m.r)*g.Stride)
	for i := range g.Data {
		g.Data[i] = sentinel
	}
	for i := 0; i < m.r; i++ {
		copy(g.Data[i*g.Stride:i*g.Stride+m.c], m.v[i*m.c:(i+1)*m.c])
	}
	return g
}

// upperGeneral is general with NaN in the strict lower triangle: a primitive
// that claims to read only the upper triangle but reads the lower one
// returns NaNs.
func upperGeneral(m dense, pad int) blas64.General {
	g := general(m, pad)
	for i := 0; i < m.r; i++ {
		for j := 0; j < i && j < m.c; j++ {
			g.Data[i*g.Stride+j] = math.NaN()
		}
	}
	return g
}

// fromGeneral copies the Rows×Cols part of g.
func fromGeneral(g blas64.General) dense {
	out := newDense(g.Rows, g.Cols)
	for i := 0; i < g.Rows; i++ {
		copy(out.v[i*g.Cols:(i+1)*g.Cols], g.Data[i*g.Stride:i*g.Stride+g.Cols])
	}
	return out
}

// cloneGeneral copies g including its padding.
func cloneGeneral(g blas64.General) blas64.General {
	g.Data = append([]float64(nil), g.Data...)
	return g
}
