package rsvd

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Options control TopK and OnePass.
type Options struct {
	K          int  // eigenpairs wanted, 1 ≤ K ≤ D
	Oversample int  // extra sketch columns p ≥ 0; the sketch has min(K+p, D) columns (HMT suggest 5–10)
	PowerIters int  // q ≥ 0 power iterations (TopK only): each costs one pass and sharpens slow decay
	Center     bool // work with the centered Gram (X−1μᵀ)ᵀ(X−1μᵀ)
	Seed       uint64
	ChunkRows  int // rows per chunk; 0 picks a chunk of about 32 MiB of float64
	// Progress, when set, is called after each completed pass over the data.
	Progress func(pass, passes int)
	// Begin, when set, is called once the method (Result.Method) and the
	// number of passes over the data are known, before the first pass.
	Begin func(method string, passes int)
	// Stream forces one pass over the data per application of XᵀX. Without
	// it, TopK forms the D×D Gram in one pass instead when that is cheaper
	// (D < 4·passes·(K+p) and the Gram fits in 1 GiB).
	Stream bool
	// NoLabels skips LabelProj and LabelGram even when the source has
	// labels (OnePass otherwise keeps the C×D matrix YᵀX in memory).
	NoLabels bool
}

// DefaultOptions are HMT's usual choices: oversampling 10, two power
// iterations, centered.
func DefaultOptions(k int) Options {
	return Options{K: k, Oversample: 10, PowerIters: 2, Center: true, Seed: 1}
}

// Result is a top-K eigendecomposition of the (centered) Gram A = XᵀX.
type Result struct {
	Method   string         // "subspace-iteration" (TopK) or "nystrom" (OnePass)
	Values   []float64      // the K largest eigenvalues of A, descending (Ritz values: each ≤ the true one)
	Singular []float64      // √Values: the singular values of X (or of the centered X)
	Vectors  blas64.General // D×K, orthonormal columns, in the order of Values

	// Residuals[j] = ‖A·v_j − Values[j]·v_j‖, exact (TopK only; nil for OnePass).
	Residuals []float64
	// ValueBounds[j] bounds the error of Values[j]: the true j-th eigenvalue
	// lies in [Values[j], Values[j]+ValueBounds[j]] (up to rounding), with
	// probability ≥ 1 − 4⁻¹⁰ over the random probes (see the package doc).
	// ErrorBound = max_j ValueBounds[j]/Values[j] (over the first Rank
	// values; the others are numerically zero).
	ValueBounds []float64
	ErrorBound  float64
	// ValueErrors[j] estimates the error λ_j − Values[j] itself (first-order
	// perturbation theory; typically within a small factor of the truth, but
	// not guaranteed), and ErrorEstimate = max_j ValueErrors[j]/Values[j].
	ValueErrors   []float64
	ErrorEstimate float64
	// TailNorm estimates from above ‖(I−QQᵀ)A(I−QQᵀ)‖ (TopK) or ‖A−Â‖
	// (OnePass): what the sketch missed.
	TailNorm float64

	// Rank is the number of Values above engine.DefaultRTol·Values[0]
	// (engine.NumericalRank): with K beyond the data's numerical rank the
	// rest are rounding, not eigenvalues.
	Rank int

	Passes    int // passes over the data
	SketchDim int // K + Oversample, capped at D
	N         int
	Trace     float64   // tr(A): the total (centered) sum of squares
	Center    bool      // whether A is centered
	Mean      []float64 // the column means μ when centered, else nil

	// Label side, when the source has labels (one-hot Y, N×C) or dense
	// targets (Y = targets) and NoLabels is not set; Y is centered like X.
	// LabelProj = Yᵀ·X·V (C×K), so that Yᵀq_j = LabelProj[:, j]/√Values[j]
	// for the unit sample-space direction q_j = X·v_j/√λ_j. LabelGram = YᵀY.
	LabelProj blas64.General
	LabelGram blas64.General

	// Backend is the backend that computed it (set by Run).
	Backend backend.Info
}

