package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/data"
)

// The CLI is tested as a user meets it: a built binary, its exit status, its
// stdout and stderr.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reconalign-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "reconalign")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building the CLI: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes the CLI and returns stdout, stderr and whether it succeeded.
func run(t *testing.T, args ...string) (string, string, bool) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if strings.Contains(errb.String(), "goroutine ") || strings.Contains(errb.String(), "panic:") {
		t.Fatalf("reconalign %v panicked:\n%s", args, errb.String())
	}
	return out.String(), errb.String(), err == nil
}

// smallDataset writes a 120×6 float64 dataset whose labels live in the
// second-smallest-variance direction, plus its labels.
func smallDataset(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	n, d := 120, 6
	x := make([]float64, n*d)
	labels := make([]int64, n)
	for i := 0; i < n; i++ {
		labels[i] = int64(i % 3)
		for j := 0; j < d; j++ {
			x[i*d+j] = math.Sin(float64(i*(j+1))) * float64(d-j)
		}
		x[i*d+4] += 0.3 * float64(labels[i])
	}
	return writeXY(t, dir, x, []int{n, d}, labels)
}

// writeXY writes samples of the given shape and their labels as x.npy and
// y.npy in dir.
func writeXY(t *testing.T, dir string, x []float64, shape []int, labels []int64) (string, string) {
	t.Helper()
	xp, lp := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := data.WriteNPY(xp, x, shape); err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNPY(lp, labels, []int{len(labels)}); err != nil {
		t.Fatal(err)
	}
	return xp, lp
}

