package bench

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench/pyref"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/data"
)

// Scenario is one registered measurement: what it computes, how much work
// that is, how to prepare it and how to know its answer is right.
type Scenario struct {
	// Name is unique within a run, e.g. "gram/openblas/u8/N=60000,D=784".
	Name string
	// Group is the table the result belongs to (report.GroupGram, ...).
	Group string
	// Backend is the registry name the scenario runs on; empty for the
	// references (NumPy, an external program).
	Backend string
	Params  map[string]any
	// Flops and Bytes are the model counts of the operation; FlopModel
	// says how they were counted.
	Flops, Bytes float64
	FlopModel    string
	// Check describes the reference the result is compared with.
	Check string
	// Ceiling marks the large GEMM whose rate is this backend's ceiling.
	Ceiling bool
	// Series, Size and Exponent place the scenario on a scaling curve: the
	// runner skips it when the largest measured point of the same series and
	// backend, extrapolated with Exponent, says it would exceed the policy's
	// per-scenario limit.
	Series   string
	Size     float64
	Exponent float64
	// RateFrom names a group whose best measured rate on the same backend
	// predicts this scenario's (eigendecomposition-bound work is far below
	// the GEMM ceiling); empty: the best rate the backend has shown, the
	// ceiling included.
	RateFrom string
	// Parts, when set, replace Flops and RateFrom in that estimate for work
	// of several kinds (a Gram at the Gram's rate, then an
	// eigendecomposition at eigh's): the estimate is the sum of the parts.
	Parts []Part
	// Skip, when set, is why the scenario cannot run in this build.
	Skip string
	// Setup prepares the inputs (untimed). be is nil for references.
	// An error wrapping ErrSkip records a skip with its message.
	Setup func(env *Env, be backend.Backend) (*Case, error)

	// Python is the request of a NumPy reference (set by Reference).
	Python pyref.Task
	// Prepare writes what a NumPy reference reads (a data file); it runs
	// before the one invocation of the references.
	Prepare func(*Env) error
}

// Part is a share of a scenario's work and the group whose measured rate
// predicts its time.
type Part struct {
	Flops    float64
	RateFrom string
}

// Case is a prepared scenario.
type Case struct {
	// Run is the timed operation; it must be repeatable and leave its
	// result where Check finds it.
	Run func() error
	// Check compares the result of the latest Run with the scenario's
	// reference. It is called after the first warm-up run, before any
	// timing, and again after the last timed run.
	Check func() error
	// Close releases what Setup allocated (may be nil).
	Close func()
	// External, when set, holds timings measured by another process (the
	// NumPy references); Run is then not called and Check judges the
	// external result.
	External *External
	// Outcome collects facts about the answer (route chosen, rank) that the
	// report shows next to the timing; Run or Check fill it.
	Outcome map[string]any
	// Flops, when Check leaves it positive, replaces the scenario's model
	// count (for operations whose work depends on a choice made at run time).
	Flops float64
	// PeakRSSBytes, when Run leaves it positive, is reported as the peak
	// memory of the work (scenarios that run it in a child process keep the
	// largest over their runs).
	PeakRSSBytes uint64
}

// External are timings measured outside this process.
type External struct {
	Samples    []float64
	CPUSeconds []float64
	Warmup     int
}

// ErrSkip marks a scenario that cannot run here; the message says why.
var ErrSkip = errors.New("skipped")

// Skipf returns an error wrapping ErrSkip with a reason.
func Skipf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSkip, fmt.Sprintf(format, args...))
}

// Config selects what a run measures and where its side outputs go.
type Config struct {
	// Suite is what to run (bench/scenario.SuiteFor gives reconalign's).
	Suite Suite
	// Backends are registry names; empty means every registered backend
	// (unavailable ones are reported with their reason).
	Backends []string
	Threads  int
	// Python is the interpreter of the NumPy references ("" disables them)
	// and Script the path of scripts/bench_reference.py ("" searches for it).
	Python string
	Script string
	// FashionMNISTDir holds Debian's Fashion-MNIST files ("" for the default).
	FashionMNISTDir string
	// Only, when set, keeps the scenarios whose name matches (each kept
	// backend's ceiling GEMM always runs).
	Only *regexp.Regexp
	// PlotPath is where the scaling PNG goes ("" for none).
	PlotPath string
	// Command is recorded in the report as the exact command line.
	Command string
	// TempDir holds files the scenarios and references read (synthetic
	// data, shards); "" uses the system's.
	TempDir string
	// Executable is the reconalign binary that scenarios running a whole
	// command in a child process start (the CLI gives its own); "" skips
	// them.
	Executable string
	// Logf receives one line per scenario (nil: silent).
	Logf func(format string, args ...any)
}

