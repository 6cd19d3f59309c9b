package bench

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/hw"
)

// DescribeMachine gathers the hardware facts of the report header from the
// repository's hw package: the CPU through klauspost/cpuid, memory from
// /proc/meminfo, GPUs through NVML (go-nvml).
func DescribeMachine() report.Machine {
	c := hw.CPU()
	m := report.Machine{
		CPUModel:      c.Model,
		CPUVendor:     c.Vendor,
		PhysicalCores: c.PhysicalCores,
		LogicalCores:  c.LogicalCores,
		GoMaxProcs:    runtime.GOMAXPROCS(0),
		CPUFeatures:   c.Features,
		MemoryBytes:   c.MemoryTotal,
		OS:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		GPUs:          []report.GPU{}, // an empty list, not null, in the JSON
		Source:        "package hw (klauspost/cpuid, /proc/meminfo, NVML)",
	}
	for _, f := range c.Features {
		switch f {
		case "AVX2":
			m.Features.AVX2 = true
		case "AVX512F":
			m.Features.AVX512F = true
		case "FMA3":
			m.Features.FMA = true
		}
	}
	if hz := cpuid.CPU.Hz; hz > 0 {
		m.CPUMHz = float64(hz) / 1e6
	}
	gpus, err := hw.GPUs()
	switch {
	case err != nil:
		m.GPUNote = "none: " + err.Error()
	case len(gpus) == 0:
		m.GPUNote = "none: the NVIDIA driver lists no GPU"
	}
	for _, g := range gpus {
		m.GPUs = append(m.GPUs, report.GPU{Name: g.Name, MemoryBytes: g.MemoryTotal, Driver: g.DriverVersion,
			ComputeCapability: g.ComputeCapability, CUDA: g.CUDADriverVersion})
	}
	return m
}

// envPrefixes name the variables that change how BLAS libraries and the Go
// runtime use the machine.
var envPrefixes = []string{"OPENBLAS_", "OMP_", "GOTO", "MKL_", "BLIS_", "GOMAXPROCS", "GOGC", "GODEBUG", "CUDA_VISIBLE_DEVICES"}

// blasEnv returns the environment variables that steer BLAS threading and
// kernels. The NumPy references inherit exactly this environment.
func blasEnv() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		for _, p := range envPrefixes {
			if strings.HasPrefix(k, p) {
				out[k] = v
			}
		}
	}
	return out
}

// buildCommit returns the commit this binary was built from and whether the
// tree had uncommitted changes, from the Go build info, else from git in the
// current directory.
func buildCommit() (string, bool) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			return rev[:min(len(rev), 12)], dirty
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (not built from a git checkout)", false
	}
	status, _ := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(out)), len(strings.TrimSpace(string(status))) > 0
}

// describeSoftware records the Go side and the environment; backends and
// Python are filled in by the run.
func describeSoftware() report.Software {
	commit, dirty := buildCommit()
	return report.Software{GoVersion: runtime.Version(), Commit: commit, Dirty: dirty, Env: blasEnv(), Gunzip: data.Gunzip()}
}