// probes is the number of Gaussian test vectors behind the a-posteriori
// norm estimates, and probeFactor the HMT (Lemma 4.1) factor α√(2/π) with
// α = 4: ‖M‖ ≤ probeFactor·max_i ‖M·ω_i‖ fails with probability ≤ α^−probes.
const (
	probes      = 10
	probeFactor = 4 * 0.7978845608028654
)

func (o Options) check(d int) (int, error) {
	bad := func(option string, value int, want string) (int, error) {
		return 0, fmt.Errorf("rsvd: %w", &engine.OptionError{Option: option, Value: value, Want: want})
	}
	switch {
	case o.K < 1:
		return bad("K", o.K, "at least 1 eigenpair")
	case o.K > d:
		return bad("K", o.K, fmt.Sprintf("at most the dimension D = %d", d))
	case o.Oversample < 0:
		return bad("Oversample", o.Oversample, "≥ 0")
	case o.PowerIters < 0:
		return bad("PowerIters", o.PowerIters, "≥ 0")
	case o.ChunkRows < 0:
		return bad("ChunkRows", o.ChunkRows, "≥ 1, or 0 for automatic")
	}
	return min(o.K+o.Oversample, d), nil
}

// TopK computes the K leading eigenpairs of A = XᵀX (centered when
// opt.Center) by randomized subspace iteration on the D×D PSD matrix A
// (Halko, Martinsson & Tropp 2011, Alg. 4.4 with Rayleigh–Ritz): a Gaussian
// sketch Z = A·Ω, then q times Q = qr(Z), Z = A·Q, and a last pass for
// B = QᵀAQ, whose eigenpairs give V = Q·U. That is q+2 passes; each applies A
// to a D×(K+p) matrix as Σ_chunks X_cᵀ(X_c·R), so memory is O((D+C)(K+p))
// plus one chunk, whatever N is. The last pass also yields the exact
// residuals, label projections, and probes of what Q missed.
func TopK(be backend.Backend, src data.Source, opt Options) (*Result, error) {
	s, err := newStreamer(be, src, opt.ChunkRows, opt.Center, !opt.NoLabels)
	if err != nil {
		return nil, err
	}
	d := s.meta.D
	l, err := opt.check(d)
	if err != nil {
		return nil, err
	}
	passes := opt.PowerIters + 2
	exactU8 := false
	if e, ok := be.(backend.ExactU8Gram); ok {
		exactU8 = e.ExactU8Gram() && s.meta.DType == backend.U8
	}
	gram := !opt.Stream && useGram(d, l, passes, exactU8)
	method, dataPasses := "subspace-iteration", passes
	if gram {
		method, dataPasses = "subspace-iteration (explicit Gram)", 1
	}
	if opt.Begin != nil {
		opt.Begin(method, dataPasses)
	}
	progress := func(p int) {
		if opt.Progress != nil && !gram {
			opt.Progress(p, passes)
		}
	}
	if gram {
		// Cheaper to form XᵀX once and iterate in memory; same algorithm,
		// same bounds (A is exact either way), one pass over the data.
		if err := s.formGram(); err != nil {
			return nil, err
		}
		if opt.Progress != nil {
			opt.Progress(1, 1)
		}
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed0f5ce7c8))
	omega := gaussianMatrix(rng, d, l)
	pr, err := s.pass(omega, false)
	if err != nil {
		return nil, err
	}
	progress(1)
	q := pr.AR
	for it := 0; it < opt.PowerIters; it++ {
		if _, err := be.QR(q); err != nil {
			return nil, err
		}
		if pr, err = s.pass(q, false); err != nil {
			return nil, err
		}
		q = pr.AR
		progress(2 + it)
	}
	if _, err := be.QR(q); err != nil {
		return nil, err
	}

	// Last pass: A applied to [Q | G], G = (I−QQᵀ)Ψ for Gaussian Ψ.
	r := 0
	if l < d {
		r = probes
	}
	qg := backend.NewGeneral(d, l+r)
	for i := 0; i < d; i++ {
		copy(qg.Data[i*qg.Stride:i*qg.Stride+l], q.Data[i*q.Stride:i*q.Stride+l])
	}
	if r > 0 {
		psi := gaussianMatrix(rng, d, r)
		if err := projectOut(be, q, psi); err != nil {
			return nil, err
		}
		copyInto(sub(qg, 0, d, l, l+r), psi)
	}
	pr, err = s.pass(qg, false)
	if err != nil {
		return nil, err
	}
	progress(passes)
	// Backends get compact matrices: strided views are a gonum nicety that
	// a device implementation need not support.
	w := backend.Clone(sub(pr.AR, 0, d, 0, l)) // A·Q

	// Rayleigh–Ritz: B = QᵀAQ (symmetrised against rounding), B = U·Θ·Uᵀ.
	b := backend.NewGeneral(l, l)
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, q, w, 0, b); err != nil {
		return nil, err
	}
	symmetrizeAverage(b)
	trB := 0.0
	for i := 0; i < l; i++ {
		trB += b.Data[i*b.Stride+i]
	}
	bCopy := backend.Clone(b)
	theta, err := be.SymEig(b, true) // b now holds U
	if err != nil {
		return nil, fmt.Errorf("rsvd: eigendecomposition of the %d×%d Rayleigh quotient: %w", l, l, err)
	}
	k := opt.K
	uk := backend.Clone(sub(b, 0, l, 0, k))
	res := &Result{Method: method, Passes: dataPasses, SketchDim: l, N: s.n, Trace: pr.trace, Center: opt.Center}
	if opt.Center {
		res.Mean = s.mean
	}
	res.Vectors = backend.NewGeneral(d, k)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, q, uk, 0, res.Vectors); err != nil {
		return nil, err
	}
	res.Values = make([]float64, k)
	res.Singular = make([]float64, k)
	for j := 0; j < k; j++ {
		res.Values[j] = math.Max(theta[j], 0)
		res.Singular[j] = math.Sqrt(res.Values[j])
	}

	// Residuals of all l Ritz pairs: A·Qu_j − θ_j·Qu_j = W·u_j − θ_j·Q·u_j.
	qu := backend.NewGeneral(d, l)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, q, b, 0, qu); err != nil {
		return nil, err
	}
	wu := backend.NewGeneral(d, l)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, w, b, 0, wu); err != nil {
		return nil, err
	}
	resid := make([]float64, l)
	for i := 0; i < d; i++ {
		for j := 0; j < l; j++ {
			e := wu.Data[i*l+j] - theta[j]*qu.Data[i*l+j]
			resid[j] += e * e
		}
	}
	for j := range resid {
		resid[j] = math.Sqrt(resid[j])
	}
	res.Residuals = resid[:k:k]

	// ρ = ‖(I−QQᵀ)AQ‖ = ‖W − Q·B‖, the coupling between span Q and the rest.
	cpl := backend.Clone(w)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, -1, q, bCopy, 1, cpl); err != nil {
		return nil, err
	}
	rho, err := spectralNorm(be, cpl)
	if err != nil {
		return nil, err
	}
	// δ ≥ ‖(I−QQᵀ)A(I−QQᵀ)‖: the smaller of its trace (exact, as A is PSD)
	// and the probe estimate.
	delta := 0.0
	if r > 0 {
		delta = math.Max(pr.trace-trB, 0)
		h := backend.Clone(sub(pr.AR, 0, d, l, l+r))
		if err := projectOut(be, q, h); err != nil {
			return nil, err
		}
		delta = math.Min(delta, probeFactor*maxColumnNorm(h))
	}
	res.TailNorm = delta
	res.ValueBounds = ritzBounds(theta[:l], resid, rho, delta, k)
	res.ValueErrors = ritzEstimates(theta[:l], resid, res.ValueBounds)
	addRoundoff(res, d)

	if s.labels != noLabels {
		// YᵀX_cV = (YᵀX_cQ)·U_K; YᵀX_cQ came with the last pass.
		if res.LabelProj, err = labelProjection(be, backend.Clone(sub(pr.YR, 0, s.c, 0, l)), uk); err != nil {
			return nil, err
		}
		res.LabelGram = pr.YY
	}
	return res, nil
}

