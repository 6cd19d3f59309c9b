package spectral

import (
	"math"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas/blas64"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/kernels/cpu"
)

// Stage 2: band → tridiagonal by bulge chasing (Lang's algorithm in the
// task form of LAPACK's dsytrd_sb2st), written for the upper band held row
// by row.
//
// Sweep s annihilates row s beyond the superdiagonal. Its reflector k acts
// on the coordinates R_k = [s+1+k·b, s+(k+1)·b] (clipped to n−1); the
// reflectors of one sweep partition [s+1, n). The sweep is a chain of tasks
//
//	task 1       T1: reflector 0 from row s; H·D·H on the diagonal block R_0²;
//	task 2k+2    T2(k): X = B[R_k, R_{k+1}] ← H_k·X; reflector k+1 from X's
//	             first row (the bulge), applied from the right to X's other rows;
//	task 2k+3    T3(k+1): H·D·H on the diagonal block R_{k+1}²;
//
// until R_{k+1} is empty. The rest of X's bulge is left to the next sweeps,
// so each reflector has length b. Task t of sweep s touches the entries of
// task t+2 of sweep s−1 and no later one (the blocks of sweep s sit one row
// lower), so sweeps run concurrently on several cores once each task waits
// for its predecessor sweep to finish task t+2.
//
// The band lives in a compact copy, (r, c) at r·ld + c for r ≤ c ≤ r+2b
// with ld = 2b+8: a general row-major matrix with row stride ld restricted
// to the band and its bulge, so every block above is a strided submatrix.
// At n = 12,288 and b = 64 it is 13 MB instead of a's 1.2 GB, and the
// blocks two sweeps in flight work on stay in cache. The 8 spare values a
// row keep ld off a power of two (2b = 128 values is 1 KB), at which a
// block's rows would fall into a quarter of the L1 sets; measured at
// n = 4,096 on two cores, 0.42 – 0.60 s against 0.47 – 0.65 s.
//
// The reflectors are kept in a's upper triangle, which stage 1 left free:
// sweep s's reflector k at row s, columns R_k (its τ in place of the implied
// leading 1). They fill exactly columns s+1 … n−1 of that row.

// bulge is the working state of stage 2.
type bulge struct {
	n, b int
	ld   int       // 2b+8: row stride of the compact band
	bnd  []float64 // the band and its bulge
	refl []float64 // a's data: sweep s's reflectors in row s
	rs   int       // a's row stride
}

// newBulge copies the band of half-bandwidth b from a's upper triangle.
func newBulge(a blas64.General, b int) *bulge {
	n := a.Rows
	ld := 2*b + 8
	bg := &bulge{n: n, b: b, ld: ld, bnd: make([]float64, n*(ld+1)), refl: a.Data, rs: a.Stride}
	for r := 0; r < n; r++ {
		c1 := min(r+b, n-1)
		copy(bg.bnd[r*ld+r:r*ld+c1+1], a.Data[r*a.Stride+r:r*a.Stride+c1+1])
	}
	return bg
}

// sweeps is the number of sweeps with work: row s needs one when it has
// entries beyond the superdiagonal, s ≤ n−3.
func (bg *bulge) sweeps() int {
	if bg.b < 2 {
		return 0
	}
	return max(bg.n-2, 0)
}

// tridiagonal returns the diagonal and superdiagonal of the reduced band.
func (bg *bulge) tridiagonal() (d, e []float64) {
	n, ld := bg.n, bg.ld
	d = make([]float64, n)
	e = make([]float64, max(n-1, 0))
	for r := 0; r < n; r++ {
		d[r] = bg.bnd[r*ld+r]
		if r+1 < n {
			e[r] = bg.bnd[r*ld+r+1]
		}
	}
	return d, e
}

// reflector returns sweep s's reflector starting at row r0 (τ at [0]).
func (bg *bulge) reflector(s, r0 int) []float64 {
	l := min(bg.b, bg.n-r0)
	return bg.refl[s*bg.rs+r0 : s*bg.rs+r0+l]
}

