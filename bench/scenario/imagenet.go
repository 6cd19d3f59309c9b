package scenario

import (
	"fmt"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/internal/check"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/synth"
)

// The ImageNet-64-sized scenarios (suite imagenet, meant for the GPU
// machine): N = 1,281,167 rows of D = 12,288 uint8 pixels, 15.7 GB per pass,
// generated on the fly, so nothing has to be downloaded or stored.
//
//   - imagenet/generate: synth's counter-based TemplateStream alone, to show
//     what the input side can deliver.
//   - imagenet/moments: one pass of engine moments over the stream (the
//     Gram is 3.9·10¹⁴ flops); every sampled Gram entry is recomputed
//     exactly from two columns of the stream.
//   - imagenet/align: the whole alignment on synth's imagenet64 (natural
//     image statistics, 1000 classes), generation included.
//
// CPU backends would need tens of minutes for the full N, so they run the
// same scenarios on a prefix of CPUStreamRows rows (after a quarter of that,
// whose time decides whether the full prefix fits the suite's limit).

func imagenetScenarios(env *bench.Env, names []string, p Plan) []bench.Scenario {
	full := p.ImageNet
	var out []bench.Scenario
	out = append(out, generateScenario(full))
	var alignSpec synth.Spec
	alignErr := fmt.Errorf("no synthetic spec")
	if p.ImageNetAlign != "" {
		alignSpec, alignErr = synth.Parse(p.ImageNetAlign)
	}
	// prefix returns the row counts a backend measures out of n: all of
	// them on a GPU, a quarter and then all of CPUStreamRows on a CPU.
	prefix := func(b string, n int) []int {
		if be, err := env.Backend(b); err == nil && be.Info().Device == "cpu" && p.CPUStreamRows > 0 && p.CPUStreamRows < n {
			return []int{p.CPUStreamRows / 4, p.CPUStreamRows}
		}
		return []int{n}
	}
	for _, b := range names {
		for _, n := range prefix(b, full.N) {
			spec := full
			spec.N = n
			out = append(out, streamMomentsScenario(b, spec, p.StreamChunkRows))
		}
		if p.ImageNetAlign == "" {
			continue
		}
		if alignErr != nil {
			out = append(out, bench.Scenario{Name: "imagenet/align/" + b, Group: report.GroupStream, Backend: b,
				Skip: fmt.Sprintf("synth spec %q: %v", p.ImageNetAlign, alignErr)})
			continue
		}
		for _, n := range prefix(b, alignSpec.N) {
			sp := alignSpec
			sp.N = n
			out = append(out, streamAlignScenario(b, sp, p.StreamChunkRows))
		}
	}
	return out
}

// generateScenario times one pass of the stream with no consumer.
func generateScenario(spec synth.TemplateSpec) bench.Scenario {
	d := spec.D()
	return bench.Scenario{
		Name: fmt.Sprintf("imagenet/generate/N=%d,D=%d", spec.N, d), Group: report.GroupStream,
		Params: map[string]any{"n": spec.N, "d": d, "spec": spec.String()},
		Bytes:  float64(spec.N) * float64(d), FlopModel: "no arithmetic: bytes of pixels generated",
		Check: "sampled pixels and labels of the pass against the generator's closed form",
		Setup: func(env *bench.Env, _ backend.Backend) (*bench.Case, error) {
			st := synth.TemplateStream{Spec: spec}
			var probe []uint8
			var probeLabels []int
			c := &bench.Case{}
			c.Run = func() error {
				first := true
				return data.Each(st, engine.DefaultChunkRows, func(b data.Batch) error {
					if first {
						probe = append(probe[:0], b.X.U8[:min(len(b.X.U8), 4*d)]...)
						probeLabels = append(probeLabels[:0], b.Labels[:min(len(b.Labels), 4)]...)
						first = false
					}
					return nil
				})
			}
			c.Check = func() error {
				for i := 0; i < len(probe)/d; i++ {
					if probeLabels[i] != st.Label(i) {
						return fmt.Errorf("row %d: label %d, closed form %d", i, probeLabels[i], st.Label(i))
					}
					for j := 0; j < d; j += 97 {
						if got, want := probe[i*d+j], st.Pixel(i, j); got != want {
							return fmt.Errorf("pixel (%d,%d) = %d, closed form %d", i, j, got, want)
						}
					}
				}
				return nil
			}
			return c, nil
		},
	}
}