// ritzBounds bounds λ_j(A) − θ_j for the first k Ritz values θ (all l of
// them given, descending) of B = QᵀAQ, from the residual norms r_i of the l
// Ritz pairs, ρ = ‖(I−QQᵀ)AQ‖ and δ ≥ λ_max of A compressed to span(Q)⊥.
// θ_j ≤ λ_j always (Cauchy interlacing), so the result brackets λ_j.
//
// For each split m ≥ j, write A in the basis [V_m, rest] (V_m the first m
// Ritz vectors) as [[Θ_m, Eᵀ], [E, M]] with ‖E‖ = ‖R_m‖ ≤ (Σ_{i≤m} r_i²)^½
// and λ_max(M) ≤ τ_m (below). When θ_j > τ_m, θ_j is the j-th eigenvalue of
// diag(Θ_m, M), at distance η ≥ θ_j − τ_m from the spectrum of M, and the
// quadratic residual bound of Li & Li (2005) gives |λ_j − θ_j| ≤
// 2‖E‖²/(η + √(η² + 4‖E‖²)); otherwise Weyl's theorem gives
// ‖E‖ + max(θ_j, τ_m) − θ_j. The best split is kept: within a cluster of
// close Ritz values the split after the cluster sees the gap to the next.
//
// M is itself [[Θ_rest, Fᵀ], [F, T]] (the other Ritz pairs and span(Q)⊥),
// ‖F‖ ≤ (Σ_{m<i≤l} r_i²)^½ and λ_max(T) ≤ δ, so the same two bounds give τ_m.
func ritzBounds(theta, resid []float64, rho, delta float64, k int) []float64 {
	l := len(theta)
	quad := func(e, eta float64) float64 { // Li & Li, for gap eta > 0
		if e == 0 {
			return 0
		}
		return 2 * e * e / (eta + math.Sqrt(eta*eta+4*e*e))
	}
	// above[m] = Σ_{i<m} r_i², below[m] = Σ_{m≤i<l} r_i².
	above := make([]float64, l+1)
	for i := 0; i < l; i++ {
		above[i+1] = above[i] + resid[i]*resid[i]
	}
	tau := make([]float64, l+1) // tau[m] for the split after m Ritz pairs
	for m := 1; m <= l; m++ {
		if m == l {
			tau[m] = delta
			continue
		}
		f := math.Sqrt(math.Max(above[l]-above[m], 0))
		next := theta[m]
		if next > delta {
			tau[m] = next + quad(f, next-delta)
		} else {
			tau[m] = math.Max(next, delta) + f
		}
	}
	out := make([]float64, k)
	for j := 0; j < k; j++ {
		th := math.Max(theta[j], 0)
		best := math.Inf(1)
		for m := j + 1; m <= l; m++ {
			e := math.Sqrt(above[m])
			if m == l {
				e = math.Min(e, rho)
			}
			var b float64
			if th > tau[m] {
				b = quad(e, th-tau[m])
			} else {
				b = e + math.Max(th, tau[m]) - th
			}
			best = math.Min(best, b)
		}
		out[j] = best
	}
	return out
}

