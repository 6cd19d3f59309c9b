package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/plotting"
)

// plotFlags are the flags of `reconalign plot`.
type plotFlags struct {
	out, title string
	names      []string
	kMin       int
}

func newPlotCmd() *cobra.Command {
	f := &plotFlags{}
	cmd := &cobra.Command{
		Use:   "plot RESULT.json...",
		Short: "Draw several saved align or denoise results on one figure, to compare them",
		Long: `plot reads JSON results written by align --out (alignment curves) or by
denoise --out (Figure 7's relative differences) and draws them on one figure:
the curves of every align result on one set of axes, or the panels of every
denoise result overlaid panel by panel (one dash pattern per result). The
legend sits beside the axes and names each result by its data set and by
whatever settings differ between the results; the title names the data set
when they share one.`,
		Example: `  reconalign plot --out compare.png fmnist.json fmnist-centered.json cifar10.json
  reconalign plot --out fig7.png --name "28x28" --name "14x14" fig7-28.json fig7-14.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runPlot(f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "the figure: a .png, .svg or .pdf file (required)")
	fl.StringVar(&f.title, "title", "", "title of the figure (default: the data set and the shared settings)")
	fl.StringArrayVar(&f.names, "name", nil, "legend name of each result, in order (repeat the flag; default: from the results)")
	fl.IntVar(&f.kMin, "kmin", 0, "denoise results: smallest k drawn (0: 32 when every rank exceeds 64, as the paper, else 1)")
	return cmd
}

func runPlot(f *plotFlags, paths []string) error {
	if f.out == "" {
		return fmt.Errorf("plot needs --out (a .png, .svg or .pdf file)")
	}
	if err := checkImage("--out", f.out); err != nil {
		return err
	}
	if len(f.names) > 0 && len(f.names) != len(paths) {
		return fmt.Errorf("--name given %d times for %d results: give one per result, or none", len(f.names), len(paths))
	}
	outs, err := newOutputs(paths, "--out", f.out)
	if err != nil {
		return err
	}
	defer outs.abort()
	var aligns []alignReport
	var denoises []denoiseReport
	for _, p := range paths {
		kind, err := readResult(p, &aligns, &denoises)
		if err != nil {
			return err
		}
		if len(aligns) > 0 && len(denoises) > 0 {
			return fmt.Errorf("%s is a %s result but %s is not: plot draws results of one kind together", p, kind, paths[0])
		}
	}
	var fig plotting.Figure
	if len(aligns) > 0 {
		names := f.names
		if names == nil {
			names = alignNames(aligns)
		}
		fig = alignOverlay(aligns, names)
	} else {
		fig = denoiseOverlay(denoises, f.names, f.kMin)
	}
	if f.title != "" {
		fig.Title = f.title
	}
	if err := outs.write(f.out, func(w io.Writer) error { return fig.Write(w, imageFormat(f.out)) }); err != nil {
		return err
	}
	return outs.commit()
}

// readResult reads one JSON result, telling an align result (k, alignment)
// from a denoise one (clean, settings) by its fields.
func readResult(path string, aligns *[]alignReport, denoises *[]denoiseReport) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return "", fmt.Errorf("%s: not valid JSON (at byte %d: %v)", path, se.Offset, err)
		}
		return "", fmt.Errorf("%s: not a JSON object of results: %v", path, err)
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := fields[k]; !ok {
				return false
			}
		}
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	switch {
	case has("k", "alignment", "form"):
		var r alignReport
		if err := dec.Decode(&r); err != nil {
			return "", fmt.Errorf("%s: an align result with a bad field: %v", path, err)
		}
		if len(r.K) != len(r.Alignment) {
			return "", fmt.Errorf("%s: %d values of k but %d of alignment", path, len(r.K), len(r.Alignment))
		}
		*aligns = append(*aligns, r)
		return "align", nil
	case has("k", "clean", "settings"):
		var r denoiseReport
		if err := dec.Decode(&r); err != nil {
			return "", fmt.Errorf("%s: a denoise result with a bad field: %v", path, err)
		}
		for _, s := range r.Settings {
			if len(s.Relative) != len(r.K) {
				return "", fmt.Errorf("%s: setting %s has %d relative values for %d values of k", path, settingName(s.NoiseSpec), len(s.Relative), len(r.K))
			}
		}
		*denoises = append(*denoises, r)
		return "denoise", nil
	}
	return "", fmt.Errorf("%s: neither an align result (fields k, alignment, form) nor a denoise result (fields k, clean, settings)", path)
}

// alignNames names each curve by its data set and the settings that differ
// between the curves; results alike in both are numbered.
func alignNames(reps []alignReport) []string {
	differ := func(f func(alignReport) string) bool {
		for _, r := range reps[1:] {
			if f(r) != f(reps[0]) {
				return true
			}
		}
		return false
	}
	parts := []func(alignReport) string{
		func(r alignReport) string { return datasetName(r.Data) },
		func(r alignReport) string { return centeredWord(r.Centered) },
		func(r alignReport) string { return string(r.Form) },
		func(r alignReport) string { return string(r.Scale) },
		func(r alignReport) string { return string(r.Normalize) },
		func(r alignReport) string { return r.Backend },
	}
	names := make([]string, len(reps))
	for i, r := range reps {
		var words []string
		for j, p := range parts {
			if j == 0 || differ(p) {
				words = append(words, p(r))
			}
		}
		names[i] = strings.Join(words, ", ")
	}
	for i := range names {
		if n := countOf(names, names[i]); n > 1 {
			names[i] += fmt.Sprintf(" (#%d)", i+1)
		}
	}
	return names
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// alignOverlay draws the curves on one set of axes, titled with the data
// set when they share one and with the settings they share.
func alignOverlay(reps []alignReport, names []string) plotting.Figure {
	first := reps[0]
	same := func(f func(alignReport) string) bool {
		for _, r := range reps {
			if f(r) != f(first) {
				return false
			}
		}
		return true
	}
	var settings []string
	for _, p := range []func(alignReport) string{
		func(r alignReport) string { return string(r.Form) },
		func(r alignReport) string { return string(r.Scale) },
		func(r alignReport) string { return string(r.Normalize) },
		func(r alignReport) string { return centeredWord(r.Centered) },
	} {
		if same(p) {
			settings = append(settings, p(first))
		}
	}
	title := "alignment"
	if len(settings) > 0 {
		title += " (" + strings.Join(settings, ", ") + ")"
	}
	if same(func(r alignReport) string { return datasetName(r.Data) }) {
		title = datasetName(first.Data) + ": " + title
	}
	panel := plotting.Panel{XLabel: "number of top principal directions k", YLabel: "alignment (%)", LogX: true}
	for i, r := range reps {
		name := names[i]
		if len(reps) == 1 {
			name = ""
		}
		panel.Series = append(panel.Series, plotting.Series{Name: name, X: plotting.Ints(r.K), Y: plotting.Percent(r.Alignment)})
	}
	return plotting.Figure{Title: title, Panels: []plotting.Panel{panel}}
}

// denoiseOverlay draws Figure 7 for each result, panel over panel.
func denoiseOverlay(reps []denoiseReport, names []string, kMin int) plotting.Figure {
	if names == nil && len(reps) > 1 {
		for i, r := range reps {
			names = append(names, fmt.Sprintf("%s #%d", datasetName(r.Data), i+1))
		}
	}
	sets := make([]closedform.PanelSet, len(reps))
	datasets := map[string]bool{}
	km := 32
	for i, r := range reps {
		sets[i].Panels = closedform.Figure7Panels(r.results())
		if names != nil {
			sets[i].Name = names[i]
		}
		datasets[datasetName(r.Data)] = true
		km = min(km, closedform.Figure7KMin(r.Rank))
	}
	if kMin > 0 {
		km = kMin
	}
	title := fmt.Sprintf("relative alignment (%s scale)", reps[0].Scale)
	if len(datasets) == 1 {
		title = datasetName(reps[0].Data) + ": " + title
	}
	return closedform.Figure7(title, km, sets...)
}

// results rebuilds what Figure7Panels groups from a saved report.
func (r denoiseReport) results() []*closedform.DenoiseResult {
	out := make([]*closedform.DenoiseResult, len(r.Settings))
	for i, s := range r.Settings {
		out[i] = &closedform.DenoiseResult{Noise: s.NoiseSpec, Curve: &engine.Curve{K: r.K}, Relative: s.Relative}
	}
	return out
}

// checkImage validates a figure's file name before any work.
func checkImage(flag, path string) error {
	if path == "" {
		return nil
	}
	if !slices.Contains(plotting.Formats, imageFormat(path)) {
		return fmt.Errorf("%s %s: want a file ending in .%s", flag, path, strings.Join(plotting.Formats, ", ."))
	}
	return nil
}

func imageFormat(path string) string {
	return strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
}
