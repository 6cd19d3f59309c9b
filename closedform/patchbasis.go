package closedform

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// The masking pencils of one patch layout share a basis.
//
// On the range, the whitened masking pencil of drop probability p is
// (keep²·Λ, cross·I + (same−cross)·E), with E = Λ^{-1/2}Uᵀ(Gx∘B)UΛ^{-1/2}
// the layout's whitened same-patch Gram (Mask.pencil); only the three
// scalars depend on p. In the eigenbasis of E = W·Σ·Wᵀ (W orthogonal) the
// pencil is (keep²·K, diag(d)) with K = WᵀΛW and d = cross + (same−cross)·σ:
// its B″ is diagonal, so its standard form is a scaling,
//
//	S = keep²·D^{-1/2}·K·D^{-1/2},   S·g = μ·g,   e = W·D^{-1/2}·g,
//
// the same eigenvalues μ and B″-orthonormal eigenvectors e as the Cholesky
// reduction, with the symmetric square root of B″ in place of its Cholesky
// factor (both backward stable; d ≥ cross > 0 is as well conditioned as B″
// itself). W, K and ZW are formed once per layout; per setting the
// Cholesky factorisation, the two-sided triangular reduction and the
// triangular back-transform of SymGenEig (≈ 2.3·r³ flops, much of it in
// triangular kernels slower than GEMM) become O(r²) scalings, leaving one
// symmetric eigendecomposition with vectors. The curve needs Z·q̃ for the
// QR e = q̃·R: since W is orthogonal, e = W·(D^{-1/2}g) = (W·q̂)·R with
// D^{-1/2}g = q̂·R, so Z·q̃ = (ZW)·q̂, the QR of D^{-1/2}g against ZW, and e
// itself is formed only when an encoder is asked for.
//
// Measured on the Fashion-MNIST Figure 7 grid (r = 784, 30 settings, 27 of
// them on this route, CPU seconds per setting on the shared 2-core
// machine, November 2026): openblas SymGenEig 0.30 – 0.35 against SymEig
// 0.19 – 0.21; the QR with Dorgqr and a GEMM 0.07 – 0.08 against 0.03 –
// 0.05 for nestedTargets (gonum 0.24 against 0.04 – 0.05).

// patchBasis is what every masking pencil of one layout shares.
type patchBasis struct {
	w     blas64.General // r×r: the eigenvectors of E as columns
	sigma []float64      // E's eigenvalues, descending (≥ 0 up to rounding: Gx∘B is positive semidefinite)
	k     blas64.General // WᵀΛW, r×r
	zw    blas64.General // Z·W, C×r
}

// patchBasis returns the layout's basis, formed on first use and cached on
// the range.
func (rg *Range) patchBasis(be backend.Backend, m Mask) (*patchBasis, error) {
	key := m.key()
	rg.mu.Lock()
	pb, ok := rg.bases[key]
	rg.mu.Unlock()
	if ok {
		return pb, nil
	}
	e, err := m.patchGram(be, rg)
	if err != nil {
		return nil, err
	}
	r := rg.Rank
	sigma, err := be.SymEig(e, true) // e now holds W
	if err != nil {
		return nil, fmt.Errorf("eigendecomposition of the %d×%d whitened patch Gram: %w", r, r, err)
	}
	pb = &patchBasis{w: e, sigma: sigma, k: backend.NewGeneral(r, r), zw: backend.NewGeneral(rg.C, r)}
	lw := backend.Clone(e)
	scaleRows(lw, rg.Lambda, 1)
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, e, lw, 0, pb.k); err != nil {
		return nil, err
	}
	symmetrizeAverage(pb.k)
	if rg.C > 0 {
		if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, rg.Z, e, 0, pb.zw); err != nil {
			return nil, err
		}
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if rg.bases == nil {
		rg.bases = map[patchKey]*patchBasis{}
	}
	rg.bases[key] = pb
	return pb, nil
}

// solve solves the masking pencil: exactly for p = 0 (B″ = cross·I), else
// in the layout's patch basis.
func (m Mask) solve(be backend.Backend, rg *Range) (*pencilSolution, error) {
	if err := m.Validate(rg.D); err != nil {
		return nil, err
	}
	keep, same, cross := m.Probabilities()
	if same == cross {
		a, b, err := m.pencil(be, rg)
		if err != nil {
			return nil, err
		}
		return solveDense(be, rg, a, b)
	}
	pb, err := rg.patchBasis(be, m)
	if err != nil {
		return nil, err
	}
	r := rg.Rank
	// d_i = cross + (same−cross)·σ_i: B″'s eigenvalues. Those at rounding
	// level of the largest leave the pencil indefinite in floating point
	// (the Cholesky factorisation would fail or divide by noise).
	d := make([]float64, r)
	dmax := 0.0
	for i, s := range pb.sigma {
		d[i] = cross + (same-cross)*s
		dmax = math.Max(dmax, d[i])
	}
	for i, v := range d {
		if !(v > float64(r)*0x1p-52*dmax) {
			return nil, fmt.Errorf("%w: B″ has eigenvalue %.3g against a largest of %.3g (direction %d of the patch basis)", ErrPencilNotDefinite, v, dmax, i)
		}
		d[i] = 1 / math.Sqrt(v)
	}
	s := backend.NewGeneral(r, r)
	k2 := keep * keep
	for i := 0; i < r; i++ {
		ki := pb.k.Data[i*pb.k.Stride : i*pb.k.Stride+r]
		si := s.Data[i*r : (i+1)*r]
		for j, v := range ki {
			si[j] = k2 * d[i] * v * d[j]
		}
	}
	values, err := be.SymEig(s, true) // s now holds g
	if err != nil {
		return nil, err
	}
	h := s // D^{-1/2}·g
	for i := 0; i < r; i++ {
		row := h.Data[i*r : (i+1)*r]
		for j := range row {
			row[j] *= d[i]
		}
	}
	yq, err := nestedTargets(be, h, pb.zw)
	if err != nil {
		return nil, err
	}
	whitened := func(be backend.Backend, k int) (blas64.General, error) {
		e := backend.NewGeneral(r, k)
		if k > 0 {
			lead := blas64.General{Rows: r, Cols: k, Stride: h.Stride, Data: h.Data}
			if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, pb.w, lead, 0, e); err != nil {
				return blas64.General{}, err
			}
		}
		return e, nil
	}
	return &pencilSolution{route: PencilPatchBasis, values: values, yq: yq, whitened: whitened}, nil
}
