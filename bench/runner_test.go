package bench

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reconalign/reconalign/backend"
	_ "github.com/reconalign/reconalign/backend/gonum" // the backend the estimates are made for
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

// A checked run longer than SingleRunAbove is the measurement: no warm-up,
// no second run; shorter ones are timed as usual. The peak memory a case
// reports reaches the result.
func TestSingleLongRunAndPeakMemory(t *testing.T) {
	runs := map[string]int{}
	mk := func(name string, d time.Duration) Scenario {
		return Scenario{Name: "unit/" + name, Group: "unit", Setup: func(*Env, backend.Backend) (*Case, error) {
			c := &Case{Check: func() error { return nil }}
			c.Run = func() error { runs[name]++; time.Sleep(d); c.PeakRSSBytes = 1 << 20; return nil }
			return c, nil
		}}
	}
	p := Policy{Warmup: 2, MinRepeats: 2, MaxRepeats: 2, Budget: time.Second, SingleRunAbove: 40 * time.Millisecond}
	rep, err := Run(Config{Suite: fixed("unit", p, mk("long", 50*time.Millisecond), mk("short", time.Millisecond))})
	if err != nil {
		t.Fatal(err)
	}
	long, short := rep.Find("unit/long"), rep.Find("unit/short")
	if runs["long"] != 1 || long.Repeats != 1 || long.Warmup != 0 || long.Seconds.Median < 0.05 {
		t.Errorf("long: %d runs, %d repeats, %d warm-up, %v", runs["long"], long.Repeats, long.Warmup, long.Seconds)
	}
	if runs["short"] != 2+2 || short.Repeats != 2 {
		t.Errorf("short: %d runs, %d repeats", runs["short"], short.Repeats)
	}
	if long.PeakRSSBytes != 1<<20 || rep.Timing.SingleRunAbove != 0.04 {
		t.Errorf("peak %d, timing %+v", long.PeakRSSBytes, rep.Timing)
	}
}

// The estimate of work in parts takes each at its own group's rate: a job
// cheap at the ceiling's rate is skipped when most of it runs at a slow
// group's rate, and the reason names both parts.
func TestEstimateByParts(t *testing.T) {
	timed := func(name, group string, flops float64, d time.Duration, ceiling bool) Scenario {
		return Scenario{Name: name, Group: group, Backend: "gonum", Flops: flops, Ceiling: ceiling,
			Setup: func(*Env, backend.Backend) (*Case, error) {
				return &Case{Run: func() error { time.Sleep(d); return nil }, Check: func() error { return nil }}, nil
			}}
	}
	fast := timed("unit/fast", "gemm", 1e10, 10*time.Millisecond, true) // about 1,000 GFLOP/s
	slow := timed("unit/slow", "slow", 1e7, 10*time.Millisecond, false) // about 1 GFLOP/s
	whole := timed("unit/whole", "job", 2e10, time.Millisecond, false)
	parted := whole
	parted.Name = "unit/parted"
	parted.Parts = []Part{{Flops: 1e10, RateFrom: ""}, {Flops: 1e10, RateFrom: "slow"}}
	p := Policy{Warmup: 1, MinRepeats: 1, MaxRepeats: 1, Budget: time.Millisecond, MaxScenario: 2 * time.Second}
	rep, err := Run(Config{Suite: fixed("unit", p, fast, slow, whole, parted), Backends: []string{"gonum"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Find("unit/whole"); r.Status != report.StatusOK {
		t.Errorf("whole job at the ceiling's rate: %s %s", r.Status, r.Reason)
	}
	r := rep.Find("unit/parted")
	if r.Status != report.StatusSkip || !strings.Contains(r.Reason, " + 1e+10 flops at this backend's best slow rate") {
		t.Errorf("parted: %s %q", r.Status, r.Reason)
	}
}
