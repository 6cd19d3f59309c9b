package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// The binary built as Dataflow and Flink run it — CGO_ENABLED=0, so the
// pure-Go backend with its exact uint8 Gram, no C library — runs a bundle
// as a worker: Prism (in the launcher, the same binary) starts it as a
// process environment, it boots from Prism's provisioning service and
// restarts itself in worker mode, and its moments are those of one pass.
func TestCgoFreeWorkerRunsABundle(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "reconalign-beam")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	n, d := 700, 20
	x := make([]uint8, n*d)
	y := make([]int64, n)
	for i := range x {
		x[i] = uint8(i*31 + i/7)
	}
	for i := range y {
		y[i] = int64(i % 4)
	}
	xp, yp := filepath.Join(dir, "x_00.npy"), filepath.Join(dir, "y_00.npy")
	if err := data.WriteNPY(xp, x, []int{n, d}); err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNPY(yp, y, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.npz")
	cmd := exec.Command(bin, "--data", filepath.Join(dir, "x_*.npy"), "--labels", filepath.Join(dir, "y_*.npy"), "--out", out,
		"--runner=prism", "--environment_type=PROCESS", `--environment_config={"command":"`+bin+`"}`, "--worker_binary="+bin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("reconalign-beam: %v\n%s", err, stderr.String())
	}
	// The worker process says where its group ran.
	if !strings.Contains(stderr.String(), "reconalign-beam: group 0 (x_00.npy, 700 rows) on gonum") {
		t.Errorf("no group ran on the pure-Go backend in the worker:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "N=700 D=20 C=4 (classes) uint8, exact=true") {
		t.Errorf("summary: %q", stdout.String())
	}
	got, _, err := engine.LoadMoments(out)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sumsq float64
	for i, v := range x {
		if i%d == 3 {
			sum += float64(v)
			sumsq += float64(v) * float64(v)
		}
	}
	if got.N != n || got.Sx[3] != sum || got.G.Data[3*d+3] != sumsq {
		t.Errorf("moments from the worker: N=%d Σx₃=%v Σx₃²=%v, want %d %v %v", got.N, got.Sx[3], got.G.Data[3*d+3], n, sum, sumsq)
	}
	// Bad invocations exit 1 with a clear word.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", xp, "--labels", yp, "--out", yp}, "also an input"},
		{[]string{"--labels", yp, "--out", out}, "no data"},
		{[]string{"--data", filepath.Join(dir, "none_*.npy"), "--out", filepath.Join(dir, "o.npz")}, "none_*.npy"},
	} {
		c := exec.Command(bin, tc.args...)
		var eb bytes.Buffer
		c.Stderr = &eb
		err := c.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("%v: %v, want exit status 1", tc.args, err)
		}
		last := strings.TrimSpace(eb.String())
		last = last[strings.LastIndex(last, "\n")+1:]
		if !strings.HasPrefix(last, "reconalign-beam: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: last line %q does not say %q", tc.args, last, tc.want)
		}
	}
}

// On Prism in this process the groups are the passes that run at once,
// each with its share of the cores; elsewhere the flags stay as given.
func TestParallelism(t *testing.T) {
	for _, tc := range []struct {
		groups, threads int
		local           bool
		cores           int
		wantG, wantT    int
	}{
		{0, 0, true, 8, 1, 0},
		{4, 0, true, 8, 4, 2},
		{16, 0, true, 8, 16, 1},
		{0, 2, true, 8, 4, 2},
		{0, 16, true, 8, 1, 16},
		{3, 5, true, 8, 3, 5},
		{0, 0, false, 8, 0, 0},
		{5, 0, false, 8, 5, 0},
	} {
		g, th := parallelism(tc.groups, tc.threads, tc.local, tc.cores)
		if g != tc.wantG || th != tc.wantT {
			t.Errorf("parallelism(groups %d, threads %d, local %v, %d cores) = %d groups of %d threads, want %d of %d",
				tc.groups, tc.threads, tc.local, tc.cores, g, th, tc.wantG, tc.wantT)
		}
	}
}

// Our flags are parsed apart from Beam's, and a log level Beam would die
// on is refused as a flag error.
func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{"--data", "x_*.npy", "--groups", "3", "--runner=prism", "--threads=2", "--log_level", "info", "--environment_type", "LOOPBACK"})
	if err != nil {
		t.Fatal(err)
	}
	if o.opt.Data != "x_*.npy" || o.opt.Groups != 3 || o.opt.Threads != 2 || o.logLevel != "info" {
		t.Errorf("own flags: %+v, log level %q", o.opt, o.logLevel)
	}
	if want := []string{"--runner=prism", "--environment_type", "LOOPBACK"}; strings.Join(o.beamArgs, " ") != strings.Join(want, " ") {
		t.Errorf("Beam's flags: %q, want %q", o.beamArgs, want)
	}
	o, _ = parseArgs(nil)
	if o.logLevel != "warn" {
		t.Errorf("default log level %q, want warn (Prism logs every step at info)", o.logLevel)
	}
	var sink bytes.Buffer
	if _, err := parseArgsTo([]string{"--log_level=loud"}, &sink); err == nil || !strings.Contains(sink.String(), "loud") {
		t.Errorf("--log_level=loud: %v, %q", err, sink.String())
	}
}
