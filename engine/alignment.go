package engine

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/spectral"
)

// Form chooses how one direction's alignment a_j is measured.
type Form string

const (
	// FormGram is Eq. 7 of the paper: a_j = ‖YYᵀq_j‖².
	FormGram Form = "gram"
	// FormRegression is the R² view of Corollary 1.2: a_j = ‖Yᵀq_j‖².
	FormRegression Form = "regression"
)

// Scale chooses how the cumulative ratio is reported.
type Scale string

const (
	ScaleSquared Scale = "squared" // the ratio itself, as in Eq. 7
	ScaleNorm    Scale = "norm"    // its square root, as the reference figures plot
)

// Normalize chooses the denominator of the cumulative ratio.
type Normalize string

const (
	// NormalizeFull divides by the full-rank total Σ_{j≤r} a_j (Eq. 7): the
	// curve reaches 1 at k = rank.
	NormalizeFull Normalize = "full"
	// NormalizePapercode divides by the value a complete basis of sample space
	// would reach (‖YᵀY‖_F² for the gram form, tr(YᵀY) for the regression
	// form), as the paper's printed alignment_sweep does; it stays below 1
	// when N > D.
	NormalizePapercode Normalize = "papercode"
)

// ParseForm, ParseScale and ParseNormalize validate user input.
func ParseForm(s string) (Form, error) {
	switch Form(s) {
	case FormGram, FormRegression:
		return Form(s), nil
	}
	return "", fmt.Errorf("unknown form %q: want gram or regression", s)
}

func ParseScale(s string) (Scale, error) {
	switch Scale(s) {
	case ScaleSquared, ScaleNorm:
		return Scale(s), nil
	}
	return "", fmt.Errorf("unknown scale %q: want squared or norm", s)
}

func ParseNormalize(s string) (Normalize, error) {
	switch Normalize(s) {
	case NormalizeFull, NormalizePapercode:
		return Normalize(s), nil
	}
	return "", fmt.Errorf("unknown normalisation %q: want full or papercode", s)
}

// AlignOptions are the choices between the paper's variants of the curve
// (see README's "Which alignment?"); the zero value means centred
// off, gram form, squared scale, full normalisation, DefaultRTol.
type AlignOptions struct {
	Center    bool
	Form      Form
	Scale     Scale
	Normalize Normalize
	RTol      float64
}

func (o AlignOptions) withDefaults() AlignOptions {
	if o.Form == "" {
		o.Form = FormGram
	}
	if o.Scale == "" {
		o.Scale = ScaleSquared
	}
	if o.Normalize == "" {
		o.Normalize = NormalizeFull
	}
	if o.RTol == 0 {
		o.RTol = DefaultRTol
	}
	return o
}

// Curve is the alignment curve for k = 1..Rank.
type Curve struct {
	K         []int     `json:"k"`
	Alignment []float64 `json:"alignment"` // in the requested scale, fractions in [0, 1]
	// PerDirection holds a_j, each direction's own contribution (unnormalised).
	PerDirection []float64 `json:"per_direction"`
	Eigenvalues  []float64 `json:"eigenvalues"` // all computed, descending
	Rank         int       `json:"rank"`
	Denominator  float64   `json:"denominator"`
	Route        Route     `json:"route"`
	Form         Form      `json:"form"`
	Scale        Scale     `json:"scale"`
	Normalize    Normalize `json:"normalize"`
	Centered     bool      `json:"centered"`
	RTol         float64   `json:"rtol"`
	// Backend is the backend that computed it (set by Engine.Align).
	Backend backend.Info `json:"backend"`
}

// Projections are the C-vectors Yᵀq_j of the leading directions, columns of
// a C × r matrix, together with YᵀY. Every alignment quantity is a function of
// them, whichever route produced them.
type Projections struct {
	YQ blas64.General // C × r, column j = Yᵀq_j
	Gy blas64.General // C × C
}

// ProjectionsFromStats computes Yᵀq_j = M·u_j/√λ_j from the moments alone.
func ProjectionsFromStats(be backend.Backend, st *Stats, e *Eigen) (Projections, error) {
	r := e.Rank
	yq := backend.NewGeneral(st.C, r)
	if r > 0 && st.C > 0 {
		if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, st.M, e.Vectors, 0, yq); err != nil {
			return Projections{}, err
		}
		scaleColumns(yq, e.Values[:r])
	}
	return Projections{YQ: yq, Gy: st.Gy}, nil
}

// scaleColumns divides column j of a by √λ_j.
func scaleColumns(a blas64.General, lambda []float64) {
	for i := 0; i < a.Rows; i++ {
		row := a.Data[i*a.Stride : i*a.Stride+a.Cols]
		for j := range row {
			row[j] /= math.Sqrt(lambda[j])
		}
	}
}

