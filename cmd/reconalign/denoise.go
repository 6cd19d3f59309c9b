package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/engine"
)

// denoiseReport is the JSON written by `reconalign denoise --out`.
type denoiseReport struct {
	Data       string           `json:"data"`
	Labels     string           `json:"labels"`
	N          int              `json:"n"`
	D          int              `json:"d"`
	Classes    int              `json:"classes"`
	ImageShape string           `json:"image_shape"`
	Centered   bool             `json:"centered"`
	Form       engine.Form      `json:"form"`
	Scale      engine.Scale     `json:"scale"`
	Normalize  engine.Normalize `json:"normalize"`
	RTol       float64          `json:"rtol"`
	Rank       int              `json:"rank"`
	Route      engine.Route     `json:"route"` // how the range (Gx's spectrum) was computed
	Backend    string           `json:"backend"`
	Device     string           `json:"device"`
	Seconds    float64          `json:"seconds"`
	K          []int            `json:"k"`
	Clean      []float64        `json:"clean"`
	Settings   []denoiseSetting `json:"settings"`
}

type denoiseSetting struct {
	closedform.NoiseSpec
	Route           string    `json:"route"` // how the pencil was solved: diagonal, patch-basis or cholesky
	Alignment       []float64 `json:"alignment"`
	Relative        []float64 `json:"relative"` // 100·(a_p − a_0)/a_0
	AlignmentStdErr []float64 `json:"alignment_stderr,omitempty"`
	Eigenvalues     []float64 `json:"eigenvalues"`
}

// denoiseFlags are the flags of `reconalign denoise`.
type denoiseFlags struct {
	data              *dataFlags
	grid              closedform.GridText
	blockCount        int
	draws, batches    int
	seed              uint64
	center, batchSE   bool
	form, scale, norm string
	rtol              float64
	out, pngPath      string
	kMin              int
}

