package cpu

// The inner loops of the divide-and-conquer eigensolver's secular equation,
//
//	f(λ) = 1/ρ + Σ_i z_i²/(δ_i − λ),
//
// evaluated with λ = base + τ and every difference formed as (δ_i − base) − τ
// (the form that keeps full relative accuracy next to a pole; spectral's
// secular type explains it). Each root costs a few passes over all the
// poles, and each pass is a division per pole, so at order 4,096 these
// loops are most of a merge's time outside its GEMM. The AVX-512 versions
// take eight poles a step; the reciprocals come from VRCP14PD and two
// Newton steps (relative error within about 0.6 ulp, against a division's
// 0.5), which keeps the divider, a sixteen-cycle stall per eight lanes, out
// of the loop.

// SecularSums returns, over i < len(delta), with d_i = (delta[i] − base) − tau
// and a_i = z_i²/d_i:
//
//	s = Σ a_i,  ds = Σ a_i/d_i,  dds = Σ a_i/d_i²,  ws = Σ (w0 + i·dw)·a_i.
//
// s is the secular function's sum over these poles, ds and dds its first
// and half its second derivative in λ, and ws with linear weights is what a
// caller needs for a rounding-error bound of s summed in either direction
// (the sum of its running partial sums). z has delta's length.
func SecularSums(delta, z []float64, base, tau, w0, dw float64) (s, ds, dds, ws float64) {
	n := len(delta)
	_ = z[:n]
	full := 0
	if secularAVX512 {
		full = n &^ 7
	}
	if full > 0 {
		var w [8]float64
		for l := range w {
			w[l] = w0 + float64(l)*dw
		}
		var acc [32]float64
		secularSumsAVX512(full, &delta[0], &z[0], base, tau, 8*dw, &w, &acc)
		for l := 0; l < 8; l++ {
			s += acc[l]
			ds += acc[8+l]
			dds += acc[16+l]
			ws += acc[24+l]
		}
	}
	for i := full; i < n; i++ {
		r := 1 / ((delta[i] - base) - tau)
		t := z[i] * r
		a := z[i] * t
		s += a
		ds += t * t
		dds += t * t * r
		ws += (w0 + float64(i)*dw) * a
	}
	return s, ds, dds, ws
}

// SecularVector writes v_i = zh_i/((delta[i] − base) − tau) for
// i < len(delta) and returns Σ v_i²: an eigenvector of the rank-one
// problem before its normalization. zh and v have delta's length.
func SecularVector(delta, zh, v []float64, base, tau float64) (ss float64) {
	n := len(delta)
	_, _ = zh[:n], v[:n]
	full := 0
	if secularAVX512 {
		full = n &^ 7
	}
	if full > 0 {
		var acc [8]float64
		secularVectorAVX512(full, &delta[0], &zh[0], &v[0], base, tau, &acc)
		for _, a := range acc {
			ss += a
		}
	}
	for i := full; i < n; i++ {
		x := zh[i] / ((delta[i] - base) - tau)
		v[i] = x
		ss += x * x
	}
	return ss
}
