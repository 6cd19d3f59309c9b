package bench

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

// derive computes what the report shows beyond single results: scaling
// exponents, the fast_gram_eigh route choices, ratios against the
// references, the claims, and the failure count.
func derive(rep *Report) {
	rep.Fits = fits(rep.Results)
	rep.Routes = routes(rep.Results)
	rep.Comparisons = comparisons(rep.Results)
	rep.Claims = claims(rep)
	rep.Failures = 0
	for _, r := range rep.Results {
		if r.Status == StatusFail {
			rep.Failures++
		}
	}
}

func ok(r Result) bool { return r.Status == StatusOK && r.Seconds != nil && r.Seconds.Median > 0 }

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
		if s == "" || !ok(r) {
			continue
		}
		k := key{s, r.Backend}
		if _, seen := pts[k]; !seen {
			order = append(order, k)
		}
		pts[k] = append(pts[k], [2]float64{sizeOf(r), r.Seconds.Median})
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
		v := seriesVariable[k.series]
		if v == "" {
			v = "N"
		}
		exp := seriesExponent[k.series]
		if exp == 0 {
			exp = 1
		}
		out = append(out, Fit{Series: k.series, Backend: k.backend, Variable: v, Exponent: slope, Expected: exp, Points: p})
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
		if r.Group != GroupFast || !ok(r) {
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
// group and parameters, and in the align group every backend against every
// later one.
func comparisons(results []Result) []Comparison {
	var out []Comparison
	for i, r := range results {
		if !ok(r) || r.Backend == "" {
			continue
		}
		g, _, rest := splitName(r.Name)
		for _, q := range results {
			if q.Backend != "" || !ok(q) {
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
			if q.Backend == "" || q.Backend == r.Backend || !ok(q) {
				continue
			}
			if qg, _, qr := splitName(q.Name); qg == g && qr == rest {
				out = append(out, Comparison{Subject: r.Name, Reference: q.Name, Ratio: q.Seconds.Median / r.Seconds.Median})
			}
		}
	}
	return out
}

// ratio finds the comparison of subject against reference, either way round.
func ratio(cs []Comparison, subject, reference string) (float64, bool) {
	for _, c := range cs {
		if c.Subject == subject && c.Reference == reference {
			return c.Ratio, true
		}
		if c.Subject == reference && c.Reference == subject {
			return 1 / c.Ratio, true
		}
	}
	return 0, false
}

// Claim states one of the project's speed claims (the foundation issue's
// "Speed" section) and whether this run supports it.
type Claim struct {
	Statement string `json:"statement"`
	// Status is "holds", "fails" or "not measured".
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// Thresholds of the speed claims.
const (
	ClaimSweepSpeedup  = 15.0 // openblas align vs the printed NumPy alignment_sweep
	ClaimMomentsRatio  = 1.0  // openblas align vs the NumPy moments script: no slower
	ClaimGonumWithin   = 8.0  // gonum align within this factor of openblas
	ClaimCoresFraction = 0.75 // "uses all cores": CPU seconds / wall ≥ this × cores
)

func claims(rep *Report) []Claim {
	var out []Claim
	add := func(statement string, measured, holds bool, detail string) {
		c := Claim{Statement: statement, Detail: detail, Status: "not measured"}
		if measured {
			c.Status = "fails"
			if holds {
				c.Status = "holds"
			}
		}
		out = append(out, c)
	}
	ds := "fmnist-train"
	if rep.Find("align/openblas/"+ds) == nil {
		ds = "fmnist-test"
	}
	ob := "align/openblas/" + ds
	r, m := ratio(rep.Comparisons, ob, "align/numpy_sweep/"+ds)
	add(fmt.Sprintf("`reconalign align` (openblas, load included) on %s is at least %g× faster than the paper's printed NumPy alignment_sweep", ds, ClaimSweepSpeedup),
		m, r >= ClaimSweepSpeedup, fmt.Sprintf("%.1f×", r))
	r, m = ratio(rep.Comparisons, ob, "align/numpy_moments/"+ds)
	add(fmt.Sprintf("`reconalign align` (openblas) on %s is no slower than the NumPy moments script (XᵀX, eigh)", ds),
		m, r >= ClaimMomentsRatio, ifMeasured(m, "%.2f×", r))
	r, m = ratio(rep.Comparisons, ob, "align/gonum/"+ds)
	detail := ""
	if m {
		detail = fmt.Sprintf("gonum takes %.2f× openblas's time", r)
	}
	add(fmt.Sprintf("the gonum backend stays within %g× of openblas on the same job", ClaimGonumWithin), m, r <= ClaimGonumWithin, detail)
	cores := min(rep.Machine.GoMaxProcs, max(rep.Machine.LogicalCores, 1))
	var gram *Result
	for i := range rep.Results {
		if q := &rep.Results[i]; q.Group == GroupGram && q.Backend == "gonum" && ok(*q) && q.CPUSeconds > 0 {
			gram = q
			break
		}
	}
	if gram != nil {
		used := gram.CPUSeconds / gram.Seconds.Median
		add(fmt.Sprintf("the gonum backend's Gram uses all %d cores", cores), true, used >= ClaimCoresFraction*float64(cores),
			fmt.Sprintf("%s: %.2f cores busy on average", gram.Name, used))
	} else {
		add("the gonum backend's Gram uses all cores", false, false, "")
	}
	no, total := 0, 0
	for _, c := range rep.Routes {
		if c.Agrees == "not measured" {
			continue
		}
		total++
		if c.Agrees == "no" {
			no++
		}
	}
	add("fast_gram_eigh: the engine's automatic route (dual when N < D) is the faster one, or within 10%, at every measured shape",
		total > 0, no == 0, fmt.Sprintf("%d of %d shapes agree or tie", total-no, total))
	for _, f := range rep.Fits {
		if f.Series != SeriesGramN && f.Series != SeriesGramD && f.Series != SeriesEigh {
			continue
		}
		tol := 0.2 * f.Expected
		add(fmt.Sprintf("%s on %s grows as %s^%g (±%.1f)", seriesTitle(f.Series), f.Backend, f.Variable, f.Expected, tol),
			true, math.Abs(f.Exponent-f.Expected) <= tol, fmt.Sprintf("fitted exponent %.2f over %d sizes", f.Exponent, len(f.Points)))
	}
	return out
}

func ifMeasured(m bool, format string, args ...any) string {
	if !m {
		return ""
	}
	return fmt.Sprintf(format, args...)
}

func seriesTitle(s string) string {
	switch s {
	case SeriesGramN:
		return "the Gram's time against N"
	case SeriesGramD:
		return "the Gram's time against D"
	case SeriesEigh:
		return "eigh's time against n"
	}
	return s
}
