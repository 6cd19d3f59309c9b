package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// momentsFlags are the flags of `reconalign moments`.
type momentsFlags struct {
	data *dataFlags
	out  string
}

// momentsMergeFlags are the flags of `reconalign moments merge`.
type momentsMergeFlags struct {
	out string
}

func newMomentsCmd() *cobra.Command {
	mf := &momentsFlags{}
	cmd := &cobra.Command{
		Use:   "moments",
		Short: "Stream the data once into a moments file (.npz) that the analyses and merges reuse",
		Long: `moments streams the data once and writes their moments to a NumPy .npz that
numpy.load opens: xtx = XᵀX (D×D), ytx = YᵀX, yty = YᵀY, sum_x, sum_y, n, and a
JSON meta (D, C, label space, element type, exactness, image shape, sources).
For uint8 samples with class labels (or none) the sums are exact integers and
merging is exact; float files also keep the engine's shifted accumulator
(shift, xtx_shifted, sum_x_shifted, ytx_shifted), so that an analysis from the
file gives the bits of the same analysis streamed over the data.

"moments merge" adds up moments files computed on parts of a dataset (on
several machines, say) into one.`,
		Example: `  reconalign moments --data train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz --out fmnist.npz
  reconalign moments --data 'shards/x_*.npy' --labels 'shards/y_*.npy' --out part1.npz
  reconalign moments merge --out all.npz part1.npz part2.npz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMoments(cmd, mf) },
	}
	mf.data = addDataFlags(cmd, "", true)
	cmd.Flags().StringVar(&mf.out, "out", "", "write the moments to this .npz file")

	gf := &momentsMergeFlags{}
	merge := &cobra.Command{
		Use:   "merge --out ALL.npz PART.npz...",
		Short: "Add up moments files of parts of one dataset",
		Long: `merge adds up moments files of disjoint parts of one dataset. Exact files
(uint8 samples) merge exactly: the same bytes in any order or grouping, and a
sum that would reach 2⁵³ is refused. Float files merge within rounding (1e-12
relative). Files of another D, C, label space, element type or image shape
are refused, naming both files.`,
		Example: `  reconalign moments merge --out all.npz part1.npz part2.npz part3.npz`,
		Args:    cobra.MinimumNArgs(1),
		RunE:    func(_ *cobra.Command, args []string) error { return runMomentsMerge(gf, args) },
	}
	merge.Flags().StringVar(&gf.out, "out", "", "write the merged moments to this .npz file")
	cmd.AddCommand(merge)
	return cmd
}

// runMoments is `reconalign moments`: one pass, one file.
func runMoments(cmd *cobra.Command, f *momentsFlags) error {
	if f.out == "" {
		return fmt.Errorf("%s needs --out (the .npz to write)", cmd.CommandPath())
	}
	src, err := f.data.open(cmd)
	if err != nil {
		return err
	}
	sources, err := f.data.files()
	if err != nil {
		return err
	}
	eng, err := newEngine()
	if err != nil {
		return err
	}
	defer eng.Close()
	mm, err := eng.WriteMoments(src, sources, f.out)
	if err != nil {
		return err
	}
	if !global.quiet {
		printMomentsFile(f.out, mm)
	}
	return nil
}

// runMomentsMerge is `reconalign moments merge`.
func runMomentsMerge(f *momentsMergeFlags, inputs []string) error {
	if f.out == "" {
		return fmt.Errorf("reconalign moments merge needs --out (the .npz to write)")
	}
	mm, err := engine.MergeMomentsFiles(f.out, inputs)
	if err != nil {
		return err
	}
	if !global.quiet {
		printMomentsFile(f.out, mm)
	}
	return nil
}

func printMomentsFile(path string, mm *engine.MomentsMeta) {
	exact := "float sums with the shifted accumulator"
	if mm.Exact {
		exact = "exact integer sums"
	}
	fmt.Printf("%s: N=%d D=%d C=%d (%s) %s, %s\n", path, mm.N, mm.D, mm.C, mm.Labels, mm.DType, exact)
}

// files lists the files the flags name (data, then labels), or the
// synthetic spec, for a moments file's meta and its output check.
func (d *dataFlags) files() ([]string, error) {
	if d.synthetic != "" {
		return []string{d.name()}, nil
	}
	files, err := data.ResolvePaths(d.data)
	if err != nil {
		return nil, err
	}
	if d.labels != "" {
		l, err := data.ResolvePaths(d.labels)
		if err != nil {
			return nil, err
		}
		files = append(files, l...)
	}
	return files, nil
}
