package main

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// runStatus executes the CLI and returns its stderr and exit status.
func runStatus(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	if strings.Contains(errb.String(), "goroutine ") || strings.Contains(errb.String(), "panic:") {
		t.Fatalf("reconalign %v panicked:\n%s", args, errb.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return errb.String(), 0
	case errors.As(err, &ee):
		return errb.String(), ee.ExitCode()
	}
	t.Fatal(err)
	return "", -1
}

// npzLeft lists the .npz files (and hidden temporaries) in dir.
func npzLeft(dir string) []string {
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".npz") || strings.Contains(e.Name(), ".tmp") {
			left = append(left, e.Name())
		}
	}
	return left
}

// writeU8 writes n×d uint8 samples and integer labels into dir.
func writeU8(t *testing.T, dir, name string, n, d int) (string, string) {
	t.Helper()
	x := make([]uint8, n*d)
	y := make([]int64, n)
	for i := range x {
		x[i] = uint8(i * 7 % 251)
	}
	for i := range y {
		y[i] = int64(i % 3)
	}
	xp, yp := filepath.Join(dir, name+"_x.npy"), filepath.Join(dir, name+"_y.npy")
	if err := data.WriteNPY(xp, x, []int{n, d}); err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNPY(yp, y, nil); err != nil {
		t.Fatal(err)
	}
	return xp, yp
}

// moments and moments merge write files whose merge is the whole data's.
func TestMomentsCommand(t *testing.T) {
	dir := t.TempDir()
	ax, ay := writeU8(t, dir, "a", 90, 8)
	bx, by := writeU8(t, dir, "b", 40, 8)
	pa, pb, all := filepath.Join(dir, "a.npz"), filepath.Join(dir, "b.npz"), filepath.Join(dir, "all.npz")
	out, stderr, ok := run(t, "moments", "--data", ax, "--labels", ay, "--out", pa)
	if !ok {
		t.Fatal(stderr)
	}
	if !strings.Contains(out, "N=90 D=8 C=3 (classes) uint8, exact integer sums") {
		t.Errorf("summary: %q", out)
	}
	if _, stderr, ok := run(t, "moments", "--data", bx, "--labels", by, "--out", pb, "-q"); !ok {
		t.Fatal(stderr)
	}
	out, stderr, ok = run(t, "moments", "merge", "--out", all, pa, pb)
	if !ok {
		t.Fatal(stderr)
	}
	if !strings.Contains(out, "N=130 D=8") {
		t.Errorf("merge summary: %q", out)
	}
	ms, err := engine.OpenMoments(all)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ms.Info().Sources, " "); got != strings.Join([]string{ax, ay, bx, by}, " ") {
		t.Errorf("sources %s", got)
	}
	// The merged centred Gram's trace against a direct sum.
	st, err := ms.Moments().Finalize(true)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sum2 [8]float64
	for _, p := range []string{ax, bx} {
		src, _ := data.OpenNPY(p, data.Options{})
		x, _, _ := data.Collect(src)
		for i, v := range x.F64 {
			sum[i%8] += v
			sum2[i%8] += v * v
		}
	}
	tr, want := 0.0, 0.0
	for j := 0; j < 8; j++ {
		tr += st.Gx.Data[j*8+j]
		want += sum2[j] - sum[j]*sum[j]/130
	}
	if math.Abs(tr-want) > 1e-9*want {
		t.Errorf("trace of the merged centred Gram %v, want %v", tr, want)
	}
}

