package synth

import (
	"fmt"
	"math"
)

// fftPlan is an unnormalised inverse complex DFT of one length,
// x[t] = Σ_k c[k]·exp(+2πi·k·t/n), done as a mixed-radix Stockham transform
// (radix 4, 2 and direct odd radices), which needs no bit reversal and whose
// innermost loop runs over interleaved sequences, so the columns of a
// row-major 2-D array transform together with unit-stride access.
//
// gonum's fourier package would do the same job, but its per-call copying
// makes it several times slower at the 64- and 224-point sizes the
// generator runs millions of times.
type fftPlan struct {
	n      int
	stages []fftStage
}

type fftStage struct {
	radix int
	m     int          // length of each sub-transform left after this stage
	tw    []complex128 // tw[p·(radix−1)+u−1] = exp(+2πi·p·u/(radix·m))
	roots []complex128 // exp(+2πi·j/radix), for the direct odd-radix butterfly
}

func newFFTPlan(n int) (*fftPlan, error) {
	if n < 1 {
		return nil, fmt.Errorf("synth: FFT length %d must be at least 1", n)
	}
	var radices []int
	for rest := n; rest > 1; {
		switch {
		case rest%4 == 0:
			radices = append(radices, 4)
			rest /= 4
		case rest%2 == 0:
			radices = append(radices, 2)
			rest /= 2
		default:
			f := 3
			for rest%f != 0 {
				f += 2
			}
			if f > 61 {
				// A large prime factor makes the direct butterfly O(n·f).
				return nil, fmt.Errorf("synth: image side %d has the prime factor %d; sides must factor into primes ≤ 61", n, f)
			}
			radices = append(radices, f)
			rest /= f
		}
	}
	p := &fftPlan{n: n}
	cur := n
	for _, r := range radices {
		m := cur / r
		st := fftStage{radix: r, m: m, tw: make([]complex128, m*(r-1))}
		for q := 0; q < m; q++ {
			for u := 1; u < r; u++ {
				st.tw[q*(r-1)+u-1] = unitRoot(q*u, cur)
			}
		}
		if r != 2 && r != 4 {
			st.roots = make([]complex128, r)
			for j := range st.roots {
				st.roots[j] = unitRoot(j, r)
			}
		}
		p.stages = append(p.stages, st)
		cur = m
	}
	return p, nil
}

// unitRoot is exp(+2πi·k/n), with k reduced first so that large products
// lose no accuracy in the angle.
func unitRoot(k, n int) complex128 {
	k %= n
	s, c := math.Sincos(2 * math.Pi * float64(k) / float64(n))
	return complex(c, s)
}

// transform applies the inverse DFT to the batch sequences interleaved in x
// (element t of sequence q at x[q+batch·t]), using y (same length) as
// scratch. The result is left in x.
func (p *fftPlan) transform(x, y []complex128, batch int) {
	src, dst := x, y
	s := batch
	for i := range p.stages {
		st := &p.stages[i]
		switch st.radix {
		case 4:
			radix4(st, s, src, dst)
		case 2:
			radix2(st, s, src, dst)
		case 7:
			radix7(st, s, src, dst)
		default:
			radixOdd(st, s, src, dst)
		}
		src, dst = dst, src
		s *= st.radix
	}
	if len(p.stages)%2 == 1 {
		copy(x[:p.n*batch], y[:p.n*batch])
	}
}

// Each stage splits a length r·m transform into r of length m:
// out[q + s·(r·p+u)] = w^{p·u} · Σ_t in[q + s·(p + t·m)]·ω_r^{t·u}.

func radix2(st *fftStage, s int, in, out []complex128) {
	m := st.m
	for p := 0; p < m; p++ {
		w := st.tw[p]
		a0 := in[s*p : s*p+s]
		a1 := in[s*(p+m) : s*(p+m)+s]
		o0 := out[s*2*p : s*2*p+s]
		o1 := out[s*(2*p+1) : s*(2*p+1)+s]
		for q := range a0 {
			u, v := a0[q], a1[q]
			o0[q] = u + v
			o1[q] = (u - v) * w
		}
	}
}

