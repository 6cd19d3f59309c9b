package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/term"

	"github.com/reconalign/reconalign/data"
)

// entries lists a directory.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// runLimited runs the CLI with files limited to kb KiB, as a full device
// would stop them (the Go runtime ignores SIGXFSZ, so the write fails).
func runLimited(t *testing.T, kb int, args ...string) (string, bool) {
	t.Helper()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	cmd := exec.Command("bash", "-c", "ulimit -f "+itoa(kb)+" && exec "+binary+" "+strings.Join(quoted, " "))
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	if strings.Contains(errb.String(), "panic:") {
		t.Fatalf("panicked:\n%s", errb.String())
	}
	return errb.String(), err == nil
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// A run that fails leaves no new output and never touches an existing one:
// a write that fails part-way, an output that cannot be made after others
// could, a failure in the data after the first output was streamed.
func TestOutputsAreAllOrNothing(t *testing.T) {
	xp, lp := imageFiles(t, 200, 11)
	dir := t.TempDir()
	old := filepath.Join(dir, "old.csv")
	if err := os.WriteFile(old, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The JSON (several KB) hits the 1 KiB limit.
	stderr, ok := runLimited(t, 1, "align", "--data", xp, "--labels", lp, "--out", filepath.Join(dir, "c.json"), "--csv", old, "-q")
	if ok || !strings.Contains(stderr, "c.json") || strings.Contains(stderr, ".tmp") {
		t.Errorf("failing write: ok=%v, stderr %q (want the output's name, not a temporary one)", ok, stderr)
	}
	missing := filepath.Join(dir, "no-such-dir")
	for _, args := range [][]string{
		{"align", "--data", xp, "--labels", lp, "--out", filepath.Join(dir, "c.json"), "--csv", old, "--plot", filepath.Join(missing, "c.png")},
		{"eigh", "--data", xp, "--out-values", filepath.Join(dir, "w.npy"), "--out-vectors", filepath.Join(missing, "u.npy")},
		{"solve", "--data", xp, "--labels", lp, "--k", "2", "--out", filepath.Join(dir, "s.json"), "--save-dir", filepath.Join(dir, "save"), "--lambda", "0,1", "--rtol", "0.5"},
	} {
		if _, stderr, ok := run(t, append(args, "-q")...); ok || stderr == "" {
			t.Errorf("%v succeeded", args)
		}
	}
	// project: the training output streams complete before the test data,
	// whose last row holds a NaN, fail.
	nan := filepath.Join(t.TempDir(), "nan.npy")
	bad := make([]float64, 10*36)
	bad[len(bad)-1] = math.NaN()
	if err := data.WriteNPY(nan, bad, []int{10, 6, 6, 1}); err != nil {
		t.Fatal(err)
	}
	if _, stderr, ok := run(t, "project", "--data", xp, "--test-data", nan, "--keep", "top", "--variance", "0.5",
		"--out", filepath.Join(dir, "p.npy"), "-q"); ok || !strings.Contains(stderr, "nan.npy") {
		t.Errorf("project with NaN test data: ok=%v %q", ok, stderr)
	}
	if got := entries(t, dir); len(got) != 1 || got[0] != "old.csv" {
		t.Errorf("failed runs left %v", got)
	}
	if b, _ := os.ReadFile(old); string(b) != "keep me" {
		t.Errorf("an existing output was changed by a failed run: %q", b)
	}
}

// An output that is also an input, or another output, is refused before
// any work, whatever spelling names it.
func TestOutputThatIsAnInputIsRefused(t *testing.T) {
	xp, lp := imageFiles(t, 50, 12)
	before, _ := os.ReadFile(xp)
	dir := filepath.Dir(xp)
	other := filepath.Join(t.TempDir(), "o.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"align", "--data", xp, "--labels", lp, "--out", xp}, "--out"},
		{[]string{"align", "--data", xp, "--labels", lp, "--csv", filepath.Join(dir, ".", "y.npy")}, "also an input"},
		{[]string{"align", "--data", dir, "--labels", lp, "--csv", filepath.Join(dir, "x.npy")}, "also an input"},
		{[]string{"align", "--data", xp, "--labels", lp, "--out", other, "--csv", other}, "also the output of"},
		{[]string{"project", "--data", xp, "--test-data", xp, "--keep", "top", "--variance", "0.5", "--out", filepath.Join(t.TempDir(), "p.npy"), "--test-out", xp}, "--test-out"},
		{[]string{"plot", "--out", other + ".png", other + ".png"}, "also an input"},
	} {
		_, stderr, ok := run(t, c.args...)
		if ok || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: ok=%v, stderr %q, want %q", c.args, ok, stderr, c.want)
		}
	}
	if after, _ := os.ReadFile(xp); !bytes.Equal(before, after) {
		t.Fatal("an input was overwritten")
	}
}

// Bounds and strictness: counts, chunk sizes, threads, stray arguments.
func TestFlagsAreChecked(t *testing.T) {
	xp, lp := imageFiles(t, 60, 13)
	huge := "linspace(0,0.5,1000000000000)"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"denoise", "--data", xp, "--labels", lp, "--p", huge}, "--p"},
		{[]string{"denoise", "--data", xp, "--labels", lp, "--noise", "gaussian", "--sigma", huge}, "1000000"},
		{[]string{"solve", "--data", xp, "--labels", lp, "--k", "2", "--lambda", huge}, "--lambda"},
		{[]string{"probe", "--train-data", xp, "--train-labels", lp, "--test-data", xp, "--test-labels", lp, "--sweep", "--grid", huge}, "--grid"},
		{[]string{"align", "--data", xp, "--labels", lp, "--chunk-rows", "0"}, "--chunk-rows 0"},
		{[]string{"align", "--data", xp, "--labels", lp, "--chunk-rows", "-5"}, "--chunk-rows -5"},
		{[]string{"align", "--data", xp, "--labels", lp, "--threads", "-1"}, "--threads -1"},
		{[]string{"align", "--data", xp, "--labels", lp, "stray"}, "stray"},
		{[]string{"eigh", "--data", xp, "--out-values", filepath.Join(t.TempDir(), "w.npy"), "extra", "args"}, "extra"},
		{[]string{"align", "--data", xp, "--labels", lp, "--precision", "bogus"}, `--precision "bogus": want one of fp64`},
		{[]string{"align", "--data", xp, "--labels", lp, "--plot", filepath.Join(t.TempDir(), "c.jpg")}, ".png"},
	} {
		_, stderr, ok := run(t, append(c.args, "-q")...)
		if ok || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "cuda") {
			t.Errorf("%v: ok=%v, stderr %q, want %q", c.args, ok, stderr, c.want)
		}
	}
	// Absurd thread counts are lowered, with a note.
	_, stderr, ok := run(t, "align", "--data", xp, "--labels", lp, "--threads", "100000")
	if !ok || !strings.Contains(stderr, "--threads 100000 lowered to") {
		t.Errorf("--threads 100000: ok=%v %q", ok, stderr)
	}
	// Patches that do not divide the image are explained.
	_, stderr, ok = run(t, "denoise", "--data", xp, "--labels", lp, "--patch", "4", "--p", "0.5")
	if !ok || !strings.Contains(stderr, "patch 4x4 does not divide the 6x6 image") {
		t.Errorf("ragged patches: ok=%v %q", ok, stderr)
	}
}