// Env is what scenarios share during one run: opened backends, loaded data,
// the NumPy references' output and the results so far.
type Env struct {
	Config Config
	Policy Policy

	backends map[string]backend.Backend
	openErr  map[string]error
	results  []report.Result
	ceilings map[string]report.Ceiling
	cache    map[string]any
	python   *pythonRun
	pyTasks  []pyref.Task
	pyPrep   []func(*Env) error
	cleanup  []func()
}

// Cached returns the value stored under key, computing it with make once.
func (e *Env) Cached(key string, make func() (any, error)) (any, error) {
	if v, ok := e.cache[key]; ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v, nil
	}
	v, err := make()
	if err != nil {
		e.cache[key] = err
		return nil, err
	}
	e.cache[key] = v
	return v, nil
}

// OnClose registers a function run when the whole suite is done.
func (e *Env) OnClose(f func()) { e.cleanup = append(e.cleanup, f) }

func (e *Env) logf(format string, args ...any) {
	if e.Config.Logf != nil {
		e.Config.Logf(format, args...)
	}
}

// Backend opens name once and remembers the outcome.
func (e *Env) Backend(name string) (backend.Backend, error) {
	if b, ok := e.backends[name]; ok {
		return b, nil
	}
	if err, ok := e.openErr[name]; ok {
		return nil, err
	}
	b, err := backend.Open(name, backend.Options{Threads: e.Config.Threads})
	if err != nil {
		e.openErr[name] = err
		return nil, err
	}
	e.backends[name] = b
	return b, nil
}

// newEnv resolves cfg (its policy, the Fashion-MNIST directory, the
// backends: all registered ones when none are named) into the environment
// of a run.
func newEnv(cfg Config) (*Env, []string, error) {
	if cfg.Suite.Scenarios == nil {
		return nil, nil, fmt.Errorf("no suite to run (bench.Config.Suite has no scenarios)")
	}
	if cfg.Suite.Name == "" {
		cfg.Suite.Name = "custom"
	}
	if err := cfg.Suite.Policy.check(cfg.Suite.Name); err != nil {
		return nil, nil, err
	}
	if cfg.FashionMNISTDir == "" {
		cfg.FashionMNISTDir = data.FashionMNISTDir
	}
	names := cfg.Backends
	if len(names) == 0 {
		names = backend.Names()
	}
	env := &Env{Config: cfg, Policy: cfg.Suite.Policy, backends: map[string]backend.Backend{}, openErr: map[string]error{},
		ceilings: map[string]report.Ceiling{}, cache: map[string]any{}}
	return env, names, nil
}

