// Package plotting draws the figures a person would rather look at than read:
// the alignment curve in the style of the paper's Figure 2 (alignment in
// percent against the number of principal directions, log-scaled k), the
// stacked panels of its Figure 7, and overlays of several runs on one
// figure, with gonum.org/v1/plot. The legend is drawn beside the axes, so
// that it never covers a curve, and files are written whole or not at all.
package plotting

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/reconalign/reconalign/internal/atomicfile"
)

// Series is one named curve: y[i] is the value at x[i].
type Series struct {
	Name string
	X    []float64
	Y    []float64
	// Color and Dashes style the line; zero values take the palette colour
	// of the series' position and a solid line.
	Color  color.Color
	Dashes []vg.Length
	Width  vg.Length // 0: 2 points
}

// Panel is one set of axes.
type Panel struct {
	Title          string
	XLabel, YLabel string
	LogX           bool
	// XMin and XMax bound the x axis when XMax > XMin.
	XMin, XMax float64
	// Zero draws the line y = 0 in black across the x range.
	Zero   bool
	Series []Series
	// FontSize of the legend (0: 9 points).
	FontSize vg.Length
}

// Figure is panels stacked vertically under one title.
type Figure struct {
	Title  string
	Panels []Panel
	// Width of the axes and PanelHeight of each panel (0: 6 and 4 inches);
	// the legend column is added to the width.
	Width, PanelHeight vg.Length
}

// palette is colour-blind safe (Okabe–Ito).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255}, color.RGBA{240, 228, 66, 255},
}

// Color returns the i-th palette colour, cycling.
func Color(i int) color.Color { return palette[i%len(palette)] }

// Dashes returns the i-th of a few dash patterns (solid first), to tell
// apart several runs drawn in the same colours.
func Dashes(i int) []vg.Length {
	patterns := [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}}
	return patterns[i%len(patterns)]
}

// Lines draws series as lines on one set of axes and saves the figure (PNG,
// SVG or PDF by extension). logX uses a base-10 logarithmic x axis, as the
// paper does.
func Lines(path, title, xLabel, yLabel string, logX bool, series ...Series) error {
	return Save(path, Figure{Title: title, Panels: []Panel{{XLabel: xLabel, YLabel: yLabel, LogX: logX, Series: series}}})
}

// Formats are the file formats Save writes, by extension.
var Formats = []string{"png", "svg", "pdf"}

// Save writes the figure to path in the format its extension names, whole
// or not at all.
func Save(path string, f Figure) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if !slices.Contains(Formats, format) {
		return fmt.Errorf("plot %s: unknown image format %q: want a file ending in .%s", path, format, strings.Join(Formats, ", ."))
	}
	if err := atomicfile.WriteFile(path, func(w io.Writer) error { return f.Write(w, format) }); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

// Write draws the figure to w in format (one of Formats).
func (f Figure) Write(w io.Writer, format string) error {
	if len(f.Panels) == 0 {
		return fmt.Errorf("nothing to draw")
	}
	width, height := f.Width, f.PanelHeight
	if width == 0 {
		width = 6 * vg.Inch
	}
	if height == 0 {
		height = 4 * vg.Inch
	}
	plots := make([]*plot.Plot, len(f.Panels))
	legends := make([]plot.Legend, len(f.Panels))
	legendWidth := vg.Length(0)
	heights := make([]vg.Length, len(f.Panels))
	var total vg.Length
	for i, pn := range f.Panels {
		p, lg, err := pn.plot()
		if err != nil {
			return fmt.Errorf("panel %q: %w", pn.Title, err)
		}
		if i == 0 && f.Title != "" {
			p.Title.Text = strings.TrimSuffix(f.Title+"\n"+pn.Title, "\n")
		}
		plots[i], legends[i] = p, lg
		legendWidth = max(legendWidth, legendExtent(lg, pn.Series))
		// A long legend makes its panel taller rather than spill over.
		heights[i] = max(height, vg.Length(len(pn.Series)+2)*(lg.TextStyle.Font.Size*1.4))
		total += heights[i]
	}
	c, err := draw.NewFormattedCanvas(width+legendWidth, total, format)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	top := dc.Max.Y
	for i, p := range plots {
		row := dc
		row.Max.Y, row.Min.Y = top, top-heights[i]
		top -= heights[i]
		axes, side := row, row
		axes.Max.X = row.Min.X + width
		side.Min.X = axes.Max.X
		p.Draw(axes)
		// The legend sits beside the data area, aligned with its top.
		data := p.DataCanvas(axes)
		side.Max.Y, side.Min.Y = data.Max.Y, data.Min.Y
		side.Min.X += vg.Points(4)
		legends[i].Draw(side)
	}
	_, err = c.WriteTo(w)
	return err
}

// legendExtent is the width of the column a legend needs.
func legendExtent(lg plot.Legend, series []Series) vg.Length {
	w := vg.Length(0)
	for _, s := range series {
		if s.Name != "" {
			w = max(w, lg.TextStyle.Width(s.Name))
		}
	}
	if w == 0 {
		return 0
	}
	return w + lg.ThumbnailWidth + vg.Points(24)
}

// plot builds the axes of a panel and its legend, kept apart from them.
func (pn Panel) plot() (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.X.Label.Text = pn.XLabel
	p.Y.Label.Text = pn.YLabel
	if pn.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	lg := plot.NewLegend()
	lg.Left = true
	lg.Top = true
	lg.TextStyle.Font.Size = pn.FontSize
	if lg.TextStyle.Font.Size == 0 {
		lg.TextStyle.Font.Size = vg.Points(9)
	}
	lg.ThumbnailWidth = vg.Points(24)
	xMin, xMax := math.Inf(1), math.Inf(-1)
	for i, s := range pn.Series {
		if len(s.X) != len(s.Y) {
			return nil, lg, fmt.Errorf("series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, 0, len(s.X))
		for j := range s.X {
			x, y := s.X[j], s.Y[j]
			if pn.LogX && x <= 0 || math.IsNaN(y) || math.IsInf(y, 0) || pn.XMax > pn.XMin && (x < pn.XMin || x > pn.XMax) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
			xMin, xMax = min(xMin, x), max(xMax, x)
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, lg, fmt.Errorf("series %q: %w", s.Name, err)
		}
		l.Color = s.Color
		if l.Color == nil {
			l.Color = Color(i)
		}
		l.Width = s.Width
		if l.Width == 0 {
			l.Width = vg.Points(2)
		}
		l.Dashes = s.Dashes
		p.Add(l)
		if s.Name != "" {
			lg.Add(s.Name, l)
		}
	}
	if pn.XMax > pn.XMin {
		xMin, xMax = pn.XMin, pn.XMax
		p.X.Min, p.X.Max = xMin, xMax
	}
	if pn.Zero && xMax > xMin {
		zero, _ := plotter.NewLine(plotter.XYs{{X: xMin, Y: 0}, {X: xMax, Y: 0}})
		zero.Color = color.Black
		zero.Width = vg.Points(2)
		p.Add(zero)
	}
	return p, lg, nil
}

// Percent scales fractions to percent, for plots and tables.
func Percent(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = 100 * x
	}
	return out
}

// Ints converts k values to plot coordinates.
func Ints(k []int) []float64 {
	out := make([]float64, len(k))
	for i, v := range k {
		out[i] = float64(v)
	}
	return out
}
