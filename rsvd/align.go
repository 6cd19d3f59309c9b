package rsvd

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"
)

// AlignmentRTol is the relative eigenvalue cut below which a direction is
// treated as outside the data's range: its q_j = Xv_j/√λ_j is not defined
// and its a_j is reported as zero.
const AlignmentRTol = 1e-12

// Alignment holds the per-direction alignment values of the top-K
// directions (analysis.md; the paper's Eq. 7) and their cumulative curves.
type Alignment struct {
	// Regression[j] = ‖Yᵀq_j‖², Gram[j] = (Yᵀq_j)ᵀ·Gy·(Yᵀq_j) = ‖YYᵀq_j‖².
	Regression, Gram []float64
	// TopKRegression[k] = Σ_{j≤k} Regression[j] / Σ_{j<K} Regression[j], and
	// likewise TopKGram: the curve restricted to the K computed directions.
	TopKRegression, TopKGram []float64
	// FullRegression and FullGram divide by the full-rank totals Σ_{j≤r} a_j
	// instead (Eq. 7's normalisation), when they were given; else nil.
	FullRegression, FullGram []float64
}

// AlignmentTotals are full-rank denominators Σ_{j≤rank} a_j, known only
// from a complete decomposition; zero means unknown.
type AlignmentTotals struct {
	Regression, Gram float64
}

// AlignmentTopK computes the alignment of the directions in res from its
// label projections: Yᵀq_j = LabelProj[:, j]/√Values[j]. gy is YᵀY (C×C);
// an empty gy (zero rows) uses res.LabelGram.
func AlignmentTopK(res *Result, gy blas64.General, full AlignmentTotals) (*Alignment, error) {
	if res == nil || res.LabelProj.Rows == 0 {
		return nil, errors.New("rsvd: the result has no label projections (the source had no labels, or NoLabels was set)")
	}
	if gy.Rows == 0 {
		gy = res.LabelGram
	}
	c, k := res.LabelProj.Rows, res.LabelProj.Cols
	if gy.Rows != c || gy.Cols != c {
		return nil, fmt.Errorf("rsvd: Gy is %d×%d but the labels have %d columns", gy.Rows, gy.Cols, c)
	}
	if k != len(res.Values) {
		return nil, fmt.Errorf("rsvd: LabelProj has %d columns for %d eigenvalues", k, len(res.Values))
	}
	if full.Regression < 0 || full.Gram < 0 || math.IsNaN(full.Regression) || math.IsNaN(full.Gram) {
		return nil, fmt.Errorf("rsvd: full-rank totals %+v must be ≥ 0", full)
	}
	a := &Alignment{Regression: make([]float64, k), Gram: make([]float64, k)}
	yq := make([]float64, c)
	for j := 0; j < k; j++ {
		lam := res.Values[j]
		if !(lam > AlignmentRTol*res.Values[0]) {
			continue
		}
		for i := 0; i < c; i++ {
			yq[i] = res.LabelProj.Data[i*res.LabelProj.Stride+j] / math.Sqrt(lam)
		}
		var reg, gram float64
		for i, v := range yq {
			reg += v * v
			var gv float64
			for l, w := range yq {
				gv += gy.Data[i*gy.Stride+l] * w
			}
			gram += v * gv
		}
		a.Regression[j], a.Gram[j] = reg, gram
	}
	a.TopKRegression = cumulative(a.Regression, 0)
	a.TopKGram = cumulative(a.Gram, 0)
	if full.Regression > 0 {
		a.FullRegression = cumulative(a.Regression, full.Regression)
	}
	if full.Gram > 0 {
		a.FullGram = cumulative(a.Gram, full.Gram)
	}
	return a, nil
}

// cumulative returns the running sums of v divided by total (by their own
// sum when total is 0; all zeros when that sum is zero).
func cumulative(v []float64, total float64) []float64 {
	if total == 0 {
		for _, x := range v {
			total += x
		}
	}
	out := make([]float64, len(v))
	if total == 0 {
		return out
	}
	var acc float64
	for j, x := range v {
		acc += x
		out[j] = acc / total
	}
	return out
}
