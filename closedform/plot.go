package closedform

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
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

// PlotRelative draws the panels stacked vertically into a PNG file, each
// panel's lines coloured from cyan to magenta in order (increasing p in
// Fig. 7), from k = kMin on, with the zero line in black.
func PlotRelative(path, title string, panels []PlotPanel, kMin int) error {
	if len(panels) == 0 {
		return fmt.Errorf("plot %s: nothing to draw", path)
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".png" {
		return fmt.Errorf("plot %s: only .png is supported", path)
	}
	plots := make([][]*plot.Plot, len(panels))
	for i, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.Title
		if i == 0 && title != "" {
			p.Title.Text = title + "\n" + pn.Title
		}
		p.Y.Label.Text = "impact on sup. perf. (%)"
		if i == len(panels)-1 {
			p.X.Label.Text = "embedding dim. (K)"
		}
		p.Add(plotter.NewGrid())
		kMax := 0
		for j, l := range pn.Lines {
			pts := make(plotter.XYs, 0, len(l.K))
			for n, k := range l.K {
				if k >= kMin && !math.IsNaN(l.Y[n]) && !math.IsInf(l.Y[n], 0) {
					pts = append(pts, plotter.XY{X: float64(k), Y: l.Y[n]})
				}
				kMax = max(kMax, k)
			}
			if len(pts) == 0 {
				continue
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %s %s: %w", path, pn.Title, l.Label, err)
			}
			t := 0.0
			if len(pn.Lines) > 1 {
				t = float64(j) / float64(len(pn.Lines)-1)
			}
			line.Color = coolColor(t)
			line.Width = vg.Points(1.5)
			p.Add(line)
			p.Legend.Add(l.Label, line)
		}
		if kMax > kMin {
			zero, _ := plotter.NewLine(plotter.XYs{{X: float64(kMin), Y: 0}, {X: float64(kMax), Y: 0}})
			zero.Color = color.Black
			zero.Width = vg.Points(2)
			p.Add(zero)
			p.X.Min, p.X.Max = float64(kMin), float64(kMax)
		}
		p.Legend.Top = true
		p.Legend.TextStyle.Font.Size = vg.Points(7)
		plots[i] = []*plot.Plot{p}
	}
	width, height := 6*vg.Inch, vg.Length(len(panels))*3*vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4), PadY: vg.Points(8)}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return f.Close()
}
