package closedform

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Spectrum is the principal component analysis of training data: the mean
// and every eigenpair of the centred Gram, descending. Unlike Range it keeps
// all D directions, because a bottom subspace includes the directions of
// (numerically) zero variance, as the reference code's does.
type Spectrum struct {
	N, D   int
	Mean   []float64
	Values []float64      // D eigenvalues, descending, negatives from rounding set to 0
	U      blas64.General // D × D, eigenvectors as columns
	Share  []float64      // Share[j] = Σ_{i≤j} Values[i] / Σ Values: cumulative explained variance
	RTol   float64        // eigenvalues ≤ RTol·λ₁ are treated as zero by the probe
	Stats  *engine.Stats  // the centred moments the spectrum came from (Gx gone if they were released)
}

// NewSpectrum eigendecomposes centred moments. The Gram of released
// moments (engine.Moments.Release) is used up as the eigendecomposition's
// workspace; that of finalized ones is copied.
func NewSpectrum(be backend.Backend, st *engine.Stats, rtol float64) (*Spectrum, error) {
	if !st.Centered {
		return nil, fmt.Errorf("subspaces: the moments must be centred (x ↦ μ + (x−μ)UUᵀ projects around the training mean)")
	}
	if rtol == 0 {
		rtol = engine.DefaultRTol
	}
	d := st.D
	u, err := st.GramForEigen()
	if err != nil {
		return nil, err
	}
	w, err := be.SymEig(u, true)
	if err != nil {
		return nil, fmt.Errorf("eigendecomposition of the %d×%d Gram: %w", d, d, err)
	}
	total := 0.0
	for i, v := range w {
		if v < 0 {
			w[i] = 0
		}
		total += w[i]
	}
	if !(total > 0) {
		return nil, fmt.Errorf("subspaces: the training data have no variance")
	}
	s := &Spectrum{N: st.N, D: d, Mean: st.MeanX, Values: w, U: u, Share: make([]float64, d), RTol: rtol, Stats: st}
	cum := 0.0
	for i, v := range w {
		cum += v
		s.Share[i] = cum / total
	}
	return s, nil
}

// Keep names which end of the spectrum a subspace takes.
type Keep string

const (
	KeepTop    Keep = "top"
	KeepBottom Keep = "bottom"
)

// ParseKeep validates user input.
func ParseKeep(s string) (Keep, error) {
	switch Keep(s) {
	case KeepTop, KeepBottom:
		return Keep(s), nil
	}
	return "", fmt.Errorf("unknown subspace %q: want top or bottom", s)
}

// Subspace is a run of consecutive principal directions: [First, First+Count).
type Subspace struct {
	Keep     Keep    `json:"keep"`
	Variance float64 `json:"variance"` // the fraction asked for
	// Explained is the share of the training variance the directions carry.
	Explained float64 `json:"explained"`
	First     int     `json:"first"`
	Count     int     `json:"dims"`
}

// Cut selects the subspace explaining a fraction variance of the training
// variance, with the reference repository's cuts:
//   - top: the leading directions whose cumulative share (counted from the
//     largest, inclusive) is below variance (its `explained < pct`);
//   - bottom: the complement of top(1 − variance) (its `explained >= pct`
//     with pct = 1 − variance): the trailing directions, whose share is
//     at least variance by at most one direction.
//
// So top(p) and bottom(1−p) split the directions between them.
func (s *Spectrum) Cut(keep Keep, variance float64) (Subspace, error) {
	return cutShares(s.Share, s.D, keep, variance)
}

// ShortSpectrumError reports a cut that falls beyond the known leading
// directions of a LeadingSpectrum: all K of them lie below the cut, so
// whether direction K+1 belongs to the top subspace is unknown.
type ShortSpectrumError struct {
	K         int     // directions known
	Explained float64 // the share of the variance they explain
	Needed    float64 // the cumulative share the cut lies at: p for top(p), 1−p for bottom(p)
}

func (e *ShortSpectrumError) Error() string {
	return fmt.Sprintf("subspaces: the top K=%d directions explain only %.4g%% of the variance, and the cut lies at %.4g%%",
		e.K, 100*e.Explained, 100*e.Needed)
}

// cutShares is Cut on cumulative shares of the leading len(share) of d
// directions (share[j] = Σ_{i≤j} λ_i / Σ_all λ). When fewer than d shares are
// known, a cut beyond the last known one is a *ShortSpectrumError; with all
// d known it always succeeds.
func cutShares(share []float64, d int, keep Keep, variance float64) (Subspace, error) {
	if !(variance > 0 && variance <= 1) {
		return Subspace{}, fmt.Errorf("subspaces: variance fraction %g outside (0, 1]", variance)
	}
	// prefix counts the leading directions whose cumulative share is below p.
	prefix := func(p float64) (int, error) {
		k := 0
		for k < len(share) && share[k] < p {
			k++
		}
		if k == len(share) && k < d {
			e := &ShortSpectrumError{K: k, Needed: p}
			if k > 0 {
				e.Explained = share[k-1]
			}
			return 0, e
		}
		return k, nil
	}
	sub := Subspace{Keep: keep, Variance: variance}
	var err error
	switch keep {
	case KeepTop:
		sub.Count, err = prefix(variance)
	case KeepBottom:
		sub.First, err = prefix(1 - variance)
		sub.Count = d - sub.First
	default:
		return Subspace{}, fmt.Errorf("unknown subspace %q: want top or bottom", keep)
	}
	if err != nil {
		return Subspace{}, err
	}
	if sub.Count == 0 {
		return Subspace{}, fmt.Errorf("subspaces: the %s %g of the variance holds no direction (the first one alone explains %.4g)", keep, variance, share[0])
	}
	lo, hi := 0.0, 1.0 // the shares before the first and up to the last direction of sub
	if sub.First > 0 {
		lo = share[sub.First-1]
	}
	if last := sub.First + sub.Count - 1; last < len(share) {
		hi = share[last]
	}
	sub.Explained = hi - lo
	return sub, nil
}

