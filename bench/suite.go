package bench

import (
	"fmt"
	"time"

	"github.com/reconalign/reconalign/bench/report"
)

// A Suite is a named set of scenarios with the policy that times them.
// Package bench/scenario builds reconalign's own (quick, standard, imagenet,
// large); a program can run its own operations with a Suite of its own.
type Suite struct {
	Name   string
	Policy Policy
	// Scenarios registers the suite's scenarios for the usable backends
	// (opened, in the order asked for), in the order they run. It may look
	// at the backends through env.Backend.
	Scenarios func(env *Env, backends []string) []Scenario
	// Derive, when set, completes the report after report.Derive: the
	// suite's claims, which name its scenarios.
	Derive func(rep *report.Report)
}

// Policy is how hard the timing tries: the same for every scenario of a
// suite.
type Policy struct {
	// Warmup is the number of untimed runs (the first is also the
	// correctness check); MinRepeats and MaxRepeats bound the timed ones,
	// and Budget is the timed seconds a scenario aims for between them.
	Warmup, MinRepeats, MaxRepeats int
	Budget                         time.Duration
	// MaxScenario skips a scenario whose estimated cost (a checked run plus
	// the timed runs it needs) exceeds it; 0 means no limit.
	MaxScenario time.Duration
	// SingleRunAbove: a checked run that took at least this long is also
	// the scenario's only timed run (a warm-up is pointless at that length,
	// and a second run of many minutes buys little); 0: never.
	SingleRunAbove time.Duration
	// Py* are the timing settings of the NumPy references, which time
	// themselves in one invocation of the script.
	PyWarmup, PyMinRepeats, PyMaxRepeats int
	PyBudget                             time.Duration
}

// check refuses a policy the runner cannot follow.
func (p Policy) check(suite string) error {
	if p.MinRepeats < 1 {
		return fmt.Errorf("suite %s: MinRepeats must be at least 1", suite)
	}
	return nil
}

// timing is the policy as the report records it.
func (p Policy) timing() report.Timing {
	return report.Timing{Warmup: p.Warmup, MinRepeats: p.MinRepeats, MaxRepeats: p.MaxRepeats,
		BudgetS: p.Budget.Seconds(), MaxScenario: p.MaxScenario.Seconds(), SingleRunAbove: p.SingleRunAbove.Seconds()}
}
