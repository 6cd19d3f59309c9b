package rsvd

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// OnePass computes the K leading eigenpairs of A = XᵀX (centered when
// opt.Center) from a single pass over the data, by the Nyström approximation
// Â = Z(ΩᵀZ)⁺Zᵀ of the sketch Z = A·Ω (Ω orthonormal D×(K+p)), computed
// stably as in Tropp, Yurtsever, Udell & Cevher (2017, Alg. 3): shift by a
// tiny ν, Cholesky of Ωᵀ(Z+νΩ), and an SVD of the triangular-solved sketch.
// PowerIters is ignored. The same pass applies A to 10 independent Gaussian
// probes, which bound ‖A − Â‖ a posteriori; since 0 ⪯ A − Â (up to ν),
// every eigenvalue error is at most that. With labels, the pass also keeps
// YᵀX (C×D) to form LabelProj; set NoLabels to save that memory.
func OnePass(be backend.Backend, src data.Source, opt Options) (*Result, error) {
	s, err := newStreamer(be, src, opt.ChunkRows, opt.Center, !opt.NoLabels)
	if err != nil {
		return nil, err
	}
	d := s.meta.D
	l, err := opt.check(d)
	if err != nil {
		return nil, err
	}
	if opt.Begin != nil {
		opt.Begin("nystrom", 1)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed0f5ce7c8))
	omega := gaussianMatrix(rng, d, l)
	if _, err := be.QR(omega); err != nil {
		return nil, err
	}
	r := probes
	right := backend.NewGeneral(d, l+r)
	copyInto(right, omega)
	copyInto(sub(right, 0, d, l, l+r), gaussianMatrix(rng, d, r))
	pr, err := s.pass(right, s.labels != noLabels)
	if err != nil {
		return nil, err
	}
	if opt.Progress != nil {
		opt.Progress(1, 1)
	}
	z := backend.Clone(sub(pr.AR, 0, d, 0, l))

	u, lam, err := nystrom(be, omega, z)
	if err != nil {
		return nil, err
	}
	k := opt.K
	res := &Result{Method: "nystrom", Passes: 1, SketchDim: l, N: s.n, Trace: pr.trace, Center: opt.Center}
	if opt.Center {
		res.Mean = s.mean
	}
	res.Vectors = backend.Clone(sub(u, 0, d, 0, k))
	res.Values = append([]float64(nil), lam[:k]...)
	res.Singular = make([]float64, k)
	for j, v := range res.Values {
		res.Singular[j] = math.Sqrt(v)
	}

	// ‖A − Â‖ ≤ probeFactor·max_i ‖(A − Â)ψ_i‖ (probabilistic), and
	// ≤ tr(A − Â) = tr A − Σλ̂ (deterministic, as A − Â ⪰ 0).
	var sumLam float64
	for _, v := range lam {
		sumLam += v
	}
	errBound := math.Max(pr.trace-sumLam, 0)
	apsi := backend.Clone(sub(pr.AR, 0, d, l, l+r)) // A·Ψ
	psi := backend.Clone(sub(right, 0, d, l, l+r))
	ut := backend.NewGeneral(l, r) // UᵀΨ, then Λ·UᵀΨ
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, u, psi, 0, ut); err != nil {
		return nil, err
	}
	for i := 0; i < l; i++ {
		for j := 0; j < r; j++ {
			ut.Data[i*r+j] *= lam[i]
		}
	}
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, -1, u, ut, 1, apsi); err != nil {
		return nil, err
	}
	errBound = math.Min(errBound, probeFactor*maxColumnNorm(apsi))
	// E‖(A−Â)ψ‖² = ‖A−Â‖_F² for Gaussian ψ: the root mean square over the
	// probes estimates ‖A−Â‖_F ≥ ‖A−Â‖₂, which bounds every eigenvalue error.
	errEst := math.Min(errBound, rmsColumnNorm(apsi))
	res.TailNorm = errBound
	res.ValueBounds = make([]float64, k)
	res.ValueErrors = make([]float64, k)
	for j := range res.ValueBounds {
		res.ValueBounds[j] = errBound
		res.ValueErrors[j] = errEst
	}
	addRoundoff(res, d)

	if s.labels != noLabels {
		if res.LabelProj, err = labelProjection(be, pr.M, res.Vectors); err != nil {
			return nil, err
		}
		res.LabelGram = pr.YY
	}
	return res, nil
}

