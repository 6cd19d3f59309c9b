package scenario

import (
	"fmt"
	"math"
	"strings"

	"github.com/reconalign/reconalign/bench/report"
)

// The project's speed claims, checked against a run: the foundation
// issue's, always stated (so a run that could not measure one says so), and
// the open issues' goals, stated when the run has the scenarios they need.

// Thresholds of the speed claims.
const (
	ClaimSweepSpeedup  = 15.0 // openblas align vs the printed NumPy alignment_sweep
	ClaimMomentsRatio  = 1.0  // openblas align vs the NumPy moments script: no slower
	ClaimGonumWithin   = 8.0  // gonum align within this factor of openblas
	ClaimCoresFraction = 0.75 // "uses all cores": CPU seconds / wall ≥ this × cores

	ClaimGemmFraction    = 0.80  // pure-Go dgemm at n = 1,536 against OpenBLAS's rate
	ClaimPureGoEigh      = 2.0   // pure-Go eigh with vectors within this factor of openblas's, n ≥ 2,048
	ClaimLargeAlignNumPy = 3.0   // openblas align (8,192 × 4,096) vs the NumPy moments script
	ClaimPureGoNumPy     = 1.0   // pure-Go align (8,192 × 4,096) vs the NumPy moments script: no slower
	ClaimEigenProjection = 3.0   // the eigen phase by projection vs dsyevd with vectors + GEMM
	ClaimDualPeakBytes   = 1.5e9 // align --synthetic imagenet224,n=3000
	ClaimDirectPeakBytes = 3e9   // align --synthetic imagenet64,n=50000
	ClaimBeamSmall       = 2.0   // reconalign-beam on Prism vs reconalign moments, Fashion-MNIST shards
	ClaimBeamLarge       = 1.3   // the same on about 1 GB of shards
)

