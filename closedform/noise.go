package closedform

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// NoiseSpec describes one noise setting for reports and JSON.
type NoiseSpec struct {
	Kind string `json:"noise"` // mask, mask-fixed, gaussian, or a Monte Carlo noise's name
	// P is the drop probability of masking noises.
	P *float64 `json:"p,omitempty"`
	// Patch is the patch height and width of masking noises.
	Patch []int `json:"patch,omitempty"`
	// Kept is the number of patches kept by mask-fixed, of Patches.
	Kept    int      `json:"kept,omitempty"`
	Patches int      `json:"patches,omitempty"`
	Sigma   *float64 `json:"sigma,omitempty"`
	// Params holds the settings of other noises (Monte Carlo ones).
	Params map[string]float64 `json:"params,omitempty"`
	// MonteCarlo is set when the moments were estimated by sampling.
	MonteCarlo *MonteCarloInfo `json:"monte_carlo,omitempty"`
}

// MonteCarloInfo records how Monte Carlo moments were sampled.
type MonteCarloInfo struct {
	Draws   int    `json:"draws"`   // corrupted copies per sample
	Batches int    `json:"batches"` // batch means for the standard errors
	Seed    uint64 `json:"seed"`
	// RelStdErrG and RelStdErrP are ‖SE‖_F/‖estimate‖_F of G and P.
	RelStdErrG float64 `json:"rel_stderr_g"`
	RelStdErrP float64 `json:"rel_stderr_p"`
}

// Noise is a noise model whose denoising pencil can be formed on a Range.
// The closed-form models (Mask, Gaussian) and Monte Carlo or user-given
// moments (*SecondMoments) implement it; other noises enter as a
// MonteCarlo sampler (EstimateMoments) or as their own SecondMoments.
//
// The whitened pencil on the range is (A″, B″) with
// A″ = Λ^{-1/2}Uᵀ P Pᵀ U Λ^{-1/2} and B″ = Λ^{-1/2}Uᵀ G U Λ^{-1/2}.
type Noise interface {
	Spec() NoiseSpec
	// solve solves the whitened pencil and gives what the curve needs.
	solve(be backend.Backend, rg *Range) (*pencilSolution, error)
	// needsVectors says whether the pencil reads the range's
	// eigenvectors U (RangeOptions.Vectors).
	needsVectors() bool
}

// SecondMoments are a noise's moments in D×D form: P = E[X']ᵀX and
// G = E[X'ᵀX'] (sums over samples). When Scale is non-zero, E[x'] = Scale·x
// and P = Scale·Gx is not stored.
type SecondMoments struct {
	N int
	// Centered says whether X (and X') were centred with the clean mean;
	// it must match the Range the pencil is formed on.
	Centered bool
	Scale    float64
	P, G     blas64.General
	// PStdErr and GStdErr are entrywise standard errors of Monte Carlo
	// estimates (empty for closed forms).
	PStdErr, GStdErr blas64.General
	// Batch estimates of P and G, kept for standard errors of functions of
	// them (each is an unbiased estimate on its own share of the draws).
	BatchP, BatchG []blas64.General
	Info           NoiseSpec
}

func (m *SecondMoments) Spec() NoiseSpec { return m.Info }

func (m *SecondMoments) needsVectors() bool { return true }

func (m *SecondMoments) solve(be backend.Backend, rg *Range) (*pencilSolution, error) {
	a, b, err := m.pencil(be, rg)
	if err != nil {
		return nil, err
	}
	return solveDense(be, rg, a, b)
}

func (m *SecondMoments) pencil(be backend.Backend, rg *Range) (blas64.General, blas64.General, error) {
	if m.N != rg.N {
		return blas64.General{}, blas64.General{}, fmt.Errorf("closedform: the noise moments sum %d samples but the data have %d", m.N, rg.N)
	}
	if m.Centered != rg.Centered {
		return blas64.General{}, blas64.General{}, fmt.Errorf("closedform: the noise moments were computed with centering %v but the range with %v", m.Centered, rg.Centered)
	}
	return momentsPencil(be, rg, m.Scale, m.P, m.G)
}

