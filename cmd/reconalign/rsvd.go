package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/rsvd"
)

// rsvdReport is the JSON written by `reconalign rsvd --align-out`.
type rsvdReport struct {
	Data       string `json:"data"`
	N          int    `json:"n"`
	D          int    `json:"d"`
	K          int    `json:"k"`
	Oversample int    `json:"oversample"`
	PowerIters int    `json:"power_iters"`
	Method     string `json:"method"`
	Centered   bool   `json:"centered"`
	Passes     int    `json:"passes"`
	// Rank is how many of the K eigenvalues lie above engine.DefaultRTol·λ₁:
	// with K beyond the data's numerical rank the others are rounding.
	Rank          int       `json:"rank"`
	Backend       string    `json:"backend"`
	Seconds       float64   `json:"seconds"`
	Eigenvalues   []float64 `json:"eigenvalues"`
	ErrorBound    float64   `json:"error_bound"`
	ErrorEstimate float64   `json:"error_estimate"`
	Trace         float64   `json:"trace"`
	// The curve over the top-K directions, normalised as Normalize says:
	// "topk" by their own total, "papercode" by what a complete basis of
	// sample space reaches (‖YᵀY‖_F² for the gram form, tr(YᵀY) for the
	// regression form), which is known exactly without the full spectrum.
	Normalize           string    `json:"normalize,omitempty"`
	AlignmentGram       []float64 `json:"alignment_gram,omitempty"`
	AlignmentRegression []float64 `json:"alignment_regression,omitempty"`
	PerDirectionGram    []float64 `json:"per_direction_gram,omitempty"`
}

// rsvdFlags are the flags of `reconalign rsvd`.
type rsvdFlags struct {
	data                      *dataFlags
	k, oversample, powerIters int
	center, onePass           bool
	seed                      uint64
	values, vectors, alignOut string
	normalize                 string
}

func newRSVDCmd() *cobra.Command {
	f := &rsvdFlags{}
	cmd := &cobra.Command{
		Use:   "rsvd",
		Short: "Top-k eigenpairs of the Gram by streaming randomized SVD, for any D",
		Long: `rsvd finds the top-k eigenpairs of XᵀX without ever forming it (Halko, Martinsson &
Tropp): memory O((D+C)(k+p)) plus one chunk, one pass over the data per
application of XᵀX (power-iters + 2 passes), or a single pass with --one-pass.
When D is small against that work the D×D Gram is formed in one pass instead.
With labels it also gives the alignment of the top-k directions. A --k beyond
the data's numerical rank is reported: the eigenvalues past it are rounding.`,
		Example: `  reconalign rsvd --synthetic imagenet224,n=20000 --k 100 --center --align-out top100.json
  reconalign rsvd --data shards/ --labels labels/ --k 1000 --out-values w.npy`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRSVD(cmd, f) },
	}
	f.data = addDataFlags(cmd, "", true)
	fl := cmd.Flags()
	fl.IntVar(&f.k, "k", 0, "number of eigenpairs (required)")
	fl.IntVar(&f.oversample, "oversample", 10, "extra sketch columns p")
	fl.IntVar(&f.powerIters, "power-iters", 2, "power iterations q (each one more pass over the data)")
	fl.BoolVar(&f.center, "center", false, "remove each feature's mean first")
	fl.BoolVar(&f.onePass, "one-pass", false, "read the data once (Nyström sketch; less accurate)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random test matrix")
	fl.StringVar(&f.values, "out-values", "", "write the eigenvalues (descending) to this .npy")
	fl.StringVar(&f.vectors, "out-vectors", "", "write the eigenvectors (D×k, columns) to this .npy")
	fl.StringVar(&f.alignOut, "align-out", "", "write eigenvalues, error estimates and the top-k alignment as JSON (- for stdout)")
	fl.StringVar(&f.normalize, "normalize", "topk", "top-k alignment denominator: topk (the K directions' own total) or papercode (‖YᵀY‖_F², tr(YᵀY): exact for any D)")
	return cmd
}

