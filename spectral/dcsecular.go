package spectral

import (
	"math"
	"sync"

	"github.com/reconalign/reconalign/kernels/cpu"
)

// secular is the K-term secular equation of one merge,
//
//	f(λ) = 1/ρ + Σ_j z_j²/(δ_j − λ) = 0,
//
// with δ strictly increasing, every z_j ≠ 0 and ρ > 0, which is what
// deflation leaves. f increases between its poles, so the roots interlace:
// δ_j < λ_j < δ_{j+1}, and δ_{K-1} < λ_{K-1} ≤ δ_{K-1} + ρ·‖z‖².
//
// Each root is kept as an offset from the pole it is nearest to,
// λ_j = δ_{org[j]} + τ_j, and every difference δ_i − λ_j is formed as
// (δ_i − δ_{org[j]}) − τ_j. Both terms are then exact or nearly so, and the
// difference has full relative accuracy even where λ_j lies within a few
// ulps of δ_i; the eigenvectors are built from these differences.
type secular struct {
	delta, z []float64
	rho      float64
	base     []float64 // δ_{org[j]}
	tau      []float64
}

func newSecular(k int) *secular {
	return &secular{delta: make([]float64, k), z: make([]float64, k), base: make([]float64, k), tau: make([]float64, k)}
}

func (q *secular) lambda(j int) float64 { return q.base[j] + q.tau[j] }

// secularMaxIter bounds the iterations for one root; after secularBisectAfter
// the rational steps give way to plain bisection, which always terminates.
const (
	secularMaxIter     = 200
	secularBisectAfter = 40
)

// solve finds every root, in parallel on c. It returns the index
// of a root that did not converge, or -1, and the number of evaluations of
// f, all roots together and for the hardest one.
func (q *secular) solve(c *cores) (failed, evals, most int) {
	var mu sync.Mutex
	failed = -1
	c.parallelFor(len(q.delta), 16, func(j0, j1 int) {
		sum, top := 0, 0
		for j := j0; j < j1; j++ {
			n := q.root(j)
			if n == 0 {
				mu.Lock()
				failed = j
				mu.Unlock()
				return
			}
			sum += n
			top = max(top, n)
		}
		mu.Lock()
		evals += sum
		most = max(most, top)
		mu.Unlock()
	})
	return failed, evals, most
}

