package spectral

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/reconalign/reconalign/kernels/cpu"
)

// dcSecularBig returns root j of 1/ρ + Σ z_i²/(δ_i − λ) as an offset from
// base, by bisection in 256-bit arithmetic on the root's interval (which f
// crosses from −∞ to a positive value), to 2^-140 of the interval.
func dcSecularBig(q *secular, j int, base float64) float64 {
	const prec = 192
	bf := func(x float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(x) }
	k := len(q.delta)
	// Offsets of the poles from base, exact.
	off := make([]*big.Float, k)
	z2 := make([]*big.Float, k)
	for i := range q.delta {
		off[i] = new(big.Float).Sub(bf(q.delta[i]), bf(base))
		z2[i] = new(big.Float).Mul(bf(q.z[i]), bf(q.z[i]))
	}
	rhoinv := new(big.Float).Quo(bf(1), bf(q.rho))
	f := func(x *big.Float) int {
		s := new(big.Float).Set(rhoinv)
		t := new(big.Float).SetPrec(prec)
		for i := range off {
			t.Sub(off[i], x)
			t.Quo(z2[i], t)
			s.Add(s, t)
		}
		return s.Sign()
	}
	lo := new(big.Float).Set(off[j])
	var hi *big.Float
	if j < k-1 {
		hi = new(big.Float).Set(off[j+1])
	} else {
		zz := new(big.Float).SetPrec(prec)
		for _, v := range z2 {
			zz.Add(zz, v)
		}
		hi = new(big.Float).Add(off[j], zz.Mul(zz, bf(q.rho)))
	}
	mid := new(big.Float).SetPrec(prec)
	for it := 0; it < 140; it++ {
		mid.Add(lo, hi)
		mid.Quo(mid, bf(2))
		if f(mid) < 0 {
			lo.Set(mid)
		} else {
			hi.Set(mid)
		}
	}
	x, _ := mid.Float64()
	return x
}

// TestDCSecularRoots checks every root's offset from its pole against a
// 192-bit bisection: the offset, not λ, is what the eigenvectors are built
// from. f is evaluated in float64 with a rounding error up to eps·B (B the
// bound that the stopping test uses, dlaed4's), which moves the root by
// eps·B/f'; the offset may be wrong by a few times that and a few ulps of
// itself, no more. Where f' is large — a root next to a pole of weight
// comparable to the rest — that is a few ulps relative to the offset
// however small it is.
func TestDCSecularRoots(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		k      int
		tiny   float64 // share of z components scaled down to 1e-7
		trials int
	}{{1, 0, 3}, {2, 0, 5}, {2, 0.5, 5}, {3, 0, 5}, {10, 0, 5}, {10, 0.3, 5}, {60, 0, 2}, {60, 0.3, 2}, {150, 0.1, 1}} {
		worst := 0.0
		for trial := 0; trial < c.trials; trial++ {
			what := fmt.Sprintf("K = %d, tiny %g, trial %d", c.k, c.tiny, trial)
			q := newSecular(c.k)
			for i := range q.delta {
				q.delta[i] = rng.Float64()*2 - 1
			}
			slices.Sort(q.delta)
			nz := 0.0
			for i := range q.z {
				q.z[i] = rng.NormFloat64()
				if rng.Float64() < c.tiny {
					q.z[i] *= 1e-7
				}
				nz += q.z[i] * q.z[i]
			}
			for i := range q.z {
				q.z[i] /= math.Sqrt(nz)
			}
			q.rho = 0.1 + rng.Float64()
			if failed, _, _ := q.solve(newCores(2)); failed >= 0 {
				t.Fatalf("%s: root %d did not converge", what, failed)
			}
			for j := range q.delta {
				want := dcSecularBig(q, j, q.base[j])
				// The poles left of the root, then those right of it.
				psi, dpsi, _, epsi := cpu.SecularSums(q.delta[:j+1], q.z[:j+1], q.base[j], want, float64(j+1), -1)
				phi, dphi, _, ephi := cpu.SecularSums(q.delta[j+1:], q.z[j+1:], q.base[j], want, 1, 1)
				bound := 8*(math.Abs(psi)+math.Abs(phi)) + math.Abs(epsi) + math.Abs(ephi) + 2/q.rho
				slack := 4*dcUlp*bound/(dpsi+dphi) + 4*dcUlp*math.Abs(want)
				err := math.Abs(q.tau[j] - want)
				worst = math.Max(worst, err/slack)
				if !(err <= slack) {
					t.Errorf("%s: root %d offset %.17g, want %.17g: error %.2g, %.2g times what rounding allows",
						what, j, q.tau[j], want, err, err/slack)
				}
				if j > 0 && !(q.lambda(j) >= q.lambda(j-1)) {
					t.Errorf("%s: roots %d, %d out of order", what, j-1, j)
				}
			}
		}
		if testing.Verbose() {
			t.Logf("K = %d, tiny %g: worst error %.3g of the allowance", c.k, c.tiny, worst)
		}
	}
}
