package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/data"
)

// probeReport is the JSON written by `reconalign probe --out`.
type probeReport struct {
	TrainData string                `json:"train_data"`
	TestData  string                `json:"test_data"`
	NTrain    int                   `json:"n_train"`
	NTest     int                   `json:"n_test"`
	D         int                   `json:"d"`
	Classes   int                   `json:"classes"`
	Ridge     float64               `json:"ridge"`
	Backend   string                `json:"backend"`
	Seconds   float64               `json:"seconds"`
	Subspace  *closedform.Subspace  `json:"subspace,omitempty"`
	Accuracy  *float64              `json:"accuracy,omitempty"`
	Sweep     []closedform.SweepRow `json:"sweep,omitempty"`
}

func init() {
	var (
		ridge, variance, rtol float64
		keep, grid, out       string
		sweep                 bool
	)
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Closed-form linear probe on the data or on a top/bottom subspace (paper Fig. 4)",
		Long: `probe fits a linear classifier in closed form, ridge least squares of the one-hot
labels with an intercept, from the moments of the training data (one pass), and
reports its accuracy on the test data (one more pass). With --keep and
--variance the probe sees only the projection of the data onto that principal
subspace, as in the paper's Figure 4; with --sweep it prints the whole table: for
each variance fraction of --grid, the accuracy on the top and on the bottom
subspace explaining it, side by side (one pass over the test data for all).
The ridge is added to the summed centred Gram (Gx_c + ridge·I), not divided by N.`,
		Example: `  reconalign probe --train-data train-images-idx3-ubyte.gz --train-labels train-labels-idx1-ubyte.gz \
      --test-data t10k-images-idx3-ubyte.gz --test-labels t10k-labels-idx1-ubyte.gz --sweep`,
	}
	train := addDataFlags(cmd, "train-", true)
	test := addDataFlags(cmd, "test-", true)
	f := cmd.Flags()
	f.Float64Var(&ridge, "ridge", 0, "ridge added to the centred Gram (0: minimum-norm least squares)")
	f.StringVar(&keep, "keep", "", "probe only the top or bottom subspace (with --variance)")
	f.Float64Var(&variance, "variance", 0, "share of the training variance of that subspace, in (0, 1]")
	f.BoolVar(&sweep, "sweep", false, "print the Figure 4 table over --grid instead of one probe")
	f.StringVar(&grid, "grid", "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95,0.99", "variance fractions of --sweep, a list or linspace(a,b,n)")
	f.Float64Var(&rtol, "rtol", 0, "eigenvalues ≤ rtol·λ₁ are left out of the probe when --ridge is 0 (0: the engine's default)")
	f.StringVar(&out, "out", "", "write the results as JSON to this file (- for stdout)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		start := time.Now()
		if !(ridge >= 0) {
			return fmt.Errorf("--ridge %g: want a ridge ≥ 0", ridge)
		}
		if !train.hasLabels() || !test.hasLabels() {
			return fmt.Errorf("probe needs --train-labels and --test-labels")
		}
		var k closedform.Keep
		if keep != "" || cmd.Flags().Changed("variance") {
			if sweep {
				return fmt.Errorf("--sweep covers both subspaces over --grid: drop --keep and --variance")
			}
			var err error
			if k, err = closedform.ParseKeep(keep); err != nil {
				return fmt.Errorf("--keep: %w", err)
			}
			if !(variance > 0 && variance <= 1) {
				return fmt.Errorf("--variance %g: want a fraction in (0, 1]", variance)
			}
		}
		var gv []float64
		if sweep {
			var err error
			if gv, err = parseFloats("--grid", grid); err != nil {
				return err
			}
			for _, v := range gv {
				if !(v > 0 && v <= 1) {
					return fmt.Errorf("--grid: variance fraction %g outside (0, 1]", v)
				}
			}
		}
		src, err := train.open(cmd)
		if err != nil {
			return err
		}
		testSrc, err := test.open(cmd)
		if err != nil {
			return err
		}
		if testSrc.Meta().D != src.Meta().D {
			return fmt.Errorf("--test-data has D = %d features but --train-data has %d", testSrc.Meta().D, src.Meta().D)
		}
		spec, be, closeEng, err := trainSpectrum(src, rtol)
		if err != nil {
			return err
		}
		defer closeEng()
		rep := probeReport{TrainData: train.name(), TestData: test.name(), NTrain: spec.N, NTest: testSrc.Meta().N,
			D: spec.D, Classes: spec.Stats.C, Ridge: ridge, Backend: be.Info().Name}
		if sweep {
			rows, err := closedform.ProbeSweep(be, spec, testSrc, gv, ridge, global.chunkRows)
			if err != nil {
				return err
			}
			rep.Sweep = rows
		} else {
			sub := spec.All()
			if k != "" {
				if sub, err = spec.Cut(k, variance); err != nil {
					return err
				}
			}
			p, err := closedform.FitProbe(be, spec, sub, ridge)
			if err != nil {
				return err
			}
			acc, err := p.Accuracy(be, testSrc, global.chunkRows)
			if err != nil {
				return err
			}
			rep.Subspace, rep.Accuracy = &sub, &acc
		}
		rep.Seconds = time.Since(start).Seconds()
		if out != "" {
			if err := writeJSON(out, rep); err != nil {
				return err
			}
		}
		if out != "-" {
			printProbe(rep)
		}
		return nil
	}
	rootCmd.AddCommand(cmd)
}

