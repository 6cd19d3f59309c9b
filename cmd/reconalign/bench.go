package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/pyref"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/bench/scenario"
)

// benchFlags are the flags of `reconalign bench`.
type benchFlags struct {
	suite, jsonPath, mdPath, plotPath string
	python, script, fmnistDir, only   string
	list                              bool
}

func newBenchCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the engine on this machine against NumPy references and write BENCHMARKS.md",
		Long: `bench runs a suite of scenarios: each states its flops and bytes, is checked
against an independent reference before it is timed (a wrong answer fails the
run, exit status 1), then runs warm-up and repeats and reports the median and
spread, GFLOP/s and the fraction of this machine's ceiling (a large GEMM on the
same backend, measured in the same run). The NumPy references (the paper's
printed alignment_sweep, a NumPy moments script, XᵀX, eigh, scikit-learn's
randomized_svd) run in the same invocation through --python with the same
environment.

Suites: quick (under a minute on 2 cores; CI's smoke test), standard (a few
minutes; what make bench writes to BENCHMARKS.md), imagenet (the GPU machine:
an ImageNet-64-sized synthetic stream), large (the open goals' shapes: tens
of minutes on 2 cores; whole commands run as child processes with their peak
memory).

--backend takes a comma-separated list here (default: every registered
backend; unavailable ones are reported with the reason).`,
		Example: `  reconalign bench --suite quick --json out/bench-quick.json
  reconalign bench --suite standard --markdown BENCHMARKS.md --json out/bench.json
  reconalign bench --suite standard --backend openblas --only 'align|gemm'
  reconalign bench --suite imagenet --backend cuda,openblas --markdown BENCHMARKS.md
  reconalign bench --suite large --markdown BENCHMARKS.md --json out/bench-large.json`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return runBench(f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.suite, "suite", "quick", strings.Join(scenario.Suites, "|"))
	fl.StringVar(&f.jsonPath, "json", "", "write the report as JSON to this file (its schema: go doc ./bench/report)")
	fl.StringVar(&f.mdPath, "markdown", "", "merge this run's section into this markdown file (BENCHMARKS.md)")
	fl.StringVar(&f.plotPath, "plot", "", "write the scaling plot (PNG) here (default with --markdown: bench/figures/scaling-SUITE.png next to it)")
	fl.StringVar(&f.python, "python", pyref.DefaultPython, `interpreter of the NumPy references ("" to skip them)`)
	fl.StringVar(&f.script, "reference-script", "", "path of "+pyref.ReferenceScript+" (default: found from the working directory or the binary)")
	fl.StringVar(&f.fmnistDir, "fmnist-dir", "", "directory of the Fashion-MNIST IDX files (default: Debian's)")
	fl.StringVar(&f.only, "only", "", "run only scenarios whose name matches this regular expression (plus their backends' ceilings)")
	fl.BoolVar(&f.list, "list", false, "list the scenarios and exit")
	return cmd
}

func runBench(f *benchFlags) error {
	cfg, err := f.config()
	if err != nil {
		return err
	}
	if f.list {
		names, err := bench.List(cfg)
		if err != nil {
			return err
		}
		fmt.Println(strings.Join(names, "\n"))
		return nil
	}
	rep, err := bench.Run(cfg)
	if err != nil {
		return err
	}
	if f.jsonPath != "" {
		if err := rep.WriteJSON(f.jsonPath); err != nil {
			return err
		}
	}
	if f.mdPath != "" {
		if err := report.WriteMarkdown(rep, f.mdPath); err != nil {
			return err
		}
	}
	if !global.quiet {
		fmt.Fprintf(os.Stderr, "%d scenarios, %d failed, %.0f s\n", len(rep.Results), rep.Failures, rep.Seconds)
	}
	if rep.Failures > 0 {
		return fmt.Errorf("%d scenario(s) failed their correctness check (see the report)", rep.Failures)
	}
	return nil
}

// config is the runner's configuration from the flags and the global ones.
func (f *benchFlags) config() (bench.Config, error) {
	s, err := scenario.SuiteFor(f.suite)
	if err != nil {
		return bench.Config{}, err
	}
	cfg := bench.Config{Suite: s, Threads: global.threads, Python: f.python, Script: f.script,
		FashionMNISTDir: f.fmnistDir, Command: commandLine()}
	// The scenarios that time a whole command run this binary.
	if exe, err := os.Executable(); err == nil {
		cfg.Executable = exe
	}
	if global.backend != "" && global.backend != "auto" {
		for _, b := range strings.Split(global.backend, ",") {
			if b = strings.TrimSpace(b); b != "" {
				cfg.Backends = append(cfg.Backends, b)
			}
		}
	}
	if f.only != "" {
		re, err := regexp.Compile(f.only)
		if err != nil {
			return bench.Config{}, fmt.Errorf("--only: %w", err)
		}
		cfg.Only = re
	}
	cfg.PlotPath = f.plotPath
	if cfg.PlotPath == "" && f.mdPath != "" {
		cfg.PlotPath = filepath.Join(filepath.Dir(f.mdPath), "bench", "figures", "scaling-"+f.suite+".png")
	}
	if !global.quiet {
		cfg.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	return cfg, nil
}

// commandLine is the invocation as a shell would need it typed.
func commandLine() string {
	parts := make([]string, len(os.Args))
	for i, a := range os.Args {
		if a == "" || strings.ContainsAny(a, " \t'\"$|&;<>*?()[]{}\\`^~!#") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}
