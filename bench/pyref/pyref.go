// Package pyref drives scripts/bench_reference.py, the NumPy, SciPy and
// scikit-learn side of reconalign's benchmark suite: one invocation of the
// interpreter runs every reference task of a run, times each itself
// (interpreter start-up and imports excluded) and checks its own answer.
//
// The protocol is the script's: a JSON request on stdin,
//
//	{"timing": {"warmup", "min_repeats", "max_repeats", "budget"},
//	 "tasks": [{"name", "kind": sweep | moments | gram | eigh | rsvd | denoise, ...}]}
//
// and one JSON document on stdout with the versions (Python, NumPy,
// scikit-learn, NumPy's BLAS) and one Result per task. The script runs with
// this process's environment, so both sides see the same OPENBLAS_* and
// OMP_* settings. What the tasks mean is the script's docstring.
package pyref

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
)

// DefaultPython is Debian's interpreter, the one python3-numpy installs into
// (a python3 first on PATH may be a virtual environment without NumPy).
const DefaultPython = "/usr/bin/python3"

// ReferenceScript is the path of the NumPy reference script inside the
// repository.
const ReferenceScript = "scripts/bench_reference.py"

// Timeout bounds one invocation of the references.
const Timeout = 20 * time.Minute

// Task is one request to the script; "name" and "kind" are required, the
// other keys depend on the kind.
type Task map[string]any

// Name is the task's name (the benchmark scenario's).
func (t Task) Name() string { s, _ := t["name"].(string); return s }

// Timing is the policy the script times every task under (a task may
// tighten it with its own "warmup", "min_repeats", "max_repeats", "budget").
type Timing struct {
	Warmup     int     `json:"warmup"`
	MinRepeats int     `json:"min_repeats"`
	MaxRepeats int     `json:"max_repeats"`
	Budget     float64 `json:"budget"` // seconds
}

// Result is the script's answer for one task.
type Result struct {
	Name       string          `json:"name"`
	Seconds    []float64       `json:"seconds"`
	CPUSeconds []float64       `json:"cpu_seconds"`
	Warmup     int             `json:"warmup"`
	Result     json.RawMessage `json:"result"`
	// Check is "ok" or what the script found wrong with its own answer.
	Check string `json:"check"`
	// Error is set when the task could not run at all.
	Error string `json:"error"`
}

// Response is the script's whole answer.
type Response struct {
	Python     string   `json:"python"`
	Executable string   `json:"executable"`
	NumPy      string   `json:"numpy"`
	SciKit     string   `json:"sklearn"`
	BLAS       string   `json:"blas"`
	Results    []Result `json:"results"`
}

// Interpreter finds the interpreter python and checks that it imports
// NumPy, saying plainly what to install when not.
func Interpreter(python string) (string, error) {
	exe, err := exec.LookPath(python)
	if err != nil {
		return "", fmt.Errorf("no Python interpreter at %s: install Debian's python3-numpy", python)
	}
	if out, err := exec.Command(exe, "-c", "import numpy").CombinedOutput(); err != nil {
		return "", fmt.Errorf("NumPy is not importable by %s (install Debian's python3-numpy): %s", exe, firstLine(string(out)))
	}
	return exe, nil
}

// Run invokes script with the interpreter exe (from Interpreter) once for
// all tasks, within Timeout. A crash or an answer that is not JSON is an
// error naming the interpreter or the script.
func Run(ctx context.Context, exe, script string, timing Timing, tasks []Task) (*Response, error) {
	body, err := json.Marshal(map[string]any{"timing": timing, "tasks": tasks})
	if err != nil {
		return nil, fmt.Errorf("encoding the references' request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, script)
	cmd.Stdin = bytes.NewReader(body)
	cmd.Env = os.Environ() // the same BLAS environment as this process
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", exe, script, err, lastLine(stderr.String()))
	}
	var resp Response
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("%s printed no valid JSON: %v", script, err)
	}
	return &resp, nil
}

// FindScript locates scripts/bench_reference.py: the given path, else
// relative to the working directory, else next to the executable's parent
// directory (bin/reconalign in a checkout).
func FindScript(path string) (string, error) {
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
	return "", fmt.Errorf("%s not found (run from the repository root, or give the script's path)", ReferenceScript)
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
