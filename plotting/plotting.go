// Package plotting draws the figures a person would rather look at than read:
// the alignment curve in the style of the paper's Figure 2 (alignment in
// percent against the number of principal directions, log-scaled k), with
// gonum.org/v1/plot.
package plotting

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one named curve: y[i] is the value at x[i].
type Series struct {
	Name string
	X    []float64
	Y    []float64
}

// palette is colour-blind safe (Okabe–Ito).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255}, color.RGBA{240, 228, 66, 255},
}

// Color returns the i-th palette colour, cycling.
func Color(i int) color.Color { return palette[i%len(palette)] }

// Lines draws series as lines on one set of axes and saves a PNG (or SVG/PDF by
// extension). logX uses a base-10 logarithmic k axis, as the paper does.
func Lines(path, title, xLabel, yLabel string, logX bool, series ...Series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	for i, s := range series {
		pts := make(plotter.XYs, 0, len(s.X))
		for j := range s.X {
			if logX && s.X[j] <= 0 || math.IsNaN(s.Y[j]) {
				continue
			}
			pts = append(pts, plotter.XY{X: s.X[j], Y: s.Y[j]})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("plot %s: series %q: %w", path, s.Name, err)
		}
		l.Color = Color(i)
		l.Width = vg.Points(2)
		p.Add(l)
		if len(series) > 1 {
			p.Legend.Add(s.Name, l)
		}
	}
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(4)
	p.Legend.YOffs = vg.Points(4)
	if err := p.Save(6*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("saving plot %s: %w", path, err)
	}
	return nil
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