// nystrom returns the eigenvectors (D×l, columns) and eigenvalues
// (descending, ≥ 0) of the Nyström approximation Z(ΩᵀZ)⁺Zᵀ for Z = AΩ with
// orthonormal Ω. The shift ν keeps ΩᵀZ_ν positive definite in floating
// point; it is removed from the eigenvalues at the end.
func nystrom(be backend.Backend, omega, z blas64.General) (blas64.General, []float64, error) {
	d, l := z.Rows, z.Cols
	var fro float64
	for _, v := range z.Data {
		fro += v * v
	}
	fro = math.Sqrt(fro)
	if fro == 0 {
		// A vanishes on the sketch: all of A is zero (Ω is generic).
		u := backend.Clone(omega)
		return u, make([]float64, l), nil
	}
	nu := math.Sqrt(float64(d)) * 0x1p-52 * fro
	for attempt := 0; ; attempt++ {
		zn := backend.Clone(z)
		for i := range zn.Data {
			zn.Data[i] += nu * omega.Data[i]
		}
		b := backend.NewGeneral(l, l)
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, omega, zn, 0, b); err != nil {
			return blas64.General{}, nil, err
		}
		symmetrizeAverage(b)
		err := be.Cholesky(b) // b = CᵀC, C upper
		if err != nil {
			if attempt < 8 {
				nu *= 100 // rounding left ΩᵀZ_ν indefinite: shift further
				continue
			}
			return blas64.General{}, nil, fmt.Errorf("rsvd: Nyström core Ωᵀ(AΩ+νI) is not positive definite even with ν = %g: %w", nu, err)
		}
		// E = Z_ν·C⁻¹, computed as Eᵀ = C⁻ᵀ·Z_νᵀ.
		et := transpose(zn)
		if err := be.TriSolve(blas.Upper, blas.Trans, b, et); err != nil {
			return blas64.General{}, nil, err
		}
		e := transpose(et)
		// E = Q_E·R_E and R_E·R_Eᵀ = W·Σ²·Wᵀ give E's left singular vectors
		// Q_E·W without dividing by small singular values.
		re, err := be.QR(e) // e now holds Q_E
		if err != nil {
			return blas64.General{}, nil, err
		}
		rr := backend.NewGeneral(l, l)
		if err := be.Gemm(blas.NoTrans, blas.Trans, 1, re, re, 0, rr); err != nil {
			return blas64.General{}, nil, err
		}
		sig2, err := be.SymEig(rr, true) // rr now holds W
		if err != nil {
			return blas64.General{}, nil, err
		}
		u := backend.NewGeneral(d, l)
		if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, e, rr, 0, u); err != nil {
			return blas64.General{}, nil, err
		}
		lam := make([]float64, l)
		for i, s2 := range sig2 {
			lam[i] = math.Max(s2-nu, 0)
		}
		return u, lam, nil
	}
}

func transpose(a blas64.General) blas64.General {
	out := backend.NewGeneral(a.Cols, a.Rows)
	for i := 0; i < a.Rows; i++ {
		for j, v := range a.Data[i*a.Stride : i*a.Stride+a.Cols] {
			out.Data[j*out.Stride+i] = v
		}
	}
	return out
}

func rmsColumnNorm(a blas64.General) float64 {
	var s float64
	for i := 0; i < a.Rows; i++ {
		for _, v := range a.Data[i*a.Stride : i*a.Stride+a.Cols] {
			s += v * v
		}
	}
	return math.Sqrt(s / float64(max(a.Cols, 1)))
}
