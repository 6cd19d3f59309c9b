package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/rsvd"
)

// rsvdReport is the JSON written by `reconalign rsvd --align-out`.
type rsvdReport struct {
	Data          string    `json:"data"`
	N             int       `json:"n"`
	D             int       `json:"d"`
	K             int       `json:"k"`
	Oversample    int       `json:"oversample"`
	PowerIters    int       `json:"power_iters"`
	Method        string    `json:"method"`
	Centered      bool      `json:"centered"`
	Passes        int       `json:"passes"`
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

func init() {
	var (
		k, oversample, powerIters int
		center, onePass           bool
		seed                      uint64
		values, vectors, alignOut string
		normalize                 string
	)
	cmd := &cobra.Command{
		Use:   "rsvd",
		Short: "Top-k eigenpairs of the Gram by streaming randomized SVD, for any D",
		Long: `rsvd finds the top-k eigenpairs of XᵀX without ever forming it (Halko, Martinsson &
Tropp): memory O((D+C)(k+p)) plus one chunk, one pass over the data per
application of XᵀX (power-iters + 2 passes), or a single pass with --one-pass.
With labels it also gives the alignment of the top-k directions.`,
		Example: `  reconalign rsvd --synthetic imagenet224,n=20000 --k 100 --center --align-out top100.json
  reconalign rsvd --data shards/ --labels labels/ --k 1000 --out-values w.npy`,
	}
	df := addDataFlags(cmd, "", true)
	f := cmd.Flags()
	f.IntVar(&k, "k", 0, "number of eigenpairs (required)")
	f.IntVar(&oversample, "oversample", 10, "extra sketch columns p")
	f.IntVar(&powerIters, "power-iters", 2, "power iterations q (each one more pass over the data)")
	f.BoolVar(&center, "center", false, "remove each feature's mean first")
	f.BoolVar(&onePass, "one-pass", false, "read the data once (Nyström sketch; less accurate)")
	f.Uint64Var(&seed, "seed", 1, "seed of the random test matrix")
	f.StringVar(&values, "out-values", "", "write the eigenvalues (descending) to this .npy")
	f.StringVar(&vectors, "out-vectors", "", "write the eigenvectors (D×k, columns) to this .npy")
	f.StringVar(&alignOut, "align-out", "", "write eigenvalues, error estimates and the top-k alignment as JSON (- for stdout)")
	f.StringVar(&normalize, "normalize", "topk", "top-k alignment denominator: topk (the K directions' own total) or papercode (‖YᵀY‖_F², tr(YᵀY): exact for any D)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if k < 1 {
			return fmt.Errorf("rsvd needs --k ≥ 1 (got %d)", k)
		}
		if normalize != "topk" && normalize != "papercode" {
			return fmt.Errorf("--normalize %q: want topk or papercode", normalize)
		}
		if oversample < 0 || powerIters < 0 {
			return fmt.Errorf("--oversample and --power-iters must be ≥ 0")
		}
		start := time.Now()
		src, err := df.open(cmd)
		if err != nil {
			return err
		}
		meta := src.Meta()
		if k > meta.D {
			return fmt.Errorf("--k %d exceeds D = %d", k, meta.D)
		}
		eng, err := newEngine()
		if err != nil {
			return err
		}
		defer eng.Close()
		opt := rsvd.Options{K: k, Oversample: oversample, PowerIters: powerIters, Center: center,
			Seed: seed, ChunkRows: global.chunkRows, NoLabels: !df.hasLabels()}
		if !global.quiet {
			bar := newProgress("pass")
			passes := powerIters + 2
			if onePass {
				passes = 1
			}
			fmt.Fprintf(os.Stderr, "rsvd: %d pass(es) over %d×%d\n", passes, meta.N, meta.D)
			src = progressSource{src, bar}
		}
		method := rsvd.TopK
		if onePass {
			method = rsvd.OnePass
		}
		res, err := method(heldBackend(eng), src, opt)
		if err != nil {
			return err
		}
		if values != "" {
			if err := data.WriteNPY(values, res.Values, []int{len(res.Values)}); err != nil {
				return err
			}
		}
		if vectors != "" {
			if err := data.WriteNPY(vectors, res.Vectors.Data, []int{res.Vectors.Rows, res.Vectors.Cols}); err != nil {
				return err
			}
		}
		rep := rsvdReport{Data: df.name(), N: res.N, D: meta.D, K: k, Oversample: oversample, PowerIters: powerIters,
			Method: res.Method, Centered: center, Passes: res.Passes, Backend: heldBackend(eng).Info().Name,
			Seconds: time.Since(start).Seconds(), Eigenvalues: res.Values, ErrorBound: res.ErrorBound,
			ErrorEstimate: res.ErrorEstimate, Trace: res.Trace}
		if df.hasLabels() && res.LabelProj.Rows > 0 {
			var totals rsvd.AlignmentTotals
			if normalize == "papercode" {
				gy := res.LabelGram
				for i := 0; i < gy.Rows; i++ {
					totals.Regression += gy.Data[i*gy.Stride+i]
					for j := 0; j < gy.Cols; j++ {
						totals.Gram += gy.Data[i*gy.Stride+j] * gy.Data[i*gy.Stride+j]
					}
				}
			}
			al, err := rsvd.AlignmentTopK(res, backend.NewGeneral(0, 0), totals)
			if err != nil {
				return err
			}
			rep.Normalize = normalize
			rep.AlignmentGram, rep.AlignmentRegression, rep.PerDirectionGram = al.TopKGram, al.TopKRegression, al.Gram
			if normalize == "papercode" {
				rep.AlignmentGram, rep.AlignmentRegression = al.FullGram, al.FullRegression
			}
		}
		if alignOut != "" {
			if err := writeJSON(alignOut, rep); err != nil {
				return err
			}
		}
		if alignOut != "-" {
			fmt.Printf("%s: N=%d D=%d top-%d (%s, %d passes, %s) in %.2fs\n", rep.Data, rep.N, rep.D, k, res.Method, res.Passes, rep.Backend, rep.Seconds)
			fmt.Printf("λ₁=%.6g λ_k=%.6g  relative error: bound %.2e, estimate %.2e\n", res.Values[0], res.Values[len(res.Values)-1], res.ErrorBound, res.ErrorEstimate)
			if n := len(rep.AlignmentGram); n > 0 {
				fmt.Printf("top-k alignment (gram form, %s normalisation): k=1 %.4f, k=%d %.4f, k=%d %.4f\n",
					normalize, rep.AlignmentGram[0], (n+1)/2, rep.AlignmentGram[(n-1)/2], n, rep.AlignmentGram[n-1])
			}
		}
		return nil
	}
	rootCmd.AddCommand(cmd)
}

// progressSource reports the rows read in each pass to a progress callback.
type progressSource struct {
	data.Source
	progress func(done, total int)
}

func (p progressSource) Open(rows int) (data.Reader, error) {
	r, err := p.Source.Open(rows)
	if err != nil {
		return nil, err
	}
	return &progressReader{Reader: r, progress: p.progress, total: p.Meta().N}, nil
}

type progressReader struct {
	data.Reader
	progress    func(done, total int)
	done, total int
}

func (r *progressReader) Next() (data.Batch, error) {
	b, err := r.Reader.Next()
	if err == nil {
		r.done += b.X.N
		r.progress(r.done, r.total)
	}
	return b, err
}
