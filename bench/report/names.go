package report

// The names a report's results are grouped and paired by. They are part of
// the schema: a result's "group", its params "series" and "route" take these
// values, and Derive and Markdown find their tables through them.

// Groups: one table of the report each.
const (
	GroupCeiling    = "gemm"
	GroupGram       = "gram"
	GroupEigh       = "eigh"
	GroupFast       = "fast_gram_eigh"
	GroupAlign      = "align"
	GroupScaling    = "scaling"
	GroupDenoise    = "denoise"
	GroupRSVD       = "rsvd"
	GroupStream     = "imagenet"
	GroupEigenPhase = "eigen_phase" // eigenvalues and M·U, with or without U
	GroupEndToEnd   = "e2e"         // a whole command in a child process, peak memory included
	GroupMoments    = "moments"     // the moments file, one process against a Beam pipeline
)

// Routes of the fast_gram_eigh comparison (params "route").
const (
	RouteDirect = "direct"
	RouteDual   = "dual"
	RouteAuto   = "auto"
)

// Routes of the eigen-phase comparison (params "route").
const (
	// RouteVectors: the full eigendecomposition with vectors U, then M·U.
	RouteVectors = "vectors"
	// RouteProjection: eigenvalues and M·U without ever forming U.
	RouteProjection = "projection"
)

// Scaling series (params "series") and the exponent each should show.
const (
	SeriesGramN           = "gram_vs_n"
	SeriesGramD           = "gram_vs_d"
	SeriesEigh            = "eigh_vs_n"
	SeriesEigenVectors    = "eigen_vectors_vs_d"
	SeriesEigenProjection = "eigen_projection_vs_d"
)

var seriesExponent = map[string]float64{SeriesGramN: 1, SeriesGramD: 2, SeriesEigh: 3, SeriesEigenVectors: 3, SeriesEigenProjection: 3}
var seriesVariable = map[string]string{SeriesGramN: "N", SeriesGramD: "D", SeriesEigh: "n", SeriesEigenVectors: "D", SeriesEigenProjection: "D"}

// SeriesExponent is the exponent a scaling series should show (1 for a
// series this package does not know).
func SeriesExponent(series string) float64 {
	if e := seriesExponent[series]; e > 0 {
		return e
	}
	return 1
}

// SeriesVariable is the size variable of a series ("N" when unknown).
func SeriesVariable(series string) string {
	if v := seriesVariable[series]; v != "" {
		return v
	}
	return "N"
}