// PerDirection returns a_j for each column of p.YQ in the chosen form. The
// gram form's bᵀ·Gy·b for every column b at once is one product Z = Gy·YQ
// (gonum's blocked Dgemm over the cores), a_j = Σ_i YQ_ij·Z_ij: 2·C²·r
// flops that a loop per column spent seconds on at C = 1,000 classes.
func (p Projections) PerDirection(form Form) []float64 {
	c, r := p.YQ.Rows, p.YQ.Cols
	a := make([]float64, r)
	z := p.YQ // the regression form: a_j = Σ_i YQ_ij²
	if form != FormRegression && c > 0 && r > 0 {
		z = backend.NewGeneral(c, r)
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, p.Gy, p.YQ, 0, z)
	}
	for i := 0; i < c; i++ {
		zi := z.Data[i*z.Stride : i*z.Stride+r]
		for j, v := range p.YQ.Data[i*p.YQ.Stride : i*p.YQ.Stride+r] {
			a[j] += v * zi[j]
		}
	}
	return a
}

// PapercodeDenominator is what a complete basis of sample space reaches:
// ‖YᵀY‖_F² for the gram form and tr(YᵀY) for the regression form.
func (p Projections) PapercodeDenominator(form Form) float64 {
	c := p.Gy.Rows
	s := 0.0
	for i := 0; i < c; i++ {
		for j := 0; j < c; j++ {
			v := p.Gy.Data[i*p.Gy.Stride+j]
			if form == FormRegression {
				if i == j {
					s += v
				}
			} else {
				s += v * v
			}
		}
	}
	return s
}

// CurveFrom assembles the cumulative curve from per-direction projections.
func CurveFrom(p Projections, e *Eigen, centered bool, opt AlignOptions) (*Curve, error) {
	opt = opt.withDefaults()
	if p.Gy.Rows == 0 {
		return nil, fmt.Errorf("alignment: %w", ErrNeedsLabels)
	}
	a := p.PerDirection(opt.Form)
	total := 0.0
	for _, v := range a {
		total += v
	}
	den := total
	if opt.Normalize == NormalizePapercode {
		den = p.PapercodeDenominator(opt.Form)
	}
	if !(den > 0) {
		return nil, undefinedAlignment(p, e, centered, den)
	}
	c := &Curve{
		K: make([]int, len(a)), Alignment: make([]float64, len(a)), PerDirection: a,
		Eigenvalues: e.Values, Rank: e.Rank, Denominator: den, Route: e.Route,
		Form: opt.Form, Scale: opt.Scale, Normalize: opt.Normalize, Centered: centered, RTol: opt.RTol,
	}
	cum := 0.0
	for j, v := range a {
		cum += v
		ratio := cum / den
		if opt.Scale == ScaleNorm {
			ratio = math.Sqrt(ratio)
		}
		c.K[j] = j + 1
		c.Alignment[j] = ratio
	}
	return c, nil
}

// AlignmentCurve computes the alignment curve from finalized moments. The
// Stats must have been finalized with the same centering as opt.Center.
// Its Eigen carries the eigenvalues, the rank and the route, not the
// eigenvectors: the curve needs only their projections (ProjectStats).
func AlignmentCurve(be backend.Backend, st *Stats, opt AlignOptions) (*Curve, *Eigen, error) {
	opt = opt.withDefaults()
	if st.Centered != opt.Center {
		return nil, nil, fmt.Errorf("alignment: moments were finalized with centering %v but the options ask for %v", st.Centered, opt.Center)
	}
	e, p, err := ProjectStats(be, st, opt.RTol)
	if err != nil {
		return nil, nil, err
	}
	c, err := CurveFrom(p, e, st.Centered, opt)
	return c, e, err
}

// SpectralOptions are package spectral's options on be, as the engine uses
// them: its threads, and the full eigendecomposition on a device, where one
// GEMM per panel would move the matrix over the bus every time and the
// device's own eigensolver does better.
func SpectralOptions(be backend.Backend) spectral.Options {
	info := be.Info()
	opts := spectral.Options{Workers: info.Threads}
	if info.Device != "cpu" {
		opts.Route = spectral.RouteFull
	}
	return opts
}

// ProjectStats computes every eigenvalue of the D×D Gram of st and the
// projections Yᵀq_j = M·u_j/√λ_j of the directions above the tolerance,
// which is all an alignment curve or a closed form of a_j needs. On the CPU
// backends it never forms the eigenvectors (package spectral: two-stage
// reduction with the reflectors applied to Mᵀ), unless the full
// eigendecomposition is the cheaper route at this size; a GPU backend keeps
// its own eigensolver. The returned Eigen has no Vectors; its Route says
// which way the spectrum was computed, e.g. "direct/two-stage+ql".
func ProjectStats(be backend.Backend, st *Stats, rtol float64) (*Eigen, Projections, error) {
	a, err := st.gramForEigen()
	if err != nil {
		return nil, Projections{}, err
	}
	res, err := spectral.Project(be, a, st.M, SpectralOptions(be))
	if err != nil {
		return nil, Projections{}, fmt.Errorf("eigendecomposition of the %d×%d Gram: %w", st.D, st.D, err)
	}
	e := &Eigen{Route: RouteDirect.With(res.Route), Values: res.Values, Rank: NumericalRank(res.Values, rtol, sampleRank(st.N, st.Centered)), Stages: res.Stages}
	yq := backend.Columns(res.P, e.Rank)
	scaleColumns(yq, e.Values[:e.Rank])
	return e, Projections{YQ: yq, Gy: st.Gy}, nil
}