// root finds λ_j by a rational iteration with the safeguards of LAPACK's
// dlaed4. It returns the number of iterates at which it evaluated f and its
// derivatives (the first pass, which picks the origin, not counted), or 0
// on failure.
//
// At the current point f is modelled by c + s₁/(p₁ − λ) + s₂/(p₂ − λ), a
// pole on either side of the root's interval, with c chosen to match f; the
// model's zero in the bracket is the next point. There are three ways of
// choosing the poles and weights, all matching f' as well:
//   - fixed weight (LAPACK's first choice): p₁, p₂ are the poles that bound
//     the interval; the origin pole keeps its own weight z_o², every other
//     term is lumped into the other one. Fast when the root hugs its pole.
//   - osculating: each side's terms are replaced by the one pole that
//     matches their sum to second order, wherever that lies; the model then
//     matches the second derivative too. It wins when a heavy distant pole
//     outweighs the light ones next to the root (clusters, glued Wilkinson
//     matrices), where the other two lump it onto a near pole and crawl at
//     half a step a time.
//   - middle way (R.-C. Li): each side lumped into the pole that bounds it.
//
// The iteration starts with fixed weight and moves on to the next way
// whenever a step fails to shrink |f| tenfold without crossing the root; a
// way whose zero leaves the bracket (kept from the sign of f) gives way to
// the next, then to Newton, then to bisection, so that every root converges.
// The stopping test is dlaed4's: |f| below eps times a bound on the rounding
// error of f itself.
func (q *secular) root(j int) int {
	const eps = 0x1p-53
	delta, z := q.delta, q.z
	k := len(delta)
	if k == 1 {
		q.base[0], q.tau[0] = delta[0], q.rho*z[0]*z[0]
		return 1
	}
	rhoinv := 1 / q.rho
	// o: the origin pole. sp, sp+1: the poles that bound the model; the
	// terms 0..sp are "left" (ψ), the rest "right" (φ). The last root lies
	// right of every pole: its model poles are the last two.
	var o, sp int
	var lb, ub, tau float64
	if j < k-1 {
		sp = j
		mid := (delta[j+1] - delta[j]) / 2
		if q.f(j, mid) >= 0 {
			o, lb, ub, tau = j, 0, mid, mid
		} else {
			o, lb, ub, tau = j+1, -mid, 0, -mid
		}
	} else {
		o, sp = k-1, k-2
		zz := 0.0
		for _, v := range z {
			zz += v * v
		}
		top := q.rho * zz
		mid := top / 2
		if q.f(o, mid) <= 0 {
			lb, ub = mid, top
		} else {
			lb, ub = 0, mid
		}
		tau = mid
	}
	base := delta[o]
	way, prevW, evals := 0, 0.0, 0
	for iter := 0; ; iter++ {
		// Each side's sums; epsi and ephi are the sums of the running
		// partial sums of psi and phi, each side taken from its far end.
		psi, dpsi, ddpsi, epsi := cpu.SecularSums(delta[:sp+1], z[:sp+1], base, tau, float64(sp+1), -1)
		phi, dphi, ddphi, ephi := cpu.SecularSums(delta[sp+1:], z[sp+1:], base, tau, 1, 1)
		w := rhoinv + psi + phi
		dw := dpsi + dphi
		// Each side's terms share a sign, so |Σ partial sums| bounds the
		// rounding of its sum; the last term is f's change under a relative
		// error eps in τ.
		bound := 8*(math.Abs(psi)+math.Abs(phi)) + math.Abs(epsi) + math.Abs(ephi) + 2*rhoinv + math.Abs(tau)*dw
		if math.Abs(w) <= eps*bound {
			evals = iter + 1
			break
		}
		// τ becomes one end of the bracket, so a step inside it also goes
		// the right way.
		if w <= 0 {
			lb = math.Max(lb, tau)
		} else {
			ub = math.Min(ub, tau)
		}
		if iter > 1 && w*prevW > 0 && math.Abs(w) > math.Abs(prevW)/10 {
			way = (way + 1) % 3
		}
		prevW = w
		if iter == secularMaxIter {
			return 0
		}
		eta, ok := 0.0, false
		if iter < secularBisectAfter {
			d1 := (delta[sp] - base) - tau
			d2 := (delta[sp+1] - base) - tau
			for try := 0; try < 3 && !ok; try++ {
				// p₁ − τ, p₂ − τ and the weights.
				p1, p2 := d1, d2
				var s1, s2 float64
				switch (way + try) % 3 {
				case 0: // fixed weight
					if o == sp {
						t := z[o] / d1
						s1, s2 = z[o]*z[o], (dw-t*t)*d2*d2
					} else {
						t := z[o] / d2
						s1, s2 = (dw-t*t)*d1*d1, z[o]*z[o]
					}
				case 1: // osculating: a lone pole at distance p has f'/(f''/2) = p
					p1, p2 = dpsi/ddpsi, dphi/ddphi
					s1, s2 = dpsi*p1*p1, dphi*p2*p2
				case 2: // middle way
					s1, s2 = dpsi*d1*d1, dphi*d2*d2
				}
				c := w - s1/p1 - s2/p2
				eta, ok = quadraticIn(c*(p1+p2)+s1+s2, p1*p2*w, c, lb-tau, ub-tau)
			}
			if !ok {
				eta = -w / dw // Newton
				ok = lb < tau+eta && tau+eta < ub
			}
		}
		if !ok {
			if w < 0 {
				eta = (ub - tau) / 2
			} else {
				eta = (lb - tau) / 2
			}
		}
		if tau+eta == tau {
			break
		}
		tau += eta
	}
	q.base[j], q.tau[j] = base, tau
	return max(evals, 1)
}

// f evaluates 1/ρ + Σ z_i²/((δ_i − δ_o) − τ).
func (q *secular) f(o int, tau float64) float64 {
	s, _, _, _ := cpu.SecularSums(q.delta, q.z, q.delta[o], tau, 0, 0)
	return 1/q.rho + s
}