// rankDeficient writes 80 samples of 10 features spanning 3 directions.
func rankDeficient(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	n, d := 80, 10
	x := make([]float64, n*d)
	labels := make([]int64, n)
	for i := 0; i < n; i++ {
		a, b, c := math.Sin(float64(i)), math.Cos(float64(3*i)), float64(i%5)
		labels[i] = int64(i % 2)
		for j := 0; j < d; j++ {
			x[i*d+j] = a*float64(j+1) + b*float64(j*j%7) + c*float64(d-j)
		}
	}
	return writeXY(t, dir, x, []int{n, d}, labels)
}

// rsvd says how many passes it really makes and warns when --k exceeds the
// numerical rank, which its JSON reports.
func TestRSVDReportsPassesAndRank(t *testing.T) {
	xp, lp := rankDeficient(t)
	js := filepath.Join(t.TempDir(), "r.json")
	_, stderr, ok := run(t, "rsvd", "--data", xp, "--labels", lp, "--k", "6", "--align-out", js)
	if !ok {
		t.Fatal(stderr)
	}
	var rep rsvdReport
	readJSON(t, js, &rep)
	if rep.Passes != 1 || !strings.Contains(stderr, "explicit Gram), 1 pass(es)") {
		t.Errorf("JSON says %d passes, stderr says %q", rep.Passes, stderr)
	}
	if rep.Rank != 3 || !strings.Contains(stderr, "--k 6 exceeds the numerical rank 3") {
		t.Errorf("rank %d, stderr %q", rep.Rank, stderr)
	}
}

// Messages say what was found and where.
func TestMessagesNameTheProblem(t *testing.T) {
	xp, lp := imageFiles(t, 60, 14)
	dir := t.TempDir()
	raw, _ := os.ReadFile(xp)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw)
	w.Close()
	flipped := append([]byte(nil), gz.Bytes()...)
	flipped[len(flipped)/2] ^= 0x40
	junk := append(append([]byte(nil), gz.Bytes()...), "JUNK"...)
	constant := make([]float64, 60*36)
	for i := range constant {
		constant[i] = 3
	}
	cp := filepath.Join(dir, "constant.npy")
	data.WriteNPY(cp, constant, []int{60, 36})
	one := filepath.Join(dir, "one-class.npy")
	data.WriteNPY(one, make([]int64, 60), []int{60})
	far := filepath.Join(dir, "far-labels.npy")
	farLabels := make([]int64, 60)
	farLabels[7] = 9
	data.WriteNPY(far, farLabels, []int{60})
	files := map[string][]byte{"flipped.npy.gz": flipped, "junk.npy.gz": junk}
	for name, b := range files {
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"align", "--data", filepath.Join(dir, "flipped.npy.gz"), "--labels", lp}, []string{"flipped.npy.gz", "corrupt gzip stream"}},
		{[]string{"align", "--data", filepath.Join(dir, "junk.npy.gz"), "--labels", lp}, []string{"junk.npy.gz", "not another gzip member"}},
		{[]string{"align", "--data", cp, "--labels", lp, "--center"}, []string{"no variance once centred"}},
		{[]string{"align", "--data", xp, "--labels", one, "--center"}, []string{"single class"}},
		{[]string{"probe", "--train-data", xp, "--train-labels", lp, "--test-data", xp, "--test-labels", far}, []string{"far-labels.npy", "label 9 of row 7"}},
	} {
		_, stderr, ok := run(t, append(c.args, "-q")...)
		if ok {
			t.Errorf("%v succeeded", c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr, w)
			}
		}
		if strings.Contains(stderr, "last row") || strings.Contains(stderr, "denominator 0") {
			t.Errorf("%v: stderr %q", c.args, stderr)
		}
	}
}

// No progress bar is drawn into a log: newProgress gives none unless
// stderr is a terminal.
func TestNoProgressBarWithoutATerminal(t *testing.T) {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		t.Skip("stderr is a terminal here")
	}
	if newProgress("reading") != nil {
		t.Fatal("a progress bar would be drawn into a non-terminal")
	}
}
