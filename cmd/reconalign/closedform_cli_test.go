package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/data"
)

// imageFiles writes n random 6×6×1 images as an (n, 6, 6, 1) .npy, with
// labels carried by two pixels, and returns the two paths.
func imageFiles(t *testing.T, n int, seed uint64) (string, string) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, 1))
	const d = 36
	x := make([]float64, n*d)
	labels := make([]int64, n)
	for i := 0; i < n; i++ {
		labels[i] = int64(rng.IntN(3))
		a := rng.NormFloat64()
		for j := 0; j < d; j++ {
			x[i*d+j] = (0.3+float64(j)/d)*rng.NormFloat64() + a*math.Sin(float64(j))
		}
		x[i*d+14] += float64(labels[i])
		x[i*d+35] -= 0.5 * float64(labels[i])
	}
	return writeXY(t, dir, x, []int{n, 6, 6, 1}, labels)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestDenoiseDefaultsAreFigure7(t *testing.T) {
	xp, lp := imageFiles(t, 200, 1)
	dir := t.TempDir()
	js, png := filepath.Join(dir, "d.json"), filepath.Join(dir, "d.png")
	out, stderr, ok := run(t, "denoise", "--data", xp, "--labels", lp, "--out", js, "--plot", png, "--quiet")
	if !ok {
		t.Fatalf("denoise failed: %s", stderr)
	}
	var rep struct {
		Rank     int
		Route    string
		Centered bool
		Scale    string
		K        []int
		Clean    []float64
		Settings []struct {
			Noise     string
			Route     string
			P         float64
			Patch     []int
			Relative  []float64
			Alignment []float64
		}
	}
	readJSON(t, js, &rep)
	if len(rep.Settings) != 30 || rep.Route != "direct" || !rep.Centered || rep.Scale != "norm" || len(rep.K) != rep.Rank || len(rep.Clean) != rep.Rank {
		t.Fatalf("report: %d settings, route %q, centered %v, scale %s, %d k for rank %d", len(rep.Settings), rep.Route, rep.Centered, rep.Scale, len(rep.K), rep.Rank)
	}
	for i, s := range rep.Settings {
		wantP := 0.99 * float64(i%10) / 9
		wantRoute := map[bool]string{true: "diagonal", false: "patch-basis"}[i%10 == 0]
		if s.Noise != "mask" || math.Abs(s.P-wantP) > 1e-12 || s.Patch[0] != []int{1, 2, 4}[i/10] || len(s.Relative) != rep.Rank || s.Route != wantRoute {
			t.Fatalf("setting %d: %+v", i, s)
		}
		for k, r := range s.Relative {
			if want := 100 * (s.Alignment[k] - rep.Clean[k]) / rep.Clean[k]; math.Abs(r-want) > 1e-9 {
				t.Fatalf("setting %d k=%d: relative %g, from the curves %g", i, k+1, r, want)
			}
			if i%10 == 0 && r != 0 {
				t.Fatalf("p = 0 moved the curve by %g%% at k=%d", r, k+1)
			}
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 1000 {
		t.Errorf("no plot written: %v", err)
	}
	if !strings.Contains(out, "mask 4x4 p=0.99") {
		t.Errorf("summary lacks the last setting:\n%s", out)
	}
}

func TestDenoiseNoisesAndErrors(t *testing.T) {
	xp, lp := imageFiles(t, 150, 2)
	js := filepath.Join(t.TempDir(), "d.json")
	_, stderr, ok := run(t, "denoise", "--data", xp, "--labels", lp, "--noise", "gaussian,mask-fixed,block,crop",
		"--sigma", "0.5,5", "--p", "0.5", "--patch", "2,3x2", "--block", "2", "--crop-scale", "0.5", "--draws", "4", "--out", js, "--quiet")
	if !ok {
		t.Fatalf("denoise failed: %s", stderr)
	}
	var rep struct {
		Settings []struct {
			Noise           string
			Relative        []float64
			AlignmentStdErr []float64                     `json:"alignment_stderr"`
			MonteCarlo      *struct{ Draws, Batches int } `json:"monte_carlo"`
		}
	}
	readJSON(t, js, &rep)
	if len(rep.Settings) != 6 {
		t.Fatalf("%d settings, want 2 gaussian + 2 mask-fixed + block + crop", len(rep.Settings))
	}
	for _, s := range rep.Settings {
		switch s.Noise {
		case "gaussian":
			for _, r := range s.Relative {
				if math.Abs(r) > 1e-9 {
					t.Fatalf("gaussian noise moved the curve by %g%%", r)
				}
			}
		case "block", "crop":
			if s.MonteCarlo == nil || s.MonteCarlo.Draws != 4 || len(s.AlignmentStdErr) != len(s.Relative) {
				t.Fatalf("%s: Monte Carlo record %+v, %d standard errors", s.Noise, s.MonteCarlo, len(s.AlignmentStdErr))
			}
		}
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--image-shape", "5x5x1"}, "image shape"},
		{[]string{"--p", "1"}, "outside [0, 1)"},
		{[]string{"--p", "-0.2"}, "outside [0, 1)"},
		{[]string{"--patch", "7"}, "larger than"},
		{[]string{"--noise", "gaussian", "--sigma", "-1"}, "σ"},
		{[]string{"--noise", "salt"}, "unknown noise"},
		{[]string{"--noise", ""}, "empty"},
		{[]string{"--p", ""}, "empty"},
		{[]string{"--noise", "block", "--block", "9"}, "does not fit"},
		{[]string{"--noise", "crop", "--crop-scale", "0"}, "outside (0, 1]"},
		{[]string{"--draws", "0", "--noise", "block"}, "--draws"},
	}
	for _, b := range bad {
		args := append([]string{"denoise", "--data", xp, "--labels", lp, "--quiet"}, b.args...)
		_, stderr, ok := run(t, args...)
		if ok || !strings.Contains(stderr, b.want) {
			t.Errorf("%v: ok=%v, stderr %q, want an error mentioning %q", b.args, ok, stderr, b.want)
		}
	}
	if _, stderr, ok := run(t, "denoise", "--data", xp, "--quiet"); ok || !strings.Contains(stderr, "--labels") {
		t.Errorf("denoise without labels: ok=%v %q", ok, stderr)
	}
}

func TestSolveRoutesAndSaves(t *testing.T) {
	xp, lp := imageFiles(t, 30, 3) // N = 30 < D = 36: the N×N route
	dir := t.TempDir()
	js := filepath.Join(dir, "s.json")
	_, stderr, ok := run(t, "solve", "--data", xp, "--labels", lp, "--k", "4", "--lambda", "0,1", "--center", "--save-dir", dir, "--out", js, "--quiet")
	if !ok {
		t.Fatalf("solve failed: %s", stderr)
	}
	var rep struct {
		Route   string
		Rank    int
		TraceGy float64 `json:"trace_gy"`
		TraceGx float64 `json:"trace_gx"`
		Results []struct {
			Lambda, Loss, Supervised, Reconstruction float64
		}
	}
	readJSON(t, js, &rep)
	if rep.Route != "dual" || rep.Rank != 29 || len(rep.Results) != 2 {
		t.Fatalf("route %s rank %d, %d results", rep.Route, rep.Rank, len(rep.Results))
	}
	for _, r := range rep.Results {
		if d := r.Supervised + r.Lambda*r.Reconstruction - r.Loss; math.Abs(d) > 1e-9*(rep.TraceGy+r.Lambda*rep.TraceGx) {
			t.Errorf("λ=%g: parts do not add up to the loss", r.Lambda)
		}
	}
	// The moments route gives the same numbers.
	js2 := filepath.Join(dir, "s2.json")
	if _, stderr, ok := run(t, "solve", "--data", xp, "--labels", lp, "--k", "4", "--lambda", "0,1", "--center", "--route", "moments", "--out", js2, "--quiet"); !ok {
		t.Fatal(stderr)
	}
	var rep2 struct {
		Route   string
		Results []struct{ Loss float64 }
	}
	readJSON(t, js2, &rep2)
	for i := range rep2.Results {
		if !strings.HasPrefix(rep2.Route, "direct/") || math.Abs(rep2.Results[i].Loss-rep.Results[i].Loss) > 1e-8*math.Abs(rep.Results[i].Loss) {
			t.Errorf("moments route %s: loss %g vs dual %g", rep2.Route, rep2.Results[i].Loss, rep.Results[i].Loss)
		}
	}
	for name, shape := range map[string][]int{"V_lambda=1.npy": {36, 4}, "W_lambda=1.npy": {4, 3}, "Z_lambda=0.npy": {4, 36}} {
		src, err := data.OpenNPY(filepath.Join(dir, name), data.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m := src.Meta(); m.N != shape[0] || m.D != shape[1] {
			t.Errorf("%s is %d×%d, want %v", name, m.N, m.D, shape)
		}
	}
	for _, b := range [][]string{{"--k", "31"}, {"--k", "30", "--center"}, {"--k", "0"}, {"--lambda", "-1", "--k", "2"}, {"--lambda", "", "--k", "2"}, {}} {
		args := append([]string{"solve", "--data", xp, "--labels", lp, "--quiet"}, b...)
		if _, stderr, ok := run(t, args...); ok || stderr == "" {
			t.Errorf("solve %v succeeded", b)
		}
	}
}

func TestProjectAndProbe(t *testing.T) {
	xp, lp := imageFiles(t, 300, 4)
	tp, tl := imageFiles(t, 100, 5)
	dir := t.TempDir()
	top, bot := filepath.Join(dir, "top.npy"), filepath.Join(dir, "bot.npy")
	if _, stderr, ok := run(t, "project", "--data", xp, "--test-data", tp, "--keep", "top", "--variance", "0.6", "--out", top, "--dtype", "float64", "--quiet"); !ok {
		t.Fatal(stderr)
	}
	if _, stderr, ok := run(t, "project", "--data", xp, "--keep", "bottom", "--variance", "0.4", "--out", bot, "--dtype", "float64", "--quiet"); !ok {
		t.Fatal(stderr)
	}
	read := func(p string) ([]float64, data.Meta) {
		src, err := data.OpenNPY(p, data.Options{})
		if err != nil {
			t.Fatal(err)
		}
		x, _, err := data.Collect(src)
		if err != nil {
			t.Fatal(err)
		}
		return x.F64, src.Meta()
	}
	a, ma := read(top)
	b, _ := read(bot)
	x, _ := read(xp)
	if ma.N != 300 || ma.Shape.H != 6 || ma.Shape.W != 6 {
		t.Fatalf("projected file: %+v", ma)
	}
	if _, mt := read(filepath.Join(dir, "top_test.npy")); mt.N != 100 {
		t.Fatalf("projected test file has %d rows", mt.N)
	}
	// top(0.6) and bottom(0.4) split the directions: the two projections
	// add up to x + μ, so a − x + b is the same row (μ) for every sample.
	for i := 1; i < 300; i++ {
		for j := 0; j < 36; j++ {
			mu0 := a[j] + b[j] - x[j]
			if mu := a[i*36+j] + b[i*36+j] - x[i*36+j]; math.Abs(mu-mu0) > 1e-9 {
				t.Fatalf("row %d col %d: top + bottom − x = %g, row 0 has %g", i, j, mu, mu0)
			}
		}
	}
	js := filepath.Join(dir, "p.json")
	out, stderr, ok := run(t, "probe", "--train-data", xp, "--train-labels", lp, "--test-data", tp, "--test-labels", tl, "--sweep", "--grid", "0.5,0.9,1", "--out", js, "--quiet")
	if !ok {
		t.Fatal(stderr)
	}
	var rep struct {
		Sweep []struct {
			Variance    float64
			Top, Bottom *struct {
				Dims     int
				Accuracy float64
			}
		}
	}
	readJSON(t, js, &rep)
	if len(rep.Sweep) != 3 || !strings.Contains(out, "bottom") {
		t.Fatalf("sweep: %+v\n%s", rep.Sweep, out)
	}
	for _, r := range rep.Sweep {
		for _, s := range []*struct {
			Dims     int
			Accuracy float64
		}{r.Top, r.Bottom} {
			if s != nil && !(s.Accuracy > 0.2 && s.Accuracy <= 1) {
				t.Errorf("variance %g: accuracy %g", r.Variance, s.Accuracy)
			}
		}
	}
	out, stderr, ok = run(t, "probe", "--train-data", xp, "--train-labels", lp, "--test-data", tp, "--test-labels", tl, "--keep", "bottom", "--variance", "0.4", "--ridge", "10")
	if !ok || !strings.Contains(out, "test accuracy") {
		t.Fatalf("probe: %s %s", out, stderr)
	}
	for _, b := range [][]string{
		{"--keep", "middle", "--variance", "0.5"},
		{"--keep", "top", "--variance", "1.5"},
		{"--keep", "top", "--variance", "0.01"},
		{"--ridge", "-1"},
		{"--sweep", "--grid", "0,0.5"},
		{"--sweep", "--keep", "top", "--variance", "0.5"},
	} {
		args := append([]string{"probe", "--train-data", xp, "--train-labels", lp, "--test-data", tp, "--test-labels", tl, "--quiet"}, b...)
		if _, stderr, ok := run(t, args...); ok || stderr == "" {
			t.Errorf("probe %v succeeded", b)
		}
	}
	for _, b := range [][]string{
		{"--keep", "top", "--variance", "0.5", "--out", filepath.Join(dir, "x.txt")},
		{"--keep", "top", "--out", top},
		{"--keep", "up", "--variance", "0.5", "--out", top},
	} {
		args := append([]string{"project", "--data", xp, "--quiet"}, b...)
		if _, stderr, ok := run(t, args...); ok || stderr == "" {
			t.Errorf("project %v succeeded", b)
		}
	}
}
