package scenario

import (
	"archive/zip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/data"
)

// quickPolicy times every toy scenario once.
var quickPolicy = bench.Policy{Warmup: 1, MinRepeats: 1, MaxRepeats: 1}

func statusOf(t *testing.T, rep *report.Report, name string) *report.Result {
	t.Helper()
	r := rep.Find(name)
	if r == nil {
		var names []string
		for _, q := range rep.Results {
			names = append(names, q.Name)
		}
		t.Fatalf("no result %s among %v", name, names)
	}
	return r
}

// The eigen phase at a toy size: the vectors route passes its check, a
// projection route plugged in is timed beside it and compared, and one that
// pairs two columns with each other's eigenvalues fails.
func TestEigenPhaseFamily(t *testing.T) {
	defer func(f func(backend.Backend, blas64.General, blas64.General) ([]float64, blas64.General, error)) {
		eigenProjection = f
	}(eigenProjection)
	p := Plan{Name: "tiny-eigen", Policy: quickPolicy, GemmN: 32, EigenPhase: []string{"n=300,h=6,w=6,c=1,classes=4,seed=2"}}
	eigenProjection = nil
	rep, err := bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum"}})
	if err != nil {
		t.Fatal(err)
	}
	vec, proj := "eigen_phase/gonum/vectors/D=36,C=4", "eigen_phase/gonum/projection/D=36,C=4"
	if r := statusOf(t, rep, vec); r.Status != report.StatusOK {
		t.Fatalf("vectors route: %s %s", r.Status, r.Reason)
	}
	if r := statusOf(t, rep, proj); r.Status != report.StatusSkip || !strings.Contains(r.Reason, "plug.go") {
		t.Fatalf("an unplugged projection route: %s %q", r.Status, r.Reason)
	}

	eigenProjection = eigenVectorsRoute // a stand-in with the right answer
	rep, err = bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := statusOf(t, rep, proj); r.Status != report.StatusOK {
		t.Fatalf("plugged projection route: %s %s", r.Status, r.Reason)
	}
	if _, ok := rep.Ratio(proj, vec); !ok {
		t.Errorf("no projection/vectors comparison: %+v", rep.Comparisons)
	}
	if md := report.Markdown(rep, "."); !strings.Contains(md, "### The eigen phase") || !strings.Contains(md, "| gonum | 36 | 4 |") {
		t.Errorf("markdown lacks the eigen-phase table:\n%s", md)
	}
	claimed := false
	for _, c := range rep.Claims {
		if strings.Contains(c.Statement, "eigen phase on gonum at D = 36") && c.Status != report.ClaimNotMeasured {
			claimed = true
		}
	}
	if !claimed {
		t.Errorf("no measured eigen-phase claim: %+v", rep.Claims)
	}

	eigenProjection = func(be backend.Backend, a, m blas64.General) ([]float64, blas64.General, error) {
		w, p, err := eigenVectorsRoute(be, a, m)
		for i := 0; i < p.Rows; i++ {
			row := p.Data[i*p.Stride:]
			row[0], row[1] = row[1], row[0]
		}
		return w, p, err
	}
	rep, err = bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := statusOf(t, rep, proj); r.Status != report.StatusFail || r.Seconds != nil {
		t.Fatalf("a wrong projection route: %s %q", r.Status, r.Reason)
	}
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// reconalignBinary builds the CLI once for the child-process scenarios.
func reconalignBinary(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bench-scenario-cli")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "reconalign")
		out, err := exec.Command("go", "build", "-o", cliPath, "../../cmd/reconalign").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("building the CLI: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// Whole alignments in a child process: the direct and the dual route, with
// the child's peak memory; without a binary to run, a skip that says so.
func TestEndToEndChildProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("peak memory comes from getrusage")
	}
	p := Plan{Name: "tiny-e2e", Policy: quickPolicy, GemmN: 32,
		EndToEnd: []string{"n=120,h=4,w=4,c=3,classes=3,seed=5", "n=20,h=4,w=4,c=3,classes=3,seed=5"}}
	rep, err := bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := statusOf(t, rep, "e2e/gonum/n=120,h=4,w=4,c=3,classes=3,seed=5"); r.Status != report.StatusSkip || !strings.Contains(r.Reason, "Executable") {
		t.Fatalf("no executable: %s %q", r.Status, r.Reason)
	}
	rep, err = bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum"}, Executable: reconalignBinary(t), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for spec, route := range map[string]string{"n=120,h=4,w=4,c=3,classes=3,seed=5": "direct", "n=20,h=4,w=4,c=3,classes=3,seed=5": "dual"} {
		r := statusOf(t, rep, "e2e/gonum/"+spec)
		if r.Status != report.StatusOK {
			t.Fatalf("%s: %s %s", r.Name, r.Status, r.Reason)
		}
		// A Go binary's resident set is at least a few MB.
		if r.PeakRSSBytes < 1<<20 || !strings.HasPrefix(fmt.Sprint(r.Outcome["route"]), route+"/") || r.CPUSeconds <= 0 {
			t.Errorf("%s: peak %d bytes, route %v, %g CPU seconds", r.Name, r.PeakRSSBytes, r.Outcome["route"], r.CPUSeconds)
		}
	}
	if md := report.Markdown(rep, "."); !strings.Contains(md, "### End to end in a child process") || !strings.Contains(md, " MB |") {
		t.Errorf("markdown lacks the end-to-end table:\n%s", md)
	}
}