func newDenoiseCmd() *cobra.Command {
	f := &denoiseFlags{}
	cmd := &cobra.Command{
		Use:   "denoise",
		Short: "Alignment of the optimal linear denoising autoencoder, per noise (paper Thm. 3, Fig. 7)",
		Long: `denoise streams the data once into its moments and, for every noise setting,
solves the closed-form optimal linear denoising encoder (the generalized
eigenproblem of Theorem 3 on the range of the data) and measures how well its
features align with the labels for every embedding size k, relative to plain
reconstruction: 100·(a_p(k) − a_0(k))/a_0(k), positive when the noise helps.

Noises (--noise, a comma-separated list):
  mask        each patch dropped with probability p (MAE masking), closed form
  mask-fixed  exactly ⌊P·(1−p)⌋ of the P patches kept, as MAE samples, closed form
  gaussian    additive N(0, σ²) (Corollary 3.1: never changes the alignment)
  block       --blocks random squares of size --block zeroed, Monte Carlo
  crop        random crop of area in [--crop-scale, 1] resized back, Monte Carlo
  mask-mc     masking again, by Monte Carlo (to check the sampler against the closed form)
Monte Carlo noises make one extra pass each, with --draws corrupted copies of
every sample, and report standard errors from --batches batch means. These
cover the sampling spread; the estimated pencil also has a bias of order
1/draws, so check that the curves settle as --draws grows (on Fashion-MNIST-
sized data 16 draws bring the error down to about one standard error).
Patches that do not divide the image leave smaller patches along its bottom
and right edges, each a patch of its own (a note says so).

The defaults reproduce the paper's Figure 7 grid: masking with p ∈ linspace(0, 0.99, 10),
patches 1x1, 2x2 and 4x4, centred data, the "norm" scale.`,
		Example: `  reconalign denoise --data train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz \
      --out fig7.json --plot fig7.png
  reconalign denoise --data x.npy --labels y.npy --image-shape 32x32x3 --layout chw \
      --noise mask,block --p 0.5,0.75 --patch 2,4 --block 8 --draws 8`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDenoise(cmd, f) },
	}
	f.data = addDataFlags(cmd, "", true).withMoments(cmd)
	fig7 := closedform.Figure7Text()
	fl := cmd.Flags()
	fl.StringVar(&f.grid.Noises, "noise", fig7.Noises, "noise models: "+joinKinds())
	fl.StringVar(&f.grid.P, "p", fig7.P, "drop probabilities of the masking noises, a list or linspace(a,b,n)")
	fl.StringVar(&f.grid.Patch, "patch", fig7.Patch, "patch sizes of the masking noises: S (S×S) or HxW, comma-separated")
	fl.StringVar(&f.grid.Sigma, "sigma", fig7.Sigma, "standard deviations of the Gaussian noise, in the units of the data")
	fl.StringVar(&f.grid.Block, "block", fig7.Block, "side lengths of the block noise's squares")
	fl.IntVar(&f.blockCount, "blocks", 1, "squares zeroed per draw by the block noise")
	fl.StringVar(&f.grid.CropScale, "crop-scale", fig7.CropScale, "smallest crop area (fraction of the image) of the crop noise")
	fl.IntVar(&f.draws, "draws", 16, "Monte Carlo: corrupted copies of each sample")
	fl.IntVar(&f.batches, "batches", 0, "Monte Carlo: batches for the standard errors, dividing --draws (0: the largest divisor up to 8)")
	fl.Uint64Var(&f.seed, "seed", 1, "Monte Carlo: random seed")
	fl.BoolVar(&f.batchSE, "stderr", true, "Monte Carlo: also solve each batch to give the alignment's standard error")
	fl.BoolVar(&f.center, "center", true, "remove each feature's mean first (the reference masks centred data)")
	fl.StringVar(&f.form, "form", "gram", "a_j = ‖YYᵀq_j‖² (gram, Eq. 7) or ‖Yᵀq_j‖² (regression)")
	fl.StringVar(&f.scale, "scale", "norm", "squared (Eq. 7) or norm (its square root, as the paper's figures)")
	fl.StringVar(&f.norm, "normalize", "full", "full or papercode (see align --help)")
	fl.Float64Var(&f.rtol, "rtol", engine.DefaultRTol, "eigenvalues ≤ rtol·λ₁ are outside the data's range")
	fl.StringVar(&f.out, "out", "", "write every curve and setting as JSON to this file (- for stdout)")
	fl.StringVar(&f.pngPath, "plot", "", "draw the relative differences (the paper's Fig. 7) to this PNG (or .svg, .pdf)")
	fl.IntVar(&f.kMin, "plot-kmin", 0, "smallest k drawn (0: 32 when the rank exceeds 64, as the paper, else 1)")
	return cmd
}

func joinKinds() string { return strings.Join(closedform.NoiseKinds, ",") }

