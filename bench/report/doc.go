// Package report is what a run of reconalign's benchmark suite produces:
// the JSON report (its schema is below), what is derived from the results
// alone (scaling fits, route verdicts, speed-up ratios, the failure count),
// and what is rendered from a report: the markdown section of BENCHMARKS.md
// and the scaling plots. Nothing here measures anything; every function is
// a function of a Report, so a saved report renders the same section as the
// run that wrote it.
//
// # JSON report, schema_version 1
//
// Stable: fields may be added, none is removed or changes meaning without
// a new schema_version. Times are seconds, rates GFLOP/s (10⁹ flops per
// second) and GB/s (10⁹ bytes), sizes bytes.
//
//	schema_version  int      1
//	tool            string   "reconalign bench"
//	suite           string   quick | standard | imagenet | large | custom
//	command         string   the exact command line
//	started         string   RFC 3339, UTC
//	seconds         float    wall time of the whole run
//	timing          object   warmup, min_repeats, max_repeats, budget_s, max_scenario_s,
//	                         single_run_above_s (absent when 0: a checked run at least
//	                         this long is the scenario's only timed run)
//	machine         object   cpu_model, cpu_vendor, physical_cores, logical_cores,
//	                         gomaxprocs, features {avx2, avx512f, fma},
//	                         cpu_features [names], cpu_mhz,
//	                         memory_bytes, gpus [{name, memory_bytes, driver,
//	                         compute_capability, cuda (newest the driver
//	                         supports)}], gpu_note (why none),
//	                         os, arch, source
//	software        object   go_version, commit, dirty, backends [{name, available,
//	                         reason, info {name, device, precision, threads,
//	                         library}}], gunzip, python {available, reason, executable,
//	                         script, version, numpy, sklearn, blas}, env {NAME: value}
//	                         (OPENBLAS_*, OMP_*, GOMAXPROCS, ... as both sides saw them)
//	ceilings        object   backend → {scenario, gflops}: best rate of the GEMM
//	results         array    one per scenario, in run order:
//	    name            string   group/backend-or-reference/case, unique
//	    group           string   gemm | gram | eigh | fast_gram_eigh | align | scaling |
//	                             denoise | rsvd | imagenet | eigen_phase | e2e | moments
//	    backend         string   registry name; absent for references (NumPy, Beam)
//	    device          string   the backend's device
//	    params          object   sizes and settings (n, d, c, dtype, route, dataset,
//	                             series, size, ...)
//	    status          string   ok | fail | skip
//	    reason          string   why it failed or was skipped
//	    check           string   what the answer was compared with
//	    flops, bytes    float    model counts of the operation
//	    flop_model      string   how they were counted
//	    warmup          int      untimed runs (the first one is checked)
//	    repeats         int      timed runs
//	    samples         [float]  seconds of each timed run
//	    seconds         object   {median, min, max, q1, q3}
//	    cpu_seconds     float    median CPU seconds per run (all threads of the
//	                             process, and of the child processes it waited for)
//	    gflops          float    flops / median
//	    gbytes_per_s    float    bytes / median
//	    ceiling_fraction float   gflops / the backend's ceiling (can exceed 1
//	                             where a backend's kernel outruns its own GEMM)
//	    outcome         object   facts of the answer (route chosen, rank, ...)
//	    measured        string   go | python (who held the stopwatch)
//	    peak_rss_bytes  int      peak resident memory of the child process that did
//	                             the work, largest over the runs (absent unless the
//	                             scenario runs a child process)
//	fits            array    {series, backend, variable, exponent, expected,
//	                         points [[size, median seconds]]}: log-log slopes
//	routes          array    {backend, n, d, direct_s, dual_s, winner, auto,
//	                         agrees: yes | tie | no | not measured}
//	comparisons     array    {subject, reference, ratio}: reference median /
//	                         subject median (> 1: subject faster)
//	claims          array    {statement, status: holds | fails | not measured, detail}
//	plots           [string] image files written
//	failures        int      number of results with status fail
//
// Two reports are compared by joining results on name; benchstat covers
// the `go test -bench` side (backend/backendtest).
package report
