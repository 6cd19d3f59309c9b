package scenario

import (
	"fmt"
	"math"

	"github.com/reconalign/reconalign/bench/report"
)

// The project's speed claims (the foundation issue's "Speed" section),
// checked against a run: always stated, so a run that could not measure one
// says so.

// Thresholds of the speed claims.
const (
	ClaimSweepSpeedup  = 15.0 // openblas align vs the printed NumPy alignment_sweep
	ClaimMomentsRatio  = 1.0  // openblas align vs the NumPy moments script: no slower
	ClaimGonumWithin   = 8.0  // gonum align within this factor of openblas
	ClaimCoresFraction = 0.75 // "uses all cores": CPU seconds / wall ≥ this × cores
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
	ob := "align/openblas/" + ds
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
	add("fast_gram_eigh: the engine's automatic route (dual when N < D) is the faster one, or within 10%, at every measured shape",
		total > 0, no == 0, fmt.Sprintf("%d of %d shapes agree or tie", total-no, total))
	for _, f := range rep.Fits {
		if f.Series != report.SeriesGramN && f.Series != report.SeriesGramD && f.Series != report.SeriesEigh {
			continue
		}
		tol := 0.2 * f.Expected
		add(fmt.Sprintf("%s on %s grows as %s^%g (±%.1f)", seriesTitle(f.Series), f.Backend, f.Variable, f.Expected, tol),
			true, math.Abs(f.Exponent-f.Expected) <= tol, fmt.Sprintf("fitted exponent %.2f over %d sizes", f.Exponent, len(f.Points)))
	}
	rep.Claims = out
}

func ifMeasured(m bool, format string, args ...any) string {
	if !m {
		return ""
	}
	return fmt.Sprintf(format, args...)
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