// task runs task t of sweep s and reports whether the sweep has more.
// work holds 2b values.
func (bg *bulge) task(s, t int, work []float64) bool {
	n, b, ld := bg.n, bg.b, bg.ld
	impl := lapackgonum.Implementation{}
	if t == 1 {
		l := min(b, n-1-s)
		row := bg.bnd[s*ld+s+1 : s*ld+s+1+l]
		beta, tau := impl.Dlarfg(l, row[0], row[1:], 1)
		v := bg.reflector(s, s+1)
		copy(v[1:], row[1:])
		v[0] = tau
		row[0] = beta
		clear(row[1:])
		cpu.HouseSym(bg.bnd[(s+1)*ld+s+1:], ld, l, v, tau, work)
		return s+1+l <= n-1
	}
	k := (t - 2) / 2
	r0 := s + 1 + k*b
	r1 := min(r0+b-1, n-1)
	j1 := r1 + 1
	j2 := min(r1+b, n-1)
	lm := j2 - j1 + 1
	v2 := bg.reflector(s, j1)
	if t%2 == 1 { // T3(k+1)
		cpu.HouseSym(bg.bnd[j1*ld+j1:], ld, lm, v2, v2[0], work)
		return j2+1 <= n-1
	}
	// T2(k)
	ln := r1 - r0 + 1
	v := bg.reflector(s, r0)
	x := bg.bnd[r0*ld+j1:]
	cpu.HouseLeft(x, ld, ln, lm, v, v[0], work)
	row := x[:lm]
	beta, tau := impl.Dlarfg(lm, row[0], row[1:], 1)
	copy(v2[1:], row[1:])
	v2[0] = tau
	row[0] = beta
	clear(row[1:])
	cpu.HouseRight(x[ld:], ld, ln-1, lm, v2, tau)
	return true
}

// run performs every sweep, on up to workers goroutines. Sweeps are dealt
// out in groups of consecutive ones (group i to worker i mod P), and a
// worker runs its group as a wavefront: at each step every active sweep of
// the group does three tasks, the leading sweep first, so each trails the
// one before by two or three tasks (as close as it may) and the group's
// working set, about g·b columns of the band, stays in the worker's L2
// while g sweeps pass over it. Only the first sweep of a group waits, on
// the last sweep of the group before, which another worker may be running:
// the cores share data at group boundaries only.
func (bg *bulge) run(workers int) {
	ns := bg.sweeps()
	if ns == 0 {
		return
	}
	g := bulgeGroup(bg.b)
	groups := (ns + g - 1) / g
	workers = max(1, min(workers, groups))
	pr := newProgress(ns)
	group := func(s0, s1 int, work []float64) {
		k := s1 - s0
		next := make([]int, k) // next task of each sweep; 0 when finished
		for j := range next {
			next[j] = 1
		}
		for left := k; left > 0; {
			for j := 0; j < k; j++ {
				s := s0 + j
				// Up to three tasks, each once the sweep ahead has finished
				// the task two beyond it (next[j-1] is its next task; 0 when
				// it is done).
				for range 3 {
					t := next[j]
					if t == 0 || j > 0 && next[j-1] != 0 && next[j-1] < t+3 {
						break
					}
					if j == 0 && s > 0 && workers > 1 {
						pr.wait(s-1, int64(t+2))
					}
					more := bg.task(s, t, work)
					next[j] = t + 1
					if !more {
						next[j] = 0
						left--
					}
					if j == k-1 && workers > 1 {
						if more {
							pr.set(s, int64(t))
						} else {
							pr.set(s, math.MaxInt64)
						}
					}
				}
			}
		}
	}
	if workers == 1 {
		work := cpu.HouseSymWork(bg.b)
		for s0 := 0; s0 < ns; s0 += g {
			group(s0, min(s0+g, ns), work)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := cpu.HouseSymWork(bg.b)
			for gi := w; gi < groups; gi += workers {
				group(gi*g, min((gi+1)*g, ns), work)
			}
		}()
	}
	wg.Wait()
}

// bulgeGroup is the number of sweeps a worker runs as one wavefront: their
// band window, about g·b columns of (2b+1) values, should fit in half of a
// 2 MB L2 (8 sweeps at b = 64, 16 at b = 32).
func bulgeGroup(b int) int {
	return max(4, 512/b)
}

// progress counts the tasks each sweep has finished, for the sweeps that
// wait on it. A waiter spins briefly (the task it waits for takes a few
// microseconds), then sleeps on a condition variable, so that a stalled
// partner on a busy machine costs no CPU.
type progress struct {
	done    []atomic.Int64
	waiting atomic.Int32
	mu      sync.Mutex
	cond    sync.Cond
}

func newProgress(n int) *progress {
	p := &progress{done: make([]atomic.Int64, n)}
	p.cond.L = &p.mu
	return p
}

func (p *progress) wait(s int, need int64) {
	for range 64 {
		if p.done[s].Load() >= need {
			return
		}
	}
	p.waiting.Add(1)
	p.mu.Lock()
	for p.done[s].Load() < need {
		p.cond.Wait()
	}
	p.mu.Unlock()
	p.waiting.Add(-1)
}

