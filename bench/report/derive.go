package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// TieFraction: two routes whose medians differ by less than this fraction
// of the faster one are a tie, and either choice is right (so are two
// whose measured ranges overlap).
const TieFraction = 0.10

// Derive computes what the report shows beyond single results and knows
// from the schema alone: scaling exponents, the fast_gram_eigh route
// choices, ratios against the references, and the failure count. The claims
// name particular scenarios, so the suite that registered them states them
// (bench.Suite.Derive), after this.
func Derive(rep *Report) {
	rep.Fits = fits(rep.Results)
	rep.Routes = routes(rep.Results)
	rep.Comparisons = comparisons(rep.Results)
	rep.Failures = 0
	for _, r := range rep.Results {
		if r.Status == StatusFail {
			rep.Failures++
		}
	}
}

// splitName cuts "group/who/rest" (who is a backend or a reference).
func splitName(name string) (group, who, rest string) {
	parts := strings.SplitN(name, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

// fits fits every (series, backend) with at least two measured sizes.
func fits(results []Result) []Fit {
	type key struct{ series, backend string }
	pts := map[key][][2]float64{}
	var order []key
	for _, r := range results {
		s, _ := r.Params["series"].(string)
		if s == "" || !r.OK() {
			continue
		}
		k := key{s, r.Backend}
		if _, seen := pts[k]; !seen {
			order = append(order, k)
		}
		pts[k] = append(pts[k], [2]float64{r.Size(), r.Seconds.Median})
	}
	var out []Fit
	for _, k := range order {
		p := pts[k]
		sort.Slice(p, func(i, j int) bool { return p[i][0] < p[j][0] })
		x, y := make([]float64, len(p)), make([]float64, len(p))
		for i := range p {
			x[i], y[i] = p[i][0], p[i][1]
		}
		slope, err := LogLogSlope(x, y)
		if err != nil {
			continue
		}
		out = append(out, Fit{Series: k.series, Backend: k.backend, Variable: SeriesVariable(k.series), Exponent: slope,
			Expected: SeriesExponent(k.series), Points: p})
	}
	return out
}

// routes pairs the direct, dual and auto results of each shape.
func routes(results []Result) []RouteChoice {
	type key struct {
		backend string
		n, d    int
	}
	by := map[key]map[string]Result{}
	var order []key
	for _, r := range results {
		if r.Group != GroupFast || !r.OK() {
			continue
		}
		k := key{r.Backend, intParam(r, "n"), intParam(r, "d")}
		if by[k] == nil {
			by[k] = map[string]Result{}
			order = append(order, k)
		}
		by[k][fmt.Sprint(r.Params["route"])] = r
	}
	var out []RouteChoice
	for _, k := range order {
		m := by[k]
		dir, okD := m[RouteDirect]
		dual, okU := m[RouteDual]
		if !okD || !okU {
			continue
		}
		c := RouteChoice{Backend: k.backend, N: k.n, D: k.d, Direct: dir.Seconds.Median, Dual: dual.Seconds.Median}
		c.Winner = RouteDirect
		if c.Dual < c.Direct {
			c.Winner = RouteDual
		}
		autoTime := math.Inf(1)
		if a, ok := m[RouteAuto]; ok {
			c.Auto = fmt.Sprint(a.Outcome["route"])
			autoTime = a.Seconds.Median
		}
		fast, slow := math.Min(c.Direct, c.Dual), math.Max(c.Direct, c.Dual)
		switch {
		case c.Auto == "":
			c.Agrees = "not measured"
		case c.Auto == c.Winner:
			c.Agrees = "yes"
		case slow-fast < TieFraction*fast || autoTime < (1+TieFraction)*fast ||
			overlap(dir.Seconds, dual.Seconds):
			c.Agrees = "tie"
		default:
			c.Agrees = "no"
		}
		out = append(out, c)
	}
	return out
}

// overlap reports whether two timings' min–max ranges overlap: then the
// run cannot tell which route is faster, and either choice is right.
func overlap(a, b *Summary) bool {
	return a.Min <= b.Max && b.Min <= a.Max
}

func intParam(r Result, key string) int {
	switch v := r.Params[key].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return 0
}

// comparisons: every backend result against the references of the same
// group and parameters, in the align group every backend against every
// later one, and in the eigen-phase group the projection route against the
// vectors route of the same backend and shape.
func comparisons(results []Result) []Comparison {
	var out []Comparison
	for i, r := range results {
		if !r.OK() || r.Backend == "" {
			continue
		}
		if r.Group == GroupEigenPhase && r.Params["route"] == RouteProjection {
			for _, q := range results {
				if q.Group == GroupEigenPhase && q.Backend == r.Backend && q.Params["route"] == RouteVectors && q.OK() &&
					intParam(q, "d") == intParam(r, "d") && intParam(q, "c") == intParam(r, "c") {
					out = append(out, Comparison{Subject: r.Name, Reference: q.Name, Ratio: q.Seconds.Median / r.Seconds.Median})
				}
			}
			continue
		}
		g, _, rest := splitName(r.Name)
		for _, q := range results {
			if q.Backend != "" || !q.OK() {
				continue
			}
			if qg, _, qr := splitName(q.Name); qg == g && qr == rest {
				out = append(out, Comparison{Subject: r.Name, Reference: q.Name, Ratio: q.Seconds.Median / r.Seconds.Median})
			}
		}
		if g != GroupAlign {
			continue
		}
		for _, q := range results[i+1:] {
			if q.Backend == "" || q.Backend == r.Backend || !q.OK() {
				continue
			}
			if qg, _, qr := splitName(q.Name); qg == g && qr == rest {
				out = append(out, Comparison{Subject: r.Name, Reference: q.Name, Ratio: q.Seconds.Median / r.Seconds.Median})
			}
		}
	}
	return out
}

// Ratio finds the comparison of subject against reference, either way
// round: how many times faster subject was.
func (r *Report) Ratio(subject, reference string) (float64, bool) {
	for _, c := range r.Comparisons {
		if c.Subject == subject && c.Reference == reference {
			return c.Ratio, true
		}
		if c.Subject == reference && c.Reference == subject {
			return 1 / c.Ratio, true
		}
	}
	return 0, false
}

// Claim states one of the project's speed claims and whether this run
// supports it.
type Claim struct {
	Statement string `json:"statement"`
	// Status is ClaimHolds, ClaimFails or ClaimNotMeasured.
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// Claim statuses.
const (
	ClaimHolds       = "holds"
	ClaimFails       = "fails"
	ClaimNotMeasured = "not measured"
)
