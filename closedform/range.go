package closedform

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Range is the clean data seen in the eigen-coordinates of its Gram,
// restricted to the numerical range: everything the closed forms need.
type Range struct {
	N, D, C  int
	Centered bool
	Route    engine.Route
	RTol     float64
	// Values are all computed eigenvalues of Gx, descending; Lambda the
	// first Rank of them (those above RTol·λ₁).
	Values []float64
	Lambda []float64
	Rank   int
	// U (D × Rank) are the orthonormal eigenvectors of Gx, or empty for a
	// range built without them (RangeOptions.Vectors false): see Vectors.
	U blas64.General
	// Z is C × Rank: column j is Yᵀq_j = M u_j/√λ_j, the targets seen by
	// the j-th unit principal direction in sample space.
	Z       blas64.General
	Gy      blas64.General // C × C, uncentred YᵀY
	TraceGx float64        // tr Gx over all of feature space
	MeanX   []float64
	MeanY   []float64
	// Stats are the moments the range came from (nil for the dual route).
	// Their Gx is gone when they were released to the eigendecomposition
	// (engine.Moments.Release); the masking pencils then read the
	// same-patch entries kept for RangeOptions.Masks.
	Stats *engine.Stats

	// The caches of the masking pencils, per patch layout: the same-patch
	// entries of Gx (samePatch) and the layout's eigenbasis, which does not
	// depend on the drop probability, so a grid over p forms it once.
	mu      sync.Mutex
	entries map[patchKey][]float64
	bases   map[patchKey]*patchBasis
}

type patchKey struct {
	shape  data.Shape
	ph, pw int
}

// RangeOptions configure NewRangeWith.
type RangeOptions struct {
	RTol float64 // 0: engine.DefaultRTol
	// Vectors keeps U, the eigenvectors of the range. The clean curve, the
	// Gaussian pencil and Theorem 1's losses need only Λ and Z, which
	// without U come from engine.ProjectStats: on the CPU backends a
	// two-stage reduction that never forms U (at D = 12,288 it saves the
	// back-transform and a D×D matrix). The masking and Monte Carlo
	// pencils and the encoders V*, Z* need U.
	Vectors bool
	// Masks are the masking noises whose pencils will be formed on the
	// range: the same-patch entries of Gx they read (D·|patch| values per
	// layout) are kept before the eigendecomposition, which consumes Gx
	// when the moments were released to it.
	Masks []Mask
}

// NewRange eigendecomposes the Gram of finalized moments (D×D), keeping
// the eigenvectors: NewRangeWith with Vectors set.
func NewRange(be backend.Backend, st *engine.Stats, rtol float64) (*Range, error) {
	return NewRangeWith(be, st, RangeOptions{RTol: rtol, Vectors: true})
}

// NewRangeWith eigendecomposes the Gram of finalized moments (D×D). The
// Gram of released moments (engine.Moments.Release) is used up as the
// eigendecomposition's workspace: one D×D matrix less.
func NewRangeWith(be backend.Backend, st *engine.Stats, opt RangeOptions) (*Range, error) {
	rtol := opt.RTol
	if rtol == 0 {
		rtol = engine.DefaultRTol
	}
	if !(rtol > 0 && rtol < 1) {
		return nil, fmt.Errorf("closedform: rtol %g outside (0, 1)", rtol)
	}
	if st.Gx.Rows != st.D {
		return nil, fmt.Errorf("closedform: the %d×%d Gram of these moments was used up by an earlier eigendecomposition", st.D, st.D)
	}
	rg := &Range{N: st.N, D: st.D, C: st.C, Centered: st.Centered, RTol: rtol, Gy: st.Gy, MeanX: st.MeanX, MeanY: st.MeanY, Stats: st}
	for i := 0; i < st.D; i++ {
		rg.TraceGx += st.Gx.Data[i*st.Gx.Stride+i]
	}
	for _, m := range opt.Masks {
		if m.Validate(st.D) == nil {
			rg.samePatch(m) // a mask that does not fit reports it when its pencil is formed
		}
	}
	var e *engine.Eigen
	var p engine.Projections
	var err error
	if opt.Vectors {
		if e, err = engine.EighStats(be, st, rtol, true); err == nil && e.Rank > 0 {
			p, err = engine.ProjectionsFromStats(be, st, e)
		}
	} else {
		e, p, err = engine.ProjectStats(be, st, rtol)
	}
	if err != nil {
		return nil, err
	}
	if e.Rank == 0 {
		return nil, fmt.Errorf("closedform: the data have no variance (Gx has rank 0)")
	}
	rg.Route, rg.Values, rg.Lambda, rg.Rank, rg.U, rg.Z = e.Route, e.Values, e.Values[:e.Rank], e.Rank, e.Vectors, p.YQ
	return rg, nil
}

// ErrNoVectors: a closed form that needs the eigenvectors U, on a range
// built without them.
var ErrNoVectors = errors.New("the range was built without its eigenvectors (RangeOptions.Vectors)")

// vectors returns U, or an error saying what needed it.
func (rg *Range) vectors(what string) (blas64.General, error) {
	if rg.U.Rows != rg.D || rg.U.Cols != rg.Rank {
		return blas64.General{}, fmt.Errorf("closedform: %s: %w", what, ErrNoVectors)
	}
	return rg.U, nil
}

