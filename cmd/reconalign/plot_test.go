package main

import (
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Width, cfg.Height
}

// Several align results on one figure: the legend names each by what
// differs between them, beside axes of the usual size; the title names the
// data set, not its path.
func TestPlotOverlaysAlignResults(t *testing.T) {
	xp, lp := imageFiles(t, 120, 21)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for path, extra := range map[string][]string{a: nil, b: {"--center", "--scale", "norm"}} {
		args := append([]string{"align", "--data", xp, "--labels", lp, "--out", path, "-q"}, extra...)
		if _, stderr, ok := run(t, args...); !ok {
			t.Fatal(stderr)
		}
	}
	var reps []alignReport
	for _, p := range []string{a, b} {
		var r alignReport
		readJSON(t, p, &r)
		reps = append(reps, r)
	}
	names := alignNames(reps)
	want := []string{datasetName(xp) + ", not centered, squared", datasetName(xp) + ", centered, norm"}
	if !slices.Equal(names, want) {
		t.Errorf("legend %q, want %q", names, want)
	}
	fig := alignOverlay(reps, names)
	if !strings.HasPrefix(fig.Title, datasetName(xp)+": alignment (gram, full") || strings.Contains(fig.Title, dir) {
		t.Errorf("title %q", fig.Title)
	}
	out := filepath.Join(dir, "both.png")
	if _, stderr, ok := run(t, "plot", "--out", out, a, b); !ok {
		t.Fatal(stderr)
	}
	w, h := pngSize(t, out)
	if w <= 6*96+40 || h != 4*96 {
		t.Errorf("figure is %dx%d: want 6×4 inches of axes (576x384 px) plus a legend column", w, h)
	}
	// Bad inputs: clear errors naming the file, and no figure.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"k": [1, 2], "alignment": [0.5`), 0o644)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"n": 3}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{bad}, "bad.json: not valid JSON"},
		{[]string{other}, "other.json: neither an align result"},
		{[]string{a, filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"--name", "one", a, b}, "--name given 1 times for 2 results"},
	} {
		fig := filepath.Join(dir, "bad.png")
		_, stderr, ok := run(t, append([]string{"plot", "--out", fig}, c.args...)...)
		if ok || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: ok=%v %q, want %q", c.args, ok, stderr, c.want)
		}
		if _, err := os.Stat(fig); err == nil {
			t.Errorf("%v left a figure", c.args)
		}
	}
}

// Several denoise results overlay panel by panel.
func TestPlotOverlaysDenoiseResults(t *testing.T) {
	xp, lp := imageFiles(t, 100, 22)
	dir := t.TempDir()
	var jsons []string
	for i, p := range []string{"0.25,0.5", "0.5,0.75"} {
		js := filepath.Join(dir, "d"+itoa(i)+".json")
		if _, stderr, ok := run(t, "denoise", "--data", xp, "--labels", lp, "--p", p, "--patch", "1,2", "--out", js, "-q"); !ok {
			t.Fatal(stderr)
		}
		jsons = append(jsons, js)
	}
	out := filepath.Join(dir, "fig7.svg")
	if _, stderr, ok := run(t, append([]string{"plot", "--out", out, "--name", "first", "--name", "second"}, jsons...)...); !ok {
		t.Fatal(stderr)
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first p=0.25", "second p=0.75", "mask, patch 2x2"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the figure lacks %q", want)
		}
	}
	if _, stderr, ok := run(t, "plot", "--out", filepath.Join(dir, "mixed.png"), jsons[0], filepath.Join(t.TempDir(), "none.json")); ok || stderr == "" {
		t.Error("a missing result was accepted")
	}
}