func runDenoise(cmd *cobra.Command, f *denoiseFlags) error {
	start := time.Now()
	opt, err := alignOptions(f.center, f.form, f.scale, f.norm, f.rtol)
	if err != nil {
		return err
	}
	if !f.data.hasLabels() {
		return fmt.Errorf("denoise needs --labels: the alignment is measured against them")
	}
	if f.draws < 1 {
		return fmt.Errorf("--draws %d: want at least 1", f.draws)
	}
	if err := checkImage("--plot", f.pngPath); err != nil {
		return err
	}
	grid, err := f.grid.Parse()
	if err != nil {
		return err
	}
	grid.BlockCount = f.blockCount
	grid.SkipEmpty = !cmd.Flags().Changed("p") // a default p that does not suit these patches
	outs, err := newOutputs(f.data.inputs(), "--out", f.out, "--plot", f.pngPath)
	if err != nil {
		return err
	}
	defer outs.abort()
	src, eng, err := f.data.openWithEngine(cmd)
	if err != nil {
		return err
	}
	defer eng.Close()
	meta := src.Meta()
	plan, err := grid.Plan(meta.Shape, meta.D)
	if err != nil {
		return err
	}
	for _, n := range plan.Notes {
		note("%s", n)
	}
	res, err := closedform.DenoiseData(eng, src, plan, closedform.DenoiseDataOptions{
		Align: opt, BatchStdErr: f.batchSE,
		MonteCarlo: closedform.MonteCarloOptions{Draws: f.draws, Batches: f.batches, Seed: f.seed},
		Progress:   newProgress,
	})
	if err != nil {
		return err
	}
	clean := res.Clean
	rep := denoiseReport{
		Data: f.data.name(), Labels: f.data.labels, N: meta.N, D: meta.D, Classes: meta.Columns(),
		ImageShape: meta.Shape.String(), Centered: f.center, Form: clean.Form, Scale: clean.Scale, Normalize: clean.Normalize,
		RTol: f.rtol, Rank: res.Rank, Route: res.Route, Backend: res.Backend.Name, Device: res.Backend.Device, K: clean.K, Clean: clean.Alignment,
	}
	for _, r := range res.Results {
		rep.Settings = append(rep.Settings, denoiseSetting{NoiseSpec: r.Noise, Route: r.Route, Alignment: r.Curve.Alignment,
			Relative: r.Relative, AlignmentStdErr: r.AlignmentStdErr, Eigenvalues: r.Eigenvalues})
	}
	rep.Seconds = time.Since(start).Seconds()
	if err := outs.write(f.out, encodeJSON(rep)); err != nil {
		return err
	}
	if f.pngPath != "" {
		km := f.kMin
		if km <= 0 {
			km = closedform.Figure7KMin(res.Rank)
		}
		title := fmt.Sprintf("%s (%s, %s scale)", datasetName(rep.Data), centeredWord(f.center), clean.Scale)
		fig := closedform.Figure7(title, km, closedform.PanelSet{Panels: closedform.Figure7Panels(res.Results)})
		if err := outs.write(f.pngPath, func(w io.Writer) error { return fig.Write(w, imageFormat(f.pngPath)) }); err != nil {
			return fmt.Errorf("--plot %s: %w", f.pngPath, err)
		}
	}
	if err := outs.commit(); err != nil {
		return err
	}
	if f.out != "-" {
		printDenoiseSummary(rep)
	}
	return nil
}

// printDenoiseSummary prints the relative differences at a few k.
func printDenoiseSummary(r denoiseReport) {
	fmt.Printf("%s: N=%d D=%d classes=%d rank=%d backend=%s %.2fs\n", r.Data, r.N, r.D, r.Classes, r.Rank, r.Backend, r.Seconds)
	fmt.Printf("relative alignment difference 100·(a_p(k) − a_0(k))/a_0(k) (%s form, %s scale, %s)\n", r.Form, r.Scale, centeredWord(r.Centered))
	var ks []int
	for _, k := range []int{1, 4, 16, 32, 64, 128, 256, 512, 1024, 4096} {
		if k <= r.Rank {
			ks = append(ks, k)
		}
	}
	fmt.Printf("%-34s", "setting")
	for _, k := range ks {
		fmt.Printf(" %8s", "k="+strconv.Itoa(k))
	}
	fmt.Println()
	fmt.Printf("%-34s", "clean alignment")
	for _, k := range ks {
		fmt.Printf(" %8.4f", r.Clean[k-1])
	}
	fmt.Println()
	for _, s := range r.Settings {
		fmt.Printf("%-34s", settingName(s.NoiseSpec))
		for _, k := range ks {
			fmt.Printf(" %+8.2f", s.Relative[k-1])
		}
		fmt.Println()
	}
}

func settingName(s closedform.NoiseSpec) string {
	out := s.Kind
	if len(s.Patch) == 2 {
		out += fmt.Sprintf(" %dx%d", s.Patch[0], s.Patch[1])
	}
	if s.P != nil {
		out += fmt.Sprintf(" p=%.2f", *s.P)
	}
	if s.Sigma != nil {
		out += fmt.Sprintf(" σ=%g", *s.Sigma)
	}
	for _, k := range []string{"size", "count", "min_scale", "p", "patch_h", "patch_w"} {
		if v, ok := s.Params[k]; ok {
			out += fmt.Sprintf(" %s=%g", k, v)
		}
	}
	return out
}
