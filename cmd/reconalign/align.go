package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/plotting"
)

// alignReport is the JSON written by `reconalign align --out`.
type alignReport struct {
	Data        string           `json:"data"`
	Labels      string           `json:"labels"`
	N           int              `json:"n"`
	D           int              `json:"d"`
	Classes     int              `json:"classes"`
	ImageShape  string           `json:"image_shape"`
	Backend     string           `json:"backend"`
	Device      string           `json:"device"`
	Seconds     float64          `json:"seconds"`
	K           []int            `json:"k"`
	Alignment   []float64        `json:"alignment"`
	Eigenvalues []float64        `json:"eigenvalues"`
	Rank        int              `json:"rank"`
	Centered    bool             `json:"centered"`
	Form        engine.Form      `json:"form"`
	Scale       engine.Scale     `json:"scale"`
	Normalize   engine.Normalize `json:"normalize"`
	Route       engine.Route     `json:"route"`
	RTol        float64          `json:"rtol"`
	PerDir      []float64        `json:"per_direction"`
}

// alignFlags are the flags of `reconalign align`.
type alignFlags struct {
	data                  *dataFlags
	center                bool
	form, scale, norm     string
	rtol                  float64
	out, csvPath, pngPath string
}

func newAlignCmd() *cobra.Command {
	f := &alignFlags{}
	cmd := &cobra.Command{
		Use:   "align",
		Short: "The alignment curve alignment(k) for every k (paper Eq. 7)",
		Long: `align streams the data once, eigendecomposes the Gram on the cheaper side and
prints alignment(k): the share of the labels' energy captured by the top-k
principal directions, for every k up to the rank.`,
		Example: `  reconalign align --data train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz \
      --out curve.json --csv curve.csv --plot curve.png`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAlign(cmd, f) },
	}
	f.data = addDataFlags(cmd, "", true).withMoments(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&f.center, "center", false, "remove each feature's mean first")
	fl.StringVar(&f.form, "form", "gram", "a_j = ‖YYᵀq_j‖² (gram, Eq. 7) or ‖Yᵀq_j‖² (regression)")
	fl.StringVar(&f.scale, "scale", "squared", "squared (the ratio, Eq. 7) or norm (its square root, as the reference figures)")
	fl.StringVar(&f.norm, "normalize", "full", "full (divide by the full-rank total) or papercode (by ‖YᵀY‖_F², as the printed alignment_sweep)")
	fl.Float64Var(&f.rtol, "rtol", engine.DefaultRTol, "eigenvalues ≤ rtol·λ₁ are outside the numerical range")
	fl.StringVar(&f.out, "out", "", "write the curve and its settings as JSON to this file (- for stdout)")
	fl.StringVar(&f.csvPath, "csv", "", "write k,alignment,eigenvalue as CSV to this file")
	fl.StringVar(&f.pngPath, "plot", "", "draw the curve (as the paper's Fig. 2) to this PNG (or .svg, .pdf)")
	return cmd
}

func runAlign(cmd *cobra.Command, f *alignFlags) error {
	opt, err := alignOptions(f.center, f.form, f.scale, f.norm, f.rtol)
	if err != nil {
		return err
	}
	if !f.data.hasLabels() {
		return fmt.Errorf("align needs --labels: the alignment is measured against them")
	}
	if err := checkImage("--plot", f.pngPath); err != nil {
		return err
	}
	outs, err := newOutputs(f.data.inputs(), "--out", f.out, "--csv", f.csvPath, "--plot", f.pngPath)
	if err != nil {
		return err
	}
	defer outs.abort()
	start := time.Now()
	src, eng, err := f.data.openWithEngine(cmd)
	if err != nil {
		return err
	}
	defer eng.Close()
	curve, err := eng.Align(src, opt)
	if err != nil {
		return err
	}
	meta := src.Meta()
	rep := alignReport{
		Data: f.data.name(), Labels: f.data.labels, N: meta.N, D: meta.D, Classes: meta.Columns(),
		ImageShape: meta.Shape.String(), Backend: curve.Backend.Name, Device: curve.Backend.Device,
		Seconds: time.Since(start).Seconds(), K: curve.K, Alignment: curve.Alignment,
		Eigenvalues: curve.Eigenvalues, Rank: curve.Rank, Centered: curve.Centered, Form: curve.Form,
		Scale: curve.Scale, Normalize: curve.Normalize, Route: curve.Route, RTol: curve.RTol, PerDir: curve.PerDirection,
	}
	if err := outs.write(f.out, encodeJSON(rep)); err != nil {
		return err
	}
	if err := outs.write(f.csvPath, func(w io.Writer) error { return writeCurveCSV(w, curve) }); err != nil {
		return err
	}
	if err := outs.write(f.pngPath, func(w io.Writer) error { return alignFigure(rep).Write(w, imageFormat(f.pngPath)) }); err != nil {
		return fmt.Errorf("--plot %s: %w", f.pngPath, err)
	}
	if err := outs.commit(); err != nil {
		return err
	}
	if f.out != "-" {
		printCurveSummary(rep)
	}
	return nil
}

// alignFigure draws one curve as the paper's Figure 2.
func alignFigure(r alignReport) plotting.Figure {
	return alignOverlay([]alignReport{r}, []string{""})
}

// printCurveSummary prints the curve at a few k on stdout.
func printCurveSummary(r alignReport) {
	fmt.Printf("%s: N=%d D=%d classes=%d rank=%d route=%s backend=%s %.2fs\n",
		r.Data, r.N, r.D, r.Classes, r.Rank, r.Route, r.Backend, r.Seconds)
	fmt.Printf("alignment (%s form, %s scale, %s normalisation, %s)\n", r.Form, r.Scale, r.Normalize, centeredWord(r.Centered))
	fmt.Printf("%8s  %10s\n", "k", "alignment")
	for _, k := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000} {
		if k <= len(r.K) {
			fmt.Printf("%8d  %10.6f\n", k, r.Alignment[k-1])
		}
	}
	if n := len(r.K); n > 0 {
		fmt.Printf("%8d  %10.6f  (rank)\n", n, r.Alignment[n-1])
	}
}

func writeCurveCSV(out io.Writer, c *engine.Curve) error {
	w := csv.NewWriter(out)
	w.Write([]string{"k", "alignment", "eigenvalue", "per_direction"})
	for i, k := range c.K {
		w.Write([]string{strconv.Itoa(k), strconv.FormatFloat(c.Alignment[i], 'g', 17, 64),
			strconv.FormatFloat(c.Eigenvalues[i], 'g', 17, 64), strconv.FormatFloat(c.PerDirection[i], 'g', 17, 64)})
	}
	w.Flush()
	return w.Error()
}
