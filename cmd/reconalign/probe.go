package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/closedform"
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

// probeFlags are the flags of `reconalign probe`.
type probeFlags struct {
	train, test           *dataFlags
	ridge, variance, rtol float64
	keep, grid, out       string
	sweep                 bool
}

func newProbeCmd() *cobra.Command {
	f := &probeFlags{}
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
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProbe(cmd, f) },
	}
	f.train = addDataFlags(cmd, "train-", true).withMoments(cmd)
	f.test = addDataFlags(cmd, "test-", true)
	fl := cmd.Flags()
	fl.Float64Var(&f.ridge, "ridge", 0, "ridge added to the centred Gram (0: minimum-norm least squares)")
	fl.StringVar(&f.keep, "keep", "", "probe only the top or bottom subspace (with --variance)")
	fl.Float64Var(&f.variance, "variance", 0, "share of the training variance of that subspace, in (0, 1]")
	fl.BoolVar(&f.sweep, "sweep", false, "print the Figure 4 table over --grid instead of one probe")
	fl.StringVar(&f.grid, "grid", "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95,0.99", "variance fractions of --sweep, a list or linspace(a,b,n)")
	fl.Float64Var(&f.rtol, "rtol", 0, "eigenvalues ≤ rtol·λ₁ are left out of the probe when --ridge is 0 (0: the engine's default)")
	fl.StringVar(&f.out, "out", "", "write the results as JSON to this file (- for stdout)")
	return cmd
}

func runProbe(cmd *cobra.Command, f *probeFlags) error {
	start := time.Now()
	if !f.train.hasLabels() || !f.test.hasLabels() {
		return fmt.Errorf("probe needs --train-labels and --test-labels")
	}
	if err := checkRTol(f.rtol, true); err != nil {
		return err
	}
	opt := closedform.ProbeOptions{Ridge: f.ridge, RTol: f.rtol}
	if f.keep != "" || cmd.Flags().Changed("variance") {
		if f.sweep {
			return fmt.Errorf("--sweep covers both subspaces over --grid: drop --keep and --variance")
		}
		var err error
		if opt.Keep, err = closedform.ParseKeep(f.keep); err != nil {
			return fmt.Errorf("--keep: %w", err)
		}
		if !(f.variance > 0 && f.variance <= 1) {
			return fmt.Errorf("--variance %g: want a fraction in (0, 1]", f.variance)
		}
		opt.Variance = f.variance
	}
	if f.sweep {
		var err error
		if opt.Sweep, err = closedform.ParseValues(f.grid); err != nil {
			return fmt.Errorf("--grid: %w", err)
		}
	}
	outs, err := newOutputs(append(f.train.inputs(), f.test.inputs()...), "--out", f.out)
	if err != nil {
		return err
	}
	defer outs.abort()
	testSrc, err := f.test.open(cmd)
	if err != nil {
		return err
	}
	src, eng, err := f.train.openWithEngine(cmd)
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := closedform.ProbeData(eng, src, testSrc, opt)
	if err != nil {
		return err
	}
	rep := probeReport{TrainData: f.train.name(), TestData: f.test.name(), NTrain: res.NTrain, NTest: res.NTest,
		D: res.D, Classes: res.C, Ridge: f.ridge, Backend: res.Backend.Name,
		Subspace: res.Subspace, Accuracy: res.Accuracy, Sweep: res.Sweep, Seconds: time.Since(start).Seconds()}
	if err := outs.write(f.out, encodeJSON(rep)); err != nil {
		return err
	}
	if err := outs.commit(); err != nil {
		return err
	}
	if f.out != "-" {
		printProbe(rep)
	}
	return nil
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