// Bad input: a clear error naming the file, exit status 1, and no .npz
// (final or temporary) left behind.
func TestMomentsCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	ax, ay := writeU8(t, dir, "a", 30, 8)
	cx, cy := writeU8(t, dir, "c", 30, 9)
	pa, pc := filepath.Join(dir, "a.npz"), filepath.Join(dir, "c.npz")
	for _, args := range [][]string{
		{"moments", "--data", ax, "--labels", ay, "--out", pa, "-q"},
		{"moments", "--data", cx, "--labels", cy, "--out", pc, "-q"},
	} {
		if stderr, code := runStatus(t, args...); code != 0 {
			t.Fatal(stderr)
		}
	}
	raw, _ := os.ReadFile(pa)
	trunc := filepath.Join(dir, "trunc.npz")
	os.WriteFile(trunc, raw[:len(raw)-100], 0o644)
	nan := filepath.Join(dir, "nan.npy")
	xs := []float64{1, 2, 3, math.NaN(), 5, 6}
	data.WriteNPY(nan, xs, []int{3, 2})
	missing := filepath.Join(dir, "missing.npy")
	out := filepath.Join(dir, "out.npz")
	before := npzLeft(dir)
	for _, tc := range []struct {
		name  string
		args  []string
		parts []string
	}{
		{"missing data", []string{"moments", "--data", missing, "--out", out}, []string{missing}},
		{"no --out", []string{"moments", "--data", ax}, []string{"--out"}},
		{"NaN", []string{"moments", "--data", nan, "--out", out}, []string{nan, "NaN", "row 1, column 1"}},
		{"out is the data", []string{"moments", "--data", ax, "--labels", ay, "--out", ax}, []string{ax, "also an input"}},
		{"missing part", []string{"moments", "merge", "--out", out, pa, missing}, []string{missing}},
		{"truncated part", []string{"moments", "merge", "--out", out, pa, trunc}, []string{trunc, "not a reconalign moments file"}},
		{"another D", []string{"moments", "merge", "--out", out, pa, pc}, []string{pc, "D = 9", "D = 8"}},
		{"out is a part", []string{"moments", "merge", "--out", pa, pa, pa}, []string{pa, "also an input"}},
		{"not moments", []string{"moments", "merge", "--out", out, pa, ax}, []string{ax, "not a reconalign moments file"}},
	} {
		stderr, code := runStatus(t, tc.args...)
		if code != 1 {
			t.Errorf("%s: exit status %d, want 1 (stderr %q)", tc.name, code, stderr)
		}
		for _, p := range tc.parts {
			if !strings.Contains(stderr, p) {
				t.Errorf("%s: stderr %q does not mention %q", tc.name, stderr, p)
			}
		}
		if left := npzLeft(dir); strings.Join(left, ",") != strings.Join(before, ",") {
			t.Errorf("%s: left %v behind (before: %v)", tc.name, left, before)
		}
	}
	if b, _ := os.ReadFile(pa); string(b) != string(raw) {
		t.Error("a refused merge changed its input")
	}
}

// Every analysis that needs only moments takes --moments (--train-moments
// for probe) and gives the streaming run's numbers bit for bit; --moments
// beside --data is refused, and so is a moments file where samples are read.
func TestMomentsFlagGivesTheStreamingResult(t *testing.T) {
	dir := t.TempDir()
	x, y := writeU8(t, dir, "d", 300, 12)
	m := filepath.Join(dir, "m.npz")
	if _, stderr, ok := run(t, "moments", "--data", x, "--labels", y, "--image-shape", "3x4x1", "--out", m); !ok {
		t.Fatal(stderr)
	}
	same := func(what string, a, b []string) {
		t.Helper()
		pa, pb := filepath.Join(dir, what+"-data.json"), filepath.Join(dir, what+"-moments.json")
		if _, stderr, ok := run(t, append(a, "--out", pa)...); !ok {
			t.Fatalf("%s from the data: %s", what, stderr)
		}
		if _, stderr, ok := run(t, append(b, "--out", pb)...); !ok {
			t.Fatalf("%s from the moments: %s", what, stderr)
		}
		ja, _ := os.ReadFile(pa)
		jb, _ := os.ReadFile(pb)
		// The reports differ only in the input's name and the time taken.
		clean := func(j []byte) string {
			var keep []string
			for _, line := range strings.Split(string(j), "\n") {
				if !strings.Contains(line, ".npy") && !strings.Contains(line, ".npz") && !strings.Contains(line, `"labels": ""`) && !strings.Contains(line, "seconds") {
					keep = append(keep, line)
				}
			}
			return strings.Join(keep, "\n")
		}
		if clean(ja) != clean(jb) {
			t.Errorf("%s: the moments file's report differs from the data's:\n%s\n---\n%s", what, ja, jb)
		}
	}
	same("align", []string{"align", "--data", x, "--labels", y, "--image-shape", "3x4x1", "--center"}, []string{"align", "--moments", m, "--center"})
	same("solve", []string{"solve", "--data", x, "--labels", y, "--image-shape", "3x4x1", "--k", "3", "--lambda", "0,1"}, []string{"solve", "--moments", m, "--k", "3", "--lambda", "0,1"})
	same("denoise", []string{"denoise", "--data", x, "--labels", y, "--noise", "gaussian", "--sigma", "1", "--image-shape", "3x4x1"},
		[]string{"denoise", "--moments", m, "--noise", "gaussian", "--sigma", "1"})

	for _, bad := range [][]string{
		{"align", "--moments", m, "--data", x},
		{"align", "--moments", m, "--labels", y},
	} {
		stderr, code := runStatus(t, bad...)
		if code != 1 || !strings.Contains(stderr, "--moments stands in for the data and labels") {
			t.Errorf("%v: status %d, %s", bad, code, stderr)
		}
	}
	stderr, code := runStatus(t, "probe", "--train-moments", m, "--test-moments", m)
	if code != 1 || !strings.Contains(stderr, "unknown flag") {
		t.Errorf("probe's test side took a moments file: status %d, %s", code, stderr)
	}
}
