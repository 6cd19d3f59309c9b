package bench

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench/report"
)

// fixed is a suite of the given scenarios.
func fixed(name string, p Policy, scen ...Scenario) Suite {
	return Suite{Name: name, Policy: p, Scenarios: func(*Env, []string) []Scenario { return scen }}
}

// The runner checks before timing, checks again after, turns panics into
// failures and reports skips with their reason.
func TestRunnerGate(t *testing.T) {
	runs := map[string]int{}
	mk := func(name string, run func(n int) error, check func(n int) error) Scenario {
		return Scenario{Name: "unit/" + name, Group: "unit", Flops: 1e6, Setup: func(*Env, backend.Backend) (*Case, error) {
			return &Case{
				Run:   func() error { runs[name]++; return run(runs[name]) },
				Check: func() error { return check(runs[name]) },
			}, nil
		}}
	}
	pass := func(int) error { return nil }
	wrong := errors.New("wrong answer")
	scen := []Scenario{
		mk("good", pass, pass),
		mk("wrong-first", pass, func(int) error { return wrong }),
		// Right on the first run, wrong later (a race, a stale buffer).
		mk("wrong-later", pass, func(n int) error {
			if n > 1 {
				return wrong
			}
			return nil
		}),
		mk("panics", func(n int) error {
			if n == 2 {
				panic("boom")
			}
			return nil
		}, pass),
		{Name: "unit/skipped", Group: "unit", Setup: func(*Env, backend.Backend) (*Case, error) {
			return nil, Skipf("no such device here")
		}},
		{Name: "unit/broken-setup", Group: "unit", Setup: func(*Env, backend.Backend) (*Case, error) {
			return nil, errors.New("cannot allocate")
		}},
	}
	p := Policy{Warmup: 2, MinRepeats: 3, MaxRepeats: 3, Budget: time.Second}
	rep, err := Run(Config{Suite: fixed("unit", p, scen...)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]report.Status{"good": report.StatusOK, "wrong-first": report.StatusFail, "wrong-later": report.StatusFail,
		"panics": report.StatusFail, "skipped": report.StatusSkip, "broken-setup": report.StatusFail}
	for _, r := range rep.Results {
		name := strings.TrimPrefix(r.Name, "unit/")
		if r.Status != want[name] {
			t.Errorf("%s: status %s (%s), want %s", name, r.Status, r.Reason, want[name])
		}
		if r.Status != report.StatusOK && r.Seconds != nil {
			t.Errorf("%s: %s result carries a time", name, r.Status)
		}
	}
	if runs["wrong-first"] != 1 {
		t.Errorf("a scenario that failed its first check ran %d times, want 1 (no timing after a failed check)", runs["wrong-first"])
	}
	if runs["good"] != 2+3 {
		t.Errorf("good scenario ran %d times, want 2 warm-up + 3 timed", runs["good"])
	}
	good := rep.Find("unit/good")
	if good.Repeats != 3 || len(good.Samples) != 3 || good.Warmup != 2 {
		t.Errorf("good: %d repeats, %d samples, %d warm-up", good.Repeats, len(good.Samples), good.Warmup)
	}
	if r := rep.Find("unit/skipped"); r.Reason != "no such device here" {
		t.Errorf("skip reason %q", r.Reason)
	}
	if r := rep.Find("unit/panics"); !strings.Contains(r.Reason, "boom") {
		t.Errorf("panic reason %q", r.Reason)
	}
	if rep.Failures != 4 {
		t.Errorf("%d failures counted, want 4", rep.Failures)
	}
}