// Batch returns the moments of batch i alone, as a Noise.
func (m *SecondMoments) Batch(i int) *SecondMoments {
	b := &SecondMoments{N: m.N, Centered: m.Centered, Scale: m.Scale, G: m.BatchG[i], Info: m.Info}
	if m.Scale == 0 {
		b.P = m.BatchP[i]
	}
	return b
}

func momentsPencil(be backend.Backend, rg *Range, scale float64, p, g blas64.General) (blas64.General, blas64.General, error) {
	d, r := rg.D, rg.Rank
	u, err := rg.vectors("the pencil of dense noise moments")
	if err != nil {
		return blas64.General{}, blas64.General{}, err
	}
	if g.Rows != d || g.Cols != d {
		return blas64.General{}, blas64.General{}, fmt.Errorf("closedform: noisy Gram is %d×%d, want %d×%d", g.Rows, g.Cols, d, d)
	}
	var a blas64.General
	if scale != 0 {
		a = diagonal(rg.Lambda, scale*scale)
	} else {
		if p.Rows != d || p.Cols != d {
			return blas64.General{}, blas64.General{}, fmt.Errorf("closedform: P = E[X']ᵀX is %d×%d, want %d×%d", p.Rows, p.Cols, d, d)
		}
		t := backend.NewGeneral(r, d)
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, u, p, 0, t); err != nil {
			return blas64.General{}, blas64.General{}, err
		}
		scaleRows(t, rg.Lambda, -0.5)
		a = backend.NewGeneral(r, r)
		if err := be.Gemm(blas.NoTrans, blas.Trans, 1, t, t, 0, a); err != nil {
			return blas64.General{}, blas64.General{}, err
		}
	}
	gu := backend.NewGeneral(d, r)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, g, u, 0, gu); err != nil {
		return blas64.General{}, blas64.General{}, err
	}
	b := backend.NewGeneral(r, r)
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, u, gu, 0, b); err != nil {
		return blas64.General{}, blas64.General{}, err
	}
	scaleRows(b, rg.Lambda, -0.5)
	scaleCols(b, rg.Lambda, -0.5)
	symmetrizeAverage(b)
	return a, b, nil
}

// diagonal returns diag(f·w).
func diagonal(w []float64, f float64) blas64.General {
	a := backend.NewGeneral(len(w), len(w))
	for i, v := range w {
		a.Data[i*len(w)+i] = f * v
	}
	return a
}

// symmetrizeAverage replaces a by (a + aᵀ)/2, removing the rounding
// asymmetry of a product computed as two Gemms.
func symmetrizeAverage(a blas64.General) {
	for i := 0; i < a.Rows; i++ {
		for j := i + 1; j < a.Cols; j++ {
			v := 0.5 * (a.Data[i*a.Stride+j] + a.Data[j*a.Stride+i])
			a.Data[i*a.Stride+j] = v
			a.Data[j*a.Stride+i] = v
		}
	}
}

// Gaussian is additive isotropic Gaussian noise of standard deviation Sigma
// (in the units of the data): E[x'] = x, G = Gx + Nσ²I.
type Gaussian struct{ Sigma float64 }

func (g Gaussian) Spec() NoiseSpec {
	s := g.Sigma
	return NoiseSpec{Kind: "gaussian", Sigma: &s}
}

func (g Gaussian) validate() error {
	if !(g.Sigma >= 0) || math.IsInf(g.Sigma, 0) {
		return fmt.Errorf("gaussian noise: σ = %g, want a finite σ ≥ 0", g.Sigma)
	}
	return nil
}

func (g Gaussian) needsVectors() bool { return false }

func (g Gaussian) solve(be backend.Backend, rg *Range) (*pencilSolution, error) {
	a, b, err := g.pencil(be, rg)
	if err != nil {
		return nil, err
	}
	return solveDense(be, rg, a, b)
}