// trainSpectrum streams the training data once and eigendecomposes its
// centred Gram. The returned func closes the engine.
func trainSpectrum(src data.Source, rtol float64) (*closedform.Spectrum, backend.Backend, func(), error) {
	if !(rtol >= 0 && rtol < 1) {
		return nil, nil, nil, fmt.Errorf("--rtol %g: want a value in [0, 1)", rtol)
	}
	eng, err := newEngine()
	if err != nil {
		return nil, nil, nil, err
	}
	spec, err := func() (*closedform.Spectrum, error) {
		m, err := eng.Moments(src)
		if err != nil {
			return nil, err
		}
		st, err := m.Finalize(true)
		if err != nil {
			return nil, err
		}
		return closedform.NewSpectrum(heldBackend(eng), st, rtol)
	}()
	if err != nil {
		eng.Close()
		return nil, nil, nil, fmt.Errorf("%s: %w", src.Meta().Name, err)
	}
	return spec, heldBackend(eng), func() { eng.Close() }, nil
}

func printProbe(r probeReport) {
	fmt.Printf("train %s (N=%d), test %s (N=%d): D=%d classes=%d ridge=%g backend=%s %.2fs\n",
		r.TrainData, r.NTrain, r.TestData, r.NTest, r.D, r.Classes, r.Ridge, r.Backend, r.Seconds)
	if r.Accuracy != nil {
		s := r.Subspace
		what := "all directions"
		if s.Keep != "all" {
			what = fmt.Sprintf("%s %g of the variance: %d directions explaining %.4f", s.Keep, s.Variance, s.Count, s.Explained)
		}
		fmt.Printf("linear probe on %s: test accuracy %.4f\n", what, *r.Accuracy)
		return
	}
	fmt.Printf("%8s | %5s %9s %8s | %5s %9s %8s\n", "variance", "top", "explains", "accuracy", "bottom", "explains", "accuracy")
	cell := func(s *closedform.ProbeScore) string {
		if s == nil {
			return fmt.Sprintf("%5s %9s %8s", "-", "-", "-")
		}
		return fmt.Sprintf("%5d %9.4f %8.4f", s.Dims, s.Explained, s.Accuracy)
	}
	for _, row := range r.Sweep {
		fmt.Printf("%8.3f | %s | %s\n", row.Variance, cell(row.Top), cell(row.Bottom))
	}
}
