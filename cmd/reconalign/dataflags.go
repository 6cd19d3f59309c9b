package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/synth"
)

// dataFlags are the flags that name a dataset: a file, directory or glob of
// samples, optionally labels, and how its rows map to images.
type dataFlags struct {
	prefix    string
	data      string
	synthetic string
	labels    string
	moments   string // a moments file standing in for data and labels (withMoments)
}

// addDataFlags registers --{prefix}data, --{prefix}labels (when labels is
// set), --layout and --image-shape on cmd. The layout flags are shared by all
// prefixes of one command.
func addDataFlags(cmd *cobra.Command, prefix string, labels bool) *dataFlags {
	d := &dataFlags{prefix: prefix}
	f := cmd.Flags()
	f.StringVar(&d.data, prefix+"data", "", "samples: an IDX or .npy file (gzip allowed), a directory or a glob of .npy shards")
	f.StringVar(&d.synthetic, prefix+"synthetic", "", "generate the samples instead: "+strings.Join(synth.Presets(), "|")+" or N=..,D=..,classes=..,alpha=..,seed=..")
	if labels {
		f.StringVar(&d.labels, prefix+"labels", "", "labels: integer IDX/.npy (classes) or float .npy (N,C) targets")
	}
	if f.Lookup("layout") == nil {
		f.String("layout", "hwc", "pixel order of a flattened image: hwc (NumPy, IDX) or chw (PyTorch)")
		f.String("image-shape", "", "image shape HxWxC for flat (N,D) data, e.g. 28x28x1")
	}
	return d
}

// withMoments registers --{prefix}moments, for analyses that need nothing
// but the data's moments: a file written by reconalign moments then stands
// in for --data and --labels.
func (d *dataFlags) withMoments(cmd *cobra.Command) *dataFlags {
	cmd.Flags().StringVar(&d.moments, d.prefix+"moments", "", "a moments file (reconalign moments) instead of --"+d.prefix+"data and --"+d.prefix+"labels")
	return d
}

// name is what the dataset is called in reports.
func (d *dataFlags) name() string {
	if d.moments != "" {
		return d.moments
	}
	if d.synthetic != "" {
		return "synthetic:" + d.synthetic
	}
	return d.data
}

// inputs are the files the flags name (none for generated data).
func (d *dataFlags) inputs() []string {
	if d.synthetic != "" {
		return nil
	}
	return []string{d.data, d.labels, d.moments}
}

// given reports whether the dataset was named at all.
func (d *dataFlags) given() bool { return d.data != "" || d.synthetic != "" || d.moments != "" }

// hasLabels reports whether the dataset comes with labels.
// (A moments file is taken at its word here; one without labels fails in
// the analysis that needs them, with the file's name.)
func (d *dataFlags) hasLabels() bool { return d.labels != "" || d.synthetic != "" || d.moments != "" }

// open opens the dataset the flags name.
func (d *dataFlags) open(cmd *cobra.Command) (data.Source, error) {
	switch {
	case d.moments != "" && (d.data != "" || d.synthetic != "" || d.labels != ""):
		return nil, fmt.Errorf("--%smoments stands in for the data and labels: give it alone, or the data without it", d.prefix)
	case d.moments != "":
		return engine.OpenMoments(d.moments)
	case d.data != "" && d.synthetic != "":
		return nil, fmt.Errorf("give --%sdata or --%ssynthetic, not both", d.prefix, d.prefix)
	case d.synthetic != "":
		if d.labels != "" {
			return nil, fmt.Errorf("--%ssynthetic data carry their own labels: drop --%slabels", d.prefix, d.prefix)
		}
		g, err := synth.Open(d.synthetic)
		if err != nil {
			return nil, fmt.Errorf("--%ssynthetic: %w", d.prefix, err)
		}
		return g, nil
	case d.data == "":
		if cmd.Flags().Lookup(d.prefix+"moments") != nil {
			return nil, fmt.Errorf("%s needs --%sdata (or --%ssynthetic, or --%smoments)", cmd.CommandPath(), d.prefix, d.prefix, d.prefix)
		}
		return nil, fmt.Errorf("%s needs --%sdata (or --%ssynthetic)", cmd.CommandPath(), d.prefix, d.prefix)
	}
	layout, _ := cmd.Flags().GetString("layout")
	shapeText, _ := cmd.Flags().GetString("image-shape")
	l, err := data.ParseLayout(layout)
	if err != nil {
		return nil, fmt.Errorf("--layout: %w", err)
	}
	opts := data.Options{Layout: l}
	if shapeText != "" {
		s, err := parseImageShape(shapeText)
		if err != nil {
			return nil, err
		}
		s.Layout = l
		opts.Shape = s
	}
	return data.Open(d.data, d.labels, opts)
}

// openWithEngine opens the dataset the flags name and the engine the global
// flags ask for: what every analysis command starts with. The caller closes
// the engine.
func (d *dataFlags) openWithEngine(cmd *cobra.Command) (data.Source, *engine.Engine, error) {
	src, err := d.open(cmd)
	if err != nil {
		return nil, nil, err
	}
	eng, err := newEngine()
	return src, eng, err
}

// parseImageShape reads "HxWxC" (or "HxW", meaning one channel).
func parseImageShape(s string) (data.Shape, error) {
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) != 2 && len(parts) != 3 {
		return data.Shape{}, fmt.Errorf("--image-shape %q: want HxWxC, e.g. 28x28x1 or 64x64x3", s)
	}
	v := []int{0, 0, 1}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return data.Shape{}, fmt.Errorf("--image-shape %q: %q is not a positive integer", s, p)
		}
		v[i] = n
	}
	return data.Shape{H: v[0], W: v[1], C: v[2]}, nil
}
