package cpu

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// secularCase returns poles δ around base with z of mixed magnitudes, and
// τ; some poles sit within 1e-12 of λ = base + τ, as the poles next to a
// converging root do.
func secularCase(rng *rand.Rand, n int) (delta, z []float64, base, tau float64) {
	base = rng.Float64()
	tau = 1e-3 * rng.NormFloat64()
	delta = make([]float64, n)
	z = make([]float64, n)
	for i := range delta {
		switch i % 5 {
		case 0:
			delta[i] = base + tau + 1e-12*(1+rng.Float64())
		case 1:
			delta[i] = base + tau - 1e-9*(1+rng.Float64())
		default:
			delta[i] = base + 4*rng.NormFloat64()
		}
		z[i] = rng.NormFloat64() * math.Pow(10, -4*rng.Float64())
	}
	return delta, z, base, tau
}

// bigD is (δ − base) − τ with the two subtractions rounded as the kernels
// round them, then held exactly.
func bigD(delta, base, tau float64) *big.Float {
	return new(big.Float).SetPrec(2048).SetFloat64((delta - base) - tau)
}

func TestSecularSums(t *testing.T) {
	withAVX512(t, &secularAVX512, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, n := range []int{0, 1, 7, 8, 9, 16, 23, 64, 257} {
			delta, z, base, tau := secularCase(rng, n)
			w0, dw := float64(n), -1.0
			if n%2 == 1 {
				w0, dw = 1, 1
			}
			s, ds, dds, ws := SecularSums(delta, z, base, tau, w0, dw)
			// Exact sums of the terms, and of their magnitudes for the bound.
			var ex, mag [4]*big.Float
			for k := range ex {
				ex[k], mag[k] = new(big.Float).SetPrec(2048), new(big.Float).SetPrec(2048)
			}
			for i := range delta {
				d := bigD(delta[i], base, tau)
				zz := new(big.Float).SetPrec(2048).SetFloat64(z[i])
				zz.Mul(zz, zz)
				a := new(big.Float).SetPrec(2048).Quo(zz, d)
				ad := new(big.Float).SetPrec(2048).Quo(a, d)
				add := new(big.Float).SetPrec(2048).Quo(ad, d)
				wa := new(big.Float).SetPrec(2048).Mul(a, new(big.Float).SetFloat64(w0+float64(i)*dw))
				for k, v := range []*big.Float{a, ad, add, wa} {
					ex[k].Add(ex[k], v)
					mag[k].Add(mag[k], new(big.Float).Abs(v))
				}
			}
			// Each term is within a few ulps; the sums add at most about
			// n/8 + 8 roundings of the magnitudes' size.
			for k, got := range []float64{s, ds, dds, ws} {
				want, _ := ex[k].Float64()
				m, _ := mag[k].Float64()
				tol := 4 * float64(n/8+8) * 0x1p-53 * m
				if math.Abs(got-want) > tol {
					t.Errorf("n = %d, sum %d: %.17g, exact %.17g (|error| %.3g > %.3g)", n, k, got, want, math.Abs(got-want), tol)
				}
			}
		}
	})
}

func TestSecularVector(t *testing.T) {
	withAVX512(t, &secularAVX512, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{0, 1, 8, 15, 64, 257} {
			delta, zh, base, tau := secularCase(rng, n)
			// A guard on each side of v catches a write outside it.
			all, v := filled(rng, n)
			ss := SecularVector(delta, zh, v, base, tau)
			checkGuards(t, "SecularVector", all, n)
			exSS, magSS := new(big.Float).SetPrec(2048), 0.0
			for i := range delta {
				x := new(big.Float).SetPrec(2048).SetFloat64(zh[i])
				x.Quo(x, bigD(delta[i], base, tau))
				want, _ := x.Float64()
				// zh·(1/d): within about 1.1 ulp.
				if math.Abs(v[i]-want) > 0x1p-52*math.Abs(want) {
					t.Errorf("n = %d: v[%d] = %.17g, exact %.17g", n, i, v[i], want)
				}
				exSS.Add(exSS, new(big.Float).Mul(x, x))
				magSS += want * want
			}
			want, _ := exSS.Float64()
			if tol := 4 * float64(n/8+8) * 0x1p-53 * magSS; math.Abs(ss-want) > tol {
				t.Errorf("n = %d: Σv² = %.17g, exact %.17g", n, ss, want)
			}
		}
	})
}

func BenchmarkSecularSums(b *testing.B) {
	delta, z, base, tau := secularCase(rand.New(rand.NewPCG(5, 6)), 4096)
	for _, path := range []bool{true, false} {
		name := "go"
		if path {
			name = "avx512"
			if !secularAVX512 {
				continue
			}
		}
		b.Run(name, func(b *testing.B) {
			saved := secularAVX512
			secularAVX512 = path
			defer func() { secularAVX512 = saved }()
			sink := 0.0
			for i := 0; i < b.N; i++ {
				s, _, _, _ := SecularSums(delta, z, base, tau, 4096, -1)
				sink += s
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/4096, "ns/pole")
			_ = sink
		})
	}
}
