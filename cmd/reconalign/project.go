package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/data"
)

func init() {
	var (
		keep, out, testOut, dtype string
		variance, rtol            float64
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

The output .npy has the input's image shape when it is known ((N,H,W,C) for hwc,
(N,C,H,W) for chw), else (N,D); the projected rows are held in memory before
writing (N·D values of --dtype).`,
		Example: `  reconalign project --data train.npy --test-data test.npy --keep bottom --variance 0.2 \
      --out train_bottom20.npy --test-out test_bottom20.npy`,
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
		spec, be, closeEng, err := trainSpectrum(src, rtol)
		if err != nil {
			return err
		}
		defer closeEng()
		sub, err := spec.Cut(k, variance)
		if err != nil {
			return err
		}
		proj := spec.Projector(be, sub)
		if err := writeProjection(proj, src, out, dtype); err != nil {
			return err
		}
		if hasTest {
			if err := writeProjection(proj, testSrc, testOut, dtype); err != nil {
				return err
			}
		}
		if !global.quiet {
			fmt.Printf("%s: %s %g of the variance: %d of %d directions (from %d), explaining %.4f of the training variance\n",
				train.name(), sub.Keep, variance, sub.Count, spec.D, sub.First+1, sub.Explained)
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

// writeProjection streams src through the projector into a .npy file.
func writeProjection(p *closedform.Projector, src data.Source, path, dtype string) error {
	meta := src.Meta()
	var f32 []float32
	var f64 []float64
	if dtype == "float32" {
		f32 = make([]float32, 0, meta.N*meta.D)
	} else {
		f64 = make([]float64, 0, meta.N*meta.D)
	}
	err := closedform.ProjectSource(p, src, global.chunkRows, func(rows []float64, n int) error {
		if f32 != nil {
			for _, v := range rows {
				f32 = append(f32, float32(v))
			}
		} else {
			f64 = append(f64, rows...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	n := len(f32) + len(f64)
	shape := []int{n / meta.D, meta.D}
	if s := meta.Shape; !s.IsZero() && s.D() == meta.D {
		if s.Layout == data.CHW {
			shape = []int{n / meta.D, s.C, s.H, s.W}
		} else {
			shape = []int{n / meta.D, s.H, s.W, s.C}
		}
	}
	if f32 != nil {
		return data.WriteNPY(path, f32, shape)
	}
	return data.WriteNPY(path, f64, shape)
}