func runRSVD(cmd *cobra.Command, f *rsvdFlags) error {
	if f.normalize != "topk" && f.normalize != "papercode" {
		return fmt.Errorf("--normalize %q: want topk or papercode", f.normalize)
	}
	outs, err := newOutputs(f.data.inputs(), "--out-values", f.values, "--out-vectors", f.vectors, "--align-out", f.alignOut)
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
	meta := src.Meta()
	opt := rsvd.Options{K: f.k, Oversample: f.oversample, PowerIters: f.powerIters, Center: f.center,
		Seed: f.seed, ChunkRows: global.chunkRows, NoLabels: !f.data.hasLabels(),
		Begin: func(method string, passes int) {
			note("rsvd: %s, %d pass(es) over %d×%d", method, passes, meta.N, meta.D)
		}}
	method := rsvd.SubspaceIteration
	if f.onePass {
		method = rsvd.Nystrom
	}
	res, err := rsvd.Run(eng, data.WithProgress(src, newProgress("pass")), method, opt)
	if err != nil {
		return err
	}
	if res.Rank < f.k {
		note("warning: --k %d exceeds the numerical rank %d of %s: eigenvalues %d..%d are at or below %g·λ₁, rounding rather than eigenvalues",
			f.k, res.Rank, f.data.name(), res.Rank+1, f.k, engine.DefaultRTol)
	}
	if err := outs.write(f.values, npy(res.Values, []int{len(res.Values)})); err != nil {
		return err
	}
	if err := outs.write(f.vectors, npy(res.Vectors.Data, []int{res.Vectors.Rows, res.Vectors.Cols})); err != nil {
		return err
	}
	rep := rsvdReport{Data: f.data.name(), N: res.N, D: meta.D, K: f.k, Oversample: f.oversample, PowerIters: f.powerIters,
		Method: res.Method, Centered: f.center, Passes: res.Passes, Rank: res.Rank, Backend: res.Backend.Name,
		Seconds: time.Since(start).Seconds(), Eigenvalues: res.Values, ErrorBound: res.ErrorBound,
		ErrorEstimate: res.ErrorEstimate, Trace: res.Trace}
	if f.data.hasLabels() && res.LabelProj.Rows > 0 {
		var totals rsvd.AlignmentTotals
		if f.normalize == "papercode" {
			totals = rsvd.PapercodeTotals(res.LabelGram)
		}
		al, err := rsvd.AlignmentTopK(res, backend.NewGeneral(0, 0), totals)
		if err != nil {
			return err
		}
		rep.Normalize = f.normalize
		rep.AlignmentGram, rep.AlignmentRegression, rep.PerDirectionGram = al.TopKGram, al.TopKRegression, al.Gram
		if f.normalize == "papercode" {
			rep.AlignmentGram, rep.AlignmentRegression = al.FullGram, al.FullRegression
		}
	}
	if err := outs.write(f.alignOut, encodeJSON(rep)); err != nil {
		return err
	}
	if err := outs.commit(); err != nil {
		return err
	}
	if f.alignOut != "-" {
		fmt.Printf("%s: N=%d D=%d top-%d (%s, %d pass(es), %s) in %.2fs\n", rep.Data, rep.N, rep.D, f.k, res.Method, res.Passes, rep.Backend, rep.Seconds)
		fmt.Printf("λ₁=%.6g λ_k=%.6g  rank %d; relative error: bound %.2e, estimate %.2e\n", res.Values[0], res.Values[len(res.Values)-1], res.Rank, res.ErrorBound, res.ErrorEstimate)
		if n := len(rep.AlignmentGram); n > 0 {
			fmt.Printf("top-k alignment (gram form, %s normalisation): k=1 %.4f, k=%d %.4f, k=%d %.4f\n",
				f.normalize, rep.AlignmentGram[0], (n+1)/2, rep.AlignmentGram[(n-1)/2], n, rep.AlignmentGram[n-1])
		}
	}
	return nil
}
