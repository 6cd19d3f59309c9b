package bench

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
)

// wrongBackend is gonum with two classic bugs: the Gram forgets nothing but
// adds one to its diagonal (as a shift applied twice would), and the
// eigenvalues come back in LAPACK's ascending order. Both are fast; neither
// may ever be reported as a time.
type wrongBackend struct{ *gonum.Backend }

func (w wrongBackend) Info() backend.Info {
	i := w.Backend.Info()
	i.Name = "bench-test-wrong"
	return i
}

func (w wrongBackend) GramAdd(g blas64.General, x backend.Chunk, shift []float64) error {
	if err := w.Backend.GramAdd(g, x, shift); err != nil {
		return err
	}
	for i := 0; i < g.Rows; i++ {
		g.Data[i*g.Stride+i]++
	}
	return nil
}

func (w wrongBackend) SymEig(a blas64.General, vectors bool) ([]float64, error) {
	v, err := w.Backend.SymEig(a, vectors)
	for i, j := 0, len(v)-1; i < j; i, j = i+1, j-1 {
		v[i], v[j] = v[j], v[i]
	}
	return v, err
}

func init() {
	backend.Register("bench-test-wrong", -100, func(o backend.Options) (backend.Backend, error) {
		return wrongBackend{gonum.New(o.Threads)}, nil
	})
}

// tinyPlan exercises the built-in families in about a second.
func tinyPlan() *Plan {
	return &Plan{
		Name: "tiny", Warmup: 1, MinRepeats: 2, MaxRepeats: 3, Budget: 10 * time.Millisecond, MaxScenario: 20 * time.Second,
		GemmN: 64, GramN: 300, GramD: 24, GramDTypes: []string{"u8", "f32", "f64"},
		EighN: []int{16, 32, 48},
		FastD: 24, FastN: []int{8, 24, 72},
		ScaleN: []int{200, 400, 800}, ScaleND: 32,
		ScaleD: []int{16, 32, 64}, ScaleDN: 300,
	}
}

// The correctness gate: a backend that returns wrong Grams and wrongly
// ordered eigenvalues fails those scenarios, with no time reported, while
// the same scenarios pass on the honest backend in the same run.
func TestGateCatchesWrongResults(t *testing.T) {
	p := tinyPlan()
	p.FastN, p.ScaleN, p.ScaleD = nil, nil, nil
	rep, err := Run(Config{Plan: p, Backends: []string{"gonum", "bench-test-wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	wrongFails := 0
	for _, r := range rep.Results {
		switch {
		case r.Backend == "gonum" && r.Status != StatusOK:
			t.Errorf("%s on the honest backend: %s %s", r.Name, r.Status, r.Reason)
		case r.Backend == "bench-test-wrong" && (r.Group == GroupGram || r.Group == GroupEigh):
			if r.Status != StatusFail {
				t.Errorf("%s: a wrong answer got status %s", r.Name, r.Status)
				continue
			}
			wrongFails++
			if r.Seconds != nil || r.Samples != nil || r.GFlops != 0 {
				t.Errorf("%s: a failed check still reports a time: %+v", r.Name, r.Seconds)
			}
			want := "Gram entry"
			if r.Group == GroupEigh {
				want = "not descending"
			}
			if !strings.Contains(r.Reason, want) {
				t.Errorf("%s: reason %q does not mention %q", r.Name, r.Reason, want)
			}
		}
	}
	if wrongFails != 6 || rep.Failures != 6 {
		t.Fatalf("%d wrong results caught, report counts %d failures; want 6 and 6", wrongFails, rep.Failures)
	}
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
	p := &Plan{Name: "unit", Warmup: 2, MinRepeats: 3, MaxRepeats: 3, Budget: time.Second}
	rep, err := Run(Config{Plan: p, Scenarios: scen, Backends: []string{"gonum"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{"good": StatusOK, "wrong-first": StatusFail, "wrong-later": StatusFail,
		"panics": StatusFail, "skipped": StatusSkip, "broken-setup": StatusFail}
	for _, r := range rep.Results {
		name := strings.TrimPrefix(r.Name, "unit/")
		if r.Status != want[name] {
			t.Errorf("%s: status %s (%s), want %s", name, r.Status, r.Reason, want[name])
		}
		if r.Status != StatusOK && r.Seconds != nil {
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

// The check functions themselves catch the usual wrong answers.
func TestChecksCatchWrongAnswers(t *testing.T) {
	be := gonum.New(0)
	x := randomChunk("f64", 50, 12, 1)
	g := backend.NewGeneral(12, 12)
	if err := be.GramAdd(g, x, nil); err != nil {
		t.Fatal(err)
	}
	pairs := samplePairs(12, 30, 2)
	if err := checkGramEntries(g, 50, chunkAt(x), pairs, 0x1p-53, false); err != nil {
		t.Fatalf("right Gram rejected: %v", err)
	}
	scaled := backend.NewGeneral(12, 12)
	for i, v := range g.Data {
		scaled.Data[i] = v * (1 + 1e-9)
	}
	if checkGramEntries(scaled, 50, chunkAt(x), pairs, 0x1p-53, false) == nil {
		t.Error("Gram off by a relative 1e-9 accepted")
	}
	// A lower-triangle-only answer (upper left at zero) is caught too.
	lower := backend.NewGeneral(12, 12)
	for i := 0; i < 12; i++ {
		for j := 0; j <= i; j++ {
			lower.Data[i*12+j] = g.Data[j*12+i]
		}
	}
	if checkGramEntries(lower, 50, chunkAt(x), pairs, 0x1p-53, false) == nil {
		t.Error("lower-triangle Gram accepted")
	}

	a := goe(40, 3)
	work := backend.NewGeneral(40, 40)
	copy(work.Data, a.Data)
	w, err := be.SymEig(work, true)
	if err != nil {
		t.Fatal(err)
	}
	cols := sampleCols(40, 8, 4)
	if err := checkSymEig(a, w, work, cols, 0x1p-53); err != nil {
		t.Fatalf("right eigendecomposition rejected: %v", err)
	}
	w2 := append([]float64(nil), w...)
	w2[5] += 1e-6 // still descending, but the trace is off
	if checkSymEig(a, w2, work, cols, 0x1p-53) == nil {
		t.Error("perturbed eigenvalue accepted")
	}
	v2 := backend.NewGeneral(40, 40)
	copy(v2.Data, work.Data)
	for i := 0; i < 40; i++ { // swap two eigenvectors
		v2.Data[i*40+0], v2.Data[i*40+1] = v2.Data[i*40+1], v2.Data[i*40+0]
	}
	if checkSymEig(a, w, v2, []int{0, 1}, 0x1p-53) == nil {
		t.Error("swapped eigenvectors accepted")
	}

	if err := checkCurve("c", []float64{0.5, 0.8, 1}, 3, []int{2}, []float64{0.8}, 3, 1e-9); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]float64{{0.5, 0.4, 1}, {0.5, 0.8, 0.99}, {0.5, 0.81, 1}} {
		if checkCurve("c", bad, 3, []int{2}, []float64{0.8}, 3, 1e-6) == nil {
			t.Errorf("curve %v accepted", bad)
		}
	}
}
