package bench

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/engine"
)

// The fast_gram_eigh comparison: for one data shape, the direct route
// (XᵀX, D×D), the dual route (XXᵀ, N×N, vectors mapped back with
// v = Xᵀu/√λ), and engine.GramEigh, which picks one of them. Both routes are
// written here from backend primitives so that either can be forced at any
// shape; the engine's own choice is timed as it runs.

const (
	RouteDirect = "direct"
	RouteDual   = "dual"
	RouteAuto   = "auto"
)

// rtolFast is the engine's default numerical-range cut.
const rtolFast = engine.DefaultRTol

// gramRoute runs one route on x and returns descending eigenvalues (all
// computed) and the feature-space vectors of the numerical range (D × r).
func gramRoute(be backend.Backend, x blas64.General, route string) ([]float64, blas64.General, error) {
	n, d := x.Rows, x.Cols
	if route == RouteDirect {
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

// numericalRank counts eigenvalues above rtolFast·λ₁, at most limit.
func numericalRank(w []float64, limit int) int {
	r := 0
	for r < len(w) && r < limit && w[0] > 0 && w[r] > rtolFast*w[0] {
		r++
	}
	return r
}

// routeFlops is the model count of a route on an N×D matrix: a full GEMM
// for the Gram (as both routes compute it), the eigendecomposition, and for
// the dual route the map back to feature space.
func routeFlops(route string, n, d int) float64 {
	fn, fd := float64(n), float64(d)
	if route == RouteDirect {
		return 2*fn*fd*fd + eighFlops(d)
	}
	r := math.Min(fn, fd)
	return 2*fn*fn*fd + eighFlops(n) + 2*fd*fn*r
}

// fastScenarios registers direct, dual and auto for one shape.
func fastScenarios(b string, n, d int) []Scenario {
	var out []Scenario
	for _, route := range []string{RouteDirect, RouteDual, RouteAuto} {
		s := Scenario{
			Name: fmt.Sprintf("fast_gram_eigh/%s/%s/N=%d,D=%d", b, route, n, d), Group: GroupFast, Backend: b,
			Params:    map[string]any{"n": n, "d": d, "route": route},
			RateFrom:  GroupEigh,
			Bytes:     8 * float64(n) * float64(d),
			FlopModel: "direct 2ND² + 14D³/3; dual 2N²D + 14N³/3 + 2DN·min(N,D)",
			Check:     "Σλ = ‖X‖_F², descending order, and for 8 sampled pairs the residual ‖Xᵀ(Xv)−λv‖, norms and orthogonality",
		}
		if route != RouteAuto {
			s.Flops = routeFlops(route, n, d)
		}
		s.Setup = func(env *Env, be backend.Backend) (*Case, error) {
			v, _ := env.Cached(fmt.Sprintf("imagelike/%dx%d", n, d), func() (any, error) { return imageLike(n, d, 41), nil })
			x := v.(blas64.General)
			var w []float64
			var vec blas64.General
			c := &Case{Outcome: map[string]any{}}
			c.Run = func() error {
				if route == RouteAuto {
					e, err := engine.GramEigh(be, x, false, rtolFast)
					if err != nil {
						return err
					}
					w, vec = e.Values, e.Vectors
					c.Outcome["route"] = string(e.Route)
					return nil
				}
				var err error
				w, vec, err = gramRoute(be, x, route)
				return err
			}
			c.Check = func() error {
				if route == RouteAuto {
					c.Flops = routeFlops(fmt.Sprint(c.Outcome["route"]), n, d)
				}
				c.Outcome["rank"] = vec.Cols
				return checkGramEigen(x, w, vec, unitRoundoff(be.Info().Precision))
			}
			return c, nil
		}
		out = append(out, s)
	}
	return out
}

// checkGramEigen checks eigenpairs of XᵀX without forming it: the trace
// invariant Σλ = ‖X‖_F², the order, and residuals computed as Xᵀ(X·v).
func checkGramEigen(x blas64.General, w []float64, v blas64.General, u float64) error {
	n, d := x.Rows, x.Cols
	fro := 0.0
	for _, e := range x.Data[:n*d] {
		fro += e * e
	}
	sum := 0.0
	for i, e := range w {
		if math.IsNaN(e) {
			return fmt.Errorf("eigenvalue %d is NaN", i)
		}
		if i > 0 && e > w[i-1] {
			return fmt.Errorf("eigenvalues not descending at %d", i)
		}
		sum += e
	}
	m := float64(max(n, d))
	if math.Abs(sum-fro) > 100*m*u*fro {
		return fmt.Errorf("Σλ = %.15g but ‖X‖_F² = %.15g", sum, fro)
	}
	if r := v.Cols; r != min(n, d) {
		return fmt.Errorf("numerical rank %d, the data are full rank %d", r, min(n, d))
	}
	t := make([]float64, n)
	mul := func(in, out []float64) {
		for i := 0; i < n; i++ {
			t[i] = dot(x.Data[i*d:(i+1)*d], in)
		}
		clear(out)
		for i := 0; i < n; i++ {
			row := x.Data[i*d : (i+1)*d]
			for j, e := range row {
				out[j] += e * t[i]
			}
		}
	}
	tol := 1e4 * m * u
	return checkEigenVectors(mul, d, w, v, sampleCols(v.Cols/2, 8, 42), tol*w[0], tol)
}
