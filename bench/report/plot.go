package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/reconalign/reconalign/plotting"
)

// PlotScaling draws each fitted series (one line per backend) on log-log
// axes — log-scaled size, log₁₀ seconds — in its own file next to path
// (scaling.png → scaling-gram_vs_n.png, ...) and returns the paths written.
func PlotScaling(rep *Report, path string) ([]string, error) {
	bySeries := map[string][]plotting.Series{}
	var order []string
	for _, f := range rep.Fits {
		s := plotting.Series{Name: fmt.Sprintf("%s (slope %.2f)", f.Backend, f.Exponent)}
		for _, p := range f.Points {
			s.X = append(s.X, p[0])
			s.Y = append(s.Y, math.Log10(p[1]))
		}
		if _, seen := bySeries[f.Series]; !seen {
			order = append(order, f.Series)
		}
		bySeries[f.Series] = append(bySeries[f.Series], s)
	}
	if len(order) == 0 {
		return nil, nil
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	ext := filepath.Ext(path)
	var out []string
	for _, series := range order {
		p := strings.TrimSuffix(path, ext) + "-" + series + ext
		title := fmt.Sprintf("%s (suite %s): expected slope %g", series, rep.Suite, SeriesExponent(series))
		if err := plotting.Lines(p, title, SeriesVariable(series), "log₁₀ seconds", true, bySeries[series]...); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}