func TestAlignWritesJSONCSVAndPNG(t *testing.T) {
	xp, lp := smallDataset(t)
	dir := t.TempDir()
	js, csvp, png := filepath.Join(dir, "c.json"), filepath.Join(dir, "c.csv"), filepath.Join(dir, "c.png")
	out, stderr, ok := run(t, "align", "--data", xp, "--labels", lp, "--center", "--scale", "norm",
		"--out", js, "--csv", csvp, "--plot", png, "--quiet")
	if !ok {
		t.Fatalf("align failed: %s", stderr)
	}
	if !strings.Contains(out, "alignment") {
		t.Errorf("no summary on stdout: %q", out)
	}
	raw, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"k", "alignment", "eigenvalues", "rank", "n", "d", "classes", "centered", "form", "scale", "normalize", "backend", "seconds"} {
		if _, ok := rep[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	if rep["n"].(float64) != 120 || rep["d"].(float64) != 6 || rep["classes"].(float64) != 3 || rep["centered"] != true || rep["scale"] != "norm" {
		t.Errorf("JSON settings wrong: %v", rep)
	}
	al := rep["alignment"].([]any)
	if len(al) != int(rep["rank"].(float64)) || math.Abs(al[len(al)-1].(float64)-1) > 1e-12 {
		t.Errorf("alignment has %d points for rank %v, last %v", len(al), rep["rank"], al[len(al)-1])
	}
	if b, _ := os.ReadFile(csvp); strings.Count(string(b), "\n") != len(al)+1 {
		t.Errorf("CSV has %d lines, want %d", strings.Count(string(b), "\n"), len(al)+1)
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 1000 {
		t.Errorf("PNG missing or empty: %v", err)
	}
}

func TestEighWritesNPY(t *testing.T) {
	xp, _ := smallDataset(t)
	dir := t.TempDir()
	w, u := filepath.Join(dir, "w.npy"), filepath.Join(dir, "u.npy")
	if _, stderr, ok := run(t, "eigh", "--data", xp, "--top", "3", "--out-values", w, "--out-vectors", u, "-q"); !ok {
		t.Fatal(stderr)
	}
	src, err := data.OpenNPY(u, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := src.Meta(); m.N != 6 || m.D != 3 {
		t.Fatalf("vectors are %d×%d, want 6×3", m.N, m.D)
	}
	vals, err := data.OpenNPY(w, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := data.Collect(vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.F64) != 3 || !(x.F64[0] >= x.F64[1] && x.F64[1] >= x.F64[2] && x.F64[2] > 0) {
		t.Fatalf("eigenvalues not positive and descending: %v", x.F64)
	}
}

// Bad input: a clear one-line error naming the problem, exit status 1, no
// panic trace.
func TestBadInputGivesClearErrors(t *testing.T) {
	xp, lp := smallDataset(t)
	dir := t.TempDir()
	short := filepath.Join(dir, "short.npy")
	if err := data.WriteNPY(short, []int64{0, 1, 2}, []int{3}); err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.npy")
	raw, _ := os.ReadFile(xp)
	os.WriteFile(trunc, raw[:len(raw)-17], 0o644)
	garbage := filepath.Join(dir, "garbage.npy")
	os.WriteFile(garbage, []byte("this is not an array"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"align", "--data", filepath.Join(dir, "missing.npy"), "--labels", lp}, "missing.npy"},
		{[]string{"align", "--data", xp, "--labels", short}, "short.npy"},
		{[]string{"align", "--data", trunc, "--labels", lp}, "trunc.npy"},
		{[]string{"align", "--data", garbage, "--labels", lp}, "garbage.npy"},
		{[]string{"align", "--data", xp}, "--labels"},
		{[]string{"align", "--data", xp, "--labels", lp, "--form", "cubic"}, "cubic"},
		{[]string{"align", "--data", xp, "--labels", lp, "--rtol", "2"}, "--rtol"},
		{[]string{"align", "--labels", lp}, "--data"},
		{[]string{"align", "--data", xp, "--labels", lp, "--backend", "nosuch"}, "nosuch"},
		{[]string{"eigh", "--data", xp, "--top", "9", "--out-values", filepath.Join(dir, "w.npy")}, "--top"},
		{[]string{"rsvd", "--data", xp, "--k", "0"}, "--k"},
		{[]string{"align", "--synthetic", "N=10,D=bad", "--out", "-"}, "bad"},
	}
	for _, c := range cases {
		_, stderr, ok := run(t, c.args...)
		if ok {
			t.Errorf("reconalign %v succeeded", c.args)
			continue
		}
		if !strings.HasPrefix(stderr, "reconalign: ") || !strings.Contains(stderr, c.want) {
			t.Errorf("reconalign %v: stderr %q does not name %q", c.args, stderr, c.want)
		}
	}
}

func TestRSVDOnSyntheticData(t *testing.T) {
	js := filepath.Join(t.TempDir(), "r.json")
	if _, stderr, ok := run(t, "rsvd", "--synthetic", "N=600,h=8,w=8,c=1,classes=4,seed=3", "--k", "5", "--center", "--align-out", js, "-q"); !ok {
		t.Fatal(stderr)
	}
	raw, _ := os.ReadFile(js)
	var rep rsvdReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.N != 600 || rep.D != 64 || len(rep.Eigenvalues) != 5 || len(rep.AlignmentGram) != 5 || math.Abs(rep.AlignmentGram[4]-1) > 1e-12 {
		t.Fatalf("unexpected report: %+v", rep)
	}
}

// With K = D the top-k curve under papercode normalisation is the whole
// curve, so rsvd and align (two independent routes) must agree.
func TestRSVDPapercodeMatchesAlign(t *testing.T) {
	xp, lp := smallDataset(t)
	dir := t.TempDir()
	rj, aj := filepath.Join(dir, "r.json"), filepath.Join(dir, "a.json")
	if _, stderr, ok := run(t, "rsvd", "--data", xp, "--labels", lp, "--k", "6", "--normalize", "papercode", "--align-out", rj, "-q"); !ok {
		t.Fatal(stderr)
	}
	if _, stderr, ok := run(t, "align", "--data", xp, "--labels", lp, "--normalize", "papercode", "--out", aj, "-q"); !ok {
		t.Fatal(stderr)
	}
	var r rsvdReport
	var a alignReport
	for path, v := range map[string]any{rj: &r, aj: &a} {
		raw, _ := os.ReadFile(path)
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	if r.Normalize != "papercode" || len(r.AlignmentGram) != len(a.Alignment) {
		t.Fatalf("rsvd curve %v vs align curve %v", r.AlignmentGram, a.Alignment)
	}
	for i := range a.Alignment {
		if math.Abs(r.AlignmentGram[i]-a.Alignment[i]) > 1e-9 {
			t.Fatalf("k=%d: rsvd %.12f, align %.12f", i+1, r.AlignmentGram[i], a.Alignment[i])
		}
	}
	if _, stderr, ok := run(t, "rsvd", "--data", xp, "--labels", lp, "--k", "2", "--normalize", "full"); ok || !strings.Contains(stderr, "--normalize") {
		t.Fatalf("bad --normalize accepted: %s", stderr)
	}
}