// The whitened pencil is diagonal: (Λ, I + Nσ²Λ⁻¹). Its eigenvalues
// λ_j/(1 + Nσ²/λ_j) are increasing in λ_j, so the order of the principal
// directions, and the alignment curve, do not depend on σ (Corollary 3.1).
func (g Gaussian) pencil(be backend.Backend, rg *Range) (blas64.General, blas64.General, error) {
	if err := g.validate(); err != nil {
		return blas64.General{}, blas64.General{}, err
	}
	r := rg.Rank
	a := diagonal(rg.Lambda, 1)
	b := backend.NewGeneral(r, r)
	ns2 := float64(rg.N) * g.Sigma * g.Sigma
	for i, l := range rg.Lambda {
		b.Data[i*r+i] = 1 + ns2/l
	}
	return a, b, nil
}

// Moments returns the dense D×D moments of the noise on st, for comparison
// with Monte Carlo estimates or other code.
func (g Gaussian) Moments(st *engine.Stats) (*SecondMoments, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	gm := backend.Clone(st.Gx)
	ns2 := float64(st.N) * g.Sigma * g.Sigma
	for i := 0; i < st.D; i++ {
		gm.Data[i*st.D+i] += ns2
	}
	return &SecondMoments{N: st.N, Centered: st.Centered, Scale: 1, G: gm, Info: g.Spec()}, nil
}

// Mask is MAE-style masking: the image is cut into PatchH×PatchW patches
// (shared across channels; edge patches that do not divide the image are
// patches of their own) and each patch is zeroed, all channels together.
// With Fixed false each patch is dropped independently with probability P;
// with Fixed true exactly ⌊Patches·(1−P)⌋ patches are kept, uniformly at
// random, as MAE's int(L·(1 − mask_ratio)).
type Mask struct {
	Shape          data.Shape
	PatchH, PatchW int
	P              float64
	Fixed          bool
}

func (m Mask) Spec() NoiseSpec {
	p := m.P
	s := NoiseSpec{Kind: "mask", P: &p, Patch: []int{m.PatchH, m.PatchW}}
	if m.Fixed {
		s.Kind = "mask-fixed"
		s.Kept, s.Patches = m.kept(), m.patchCount()
	}
	return s
}

func (m Mask) gridH() int      { return (m.Shape.H + m.PatchH - 1) / m.PatchH }
func (m Mask) gridW() int      { return (m.Shape.W + m.PatchW - 1) / m.PatchW }
func (m Mask) patchCount() int { return m.gridH() * m.gridW() }
func (m Mask) kept() int {
	if m.PatchH < 1 || m.PatchW < 1 || m.Shape.H < 1 || m.Shape.W < 1 {
		return 0
	}
	return int(float64(m.patchCount()) * (1 - m.P))
}

// Validate checks the mask against rows of d features.
func (m Mask) Validate(d int) error {
	if err := checkShape(m.Shape, d); err != nil {
		return err
	}
	if m.PatchH < 1 || m.PatchW < 1 {
		return fmt.Errorf("mask: patch %dx%d: both sides must be at least 1", m.PatchH, m.PatchW)
	}
	if m.PatchH > m.Shape.H || m.PatchW > m.Shape.W {
		return fmt.Errorf("mask: patch %dx%d is larger than the %dx%d image", m.PatchH, m.PatchW, m.Shape.H, m.Shape.W)
	}
	if !(m.P >= 0 && m.P < 1) {
		return fmt.Errorf("mask: drop probability p = %g outside [0, 1)", m.P)
	}
	if m.Fixed && m.kept() < 1 {
		return fmt.Errorf("mask-fixed: p = %g keeps ⌊%d·(1−p)⌋ = 0 of %d patches (%w): lower p or use smaller patches", m.P, m.patchCount(), m.patchCount(), ErrKeepsNoPatch)
	}
	return nil
}

// ErrKeepsNoPatch: a mask-fixed setting whose p leaves no patch to keep.
var ErrKeepsNoPatch = errors.New("it keeps no patch")

