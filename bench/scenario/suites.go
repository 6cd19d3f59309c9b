package scenario

import (
	"fmt"
	"time"

	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/synth"
)

// Plan is a suite: which sizes each scenario family measures, and the
// policy that times them. A family with no sizes registers nothing.
type Plan struct {
	Name string
	bench.Policy

	// GemmN is the order of the square GEMM that measures each backend's
	// ceiling; CPUGemmN, when set, replaces it on CPU backends (a GPU needs a
	// larger product to hide the transfers its Gemm includes).
	GemmN, CPUGemmN int
	// Gram is the shape of the per-dtype Gram scenarios.
	GramN, GramD int
	GramDTypes   []string
	// EighN are the orders of the eigh-per-backend series.
	EighN []int
	// FastD is D of the fast_gram_eigh comparison and FastN its N values
	// (below, at and above D).
	FastD int
	FastN []int
	// Split is the Fashion-MNIST split of the end-to-end alignment ("" for none).
	Split string
	// Synthetic is the synth spec of the labelled synthetic dataset of the
	// end-to-end alignment against NumPy's sweep and moments script ("" for
	// none).
	Synthetic string
	// AlignVsMoments are synth specs aligned end to end per backend against
	// the NumPy moments script alone: the paper's full-SVD sweep would take
	// minutes at these sizes.
	AlignVsMoments []string
	// DenoisePatches and DenoiseSteps are the Figure 7 grid (patch sizes,
	// drop probabilities linspace(0, 0.99, steps)); no patches: no scenario.
	DenoisePatches []int
	DenoiseSteps   int
	// RSVDK is the k of the randomized top-k scenario (0: none).
	RSVDK int
	// ScaleN are the N of the Gram-vs-N series (at D = ScaleND), ScaleD the D
	// of the Gram-vs-D series (at N = ScaleDN).
	ScaleN  []int
	ScaleND int
	ScaleD  []int
	ScaleDN int
	// PyGram and PyEigh add NumPy's XᵀX and eigh as references for the
	// Gram and eigh tables.
	PyGram, PyEigh bool
	// PyEighMax bounds n of the NumPy eigh references (0: no bound): the
	// references have no per-scenario limit, so the largest sizes are left
	// to the Go side, which skips what does not fit.
	PyEighMax int
	// ImageNet is the counter-based stream of the moments pass (zero N for
	// none) and ImageNetAlign the synth spec of the end-to-end alignment;
	// CPUStreamRows bounds N on CPU backends, which could not finish the full
	// stream in the suite's time.
	ImageNet      synth.TemplateSpec
	ImageNetAlign string
	CPUStreamRows int
	// StreamChunkRows is the engine's chunk for the streamed scenarios (0:
	// the engine's default); larger chunks amortise per-chunk costs such as a
	// GPU backend's accumulator download.
	StreamChunkRows int
	// EigenPhase are synth specs whose moments (D features, C = the
	// classes) feed the eigen-phase comparison: eigenvalues and M·U with
	// and without the eigenvectors U.
	EigenPhase []string
	// EndToEnd are synth specs aligned by `reconalign align --synthetic`
	// in a child process, timed from start to exit, with its peak memory.
	EndToEnd []string
	// MomentsFile are the shard sets of the moments file: `reconalign
	// moments` against `reconalign-beam` on Beam's Prism runner.
	MomentsFile []ShardSet
}

// ShardSet is a dataset written as .npy shards (data and labels paired).
type ShardSet struct {
	// Source is "fmnist-train", "fmnist-test" or a synth spec (uint8).
	Source string
	Shards int
}

// Suites lists the suite names SuiteFor knows.
var Suites = []string{"quick", "standard", "imagenet", "large"}

