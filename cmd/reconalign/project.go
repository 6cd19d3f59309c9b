package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/data"
)

// projectFlags are the flags of `reconalign project`.
type projectFlags struct {
	train, test                  *dataFlags
	keep, out, testOut, dtype    string
	variance, rtol               float64
	topK, oversample, powerIters int
}

func newProjectCmd() *cobra.Command {
	f := &projectFlags{}
	cmd := &cobra.Command{
		Use:   "project",
		Short: "Project data onto the top or bottom principal subspace (paper Figs. 1, 4, 9)",
		Long: `project computes the principal directions of the (centred) training data and
writes x ↦ μ + (x−μ)·U_S·U_Sᵀ for the subspace S that explains --variance of
the training variance: the leading directions (--keep top) or the trailing ones
(--keep bottom). The cuts are the reference code's: top(p) holds the directions
whose cumulative share from the largest is below p, bottom(p) is the complement
of top(1−p). Test data are projected with the training mean and directions.

By default the directions come from the full eigendecomposition of the D×D
Gram. For large D (ImageNet-224: D = 150,528) give --top-k K instead: the K
leading directions come from a streaming randomized SVD (memory O(D·K), see
reconalign rsvd) and the shares are taken over the exact trace, so the cuts are
the same as long as they fall within those K directions; the top(1−p) cut that
bottom(p) removes must fall there too. Otherwise the command fails and says how
much of the variance the K directions explain.

The output .npy has the input's image shape when it is known ((N,H,W,C) for hwc,
(N,C,H,W) for chw), else (N,D); the projected rows are streamed to it chunk by
chunk, never all held in memory. Both outputs appear only when both are complete.`,
		Example: `  reconalign project --data train.npy --test-data test.npy --keep bottom --variance 0.2 \
      --out train_bottom20.npy --test-out test_bottom20.npy
  reconalign project --synthetic imagenet224,n=20000 --keep bottom --variance 0.2 --top-k 500 \
      --out bottom20.npy`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProject(cmd, f) },
	}
	f.train = addDataFlags(cmd, "", false)
	f.test = addDataFlags(cmd, "test-", false)
	fl := cmd.Flags()
	fl.StringVar(&f.keep, "keep", "", "top or bottom")
	fl.Float64Var(&f.variance, "variance", 0, "share of the training variance the subspace explains, in (0, 1]")
	fl.StringVar(&f.out, "out", "", "write the projected training data to this .npy")
	fl.StringVar(&f.testOut, "test-out", "", "write the projected test data to this .npy (default: --out with _test before .npy)")
	fl.StringVar(&f.dtype, "dtype", "float32", "element type of the output: float32 or float64")
	fl.Float64Var(&f.rtol, "rtol", 0, "eigenvalues ≤ rtol·λ₁ count as zero (0: the engine's default)")
	fl.IntVar(&f.topK, "top-k", 0, "find only the K leading directions by randomized SVD (for large D); 0: full eigendecomposition")
	fl.IntVar(&f.oversample, "oversample", 10, "with --top-k: extra sketch columns p")
	fl.IntVar(&f.powerIters, "power-iters", 2, "with --top-k: power iterations q (each one more pass over the training data)")
	return cmd
}

