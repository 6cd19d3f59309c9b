package synth

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// directInverse2 is the O((hw)²) definition of the unnormalised inverse 2-D DFT.
func directInverse2(c []complex128, h, w int) []complex128 {
	out := make([]complex128, h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s complex128
			for ky := 0; ky < h; ky++ {
				for kx := 0; kx < w; kx++ {
					s += c[ky*w+kx] * cmplx.Exp(complex(0, 2*math.Pi*(float64(ky*y%h)/float64(h)+float64(kx*x%w)/float64(w))))
				}
			}
			out[y*w+x] = s
		}
	}
	return out
}

func randComplex(rng *rand.Rand, n int) []complex128 {
	c := make([]complex128, n)
	for i := range c {
		c[i] = complex(rng.NormFloat64(), rng.NormFloat64())
	}
	return c
}

// The 1-D plan must agree with gonum's FFTPACK port for every radix path:
// powers of 4 and 2, odd primes, and mixed lengths such as 224 = 2⁵·7.
func TestFFTPlanMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 12, 16, 28, 30, 49, 64, 96, 224, 255} {
		p, err := newFFTPlan(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 3} {
			x := randComplex(rng, n*batch)
			want := make([][]complex128, batch)
			ref := fourier.NewCmplxFFT(n)
			for q := 0; q < batch; q++ {
				seq := make([]complex128, n)
				for i := range seq {
					seq[i] = x[q+batch*i]
				}
				want[q] = ref.Sequence(nil, seq)
			}
			scratch := make([]complex128, n*batch)
			p.transform(x, scratch, batch)
			for q := 0; q < batch; q++ {
				for i := 0; i < n; i++ {
					if d := cmplx.Abs(x[q+batch*i] - want[q][i]); d > 1e-12*float64(n) {
						t.Fatalf("n=%d batch=%d seq %d element %d: got %v, gonum %v", n, batch, q, i, x[q+batch*i], want[q][i])
					}
				}
			}
		}
	}
}

func TestFFT2MatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, hw := range [][2]int{{1, 1}, {4, 4}, {6, 10}, {7, 8}, {1, 12}} {
		h, w := hw[0], hw[1]
		f, err := newFFT2(h, w)
		if err != nil {
			t.Fatal(err)
		}
		c := randComplex(rng, h*w)
		want := directInverse2(c, h, w)
		f.inverse(c, make([]complex128, h*w))
		for i := range c {
			if d := cmplx.Abs(c[i] - want[i]); d > 1e-11 {
				t.Fatalf("%d×%d element %d: got %v want %v", h, w, i, c[i], want[i])
			}
		}
	}
}

func TestFFTRejectsLargePrimeSide(t *testing.T) {
	if _, err := newFFTPlan(67); err == nil {
		t.Fatal("side 67 (prime) accepted")
	}
	if _, err := newFFTPlan(0); err == nil {
		t.Fatal("side 0 accepted")
	}
}

func BenchmarkFFT2(b *testing.B) {
	for _, n := range []int{28, 64, 224} {
		b.Run(fmtInt(n), func(b *testing.B) {
			f, _ := newFFT2(n, n)
			a := randComplex(rand.New(rand.NewPCG(1, 1)), n*n)
			s := make([]complex128, n*n)
			for b.Loop() {
				f.inverse(a, s)
			}
		})
	}
}

func fmtInt(n int) string {
	return string(rune('0'+n/100%10)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}
