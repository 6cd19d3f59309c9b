package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

func init() {
	var (
		center          bool
		top             int
		rtol            float64
		values, vectors string
	)
	cmd := &cobra.Command{
		Use:   "eigh",
		Short: "Eigendecomposition of the data's Gram matrix, on the cheaper side",
		Long: `eigh eigendecomposes XᵀX (D×D), or the dual XXᵀ (N×N) when N < D and maps its
eigenvectors back to feature space (the paper's fast_gram_eigh). Eigenvalues are
written in descending order; eigenvectors are the columns of a D×r array, r being
the numerical rank (or --top).`,
		Example: `  reconalign eigh --data images.npy --center --top 100 --out-values w.npy --out-vectors U.npy`,
	}
	df := addDataFlags(cmd, "", false)
	f := cmd.Flags()
	f.BoolVar(&center, "center", false, "remove each feature's mean first")
	f.IntVar(&top, "top", 0, "keep only the top K pairs (0: all above the tolerance)")
	f.Float64Var(&rtol, "rtol", engine.DefaultRTol, "eigenvalues ≤ rtol·λ₁ have no eigenvector written")
	f.StringVar(&values, "out-values", "", "write the eigenvalues (descending, float64) to this .npy")
	f.StringVar(&vectors, "out-vectors", "", "write the eigenvectors (D×r, float64, columns) to this .npy")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if values == "" && vectors == "" {
			return fmt.Errorf("eigh needs --out-values and/or --out-vectors")
		}
		if !(rtol > 0 && rtol < 1) {
			return fmt.Errorf("--rtol %g: want a value in (0, 1)", rtol)
		}
		src, err := df.open(cmd)
		if err != nil {
			return err
		}
		eng, err := newEngine()
		if err != nil {
			return err
		}
		defer eng.Close()
		eig, err := eng.Eigh(src, center, top, rtol)
		if err != nil {
			return err
		}
		if values != "" {
			if err := data.WriteNPY(values, eig.Values, []int{len(eig.Values)}); err != nil {
				return err
			}
		}
		if vectors != "" {
			v := eig.Vectors
			if err := data.WriteNPY(vectors, v.Data, []int{v.Rows, v.Cols}); err != nil {
				return err
			}
		}
		if !global.quiet {
			meta := src.Meta()
			fmt.Printf("%s: N=%d D=%d route=%s rank=%d %s; λ₁=%.6g", df.name(), meta.N, meta.D, eig.Route, eig.Rank, centeredWord(center), eig.Values[0])
			if eig.Rank > 0 {
				fmt.Printf(" λ_r=%.6g", eig.Values[eig.Rank-1])
			}
			fmt.Println()
		}
		return nil
	}
	rootCmd.AddCommand(cmd)
}