func runProject(cmd *cobra.Command, f *projectFlags) error {
	if err := requireFlags(cmd, "keep", "variance", "out"); err != nil {
		return err
	}
	keep, err := closedform.ParseKeep(f.keep)
	if err != nil {
		return fmt.Errorf("--keep: %w", err)
	}
	if !(f.variance > 0 && f.variance <= 1) {
		return fmt.Errorf("--variance %g: want a fraction in (0, 1]", f.variance)
	}
	dt := map[string]backend.DType{"float32": backend.F32, "float64": backend.F64}
	if _, ok := dt[f.dtype]; !ok {
		return fmt.Errorf("--dtype %q: want float32 or float64", f.dtype)
	}
	if !strings.HasSuffix(f.out, ".npy") {
		return fmt.Errorf("--out %q: want a .npy file name", f.out)
	}
	if err := checkRTol(f.rtol, true); err != nil {
		return err
	}
	if cmd.Flags().Changed("top-k") && f.topK < 1 {
		return fmt.Errorf("--top-k %d: want at least 1 direction", f.topK)
	}
	if f.topK == 0 && (cmd.Flags().Changed("oversample") || cmd.Flags().Changed("power-iters")) {
		return fmt.Errorf("--oversample and --power-iters apply only with --top-k")
	}
	hasTest := f.test.given()
	if hasTest && f.testOut == "" {
		f.testOut = strings.TrimSuffix(f.out, ".npy") + "_test.npy"
	}
	outs, err := newOutputs(append(f.train.inputs(), f.test.inputs()...), "--out", f.out, "--test-out", f.testOut)
	if err != nil {
		return err
	}
	defer outs.abort()
	src, err := f.train.open(cmd)
	if err != nil {
		return err
	}
	sources := []data.Source{src}
	paths := []string{f.out}
	if hasTest {
		testSrc, err := f.test.open(cmd)
		if err != nil {
			return err
		}
		sources, paths = append(sources, testSrc), append(paths, f.testOut)
	}
	// The projected rows stream into temporary files during the pass; they
	// are given their names only once both are complete.
	var targets []closedform.ProjectTarget
	var writers []*data.NPYWriter
	for i, s := range sources {
		w, err := data.NewNPYWriter(paths[i], dt[f.dtype], s.Meta().ArrayShape())
		if err != nil {
			return err
		}
		defer w.Abort()
		writers = append(writers, w)
		targets = append(targets, closedform.ProjectTarget{Src: s, Write: w.WriteRows})
	}
	eng, err := newEngine()
	if err != nil {
		return err
	}
	defer eng.Close()
	opt := closedform.ProjectOptions{Keep: keep, Variance: f.variance, RTol: f.rtol,
		TopK: f.topK, Oversample: f.oversample, PowerIters: f.powerIters, Progress: newProgress("pass")}
	if cmd.Flags().Changed("chunk-rows") {
		opt.ChunkRows = global.chunkRows
	}
	if f.topK > 0 {
		opt.Begin = func(method string, passes int) {
			note("project: randomized top-%d of %s (%s), %d pass(es)", f.topK, src.Meta().Name, method, passes)
		}
	}
	proj, err := closedform.Project(eng, src, opt, targets...)
	if err != nil {
		var short *closedform.ShortSpectrumError
		if errors.As(err, &short) {
			return fmt.Errorf("%s: the top K=%d directions explain only %.2f%% of the variance, and the %s %g cut needs them to explain at least %.2f%%; raise --top-k",
				f.train.name(), short.K, 100*short.Explained, keep, f.variance, 100*short.Needed)
		}
		return err
	}
	for _, w := range writers {
		if err := w.Finish(); err != nil {
			return err
		}
		outs.add(w)
	}
	if err := outs.commit(); err != nil {
		return err
	}
	if global.quiet {
		return nil
	}
	summary := ""
	if res := proj.TopK; res != nil {
		summary = fmt.Sprintf(" (top-%d by randomized SVD: %s, %d pass(es); relative eigenvalue error of the %d leading directions used: estimate %.2g, bound %.2g)",
			f.topK, res.Method, res.Passes, proj.Used, proj.ErrorEstimate, proj.ErrorBound)
		if proj.ErrorEstimate > closedform.LeadingErrorWarn {
			fmt.Fprintf(os.Stderr, "project: warning: the %d leading directions are uncertain (relative eigenvalue error about %.2g), and so is the cut; raise --top-k or --power-iters\n", proj.Used, proj.ErrorEstimate)
		}
	}
	sub := proj.Sub
	fmt.Printf("%s: %s %g of the variance: %d of %d directions (from %d), explaining %.4f of the training variance%s\n",
		f.train.name(), sub.Keep, f.variance, sub.Count, proj.D, sub.First+1, sub.Explained, summary)
	fmt.Printf("wrote %s", f.out)
	if hasTest {
		fmt.Printf(" and %s", f.testOut)
	}
	fmt.Println()
	return nil
}
