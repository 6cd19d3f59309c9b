package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// eighFlags are the flags of `reconalign eigh`.
type eighFlags struct {
	data            *dataFlags
	center          bool
	top             int
	rtol            float64
	values, vectors string
}

func newEighCmd() *cobra.Command {
	f := &eighFlags{}
	cmd := &cobra.Command{
		Use:   "eigh",
		Short: "Eigendecomposition of the data's Gram matrix, on the cheaper side",
		Long: `eigh eigendecomposes XᵀX (D×D), or the dual XXᵀ (N×N) when N < D and maps its
eigenvectors back to feature space (the paper's fast_gram_eigh). Eigenvalues are
written in descending order; eigenvectors are the columns of a D×r array, r being
the numerical rank (or --top).`,
		Example: `  reconalign eigh --data images.npy --center --top 100 --out-values w.npy --out-vectors U.npy`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runEigh(cmd, f) },
	}
	f.data = addDataFlags(cmd, "", false).withMoments(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&f.center, "center", false, "remove each feature's mean first")
	fl.IntVar(&f.top, "top", 0, "keep only the top K pairs (0: all above the tolerance)")
	fl.Float64Var(&f.rtol, "rtol", engine.DefaultRTol, "eigenvalues ≤ rtol·λ₁ have no eigenvector written")
	fl.StringVar(&f.values, "out-values", "", "write the eigenvalues (descending, float64) to this .npy")
	fl.StringVar(&f.vectors, "out-vectors", "", "write the eigenvectors (D×r, float64, columns) to this .npy")
	return cmd
}

func runEigh(cmd *cobra.Command, f *eighFlags) error {
	if f.values == "" && f.vectors == "" {
		return fmt.Errorf("eigh needs --out-values and/or --out-vectors")
	}
	if err := checkRTol(f.rtol, false); err != nil {
		return err
	}
	outs, err := newOutputs(f.data.inputs(), "--out-values", f.values, "--out-vectors", f.vectors)
	if err != nil {
		return err
	}
	defer outs.abort()
	src, eng, err := f.data.openWithEngine(cmd)
	if err != nil {
		return err
	}
	defer eng.Close()
	eig, err := eng.Eigh(src, f.center, f.top, f.rtol)
	if err != nil {
		return err
	}
	if err := outs.write(f.values, npy(eig.Values, []int{len(eig.Values)})); err != nil {
		return err
	}
	v := eig.Vectors
	if err := outs.write(f.vectors, npy(v.Data, []int{v.Rows, v.Cols})); err != nil {
		return err
	}
	if err := outs.commit(); err != nil {
		return err
	}
	if !global.quiet {
		meta := src.Meta()
		fmt.Printf("%s: N=%d D=%d route=%s rank=%d %s, backend=%s", f.data.name(), meta.N, meta.D, eig.Route, eig.Rank, centeredWord(f.center), eig.Backend.Name)
		if len(eig.Values) > 0 {
			fmt.Printf("; λ₁=%.6g", eig.Values[0])
		}
		if eig.Rank > 0 {
			fmt.Printf(" λ_r=%.6g", eig.Values[eig.Rank-1])
		}
		fmt.Println()
	}
	return nil
}

// npy returns a writer of values as a .npy array of the given shape.
func npy(values any, shape []int) func(io.Writer) error {
	return func(w io.Writer) error { return data.EncodeNPY(w, values, shape) }
}
