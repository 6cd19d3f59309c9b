package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/internal/atomicfile"
)

// SchemaVersion is the version of the JSON report. It changes only when a
// field is removed or changes meaning; adding a field keeps it.
const SchemaVersion = 1

// Report is one run of a suite: the machine, the software, every
// scenario's result and what was derived from them. Its JSON form is the
// schema documented in the package comment.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	Suite         string    `json:"suite"`
	Command       string    `json:"command"`
	Started       time.Time `json:"started"`
	Seconds       float64   `json:"seconds"`
	Timing        Timing    `json:"timing"`
	Machine       Machine   `json:"machine"`
	Software      Software  `json:"software"`
	// Ceilings maps a backend name to its measured machine ceiling.
	Ceilings map[string]Ceiling `json:"ceilings"`
	Results  []Result           `json:"results"`
	// Fits are the log-log exponents of the scaling series.
	Fits []Fit `json:"fits"`
	// Routes compares the direct and dual fast_gram_eigh routes per shape.
	Routes []RouteChoice `json:"routes"`
	// Comparisons are ratios of two results of this run (speedups).
	Comparisons []Comparison `json:"comparisons"`
	// Claims are the project's speed claims checked against this run.
	Claims []Claim `json:"claims"`
	// Plots are the image files this run wrote.
	Plots []string `json:"plots,omitempty"`
	// Failures counts results whose status is "fail".
	Failures int `json:"failures"`
}

// Timing is the suite's timing policy (bench.Policy).
type Timing struct {
	Warmup      int     `json:"warmup"`
	MinRepeats  int     `json:"min_repeats"`
	MaxRepeats  int     `json:"max_repeats"`
	BudgetS     float64 `json:"budget_s"`
	MaxScenario float64 `json:"max_scenario_s"`
	// SingleRunAbove: a checked run at least this long is the scenario's
	// only timed run (0: never).
	SingleRunAbove float64 `json:"single_run_above_s,omitempty"`
}

// Machine is the hardware the run measured.
type Machine struct {
	CPUModel      string   `json:"cpu_model"`
	CPUVendor     string   `json:"cpu_vendor"`
	PhysicalCores int      `json:"physical_cores"`
	LogicalCores  int      `json:"logical_cores"`
	GoMaxProcs    int      `json:"gomaxprocs"`
	Features      Features `json:"features"`
	// CPUFeatures lists every SIMD extension of interest the CPU has.
	CPUFeatures []string `json:"cpu_features"`
	CPUMHz      float64  `json:"cpu_mhz,omitempty"`
	MemoryBytes uint64   `json:"memory_bytes"`
	GPUs        []GPU    `json:"gpus"`
	// GPUNote says why no GPU is listed, or where the GPU facts came from.
	GPUNote string `json:"gpu_note,omitempty"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	// Source says which code discovered these facts.
	Source string `json:"source"`
}

// Features are the CPU vector extensions that matter for dense linear algebra.
type Features struct {
	AVX2    bool `json:"avx2"`
	AVX512F bool `json:"avx512f"`
	FMA     bool `json:"fma"`
}

// GPU describes one accelerator.
type GPU struct {
	Name              string `json:"name"`
	MemoryBytes       uint64 `json:"memory_bytes"`
	Driver            string `json:"driver"`
	ComputeCapability string `json:"compute_capability"`
	// CUDA is the newest CUDA version the driver supports.
	CUDA string `json:"cuda,omitempty"`
}

// Software is what ran: the Go side, each backend, the Python references
// and the environment variables that steer BLAS threading.
type Software struct {
	GoVersion string           `json:"go_version"`
	Commit    string           `json:"commit"`
	Dirty     bool             `json:"dirty"`
	Backends  []backend.Status `json:"backends"`
	// Gunzip says how the engine inflates gzip files (the NumPy side uses
	// Python's zlib).
	Gunzip string  `json:"gunzip"`
	Python *Python `json:"python"`
	// Env holds the variables that change BLAS behaviour (OPENBLAS_*,
	// OMP_*, GOMAXPROCS, ...) as they were for both the Go and the Python
	// side; both run with the same environment.
	Env map[string]string `json:"env"`
}

// Python is the NumPy reference side of the run.
type Python struct {
	Available  bool   `json:"available"`
	Reason     string `json:"reason,omitempty"` // why not, when unavailable
	Executable string `json:"executable"`
	Script     string `json:"script,omitempty"`
	Version    string `json:"version,omitempty"`
	NumPy      string `json:"numpy,omitempty"`
	SciKit     string `json:"sklearn,omitempty"`
	// BLAS is NumPy's BLAS as threadpoolctl reports it (library, version,
	// threading layer, architecture, threads).
	BLAS string `json:"blas,omitempty"`
}

// Ceiling is the fastest sustained rate one backend reached on a large
// square GEMM in this run: the denominator of every fraction of ceiling.
type Ceiling struct {
	Scenario string  `json:"scenario"`
	GFlops   float64 `json:"gflops"`
}

// Status is the outcome of one scenario.
type Status string

const (
	StatusOK   Status = "ok"   // checked, then timed
	StatusFail Status = "fail" // the result was wrong, or the run errored: no timing is reported
	StatusSkip Status = "skip" // not run here; Reason says why
)

// Result is one scenario's outcome.
type Result struct {
	Name    string         `json:"name"`
	Group   string         `json:"group"`
	Backend string         `json:"backend,omitempty"`
	Device  string         `json:"device,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	Status  Status         `json:"status"`
	Reason  string         `json:"reason,omitempty"`
	// Check says what the result was compared with before timing.
	Check string `json:"check,omitempty"`
	// Flops and Bytes are the model counts of the operation (not of the
	// algorithm's extra work); FlopModel says how they were counted.
	Flops     float64 `json:"flops"`
	Bytes     float64 `json:"bytes"`
	FlopModel string  `json:"flop_model,omitempty"`
	Warmup    int     `json:"warmup"`
	Repeats   int     `json:"repeats"`
	// Samples are the wall-clock seconds of each timed repeat.
	Samples []float64 `json:"samples,omitempty"`
	Seconds *Summary  `json:"seconds,omitempty"`
	// CPUSeconds is the median process CPU time per repeat (all threads);
	// CPUSeconds/Seconds.Median is how many cores were busy.
	CPUSeconds      float64 `json:"cpu_seconds,omitempty"`
	GFlops          float64 `json:"gflops,omitempty"`
	GBytesPerSecond float64 `json:"gbytes_per_s,omitempty"`
	CeilingFraction float64 `json:"ceiling_fraction,omitempty"`
	// Outcome holds facts about the answer shown next to its timing (the
	// route the engine chose, the rank it found).
	Outcome map[string]any `json:"outcome,omitempty"`
	// Measured says who held the stopwatch: "go" or "python" (the NumPy
	// references time themselves, interpreter start-up excluded).
	Measured string `json:"measured,omitempty"`
	// PeakRSSBytes is the largest peak resident memory of the process that
	// did the work, over the runs: set by scenarios that run it as a child
	// process, so the number is that process's alone.
	PeakRSSBytes uint64 `json:"peak_rss_bytes,omitempty"`
}

