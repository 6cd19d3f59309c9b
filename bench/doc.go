// Package bench is the runner of reconalign's benchmark suite: `reconalign
// bench` runs a suite with it, writes the JSON report and merges a section
// into BENCHMARKS.md.
//
// Every speed claim of the project must be reproducible by one command on
// the reader's machine, so a run measures the machine it is on — its
// ceiling (a large GEMM per backend), the engine's kernels, the end-to-end
// alignment, and NumPy doing the same jobs in the same invocation — and
// prints only numbers it measured.
//
// The work is split by job:
//
//   - bench (this package): Scenario, Case and Suite, and Run, which checks
//     each scenario's answer before it times it, sizes the repeats by the
//     suite's Policy, skips what would take too long, and assembles the
//     report;
//   - bench/report: the JSON report (its schema is documented there), what
//     is derived from it, and its markdown and plots;
//   - bench/scenario: reconalign's suites (quick, standard, imagenet,
//     large) and every scenario family with its flop model and its check;
//   - bench/pyref: the driver of scripts/bench_reference.py, the NumPy,
//     SciPy and scikit-learn references.
//
// # Scenarios
//
// A Scenario is one registration: a name, the model count of its flops and
// bytes, a Setup that prepares inputs outside the timer and returns a Case
// (Run, Check, Close). Run calls Case.Run once and Case.Check before any
// timing: a wrong answer is a failure (status "fail", no time reported,
// non-zero exit of the command), never a number. It then warms up, times
// between MinRepeats and MaxRepeats runs (as many as fill the policy's
// Budget, never more than MaxScenario allows; a run longer than
// SingleRunAbove is its own and only timing), and checks again. A scenario
// whose backend or package is missing is skipped with the reason; one whose
// estimated cost (extrapolated from a smaller point of its scaling series,
// or its flops at the best rates its backend has shown in the run) exceeds
// the per-scenario limit is skipped with the estimate.
//
// NumPy references are scenarios too (Reference): the script runs all of
// them in one invocation of the interpreter, with this process's
// environment, times them itself and checks its own answers; the Go side
// checks them again against its references, and a backend's scenario may
// compare its answer with a reference's of the same run
// (Env.ReferenceResult).
package bench