// claims states the claims of a report (bench.Suite.Derive).
func claims(rep *report.Report) {
	var out []report.Claim
	add := func(statement string, measured, holds bool, detail string) {
		c := report.Claim{Statement: statement, Detail: detail, Status: report.ClaimNotMeasured}
		if measured {
			c.Status = report.ClaimFails
			if holds {
				c.Status = report.ClaimHolds
			}
		}
		out = append(out, c)
	}
	ds := "fmnist-train"
	if rep.Find("align/openblas/"+ds) == nil {
		ds = "fmnist-test"
	}
	// Each family of claims is stated only where the run has its
	// scenarios (the large suite has no Fashion-MNIST alignment, no route
	// comparison and no scaling series): a row "not measured" then means a
	// scenario of this run failed or was skipped, never that another suite
	// measures it.
	if ob := "align/openblas/" + ds; rep.Find(ob) != nil {
		fashionClaims(rep, ds, ob, add)
	}
	cores := min(rep.Machine.GoMaxProcs, max(rep.Machine.LogicalCores, 1))
	var gram *report.Result
	for i := range rep.Results {
		if q := &rep.Results[i]; q.Group == report.GroupGram && q.Backend == "gonum" && q.OK() && q.CPUSeconds > 0 {
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
	if len(rep.Routes) > 0 {
		add("fast_gram_eigh: the engine's automatic route (dual when N < D) is the faster one, or within 10%, at every measured shape",
			total > 0, no == 0, fmt.Sprintf("%d of %d shapes agree or tie", total-no, total))
	}
	for _, f := range rep.Fits {
		if f.Series != report.SeriesGramN && f.Series != report.SeriesGramD && f.Series != report.SeriesEigh {
			continue
		}
		if len(f.Points) < 3 {
			continue // two sizes fit any slope: no claim
		}
		tol := 0.2 * f.Expected
		add(fmt.Sprintf("%s on %s grows as %s^%g (±%.1f)", seriesTitle(f.Series), f.Backend, f.Variable, f.Expected, tol),
			true, math.Abs(f.Exponent-f.Expected) <= tol, fmt.Sprintf("fitted exponent %.2f over %d sizes", f.Exponent, len(f.Points)))
	}
	goalClaims(rep, add)
	rep.Claims = out
}

// fashionClaims are the claims of the Fashion-MNIST alignment (ob: the
// openblas result's name).
func fashionClaims(rep *report.Report, ds, ob string, add func(statement string, measured, holds bool, detail string)) {
	r, m := rep.Ratio(ob, "align/numpy_sweep/"+ds)
	add(fmt.Sprintf("`reconalign align` (openblas, load included) on %s is at least %g× faster than the paper's printed NumPy alignment_sweep", ds, ClaimSweepSpeedup),
		m, r >= ClaimSweepSpeedup, fmt.Sprintf("%.1f×", r))
	r, m = rep.Ratio(ob, "align/numpy_moments/"+ds)
	add(fmt.Sprintf("`reconalign align` (openblas) on %s is no slower than the NumPy moments script (XᵀX, eigh)", ds),
		m, r >= ClaimMomentsRatio, ifMeasured(m, "%.2f×", r))
	r, m = rep.Ratio(ob, "align/gonum/"+ds)
	detail := ""
	if m {
		detail = fmt.Sprintf("gonum takes %.2f× openblas's time", r)
	}
	add(fmt.Sprintf("the gonum backend stays within %g× of openblas on the same job", ClaimGonumWithin), m, r <= ClaimGonumWithin, detail)
}

// goalClaims states the open issues' goals whose scenarios the run has
// (measured or not).
func goalClaims(rep *report.Report, add func(statement string, measured, holds bool, detail string)) {
	// The pure-Go backend's GEMM against OpenBLAS's, at the n.
	if g, o := rep.Find("gemm/gonum/n=1536"), rep.Find("gemm/openblas/n=1536"); g != nil || o != nil {
		m := g != nil && o != nil && g.OK() && o.OK() && o.GFlops > 0
		frac, detail := 0.0, ""
		if m {
			frac = g.GFlops / o.GFlops
			detail = fmt.Sprintf("gonum %.1f GFLOP/s, openblas %.1f GFLOP/s (medians): %.0f%%", g.GFlops, o.GFlops, 100*frac)
		}
		add(fmt.Sprintf("the pure-Go backend's dgemm at n = 1,536 reaches at least %.0f%% of OpenBLAS's rate", 100*ClaimGemmFraction),
			m, frac >= ClaimGemmFraction, detail)
	}
	// The pure-Go eigensolver with vectors against openblas's dsyevd, at the
	// issue's orders.
	for _, n := range []int{2048, 4096} {
		g, o := rep.Find(fmt.Sprintf("eigh/gonum/n=%d", n)), rep.Find(fmt.Sprintf("eigh/openblas/n=%d", n))
		if g == nil && o == nil {
			continue
		}
		m := g != nil && o != nil && g.OK() && o.OK()
		ratio, detail := 0.0, ""
		if m {
			ratio = g.Seconds.Median / o.Seconds.Median
			detail = fmt.Sprintf("gonum %.3g s, openblas %.3g s (medians): %.2f×", g.Seconds.Median, o.Seconds.Median, ratio)
		}
		add(fmt.Sprintf("the pure-Go backend's eigh with vectors at n = %d takes at most %g× openblas's time", n, ClaimPureGoEigh),
			m, ratio <= ClaimPureGoEigh, detail)
	}
	// The 8,192 × 4,096 alignment against the NumPy moments script.
	if spec, err := synthDataset(eigenSmall); err == nil {
		ref := "align/numpy_moments/" + spec
		if rep.Find(ref) != nil {
			r, m := rep.Ratio("align/openblas/"+spec, ref)
			add(fmt.Sprintf("`reconalign align` (openblas) on %s (uint8, 10 classes) is at least %g× faster than the NumPy moments script", spec, ClaimLargeAlignNumPy),
				m, r >= ClaimLargeAlignNumPy, ifMeasured(m, "%.2f×", r))
			r, m = rep.Ratio("align/gonum/"+spec, ref)
			add(fmt.Sprintf("`reconalign align` on the pure-Go backend (gonum) on %s is no slower than the NumPy moments script", spec),
				m, r >= ClaimPureGoNumPy, ifMeasured(m, "%.2f×", r))
		}
	}
	// The eigen phase without eigenvectors, per backend and shape.
	for _, r := range rep.Results {
		if r.Group != report.GroupEigenPhase || r.Params["route"] != report.RouteVectors {
			continue
		}
		proj := strings.Replace(r.Name, "/"+report.RouteVectors+"/", "/"+report.RouteProjection+"/", 1)
		ratio, m := rep.Ratio(proj, r.Name)
		add(fmt.Sprintf("the eigen phase on %s at D = %v, C = %v by projection is at least %g× faster than the eigendecomposition with vectors + GEMM",
			r.Backend, r.Params["d"], r.Params["c"], ClaimEigenProjection), m, ratio >= ClaimEigenProjection, ifMeasured(m, "%.2f×", ratio))
	}
	// Peak memory of the whole alignment.
	for _, r := range rep.Results {
		if r.Group != report.GroupEndToEnd {
			continue
		}
		limit, what := 0.0, ""
		switch r.Params["spec"] {
		case "imagenet224,n=3000":
			limit, what = ClaimDualPeakBytes, "(dual route)"
		case "imagenet64,n=50000":
			limit, what = ClaimDirectPeakBytes, "(D = 12,288)"
		default:
			continue
		}
		m := r.OK() && r.PeakRSSBytes > 0
		add(fmt.Sprintf("`reconalign align --synthetic %v` %s on %s peaks at ≤ %.1f GB", r.Params["spec"], what, r.Backend, limit/1e9),
			m, float64(r.PeakRSSBytes) <= limit, ifMeasured(m, "%.2f GB in %s", float64(r.PeakRSSBytes)/1e9, fmtTime(r)))
	}
	// The Beam pipeline's overhead on one machine.
	for _, r := range rep.Results {
		if r.Group != report.GroupMoments || r.Backend != "" {
			continue
		}
		_, set, _ := strings.Cut(strings.TrimPrefix(r.Name, report.GroupMoments+"/"), "/")
		limit := ClaimBeamLarge
		if strings.HasPrefix(set, "fmnist") {
			limit = ClaimBeamSmall
		}
		subject := ""
		for _, b := range []string{"openblas", "gonum"} {
			if q := rep.Find(report.GroupMoments + "/" + b + "/" + set); q != nil && q.OK() {
				subject = q.Name
				break
			}
		}
		// The ratio is the reference's time over the subject's: the
		// pipeline's overhead.
		overhead, m := rep.Ratio(subject, r.Name)
		add(fmt.Sprintf("`reconalign-beam` on Prism takes at most %g× the time of `reconalign moments` on %s", limit, set),
			m, overhead <= limit, ifMeasured(m, "%.2f× (against %s)", overhead, subject))
	}
}

func ifMeasured(m bool, format string, args ...any) string {
	if !m {
		return ""
	}
	return fmt.Sprintf(format, args...)
}

func fmtTime(r report.Result) string {
	if r.Seconds == nil {
		return "–"
	}
	return fmt.Sprintf("%.0f s", r.Seconds.Median)
}

func seriesTitle(s string) string {
	switch s {
	case report.SeriesGramN:
		return "the Gram's time against N"
	case report.SeriesGramD:
		return "the Gram's time against D"
	case report.SeriesEigh:
		return "eigh's time against n"
	}
	return s
}