func (p *progress) set(s int, v int64) {
	p.done[s].Store(v)
	if p.waiting.Load() > 0 {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// Applying the stage-2 reflectors to a carried block. In creation order
// (Q2ᵀ·w), reflector (s, k) must precede every later one it overlaps: (s', k)
// for s' > s, and (s', k−1) for s' > s. So a group of consecutive sweeps can
// be applied block by block, k from the last down to 0, each block being the
// group's reflectors k in sweep order: the block touches b+g−1 rows, which
// are copied, a strip of columns at a time, into a buffer that stays in L1
// while the group's g reflectors pass over it, and each element of w is
// loaded once per group instead of once per sweep. Q2·w runs the same
// sequence backwards.
//
// The copy matters as much as the grouping: w's rows are often a power of
// two apart (n×n eigenvectors at n = 2,048), and then a strip's rows map to
// the same few L1 sets and evict each other. Measured at n = 2,048, b = 64,
// all n columns on two cores: 1.0 – 1.2 s in place, 0.26 – 0.29 s copied
// (64 sweeps and 64 columns; 32 × 32 took 0.32 – 0.39 s, 128-wide strips
// 0.63 – 0.66 s). Compact-WY blocks of the same groups through GEMM took
// 1.2 s or more: the parallelogram of b+g−1 rows doubles the flops.
const (
	q2Group = 64
	q2Strip = 64
)

// applyQ2 overwrites w (n×r) with Q2ᵀ·w when forward is set (the order the
// reflectors were made in), else with Q2·w. Workers own disjoint column
// slices of w, so they never synchronise.
func (bg *bulge) applyQ2(w blas64.General, forward bool, workers int) {
	ns := bg.sweeps()
	r := w.Cols
	if ns == 0 || r == 0 || w.Rows == 0 {
		return
	}
	n, b := bg.n, bg.b
	groups := (ns + q2Group - 1) / q2Group
	body := func(c0, c1 int) {
		work := make([]float64, q2Strip)
		buf := make([]float64, (b+q2Group-1)*q2Strip)
		for gi := range groups {
			if !forward {
				gi = groups - 1 - gi
			}
			s0, s1 := gi*q2Group, min((gi+1)*q2Group, ns)
			kmax := (n - 2 - s0) / b // last k with s0+1+k·b ≤ n−1
			for kk := 0; kk <= kmax; kk++ {
				k := kk
				if forward {
					k = kmax - kk
				}
				// Rows [r0, r0+rows): from sweep s0's reflector k to the
				// end of sweep s1−1's, or of the matrix.
				r0 := s0 + 1 + k*b
				rows := min(s1+k*b+b-1, n-1) - r0 + 1
				for x0 := c0; x0 < c1; x0 += q2Strip {
					// The copy's rows are padded to whole vectors of 8 with
					// zeros, which the reflectors leave zero: the kernel
					// then runs no masked partial chunks (see cpu.HouseLeft)
					// for the same number of vector operations.
					wc := min(x0+q2Strip, c1) - x0
					ldb := (wc + 7) &^ 7
					for i := 0; i < rows; i++ {
						copy(buf[i*ldb:i*ldb+wc], w.Data[(r0+i)*w.Stride+x0:])
					}
					for si := s0; si < s1; si++ {
						s := si
						if !forward {
							s = s1 - 1 - (si - s0)
						}
						rs := s + 1 + k*b
						if rs > n-1 {
							continue
						}
						v := bg.reflector(s, rs)
						cpu.HouseLeft(buf[(rs-r0)*ldb:], ldb, len(v), ldb, v, v[0], work)
					}
					for i := 0; i < rows; i++ {
						copy(w.Data[(r0+i)*w.Stride+x0:(r0+i)*w.Stride+x0+wc], buf[i*ldb:i*ldb+wc])
					}
				}
			}
		}
	}
	parallelColumns(r, workers, body)
}

// parallelColumns splits the columns [0, r) into one slice per worker (in
// multiples of 8, the kernels' vector width) and runs body on each.
func parallelColumns(r, workers int, body func(c0, c1 int)) {
	parts := max(1, min(workers, r/32))
	if parts == 1 {
		body(0, r)
		return
	}
	step := (r/parts + 7) &^ 7
	var wg sync.WaitGroup
	for c0 := 0; c0 < r; c0 += step {
		wg.Add(1)
		go func(c0, c1 int) {
			defer wg.Done()
			body(c0, c1)
		}(c0, min(c0+step, r))
	}
	wg.Wait()
}
