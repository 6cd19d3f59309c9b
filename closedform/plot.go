package closedform

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/reconalign/reconalign/plotting"
)

// PlotLine is one noise setting's relative alignment difference over k.
type PlotLine struct {
	Label string
	K     []int
	Y     []float64
}

// PlotPanel is one panel of the figure (one patch size in Fig. 7).
type PlotPanel struct {
	Title string
	Lines []PlotLine
}

// Figure7Panels groups denoising results as the paper's Figure 7 does: one
// panel per patch size for masking noises (one line per p), one panel per
// other noise kind (one line per setting), in order of first appearance.
func Figure7Panels(results []*DenoiseResult) []PlotPanel {
	var panels []PlotPanel
	index := map[string]int{}
	for _, r := range results {
		s := r.Noise
		group, label := s.Kind, describe(s)
		if len(s.Patch) == 2 {
			group = fmt.Sprintf("%s, patch %dx%d", s.Kind, s.Patch[0], s.Patch[1])
			label = fmt.Sprintf("p=%.2f", *s.P)
		} else if s.Sigma != nil {
			label = fmt.Sprintf("σ=%g", *s.Sigma)
		} else {
			label = strings.TrimPrefix(label, s.Kind+" ")
		}
		i, ok := index[group]
		if !ok {
			i = len(panels)
			index[group] = i
			panels = append(panels, PlotPanel{Title: group})
		}
		panels[i].Lines = append(panels[i].Lines, PlotLine{Label: label, K: r.Curve.K, Y: r.Relative})
	}
	return panels
}

// Figure7KMin is the smallest k the paper's Figure 7 draws: 32 when the
// rank exceeds 64 (the curves of the first directions are noise against a
// clean alignment near zero), else 1.
func Figure7KMin(rank int) int {
	if rank > 64 {
		return 32
	}
	return 1
}

// coolColor is matplotlib's "cool" colour map (cyan to magenta) at t ∈ [0, 1],
// the paper's colours for increasing p.
func coolColor(t float64) color.Color {
	t = math.Max(0, math.Min(1, t))
	return color.RGBA{R: uint8(255 * t), G: uint8(255 * (1 - t)), B: 255, A: 255}
}

// PanelSet is the panels of one run, named for the legend when several
// runs are drawn on one figure.
type PanelSet struct {
	Name   string
	Panels []PlotPanel
}

// Figure7 lays out panels as the paper's Figure 7: stacked vertically, each
// panel's lines coloured from cyan to magenta in order (increasing p), from
// k = kMin on, with the zero line in black. Several sets overlay: panels of
// the same title share axes, each set in its own dash pattern, its lines
// labelled with its name.
func Figure7(title string, kMin int, sets ...PanelSet) plotting.Figure {
	fig := plotting.Figure{Title: title, PanelHeight: 3 * vg.Inch}
	index := map[string]int{}
	for si, set := range sets {
		for _, pn := range set.Panels {
			i, ok := index[pn.Title]
			if !ok {
				i = len(fig.Panels)
				index[pn.Title] = i
				fig.Panels = append(fig.Panels, plotting.Panel{Title: pn.Title, YLabel: "impact on sup. perf. (%)", Zero: true, FontSize: vg.Points(7)})
			}
			for j, l := range pn.Lines {
				t := 0.0
				if len(pn.Lines) > 1 {
					t = float64(j) / float64(len(pn.Lines)-1)
				}
				label := l.Label
				if set.Name != "" {
					label = set.Name + " " + label
				}
				fig.Panels[i].Series = append(fig.Panels[i].Series, plotting.Series{Name: label, X: plotting.Ints(l.K), Y: l.Y,
					Color: coolColor(t), Dashes: plotting.Dashes(si), Width: vg.Points(1.5)})
			}
		}
	}
	for i := range fig.Panels {
		kMax := 0.0
		for _, s := range fig.Panels[i].Series {
			for _, k := range s.X {
				kMax = math.Max(kMax, k)
			}
		}
		if kMax > float64(kMin) {
			fig.Panels[i].XMin, fig.Panels[i].XMax = float64(kMin), kMax
		}
	}
	if n := len(fig.Panels); n > 0 {
		fig.Panels[n-1].XLabel = "embedding dim. (K)"
	}
	return fig
}

// PlotRelative draws the panels of one run (Figure7) into an image file
// (PNG, SVG or PDF by extension).
func PlotRelative(path, title string, panels []PlotPanel, kMin int) error {
	if len(panels) == 0 {
		return fmt.Errorf("plot %s: nothing to draw", path)
	}
	return plotting.Save(path, Figure7(title, kMin, PanelSet{Panels: panels}))
}
