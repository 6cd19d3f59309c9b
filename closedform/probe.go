package closedform

import (
	"fmt"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Probe is a linear classifier fitted in closed form: ridge least squares of
// one-hot targets on the projected training data, with an intercept.
// Scores are (x − μ)·W + Bias and the predicted class is the largest score.
//
// On data projected onto S around the training mean, the centred Gram is
// U_S Λ_S U_Sᵀ and the centred cross-moment M_c·U_S U_Sᵀ, so
// W = (U_S Λ_S U_Sᵀ + ridge·I)⁺ U_S U_Sᵀ M_cᵀ = U_S (Λ_S + ridge)⁻¹ U_Sᵀ M_cᵀ:
// no pass over projected data is needed, and since W's columns lie in S,
// scoring raw test rows gives the scores of their projections. With ridge 0
// the directions at or below RTol·λ₁ are left out (the minimum-norm least
// squares solution). ridge is in the units of the summed Gram (it is not
// divided by N).
type Probe struct {
	Sub   Subspace
	Ridge float64
	Mean  []float64      // training mean of x
	W     blas64.General // D × C
	Bias  []float64      // C: the training class frequencies
}

// coefficients returns diag(1/(λ_j + ridge)) · Uᵀ M_cᵀ for all D directions
// (D × C), zero where a direction is left out.
func (s *Spectrum) coefficients(be backend.Backend, ridge float64) (blas64.General, error) {
	st := s.Stats
	d, c := s.D, st.C
	if c == 0 {
		return blas64.General{}, fmt.Errorf("probe: the training data have no labels")
	}
	b := backend.NewGeneral(d, c)
	if err := be.Gemm(blas.Trans, blas.Trans, 1, s.U, st.M, 0, b); err != nil {
		return blas64.General{}, err
	}
	cut := s.RTol * s.Values[0]
	for j := 0; j < d; j++ {
		f := 0.0
		if ridge > 0 || s.Values[j] > cut {
			f = 1 / (s.Values[j] + ridge)
		}
		for k := range b.Data[j*c : (j+1)*c] {
			b.Data[j*c+k] *= f
		}
	}
	return b, nil
}

func checkRidge(ridge float64) error {
	if !(ridge >= 0) || ridge > 1e300 {
		return &engine.OptionError{Option: "Ridge", Value: ridge, Want: "a finite ridge ≥ 0"}
	}
	return nil
}

// FitProbe fits the probe on the projection onto sub.
func FitProbe(be backend.Backend, s *Spectrum, sub Subspace, ridge float64) (*Probe, error) {
	if err := checkRidge(ridge); err != nil {
		return nil, err
	}
	b, err := s.coefficients(be, ridge)
	if err != nil {
		return nil, err
	}
	d, c := s.D, s.Stats.C
	bs := backend.NewGeneral(sub.Count, c)
	copy(bs.Data, b.Data[sub.First*c:(sub.First+sub.Count)*c])
	p := &Probe{Sub: sub, Ridge: ridge, Mean: s.Mean, W: backend.NewGeneral(d, c), Bias: append([]float64(nil), s.Stats.MeanY...)}
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, s.basis(sub), bs, 0, p.W); err != nil {
		return nil, err
	}
	return p, nil
}

// Accuracy is the share of src's labelled rows whose largest score is at
// their label.
func (p *Probe) Accuracy(be backend.Backend, src data.Source, chunkRows int) (float64, error) {
	c := p.W.Cols
	correct, total := 0, 0
	scores := backend.NewGeneral(0, c)
	err := streamCentred(src, p.Mean, chunkRows, c, func(x blas64.General, labels []int) error {
		n := x.Rows
		if cap(scores.Data) < n*c {
			scores = backend.NewGeneral(n, c)
		}
		sc := blas64.General{Rows: n, Cols: c, Stride: c, Data: scores.Data[:n*c]}
		if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, x, p.W, 0, sc); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if argmaxPlus(sc.Data[i*c:(i+1)*c], p.Bias) == labels[i] {
				correct++
			}
		}
		total += n
		return nil
	})
	if err != nil {
		return 0, err
	}
	return float64(correct) / float64(total), nil
}

// argmaxPlus returns the index of the largest a_i + b_i (the first on ties).
func argmaxPlus(a, b []float64) int {
	best, at := a[0]+b[0], 0
	for i := 1; i < len(a); i++ {
		if v := a[i] + b[i]; v > best {
			best, at = v, i
		}
	}
	return at
}

