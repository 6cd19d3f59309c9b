// Package hw describes the machine a run happens on: the CPU (model, cores,
// the SIMD features that matter for dense linear algebra, memory) and the
// NVIDIA GPUs the driver reports. Its Report is what `reconalign devices`
// prints and what heads every benchmark, so that timings always say which
// hardware produced them.
package hw

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/reconalign/reconalign/backend"
)

// CPUInfo describes the host processor and memory.
type CPUInfo struct {
	Model          string   `json:"model"`
	Vendor         string   `json:"vendor"`
	PhysicalCores  int      `json:"physical_cores"`
	LogicalCores   int      `json:"logical_cores"`
	ThreadsPerCore int      `json:"threads_per_core"`
	Features       []string `json:"features"` // the features of interest that the CPU supports
	// MemoryTotal and MemoryAvailable are bytes, from /proc/meminfo; 0 when unknown.
	MemoryTotal     uint64 `json:"memory_total_bytes"`
	MemoryAvailable uint64 `json:"memory_available_bytes"`
	MemoryError     string `json:"memory_error,omitempty"`
}

// GPUInfo describes one NVIDIA GPU as the driver (NVML) reports it.
type GPUInfo struct {
	Index             int    `json:"index"`
	Name              string `json:"name"`
	UUID              string `json:"uuid,omitempty"`
	MemoryTotal       uint64 `json:"memory_total_bytes"`
	MemoryFree        uint64 `json:"memory_free_bytes"`
	ComputeCapability string `json:"compute_capability"`  // e.g. "9.0"
	DriverVersion     string `json:"driver_version"`      // e.g. "580.159.04"
	CUDADriverVersion string `json:"cuda_driver_version"` // newest CUDA the driver supports, e.g. "13.0"
}

// Report is everything known about the machine, for `reconalign devices` and
// benchmark headers. Backends is filled by the caller (backend.Available opens
// each implementation, which the CLI decides to do or not).
type Report struct {
	Time      time.Time        `json:"time"`
	Host      string           `json:"host"`
	OS        string           `json:"os"`
	Arch      string           `json:"arch"`
	GoVersion string           `json:"go_version"`
	CPU       CPUInfo          `json:"cpu"`
	GPUs      []GPUInfo        `json:"gpus"`
	GPUError  string           `json:"gpu_error,omitempty"` // why no GPU is listed
	Backends  []backend.Status `json:"backends,omitempty"`
}

// interesting are the CPU features that decide which kernels BLAS libraries
// and Go assembly can use, in the order they are printed.
var interesting = []cpuid.FeatureID{
	cpuid.SSE2, cpuid.SSE42, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.F16C,
	cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512VNNI, cpuid.AVX512BF16,
	cpuid.AVX512FP16, cpuid.AVXVNNI, cpuid.AMXBF16, cpuid.AMXINT8, cpuid.AMXFP16,
	cpuid.ASIMD, cpuid.SVE,
}

// CPU describes the host processor. Core counts fall back to the Go runtime's
// view when cpuid cannot tell (some virtual machines hide the topology).
func CPU() CPUInfo {
	c := cpuid.CPU
	info := CPUInfo{
		Model:          strings.TrimSpace(c.BrandName),
		Vendor:         c.VendorString,
		PhysicalCores:  c.PhysicalCores,
		LogicalCores:   c.LogicalCores,
		ThreadsPerCore: c.ThreadsPerCore,
		Features:       []string{},
	}
	if info.LogicalCores <= 0 {
		info.LogicalCores = runtime.NumCPU()
	}
	if info.ThreadsPerCore <= 0 {
		info.ThreadsPerCore = 1
	}
	if info.PhysicalCores <= 0 {
		info.PhysicalCores = max(1, info.LogicalCores/info.ThreadsPerCore)
	}
	if info.Model == "" {
		info.Model = "unknown " + runtime.GOARCH + " CPU"
	}
	for _, f := range interesting {
		if c.Supports(f) {
			info.Features = append(info.Features, f.String())
		}
	}
	total, avail, err := MemInfo("/proc/meminfo")
	info.MemoryTotal, info.MemoryAvailable = total, avail
	if err != nil {
		info.MemoryError = err.Error()
	}
	return info
}

// MemInfo reads MemTotal and MemAvailable (bytes) from a file in the format of
// Linux's /proc/meminfo.
func MemInfo(path string) (total, available uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("reading memory size: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "MemTotal" && key != "MemAvailable") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, 0, fmt.Errorf("%s: line %q: want \"%s: <number> kB\"", path, sc.Text(), key)
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: line %q: %v", path, sc.Text(), err)
		}
		if key == "MemTotal" {
			total = v * 1024
		} else {
			available = v * 1024
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	if total == 0 {
		return 0, 0, fmt.Errorf("%s has no MemTotal line", path)
	}
	return total, available, nil
}

// Collect describes this machine: host, CPU and GPUs (the reason is recorded
// when there are none). Backends is left empty.
func Collect() Report {
	host, _ := os.Hostname()
	r := Report{
		Time:      time.Now().UTC(),
		Host:      host,
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		GoVersion: runtime.Version(),
		CPU:       CPU(),
		GPUs:      []GPUInfo{},
	}
	gpus, err := GPUs()
	if err != nil {
		r.GPUError = err.Error()
	} else {
		r.GPUs = gpus
	}
	return r
}

// WriteText prints the report for people: one line per fact, one per GPU and
// one per backend.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "host\t%s (%s/%s, %s)\n", r.Host, r.OS, r.Arch, r.GoVersion)
	c := r.CPU
	fmt.Fprintf(tw, "cpu\t%s: %d cores, %d threads\n", c.Model, c.PhysicalCores, c.LogicalCores)
	fmt.Fprintf(tw, "cpu features\t%s\n", strings.Join(c.Features, " "))
	if c.MemoryError != "" {
		fmt.Fprintf(tw, "memory\tunknown (%s)\n", c.MemoryError)
	} else {
		fmt.Fprintf(tw, "memory\t%s total, %s available\n", GiB(c.MemoryTotal), GiB(c.MemoryAvailable))
	}
	if len(r.GPUs) == 0 {
		reason := r.GPUError
		if reason == "" {
			reason = "none found"
		}
		fmt.Fprintf(tw, "gpu\tnone (%s)\n", reason)
	}
	for _, g := range r.GPUs {
		fmt.Fprintf(tw, "gpu %d\t%s, compute capability %s, %s total, %s free, driver %s (CUDA %s)\n",
			g.Index, g.Name, g.ComputeCapability, GiB(g.MemoryTotal), GiB(g.MemoryFree), g.DriverVersion, g.CUDADriverVersion)
	}
	for _, b := range r.Backends {
		if b.Available && b.Info != nil {
			fmt.Fprintf(tw, "backend %s\tavailable: %s, %s, %s\n", b.Name, b.Info.Device, b.Info.Precision, b.Info.Library)
		} else {
			fmt.Fprintf(tw, "backend %s\tunavailable: %s\n", b.Name, b.Reason)
		}
	}
	return tw.Flush()
}

// GiB formats a byte count in binary gigabytes.
func GiB(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// CUDAVersion formats a CUDA version number (1000·major + 10·minor, as NVML
// and the CUDA runtime report it) as "major.minor".
func CUDAVersion(v int) string { return fmt.Sprintf("%d.%d", v/1000, v%1000/10) }
