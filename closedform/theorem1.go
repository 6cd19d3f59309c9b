package closedform

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// Supervised is the optimum of Theorem 1 for one λ:
// min over V (D×K), W (K×C), Z (K×D) of ‖XVW − Y‖² + λ‖XVZ − X‖²
// (X centred when the Range is; Y as given, no intercept).
type Supervised struct {
	Lambda float64 `json:"lambda"`
	K      int     `json:"k"`
	// Loss = Supervised + λ·Reconstruction = tr Gy + λ·tr Gx − Σ Eigenvalues.
	Loss           float64 `json:"loss"`
	Supervised     float64 `json:"supervised"`     // ‖XV*W* − Y‖²
	Reconstruction float64 `json:"reconstruction"` // ‖XV*Z* − X‖² (not multiplied by λ)
	// Eigenvalues are the top K generalized eigenvalues of
	// (MᵀM + λ·Gx·Gx, Gx), descending.
	Eigenvalues []float64 `json:"eigenvalues"`
	// V* (D×K) with V*ᵀ·Gx·V* = I, W* = V*ᵀMᵀ (K×C) and Z* = V*ᵀGx (K×D).
	V blas64.General `json:"-"`
	W blas64.General `json:"-"`
	Z blas64.General `json:"-"`
}

// SolveSupervised computes Theorem 1's optimum on the range. In whitened
// coordinates the pencil (MᵀM + λGx², Gx) becomes the standard symmetric
// problem ZᵀZ + λΛ (Z the Range's C×r targets matrix), whose eigenvectors e
// give V = UΛ^{-1/2}e, W = eᵀZᵀ and Z* = eᵀΛ^{1/2}Uᵀ; solving it directly
// avoids a Cholesky factor of Gx, which would square its condition number.
// vectors false skips forming V, W and Z (the losses need none of them).
//
// At λ = 0 only rank(M) ≤ C directions reduce the loss; when K is larger
// the rest are chosen as the limit λ → 0⁺ chooses them, the leading
// principal directions within the null space of MᵀM, so that V*, Z* and the
// reconstruction part are defined and the same on every backend and route.
func SolveSupervised(be backend.Backend, rg *Range, k int, lambda float64, vectors bool) (*Supervised, error) {
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("theorem 1: λ = %g, want a finite λ ≥ 0", lambda)
	}
	if k < 1 || k > rg.Rank {
		return nil, fmt.Errorf("theorem 1: K = %d outside [1, %d]: the data have numerical rank %d", k, rg.Rank, rg.Rank)
	}
	r, c := rg.Rank, rg.C
	h := backend.NewGeneral(r, r)
	if c > 0 {
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, rg.Z, rg.Z, 0, h); err != nil {
			return nil, err
		}
	}
	for i, l := range rg.Lambda {
		h.Data[i*r+i] += lambda * l
	}
	var vals []float64
	var e blas64.General
	var err error
	if lambda == 0 {
		vals, e, err = limitAtZero(be, h, rg.Lambda, k)
	} else {
		vals, e, err = be.SymEigTop(h, k)
	}
	if err != nil {
		return nil, fmt.Errorf("theorem 1: %w", err)
	}
	trGy := 0.0
	for i := 0; i < c; i++ {
		trGy += rg.Gy.Data[i*rg.Gy.Stride+i]
	}
	// The two parts, from the eigenvectors: ‖Z e‖_F² is what the
	// supervised head recovers, Σ eᵀΛe what the reconstruction recovers.
	ze := backend.NewGeneral(c, k)
	if c > 0 {
		if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, rg.Z, e, 0, ze); err != nil {
			return nil, err
		}
	}
	sup := 0.0
	for _, v := range ze.Data {
		sup += v * v
	}
	rec := 0.0
	for i, l := range rg.Lambda {
		for _, v := range e.Data[i*k : (i+1)*k] {
			rec += l * v * v
		}
	}
	s := &Supervised{Lambda: lambda, K: k, Eigenvalues: vals,
		Supervised: trGy - sup, Reconstruction: rg.TraceGx - rec}
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	s.Loss = trGy + lambda*rg.TraceGx - sum
	if !vectors {
		return s, nil
	}
	u, err := rg.vectors("Theorem 1's V* and Z*")
	if err != nil {
		return nil, err
	}
	if s.V, err = rg.Encoder(be, e); err != nil {
		return nil, err
	}
	s.W = backend.NewGeneral(k, c)
	for i := 0; i < k; i++ {
		for j := 0; j < c; j++ {
			s.W.Data[i*c+j] = ze.Data[j*k+i]
		}
	}
	es := backend.Clone(e)
	scaleRows(es, rg.Lambda, 0.5)
	s.Z = backend.NewGeneral(k, rg.D)
	if err := be.Gemm(blas.Trans, blas.Trans, 1, es, u, 0, s.Z); err != nil {
		return nil, err
	}
	return s, nil
}

// limitAtZero returns the top k eigenpairs of h = ZᵀZ, completing them
// beyond h's numerical rank s with the leading eigenvectors of Λ restricted
// to h's null space (the λ → 0⁺ limit of ZᵀZ + λΛ).
func limitAtZero(be backend.Backend, h blas64.General, lambda []float64, k int) ([]float64, blas64.General, error) {
	r := h.Rows
	vals, err := be.SymEig(h, true) // h now holds the eigenvectors
	if err != nil {
		return nil, blas64.General{}, err
	}
	s := 0
	for s < r && vals[s] > 1e-12*math.Max(vals[0], 0) {
		s++
	}
	if k <= s {
		return vals[:k], backend.Columns(h, k), nil
	}
	// N spans the null space; the leading eigenvectors of NᵀΛN complete.
	nul := backend.NewGeneral(r, r-s)
	for i := 0; i < r; i++ {
		copy(nul.Data[i*(r-s):(i+1)*(r-s)], h.Data[i*h.Stride+s:i*h.Stride+r])
	}
	ln := backend.Clone(nul)
	scaleRows(ln, lambda, 1)
	g := backend.NewGeneral(r-s, r-s)
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, nul, ln, 0, g); err != nil {
		return nil, blas64.General{}, err
	}
	symmetrizeAverage(g)
	_, top, err := be.SymEigTop(g, k-s)
	if err != nil {
		return nil, blas64.General{}, err
	}
	e := backend.NewGeneral(r, k)
	for i := 0; i < r; i++ {
		copy(e.Data[i*k:i*k+s], h.Data[i*h.Stride:i*h.Stride+s])
	}
	extra := backend.NewGeneral(r, k-s)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, nul, top, 0, extra); err != nil {
		return nil, blas64.General{}, err
	}
	for i := 0; i < r; i++ {
		copy(e.Data[i*k+s:(i+1)*k], extra.Data[i*(k-s):(i+1)*(k-s)])
	}
	out := append([]float64(nil), vals[:s]...)
	for j := s; j < k; j++ {
		out = append(out, 0) // the pencil's eigenvalue on the null space
	}
	return out, e, nil
}
