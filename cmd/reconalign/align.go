package main

import (
	"encoding/csv"
	"fmt"
	"os"
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

func init() {
	var (
		center                bool
		form, scale, norm     string
		rtol                  float64
		out, csvPath, pngPath string
	)
	cmd := &cobra.Command{
		Use:   "align",
		Short: "The alignment curve alignment(k) for every k (paper Eq. 7)",
		Long: `align streams the data once, eigendecomposes the Gram on the cheaper side and
prints alignment(k): the share of the labels' energy captured by the top-k
principal directions, for every k up to the rank.`,
		Example: `  reconalign align --data train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz \
      --out curve.json --csv curve.csv --plot curve.png`,
	}
	df := addDataFlags(cmd, "", true)
	f := cmd.Flags()
	f.BoolVar(&center, "center", false, "remove each feature's mean first")
	f.StringVar(&form, "form", "gram", "a_j = ‖YYᵀq_j‖² (gram, Eq. 7) or ‖Yᵀq_j‖² (regression)")
	f.StringVar(&scale, "scale", "squared", "squared (the ratio, Eq. 7) or norm (its square root, as the reference figures)")
	f.StringVar(&norm, "normalize", "full", "full (divide by the full-rank total) or papercode (by ‖YᵀY‖_F², as the printed alignment_sweep)")
	f.Float64Var(&rtol, "rtol", engine.DefaultRTol, "eigenvalues ≤ rtol·λ₁ are outside the numerical range")
	f.StringVar(&out, "out", "", "write the curve and its settings as JSON to this file (- for stdout)")
	f.StringVar(&csvPath, "csv", "", "write k,alignment,eigenvalue as CSV to this file")
	f.StringVar(&pngPath, "plot", "", "draw the curve (as the paper's Fig. 2) to this PNG")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		opt, err := alignOptions(center, form, scale, norm, rtol)
		if err != nil {
			return err
		}
		if !df.hasLabels() {
			return fmt.Errorf("align needs --labels: the alignment is measured against them")
		}
		start := time.Now()
		src, err := df.open(cmd)
		if err != nil {
			return err
		}
		eng, err := newEngine()
		if err != nil {
			return err
		}
		defer eng.Close()
		curve, err := eng.Align(src, opt)
		if err != nil {
			return err
		}
		meta := src.Meta()
		info := curve.Backend
		rep := alignReport{
			Data: df.name(), Labels: df.labels, N: meta.N, D: meta.D, Classes: max(meta.Classes, meta.Targets),
			ImageShape: meta.Shape.String(), Backend: info.Name, Device: info.Device,
			Seconds: time.Since(start).Seconds(), K: curve.K, Alignment: curve.Alignment,
			Eigenvalues: curve.Eigenvalues, Rank: curve.Rank, Centered: curve.Centered, Form: curve.Form,
			Scale: curve.Scale, Normalize: curve.Normalize, Route: curve.Route, RTol: curve.RTol, PerDir: curve.PerDirection,
		}
		if out != "" {
			if err := writeJSON(out, rep); err != nil {
				return err
			}
		}
		if csvPath != "" {
			if err := writeCurveCSV(csvPath, curve); err != nil {
				return err
			}
		}
		if pngPath != "" {
			title := fmt.Sprintf("alignment (%s, %s, %s, %s)", curve.Form, curve.Scale, curve.Normalize, centeredWord(curve.Centered))
			s := plotting.Series{Name: df.name(), X: plotting.Ints(curve.K), Y: plotting.Percent(curve.Alignment)}
			if err := plotting.Lines(pngPath, title, "number of top principal directions k", "alignment (%)", true, s); err != nil {
				return err
			}
		}
		if out != "-" {
			printCurveSummary(rep)
		}
		return nil
	}
	rootCmd.AddCommand(cmd)
}

func centeredWord(c bool) string {
	if c {
		return "centered"
	}
	return "not centered"
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

func writeCurveCSV(path string, c *engine.Curve) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"k", "alignment", "eigenvalue", "per_direction"})
	for i, k := range c.K {
		w.Write([]string{strconv.Itoa(k), strconv.FormatFloat(c.Alignment[i], 'g', 17, 64),
			strconv.FormatFloat(c.Eigenvalues[i], 'g', 17, 64), strconv.FormatFloat(c.PerDirection[i], 'g', 17, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