// Ragged reports whether the patches do not divide the image: the patches
// along its bottom and right edges are then smaller, each a patch of its own.
func (m Mask) Ragged() bool {
	return m.PatchH > 0 && m.PatchW > 0 && (m.Shape.H%m.PatchH != 0 || m.Shape.W%m.PatchW != 0)
}

// ErrNeedsShape: a noise that acts on pixels, for rows whose image shape is
// not known.
var ErrNeedsShape = errors.New("the noise needs the image shape")

// checkShape verifies that an image shape describes rows of d features.
func checkShape(s data.Shape, d int) error {
	if s.IsZero() {
		return fmt.Errorf("%w (HxWxC) of the %d features", ErrNeedsShape, d)
	}
	if s.H < 1 || s.W < 1 || s.C < 1 {
		return fmt.Errorf("image shape %dx%dx%d: every side must be at least 1", s.H, s.W, s.C)
	}
	if s.D() != d {
		return fmt.Errorf("image shape %dx%dx%d has %d pixels but the data have D = %d features", s.H, s.W, s.C, s.D(), d)
	}
	switch s.Layout {
	case data.HWC, data.CHW, "":
	default:
		return fmt.Errorf("image layout %q: want hwc or chw", s.Layout)
	}
	return nil
}

// pixel returns the (h, w, c) of feature i under the shape's layout.
func pixel(s data.Shape, i int) (h, w, c int) {
	if s.Layout == data.CHW {
		return (i / s.W) % s.H, i % s.W, i / (s.H * s.W)
	}
	return i / (s.W * s.C), (i / s.C) % s.W, i % s.C
}

// featureIndex is the inverse of pixel.
func featureIndex(s data.Shape, h, w, c int) int {
	if s.Layout == data.CHW {
		return (c*s.H+h)*s.W + w
	}
	return (h*s.W+w)*s.C + c
}

// PatchOf returns, for every feature, the index of its patch (row-major
// over the patch grid), and the number of patches.
func (m Mask) PatchOf() ([]int, int) {
	d := m.Shape.D()
	out := make([]int, d)
	gw := m.gridW()
	for i := range out {
		h, w, _ := pixel(m.Shape, i)
		out[i] = (h/m.PatchH)*gw + w/m.PatchW
	}
	return out, m.patchCount()
}

// Probabilities returns E[m_a] (the scale s of E[x'] = s·x), and E[m_a m_b]
// for features a, b in the same patch and in different patches.
func (m Mask) Probabilities() (keep, same, cross float64) {
	if !m.Fixed {
		q := 1 - m.P
		return q, q, q * q
	}
	np, k := float64(m.patchCount()), float64(m.kept())
	keep = k / np
	if np > 1 {
		cross = k * (k - 1) / (np * (np - 1))
	}
	return keep, keep, cross
}

// Moments returns the dense D×D moments G = Gx ∘ Q (P = s·Gx is implied).
func (m Mask) Moments(st *engine.Stats) (*SecondMoments, error) {
	if err := m.Validate(st.D); err != nil {
		return nil, err
	}
	keep, same, cross := m.Probabilities()
	patch, _ := m.PatchOf()
	d := st.D
	g := backend.Clone(st.Gx)
	for i := 0; i < d; i++ {
		row := g.Data[i*d : (i+1)*d]
		for j := range row {
			if patch[i] == patch[j] {
				row[j] *= same
			} else {
				row[j] *= cross
			}
		}
	}
	return &SecondMoments{N: st.N, Centered: st.Centered, Scale: keep, G: g, Info: m.Spec()}, nil
}

