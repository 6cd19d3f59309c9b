package report

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestSummarizeMatchesNumPyPercentiles(t *testing.T) {
	// numpy.percentile([4, 1, 3, 2], [25, 50, 75]) = [1.75, 2.5, 3.25]
	s := Summarize([]float64{4, 1, 3, 2})
	if s.Median != 2.5 || s.Q1 != 1.75 || s.Q3 != 3.25 || s.Min != 1 || s.Max != 4 {
		t.Fatalf("%+v", s)
	}
	if s := Summarize([]float64{7}); s.Median != 7 || s.Q1 != 7 || s.Max != 7 {
		t.Fatalf("one sample: %+v", s)
	}
	if Summarize(nil) != nil {
		t.Fatal("summary of no samples")
	}
}

func TestLogLogSlope(t *testing.T) {
	x := []float64{100, 200, 400, 800}
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = 3e-9 * math.Pow(v, 2.5)
	}
	b, err := LogLogSlope(x, y)
	if err != nil || math.Abs(b-2.5) > 1e-12 {
		t.Fatalf("slope %v, %v", b, err)
	}
	if _, err := LogLogSlope([]float64{5, 5}, []float64{1, 2}); err == nil {
		t.Error("equal sizes fitted")
	}
	if _, err := LogLogSlope([]float64{1}, []float64{1}); err == nil {
		t.Error("one point fitted")
	}
}

func TestMergeMarkdownKeepsOtherSections(t *testing.T) {
	sec := func(key, body string) string {
		return markBegin + key + " -->\n" + body + "\n" + markEnd + key + " -->\n"
	}
	old := "# Old title typed by someone\n\n" + sec("standard-cpu", "old cpu") + "\n" + sec("imagenet-gpu", "gpu run") +
		markBegin + "broken -->\nno end marker\n"
	out := MergeMarkdown([]byte(old), "standard-cpu", sec("standard-cpu", "new cpu"))
	if !strings.HasPrefix(out, mdPreamble) || strings.Contains(out, "Old title") {
		t.Error("preamble not regenerated")
	}
	if strings.Contains(out, "old cpu") || !strings.Contains(out, "new cpu") || !strings.Contains(out, "gpu run") {
		t.Errorf("sections not merged:\n%s", out)
	}
	if strings.Index(out, "new cpu") > strings.Index(out, "gpu run") {
		t.Error("section order changed")
	}
	out2 := MergeMarkdown([]byte(out), "quick-cpu", sec("quick-cpu", "quick"))
	if !strings.Contains(out2, "new cpu") || !strings.Contains(out2, "gpu run") || !strings.HasSuffix(out2, sec("quick-cpu", "quick")) {
		t.Errorf("new section not appended:\n%s", out2)
	}
	if MergeMarkdown([]byte(out2), "quick-cpu", sec("quick-cpu", "quick")) != out2 {
		t.Error("merging the same section twice is not idempotent")
	}
}

// The route verdicts: a right pick, a wrong one that the run can tell, and
// a wrong one inside the noise of the two routes (a tie).
func TestRouteVerdicts(t *testing.T) {
	res := func(route string, n int, med, lo, hi float64, chose string) Result {
		r := Result{Name: fmt.Sprintf("fast_gram_eigh/gonum/%s/N=%d,D=512", route, n), Group: GroupFast, Backend: "gonum", Status: StatusOK,
			Params:  map[string]any{"route": route, "n": n, "d": 512},
			Seconds: &Summary{Median: med, Min: lo, Max: hi}}
		if chose != "" {
			r.Outcome = map[string]any{"route": chose}
		}
		return r
	}
	rep := &Report{Results: []Result{
		res(RouteDirect, 64, 1.0, 0.9, 1.1, ""), res(RouteDual, 64, 0.002, 0.002, 0.002, ""), res(RouteAuto, 64, 0.002, 0.002, 0.002, RouteDual),
		res(RouteDirect, 512, 1.2, 1.15, 1.25, ""), res(RouteDual, 512, 1.0, 0.95, 1.05, ""), res(RouteAuto, 512, 1.2, 1.15, 1.25, RouteDirect),
		res(RouteDirect, 1024, 1.12, 1.0, 1.3, ""), res(RouteDual, 1024, 1.0, 0.9, 1.1, ""), res(RouteAuto, 1024, 1.2, 1.1, 1.3, RouteDirect),
	}}
	Derive(rep)
	var got []string
	for _, c := range rep.Routes {
		got = append(got, c.Agrees)
	}
	if want := "yes,no,tie"; strings.Join(got, ",") != want {
		t.Fatalf("verdicts %v, want %s:\n%+v", got, want, rep.Routes)
	}
}
