package scenario

import (
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/report"
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
func tinyPlan() Plan {
	return Plan{
		Name: "tiny", Policy: bench.Policy{Warmup: 1, MinRepeats: 2, MaxRepeats: 3, Budget: 10 * time.Millisecond, MaxScenario: 20 * time.Second},
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
	rep, err := bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum", "bench-test-wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	wrongFails := 0
	for _, r := range rep.Results {
		switch {
		case r.Backend == "gonum" && r.Status != report.StatusOK:
			t.Errorf("%s on the honest backend: %s %s", r.Name, r.Status, r.Reason)
		case r.Backend == "bench-test-wrong" && (r.Group == report.GroupGram || r.Group == report.GroupEigh):
			if r.Status != report.StatusFail {
				t.Errorf("%s: a wrong answer got status %s", r.Name, r.Status)
				continue
			}
			wrongFails++
			if r.Seconds != nil || r.Samples != nil || r.GFlops != 0 {
				t.Errorf("%s: a failed check still reports a time: %+v", r.Name, r.Seconds)
			}
			want := "Gram entry"
			if r.Group == report.GroupEigh {
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
