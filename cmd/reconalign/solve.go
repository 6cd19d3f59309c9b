package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/closedform"
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

// solveFlags are the flags of `reconalign solve`.
type solveFlags struct {
	data           *dataFlags
	k              int
	lambdas        string
	center         bool
	rtol           float64
	route, saveDir string
	out            string
}

func newSolveCmd() *cobra.Command {
	f := &solveFlags{}
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
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runSolve(cmd, f) },
	}
	f.data = addDataFlags(cmd, "", true).withMoments(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.k, "k", 0, "embedding dimension K (1 ≤ K ≤ rank)")
	fl.StringVar(&f.lambdas, "lambda", "0,0.1,1,10", "weights λ of the reconstruction term, a list or linspace(a,b,n)")
	fl.BoolVar(&f.center, "center", false, "remove each feature's mean first")
	fl.Float64Var(&f.rtol, "rtol", engine.DefaultRTol, "eigenvalues ≤ rtol·λ₁ are outside the data's range")
	fl.StringVar(&f.route, "route", "auto", "auto, moments (D×D) or dual (N×N, data in memory)")
	fl.StringVar(&f.saveDir, "save-dir", "", "save V_lambda=λ.npy, W_lambda=λ.npy and Z_lambda=λ.npy here")
	fl.StringVar(&f.out, "out", "", "write the results as JSON to this file (- for stdout)")
	return cmd
}

func runSolve(cmd *cobra.Command, f *solveFlags) (err error) {
	start := time.Now()
	if !cmd.Flags().Changed("k") {
		return fmt.Errorf("solve needs --k (the embedding dimension)")
	}
	lv, err := closedform.ParseValues(f.lambdas)
	if err != nil {
		return fmt.Errorf("--lambda: %w", err)
	}
	if err := checkRTol(f.rtol, false); err != nil {
		return err
	}
	route, err := closedform.ParseRangeRoute(f.route)
	if err != nil {
		return err
	}
	if !f.data.hasLabels() {
		return fmt.Errorf("solve needs --labels: Theorem 1's supervised term fits them")
	}
	outs, err := newOutputs(f.data.inputs(), "--out", f.out)
	if err != nil {
		return err
	}
	defer outs.abort()
	saved := func(name string, l float64) string {
		return filepath.Join(f.saveDir, fmt.Sprintf("%s_lambda=%g.npy", name, l))
	}
	if f.saveDir != "" {
		for _, l := range lv {
			for _, m := range []string{"V", "W", "Z"} {
				if err := outs.declare("--save-dir", saved(m, l)); err != nil {
					return err
				}
			}
		}
	}
	src, eng, err := f.data.openWithEngine(cmd)
	if err != nil {
		return err
	}
	defer eng.Close()
	sol, err := closedform.Solve(eng, src, closedform.SolveOptions{K: f.k, Lambdas: lv, Center: f.center, RTol: f.rtol, Route: route, Vectors: f.saveDir != ""})
	if err != nil {
		return err
	}
	rep := solveReport{Data: f.data.name(), Labels: f.data.labels, N: sol.N, D: sol.D, Classes: sol.C, Centered: sol.Centered,
		Route: sol.Route, Rank: sol.Rank, TraceGx: sol.TraceGx, TraceGy: sol.TraceGy, Backend: sol.Backend.Name, Results: sol.Results}
	if f.saveDir != "" {
		if _, statErr := os.Stat(f.saveDir); statErr != nil {
			defer func() {
				if err != nil {
					os.Remove(f.saveDir) // the directory this run made, still empty
				}
			}()
		}
		if err := os.MkdirAll(f.saveDir, 0o755); err != nil {
			return fmt.Errorf("--save-dir: %w", err)
		}
		for _, s := range sol.Results {
			for _, m := range []struct {
				name string
				a    blas64.General
			}{{"V", s.V}, {"W", s.W}, {"Z", s.Z}} {
				p := saved(m.name, s.Lambda)
				if err := outs.write(p, npy(m.a.Data, []int{m.a.Rows, m.a.Cols})); err != nil {
					return err
				}
				rep.Saved = append(rep.Saved, p)
			}
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	if err := outs.write(f.out, encodeJSON(rep)); err != nil {
		return err
	}
	if err := outs.commit(); err != nil {
		return err
	}
	if f.out != "-" {
		fmt.Printf("%s: N=%d D=%d classes=%d rank=%d route=%s %s, K=%d, backend=%s %.2fs\n",
			rep.Data, rep.N, rep.D, rep.Classes, rep.Rank, rep.Route, centeredWord(f.center), f.k, rep.Backend, rep.Seconds)
		fmt.Printf("tr(YᵀY) = %.6g, tr(XᵀX) = %.6g\n", rep.TraceGy, rep.TraceGx)
		fmt.Printf("%10s  %14s  %14s  %14s\n", "λ", "loss", "supervised", "reconstruction")
		for _, s := range rep.Results {
			fmt.Printf("%10g  %14.8g  %14.8g  %14.8g\n", s.Lambda, s.Loss, s.Supervised, s.Reconstruction)
		}
		if len(rep.Saved) > 0 {
			fmt.Printf("saved %d arrays in %s\n", len(rep.Saved), f.saveDir)
		}
	}
	return nil
}
