package spectral

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// Where an eigenvector row of a merge is nonzero, for dcVectors (LAPACK's
// COLTYP): only in the first half's columns, in both, or only in the
// second's. Each merge product then skips the zero blocks. dcProject's rows
// are dense and all count as mixed.
const (
	rowTop int8 = iota
	rowMixed
	rowBottom
)

// dcPanelValues bounds the eigenvector panel of one merge: its Uᵀ is built
// and applied a block of rows at a time, so that a merge of order K needs
// K·(rows per panel) values rather than K². Each product repacks the staged
// rows, so panels are kept large enough (1,024 rows at K = 4,096) for that to
// cost a few percent.
const dcPanelValues = 1 << 22

// merge combines the solved halves [lo, m) and [m, hi) of a subproblem torn
// at β: on return d[lo:hi] is ascending and phys[lo:hi] gives the matching
// rows for the whole subproblem.
func (s *dcSolver) merge(lo, m, hi int, beta float64) error {
	n, n1 := hi-lo, m-lo
	d := s.d[lo:hi]
	rs := s.rows.Stride
	c0, c1 := 0, s.rows.Cols
	zTop, zBottom := s.ends+1, s.ends
	if s.vectors {
		c0, c1 = lo, hi
		zTop, zBottom = m-1, m
	}

	// z = diag(Q₁, Q₂)ᵀ·v: the last row of Q₁ and the first of Q₂. For
	// projections those are the halves' e_last and e_first columns, which the
	// merged problem does not need any more (its own e_first has zeros in the
	// second half's rows, its e_last in the first's).
	z := make([]float64, n)
	kind := make([]int8, n)
	sign := math.Sqrt2 / 2
	if beta < 0 {
		sign = -sign
	}
	phys := s.phys[lo:hi]
	for i := 0; i < n; i++ {
		row := s.rows.Data[phys[i]*rs:]
		col, scale := zBottom, sign
		kind[i] = rowBottom
		if i < n1 {
			col, scale = zTop, math.Sqrt2/2
			kind[i] = rowTop
		}
		z[i] = row[col] * scale
		if !s.vectors {
			row[col] = 0
			kind[i] = rowMixed
		}
	}
	rho := 2 * math.Abs(beta)

	keep, drop := s.deflate(phys, n1, d, z, rho, kind, c0, c1)
	k := len(keep)

	sec := newSecular(k)
	for p, i := range keep {
		sec.delta[p], sec.z[p] = d[i], z[i]
	}
	sec.rho = rho
	j, evals, most := sec.solve(s.cores)
	if j >= 0 {
		return fmt.Errorf("spectral: secular equation of a merge of order %d (%d undeflated), root %d: %w", n, k, j, backend.ErrNotConverged)
	}
	s.stats.add(n, k, evals, most)
	var zh []float64
	if k > 0 {
		zh = sec.lowner(s.cores)
	}

	// The merged order: the roots, ascending by construction, interleaved
	// with the deflated eigenvalues.
	sort.SliceStable(drop, func(p, q int) bool { return d[drop[p]] < d[drop[q]] })
	final := make([]float64, n)
	posRoot := make([]int, k)
	posDrop := make([]int, len(drop))
	for t, p, q := 0, 0, 0; t < n; t++ {
		if q == len(drop) || p < k && sec.lambda(p) <= d[drop[q]] {
			posRoot[p], final[t] = t, sec.lambda(p)
			p++
		} else {
			posDrop[q], final[t] = t, d[drop[q]]
			q++
		}
	}

	// Stage the rows in tmp: the undeflated ones grouped by kind (top, mixed,
	// bottom), then the deflated ones, which only move. The products then
	// write the new rows to rows [lo, lo+k) in the roots' order, and the
	// deflated rows follow; phys records where each eigenvalue's row went.
	grp := make([]int, 0, k)
	var k1, k3 int
	for _, want := range []int8{rowTop, rowMixed, rowBottom} {
		for p, i := range keep {
			if kind[i] == want {
				grp = append(grp, p)
				k1 += b2i(want == rowTop)
				k3 += b2i(want == rowBottom)
			}
		}
	}
	ts := s.tmp.Stride
	for p, q := range grp {
		copy(s.tmp.Data[(lo+p)*ts+c0:(lo+p)*ts+c1], s.rows.Data[phys[keep[q]]*rs+c0:])
	}
	for t, i := range drop {
		copy(s.tmp.Data[(lo+k+t)*ts+c0:(lo+k+t)*ts+c1], s.rows.Data[phys[i]*rs+c0:])
	}
	for t := range drop {
		r := lo + k + t
		copy(s.rows.Data[r*rs+c0:r*rs+c1], s.tmp.Data[r*ts+c0:])
		phys[posDrop[t]] = r
	}
	for j, q := range posRoot {
		phys[q] = lo + j
	}
	copy(d, final)
	if k == 0 {
		return nil
	}

	// Uᵀ times the staged rows, a panel of roots at a time: row j of the
	// panel is eigenvector j of the rank-one problem, its entries in grp's
	// order.
	dg, zg := make([]float64, k), make([]float64, k)
	for p, q := range grp {
		dg[p], zg[p] = sec.delta[q], zh[q]
	}
	panel := min(k, max(64, dcPanelValues/k))
	v := make([]float64, panel*k)
	for j0 := 0; j0 < k; j0 += panel {
		j1 := min(j0+panel, k)
		s.cores.parallelFor(j1-j0, 8, func(a, b int) {
			for j := j0 + a; j < j0+b; j++ {
				sec.vector(j, dg, zg, v[(j-j0)*k:(j-j0+1)*k])
			}
		})
		ut := blas64.General{Rows: j1 - j0, Cols: k, Stride: k, Data: v}
		if err := s.mergeProduct(lo, m, hi, k, k1, k3, ut, s.rowBlock(s.rows, lo+j0, lo+j1, c0, c1)); err != nil {
			return err
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mergeProduct computes out = ut·(staged rows) for one panel ut of Uᵀ. For
// projections that is one product over all columns. For eigenvectors the
// staged rows are grouped top (k1), mixed, bottom (k3), and the product splits
// by columns: the first half's columns need only the top and mixed rows, the
// second half's only the mixed and bottom ones.
func (s *dcSolver) mergeProduct(lo, m, hi, k, k1, k3 int, ut, out blas64.General) error {
	if !s.vectors {
		return s.gemm(blas.NoTrans, ut, s.rowBlock(s.tmp, lo, lo+k, 0, s.tmp.Cols), out)
	}
	n1 := m - lo
	parts := []struct {
		r0, r1 int // staged rows
		c0, c1 int // columns of the subproblem
	}{{0, k - k3, 0, n1}, {k1, k, n1, hi - lo}}
	for _, p := range parts {
		dst := s.rowBlock(out, 0, out.Rows, p.c0, p.c1)
		if p.r0 == p.r1 {
			for i := 0; i < dst.Rows; i++ {
				clear(dst.Data[i*dst.Stride : i*dst.Stride+dst.Cols])
			}
			continue
		}
		a := s.rowBlock(ut, 0, ut.Rows, p.r0, p.r1)
		b := s.rowBlock(s.tmp, lo+p.r0, lo+p.r1, lo+p.c0, lo+p.c1)
		if err := s.gemm(blas.NoTrans, a, b, dst); err != nil {
			return err
		}
	}
	return nil
}

// deflate removes from the rank-one problem diag(d) + ρ·z·zᵀ what needs no
// secular equation, as LAPACK's dlaed2 does, with tol = 8·eps·max(|d|, |z|):
// a component with ρ·|z_j| ≤ tol leaves d_j an eigenvalue and its row
// unchanged; two poles so close that a Givens rotation zeroing one z
// component perturbs T by at most tol are rotated together (rows included)
// and one of them leaves. It returns the surviving indices ascending in d
// (strictly increasing, at least 2·tol apart) and the deflated ones.
func (s *dcSolver) deflate(phys []int, n1 int, d, z []float64, rho float64, kind []int8, c0, c1 int) (keep, drop []int) {
	const eps = 0x1p-53
	n := len(d)
	// Both halves are ascending: merge them.
	order := make([]int, 0, n)
	for p, q := 0, n1; p < n1 || q < n; {
		if q == n || p < n1 && d[p] <= d[q] {
			order = append(order, p)
			p++
		} else {
			order = append(order, q)
			q++
		}
	}
	zmax, dmax := 0.0, 0.0
	for i := range d {
		zmax = math.Max(zmax, math.Abs(z[i]))
		dmax = math.Max(dmax, math.Abs(d[i]))
	}
	tol := 8 * eps * math.Max(dmax, zmax)
	if rho*zmax <= tol {
		return nil, order
	}
	prev := -1 // the last survivor so far, not yet final
	for _, j := range order {
		if rho*math.Abs(z[j]) <= tol {
			drop = append(drop, j)
			continue
		}
		if prev < 0 {
			prev = j
			continue
		}
		tau := math.Hypot(z[j], z[prev])
		c, sn := z[j]/tau, -z[prev]/tau
		if math.Abs((d[j]-d[prev])*c*sn) > tol {
			keep = append(keep, prev)
			prev = j
			continue
		}
		// The rotation [c s; −s c] on (prev, j) zeroes z[prev]; what it leaves
		// off the diagonal, (d_j − d_prev)·c·s, is below tol.
		z[j], z[prev] = tau, 0
		if kind[prev] != kind[j] {
			kind[j] = rowMixed
		}
		s.rotateRows(phys[prev], phys[j], c, sn, c0, c1)
		dp := d[prev]*c*c + d[j]*sn*sn
		d[j] = d[prev]*sn*sn + d[j]*c*c
		d[prev] = dp
		drop = append(drop, prev)
		prev = j
	}
	if prev >= 0 {
		keep = append(keep, prev)
	}
	return keep, drop
}

// rotateRows sets (x, y) = (c·x + s·y, c·y − s·x) for rows a and b of rows,
// columns [c0, c1).
func (s *dcSolver) rotateRows(a, b int, c, sn float64, c0, c1 int) {
	rs := s.rows.Stride
	x := s.rows.Data[a*rs+c0 : a*rs+c1]
	y := s.rows.Data[b*rs+c0 : b*rs+c1]
	for i := range x {
		xi, yi := x[i], y[i]
		x[i] = c*xi + sn*yi
		y[i] = c*yi - sn*xi
	}
}

// dcStats counts what the merges of one run did, for tests and tuning.
type dcStats struct {
	mu                   sync.Mutex
	merges, order, roots int // merges, their total order, undeflated poles
	evals, mostEvals     int // evaluations of a secular function: all, and the most for one root
}

func (st *dcStats) add(n, k, evals, most int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.merges++
	st.order += n
	st.roots += k
	st.evals += evals
	st.mostEvals = max(st.mostEvals, most)
}
