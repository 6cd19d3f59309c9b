package closedform

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// LeadingSpectrum is the leading part of a principal component analysis:
// the K largest eigenpairs of the centred Gram and its exact trace, as a
// randomized top-K method gives them (rsvd.TopK) when D is too large for the
// D×D Gram. Shares are taken over the exact trace, so its cuts are Spectrum's
// cuts whenever they fall within the K known directions. Both projections
// need only those directions: top(p) is their span up to the cut, bottom(p)
// the orthogonal complement of top(1−p).
type LeadingSpectrum struct {
	D      int
	Mean   []float64
	Values []float64      // K eigenvalues, descending
	U      blas64.General // D × K, orthonormal eigenvectors as columns
	Trace  float64        // the trace of the centred Gram: the whole variance, all D directions
	Share  []float64      // Share[j] = Σ_{i≤j} Values[i] / Trace
}

// NewLeadingSpectrum checks and wraps leading eigenpairs (values descending,
// vectors D×K) of the Gram centred at mean, whose trace is trace.
func NewLeadingSpectrum(mean, values []float64, vectors blas64.General, trace float64) (*LeadingSpectrum, error) {
	d, k := len(mean), len(values)
	switch {
	case k == 0:
		return nil, fmt.Errorf("subspaces: no eigenpairs given")
	case vectors.Rows != d || vectors.Cols != k:
		return nil, fmt.Errorf("subspaces: eigenvectors are %d×%d, want D×K = %d×%d", vectors.Rows, vectors.Cols, d, k)
	case !(trace > 0) || math.IsInf(trace, 0):
		return nil, fmt.Errorf("subspaces: the training data have no variance (trace %g)", trace)
	}
	s := &LeadingSpectrum{D: d, Mean: mean, Values: make([]float64, k), U: vectors, Trace: trace, Share: make([]float64, k)}
	cum := 0.0
	for j, v := range values {
		if j > 0 && v > values[j-1] {
			return nil, fmt.Errorf("subspaces: eigenvalues not descending: λ_%d = %g > λ_%d = %g", j+1, v, j, values[j-1])
		}
		s.Values[j] = math.Max(v, 0) // negatives are rounding
		cum += s.Values[j]
		s.Share[j] = cum / trace
	}
	// Leading eigenvalues cannot exceed the trace of a PSD matrix; more than
	// rounding says they do not belong to it.
	if cum > trace*(1+1e-8) {
		return nil, fmt.Errorf("subspaces: the %d eigenvalues sum to %g, more than the trace %g", k, cum, trace)
	}
	return s, nil
}

// K is the number of known directions.
func (s *LeadingSpectrum) K() int { return len(s.Values) }

// Cut selects a subspace with Spectrum.Cut's rule. A cut beyond the K known
// directions (they explain less than p for top(p), or less than 1−p for
// bottom(p)) is a *ShortSpectrumError.
func (s *LeadingSpectrum) Cut(keep Keep, variance float64) (Subspace, error) {
	return cutShares(s.Share, s.D, keep, variance)
}

// Projector returns the projection onto sub, a cut of s: onto the span of
// its leading directions for a top subspace, onto the complement of the
// leading directions before it for a bottom one.
func (s *LeadingSpectrum) Projector(be backend.Backend, sub Subspace) (*Projector, error) {
	var c int
	switch {
	case sub.Keep == KeepTop && sub.First == 0 && sub.Count <= s.K():
		c = sub.Count
	case sub.Keep == KeepBottom && sub.First <= s.K() && sub.First+sub.Count == s.D:
		c = sub.First
	default:
		return nil, fmt.Errorf("subspaces: %+v is not a cut of the leading %d of %d directions", sub, s.K(), s.D)
	}
	basis := backend.NewGeneral(s.D, c)
	for i := 0; i < s.D; i++ {
		copy(basis.Data[i*c:(i+1)*c], s.U.Data[i*s.U.Stride:i*s.U.Stride+c])
	}
	return &Projector{be: be, mean: s.Mean, basis: basis, complement: sub.Keep == KeepBottom}, nil
}
