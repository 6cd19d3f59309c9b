package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/reconalign/reconalign/backend"
)

// DefaultPython is Debian's interpreter, the one python3-numpy installs into
// (a python3 first on PATH may be a virtual environment without NumPy).
const DefaultPython = "/usr/bin/python3"

// ReferenceScript is the path of the NumPy reference script inside the
// repository.
const ReferenceScript = "scripts/bench_reference.py"

// pythonTimeout bounds one invocation of the references.
const pythonTimeout = 20 * time.Minute

// pyTask is one request to scripts/bench_reference.py (see its docstring).
type pyTask map[string]any

func (t pyTask) name() string { return t["name"].(string) }

// pyResult is the script's answer for one task.
type pyResult struct {
	Name       string          `json:"name"`
	Seconds    []float64       `json:"seconds"`
	CPUSeconds []float64       `json:"cpu_seconds"`
	Warmup     int             `json:"warmup"`
	Result     json.RawMessage `json:"result"`
	Check      string          `json:"check"`
	Error      string          `json:"error"`
}

type pyResponse struct {
	Python     string     `json:"python"`
	Executable string     `json:"executable"`
	NumPy      string     `json:"numpy"`
	SciKit     string     `json:"sklearn"`
	BLAS       string     `json:"blas"`
	Results    []pyResult `json:"results"`
}

// pythonRun is the outcome of the one invocation of the references.
type pythonRun struct {
	info    Python
	err     error // why no reference could run
	results map[string]pyResult
}

// pyScenario registers a NumPy reference: its task is sent to the script
// together with every other reference of the run, and judge checks the
// answer (the script's own check has already passed).
func pyScenario(s Scenario, task pyTask, judge func(res json.RawMessage) error) Scenario {
	task["name"] = s.Name
	s.Backend = ""
	s.python = task
	s.Setup = func(env *Env, _ backend.Backend) (*Case, error) {
		py := env.runPython()
		if py.err != nil {
			return nil, Skipf("%v", py.err)
		}
		res, ok := py.results[s.Name]
		if !ok {
			return nil, fmt.Errorf("the reference script returned nothing for %s", s.Name)
		}
		if res.Error != "" {
			return nil, fmt.Errorf("reference script: %s", res.Error)
		}
		return &Case{
			External: &External{Samples: res.Seconds, CPUSeconds: res.CPUSeconds, Warmup: res.Warmup},
			Check: func() error {
				if res.Check != "ok" {
					return fmt.Errorf("NumPy's own check: %s", res.Check)
				}
				if len(res.Seconds) == 0 {
					return fmt.Errorf("no timings")
				}
				if judge != nil {
					return judge(res.Result)
				}
				return nil
			},
		}, nil
	}
	return s
}

// collectPyTasks gathers the tasks of the NumPy scenarios of a run and what
// must be prepared for them.
func collectPyTasks(scen []Scenario) ([]pyTask, []func(*Env) error) {
	var tasks []pyTask
	var prep []func(*Env) error
	for _, s := range scen {
		if s.python != nil && s.Skip == "" {
			tasks = append(tasks, s.python)
			if s.pyPrepare != nil {
				prep = append(prep, s.pyPrepare)
			}
		}
	}
	return tasks, prep
}

// runPython invokes the reference script once, for all tasks, the first
// time a NumPy scenario needs it.
func (e *Env) runPython() *pythonRun {
	if e.python != nil {
		return e.python
	}
	py := &pythonRun{info: Python{Executable: e.Config.Python}, results: map[string]pyResult{}}
	e.python = py
	fail := func(format string, args ...any) *pythonRun {
		py.err = fmt.Errorf(format, args...)
		py.info.Reason = py.err.Error()
		return py
	}
	if e.Config.Python == "" {
		return fail("NumPy references disabled (--python \"\")")
	}
	exe, err := exec.LookPath(e.Config.Python)
	if err != nil {
		return fail("no Python interpreter at %s: install Debian's python3-numpy", e.Config.Python)
	}
	script, err := findScript(e.Config.Script)
	if err != nil {
		return fail("%v", err)
	}
	py.info.Script = script
	// Does NumPy import at all? Say so plainly when it does not.
	if out, err := exec.Command(exe, "-c", "import numpy").CombinedOutput(); err != nil {
		return fail("NumPy is not importable by %s (install Debian's python3-numpy): %s", exe, firstLine(string(out)))
	}
	for _, prep := range e.pyPrep {
		if err := prep(e); err != nil {
			return fail("preparing the references' input: %v", err)
		}
	}
	p := e.Plan
	req := map[string]any{
		"timing": map[string]any{"warmup": p.PyWarmup, "min_repeats": p.PyMinRepeats, "max_repeats": p.PyMaxRepeats,
			"budget": p.PyBudget.Seconds()},
		"tasks": e.pyTasks,
	}
	body, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(context.Background(), pythonTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, script)
	cmd.Stdin = bytes.NewReader(body)
	cmd.Env = os.Environ() // the same BLAS environment as this process
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	e.logf("running the NumPy references (%d tasks) with %s %s", len(e.pyTasks), exe, script)
	if err := cmd.Run(); err != nil {
		return fail("%s %s: %v: %s", exe, script, err, lastLine(stderr.String()))
	}
	var resp pyResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return fail("%s printed no valid JSON: %v", script, err)
	}
	py.info = Python{Available: true, Executable: exe, Script: script, Version: resp.Python, NumPy: resp.NumPy,
		SciKit: resp.SciKit, BLAS: resp.BLAS}
	for _, r := range resp.Results {
		py.results[r.Name] = r
	}
	return py
}

// pythonInfo is the report's account of the references.
func (e *Env) pythonInfo() *Python {
	if e.python == nil {
		reason := "no NumPy reference in the selected scenarios"
		if e.Config.Python == "" {
			reason = "NumPy references disabled"
		}
		return &Python{Executable: e.Config.Python, Reason: reason}
	}
	info := e.python.info
	return &info
}

// findScript locates scripts/bench_reference.py: the given path, else
// relative to the working directory, else next to the executable's parent
// directory (bin/reconalign in a checkout).
func findScript(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("reference script: %w", err)
		}
		return path, nil
	}
	cands := []string{ReferenceScript}
	if exe, err := os.Executable(); err == nil {
		cands = append(cands, filepath.Join(filepath.Dir(filepath.Dir(exe)), ReferenceScript))
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s not found (run from the repository root or pass --reference-script)", ReferenceScript)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
