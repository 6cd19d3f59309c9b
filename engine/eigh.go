package engine

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/spectral"
)

// Route names which side of the Gram was eigendecomposed, optionally
// followed by "/" and how (the spectral route, e.g. "direct/two-stage+ql").
type Route string

const (
	RouteDirect Route = "direct" // D×D: XᵀX
	RouteDual   Route = "dual"   // N×N: XXᵀ, mapped back with v = Xᵀu/√λ
)

// Side is the route without its method: RouteDirect or RouteDual.
func (r Route) Side() Route {
	if i := strings.IndexByte(string(r), '/'); i >= 0 {
		return r[:i]
	}
	return r
}

// With appends how the side was eigendecomposed.
func (r Route) With(method string) Route { return Route(string(r.Side()) + "/" + method) }

// DefaultRTol is the default relative eigenvalue cut: directions with
// λ_j ≤ rtol·λ_1 are outside the numerical range. An eigenvalue of a Gram
// computed in float64 carries an absolute error of order D·ε·λ_1, so below
// about 1e-12·λ_1 its direction is noise.
const DefaultRTol = 1e-12

// Eigen is an eigendecomposition of a Gram matrix, descending.
type Eigen struct {
	Route  Route
	Values []float64 // all computed eigenvalues, descending
	// Vectors holds the feature-space eigenvectors as columns, D × Rank
	// (unit norm). Nil when vectors were not requested.
	Vectors blas64.General
	// Sample holds the unit sample-space directions q_j = X v_j/√λ_j as
	// columns (N × Rank); only set by the dual route, where they are the
	// eigenvectors themselves.
	Sample blas64.General
	Rank   int // number of eigenvalues above the tolerance
	// Backend is the backend that computed it (set by Engine.Eigh).
	Backend backend.Info
	// Stages are the timed stages of the spectral route (ProjectStats), for
	// logs; empty elsewhere.
	Stages []spectral.Stage
}

// StageSummary is the stages as one line for a log: "name 1.2 s, …".
func (e *Eigen) StageSummary() string {
	parts := make([]string, len(e.Stages))
	for i, s := range e.Stages {
		parts[i] = fmt.Sprintf("%s %.2f s", s.Name, s.Seconds)
	}
	return strings.Join(parts, ", ")
}

// NumericalRank is the rank cut: it counts the leading eigenvalues above
// rtol·λ_1 (values descending; rtol 0 means DefaultRTol), capped at limit.
func NumericalRank(values []float64, rtol float64, limit int) int {
	if rtol <= 0 {
		rtol = DefaultRTol
	}
	if len(values) == 0 || values[0] <= 0 {
		return 0
	}
	cut := rtol * values[0]
	r := 0
	for r < len(values) && r < limit && values[r] > cut {
		r++
	}
	return r
}

// sampleRank is the largest rank n samples can have: n, or n − 1 once
// centred (the centred rows sum to zero).
func sampleRank(n int, centered bool) int {
	if centered {
		return n - 1
	}
	return n
}

// EighStats eigendecomposes the D×D Gram of finalized moments (the direct
// route; the only one possible once the data are reduced to moments).
func EighStats(be backend.Backend, st *Stats, rtol float64, vectors bool) (*Eigen, error) {
	a, err := st.gramForEigen()
	if err != nil {
		return nil, err
	}
	w, err := be.SymEig(a, vectors)
	if err != nil {
		return nil, fmt.Errorf("eigendecomposition of the %d×%d Gram: %w", st.D, st.D, err)
	}
	e := &Eigen{Route: RouteDirect, Values: w, Rank: NumericalRank(w, rtol, sampleRank(st.N, st.Centered))}
	if vectors {
		e.Vectors = backend.Columns(a, e.Rank)
	}
	return e, nil
}

// GramEigh eigendecomposes the Gram of the in-memory data x (N×D, rows are
// samples), centred first when center is set, on whichever side is cheaper:
// XᵀX when N ≥ D, the dual XXᵀ when N < D (O(N³ + DN²) instead of O(D³)).
// Only eigenpairs above the tolerance get feature-space vectors, since
// v = Xᵀu/√λ is undefined for λ = 0.
func GramEigh(be backend.Backend, x blas64.General, center bool, rtol float64) (*Eigen, error) {
	route := RouteDirect
	if x.Rows < x.Cols {
		route = RouteDual
	}
	return GramEighRoute(be, x, center, rtol, route)
}

// GramEighRoute is GramEigh on the route given, whichever side is cheaper:
// for comparing the two (the benchmarks time both at every shape).
func GramEighRoute(be backend.Backend, x blas64.General, center bool, rtol float64, route Route) (*Eigen, error) {
	n, d := x.Rows, x.Cols
	if n == 0 || d == 0 {
		return nil, fmt.Errorf("eigh: empty data (%d×%d)", n, d)
	}
	xc := x
	if center {
		xc = centered(x)
	}
	// Rank X ≤ min(N, D) on either route: forced onto the dual side with
	// N > D, the N − D eigenvalues past D are rounding noise, however small
	// the tolerance.
	limit := min(sampleRank(n, center), d)
	if route == RouteDirect {
		g := backend.NewGeneral(d, d)
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, xc, xc, 0, g); err != nil {
			return nil, err
		}
		w, err := be.SymEig(g, true)
		if err != nil {
			return nil, fmt.Errorf("eigendecomposition of the %d×%d Gram: %w", d, d, err)
		}
		e := &Eigen{Route: RouteDirect, Values: w, Rank: NumericalRank(w, rtol, limit)}
		e.Vectors = backend.Columns(g, e.Rank)
		return e, nil
	}
	k := backend.NewGeneral(n, n)
	if err := be.Gemm(blas.NoTrans, blas.Trans, 1, xc, xc, 0, k); err != nil {
		return nil, err
	}
	w, err := be.SymEig(k, true)
	if err != nil {
		return nil, fmt.Errorf("eigendecomposition of the %d×%d dual Gram: %w", n, n, err)
	}
	e := &Eigen{Route: RouteDual, Values: w, Rank: NumericalRank(w, rtol, limit)}
	e.Sample = backend.Columns(k, e.Rank)
	v := backend.NewGeneral(d, e.Rank)
	if e.Rank > 0 {
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, xc, e.Sample, 0, v); err != nil {
			return nil, err
		}
		for i := 0; i < d; i++ {
			row := v.Data[i*e.Rank : (i+1)*e.Rank]
			for j := range row {
				row[j] /= math.Sqrt(w[j])
			}
		}
	}
	e.Vectors = v
	return e, nil
}

// centered returns a copy of x with each column's mean removed.
func centered(x blas64.General) blas64.General {
	n, d := x.Rows, x.Cols
	out := backend.NewGeneral(n, d)
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x.Data[i*x.Stride : i*x.Stride+d] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		src := x.Data[i*x.Stride : i*x.Stride+d]
		dst := out.Data[i*d : (i+1)*d]
		for j, v := range src {
			dst[j] = v - mean[j]
		}
	}
	return out
}