func radix4(st *fftStage, s int, in, out []complex128) {
	m := st.m
	if s == 1 {
		// A single sequence's first stage: the inner loop would have length one.
		in, out = in[:4*m], out[:4*m]
		for p := 0; p < m; p++ {
			b0, b1, b2, b3 := in[p], in[p+m], in[p+2*m], in[p+3*m]
			e, f := b0+b2, b0-b2
			g, h := b1+b3, b1-b3
			ih := complex(-imag(h), real(h))
			tw := st.tw[3*p : 3*p+3]
			o := out[4*p : 4*p+4]
			o[0] = e + g
			o[1] = (f + ih) * tw[0]
			o[2] = (e - g) * tw[1]
			o[3] = (f - ih) * tw[2]
		}
		return
	}
	for p := 0; p < m; p++ {
		w1, w2, w3 := st.tw[3*p], st.tw[3*p+1], st.tw[3*p+2]
		a0 := in[s*p : s*p+s]
		a1 := in[s*(p+m) : s*(p+m)+s]
		a2 := in[s*(p+2*m) : s*(p+2*m)+s]
		a3 := in[s*(p+3*m) : s*(p+3*m)+s]
		o0 := out[s*4*p : s*4*p+s]
		o1 := out[s*(4*p+1) : s*(4*p+1)+s]
		o2 := out[s*(4*p+2) : s*(4*p+2)+s]
		o3 := out[s*(4*p+3) : s*(4*p+3)+s]
		for q := range a0 {
			b0, b1, b2, b3 := a0[q], a1[q], a2[q], a3[q]
			e, f := b0+b2, b0-b2
			g, h := b1+b3, b1-b3
			ih := complex(-imag(h), real(h)) // i·h: ω_4 = +i for the inverse
			o0[q] = e + g
			o1[q] = (f + ih) * w1
			o2[q] = (e - g) * w2
			o3[q] = (f - ih) * w3
		}
	}
}

func radixOdd(st *fftStage, s int, in, out []complex128) {
	r, m := st.radix, st.m
	var a, acc [61]complex128
	for p := 0; p < m; p++ {
		tw := st.tw[p*(r-1) : (p+1)*(r-1)]
		for q := 0; q < s; q++ {
			for t := 0; t < r; t++ {
				a[t] = in[q+s*(p+t*m)]
			}
			for u := 0; u < r; u++ {
				var sum complex128
				k := 0 // t·u mod r, kept by addition: a division per term would dominate
				for t := 0; t < r; t++ {
					sum += a[t] * st.roots[k]
					if k += u; k >= r {
						k -= r
					}
				}
				acc[u] = sum
			}
			out[q+s*r*p] = acc[0]
			for u := 1; u < r; u++ {
				out[q+s*(r*p+u)] = acc[u] * tw[u-1]
			}
		}
	}
}

// fft2 is the unnormalised inverse 2-D DFT of an h×w row-major array.
type fft2 struct {
	h, w       int
	rows, cols *fftPlan
}

func newFFT2(h, w int) (*fft2, error) {
	rows, err := newFFTPlan(w)
	if err != nil {
		return nil, err
	}
	cols, err := newFFTPlan(h)
	if err != nil {
		return nil, err
	}
	return &fft2{h: h, w: w, rows: rows, cols: cols}, nil
}

// inverse transforms a (h·w values) in place; scratch needs h·w values.
func (f *fft2) inverse(a, scratch []complex128) {
	f.cols.transform(a, scratch, f.w) // all columns at once: they interleave with stride w
	for y := 0; y < f.h; y++ {
		f.rows.transform(a[y*f.w:(y+1)*f.w], scratch, 1)
	}
}
