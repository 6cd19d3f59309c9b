package rsvd

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/engine"
)

// Alignment holds the per-direction alignment values of the top-K
// directions (the paper's Eq. 7) and their cumulative curves.
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

// PapercodeTotals are the denominators of the paper's printed
// alignment_sweep, what a complete basis of sample space reaches, known
// exactly from YᵀY alone at any D: ‖YᵀY‖_F² for the gram form and tr(YᵀY)
// for the regression form (engine.NormalizePapercode).
func PapercodeTotals(gy blas64.General) AlignmentTotals {
	p := engine.Projections{Gy: gy}
	return AlignmentTotals{Regression: p.PapercodeDenominator(engine.FormRegression), Gram: p.PapercodeDenominator(engine.FormGram)}
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
	// Yᵀq_j for the directions in the numerical range; the others have no
	// q_j = Xv_j/√λ_j and count as zero.
	yq := backend.NewGeneral(c, k)
	r := engine.NumericalRank(res.Values, engine.DefaultRTol, k)
	for i := 0; i < c; i++ {
		for j := 0; j < r; j++ {
			yq.Data[i*k+j] = res.LabelProj.Data[i*res.LabelProj.Stride+j] / math.Sqrt(res.Values[j])
		}
	}
	p := engine.Projections{YQ: yq, Gy: gy}
	a := &Alignment{Regression: p.PerDirection(engine.FormRegression), Gram: p.PerDirection(engine.FormGram)}
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