// quadraticIn returns the root of c·η² − a·η + b = 0 strictly inside (lo, hi)
// (the model's zero between or beyond its two poles), or false when there is
// none. Both roots are formed without cancellation.
func quadraticIn(a, b, c, lo, hi float64) (float64, bool) {
	in := func(x float64) bool { return lo < x && x < hi }
	if c == 0 {
		if a == 0 {
			return 0, false
		}
		x := b / a
		return x, in(x)
	}
	disc := math.Sqrt(math.Max(a*a-4*b*c, 0))
	qq := (a + math.Copysign(disc, a)) / 2
	x1 := qq / c
	if qq == 0 {
		return x1, in(x1)
	}
	x2 := b / qq
	switch i1, i2 := in(x1), in(x2); {
	case i1 && i2:
		if math.Abs(x1) < math.Abs(x2) {
			return x1, true
		}
		return x2, true
	case i1:
		return x1, true
	case i2:
		return x2, true
	}
	return 0, false
}

// lowner returns ẑ, the vector for which the computed roots are the exact
// eigenvalues of diag(δ) + ρ·ẑ·ẑᵀ (Gu & Eisenstat):
//
//	ẑ_i² = −(δ_i − λ_i)·Π_{j≠i} (δ_i − λ_j)/(δ_i − δ_j) / ρ,
//
// with z_i's sign. The common factor 1/ρ is left out: the eigenvectors are
// normalized anyway. Eigenvectors built from ẑ are orthogonal to working
// precision however close the roots are.
func (q *secular) lowner(c *cores) []float64 {
	k := len(q.delta)
	zh := make([]float64, k)
	c.parallelFor(k, 64, func(i0, i1 int) {
		for i := i0; i < i1; i++ {
			di := q.delta[i]
			p := (di - q.base[i]) - q.tau[i]
			for j := 0; j < i; j++ {
				p *= ((di - q.base[j]) - q.tau[j]) / (di - q.delta[j])
			}
			for j := i + 1; j < k; j++ {
				p *= ((di - q.base[j]) - q.tau[j]) / (di - q.delta[j])
			}
			zh[i] = math.Copysign(math.Sqrt(math.Abs(p)), q.z[i])
		}
	})
	return zh
}

// vector writes into v the unit eigenvector of root j, v_p = ẑ_p/(δ_p − λ_j),
// where delta and zh list the poles and ẑ in the order v wants them.
func (q *secular) vector(j int, delta, zh, v []float64) {
	inv := 1 / math.Sqrt(cpu.SecularVector(delta, zh, v, q.base[j], q.tau[j]))
	for p := range v {
		v[p] *= inv
	}
}

// cores hands out the workers' share of the CPU: a piece of parallel work
// holds one core while it runs, a GEMM (which the backend spreads over every
// core) holds all of them. Independent subtrees then overlap their secular
// work without ever running more busy threads than workers, which threaded
// BLAS libraries with static work splits (OpenBLAS) punish.
type cores struct {
	n    int
	mu   sync.Mutex
	cond sync.Cond
	free int
}

func newCores(n int) *cores {
	c := &cores{n: n, free: n}
	c.cond.L = &c.mu
	return c
}

func (c *cores) acquire(k int) {
	c.mu.Lock()
	for c.free < k {
		c.cond.Wait()
	}
	c.free -= k
	c.mu.Unlock()
}

func (c *cores) release(k int) {
	c.mu.Lock()
	c.free += k
	c.mu.Unlock()
	c.cond.Broadcast()
}

// parallelFor calls fn on consecutive pieces of [0, n), no piece shorter
// than minPiece, each holding one core.
func (c *cores) parallelFor(n, minPiece int, fn func(i0, i1 int)) {
	pieces := (n + minPiece - 1) / minPiece
	if pieces <= 1 || c.n == 1 {
		if n > 0 {
			c.acquire(1)
			fn(0, n)
			c.release(1)
		}
		return
	}
	// A few pieces per core even out the uneven cost of roots.
	pieces = min(pieces, 4*c.n)
	next := make(chan int, pieces)
	for p := 0; p < pieces; p++ {
		next <- p
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < min(c.n, pieces); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				c.acquire(1)
				fn(p*n/pieces, (p+1)*n/pieces)
				c.release(1)
			}
		}()
	}
	wg.Wait()
}
