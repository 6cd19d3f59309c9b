package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// solveReport is the JSON written by `reconalign solve --out`.
type solveReport struct {
	Data     string                   `json:"data"`
	Labels   string                   `json:"labels"`
	N        int                      `json:"n"`
	D        int                      `json:"d"`
	Classes  int                      `json:"classes"`
	Centered bool                     `json:"centered"`
	Route    engine.Route             `json:"route"`
	Rank     int                      `json:"rank"`
	TraceGy  float64                  `json:"trace_gy"`
	TraceGx  float64                  `json:"trace_gx"`
	Backend  string                   `json:"backend"`
	Seconds  float64                  `json:"seconds"`
	Results  []*closedform.Supervised `json:"results"`
	Saved    []string                 `json:"saved,omitempty"`
}

func init() {
	var (
		k              int
		lambdas        string
		center         bool
		rtol           float64
		route, saveDir string
		out            string
	)
	cmd := &cobra.Command{
		Use:   "solve",
		Short: "Theorem 1: the optimum of supervised + λ·reconstruction, in closed form",
		Long: `solve computes, for each λ, the minimum of ‖XVW − Y‖² + λ‖XVZ − X‖² over a
K-dimensional linear encoder V, a linear classifier W and a linear decoder Z
(Theorem 1 of the paper): V* spans the top-K generalized eigenvectors of
(MᵀM + λ·Gx·Gx, Gx) on the range of Gx. It prints the loss at the optimum and
its two parts, the supervised error ‖XV*W* − Y‖² and the reconstruction error
‖XV*Z* − X‖², and saves V* (D×K), W* (K×C) and Z* (K×D) as .npy on request.
λ = 0 is least squares on X; large λ is PCA (Corollary 1.1). X is centred with
--center; Y is the one-hot labels (or the dense targets), without intercept.

With --route auto the N×N Gram is used when N < D and the data fit in memory
(the paper's fast_gram_eigh), the D×D moments otherwise.`,
		Example: `  reconalign solve --data x.npy --labels y.npy --k 16 --lambda 0,0.1,1,10 --center --save-dir out/`,
	}
	df := addDataFlags(cmd, "", true)
	f := cmd.Flags()
	f.IntVar(&k, "k", 0, "embedding dimension K (1 ≤ K ≤ rank)")
	f.StringVar(&lambdas, "lambda", "0,0.1,1,10", "weights λ of the reconstruction term, a list or linspace(a,b,n)")
	f.BoolVar(&center, "center", false, "remove each feature's mean first")
	f.Float64Var(&rtol, "rtol", engine.DefaultRTol, "eigenvalues ≤ rtol·λ₁ are outside the data's range")
	f.StringVar(&route, "route", "auto", "auto, moments (D×D) or dual (N×N, data in memory)")
	f.StringVar(&saveDir, "save-dir", "", "save V_lambda=λ.npy, W_lambda=λ.npy and Z_lambda=λ.npy here")
	f.StringVar(&out, "out", "", "write the results as JSON to this file (- for stdout)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		start := time.Now()
		if !cmd.Flags().Changed("k") {
			return fmt.Errorf("solve needs --k (the embedding dimension)")
		}
		if k < 1 {
			return fmt.Errorf("--k %d: want K ≥ 1", k)
		}
		lv, err := parseFloats("--lambda", lambdas)
		if err != nil {
			return err
		}
		for _, l := range lv {
			if !(l >= 0) {
				return fmt.Errorf("--lambda %g: want λ ≥ 0", l)
			}
		}
		if !(rtol > 0 && rtol < 1) {
			return fmt.Errorf("--rtol %g: want a value in (0, 1)", rtol)
		}
		if !df.hasLabels() {
			return fmt.Errorf("solve needs --labels: Theorem 1's supervised term fits them")
		}
		if saveDir != "" {
			if err := os.MkdirAll(saveDir, 0o755); err != nil {
				return fmt.Errorf("--save-dir: %w", err)
			}
		}
		src, err := df.open(cmd)
		if err != nil {
			return err
		}
		meta := src.Meta()
		eng, err := newEngine()
		if err != nil {
			return err
		}
		defer eng.Close()
		be := heldBackend(eng)
		useDual := false
		switch route {
		case "auto":
			useDual = meta.N > 0 && meta.N < meta.D && meta.Targets == 0 &&
				8*(float64(meta.N)*float64(meta.D)+float64(meta.N)*float64(meta.N)) < engine.DualMaxBytes
		case "dual":
			if meta.Targets > 0 {
				return fmt.Errorf("--route dual needs integer labels; dense targets go through --route moments")
			}
			useDual = true
		case "moments":
		default:
			return fmt.Errorf("--route %q: want auto, moments or dual", route)
		}
		var rg *closedform.Range
		if useDual {
			rg, err = dualRange(be, src, center, rtol)
		} else {
			var m *engine.Moments
			if m, err = eng.Moments(src); err == nil {
				var st *engine.Stats
				if st, err = m.Finalize(center); err == nil {
					rg, err = closedform.NewRange(be, st, rtol)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", df.name(), err)
		}
		if k > rg.Rank {
			return fmt.Errorf("--k %d exceeds the numerical rank %d of %s (N=%d, D=%d)", k, rg.Rank, df.name(), meta.N, meta.D)
		}
		rep := solveReport{Data: df.name(), Labels: df.labels, N: rg.N, D: rg.D, Classes: rg.C, Centered: center,
			Route: rg.Route, Rank: rg.Rank, TraceGx: rg.TraceGx, Backend: be.Info().Name}
		for i := 0; i < rg.C; i++ {
			rep.TraceGy += rg.Gy.Data[i*rg.Gy.Stride+i]
		}
		for _, l := range lv {
			s, err := closedform.SolveSupervised(be, rg, k, l, saveDir != "")
			if err != nil {
				return err
			}
			rep.Results = append(rep.Results, s)
			if saveDir != "" {
				for _, m := range []struct {
					name string
					a    blas64.General
				}{{"V", s.V}, {"W", s.W}, {"Z", s.Z}} {
					p := filepath.Join(saveDir, fmt.Sprintf("%s_lambda=%g.npy", m.name, l))
					if err := data.WriteNPY(p, m.a.Data, []int{m.a.Rows, m.a.Cols}); err != nil {
						return err
					}
					rep.Saved = append(rep.Saved, p)
				}
			}
		}
		rep.Seconds = time.Since(start).Seconds()
		if out != "" {
			if err := writeJSON(out, rep); err != nil {
				return err
			}
		}
		if out != "-" {
			fmt.Printf("%s: N=%d D=%d classes=%d rank=%d route=%s %s, K=%d, backend=%s %.2fs\n",
				rep.Data, rep.N, rep.D, rep.Classes, rep.Rank, rep.Route, centeredWord(center), k, rep.Backend, rep.Seconds)
			fmt.Printf("tr(YᵀY) = %.6g, tr(XᵀX) = %.6g\n", rep.TraceGy, rep.TraceGx)
			fmt.Printf("%10s  %14s  %14s  %14s\n", "λ", "loss", "supervised", "reconstruction")
			for _, s := range rep.Results {
				fmt.Printf("%10g  %14.8g  %14.8g  %14.8g\n", s.Lambda, s.Loss, s.Supervised, s.Reconstruction)
			}
			if len(rep.Saved) > 0 {
				fmt.Printf("saved %d arrays in %s\n", len(rep.Saved), saveDir)
			}
		}
		return nil
	}
	rootCmd.AddCommand(cmd)
}

// dualRange reads the data into memory with one-hot targets and builds the
// range on the N×N side.
func dualRange(be backend.Backend, src data.Source, center bool, rtol float64) (*closedform.Range, error) {
	x, labels, err := data.Collect(src)
	if err != nil {
		return nil, err
	}
	if labels == nil {
		return nil, fmt.Errorf("the N×N route needs integer labels")
	}
	c := src.Meta().Classes
	for _, l := range labels {
		c = max(c, l+1)
	}
	xm := blas64.General{Rows: x.N, Cols: x.D, Stride: x.D, Data: x.F64}
	y := backend.NewGeneral(x.N, c)
	for i, l := range labels {
		y.Data[i*c+l] = 1
	}
	return closedform.NewRangeFromData(be, xm, y, center, rtol)
}
