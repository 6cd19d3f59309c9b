package spectral

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/kernels/cpu"
)

// The implicit QL iteration applies each of its plane rotations to two rows
// of the carried block instead of two columns of an eigenvector matrix:
// rows are contiguous, so a rotation is an update of two vectors, which
// kernels/cpu does with AVX2/FMA in 16-column strips, and the columns split
// across cores with no synchronisation. With the block n×R (R = C rows of M)
// the rotations cost 6·R flops each instead of 6·n.

// tridiagProject overwrites d with T's eigenvalues in ascending order and w
// (n×R, rows indexed by T's coordinates) with Zᵀ·w: row i of w becomes the
// projection on the eigenvector of d[i]. e is destroyed. The implicit QL
// iteration; g is not needed (the divide and conquer one uses it).
func tridiagProject(d, e []float64, w blas64.General, g Gemmer, workers int) error {
	n := len(d)
	if w.Rows != n {
		panic(fmt.Sprintf("spectral: tridiagProject of order %d with a carried block of %d rows", n, w.Rows))
	}
	if err := checkTridiag("tridiagProject", d, e); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	ee := make([]float64, n) // ee[n-1] stays 0: the iteration's sentinel
	copy(ee, e[:n-1])
	// A block narrower than a few 16-column strips is padded to whole
	// strips: the strip kernel keeps the moving row in registers, while a
	// ragged edge costs a call per rotation (C = 10 rows of M: 5× faster).
	rw := w
	padded := w.Cols > 0 && w.Cols%16 != 0 && w.Cols < 256
	if r := w.Cols; padded {
		rw = backend.NewGeneral(n, (r+15)&^15)
		for i := 0; i < n; i++ {
			copy(rw.Data[i*rw.Stride:], w.Data[i*w.Stride:i*w.Stride+r])
		}
	}
	if !tridiagQL(d, ee, rw.Data, rw.Stride, rw.Cols, workers) {
		return fmt.Errorf("spectral: implicit QL on the %d×%d tridiagonal: %w", n, n, backend.ErrNotConverged)
	}
	if padded {
		for i := 0; i < n; i++ {
			copy(w.Data[i*w.Stride:i*w.Stride+w.Cols], rw.Data[i*rw.Stride:])
		}
	}
	sortAscending(d, w)
	return nil
}

// tridiagVectors overwrites d with the eigenvalues ascending and returns Z
// (n×n row-major, column i is the unit eigenvector of d[i]).
func tridiagVectors(d, e []float64, g Gemmer, workers int) (blas64.General, error) {
	n := len(d)
	zt := backend.NewGeneral(n, n)
	for i := 0; i < n; i++ {
		zt.Data[i*n+i] = 1
	}
	if err := tridiagProject(d, e, zt, g, workers); err != nil {
		return blas64.General{}, err
	}
	transposeSquare(zt)
	return zt, nil
}

// transposeSquare transposes the square matrix a in place.
func transposeSquare(a blas64.General) {
	n, s := a.Rows, a.Stride
	const blk = 32
	for i0 := 0; i0 < n; i0 += blk {
		for j0 := i0; j0 < n; j0 += blk {
			for i := i0; i < min(i0+blk, n); i++ {
				j := max(j0, i+1)
				for ; j < min(j0+blk, n); j++ {
					a.Data[i*s+j], a.Data[j*s+i] = a.Data[j*s+i], a.Data[i*s+j]
				}
			}
		}
	}
}

// sortAscending orders d ascending and permutes the rows of w with it
// (stable, so equal eigenvalues keep the iteration's order).
func sortAscending(d []float64, w blas64.General) {
	n := len(d)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(p, q int) bool { return d[order[p]] < d[order[q]] })
	permuteRows(d, w, order)
}

// permuteRows puts d[order[i]] and row order[i] of w at position i, in
// place, following the permutation's cycles with one spare row.
func permuteRows(d []float64, w blas64.General, order []int) {
	r := w.Cols
	tmp := make([]float64, r)
	done := make([]bool, len(order))
	for start := range order {
		if done[start] || order[start] == start {
			continue
		}
		dv := d[start]
		copy(tmp, w.Data[start*w.Stride:start*w.Stride+r])
		i := start
		for {
			src := order[i]
			done[i] = true
			if src == start {
				d[i] = dv
				copy(w.Data[i*w.Stride:i*w.Stride+r], tmp)
				break
			}
			d[i] = d[src]
			copy(w.Data[i*w.Stride:i*w.Stride+r], w.Data[src*w.Stride:src*w.Stride+r])
			i = src
		}
	}
}

// transpose returns aᵀ as a new compact matrix.
func transpose(a blas64.General) blas64.General {
	t := backend.NewGeneral(a.Cols, a.Rows)
	const blk = 64 // tiles keep both sides' cache lines in use
	for i0 := 0; i0 < a.Rows; i0 += blk {
		for j0 := 0; j0 < a.Cols; j0 += blk {
			for i := i0; i < min(i0+blk, a.Rows); i++ {
				row := a.Data[i*a.Stride : i*a.Stride+a.Cols]
				for j := j0; j < min(j0+blk, a.Cols); j++ {
					t.Data[j*t.Stride+i] = row[j]
				}
			}
		}
	}
	return t
}

