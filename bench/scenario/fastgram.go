package scenario

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/internal/check"
	"github.com/reconalign/reconalign/bench/internal/input"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/engine"
)

// The fast_gram_eigh comparison: for one data shape, the direct route
// (XᵀX, D×D), the dual route (XXᵀ, N×N, vectors mapped back with
// v = Xᵀu/√λ), and engine.GramEigh, which picks one of them. Either route is
// forced at any shape through engine.GramEighRoute; the engine's own choice
// is timed as it runs.

// routeFlops is the model count of a route on an N×D matrix: a full GEMM
// for the Gram (as both routes compute it), the eigendecomposition, and for
// the dual route the map back to feature space.
func routeFlops(route string, n, d int) float64 {
	fn, fd := float64(n), float64(d)
	if route == report.RouteDirect {
		return 2*fn*fd*fd + eighFlops(d)
	}
	r := math.Min(fn, fd)
	return 2*fn*fn*fd + eighFlops(n) + 2*fd*fn*r
}

// fastScenarios registers direct, dual and auto for one shape.
func fastScenarios(b string, n, d int) []bench.Scenario {
	var out []bench.Scenario
	for _, route := range []string{report.RouteDirect, report.RouteDual, report.RouteAuto} {
		s := bench.Scenario{
			Name: fmt.Sprintf("fast_gram_eigh/%s/%s/N=%d,D=%d", b, route, n, d), Group: report.GroupFast, Backend: b,
			Params:    map[string]any{"n": n, "d": d, "route": route},
			RateFrom:  report.GroupEigh,
			Bytes:     8 * float64(n) * float64(d),
			FlopModel: "direct 2ND² + 14D³/3; dual 2N²D + 14N³/3 + 2DN·min(N,D)",
			Check:     "Σλ = ‖X‖_F², descending order, and for 8 sampled pairs the residual ‖Xᵀ(Xv)−λv‖, norms and orthogonality",
		}
		if route != report.RouteAuto {
			s.Flops = routeFlops(route, n, d)
		}
		s.Setup = func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
			v, _ := env.Cached(fmt.Sprintf("imagelike/%dx%d", n, d), func() (any, error) { return input.ImageLike(n, d, 41), nil })
			x := v.(blas64.General)
			var w []float64
			var vec blas64.General
			u, err := backend.UnitRoundoff(be.Info().Precision)
			if err != nil {
				return nil, err
			}
			c := &bench.Case{Outcome: map[string]any{}}
			c.Run = func() error {
				var e *engine.Eigen
				var err error
				if route == report.RouteAuto {
					e, err = engine.GramEigh(be, x, false, engine.DefaultRTol)
				} else {
					e, err = engine.GramEighRoute(be, x, false, engine.DefaultRTol, engine.Route(route))
				}
				if err != nil {
					return err
				}
				w, vec = e.Values, e.Vectors
				if route == report.RouteAuto {
					c.Outcome["route"] = string(e.Route)
				}
				return nil
			}
			c.Check = func() error {
				if route == report.RouteAuto {
					c.Flops = routeFlops(fmt.Sprint(c.Outcome["route"]), n, d)
				}
				c.Outcome["rank"] = vec.Cols
				return check.GramEigen(x, w, vec, u)
			}
			return c, nil
		}
		out = append(out, s)
	}
	return out
}
