package scenario

import (
	"math"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Formulas the engine's packages also implement, kept here, each once, until
// those packages export their own: then each is one edit (its body becomes
// a call), and the scenarios that use them do not change.
//
//   - unitRoundoff: the unit round-off of a declared precision (the backend
//     packages keep a table of their own);
//   - rtolFast and numericalRank: the numerical-rank cut (engine.rankOf,
//     rsvd.AlignmentRTol);
//   - gramRoute: the direct and dual routes of the Gram's eigenpairs, either
//     one forced (engine.GramEigh picks one by the dual-route rule);
//   - fig7Grid: the paper's Figure 7 settings (cmd/reconalign's denoise
//     defaults);
//   - inMemory: a source collected into memory and served again (data.Load
//     plus data.FromMatrix, one of the ways of collecting a source).

// unitRoundoff of a backend's declared precision ("float64", "float32",
// "tf32", ...): the precision of its Gram's products, the least precise
// arithmetic named. Exact integer modes are held to float64's (exactness).
func unitRoundoff(precision string) float64 {
	p := strings.ToLower(precision)
	switch {
	case strings.Contains(p, "bf16"), strings.Contains(p, "bfloat16"):
		return 0x1p-8
	case strings.Contains(p, "tf32"), strings.Contains(p, "16"):
		return 0x1p-11
	case strings.Contains(p, "32"):
		return 0x1p-24
	}
	return 0x1p-53
}

// rtolFast is the engine's default numerical-range cut.
const rtolFast = engine.DefaultRTol

// numericalRank counts eigenvalues above rtolFast·λ₁, at most limit.
func numericalRank(w []float64, limit int) int {
	r := 0
	for r < len(w) && r < limit && w[0] > 0 && w[r] > rtolFast*w[0] {
		r++
	}
	return r
}

// gramRoute runs one route on x and returns descending eigenvalues (all
// computed) and the feature-space vectors of the numerical range (D × r):
// direct, XᵀX (D×D) and its eigenvectors; dual, XXᵀ (N×N) and its
// eigenvectors u mapped back as v = Xᵀu/√λ.
func gramRoute(be backend.Backend, x blas64.General, route string) ([]float64, blas64.General, error) {
	n, d := x.Rows, x.Cols
	if route == report.RouteDirect {
		g := backend.NewGeneral(d, d)
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, x, x, 0, g); err != nil {
			return nil, blas64.General{}, err
		}
		w, err := be.SymEig(g, true)
		if err != nil {
			return nil, blas64.General{}, err
		}
		return w, backend.Columns(g, numericalRank(w, min(n, d))), nil
	}
	k := backend.NewGeneral(n, n)
	if err := be.Gemm(blas.NoTrans, blas.Trans, 1, x, x, 0, k); err != nil {
		return nil, blas64.General{}, err
	}
	w, err := be.SymEig(k, true)
	if err != nil {
		return nil, blas64.General{}, err
	}
	r := numericalRank(w, min(n, d))
	v := backend.NewGeneral(d, r)
	if r > 0 {
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, x, backend.Columns(k, r), 0, v); err != nil {
			return nil, blas64.General{}, err
		}
		for i := 0; i < d; i++ {
			row := v.Data[i*r : (i+1)*r]
			for j := range row {
				row[j] /= math.Sqrt(w[j])
			}
		}
	}
	return w, v, nil
}

// fig7Grid returns the paper's Figure 7 settings: drop probabilities
// linspace(0, 0.99, steps) for each square patch size.
func fig7Grid(shape data.Shape, patches []int, steps int) []closedform.Mask {
	var out []closedform.Mask
	for _, ps := range patches {
		for i := 0; i < steps; i++ {
			p := 0.99 * float64(i) / float64(max(steps-1, 1))
			out = append(out, closedform.Mask{Shape: shape, PatchH: ps, PatchW: ps, P: p})
		}
	}
	return out
}

// inMemory collects src into memory, keeping its element type (uint8 pixels
// stay uint8), and serves it again as a source.
func inMemory(src data.Source) (data.Source, error) {
	x, labels, err := data.Load(src)
	if err != nil {
		return nil, err
	}
	return data.FromMatrix(x, labels, src.Meta().Shape)
}
