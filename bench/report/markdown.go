package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The markdown report. BENCHMARKS.md holds one section per (suite, machine
// kind) between marker comments; writing a report replaces its own section
// and keeps the others, so the GPU machine's run sits next to the CPU one,
// each with its date. Every character comes from a Report.

const mdPreamble = `# Benchmarks

This file is written by ` + "`reconalign bench --markdown`" + ` (` + "`make bench`" + ` for the standard suite);
nothing in it is typed by hand. Each section below is one run of one suite on one kind of machine,
with its date, the machine, the exact command and the software versions. Running a suite again on
the same kind of machine replaces its section; the other sections stay. Every time shown was
measured only after the scenario's result passed its correctness check against an independent
reference (a wrong fast answer is a failure, never a number), and every ratio compares two
measurements of the same run.
`

const (
	markBegin = "<!-- reconalign-bench:begin "
	markEnd   = "<!-- reconalign-bench:end "
)

// SectionKey names a report's section: the suite and whether the machine
// had a GPU.
func SectionKey(rep *Report) string {
	kind := "cpu"
	if len(rep.Machine.GPUs) > 0 {
		kind = "gpu"
	}
	return rep.Suite + "-" + kind
}

var sectionRE = regexp.MustCompile(`(?s)<!-- reconalign-bench:begin ([^ ]+) -->\n.*?<!-- reconalign-bench:end ([^ ]+) -->\n?`)

// MergeMarkdown returns the whole file: the preamble, then the sections of
// existing (a previous file, or nil) with the one of key replaced by
// section, or section appended when the file had none for key.
func MergeMarkdown(existing []byte, key, section string) string {
	type sec struct{ key, text string }
	var secs []sec
	replaced := false
	for _, m := range sectionRE.FindAllStringSubmatch(string(existing), -1) {
		if m[1] != m[2] {
			continue // a damaged section: dropped rather than guessed at
		}
		if m[1] == key {
			secs = append(secs, sec{key, section})
			replaced = true
			continue
		}
		secs = append(secs, sec{m[1], strings.TrimRight(m[0], "\n") + "\n"})
	}
	if !replaced {
		secs = append(secs, sec{key, section})
	}
	var b strings.Builder
	b.WriteString(mdPreamble)
	for _, s := range secs {
		b.WriteString("\n")
		b.WriteString(s.text)
	}
	return b.String()
}

// WriteMarkdown merges the report's section into the file at path.
func WriteMarkdown(rep *Report, path string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	section := Markdown(rep, filepath.Dir(path))
	return writeFile(path, []byte(MergeMarkdown(old, SectionKey(rep), section)))
}

// Markdown renders one report as a section; links to plots are made
// relative to dir (the markdown file's directory).
func Markdown(rep *Report, dir string) string {
	var b strings.Builder
	key := SectionKey(rep)
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s%s -->\n", markBegin, key)
	w("## Suite `%s` on %s, %s\n\n", rep.Suite, machineShort(rep.Machine), rep.Started.Format("2006-01-02"))
	w("Command: `%s` (%.0f s in all).\n\n", rep.Command, rep.Seconds)
	if rep.Failures > 0 {
		w("**%d scenario(s) FAILED their correctness check; see Failures below. Their times are not reported.**\n\n", rep.Failures)
	}
	writeHeader(&b, rep)
	writeClaims(&b, rep)
	writeCeilings(&b, rep)
	writeAlign(&b, rep)
	writeGroup(&b, rep, GroupGram, "The Gram per backend and input type",
		"GramAdd of an N×D chunk from zero (float64 accumulation); NumPy: `x.astype(float64); x.T @ x`.")
	writeGroup(&b, rep, GroupEigh, "eigh per backend",
		"All eigenpairs of a random symmetric n×n matrix (GOE: no clustered eigenvalues, so no free deflation); NumPy: `numpy.linalg.eigh`.")
	writeRoutes(&b, rep)
	writeScaling(&b, rep, dir)
	writeGroup(&b, rep, GroupDenoise, "Denoising, the paper's Figure 7 grid",
		"`closedform.DenoiseGrid` over masks p ∈ linspace(0, 0.99, steps) × patch sizes, plus one Gaussian noise, on centred Fashion-MNIST moments (computed before the timer).")
	writeGroup(&b, rep, GroupRSVD, "Randomized top-k eigendecomposition",
		"`rsvd.TopK` (subspace iteration, load included, uncentred) against scikit-learn's `randomized_svd` with the same k, oversampling and power iterations.")
	writeGroup(&b, rep, GroupStream, "ImageNet-64-sized stream",
		"Synthetic data generated on the fly (nothing stored): N = 1,281,167 × D = 12,288 uint8 on GPU backends, a prefix on CPU backends.")
	writeEigenPhase(&b, rep)
	writeEndToEnd(&b, rep)
	writeGroup(&b, rep, GroupMoments, "The moments file: one process against a Beam pipeline",
		"`reconalign moments` on every shard of a set, against `reconalign-beam --runner=prism` (Beam's in-process runner) on the same shards; both are child processes timed from start to exit, and their moments files must hold identical arrays.")
	writeSkipsAndFailures(&b, rep)
	writeMethod(&b, rep)
	w("%s%s -->\n", markEnd, key)
	return b.String()
}

func machineShort(m Machine) string {
	gpu := "no GPU"
	if len(m.GPUs) > 0 {
		gpu = m.GPUs[0].Name
		if len(m.GPUs) > 1 {
			gpu = fmt.Sprintf("%d× %s", len(m.GPUs), gpu)
		}
	}
	return fmt.Sprintf("%s, %d cores, %s", m.CPUModel, m.LogicalCores, gpu)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func table(b *strings.Builder, header []string, rows [][]string) {
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func writeHeader(b *strings.Builder, rep *Report) {
	m, s := rep.Machine, rep.Software
	b.WriteString("### Machine and software\n\n")
	rows := [][]string{
		{"CPU", fmt.Sprintf("%s (%s), %d physical / %d logical cores, GOMAXPROCS %d", m.CPUModel, m.CPUVendor, m.PhysicalCores, m.LogicalCores, m.GoMaxProcs)},
		{"Vector units", fmt.Sprintf("AVX2 %s, AVX-512F %s, FMA %s", yesNo(m.Features.AVX2), yesNo(m.Features.AVX512F), yesNo(m.Features.FMA))},
		{"Memory", fmt.Sprintf("%.1f GiB", float64(m.MemoryBytes)/(1<<30))},
	}
	if len(m.GPUs) == 0 {
		rows = append(rows, []string{"GPU", m.GPUNote})
	}
	for i, g := range m.GPUs {
		rows = append(rows, []string{fmt.Sprintf("GPU %d", i), fmt.Sprintf("%s, %.1f GiB, driver %s, compute capability %s, CUDA %s",
			g.Name, float64(g.MemoryBytes)/(1<<30), g.Driver, g.ComputeCapability, g.CUDA)})
	}
	rows = append(rows, []string{"OS / arch", m.OS + " / " + m.Arch})
	rows = append(rows, []string{"Go", s.GoVersion})
	commit := s.Commit
	if s.Dirty {
		commit += " (with uncommitted changes)"
	}
	rows = append(rows, []string{"Commit", commit})
	for _, st := range s.Backends {
		if st.Available {
			rows = append(rows, []string{"Backend " + st.Name, fmt.Sprintf("%s; device %s, %s, %d threads", st.Info.Library, st.Info.Device, st.Info.Precision, st.Info.Threads)})
		} else {
			rows = append(rows, []string{"Backend " + st.Name, "unavailable: " + strings.TrimPrefix(st.Reason, "backend unavailable: ")})
		}
	}
	if s.Gunzip != "" {
		rows = append(rows, []string{"gzip (engine)", s.Gunzip})
	}
	if py := s.Python; py != nil {
		if py.Available {
			rows = append(rows, []string{"NumPy references", fmt.Sprintf("Python %s (%s), NumPy %s, scikit-learn %s; BLAS: %s", py.Version, py.Executable, py.NumPy, py.SciKit, py.BLAS)})
		} else {
			rows = append(rows, []string{"NumPy references", "not run: " + py.Reason})
		}
	}
	rows = append(rows, []string{"BLAS environment", envLine(s.Env) + " (Go and Python ran with this same environment)"})
	table(b, []string{"", ""}, rows)
}

func writeClaims(b *strings.Builder, rep *Report) {
	if len(rep.Claims) == 0 {
		return
	}
	b.WriteString("### Claims\n\n")
	var rows [][]string
	for _, c := range rep.Claims {
		rows = append(rows, []string{c.Statement, "**" + c.Status + "**", c.Detail})
	}
	table(b, []string{"claim", "status", "this run"}, rows)
}

func spread(r Result) string {
	return fmt.Sprintf("%s – %s", fmtSeconds(r.Seconds.Min), fmtSeconds(r.Seconds.Max))
}

func gflops(r Result) string {
	if r.GFlops <= 0 {
		return "–"
	}
	if r.GFlops >= 1000 {
		return fmt.Sprintf("%.2f TFLOP/s", r.GFlops/1000)
	}
	return fmt.Sprintf("%.1f", r.GFlops)
}

func ceilingPct(r Result) string {
	if r.CeilingFraction <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*r.CeilingFraction)
}

func coresBusy(r Result) string {
	if r.CPUSeconds <= 0 || r.Seconds == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f", r.CPUSeconds/r.Seconds.Median)
}

func who(r Result) string {
	if r.Backend != "" {
		return r.Backend
	}
	_, w, _ := splitName(r.Name)
	if r.Measured == "python" {
		return w + " (Python)"
	}
	return w
}

func writeCeilings(b *strings.Builder, rep *Report) {
	var rows [][]string
	for _, r := range rep.Results {
		if r.Group == GroupCeiling && r.OK() {
			rows = append(rows, []string{r.Backend, fmt.Sprint(r.Params["n"]), fmtSeconds(r.Seconds.Median), spread(r), fmt.Sprint(r.Repeats), gflops(r), coresBusy(r)})
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Machine ceiling: a large square GEMM per backend\n\n")
	b.WriteString("The \"% of ceiling\" columns below divide a scenario's rate by its backend's rate here.\n\n")
	table(b, []string{"backend", "n", "median", "min – max", "repeats", "GFLOP/s", "cores busy"}, rows)
}

// refsOf lists the reference results compared with r, as "ratio× vs name".
func refsOf(rep *Report, r Result) string {
	var parts []string
	for _, c := range rep.Comparisons {
		if c.Subject != r.Name {
			continue
		}
		ref := rep.Find(c.Reference)
		if ref == nil || ref.Backend != "" {
			continue
		}
		_, w, _ := splitName(c.Reference)
		parts = append(parts, fmt.Sprintf("%.2f× vs %s", c.Ratio, w))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

func writeGroup(b *strings.Builder, rep *Report, group, title, intro string) {
	var rows [][]string
	for _, r := range rep.Results {
		if r.Group != group || !r.OK() {
			continue
		}
		_, _, rest := splitName(r.Name)
		rows = append(rows, []string{rest, who(r), fmtSeconds(r.Seconds.Median), spread(r), fmt.Sprint(r.Repeats), gflops(r), ceilingPct(r), coresBusy(r), refsOf(rep, r)})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "### %s\n\n%s Ratios > 1 mean the backend is faster than the reference.\n\n", title, intro)
	table(b, []string{"case", "backend", "median", "min – max", "repeats", "GFLOP/s", "% of ceiling", "cores busy", "speed-up vs references"}, rows)
}

func writeAlign(b *strings.Builder, rep *Report) {
	var rows [][]string
	for _, r := range rep.Results {
		if r.Group != GroupAlign || !r.OK() {
			continue
		}
		route := fmt.Sprint(r.Params["route"])
		if r.Backend != "" {
			route = fmt.Sprintf("engine (%v route, rank %v)", r.Outcome["route"], r.Outcome["rank"])
		}
		rows = append(rows, []string{fmt.Sprint(r.Params["dataset"]), who(r), route, fmtSeconds(r.Seconds.Median), spread(r),
			fmt.Sprint(r.Repeats), gflops(r), coresBusy(r), refsOf(rep, r)})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### End-to-end alignment curve\n\n")
	b.WriteString("From the file names to the curve for every k (`reconalign align`'s job with default options: not centred, " +
		"gram form, squared scale, full normalisation), load and decompression included on both sides. " +
		"numpy_sweep is the paper's printed `alignment_sweep` (a full thin SVD); numpy_moments forms XᵀX, calls `eigh` and " +
		"projects YᵀX. Python's interpreter start-up and imports are not timed. Ratios > 1 mean the engine is faster.\n\n")
	table(b, []string{"dataset", "backend", "route", "median", "min – max", "repeats", "GFLOP/s", "cores busy", "speed-up vs references"}, rows)
	var cross []string
	for _, c := range rep.Comparisons {
		s, r := rep.Find(c.Subject), rep.Find(c.Reference)
		if s != nil && r != nil && s.Group == GroupAlign && s.Backend != "" && r.Backend != "" {
			cross = append(cross, fmt.Sprintf("- %s: %s takes %.2f× the time of %s.", s.Params["dataset"], r.Backend, c.Ratio, s.Backend))
		}
	}
	if len(cross) > 0 {
		b.WriteString(strings.Join(cross, "\n") + "\n\n")
	}
}

func writeRoutes(b *strings.Builder, rep *Report) {
	if len(rep.Routes) == 0 {
		return
	}
	b.WriteString("### fast_gram_eigh: direct D×D against dual N×N\n\n")
	b.WriteString("Eigenpairs of XᵀX for an N×D matrix with a decaying spectrum, by the direct route (XᵀX, then eigh of D×D) " +
		"and the dual route (XXᵀ, eigh of N×N, vectors mapped back by Xᵀu/√λ), both forced; `engine.GramEigh` picks " +
		"dual when N < D. \"tie\": the two routes, or the engine's own run and the faster route, are within 10% of each other, or the two routes' min – max ranges overlap (the run cannot tell them apart).\n\n")
	var rows [][]string
	for _, c := range rep.Routes {
		auto := rep.Find(fmt.Sprintf("fast_gram_eigh/%s/%s/N=%d,D=%d", c.Backend, RouteAuto, c.N, c.D))
		autoTime := "–"
		if auto != nil && auto.OK() {
			autoTime = fmtSeconds(auto.Seconds.Median)
		}
		rows = append(rows, []string{c.Backend, fmt.Sprint(c.N), fmt.Sprint(c.D), fmt.Sprintf("%.3g", float64(c.N)/float64(c.D)),
			fmtSeconds(c.Direct), fmtSeconds(c.Dual), c.Winner, fmt.Sprintf("%s (%s)", c.Auto, autoTime), c.Agrees})
	}
	table(b, []string{"backend", "N", "D", "N/D", "direct", "dual", "faster", "engine's choice (its time)", "picks the faster"}, rows)
}

// writeEigenPhase pairs the two routes of the eigen phase per backend and
// shape.
func writeEigenPhase(b *strings.Builder, rep *Report) {
	var rows [][]string
	for _, r := range rep.Results {
		if r.Group != GroupEigenPhase || r.Params["route"] != RouteVectors || !r.OK() {
			continue
		}
		proj, speedup := "–", "–"
		for _, c := range rep.Comparisons {
			if c.Reference != r.Name {
				continue
			}
			if p := rep.Find(c.Subject); p != nil && p.OK() {
				proj, speedup = fmtSeconds(p.Seconds.Median)+" ("+spread(*p)+")", fmt.Sprintf("%.2f×", c.Ratio)
			}
		}
		rows = append(rows, []string{r.Backend, fmt.Sprint(r.Params["d"]), fmt.Sprint(r.Params["c"]),
			fmtSeconds(r.Seconds.Median) + " (" + spread(r) + ")", proj, speedup, coresBusy(r)})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### The eigen phase: projections without eigenvectors\n\n")
	b.WriteString("All eigenvalues of the D×D Gram of a dataset's moments and the projections P = M·U of its C rows M = YᵀX, " +
		"by the full eigendecomposition with vectors (dsyevd on openblas) followed by the C×D GEMM, and by the projection route, " +
		"which never forms U. Speed-up > 1: the projection route is faster.\n\n")
	table(b, []string{"backend", "D", "C", "vectors + GEMM (min – max)", "projection (min – max)", "speed-up", "cores busy (vectors)"}, rows)
}

// writeEndToEnd lists whole commands run as child processes, with the peak
// memory of each.
func writeEndToEnd(b *strings.Builder, rep *Report) {
	var rows [][]string
	for _, r := range rep.Results {
		if r.Group != GroupEndToEnd || !r.OK() {
			continue
		}
		peak := "–"
		if r.PeakRSSBytes > 0 {
			peak = fmtBytes(r.PeakRSSBytes)
		}
		_, _, rest := splitName(r.Name)
		rows = append(rows, []string{rest, who(r), fmt.Sprint(r.Outcome["route"]), fmtSeconds(r.Seconds.Median), spread(r),
			fmt.Sprint(r.Repeats), peak, coresBusy(r)})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### End to end in a child process, with peak memory\n\n")
	b.WriteString("The command a user types, run as a child process from start to exit (generation of the synthetic images included); " +
		"peak memory is the child's peak resident set (getrusage's maxrss).\n\n")
	table(b, []string{"case", "backend", "route", "median", "min – max", "repeats", "peak memory", "cores busy"}, rows)
}

func writeScaling(b *strings.Builder, rep *Report, dir string) {
	var rows [][]string
	for _, f := range rep.Fits {
		var pts []string
		for _, p := range f.Points {
			pts = append(pts, fmt.Sprintf("%g: %s", p[0], fmtSeconds(p[1])))
		}
		rows = append(rows, []string{f.Series, f.Backend, f.Variable, fmt.Sprintf("%.2f", f.Exponent), fmt.Sprintf("%g", f.Expected), strings.Join(pts, ", ")})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Scaling\n\n")
	b.WriteString("Least-squares slope of log(median time) against log(size). The Gram should be linear in N and quadratic in D, " +
		"eigh cubic in n; small sizes, where fixed costs and caches matter, pull the slopes down.\n\n")
	table(b, []string{"series", "backend", "size", "fitted exponent", "expected", "size: median time"}, rows)
	for _, p := range rep.Plots {
		rel := p
		if r, err := filepath.Rel(dir, p); err == nil {
			rel = filepath.ToSlash(r)
		}
		fmt.Fprintf(b, "![%s](%s)\n", strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), rel)
	}
	if len(rep.Plots) > 0 {
		b.WriteString("\n")
	}
}

func writeSkipsAndFailures(b *strings.Builder, rep *Report) {
	var fails, skips []string
	for _, r := range rep.Results {
		switch r.Status {
		case StatusFail:
			fails = append(fails, fmt.Sprintf("- `%s`: %s (checked: %s)", r.Name, r.Reason, r.Check))
		case StatusSkip:
			skips = append(skips, fmt.Sprintf("- `%s`: %s", r.Name, r.Reason))
		}
	}
	if len(fails) > 0 {
		b.WriteString("### Failures\n\n" + strings.Join(fails, "\n") + "\n\n")
	}
	if len(skips) > 0 {
		b.WriteString("### Not measured in this run\n\n" + strings.Join(skips, "\n") + "\n\n")
	}
}

func writeMethod(b *strings.Builder, rep *Report) {
	b.WriteString("### Method\n\n")
	warm := ""
	if w := rep.Timing.Warmup - 1; w > 0 {
		warm = fmt.Sprintf("then up to %d more warm-up run(s) (none when one run is long), ", w)
	}
	single := ""
	if rep.Timing.SingleRunAbove > 0 {
		single = fmt.Sprintf("A run of %.0f s or more is timed as it is checked and is then the scenario's only run. ", rep.Timing.SingleRunAbove)
	}
	fmt.Fprintf(b, "- Each scenario runs once untimed and its answer is checked against a reference (below); %s"+
		"then %d to %d timed runs (as many as fit in about %.0f s, never past %.0f s for the scenario), and the check again. %s"+
		"Times are wall-clock medians with the fastest and slowest run; \"cores busy\" is process CPU time over wall time. "+
		"Go's garbage collector runs before each timed run, outside the timer. A scenario whose estimated cost (extrapolated "+
		"from a smaller size, or from its backend's best rate so far) exceeds the limit is listed as not measured.\n",
		warm, rep.Timing.MinRepeats, rep.Timing.MaxRepeats, rep.Timing.BudgetS, rep.Timing.MaxScenario, single)
	b.WriteString("- GFLOP/s divide a model count of the operation's useful work by the median time (so different algorithms for the " +
		"same job are compared on the same count); the counts and the checks are:\n\n")
	seen := map[string]bool{}
	var keys []string
	lines := map[string]string{}
	for _, r := range rep.Results {
		g, _, _ := splitName(r.Name)
		k := g + "/" + who(r)
		if seen[k] || r.Status == StatusSkip {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
		lines[k] = fmt.Sprintf("  - `%s`: flops %s; check: %s.", k, orDash(r.FlopModel), orDash(r.Check))
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(lines[k] + "\n")
	}
	b.WriteString("\n")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// envLine renders the BLAS environment for the markdown header.
func envLine(env map[string]string) string {
	if len(env) == 0 {
		return "none set"
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + env[k]
	}
	return strings.Join(parts, " ")
}
