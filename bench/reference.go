package bench

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench/pyref"
	"github.com/reconalign/reconalign/bench/report"
)

// The NumPy references of a run are scenarios too, but their script runs
// once for all of them (package pyref), the first time one is needed: its
// tasks are collected from the selected scenarios before the run starts.

// pythonRun is the outcome of the one invocation of the references.
type pythonRun struct {
	info    report.Python
	err     error // why no reference could run
	results map[string]pyref.Result
}

// Reference registers s as a NumPy reference: task goes to the reference
// script together with every other reference of the run, and judge (nil:
// none) checks the answer after the script's own check has passed.
func Reference(s Scenario, task pyref.Task, judge func(res json.RawMessage) error) Scenario {
	task["name"] = s.Name
	s.Backend = ""
	s.Python = task
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

// ReferenceResult is the answer of the NumPy reference named name, running
// the references first if they have not run; an error says why there is
// none. A scenario's check uses it to compare with NumPy in the same run.
func (e *Env) ReferenceResult(name string) (json.RawMessage, error) {
	py := e.runPython()
	if py.err != nil {
		return nil, py.err
	}
	res, ok := py.results[name]
	switch {
	case !ok:
		return nil, fmt.Errorf("no reference %s in this run", name)
	case res.Error != "":
		return nil, fmt.Errorf("reference %s: %s", name, res.Error)
	}
	return res.Result, nil
}

// collectPyTasks gathers the tasks of the NumPy scenarios of a run and what
// must be prepared for them.
func collectPyTasks(scen []Scenario) ([]pyref.Task, []func(*Env) error) {
	var tasks []pyref.Task
	var prep []func(*Env) error
	for _, s := range scen {
		if s.Python != nil && s.Skip == "" {
			tasks = append(tasks, s.Python)
			if s.Prepare != nil {
				prep = append(prep, s.Prepare)
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
	py := &pythonRun{info: report.Python{Executable: e.Config.Python}, results: map[string]pyref.Result{}}
	e.python = py
	fail := func(format string, args ...any) *pythonRun {
		py.err = fmt.Errorf(format, args...)
		py.info.Reason = py.err.Error()
		return py
	}
	if e.Config.Python == "" {
		return fail("NumPy references disabled (no interpreter given)")
	}
	exe, err := pyref.Interpreter(e.Config.Python)
	if err != nil {
		return fail("%v", err)
	}
	script, err := pyref.FindScript(e.Config.Script)
	if err != nil {
		return fail("%v", err)
	}
	py.info.Script = script
	for _, prep := range e.pyPrep {
		if err := prep(e); err != nil {
			return fail("preparing the references' input: %v", err)
		}
	}
	p := e.Policy
	timing := pyref.Timing{Warmup: p.PyWarmup, MinRepeats: p.PyMinRepeats, MaxRepeats: p.PyMaxRepeats, Budget: p.PyBudget.Seconds()}
	e.logf("running the NumPy references (%d tasks) with %s %s", len(e.pyTasks), exe, script)
	resp, err := pyref.Run(context.Background(), exe, script, timing, e.pyTasks)
	if err != nil {
		return fail("%v", err)
	}
	py.info = report.Python{Available: true, Executable: exe, Script: script, Version: resp.Python, NumPy: resp.NumPy,
		SciKit: resp.SciKit, BLAS: resp.BLAS}
	for _, r := range resp.Results {
		py.results[r.Name] = r
	}
	return py
}

// pythonInfo is the report's account of the references.
func (e *Env) pythonInfo() *report.Python {
	if e.python == nil {
		reason := "no NumPy reference in the selected scenarios"
		if e.Config.Python == "" {
			reason = "NumPy references disabled"
		}
		return &report.Python{Executable: e.Config.Python, Reason: reason}
	}
	info := e.python.info
	return &info
}