// ritzEstimates estimates λ_j − θ_j as 2‖r_j‖²/(θ_j − θ_l): a Ritz vector
// v_j = Σ c_i e_i is contaminated mostly by eigenvectors e_i outside the
// sketch, whose eigenvalues lie near or below the smallest Ritz value θ_l,
// and then λ_j − θ_j = Σ (λ_j − λ_i)c_i² while ‖r_j‖² = Σ (λ_i − θ_j)²c_i².
// The factor 2 is a safety margin: in tests the plain ratio came within
// 0.8–1.5× of the true error, so the estimate errs on the high side.
// The last Ritz value has no such gap (no oversampling): it gets its
// rigorous bound instead, as its error may well exceed its residual.
func ritzEstimates(theta, resid, bounds []float64) []float64 {
	l := len(theta)
	out := make([]float64, len(bounds))
	for j := range out {
		r := resid[j]
		out[j] = bounds[j]
		if gap := theta[j] - math.Max(theta[l-1], 0); j < l-1 && gap > 0 {
			out[j] = math.Min(bounds[j], math.Min(r, 2*r*r/gap))
		}
	}
	return out
}

// addRoundoff widens the error bars by the rounding error of the
// eigenvalues, about ε·λ_1·(√D + √N): the sums over N rows and the D-long
// inner products of the Rayleigh quotient each carry it, and no bound in
// exact arithmetic can see below it (it dominates for uncentered data far
// from the origin, where λ_1 dwarfs the rest). It then sets the relative
// summaries ErrorBound and ErrorEstimate.
func addRoundoff(res *Result, d int) {
	if len(res.Values) > 0 {
		round := 0x1p-52 * res.Values[0] * (math.Sqrt(float64(d)) + math.Sqrt(float64(res.N)))
		for j := range res.ValueBounds {
			res.ValueBounds[j] += round
			res.ValueErrors[j] = math.Max(res.ValueErrors[j], round)
		}
	}
	res.ErrorBound = relativeError(res.Values, res.ValueBounds)
	res.ErrorEstimate = relativeError(res.Values, res.ValueErrors)
	res.Rank = engine.NumericalRank(res.Values, engine.DefaultRTol, len(res.Values))
}