// streamCentred reads src, subtracts mean from every row and calls fn with
// the chunk as an n×D matrix and its labels, which must lie in [0, classes).
func streamCentred(src data.Source, mean []float64, chunkRows, classes int, fn func(x blas64.General, labels []int) error) error {
	meta := src.Meta()
	d := len(mean)
	if meta.D != d {
		return fmt.Errorf("%s: %d features, but the training data had %d", meta.Name, meta.D, d)
	}
	if chunkRows <= 0 {
		chunkRows = engine.DefaultChunkRows
	}
	var buf []float64
	rows := 0
	err := data.Each(src, chunkRows, func(b data.Batch) error {
		if len(b.Labels) != b.X.N {
			return fmt.Errorf("%s: the probe needs integer class labels for every row of %s", labelsName(meta), meta.Name)
		}
		for i, l := range b.Labels {
			if l < 0 || l >= classes {
				return fmt.Errorf("%s: label %d of row %d is outside the %d classes of the training data", labelsName(meta), l, rows+i, classes)
			}
		}
		if cap(buf) < b.X.N*d {
			buf = make([]float64, b.X.N*d)
		}
		x := blas64.General{Rows: b.X.N, Cols: d, Stride: d, Data: b.X.Float64(buf, mean)}
		if err := fn(x, b.Labels); err != nil {
			return fmt.Errorf("%s: rows %d..%d: %w", meta.Name, rows, rows+b.X.N, err)
		}
		rows += b.X.N
		return nil
	})
	if err != nil {
		return err
	}
	if rows == 0 {
		return fmt.Errorf("%s: no rows to evaluate", meta.Name)
	}
	return nil
}

// ProbeScore is one probe's result in a sweep.
type ProbeScore struct {
	Dims      int     `json:"dims"`
	Explained float64 `json:"explained"`
	Accuracy  float64 `json:"accuracy"`
}

// SweepRow is one line of the Figure 4 table: the probe on the top and on
// the bottom subspace explaining Variance of the training variance.
type SweepRow struct {
	Variance float64     `json:"variance"`
	Top      *ProbeScore `json:"top"`    // nil when the cut is empty
	Bottom   *ProbeScore `json:"bottom"` // nil when the cut is empty
}

// ProbeSweep evaluates, in one pass over test, the probes on top(v) and
// bottom(v) for every v of grid. Every subspace is a run of principal
// directions, so each test row's scores for all cuts are prefix (top) or
// suffix (bottom) sums of its per-direction contributions
// ((x−μ)·u_j)·b_j, b_j the j-th row of diag(1/(λ+ridge))·UᵀM_cᵀ.
func ProbeSweep(be backend.Backend, s *Spectrum, test data.Source, grid []float64, ridge float64, chunkRows int) ([]SweepRow, error) {
	if len(grid) == 0 {
		return nil, fmt.Errorf("probe sweep: empty grid of variance fractions")
	}
	if err := checkRidge(ridge); err != nil {
		return nil, err
	}
	rows := make([]SweepRow, len(grid))
	type cut struct {
		at     int // prefix length
		row    int
		bottom bool
	}
	var cuts []cut
	for i, v := range grid {
		rows[i].Variance = v
		for _, keep := range []Keep{KeepTop, KeepBottom} {
			sub, err := s.Cut(keep, v)
			if err != nil {
				if v > 0 && v <= 1 {
					continue // an empty cut: reported as nil
				}
				return nil, err
			}
			sc := &ProbeScore{Dims: sub.Count, Explained: sub.Explained}
			if keep == KeepTop {
				rows[i].Top = sc
				cuts = append(cuts, cut{at: sub.Count, row: i})
			} else {
				rows[i].Bottom = sc
				cuts = append(cuts, cut{at: sub.First, row: i, bottom: true})
			}
		}
	}
	sort.SliceStable(cuts, func(a, b int) bool { return cuts[a].at < cuts[b].at })
	b, err := s.coefficients(be, ridge)
	if err != nil {
		return nil, err
	}
	d, c := s.D, s.Stats.C
	bias := s.Stats.MeanY
	correct := make([]int, len(cuts))
	total := 0
	var t blas64.General
	prefix := make([]float64, c)
	full := make([]float64, c)
	scores := make([]float64, c)
	err = streamCentred(test, s.Mean, chunkRows, c, func(x blas64.General, labels []int) error {
		n := x.Rows
		if cap(t.Data) < n*d {
			t = backend.NewGeneral(n, d)
		}
		tt := blas64.General{Rows: n, Cols: d, Stride: d, Data: t.Data[:n*d]}
		if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, x, s.U, 0, tt); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			ti := tt.Data[i*d : (i+1)*d]
			clear(full)
			for j, v := range ti {
				bj := b.Data[j*c : (j+1)*c]
				for k := range full {
					full[k] += v * bj[k]
				}
			}
			clear(prefix)
			j := 0
			for ci, ct := range cuts {
				for ; j < ct.at; j++ {
					v := ti[j]
					bj := b.Data[j*c : (j+1)*c]
					for k := range prefix {
						prefix[k] += v * bj[k]
					}
				}
				if ct.bottom {
					for k := range scores {
						scores[k] = full[k] - prefix[k]
					}
				} else {
					copy(scores, prefix)
				}
				if argmaxPlus(scores, bias) == labels[i] {
					correct[ci]++
				}
			}
		}
		total += n
		return nil
	})
	if err != nil {
		return nil, err
	}
	for ci, ct := range cuts {
		acc := float64(correct[ci]) / float64(total)
		if ct.bottom {
			rows[ct.row].Bottom.Accuracy = acc
		} else {
			rows[ct.row].Top.Accuracy = acc
		}
	}
	return rows, nil
}

// labelsName names a source's labels for messages about them.
func labelsName(m data.Meta) string {
	if m.LabelsName != "" {
		return m.LabelsName
	}
	return "labels of " + m.Name
}
