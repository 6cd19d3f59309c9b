package gonum

import (
	"math"
	"sort"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/kernels/cpu"
)

// Why this file exists: gonum's Dsyev spends three quarters of its time in
// Dsteqr's Dlasr, which applies every plane rotation of the implicit QL
// iteration to two columns of the row-major eigenvector matrix — one cache
// line per row per rotation, in scalar Go. Holding the eigenvectors as rows
// (Zᵀ) turns each rotation into an update of two contiguous vectors, which
// kernels/cpu does with AVX2/FMA and which splits across cores by columns.
// The reduction to tridiagonal form and the generation of Q stay gonum's.

// symEigVectors computes all eigenpairs of the symmetric n×n matrix a
// (upper triangle read): eigenvalues descending, eigenvectors written to
// the columns of a. It returns false when the QL iteration does not
// converge.
func symEigVectors(a blas64.General, workers int) ([]float64, bool) {
	n := a.Rows
	impl := lapackgonum.Implementation{}
	d := make([]float64, n)
	e := make([]float64, n) // e[n-1] stays 0: the iteration's sentinel
	tau := make([]float64, max(n-1, 1))
	work := []float64{0}
	impl.Dsytrd(blas.Upper, n, a.Data, a.Stride, d, e[:max(n-1, 0)], tau, work, -1)
	lwork := int(work[0])
	impl.Dorgtr(blas.Upper, n, a.Data, a.Stride, tau, work, -1)
	lwork = max(lwork, int(work[0]), 1)
	work = make([]float64, lwork)
	impl.Dsytrd(blas.Upper, n, a.Data, a.Stride, d, e[:max(n-1, 0)], tau, work, lwork)
	impl.Dorgtr(blas.Upper, n, a.Data, a.Stride, tau, work, lwork)

	// Zᵀ starts as Qᵀ: row k holds the k-th column of Q.
	zt := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for k, v := range a.Data[i*a.Stride : i*a.Stride+n] {
			zt[k*n+i] = v
		}
	}
	if !tridiagQL(d, e, zt, n, workers) {
		return nil, false
	}

	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(p, q int) bool { return d[order[p]] > d[order[q]] })
	w := make([]float64, n)
	for j, src := range order {
		w[j] = d[src]
		row := zt[src*n : (src+1)*n]
		for i, v := range row {
			a.Data[i*a.Stride+j] = v
		}
	}
	return w, true
}

// tridiagQL diagonalises the symmetric tridiagonal matrix with diagonal d
// and off-diagonal e (e[i] couples i and i+1; len(e) = n, e[n-1] = 0) by the
// implicit QL iteration with Wilkinson-like shifts, and applies its
// rotations to the rows of zt (n rows of length n, each an eigenvector
// estimate). On return d holds the eigenvalues (unordered) and row k of zt
// the eigenvector of d[k]; e is destroyed. Blocks split where
// e[m]² ≤ ε²·|d[m]|·|d[m+1]| (LAPACK's test, which keeps small eigenvalues
// of graded matrices relatively accurate). It returns false after 30·n
// iterations without convergence.
func tridiagQL(d, e, zt []float64, n, workers int) bool {
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
		r := math.Hypot(g, 1)
		g = d[m] - d[l] + e[l]/(g+math.Copysign(r, g))
		s, c, p := 1.0, 1.0, 0.0
		i := m - 1
		for ; i >= l; i-- {
			f := s * e[i]
			b := c * e[i]
			r = math.Hypot(f, g)
			e[i+1] = r
			if r == 0 {
				// The bulge vanished (underflow): deflate and restart.
				d[i+1] -= p
				e[m] = 0
				break
			}
			s, c = f/r, g/r
			g = d[i+1] - p
			r = (d[i]-g)*s + 2*c*b
			p = s * r
			d[i+1] = g + p
			g = c*r - b
			cs[i], sn[i] = c, s
		}
		rot.add(i+1, m, cs, sn)
		if rot.full() {
			rot.apply(zt, n, workers)
		}
		if i >= l {
			continue
		}
		d[l] -= p
		e[l] = g
		e[m] = 0
	}
	rot.apply(zt, n, workers)
	return true
}

// rotations buffers the sweeps of the QL iteration so that they reach the
// eigenvector rows together. One sweep alone streams every row it touches
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

// apply rotates the rows of zt by every buffered sweep, in order, and
// empties the buffer. Columns are independent, so workers take column
// blocks; each column sees the rotations in the same order whatever the
// split.
func (r *rotations) apply(zt []float64, n, workers int) {
	if len(r.lo) == 0 {
		return
	}
	block := func(k0, k1 int) {
		for j := range r.lo {
			lo, off, count := r.lo[j], r.off[j], r.hi[j]-r.lo[j]
			cpu.RotSweep(zt, n, lo, k0, k1, r.cs[off:off+count], r.sn[off:off+count])
		}
	}
	nb := (n + rotBlock - 1) / rotBlock
	// Below ~32k element updates a goroutine costs more than it saves.
	if workers < 2 || nb < 2 || len(r.cs)*n < 1<<15 {
		for k0 := 0; k0 < n; k0 += rotBlock {
			block(k0, min(k0+rotBlock, n))
		}
	} else {
		var wg sync.WaitGroup
		var next sync.Mutex
		b := 0
		for w := 0; w < min(workers, nb); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					next.Lock()
					k0 := b * rotBlock
					b++
					next.Unlock()
					if k0 >= n {
						return
					}
					block(k0, min(k0+rotBlock, n))
				}
			}()
		}
		wg.Wait()
	}
	r.lo, r.hi, r.off, r.cs, r.sn = r.lo[:0], r.hi[:0], r.off[:0], r.cs[:0], r.sn[:0]
}