// streamMomentsScenario: engine moments (no labels) over the stream, checked
// entry by entry against the closed form.
func streamMomentsScenario(b string, spec synth.TemplateSpec, chunkRows int) bench.Scenario {
	d := spec.D()
	return bench.Scenario{
		Name: fmt.Sprintf("imagenet/moments/%s/N=%d,D=%d", b, spec.N, d), Group: report.GroupStream, Backend: b,
		Params: map[string]any{"n": spec.N, "d": d, "spec": spec.String(), "series": "imagenet_moments", "size": spec.N},
		Series: "imagenet_moments", Size: float64(spec.N), Exponent: 1,
		Flops: gramFlops(spec.N, d), Bytes: float64(spec.N) * float64(d), FlopModel: gramModel + " (generation and the Σx pass not counted)",
		Check: "24 sampled entries of the uncentred XᵀX against exact integer sums recomputed from the stream's closed form",
		Setup: func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
			st := synth.TemplateStream{Spec: spec}
			u, err := backend.UnitRoundoff(be.Info().Precision)
			if err != nil {
				return nil, err
			}
			var stats *engine.Stats
			c := &bench.Case{}
			c.Run = func() error {
				eng, err := engine.New(engine.Options{Backend: b, Threads: env.Config.Threads, ChunkRows: chunkRows})
				if err != nil {
					return err
				}
				defer eng.Close()
				m, err := eng.Moments(engine.Unlabeled{Source: st})
				if err != nil {
					return err
				}
				stats, err = m.Finalize(false)
				return err
			}
			c.Check = func() error {
				for _, pr := range check.SamplePairs(d, 24, 51) {
					want := st.GramEntry(pr[0], pr[1])
					got := stats.Gx.Data[pr[0]*d+pr[1]]
					// Exact in float64 arithmetic (integer sums below 2⁵³); a
					// lower-precision backend is held to its rounding bound.
					tol := 0.0
					if u > 0x1p-53 {
						tol = 2 * float64(spec.N) * u * want
					}
					if diff := got - want; diff > tol || diff < -tol {
						return fmt.Errorf("Gram entry (%d,%d) = %.17g, exact %.17g", pr[0], pr[1], got, want)
					}
				}
				return nil
			}
			return c, nil
		},
	}
}

// streamAlignScenario: the whole alignment on a synth dataset (imagenet64
// in the suite), image generation included.
func streamAlignScenario(b string, spec synth.Spec, chunkRows int) bench.Scenario {
	n, d := spec.N, spec.D()
	name := spec.Preset
	if name == "" {
		name = "synthetic"
	}
	return bench.Scenario{
		Name: fmt.Sprintf("imagenet/align/%s/%s/N=%d,D=%d", b, name, n, d), Group: report.GroupStream, Backend: b,
		Params: map[string]any{"n": n, "d": d, "spec": spec.String(), "series": "imagenet_align", "size": n},
		Series: "imagenet_align", Size: float64(n), Exponent: 1,
		Flops: alignFlops(n, d), Bytes: float64(n) * float64(d), FlopModel: alignModel + " (image generation not counted)",
		Check: "rank = min(N, D) (the images are full rank), curve monotone and ending at 1",
		Setup: func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
			gen, err := synth.New(spec)
			if err != nil {
				return nil, bench.Skipf("synth %s: %v", spec, err)
			}
			var curve *engine.Curve
			c := &bench.Case{Outcome: map[string]any{}}
			c.Run = func() error {
				var err error
				curve, err = engineAlign(env, b, chunkRows, func() (data.Source, error) { return gen, nil })
				return err
			}
			c.Check = func() error {
				c.Outcome["rank"], c.Outcome["route"] = curve.Rank, string(curve.Route)
				if want := min(n, d); curve.Rank != want {
					return fmt.Errorf("rank %d, the synthetic images are full rank %d", curve.Rank, want)
				}
				return check.Curve(b, curve.Alignment, curve.Rank, nil, nil, 0, 0)
			}
			return c, nil
		},
	}
}
