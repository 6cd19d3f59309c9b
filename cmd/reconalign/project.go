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
	"github.com/reconalign/reconalign/rsvd"
)

func init() {
	var (
		keep, out, testOut, dtype    string
		variance, rtol               float64
		topK, oversample, powerIters int
	)
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
chunk, never all held in memory.`,
		Example: `  reconalign project --data train.npy --test-data test.npy --keep bottom --variance 0.2 \
      --out train_bottom20.npy --test-out test_bottom20.npy
  reconalign project --synthetic imagenet224,n=20000 --keep bottom --variance 0.2 --top-k 500 \
      --out bottom20.npy`,
	}
	train := addDataFlags(cmd, "", false)
	test := addDataFlags(cmd, "test-", false)
	f := cmd.Flags()
	f.StringVar(&keep, "keep", "", "top or bottom")
	f.Float64Var(&variance, "variance", 0, "share of the training variance the subspace explains, in (0, 1]")
	f.StringVar(&out, "out", "", "write the projected training data to this .npy")
	f.StringVar(&testOut, "test-out", "", "write the projected test data to this .npy (default: --out with _test before .npy)")
	f.StringVar(&dtype, "dtype", "float32", "element type of the output: float32 or float64")
	f.Float64Var(&rtol, "rtol", 0, "eigenvalues ≤ rtol·λ₁ count as zero (0: the engine's default)")
	f.IntVar(&topK, "top-k", 0, "find only the K leading directions by randomized SVD (for large D); 0: full eigendecomposition")
	f.IntVar(&oversample, "oversample", 10, "with --top-k: extra sketch columns p")
	f.IntVar(&powerIters, "power-iters", 2, "with --top-k: power iterations q (each one more pass over the training data)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := requireFlags(cmd, "keep", "variance", "out"); err != nil {
			return err
		}
		k, err := closedform.ParseKeep(keep)
		if err != nil {
			return fmt.Errorf("--keep: %w", err)
		}
		if !(variance > 0 && variance <= 1) {
			return fmt.Errorf("--variance %g: want a fraction in (0, 1]", variance)
		}
		if dtype != "float32" && dtype != "float64" {
			return fmt.Errorf("--dtype %q: want float32 or float64", dtype)
		}
		if !strings.HasSuffix(out, ".npy") {
			return fmt.Errorf("--out %q: want a .npy file name", out)
		}
		if cmd.Flags().Changed("top-k") && topK < 1 {
			return fmt.Errorf("--top-k %d: want at least 1 direction", topK)
		}
		hasTest := test.data != "" || test.synthetic != ""
		if hasTest && testOut == "" {
			testOut = strings.TrimSuffix(out, ".npy") + "_test.npy"
		}
		src, err := train.open(cmd)
		if err != nil {
			return err
		}
		var testSrc data.Source
		if hasTest {
			if testSrc, err = test.open(cmd); err != nil {
				return err
			}
			if testSrc.Meta().D != src.Meta().D {
				return fmt.Errorf("--test-data has D = %d features but --data has %d", testSrc.Meta().D, src.Meta().D)
			}
		}
		chunkRows := projectChunkRows(cmd, src.Meta().D)
		var (
			proj    *closedform.Projector
			sub     closedform.Subspace
			summary string
		)
		if topK > 0 {
			eng, err := newEngine()
			if err != nil {
				return err
			}
			defer eng.Close()
			be := heldBackend(eng)
			opt := rsvd.Options{K: topK, Oversample: oversample, PowerIters: powerIters, Center: true,
				Seed: 1, ChunkRows: chunkRows, NoLabels: true}
			ls, res, err := leadingSpectrum(src, be, opt)
			if err != nil {
				return err
			}
			if sub, err = ls.Cut(k, variance); err != nil {
				var short *closedform.ShortSpectrumError
				if errors.As(err, &short) {
					return fmt.Errorf("%s: the top K=%d directions explain only %.2f%% of the variance, and the %s %g cut needs them to explain at least %.2f%%; raise --top-k",
						train.name(), short.K, 100*short.Explained, k, variance, 100*short.Needed)
				}
				return fmt.Errorf("%s: %w", train.name(), err)
			}
			if proj, err = ls.Projector(be, sub); err != nil {
				return err
			}
			used := sub.Count // the directions the projector is built from
			if k == closedform.KeepBottom {
				used = sub.First
			}
			estimate, bound := leadingError(res, used)
			summary = fmt.Sprintf(" (top-%d by randomized SVD: %s, %d pass(es); relative eigenvalue error of the %d leading directions used: estimate %.2g, bound %.2g)",
				topK, res.Method, res.Passes, used, estimate, bound)
			if !global.quiet && estimate > leadingErrorWarn {
				fmt.Fprintf(os.Stderr, "project: warning: the %d leading directions are uncertain (relative eigenvalue error about %.2g), and so is the cut; raise --top-k or --power-iters\n", used, estimate)
			}
		} else {
			if cmd.Flags().Changed("oversample") || cmd.Flags().Changed("power-iters") {
				return fmt.Errorf("--oversample and --power-iters apply only with --top-k")
			}
			spec, be, closeEng, err := trainSpectrum(src, rtol)
			if err != nil {
				return err
			}
			defer closeEng()
			if sub, err = spec.Cut(k, variance); err != nil {
				return err
			}
			proj = spec.Projector(be, sub)
		}
		if err := writeProjection(proj, src, out, dtype, chunkRows); err != nil {
			return err
		}
		if hasTest {
			if err := writeProjection(proj, testSrc, testOut, dtype, chunkRows); err != nil {
				return err
			}
		}
		if !global.quiet {
			fmt.Printf("%s: %s %g of the variance: %d of %d directions (from %d), explaining %.4f of the training variance%s\n",
				train.name(), sub.Keep, variance, sub.Count, src.Meta().D, sub.First+1, sub.Explained, summary)
			fmt.Printf("wrote %s", out)
			if hasTest {
				fmt.Printf(" and %s", testOut)
			}
			fmt.Println()
		}
		return nil
	}
	rootCmd.AddCommand(cmd)
}

// leadingSpectrum runs the streaming randomized top-K on the training data,
// validating the options against D first so that the errors name the flags.
func leadingSpectrum(src data.Source, be backend.Backend, opt rsvd.Options) (*closedform.LeadingSpectrum, *rsvd.Result, error) {
	d := src.Meta().D
	switch {
	case opt.K > d:
		return nil, nil, fmt.Errorf("--top-k %d exceeds the %d features of %s", opt.K, d, src.Meta().Name)
	case opt.Oversample < 0 || opt.PowerIters < 0:
		return nil, nil, fmt.Errorf("--oversample %d, --power-iters %d: want both ≥ 0", opt.Oversample, opt.PowerIters)
	}
	if !global.quiet {
		fmt.Fprintf(os.Stderr, "project: randomized top-%d of %s, up to %d passes\n", opt.K, src.Meta().Name, opt.PowerIters+2)
		src = progressSource{src, newProgress("pass")}
	}
	res, err := rsvd.TopK(be, src, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", src.Meta().Name, err)
	}
	ls, err := closedform.NewLeadingSpectrum(res.Mean, res.Values, res.Vectors, res.Trace)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", src.Meta().Name, err)
	}
	return ls, res, nil
}

// leadingErrorWarn is the relative eigenvalue error estimate beyond which
// the directions used (and the cut) are visibly off from the exact ones.
const leadingErrorWarn = 1e-6

// leadingError is the largest relative error estimate and bound of the
// first n Ritz values: the accuracy that matters for a cut after n
// directions (Result.ErrorBound covers all K, whose last ones are always the
// worst).
func leadingError(res *rsvd.Result, n int) (estimate, bound float64) {
	for j := 0; j < n && j < len(res.Values); j++ {
		if v := res.Values[j]; v > 0 {
			estimate = max(estimate, res.ValueErrors[j]/v)
			bound = max(bound, res.ValueBounds[j]/v)
		}
	}
	return estimate, bound
}

// projectChunkBytes bounds a chunk of float64 rows when --chunk-rows is left
// at its default: at D = 150,528 the default 4,096 rows would be 4.9 GB.
const projectChunkBytes = 64 << 20

// projectChunkRows is --chunk-rows when given, else the default capped so
// that a chunk of D float64 features stays within projectChunkBytes.
func projectChunkRows(cmd *cobra.Command, d int) int {
	if f := cmd.Flag("chunk-rows"); (f != nil && f.Changed) || d <= 0 {
		return global.chunkRows
	}
	return max(1, min(global.chunkRows, projectChunkBytes/(8*d)))
}

// writeProjection streams src through the projector into a .npy file, one
// chunk at a time; a source that delivers fewer rows than its Meta promised
// fails, and leaves no file behind.
func writeProjection(p *closedform.Projector, src data.Source, path, dtype string, chunkRows int) error {
	meta := src.Meta()
	shape := []int{meta.N, meta.D}
	if s := meta.Shape; !s.IsZero() && s.D() == meta.D {
		if s.Layout == data.CHW {
			shape = []int{meta.N, s.C, s.H, s.W}
		} else {
			shape = []int{meta.N, s.H, s.W, s.C}
		}
	}
	dt := backend.F64
	if dtype == "float32" {
		dt = backend.F32
	}
	w, err := data.NewNPYWriter(path, dt, shape)
	if err != nil {
		return err
	}
	defer w.Abort()
	err = closedform.ProjectSource(p, src, chunkRows, func(rows []float64, n int) error {
		return w.WriteRows(rows)
	})
	if err != nil {
		return err
	}
	return w.Close()
}