// PlanFor returns the plan of a named suite.
//
//   - quick: a smoke test, under a minute on a 2-core machine; used by
//     `make test`. It fails on a wrong answer, never on a time.
//   - standard: what `make bench` runs to write BENCHMARKS.md; a few minutes
//     on a 2-core machine.
//   - imagenet: for the GPU machine: an ImageNet-64-sized (N = 1,281,167,
//     D = 12,288) synthetic uint8 stream through the Gram and the alignment.
//   - large: the shapes of the open goals that take minutes each on a
//     2-core machine (tens of minutes in all; never in CI): the 8,192 ×
//     4,096 alignment against NumPy, the eigen phase at D = 4,096 and
//     12,288, ImageNet-sized alignments in a child process with their peak
//     memory, the moments file against its Beam pipeline.
func PlanFor(name string) (Plan, error) {
	switch name {
	case "quick":
		return Plan{
			Name:   name,
			Policy: bench.Policy{Warmup: 1, MinRepeats: 1, MaxRepeats: 3, Budget: 300 * time.Millisecond, MaxScenario: 4 * time.Second, PyWarmup: 0, PyMinRepeats: 1, PyMaxRepeats: 1, PyBudget: time.Second},
			GemmN:  512,
			GramN:  4000, GramD: 256, GramDTypes: []string{"u8", "f32", "f64"},
			EighN: []int{128, 256, 384},
			FastD: 192, FastN: []int{32, 192, 576},
			Split:          "test",
			DenoisePatches: []int{2}, DenoiseSteps: 2,
			RSVDK:  20,
			ScaleN: []int{1000, 2000, 4000}, ScaleND: 256,
			ScaleD: []int{64, 128, 256}, ScaleDN: 2000,
		}, nil
	case "standard":
		return Plan{
			Name:   name,
			Policy: bench.Policy{Warmup: 1, MinRepeats: 2, MaxRepeats: 7, Budget: 2 * time.Second, MaxScenario: 30 * time.Second, PyWarmup: 1, PyMinRepeats: 2, PyMaxRepeats: 5, PyBudget: 3 * time.Second},
			GemmN:  1536,
			GramN:  60000, GramD: 784, GramDTypes: []string{"u8", "f32", "f64"},
			EighN: []int{512, 784, 1024, 2048, 4096}, PyEighMax: 2048,
			FastD: 512, FastN: []int{64, 512, 2048},
			Split:          "train",
			DenoisePatches: []int{1, 2, 4}, DenoiseSteps: 10,
			RSVDK:     100,
			Synthetic: "n=20000,h=32,w=32,c=1,classes=10,seed=1,dtype=u8",
			ScaleN:    []int{7500, 15000, 30000}, ScaleND: 784, // and GramN = 60000
			// The D series starts at 512: below it, the O(N·D) packing and
			// per-call costs are a visible share of the exact uint8 Gram
			// (64 products an instruction) and bend the D² slope.
			ScaleD: []int{512, 1024, 2048, 4096}, ScaleDN: 10000,
			PyGram: true, PyEigh: true,
		}, nil
	case "imagenet":
		return Plan{
			Name:   name,
			Policy: bench.Policy{Warmup: 1, MinRepeats: 1, MaxRepeats: 3, Budget: 20 * time.Second, MaxScenario: 100 * time.Second},
			GemmN:  16384, CPUGemmN: 4096,
			GramN: 200000, GramD: 3072, GramDTypes: []string{"u8", "f32"},
			EighN:         []int{512, 2048, 4096, 8192, 12288}, // 512 calibrates the extrapolation
			ImageNet:      synth.TemplateSpec{N: 1281167, H: 64, W: 64, C: 3, Classes: 1000, Seed: 1},
			ImageNetAlign: "imagenet64",
			CPUStreamRows: 32768, StreamChunkRows: 16384,
		}, nil
	case "large":
		return Plan{
			Name: name,
			// A checked run of a minute or more is the measurement: a second
			// run of a multi-minute job would double the suite for little.
			Policy: bench.Policy{Warmup: 1, MinRepeats: 1, MaxRepeats: 3, Budget: 20 * time.Second, MaxScenario: 10 * time.Minute,
				SingleRunAbove: time.Minute, PyWarmup: 0, PyMinRepeats: 1, PyMaxRepeats: 2, PyBudget: 20 * time.Second},
			// The ceiling at n = 1,536 is also the pure-Go/OpenBLAS dgemm
			// ratio of the pure-Go backend's goal; the u8 Gram and the small
			// eigh calibrate the rates that decide what fits.
			GemmN: 1536,
			GramN: 20000, GramD: 1024, GramDTypes: []string{"u8"},
			EighN:      []int{512, 1024},
			EigenPhase: []string{eigenSmall, "imagenet64,n=50000"},
			// The eigen-phase and pure-Go issues' shape: 8,192 × 4,096
			// uint8, 10 classes (openblas ≥ 3× NumPy, pure Go no slower).
			AlignVsMoments: []string{eigenSmall},
			EndToEnd:       []string{"imagenet224,n=3000", "imagenet64,n=50000"},
			MomentsFile: []ShardSet{
				{Source: "fmnist-train", Shards: 12},
				// About 1 GB of uint8 pixels: 327,680 images of 32×32×3.
				{Source: "n=327680,h=32,w=32,c=3,classes=10,seed=1", Shards: 16},
			},
		}, nil
	}
	return Plan{}, fmt.Errorf("unknown suite %q: want one of %v", name, Suites)
}

// eigenSmall is the 8,192 × 4,096 uint8 dataset with 10 classes of the
// eigen-phase and pure-Go issues.
const eigenSmall = "n=8192,h=64,w=64,c=1,classes=10,seed=1"

// SuiteFor returns the named suite, ready for bench.Run.
func SuiteFor(name string) (bench.Suite, error) {
	p, err := PlanFor(name)
	if err != nil {
		return bench.Suite{}, err
	}
	return p.Suite(), nil
}

// Suite is the plan as a bench.Suite: its scenarios and its claims.
func (p Plan) Suite() bench.Suite {
	return bench.Suite{Name: p.Name, Policy: p.Policy,
		Scenarios: func(env *bench.Env, backends []string) []bench.Scenario { return p.scenarios(env, backends) },
		Derive:    claims}
}
