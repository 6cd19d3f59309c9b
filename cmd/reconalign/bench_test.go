package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A minimal bench run through the CLI: one ceiling, no NumPy, both outputs.
func TestBenchWritesJSONAndMarkdown(t *testing.T) {
	dir := t.TempDir()
	js, md := filepath.Join(dir, "b.json"), filepath.Join(dir, "BENCHMARKS.md")
	_, stderr, ok := run(t, "bench", "--suite", "quick", "--backend", "gonum", "--only", "^gemm/", "--python", "",
		"--json", js, "--markdown", md)
	if !ok {
		t.Fatalf("bench failed:\n%s", stderr)
	}
	var rep struct {
		SchemaVersion int    `json:"schema_version"`
		Command       string `json:"command"`
		Failures      int    `json:"failures"`
		Results       []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"results"`
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.SchemaVersion != 1 || rep.Failures != 0 || len(rep.Results) != 1 || rep.Results[0].Name != "gemm/gonum/n=512" || rep.Results[0].Status != "ok" {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(rep.Command, "bench --suite quick --backend gonum --only '^gemm/'") {
		t.Errorf("command line recorded as %q", rep.Command)
	}
	m, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(m), "<!-- reconalign-bench:begin quick-") || !strings.Contains(string(m), "| gonum | 512 |") {
		t.Fatalf("markdown:\n%s %v", m, err)
	}
}

// A report that cannot be written whole is not written at all: the file-size
// limit stops it part-way, the error names the report (not a temporary
// file), and what was there before is left as it was.
func TestBenchFailingWriteLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(md, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range [][2]string{{"--json", filepath.Join(dir, "b.json")}, {"--markdown", md}} {
		stderr, ok := runLimited(t, 1, "bench", "--suite", "quick", "--backend", "gonum", "--only", "^gemm/", "--python", "", out[0], out[1], "-q")
		if ok || !strings.Contains(stderr, filepath.Base(out[1])) || strings.Contains(stderr, ".tmp") {
			t.Errorf("%s: ok=%v, stderr %q (want the report's name, not a temporary one)", out[0], ok, stderr)
		}
	}
	if got := entries(t, dir); len(got) != 1 || got[0] != "BENCHMARKS.md" {
		t.Errorf("failed runs left %v", got)
	}
	if b, _ := os.ReadFile(md); string(b) != "keep me" {
		t.Errorf("the markdown file was changed by a failed run: %q", b)
	}
}

// Backquotes in a flag's usage name its value in the help: --json takes a
// file, not "go doc ./bench/report".
func TestBenchHelpNamesValues(t *testing.T) {
	out, _, ok := run(t, "bench", "--help")
	if !ok || !strings.Contains(out, "--json string") {
		t.Errorf("bench --help:\n%s", out)
	}
}

func TestBenchBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--suite", "huge"}, "unknown suite"},
		{[]string{"bench", "quick"}, "takes no positional arguments"},
		{[]string{"bench", "--backend", "nosuch"}, "unknown backend"},
		{[]string{"bench", "--only", "("}, "--only"},
		{[]string{"bench", "--only", "no-such-scenario", "--python", ""}, "no scenario matches"},
	} {
		_, stderr, ok := run(t, c.args...)
		if ok || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: ok=%v, stderr %q, want an error mentioning %q", c.args, ok, stderr, c.want)
		}
	}
	out, _, ok := run(t, "bench", "--suite", "standard", "--list")
	if !ok || !strings.Contains(out, "align/gonum/fmnist-train") || !strings.Contains(out, "fast_gram_eigh/gonum/auto/") {
		t.Errorf("--list:\n%s", out)
	}
}

// The large suite lists the open goals' scenarios; the eigen phase's
// projection route (package spectral) is plugged in, not skipped.
func TestBenchLargeSuiteList(t *testing.T) {
	out, stderr, ok := run(t, "bench", "--suite", "large", "--backend", "gonum", "--list")
	if !ok {
		t.Fatalf("--list:\n%s", stderr)
	}
	for _, want := range []string{"gemm/gonum/n=1536", "eigen_phase/gonum/vectors/D=12288,C=1000",
		"eigen_phase/gonum/projection/D=4096,C=10\n",
		"align/gonum/synthetic-8192x4096", "align/numpy_moments/synthetic-8192x4096",
		"e2e/gonum/imagenet224,n=3000", "e2e/gonum/imagenet64,n=50000",
		"moments/gonum/fmnist-train-12shards", "moments/beam_prism/synthetic-327680x3072-16shards"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "projection route is not built") {
		t.Errorf("--list still skips the projection route:\n%s", out)
	}
}
