package scenario

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/internal/check"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/synth"
)

// The eigen phase of `align` on its own: from the finalized moments of a
// dataset (the D×D Gram A and the C×D block M = YᵀX, not centred, as align
// uses them by default), all eigenvalues of A and the projections P = M·U,
// which is all the alignment curve needs. Two routes per backend, timed one
// after the other on the same input:
//
//   - vectors: the full eigendecomposition with vectors (SymEig: dsyevd on
//     openblas) and the C×D·D×D GEMM, what the engine does today;
//   - projection: eigenvalues and M·U without ever forming U
//     (eigenProjection, plug.go).
//
// Both are held to the same check, which needs neither U nor another
// backend: the eigenvalues' order, trace and Frobenius norm; every row of
// P keeps the norm of its row of M (U is orthogonal); and for sampled rows
// i, k, Σ_j P_ij·λ_j·P_kj = m_iᵀ·A·m_k, which ties each column of P to its
// eigenvalue.

const eigenPhaseModel = "14D³/3 for the eigendecomposition with vectors + 2CD² for M·U (the vectors route's count; the projection route is counted the same, so its rate is effective)"

func eigenPhaseFlops(d, c int) float64 { return eighFlops(d) + 2*float64(c)*float64(d)*float64(d) }

// eigenVectorsRoute is the route of today: SymEig with vectors, then M·U.
// a is overwritten by U.
func eigenVectorsRoute(be backend.Backend, a, m blas64.General) ([]float64, blas64.General, error) {
	w, err := be.SymEig(a, true)
	if err != nil {
		return nil, blas64.General{}, err
	}
	p := backend.NewGeneral(m.Rows, a.Cols)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, m, a, 0, p); err != nil {
		return nil, blas64.General{}, err
	}
	return w, p, nil
}

// synthStats are the finalized, uncentred moments of a synth dataset,
// computed once per run.
func synthStats(env *bench.Env, spec string) (*engine.Stats, error) {
	return cachedStats(env, "synth-stats/"+spec, false, func() (data.Source, error) {
		gen, err := synth.Open(spec)
		if err != nil {
			return nil, bench.Skipf("synth %s: %v", spec, err)
		}
		return gen, nil
	})
}

// eigenPhaseScenarios registers both routes per backend for the moments of
// the synth dataset spec.
func eigenPhaseScenarios(names []string, spec string) []bench.Scenario {
	s, err := synth.Parse(spec)
	if err != nil {
		return []bench.Scenario{{Name: "eigen_phase/" + spec, Group: report.GroupEigenPhase, Skip: fmt.Sprintf("synth spec %q: %v", spec, err)}}
	}
	d, c := s.D(), s.Classes
	type route struct {
		name, series string
		fn           func(be backend.Backend, a, m blas64.General) ([]float64, blas64.General, error)
	}
	routes := []route{{report.RouteVectors, report.SeriesEigenVectors, eigenVectorsRoute},
		{report.RouteProjection, report.SeriesEigenProjection, eigenProjection}}
	var out []bench.Scenario
	for _, b := range names {
		for _, rt := range routes {
			sc := bench.Scenario{
				Name: fmt.Sprintf("%s/%s/%s/D=%d,C=%d", report.GroupEigenPhase, b, rt.name, d, c), Group: report.GroupEigenPhase, Backend: b,
				Params: map[string]any{"d": d, "c": c, "route": rt.name, "spec": spec, "series": rt.series, "size": d},
				Series: rt.series, Size: float64(d), Exponent: 3, RateFrom: report.GroupEigh,
				Flops: eigenPhaseFlops(d, c), Bytes: 8 * float64(d) * float64(d), FlopModel: eigenPhaseModel,
				Check: "eigenvalues descending with Σλ = tr A and Σλ² = ‖A‖_F²; every row of P = M·U keeps its row of M's norm; " +
					"for 4 sampled row pairs Σ_j P_ij·λ_j·P_kj = m_iᵀ·A·m_k",
			}
			if rt.fn == nil {
				sc.Skip = "no projection routine (eigenProjection in bench/scenario/plug.go is nil)"
			}
			fn := rt.fn
			sc.Setup = func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
				st, err := synthStats(env, spec)
				if err != nil {
					return nil, err
				}
				work := backend.NewGeneral(d, d)
				var w []float64
				var p blas64.General
				u, err := backend.UnitRoundoff(be.Info().Precision)
				if err != nil {
					return nil, err
				}
				return &bench.Case{
					Run: func() error {
						// A copy per run (D² words, far below the eigen
						// phase's D³): both routes may overwrite their input.
						copy(work.Data, st.Gx.Data)
						var err error
						w, p, err = fn(be, work, st.M)
						return err
					},
					Check: func() error { return check.Projections(st.Gx, st.M, w, p, 4, u) },
				}, nil
			}
			out = append(out, sc)
		}
	}
	return out
}
