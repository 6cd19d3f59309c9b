package hw

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
)

func TestCPU(t *testing.T) {
	c := CPU()
	if c.Model == "" {
		t.Error("empty CPU model")
	}
	if c.PhysicalCores < 1 || c.LogicalCores < c.PhysicalCores {
		t.Errorf("cores: %d physical, %d logical", c.PhysicalCores, c.LogicalCores)
	}
	if runtime.GOARCH == "amd64" && (len(c.Features) == 0 || c.Features[0] != "SSE2") {
		t.Errorf("every amd64 CPU has SSE2; features = %v", c.Features)
	}
	if runtime.GOOS == "linux" {
		// More than 64 MiB and no more than 64 TiB, and available ≤ total.
		if c.MemoryTotal < 64<<20 || c.MemoryTotal > 64<<40 || c.MemoryAvailable > c.MemoryTotal || c.MemoryError != "" {
			t.Errorf("memory: total %d, available %d, error %q", c.MemoryTotal, c.MemoryAvailable, c.MemoryError)
		}
	}
}

func TestMemInfo(t *testing.T) {
	total, avail, err := MemInfo("testdata/meminfo")
	if err != nil || total != 24573952*1024 || avail != 20000000*1024 {
		t.Errorf("MemInfo = %d, %d, %v", total, avail, err)
	}
	if _, _, err := MemInfo("testdata/meminfo_bad"); err == nil || !strings.Contains(err.Error(), `"MemTotal:       lots kB"`) {
		t.Errorf("bad meminfo: %v", err)
	}
	if _, _, err := MemInfo("testdata/missing"); err == nil {
		t.Error("missing meminfo: no error")
	}
}

func TestGPUsWithoutDriver(t *testing.T) {
	gpus, err := GPUs()
	if err == nil {
		for _, g := range gpus {
			if g.Name == "" || g.MemoryTotal == 0 || !strings.Contains(g.ComputeCapability, ".") {
				t.Errorf("implausible GPU %+v", g)
			}
		}
		t.Skipf("an NVIDIA driver is present (%d GPUs): nothing to check about its absence", len(gpus))
	}
	if !errors.Is(err, ErrNoDriver) || !strings.HasPrefix(err.Error(), "no NVIDIA driver: ") {
		t.Errorf("GPUs() error = %q, want one starting %q and matching ErrNoDriver", err, "no NVIDIA driver: ")
	}
	if runtime.GOOS == "linux" && !strings.Contains(err.Error(), "libnvidia-ml.so.1") && !strings.Contains(err.Error(), "cgo") {
		t.Errorf("GPUs() error does not say what is missing: %v", err)
	}
}

func TestCUDAVersion(t *testing.T) {
	for v, want := range map[int]string{13000: "13.0", 12080: "12.8", 11020: "11.2"} {
		if got := CUDAVersion(v); got != want {
			t.Errorf("CUDAVersion(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestReport(t *testing.T) {
	r := Collect()
	r.Backends = []backend.Status{
		{Name: "cuda", Reason: "backend unavailable: cuda: no GPU"},
		{Name: "gonum", Available: true, Info: &backend.Info{Name: "gonum", Device: "cpu", Precision: "float64", Library: "gonum"}},
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cpu ", r.CPU.Model, "backend cuda", "unavailable: backend unavailable: cuda: no GPU", "backend gonum", "available: cpu"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if len(r.GPUs) == 0 && !strings.Contains(text.String(), "gpu  ") && !strings.Contains(text.String(), "none (") {
		t.Errorf("text report does not say why there is no GPU:\n%s", text.String())
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"cpu", "gpus", "backends", "host", "time"} {
		if _, ok := back[key]; !ok {
			t.Errorf("JSON report lacks %q: %s", key, js)
		}
	}
	if gpus, ok := back["gpus"].([]any); !ok || (len(r.GPUs) == 0 && len(gpus) != 0) {
		t.Errorf("JSON gpus = %v, want a list", back["gpus"])
	}
}