// With G = cross·Gx + (same−cross)·(Gx ∘ B), B the same-patch indicator,
// and UᵀGxU = Λ exactly, the whitened B″ is cross·I + (same−cross)·
// Λ^{-1/2}Uᵀ(Gx∘B)UΛ^{-1/2} (see patchGram), and A″ = keep²·Λ; p = 0
// gives the clean pencil exactly. Mask.solve does not form this B″ (see
// patchbasis.go); pencil is the dense form, for checks.
func (m Mask) pencil(be backend.Backend, rg *Range) (blas64.General, blas64.General, error) {
	if err := m.Validate(rg.D); err != nil {
		return blas64.General{}, blas64.General{}, err
	}
	keep, same, cross := m.Probabilities()
	r := rg.Rank
	a := diagonal(rg.Lambda, keep*keep)
	b := diagonal(make([]float64, r), 0)
	for i := 0; i < r; i++ {
		b.Data[i*r+i] = cross
	}
	if same != cross {
		e, err := m.patchGram(be, rg)
		if err != nil {
			return blas64.General{}, blas64.General{}, err
		}
		for i := range b.Data {
			b.Data[i] += (same - cross) * e.Data[i]
		}
		symmetrizeAverage(b)
	}
	return a, b, nil
}

// needsVectors: only p = 0 (same = cross, B″ = cross·I) leaves U out.
func (m Mask) needsVectors() bool {
	_, same, cross := m.Probabilities()
	return same != cross
}

// patchGram returns E = Λ^{-1/2}Uᵀ(Gx∘B)UΛ^{-1/2} for the mask's patches.
// Gx∘B has only |patch| non-zeros per row, so (Gx∘B)U costs D·|patch|·r
// instead of D²·r.
func (m Mask) patchGram(be backend.Backend, rg *Range) (blas64.General, error) {
	u, err := rg.vectors("the masking pencil")
	if err != nil {
		return blas64.General{}, err
	}
	entries, err := rg.samePatch(m)
	if err != nil {
		return blas64.General{}, err
	}
	d, r := rg.D, rg.Rank
	patch, members := m.members()
	t := backend.NewGeneral(d, r)
	off := 0
	for i := 0; i < d; i++ {
		ti := t.Data[i*r : (i+1)*r]
		for _, j := range members[patch[i]] {
			gij := entries[off]
			off++
			if gij == 0 {
				continue
			}
			uj := u.Data[j*u.Stride : j*u.Stride+r]
			for c, v := range uj {
				ti[c] += gij * v
			}
		}
	}
	e := backend.NewGeneral(r, r)
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, u, t, 0, e); err != nil {
		return blas64.General{}, err
	}
	scaleRows(e, rg.Lambda, -0.5)
	scaleCols(e, rg.Lambda, -0.5)
	return e, nil
}

func (m Mask) key() patchKey { return patchKey{shape: m.Shape, ph: m.PatchH, pw: m.PatchW} }

// members returns each feature's patch and each patch's features,
// ascending.
func (m Mask) members() ([]int, [][]int) {
	patch, np := m.PatchOf()
	members := make([][]int, np)
	for i, p := range patch {
		members[p] = append(members[p], i)
	}
	return patch, members
}

// samePatch returns the entries Gx_ij of the features j in the patch of i,
// row after row (row i has as many as its patch has features, in the order
// of Mask.members), cached per layout. They are read from the Stats the
// first time; when those were released to the eigendecomposition they must
// have been kept by NewRangeWith (RangeOptions.Masks).
func (rg *Range) samePatch(m Mask) ([]float64, error) {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	key := m.key()
	if e, ok := rg.entries[key]; ok {
		return e, nil
	}
	if rg.Stats == nil {
		return nil, fmt.Errorf("mask: the masking pencil needs the D×D moments (a range built from moments, not the dual route)")
	}
	gx := rg.Stats.Gx
	if gx.Rows != rg.D {
		return nil, fmt.Errorf("mask: patch %dx%d: the Gram was released to the eigendecomposition before its same-patch entries were kept (list the mask in RangeOptions.Masks)", m.PatchH, m.PatchW)
	}
	patch, members := m.members()
	var out []float64
	for i, p := range patch {
		for _, j := range members[p] {
			out = append(out, gx.Data[i*gx.Stride+j])
		}
	}
	if rg.entries == nil {
		rg.entries = map[patchKey][]float64{}
	}
	rg.entries[key] = out
	return out, nil
}
