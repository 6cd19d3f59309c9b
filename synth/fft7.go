package synth

import "math"

// cos7 and sin7 are cos and sin of 2π·k/7 for k = 1, 2, 3.
var cos7, sin7 = func() (c, s [4]float64) {
	for k := 1; k <= 3; k++ {
		s[k], c[k] = math.Sincos(2 * math.Pi * float64(k) / 7)
	}
	return c, s
}()

// radix7 is radixOdd for r = 7, the odd factor of the ImageNet side
// 224 = 2⁵·7, whose direct butterfly (49 complex products a group) took
// most of the generator's time. Pairing a_t with a_{7−t}, the sums
// S_t = a_t + a_{7−t} meet only cosines and the differences D_t = a_t − a_{7−t}
// only sines:
//
//	X_u, X_{7−u} = a_0 + Σ_t cos(2π·t·u/7)·S_t ± i·Σ_t sin(2π·t·u/7)·D_t,
//
// 36 real products a group instead of 196.
func radix7(st *fftStage, s int, in, out []complex128) {
	m := st.m
	c1, c2, c3 := cos7[1], cos7[2], cos7[3]
	s1, s2, s3 := sin7[1], sin7[2], sin7[3]
	for p := 0; p < m; p++ {
		var a, o [7][]complex128
		for t := range a {
			a[t] = in[s*(p+t*m) : s*(p+t*m)+s]
			o[t] = out[s*(7*p+t) : s*(7*p+t)+s]
		}
		a0, a1, a2, a3, a4, a5, a6 := a[0], a[1][:s], a[2][:s], a[3][:s], a[4][:s], a[5][:s], a[6][:s]
		o0, o1, o2, o3, o4, o5, o6 := o[0][:s], o[1][:s], o[2][:s], o[3][:s], o[4][:s], o[5][:s], o[6][:s]
		for q, x0 := range a0 {
			sr1, si1 := real(a1[q])+real(a6[q]), imag(a1[q])+imag(a6[q])
			dr1, di1 := real(a1[q])-real(a6[q]), imag(a1[q])-imag(a6[q])
			sr2, si2 := real(a2[q])+real(a5[q]), imag(a2[q])+imag(a5[q])
			dr2, di2 := real(a2[q])-real(a5[q]), imag(a2[q])-imag(a5[q])
			sr3, si3 := real(a3[q])+real(a4[q]), imag(a3[q])+imag(a4[q])
			dr3, di3 := real(a3[q])-real(a4[q]), imag(a3[q])-imag(a4[q])
			r0, i0 := real(x0), imag(x0)
			// A_u = a_0 + Σ cos·S (cos(2π·4/7) = c3, cos(2π·6/7) = c1).
			ar1, ai1 := r0+c1*sr1+c2*sr2+c3*sr3, i0+c1*si1+c2*si2+c3*si3
			ar2, ai2 := r0+c2*sr1+c3*sr2+c1*sr3, i0+c2*si1+c3*si2+c1*si3
			ar3, ai3 := r0+c3*sr1+c1*sr2+c2*sr3, i0+c3*si1+c1*si2+c2*si3
			// B_u = Σ sin·D (sin(2π·4/7) = −s3, sin(2π·6/7) = −s1).
			br1, bi1 := s1*dr1+s2*dr2+s3*dr3, s1*di1+s2*di2+s3*di3
			br2, bi2 := s2*dr1-s3*dr2-s1*dr3, s2*di1-s3*di2-s1*di3
			br3, bi3 := s3*dr1-s1*dr2+s2*dr3, s3*di1-s1*di2+s2*di3
			// X_u = A_u + i·B_u, X_{7−u} = A_u − i·B_u.
			o0[q] = complex(r0+sr1+sr2+sr3, i0+si1+si2+si3)
			o1[q] = complex(ar1-bi1, ai1+br1)
			o6[q] = complex(ar1+bi1, ai1-br1)
			o2[q] = complex(ar2-bi2, ai2+br2)
			o5[q] = complex(ar2+bi2, ai2-br2)
			o3[q] = complex(ar3-bi3, ai3+br3)
			o4[q] = complex(ar3+bi3, ai3-br3)
		}
		if p == 0 {
			continue // w^0 = 1
		}
		for u := 1; u < 7; u++ {
			w := st.tw[p*6+u-1]
			for q := range o[u] {
				o[u][q] *= w
			}
		}
	}
}