// Summary is the spread of the timed repeats, in seconds.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Q1     float64 `json:"q1"`
	Q3     float64 `json:"q3"`
}

// Fit is a least-squares line through log(seconds) against log(size) for
// one scaling series on one backend.
type Fit struct {
	Series   string       `json:"series"`
	Backend  string       `json:"backend"`
	Variable string       `json:"variable"` // "N" or "D"
	Exponent float64      `json:"exponent"`
	Expected float64      `json:"expected"`
	Points   [][2]float64 `json:"points"` // (size, median seconds)
}

// RouteChoice is one shape of the fast_gram_eigh comparison.
type RouteChoice struct {
	Backend string  `json:"backend"`
	N       int     `json:"n"`
	D       int     `json:"d"`
	Direct  float64 `json:"direct_s"`
	Dual    float64 `json:"dual_s"`
	Winner  string  `json:"winner"`
	Auto    string  `json:"auto"` // the route engine.GramEigh chose
	// Agrees is "yes" when auto picked the winner, "tie" when the two routes
	// are within TieFraction of each other, their min–max ranges overlap, or
	// the engine's own run was within TieFraction of the faster route, else
	// "no".
	Agrees string `json:"agrees"`
}

// Comparison is the ratio of two results' median times: Ratio > 1 means
// Subject was faster than Reference by that factor.
type Comparison struct {
	Subject   string  `json:"subject"`
	Reference string  `json:"reference"`
	Ratio     float64 `json:"ratio"`
}

// Size is the result's place on its scaling series (params "size"), or 0.
func (r Result) Size() float64 {
	switch v := r.Params["size"].(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// OK reports whether r was checked and timed.
func (r Result) OK() bool { return r.Status == StatusOK && r.Seconds != nil && r.Seconds.Median > 0 }

// Line is the one-line progress note of a result.
func (r Result) Line() string {
	switch r.Status {
	case StatusSkip:
		return fmt.Sprintf("skip  %-52s %s", r.Name, r.Reason)
	case StatusFail:
		return fmt.Sprintf("FAIL  %-52s %s", r.Name, r.Reason)
	}
	s := fmt.Sprintf("ok    %-52s %9s  [%s … %s] ×%d", r.Name, fmtSeconds(r.Seconds.Median), fmtSeconds(r.Seconds.Min), fmtSeconds(r.Seconds.Max), r.Repeats)
	if r.GFlops > 0 {
		s += fmt.Sprintf("  %7.1f GFLOP/s", r.GFlops)
	}
	if r.CeilingFraction > 0 {
		s += fmt.Sprintf("  %3.0f%% of ceiling", 100*r.CeilingFraction)
	}
	if r.PeakRSSBytes > 0 {
		s += "  peak " + fmtBytes(r.PeakRSSBytes)
	}
	return s
}

// fmtSeconds prints a duration with three significant digits.
func fmtSeconds(s float64) string {
	switch {
	case s >= 100:
		return fmt.Sprintf("%.0f s", s)
	case s >= 1:
		return fmt.Sprintf("%.3g s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3g ms", s*1e3)
	default:
		return fmt.Sprintf("%.3g µs", s*1e6)
	}
}

// fmtBytes prints a memory size in GB or MB (10⁹, 10⁶ bytes: the units
// of the project's memory goals).
func fmtBytes(b uint64) string {
	if b >= 1e9 {
		return fmt.Sprintf("%.2f GB", float64(b)/1e9)
	}
	return fmt.Sprintf("%.0f MB", float64(b)/1e6)
}

// Find returns the result with the given name, or nil.
func (r *Report) Find(name string) *Result {
	for i := range r.Results {
		if r.Results[i].Name == name {
			return &r.Results[i]
		}
	}
	return nil
}

// WriteJSON writes the report, indented, creating the directory.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	return writeFile(path, append(b, '\n'))
}

// ReadJSON reads a report written by WriteJSON, refusing other schema versions.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a bench report: %w", path, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d, this build reads %d", path, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// writeFile writes path whole or leaves it as it was (a reader never sees
// half a report or half a markdown file), creating its directory.
func writeFile(path string, b []byte) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