// Run runs the configured suite and returns its report. The error is for a
// run that could not happen at all; wrong answers are results with status
// fail, counted in Report.Failures.
func Run(cfg Config) (*report.Report, error) {
	env, names, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if !contains(backend.Names(), n) {
			return nil, fmt.Errorf("unknown backend %q (known: %s)", n, strings.Join(backend.Names(), ", "))
		}
	}
	defer func() {
		for i := len(env.cleanup) - 1; i >= 0; i-- {
			env.cleanup[i]()
		}
		for _, b := range env.backends {
			if c, ok := b.(backend.Closer); ok {
				c.Close()
			}
		}
	}()
	cfg = env.Config
	start := time.Now()
	rep := &report.Report{SchemaVersion: report.SchemaVersion, Tool: "reconalign bench", Suite: cfg.Suite.Name, Command: cfg.Command,
		Started: start.UTC().Truncate(time.Second), Ceilings: env.ceilings, Timing: env.Policy.timing()}
	rep.Machine = DescribeMachine()
	rep.Software = describeSoftware()
	// An unavailable backend is reported once, with its reason, and gets no
	// scenarios.
	var usable []string
	for _, n := range names {
		st := backend.Status{Name: n}
		if b, err := env.Backend(n); err != nil {
			st.Reason = err.Error()
			env.results = append(env.results, report.Result{Name: "backend/" + n, Group: "backend", Backend: n, Status: report.StatusSkip, Reason: err.Error()})
			env.logf("%s", env.results[len(env.results)-1].Line())
		} else {
			info := b.Info()
			st.Available, st.Info = true, &info
			usable = append(usable, n)
		}
		rep.Software.Backends = append(rep.Software.Backends, st)
	}
	scen := selectScenarios(cfg.Suite.Scenarios(env, usable), cfg.Only)
	if len(scen) == 0 {
		return nil, fmt.Errorf("no scenario matches %q", cfg.Only)
	}
	env.pyTasks, env.pyPrep = collectPyTasks(scen)
	for _, s := range scen {
		r := env.run(s)
		env.logf("%s", r.Line())
		env.results = append(env.results, r)
	}
	rep.Results = env.results
	rep.Software.Python = env.pythonInfo()
	report.Derive(rep)
	if cfg.Suite.Derive != nil {
		cfg.Suite.Derive(rep)
	}
	if cfg.PlotPath != "" {
		paths, err := report.PlotScaling(rep, cfg.PlotPath)
		if err != nil {
			env.logf("scaling plot: %v", err)
		}
		rep.Plots = append(rep.Plots, paths...)
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// List returns the names of the scenarios a run of cfg would measure, in
// order, with the reason next to those that would be skipped for certain.
func List(cfg Config) ([]string, error) {
	env, names, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	var out, usable []string
	for _, n := range names {
		if _, err := env.Backend(n); err != nil {
			out = append(out, "backend/"+n+"  (skip: "+err.Error()+")")
		} else {
			usable = append(usable, n)
		}
	}
	for _, s := range selectScenarios(cfg.Suite.Scenarios(env, usable), cfg.Only) {
		line := s.Name
		if s.Skip != "" {
			line += "  (skip: " + s.Skip + ")"
		}
		out = append(out, line)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// selectScenarios applies the Only filter, keeping the ceiling of every
// backend that still has a scenario.
func selectScenarios(all []Scenario, only *regexp.Regexp) []Scenario {
	if only == nil {
		return all
	}
	need := map[string]bool{}
	for _, s := range all {
		if !s.Ceiling && only.MatchString(s.Name) {
			need[s.Backend] = true
		}
	}
	var out []Scenario
	for _, s := range all {
		if only.MatchString(s.Name) || (s.Ceiling && need[s.Backend]) {
			out = append(out, s)
		}
	}
	return out
}

// settle is the pause between a scenario's check and its timed runs.
const settle = 250 * time.Millisecond

// run measures one scenario: set up, run once, check, warm up, time the
// repeats, check again. A failed check discards the timings.
func (e *Env) run(s Scenario) (r report.Result) {
	r = report.Result{Name: s.Name, Group: s.Group, Backend: s.Backend, Params: s.Params, Flops: s.Flops,
		Bytes: s.Bytes, FlopModel: s.FlopModel, Check: s.Check, Measured: "go"}
	fail := func(format string, args ...any) report.Result {
		r.Status, r.Reason = report.StatusFail, fmt.Sprintf(format, args...)
		r.Samples, r.Seconds, r.GFlops, r.GBytesPerSecond, r.CeilingFraction, r.CPUSeconds, r.PeakRSSBytes = nil, nil, 0, 0, 0, 0, 0
		return r
	}
	skip := func(reason string) report.Result {
		r.Status, r.Reason = report.StatusSkip, reason
		return r
	}
	defer func() {
		// A panic in a backend or a check is a failure of this scenario,
		// not of the whole run.
		if p := recover(); p != nil {
			r = fail("panic: %v", p)
		}
	}()
	if s.Skip != "" {
		return skip(s.Skip)
	}
	var be backend.Backend
	if s.Backend != "" {
		var err error
		if be, err = e.Backend(s.Backend); err != nil {
			return skip(err.Error())
		}
		r.Device = be.Info().Device
	}
	if reason := e.tooLong(s); reason != "" {
		return skip(reason)
	}
	if reason := e.beyondCeiling(s); reason != "" {
		return skip(reason)
	}
	c, err := s.Setup(e, be)
	if errors.Is(err, ErrSkip) {
		return skip(strings.TrimPrefix(err.Error(), ErrSkip.Error()+": "))
	}
	if err != nil {
		return fail("setup: %v", err)
	}
	if c.Close != nil {
		defer c.Close()
	}
	if c.External != nil {
		r.Measured = "python"
		if err := c.Check(); err != nil {
			return fail("check: %v", err)
		}
		r.Warmup = c.External.Warmup
		r.Samples = c.External.Samples
		if len(c.External.CPUSeconds) > 0 {
			r.CPUSeconds = median(c.External.CPUSeconds)
		}
		e.finish(&r, s, c)
		return r
	}
	p := e.Policy
	first, firstCPU, err := timeRun(c.Run)
	if err != nil {
		return fail("run: %v", err)
	}
	if err := c.Check(); err != nil {
		return fail("check: %v", err)
	}
	if p.SingleRunAbove > 0 && first >= p.SingleRunAbove.Seconds() {
		// The checked run is the measurement.
		r.Samples, r.CPUSeconds = []float64{first}, firstCPU
		e.finish(&r, s, c)
		return r
	}
	// OpenBLAS's idle workers spin for about 2²⁸ cycles (0.1 s here) after
	// each call, the check's included, and take a core from whatever runs
	// next; let them fall asleep before anything is timed.
	time.Sleep(settle)
	r.Warmup = 1
	// Long runs need no extra warm-up: the first one already paged in the
	// data and sized the buffers.
	for ; r.Warmup < p.Warmup && first < p.Budget.Seconds()/4; r.Warmup++ {
		if _, _, err := timeRun(c.Run); err != nil {
			return fail("run: %v", err)
		}
	}
	repeats := timedRepeats(p, first)
	var cpu []float64
	for i := 0; i < repeats; i++ {
		wall, used, err := timeRun(c.Run)
		if err != nil {
			return fail("run: %v", err)
		}
		r.Samples = append(r.Samples, wall)
		cpu = append(cpu, used)
	}
	if err := c.Check(); err != nil {
		return fail("check after the timed runs: %v", err)
	}
	r.CPUSeconds = median(cpu)
	e.finish(&r, s, c)
	return r
}

// finish fills the derived numbers of a checked result.
func (e *Env) finish(r *report.Result, s Scenario, c *Case) {
	r.Status = report.StatusOK
	r.Outcome = c.Outcome
	r.PeakRSSBytes = c.PeakRSSBytes
	if c.Flops > 0 {
		r.Flops = c.Flops
	}
	r.Repeats = len(r.Samples)
	r.Seconds = report.Summarize(r.Samples)
	if r.Seconds == nil || r.Seconds.Median <= 0 {
		return
	}
	t := r.Seconds.Median
	if r.Flops > 0 {
		r.GFlops = r.Flops / t / 1e9
	}
	if r.Bytes > 0 {
		r.GBytesPerSecond = r.Bytes / t / 1e9
	}
	if s.Ceiling && r.GFlops > 0 {
		// The ceiling is the best rate the machine sustained, not the median.
		e.ceilings[s.Backend] = report.Ceiling{Scenario: s.Name, GFlops: r.Flops / r.Seconds.Min / 1e9}
	}
	if c, ok := e.ceilings[s.Backend]; ok && s.Backend != "" && r.GFlops > 0 {
		r.CeilingFraction = r.GFlops / c.GFlops
	}
}

// timedRepeats sizes the timed runs from the first run's time: enough to
// fill the budget, between MinRepeats and MaxRepeats, but never so many that
// the scenario exceeds MaxScenario (at least one timed run always happens).
func timedRepeats(p Policy, first float64) int {
	n := p.MaxRepeats
	if first > 0 {
		n = int(p.Budget.Seconds() / first)
	}
	n = max(p.MinRepeats, min(p.MaxRepeats, n))
	if p.MaxScenario > 0 && first > 0 {
		n = min(n, int((p.MaxScenario.Seconds()-first)/first))
	}
	return max(1, n)
}

// timeRun runs f once and returns its wall-clock and CPU seconds.
func timeRun(f func() error) (wall, cpu float64, err error) {
	runtime.GC() // garbage from setup must not be collected inside the timer
	c0 := processCPUSeconds()
	t0 := time.Now()
	err = f()
	wall = time.Since(t0).Seconds()
	cpu = processCPUSeconds() - c0
	return wall, cpu, err
}

// median of unsorted values.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return report.Summarize(v).Median
}

// overLimit says how a measurement with runs of about one seconds each
// would exceed the per-scenario limit ("" when it would not): it needs the
// checked run and one timed run, or the checked run alone where the policy
// times it.
func (e *Env) overLimit(one float64) string {
	need, runs := 2.0, "two runs exceed"
	if p := e.Policy.SingleRunAbove; p > 0 && one >= p.Seconds() {
		need, runs = 1, "one run exceeds"
	}
	if need*one <= e.Policy.MaxScenario.Seconds() {
		return ""
	}
	return runs
}

// seriesPoint returns the index of the largest measured point below s of
// its scaling series on the same backend, or -1.
func (e *Env) seriesPoint(s Scenario) int {
	if s.Series == "" || s.Size <= 0 || s.Exponent <= 0 {
		return -1
	}
	best := -1
	for i, r := range e.results {
		if r.Status != report.StatusOK || r.Backend != s.Backend || r.Params["series"] != s.Series || r.Seconds == nil || r.Size() >= s.Size {
			continue
		}
		if best < 0 || r.Size() > e.results[best].Size() {
			best = i
		}
	}
	return best
}

// tooLong says why a scaling scenario is skipped: the largest measured
// point of its series, extrapolated, exceeds the per-scenario limit.
func (e *Env) tooLong(s Scenario) string {
	i := e.seriesPoint(s)
	if i < 0 || e.Policy.MaxScenario <= 0 {
		return ""
	}
	ref := e.results[i]
	one := ref.Seconds.Median * math.Pow(s.Size/ref.Size(), s.Exponent)
	runs := e.overLimit(one)
	if runs == "" {
		return ""
	}
	return fmt.Sprintf("estimated %.0f s per run (extrapolated from size %g at %.2f s with exponent %g): %s this suite's %.0f s per scenario",
		one, ref.Size(), ref.Seconds.Median, s.Exponent, runs, e.Policy.MaxScenario.Seconds())
}

// rate is the best rate (GFLOP/s) the backend has shown on group here
// ("": on anything, the ceiling included, which is the floor), with the
// phrase that explains it.
func (e *Env) rate(backendName, group string) (float64, string) {
	c := e.ceilings[backendName]
	rate, basis := c.GFlops, fmt.Sprintf("this backend's %.1f GFLOP/s ceiling", c.GFlops)
	best, bestGroup := 0.0, ""
	for _, r := range e.results {
		if r.Status == report.StatusOK && r.Backend == backendName && (group == "" || r.Group == group) && r.GFlops > best {
			best, bestGroup = r.GFlops, r.Group
		}
	}
	switch {
	case group != "" && best > 0:
		rate, basis = best, fmt.Sprintf("this backend's best %s rate here, %.1f GFLOP/s", group, best)
	case group == "" && best > rate:
		rate, basis = best, fmt.Sprintf("this backend's best rate here (%s), %.1f GFLOP/s", bestGroup, best)
	}
	return rate, basis
}

// beyondCeiling says why a scenario is skipped unmeasured: even at the best
// rates its backend has shown in this run (per part, on the group each part
// names), one checked and one timed run would exceed the per-scenario
// limit. A point of a scaling series with a measured smaller point is
// judged by tooLong instead.
func (e *Env) beyondCeiling(s Scenario) string {
	_, ok := e.ceilings[s.Backend]
	parts := s.Parts
	if parts == nil {
		parts = []Part{{Flops: s.Flops, RateFrom: s.RateFrom}}
	}
	total := 0.0
	for _, p := range parts {
		total += p.Flops
	}
	if s.Ceiling || !ok || total <= 0 || e.Policy.MaxScenario <= 0 || e.seriesPoint(s) >= 0 {
		return ""
	}
	one := 0.0
	var bases []string
	for _, p := range parts {
		rate, basis := e.rate(s.Backend, p.RateFrom)
		one += p.Flops / (rate * 1e9)
		bases = append(bases, fmt.Sprintf("%.3g flops at %s", p.Flops, basis))
	}
	runs := e.overLimit(one)
	if runs == "" {
		return ""
	}
	return fmt.Sprintf("estimated ≥ %.0f s per run (%s): %s this suite's %.0f s per scenario",
		one, strings.Join(bases, " + "), runs, e.Policy.MaxScenario.Seconds())
}