// relativeError is max_j errs[j]/values[j] over the eigenvalues in the
// numerical range (engine.NumericalRank); the others are numerically zero
// (K beyond the rank of the data) and have no meaningful relative error.
func relativeError(values, errs []float64) float64 {
	worst := 0.0
	for j := range engine.NumericalRank(values, engine.DefaultRTol, len(values)) {
		worst = math.Max(worst, errs[j]/values[j])
	}
	return worst
}

func labelProjection(be backend.Backend, yq, u blas64.General) (blas64.General, error) {
	out := backend.NewGeneral(yq.Rows, u.Cols)
	if yq.Rows == 0 {
		return out, nil
	}
	err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, yq, u, 0, out)
	return out, err
}

// projectOut replaces g by (I − QQᵀ)·g, twice over: one Gram–Schmidt sweep
// leaves rounding errors of the size of ‖QᵀG‖·ε, the second removes them.
func projectOut(be backend.Backend, q, g blas64.General) error {
	c := backend.NewGeneral(q.Cols, g.Cols)
	for range 2 {
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, q, g, 0, c); err != nil {
			return err
		}
		if err := be.Gemm(blas.NoTrans, blas.NoTrans, -1, q, c, 1, g); err != nil {
			return err
		}
	}
	return nil
}

// spectralNorm is ‖a‖₂ = √λ_max(aᵀa).
func spectralNorm(be backend.Backend, a blas64.General) (float64, error) {
	g := backend.NewGeneral(a.Cols, a.Cols)
	if a.Cols == 0 {
		return 0, nil
	}
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, a, a, 0, g); err != nil {
		return 0, err
	}
	w, err := be.SymEig(g, false)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(math.Max(w[0], 0)), nil
}

func maxColumnNorm(a blas64.General) float64 {
	norms := make([]float64, a.Cols)
	for i := 0; i < a.Rows; i++ {
		for j, v := range a.Data[i*a.Stride : i*a.Stride+a.Cols] {
			norms[j] += v * v
		}
	}
	worst := 0.0
	for _, v := range norms {
		worst = math.Max(worst, v)
	}
	return math.Sqrt(worst)
}

func gaussianMatrix(rng *rand.Rand, r, c int) blas64.General {
	m := backend.NewGeneral(r, c)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

func sub(a blas64.General, r0, r1, c0, c1 int) blas64.General {
	if r1 == r0 || c1 == c0 {
		return blas64.General{Rows: r1 - r0, Cols: c1 - c0, Stride: max(a.Stride, 1)}
	}
	return blas64.General{Rows: r1 - r0, Cols: c1 - c0, Stride: a.Stride, Data: a.Data[r0*a.Stride+c0 : (r1-1)*a.Stride+c1]}
}

func copyInto(dst, src blas64.General) {
	for i := 0; i < src.Rows; i++ {
		copy(dst.Data[i*dst.Stride:i*dst.Stride+src.Cols], src.Data[i*src.Stride:i*src.Stride+src.Cols])
	}
}

func symmetrizeAverage(a blas64.General) {
	for i := 0; i < a.Rows; i++ {
		for j := i + 1; j < a.Cols; j++ {
			v := (a.Data[i*a.Stride+j] + a.Data[j*a.Stride+i]) / 2
			a.Data[i*a.Stride+j], a.Data[j*a.Stride+i] = v, v
		}
	}
}