// fakeMomentsFile writes a moments file of n rows (arrays of the documented
// keys, xtx's first entry set to first) as a zip of .npy members.
func fakeMomentsFile(t *testing.T, path string, n int, first float64) {
	t.Helper()
	dir := t.TempDir()
	arrays := map[string]any{"xtx": []float64{first, 2, 2, 5}, "ytx": []float64{1, 2}, "yty": []float64{3}, "sum_x": []float64{4, 5},
		"sum_y": []float64{6}, "n": []int64{int64(n)}, "meta": []uint8("{}")}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	for k, v := range arrays {
		p := filepath.Join(dir, k+".npy")
		if err := data.WriteNPY(p, v, nil); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		w, _ := z.Create(k + ".npy")
		w.Write(b)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// fakeCommand writes an executable script that copies src to the file
// after --out (and succeeds with nothing to do, as for --help).
func fakeCommand(t *testing.T, path, src string) {
	t.Helper()
	script := fmt.Sprintf("#!/bin/sh\nout=\"\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --out ]; then out=\"$2\"; fi\n  shift\ndone\n[ -z \"$out\" ] || cp %q \"$out\"\n", src)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// The moments file against the Beam pipeline, with stand-ins for both
// commands: shards written, both timed, the pipeline compared with the
// single process, and a pipeline whose moments differ fails; without the
// commands, skips that say what to build.
func TestMomentsFileFamily(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh for the stand-in commands")
	}
	set := ShardSet{Source: "n=100,h=4,w=4,c=1,classes=3,seed=1", Shards: 3}
	p := Plan{Name: "tiny-moments", Policy: quickPolicy, GemmN: 32, MomentsFile: []ShardSet{set}}
	subject, beam := "moments/gonum/synthetic-100x16-3shards", "moments/beam_prism/synthetic-100x16-3shards"

	bin := t.TempDir()
	// A reconalign without the command, and no pipeline next to it.
	os.WriteFile(filepath.Join(bin, "reconalign"), []byte("#!/bin/sh\necho 'Error: unknown command \"moments\"' >&2\nexit 1\n"), 0o755)
	if _, err := exec.LookPath(beamBinary); err == nil {
		t.Skipf("a %s on PATH would be run", beamBinary)
	}
	rep, err := bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum"}, Executable: filepath.Join(bin, "reconalign"), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if r := statusOf(t, rep, subject); r.Status != report.StatusSkip || !strings.Contains(r.Reason, "no moments command") {
		t.Errorf("no moments command: %s %q", r.Status, r.Reason)
	}
	if r := statusOf(t, rep, beam); r.Status != report.StatusSkip || !strings.Contains(r.Reason, "make beam") {
		t.Errorf("no pipeline: %s %q", r.Status, r.Reason)
	}

	files := t.TempDir()
	good, bad := filepath.Join(files, "good.npz"), filepath.Join(files, "bad.npz")
	fakeMomentsFile(t, good, 100, 1)
	fakeMomentsFile(t, bad, 100, 1.5)
	fakeCommand(t, filepath.Join(bin, "reconalign"), good)
	fakeCommand(t, filepath.Join(bin, beamBinary), good)
	tmp := t.TempDir()
	rep, err = bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum"}, Executable: filepath.Join(bin, "reconalign"), TempDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{subject, beam} {
		if r := statusOf(t, rep, name); r.Status != report.StatusOK {
			t.Fatalf("%s: %s %s", name, r.Status, r.Reason)
		}
	}
	if _, ok := rep.Ratio(subject, beam); !ok {
		t.Errorf("no pipeline/process comparison: %+v", rep.Comparisons)
	}
	found := false
	for _, c := range rep.Claims {
		found = found || (strings.Contains(c.Statement, "reconalign-beam") && c.Status != report.ClaimNotMeasured)
	}
	if !found {
		t.Errorf("no measured pipeline claim: %+v", rep.Claims)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("the run left %v behind", left)
	}

	fakeCommand(t, filepath.Join(bin, beamBinary), bad)
	rep, err = bench.Run(bench.Config{Suite: p.Suite(), Backends: []string{"gonum"}, Executable: filepath.Join(bin, "reconalign"), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if r := statusOf(t, rep, beam); r.Status != report.StatusFail || !strings.Contains(r.Reason, "xtx differs") {
		t.Errorf("different moments: %s %q", r.Status, r.Reason)
	}
}

// Shards hold every row once, in order, with its label.
func TestWriteShards(t *testing.T) {
	src, err := shardSource(nil, ShardSet{Source: "n=50,h=2,w=3,c=1,classes=4,seed=3"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	images, labels, n, err := writeShards(src, dir, 4)
	if err != nil || n != 50 {
		t.Fatalf("%d rows, %v", n, err)
	}
	all, err := data.Open(images, labels, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, gotLabels, err := data.Load(all)
	if err != nil {
		t.Fatal(err)
	}
	want, wantLabels, _ := data.Load(src)
	if string(got.U8) != string(want.U8) || fmt.Sprint(gotLabels) != fmt.Sprint(wantLabels) {
		t.Fatal("the shards do not hold the rows in order")
	}
	if m, _ := filepath.Glob(images); len(m) != 4 {
		t.Errorf("%d shards, want 4", len(m))
	}
}