// NewRangeFromData builds the range from in-memory data x (N×D) and dense
// targets y (N×C), on the cheaper side of the Gram: the N×N dual when
// N < D (the paper's fast_gram_eigh), where Z comes directly from the
// sample-space eigenvectors. Centering removes the mean of x only.
func NewRangeFromData(be backend.Backend, x, y blas64.General, center bool, rtol float64) (*Range, error) {
	if rtol == 0 {
		rtol = engine.DefaultRTol
	}
	if !(rtol > 0 && rtol < 1) {
		return nil, fmt.Errorf("closedform: rtol %g outside (0, 1)", rtol)
	}
	n, d, c := x.Rows, x.Cols, y.Cols
	if y.Rows != n {
		return nil, fmt.Errorf("closedform: %d rows of data but %d rows of targets", n, y.Rows)
	}
	e, err := engine.GramEigh(be, x, center, rtol)
	if err != nil {
		return nil, err
	}
	if e.Rank == 0 {
		return nil, fmt.Errorf("closedform: the data have no variance (Gx has rank 0)")
	}
	rg := &Range{N: n, D: d, C: c, Centered: center, Route: e.Route, RTol: rtol,
		Values: e.Values, Lambda: e.Values[:e.Rank], Rank: e.Rank, U: e.Vectors,
		Gy: backend.NewGeneral(c, c), MeanX: make([]float64, d), MeanY: make([]float64, c)}
	for i := 0; i < n; i++ {
		for j, v := range x.Data[i*x.Stride : i*x.Stride+d] {
			rg.MeanX[j] += v / float64(n)
		}
		for j, v := range y.Data[i*y.Stride : i*y.Stride+c] {
			rg.MeanY[j] += v / float64(n)
		}
	}
	for i := 0; i < n; i++ {
		for j, v := range x.Data[i*x.Stride : i*x.Stride+d] {
			if center {
				v -= rg.MeanX[j]
			}
			rg.TraceGx += v * v
		}
	}
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, y, y, 0, rg.Gy); err != nil {
		return nil, err
	}
	rg.Z = backend.NewGeneral(c, e.Rank)
	if e.Route == engine.RouteDual {
		// Yᵀq_j with q_j the sample-space eigenvectors themselves; they are
		// orthogonal to 1 when x was centred, so Y and Y_c give the same.
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, y, e.Sample, 0, rg.Z); err != nil {
			return nil, err
		}
		return rg, nil
	}
	xc := x
	if center {
		xc = backend.NewGeneral(n, d)
		for i := 0; i < n; i++ {
			for j, v := range x.Data[i*x.Stride : i*x.Stride+d] {
				xc.Data[i*d+j] = v - rg.MeanX[j]
			}
		}
	}
	m := backend.NewGeneral(c, d)
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, y, xc, 0, m); err != nil {
		return nil, err
	}
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, m, rg.U, 0, rg.Z); err != nil {
		return nil, err
	}
	scaleCols(rg.Z, rg.Lambda, -0.5)
	return rg, nil
}

// Clean is the alignment curve of the principal directions themselves,
// identical to engine.AlignmentCurve on the same moments.
func (rg *Range) Clean(opt engine.AlignOptions) (*engine.Curve, error) {
	eig := &engine.Eigen{Route: rg.Route, Values: rg.Values, Rank: rg.Rank}
	return engine.CurveFrom(engine.Projections{YQ: rg.Z, Gy: rg.Gy}, eig, rg.Centered, opt)
}

// curveOfTargets is the alignment curve of the directions whose targets
// Yᵀq̃_j are the columns of yq, labelled by values.
func (rg *Range) curveOfTargets(yq blas64.General, values []float64, opt engine.AlignOptions) (*engine.Curve, error) {
	eig := &engine.Eigen{Route: rg.Route, Values: values, Rank: yq.Cols}
	return engine.CurveFrom(engine.Projections{YQ: yq, Gy: rg.Gy}, eig, rg.Centered, opt)
}

// Encoder maps whitened coordinates (Rank × m) to feature space: the D × m
// matrix U Λ^{-1/2} e, whose columns are Gx-orthonormal when e's are
// orthonormal.
func (rg *Range) Encoder(be backend.Backend, e blas64.General) (blas64.General, error) {
	u, err := rg.vectors("the encoder V*")
	if err != nil {
		return blas64.General{}, err
	}
	s := backend.Clone(e)
	scaleRows(s, rg.Lambda, -0.5)
	v := backend.NewGeneral(rg.D, e.Cols)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, u, s, 0, v); err != nil {
		return blas64.General{}, err
	}
	return v, nil
}

// scaleCols multiplies column j of a by w_j^pow.
func scaleCols(a blas64.General, w []float64, pow float64) {
	f := powers(w, pow)
	for i := 0; i < a.Rows; i++ {
		row := a.Data[i*a.Stride : i*a.Stride+a.Cols]
		for j := range row {
			row[j] *= f[j]
		}
	}
}

// scaleRows multiplies row i of a by w_i^pow.
func scaleRows(a blas64.General, w []float64, pow float64) {
	f := powers(w, pow)
	for i := 0; i < a.Rows; i++ {
		row := a.Data[i*a.Stride : i*a.Stride+a.Cols]
		for j := range row {
			row[j] *= f[i]
		}
	}
}

func powers(w []float64, pow float64) []float64 {
	f := make([]float64, len(w))
	for i, v := range w {
		switch pow {
		case -0.5:
			f[i] = 1 / math.Sqrt(v)
		case 0.5:
			f[i] = math.Sqrt(v)
		default:
			f[i] = math.Pow(v, pow)
		}
	}
	return f
}
