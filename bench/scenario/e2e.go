package scenario

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/internal/check"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/synth"
)

// endToEndScenarios: `reconalign align --synthetic spec` per backend, as a
// user runs it, in a child process timed from start to exit, with the
// child's peak memory. Image generation is included: at ImageNet sizes it
// is a few percent of the whole.
func endToEndScenarios(names []string, spec string) []bench.Scenario {
	s, err := synth.Parse(spec)
	if err != nil {
		return []bench.Scenario{{Name: "e2e/" + spec, Group: report.GroupEndToEnd, Skip: fmt.Sprintf("synth spec %q: %v", spec, err)}}
	}
	n, d := s.N, s.D()
	flops, model := alignFlops(n, d), alignModel
	parts := []bench.Part{{Flops: gramFlops(n, d), RateFrom: report.GroupGram}, {Flops: eighFlops(d), RateFrom: report.GroupEigenPhase}}
	if n < d {
		// The dual route: the N×N Gram XXᵀ and its eigendecomposition.
		flops = gramFlops(d, n) + eighFlops(n)
		model = "D·N·(N+1) for XXᵀ + 14N³/3 for its eigendecomposition (the dual route, N < D; generation and the C×N products not counted)"
		parts = []bench.Part{{Flops: gramFlops(d, n), RateFrom: report.GroupGram}, {Flops: eighFlops(n), RateFrom: report.GroupEigenPhase}}
	}
	file := strings.NewReplacer(",", "_", "=", "", ":", "_").Replace(spec)
	var out []bench.Scenario
	for _, b := range names {
		out = append(out, bench.Scenario{
			Name: fmt.Sprintf("%s/%s/%s", report.GroupEndToEnd, b, spec), Group: report.GroupEndToEnd, Backend: b,
			Params: map[string]any{"spec": spec, "dataset": fmt.Sprintf("synthetic-%dx%d", n, d), "n": n, "d": d, "classes": s.Classes},
			Flops:  flops, Bytes: float64(n) * float64(d), FlopModel: model, Parts: parts,
			Check: "the child's JSON: N and D as the spec says, rank = min(N, D) (the synthetic images are full rank), curve monotone and ending at 1",
			Setup: func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
				exe, err := reconalign(env)
				if err != nil {
					return nil, err
				}
				path := tempPath(env, "e2e-"+b+"-"+file+".json")
				env.OnClose(func() { os.Remove(path) })
				args := append(globalArgs(env, b), "align", "--synthetic", spec, "--out", path)
				c := &bench.Case{Outcome: map[string]any{}}
				c.Run = func() error {
					peak, err := child(exe, args...)
					c.PeakRSSBytes = max(c.PeakRSSBytes, peak)
					return err
				}
				c.Check = func() error {
					var got struct {
						N, D, Rank int
						Route      string
						Alignment  []float64
					}
					raw, err := os.ReadFile(path)
					if err != nil {
						return err
					}
					if err := json.Unmarshal(raw, &got); err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					c.Outcome["route"], c.Outcome["rank"] = got.Route, got.Rank
					if got.N != n || got.D != d {
						return fmt.Errorf("the child aligned %d×%d data, the spec is %d×%d", got.N, got.D, n, d)
					}
					if want := min(n, d); got.Rank != want {
						return fmt.Errorf("rank %d, the synthetic images are full rank %d", got.Rank, want)
					}
					return check.Curve(b, got.Alignment, got.Rank, nil, nil, 0, 0)
				}
				return c, nil
			},
		})
	}
	return out
}