// All is the whole space: a probe on it is the plain linear probe.
func (s *Spectrum) All() Subspace {
	return Subspace{Keep: "all", Variance: 1, Explained: 1, Count: s.D}
}

// basis copies the subspace's eigenvectors (D × Count).
func (s *Spectrum) basis(sub Subspace) blas64.General {
	out := backend.NewGeneral(s.D, sub.Count)
	for i := 0; i < s.D; i++ {
		copy(out.Data[i*sub.Count:(i+1)*sub.Count], s.U.Data[i*s.U.Stride+sub.First:i*s.U.Stride+sub.First+sub.Count])
	}
	return out
}

// complement copies the eigenvectors outside sub (D × (D − Count)).
func (s *Spectrum) complement(sub Subspace) blas64.General {
	c := s.D - sub.Count
	out := backend.NewGeneral(s.D, c)
	for i := 0; i < s.D; i++ {
		row := s.U.Data[i*s.U.Stride : i*s.U.Stride+s.D]
		o := out.Data[i*c : (i+1)*c]
		copy(o, row[:sub.First])
		copy(o[sub.First:], row[sub.First+sub.Count:])
	}
	return out
}

// Projector maps rows x ↦ μ + (x−μ)·U_S·U_Sᵀ with the training statistics.
type Projector struct {
	be   backend.Backend
	mean []float64
	// basis spans either S itself or, when that is smaller, its complement
	// (then x ↦ x − (x−μ)·U_C·U_Cᵀ, the same map).
	basis      blas64.General
	complement bool
	coef       blas64.General
}

// Projector returns the projection onto sub.
func (s *Spectrum) Projector(be backend.Backend, sub Subspace) *Projector {
	p := &Projector{be: be, mean: s.Mean}
	if 2*sub.Count <= s.D {
		p.basis = s.basis(sub)
	} else {
		p.basis, p.complement = s.complement(sub), true
	}
	return p
}

// Project replaces the n rows of x (n×D, row-major) by their projections.
func (p *Projector) Project(x []float64, n int) error {
	d := len(p.mean)
	c := p.basis.Cols
	if len(x) != n*d {
		return fmt.Errorf("project: %d values for %d rows of %d features", len(x), n, d)
	}
	if n == 0 {
		return nil
	}
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		for j := range row {
			row[j] -= p.mean[j]
		}
	}
	xc := blas64.General{Rows: n, Cols: d, Stride: d, Data: x}
	if cap(p.coef.Data) < n*c {
		p.coef = backend.NewGeneral(n, c)
	}
	coef := blas64.General{Rows: n, Cols: c, Stride: c, Data: p.coef.Data[:n*c]}
	if c > 0 {
		if err := p.be.Gemm(blas.NoTrans, blas.NoTrans, 1, xc, p.basis, 0, coef); err != nil {
			return err
		}
	}
	if p.complement {
		// x_c − coef·U_Cᵀ, then add the mean back.
		if c > 0 {
			if err := p.be.Gemm(blas.NoTrans, blas.Trans, -1, coef, p.basis, 1, xc); err != nil {
				return err
			}
		}
	} else {
		clear(x)
		if c > 0 {
			if err := p.be.Gemm(blas.NoTrans, blas.Trans, 1, coef, p.basis, 0, xc); err != nil {
				return err
			}
		}
	}
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		for j := range row {
			row[j] += p.mean[j]
		}
	}
	return nil
}

// ProjectSource streams src through the projector, calling emit with each
// chunk's projected rows (n×D float64, valid until the next call).
func ProjectSource(p *Projector, src data.Source, chunkRows int, emit func(rows []float64, n int) error) error {
	meta := src.Meta()
	if meta.D != len(p.mean) {
		return fmt.Errorf("%s: %d features, but the projection was fitted on %d", meta.Name, meta.D, len(p.mean))
	}
	if chunkRows <= 0 {
		chunkRows = engine.DefaultChunkRows
	}
	var buf []float64
	return data.Each(src, chunkRows, func(b data.Batch) error {
		if cap(buf) < b.X.N*b.X.D {
			buf = make([]float64, b.X.N*b.X.D)
		}
		x := b.X.Float64(buf, nil)
		if err := p.Project(x, b.X.N); err != nil {
			return err
		}
		return emit(x, b.X.N)
	})
}
