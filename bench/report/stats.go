package report

import (
	"fmt"
	"math"
	"sort"
)

// Summarize returns the median, extremes and quartiles of samples (linear
// interpolation between order statistics, as NumPy's default percentile).
func Summarize(samples []float64) *Summary {
	if len(samples) == 0 {
		return nil
	}
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	return &Summary{
		Median: quantile(s, 0.5),
		Min:    s[0],
		Max:    s[len(s)-1],
		Q1:     quantile(s, 0.25),
		Q3:     quantile(s, 0.75),
	}
}

// quantile of sorted values.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// LogLogSlope fits log y = a + b·log x by least squares and returns b. It
// needs at least two distinct positive x and positive y.
func LogLogSlope(x, y []float64) (float64, error) {
	if len(x) != len(y) {
		return 0, fmt.Errorf("fit: %d x values for %d y values", len(x), len(y))
	}
	var lx, ly []float64
	for i := range x {
		if x[i] > 0 && y[i] > 0 {
			lx = append(lx, math.Log(x[i]))
			ly = append(ly, math.Log(y[i]))
		}
	}
	if len(lx) < 2 {
		return 0, fmt.Errorf("fit: need two positive points, have %d", len(lx))
	}
	mx, my := 0.0, 0.0
	for i := range lx {
		mx += lx[i]
		my += ly[i]
	}
	mx /= float64(len(lx))
	my /= float64(len(lx))
	sxx, sxy := 0.0, 0.0
	for i := range lx {
		sxx += (lx[i] - mx) * (lx[i] - mx)
		sxy += (lx[i] - mx) * (ly[i] - my)
	}
	if sxx == 0 {
		return 0, fmt.Errorf("fit: all sizes are equal")
	}
	return sxy / sxx, nil
}