// tridiagQL diagonalises the symmetric tridiagonal matrix with diagonal d
// and off-diagonal e (e[i] couples i and i+1; len(e) = n, e[n-1] = 0) by the
// implicit QL iteration with Wilkinson-like shifts, and applies its
// rotations to the rows of w (n rows of length r, row stride ld). On return
// d holds the eigenvalues (unordered) and row k of w has been rotated into
// the coordinate of d[k]; e is destroyed. Blocks split where
// e[m]² ≤ ε²·|d[m]|·|d[m+1]| (LAPACK's test, which keeps small eigenvalues
// of graded matrices relatively accurate). It returns false after 30·n
// iterations without convergence.
func tridiagQL(d, e, w []float64, ld, r, workers int) bool {
	n := len(d)
	const eps = 0x1p-53 // unit roundoff
	const eps2 = eps * eps
	safmin := math.SmallestNonzeroFloat64 * (1 << 52) // smallest normal
	var rot rotations
	cs := make([]float64, n)
	sn := make([]float64, n)
	iters := 0
	for l := 0; l < n; {
		m := l
		for ; m < n-1; m++ {
			if e[m]*e[m] <= eps2*math.Abs(d[m])*math.Abs(d[m+1])+safmin {
				e[m] = 0
				break
			}
		}
		if m == l {
			l++
			continue
		}
		if iters++; iters > 30*n {
			return false
		}
		// Shift: the eigenvalue of the leading 2×2 block nearer d[l],
		// folded into the first rotation of the sweep from m up to l.
		g := (d[l+1] - d[l]) / (2 * e[l])
		h := math.Hypot(g, 1)
		g = d[m] - d[l] + e[l]/(g+math.Copysign(h, g))
		s, c, p := 1.0, 1.0, 0.0
		i := m - 1
		for ; i >= l; i-- {
			f := s * e[i]
			b := c * e[i]
			h = math.Hypot(f, g)
			e[i+1] = h
			if h == 0 {
				// The bulge vanished (underflow): deflate and restart.
				d[i+1] -= p
				e[m] = 0
				break
			}
			s, c = f/h, g/h
			g = d[i+1] - p
			h = (d[i]-g)*s + 2*c*b
			p = s * h
			d[i+1] = g + p
			g = c*h - b
			cs[i], sn[i] = c, s
		}
		rot.add(i+1, m, cs, sn)
		if rot.full() {
			rot.apply(w, ld, r, workers)
		}
		if i >= l {
			continue
		}
		d[l] -= p
		e[l] = g
		e[m] = 0
	}
	rot.apply(w, ld, r, workers)
	return true
}

// rotations buffers the sweeps of the QL iteration so that they reach the
// carried rows together. One sweep alone streams every row it touches
// through the cache once, so applying sweeps one at a time is bound by
// memory; a batch applied one column block at a time (the block's rows
// stay in L2 across the batch) loads each element once per batch.
type rotations struct {
	lo, hi []int     // sweep j rotates rows (i, i+1) for i = hi[j]-1 down to lo[j]
	off    []int     // sweep j's coefficients start at cs[off[j]]
	cs, sn []float64 // coefficients, rotation i of sweep j at off[j] + i − lo[j]
}

// rotBatch sweeps per batch; rotBlock columns per block (rotBlock·8 bytes
// of each of n rows: 400 KB of L2 at n = 784).
const (
	rotBatch = 32
	rotBlock = 64
)

func (r *rotations) add(lo, hi int, cs, sn []float64) {
	if hi <= lo {
		return
	}
	r.lo = append(r.lo, lo)
	r.hi = append(r.hi, hi)
	r.off = append(r.off, len(r.cs))
	r.cs = append(r.cs, cs[lo:hi]...)
	r.sn = append(r.sn, sn[lo:hi]...)
}

func (r *rotations) full() bool { return len(r.lo) >= rotBatch }

// apply rotates the rows of w (row stride ld, columns 0..cols) by every
// buffered sweep, in order, and empties the buffer. Columns are
// independent, so workers take column blocks; each column sees the
// rotations in the same order whatever the split.
func (r *rotations) apply(w []float64, ld, cols, workers int) {
	if len(r.lo) == 0 {
		return
	}
	block := func(k0, k1 int) {
		for j := range r.lo {
			lo, off, count := r.lo[j], r.off[j], r.hi[j]-r.lo[j]
			cpu.RotSweep(w, ld, lo, k0, k1, r.cs[off:off+count], r.sn[off:off+count])
		}
	}
	nb := (cols + rotBlock - 1) / rotBlock
	// Below ~32k element updates a goroutine costs more than it saves.
	if workers < 2 || nb < 2 || len(r.cs)*cols < 1<<15 {
		for k0 := 0; k0 < cols; k0 += rotBlock {
			block(k0, min(k0+rotBlock, cols))
		}
	} else {
		var wg sync.WaitGroup
		var next sync.Mutex
		b := 0
		for range min(workers, nb) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					next.Lock()
					k0 := b * rotBlock
					b++
					next.Unlock()
					if k0 >= cols {
						return
					}
					block(k0, min(k0+rotBlock, cols))
				}
			}()
		}
		wg.Wait()
	}
	r.lo, r.hi, r.off, r.cs, r.sn = r.lo[:0], r.hi[:0], r.off[:0], r.cs[:0], r.sn[:0]
}
