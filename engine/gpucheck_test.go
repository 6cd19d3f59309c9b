package engine

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	gbackend "github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
)

// TestGPUCheck is the engine half of scripts/gpu-check.sh: on the GPU machine
// (RECONALIGN_GPU_CHECK=1) it times the Gram per precision on a 65,536-row
// chunk at D = 12,288 against fp64, the eigendecompositions at 4,096 and
// 12,288, and the whole alignment curve of an ImageNet-64-sized uint8 dataset
// held in host RAM, then prints one table. Elsewhere it skips;
// TestGPUCheckFailsCleanly runs the same stages on the CPU.
//
// BUG(engine): written without a GPU; it has not run on one yet.
func TestGPUCheck(t *testing.T) {
	if os.Getenv("RECONALIGN_GPU_CHECK") != "1" {
		t.Skip("set RECONALIGN_GPU_CHECK=1 on a GPU machine (scripts/gpu-check.sh does)")
	}
	c := &gpuCheck{report: t}
	defer c.print(os.Stdout) // also after t.Fatalf
	gpu, err := backend.Open("cuda", backend.Options{})
	if err != nil {
		c.row("%-34s FAILED: %v", "open the cuda backend", err)
		t.Fatalf("open the cuda backend: %v", err)
	}
	if cl, ok := gpu.(backend.Closer); ok {
		defer cl.Close()
	}
	c.run(gpu, "cuda", envInt("RECONALIGN_GPU_CHECK_N", 1281167), envInt("RECONALIGN_GPU_CHECK_D", 12288))
}

// checkReporter is where gpuCheck reports failures: the *testing.T of
// TestGPUCheck, or a recorder in the test of the check itself.
type checkReporter interface {
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// gpuCheck is one run of the GPU check's stages and its table.
//
// Each stage checks its answer as well as timing it: the exact-u8 Gram equals
// the fp64 one bit for bit (both are exact for uint8 data), the float modes
// stay within gpuGramTolerance of it, the eigenpairs satisfy A·v = λ·v, and the
// two end-to-end curves agree. A stage that fails is a row of the table and an
// Errorf, and a later stage that needs its result says so instead of running:
// nothing in the check panics on a missing result.
type gpuCheck struct {
	report checkReporter
	rows   []string
}

func (c *gpuCheck) row(format string, args ...any) {
	c.rows = append(c.rows, fmt.Sprintf(format, args...))
	c.report.Logf("%s", c.rows[len(c.rows)-1])
}

func (c *gpuCheck) fail(stage string, err error) {
	c.row("%-34s FAILED: %v", stage, err)
	c.report.Errorf("%s: %v", stage, err)
}

// print writes the table; scripts/gpu-check.sh copies it from the first
// line on.
func (c *gpuCheck) print(w io.Writer) {
	fmt.Fprintln(w, "\nGPU check (engine):")
	for _, r := range c.rows {
		fmt.Fprintln(w, "  "+r)
	}
}

// run checks be (which must stream the Gram and select its precision) on an
// n×d imageLike dataset, and the engine end to end on the backend named
// engineBackend.
func (c *gpuCheck) run(be backend.Backend, engineBackend string, n, d int) {
	start := time.Now()
	x, labels := imageLike(n, d, 1000)
	c.row("%-34s %9.2f s", fmt.Sprintf("fill %d×%d uint8 in RAM", n, d), time.Since(start).Seconds())

	// The Gram per precision on one chunk of at most 65,536 rows, error
	// against fp64.
	chunk := backend.Chunk{N: min(65536, n), D: d, U8: x[:min(65536, n)*d]}
	grams := map[string][]float64{}
	for _, p := range []string{"fp64", "fp32", "tf32", "bf16", "exact-u8"} {
		stage := fmt.Sprintf("gram %s (%d rows)", p, chunk.N)
		g, secs, err := gramOnce(be, chunk, p)
		if err != nil {
			c.fail(stage, err)
			continue
		}
		if p == "fp64" || p == "exact-u8" { // kept for the eigensolvers; 1.2 GB each at D = 12,288
			grams[p] = g
		}
		rate := fmt.Sprintf("%9.4f s %8.1f TFLOP/s", secs, 2*float64(chunk.N)*float64(d)*float64(d)/secs/1e12)
		ref, ok := grams["fp64"]
		switch {
		case p == "fp64":
			c.row("%-34s %s", stage, rate)
		case !ok:
			c.fail(stage, fmt.Errorf("no fp64 Gram to compare with (%s)", strings.TrimSpace(rate)))
		default:
			e := maxRelErr(g, ref)
			c.row("%-34s %s  max rel err vs fp64 %.2e", stage, rate, e)
			if tol := gpuGramTolerance[p]; !(e <= tol) {
				c.report.Errorf("%s: max relative error %.3g against fp64, tolerance %.3g", stage, e, tol)
			}
		}
	}
	if err := usePrecisionOf(be, "fp64"); err != nil {
		c.fail("back to fp64", err)
	}

	// Eigendecompositions of the leading m×m block of the Gram.
	ref, ok := grams["fp64"]
	if !ok {
		ref, ok = grams["exact-u8"] // equal to it when both work
	}
	for _, m := range sizesUpTo(d, 4096, d) {
		stage := fmt.Sprintf("eigh %d (fp64, vectors)", m)
		if !ok {
			c.fail(stage, errors.New("skipped: no fp64 or exact-u8 Gram to decompose"))
			continue
		}
		a := backend.NewGeneral(m, m)
		for i := 0; i < m; i++ {
			copy(a.Data[i*m:(i+1)*m], ref[i*d:i*d+m])
		}
		orig := backend.Clone(a)
		start := time.Now()
		w, err := be.SymEig(a, true)
		secs := time.Since(start).Seconds()
		if err != nil {
			c.fail(stage, err)
			continue
		}
		res, err := eigenResidual(orig, w, a)
		if err != nil {
			c.fail(stage, err)
			continue
		}
		c.row("%-34s %9.2f s  max |A·v−λ·v|/λmax %.1e (largest, smallest pair)", stage, secs, res)
		if !(res <= 1e-10) {
			c.report.Errorf("%s: residual %.3g of the largest eigenvalue, tolerance 1e-10", stage, res)
		}
	}

	// End to end: moments, eigh and the curve, per precision.
	var shape data.Shape // plain vectors unless d is ImageNet-64's
	if d == 64*64*3 {
		shape = data.Shape{H: 64, W: 64, C: 3, Layout: data.HWC}
	}
	src, err := data.FromMatrix(backend.Chunk{N: n, D: d, U8: x}, labels, shape)
	if err != nil {
		c.fail("align: the in-memory source", err)
		return
	}
	curves := map[string][]float64{}
	for _, p := range []string{"exact-u8", "fp64"} {
		stage := "align " + p + " (end to end)"
		e, err := New(Options{Backend: engineBackend, Precision: p, ChunkRows: 65536})
		if err != nil {
			c.fail(stage, err)
			continue
		}
		start := time.Now()
		cv, err := e.Align(src, AlignOptions{Center: true})
		secs := time.Since(start).Seconds()
		e.Close()
		if err != nil {
			c.fail(stage, err)
			continue
		}
		if len(cv.Alignment) < 10 {
			c.fail(stage, fmt.Errorf("%.2f s, rank %d: a curve of %d points, want at least 10", secs, cv.Rank, len(cv.Alignment)))
			continue
		}
		curves[p] = cv.Alignment
		c.row("%-34s %9.2f s  rank %d, alignment(10) %.6f", stage, secs, cv.Rank, cv.Alignment[9])
	}
	a, b := curves["exact-u8"], curves["fp64"]
	switch {
	case a == nil || b == nil:
		c.fail("align exact-u8 vs fp64", errors.New("skipped: a curve is missing"))
	case len(a) != len(b):
		c.fail("align exact-u8 vs fp64", fmt.Errorf("curves of %d and %d points", len(a), len(b)))
	default:
		diff := maxAbsDiff(a, b)
		c.row("%-34s %.2e", "align exact-u8 vs fp64 max diff", diff)
		// The two Grams are equal but for the float64 rounding of a shift
		// (see the cuda package's BUG notes): far below 1e-6 in the curve.
		if !(diff <= 1e-6) {
			c.report.Errorf("align: exact-u8 and fp64 curves differ by %.3g, tolerance 1e-6", diff)
		}
	}
}

// gpuGramTolerance is the largest relative error per entry, against the fp64
// Gram, that each mode may show on imageLike's uint8 chunk: the pixels and
// their products are exact in every mode, so only the float32 sums round
// (about 1e-6 in practice); exact-u8 must be bit-exact.
var gpuGramTolerance = map[string]float64{"fp32": 1e-3, "tf32": 1e-3, "bf16": 1e-3, "exact-u8": 0}

// sizesUpTo lists the given sizes that are at most d, without repeats.
func sizesUpTo(d int, sizes ...int) []int {
	var out []int
	for _, m := range sizes {
		if m <= d && (len(out) == 0 || out[len(out)-1] != m) {
			out = append(out, m)
		}
	}
	return out
}

// eigenResidual checks the largest and the smallest eigenpair of the
// symmetric a (upper triangle) against w (descending) and the eigenvectors in
// the columns of v: it returns max |A·v − λ·v| over both, relative to |λ₁|.
func eigenResidual(a blas64.General, w []float64, v blas64.General) (float64, error) {
	m := a.Rows
	if len(w) != m || v.Rows != m || v.Cols != m {
		return 0, fmt.Errorf("%d eigenvalues and %d×%d vectors for a %d×%d matrix", len(w), v.Rows, v.Cols, m, m)
	}
	if m == 0 {
		return 0, nil
	}
	scale := math.Abs(w[0])
	if !(scale > 0) {
		return 0, fmt.Errorf("largest eigenvalue %v", w[0])
	}
	worst := 0.0
	for _, j := range []int{0, m - 1} {
		av := make([]float64, m)
		for i := 0; i < m; i++ {
			vi := v.Data[i*v.Stride+j]
			av[i] += a.Data[i*a.Stride+i] * vi
			for l := i + 1; l < m; l++ {
				aij := a.Data[i*a.Stride+l]
				av[i] += aij * v.Data[l*v.Stride+j]
				av[l] += aij * vi
			}
		}
		for i := range av {
			worst = math.Max(worst, math.Abs(av[i]-w[j]*v.Data[i*v.Stride+j])/scale)
		}
	}
	return worst, nil
}

// usePrecisionOf selects a GPU backend's Gram arithmetic by name.
func usePrecisionOf(be backend.Backend, p string) error {
	s, ok := be.(backend.PrecisionSelector)
	if !ok {
		return fmt.Errorf("%s has no precision to select", be.Info().Name)
	}
	return s.UsePrecision(p)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// imageLike fills an n×d uint8 matrix in parallel: per-pixel means, hashed
// noise and a class bump on a few pixels (label i mod classes), cheap enough
// to make 15.7 GB in seconds.
func imageLike(n, d, classes int) ([]uint8, []int) {
	x := make([]uint8, n*d)
	labels := make([]int, n)
	w := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for p := 0; p < w; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < n; i += w {
				l := i % classes
				labels[i] = l
				h := uint64(i)*0x9E3779B97F4A7C15 + 1
				row := x[i*d : (i+1)*d]
				for j := range row {
					h ^= h >> 29
					h *= 0xBF58476D1CE4E5B9
					h ^= h >> 32
					row[j] = uint8(64 + j%64 + int(h&63))
				}
				row[(l*7)%d] += 40
			}
		}()
	}
	wg.Wait()
	return x, labels
}

// gramOnce times one streamed Gram of the chunk in precision p.
func gramOnce(be backend.Backend, x backend.Chunk, p string) ([]float64, float64, error) {
	if err := usePrecisionOf(be, p); err != nil {
		return nil, 0, err
	}
	s, ok := be.(backend.GramStreamer)
	if !ok {
		return nil, 0, fmt.Errorf("%s streams no Gram", be.Info().Name)
	}
	g := backend.NewGeneral(x.D, x.D)
	run := func() error {
		if err := s.GramBegin(x.D); err != nil {
			return err
		}
		if err := s.GramChunk(x, nil); err != nil {
			return err
		}
		return s.GramEnd(g)
	}
	if err := run(); err != nil { // warm-up: kernels compiled, buffers allocated
		return nil, 0, err
	}
	for i := range g.Data {
		g.Data[i] = 0
	}
	start := time.Now()
	err := run()
	return g.Data, time.Since(start).Seconds(), err
}

// maxRelErr is the largest relative difference over the nonzero entries of
// want; NaN when any compared entry of got is NaN, +Inf when the lengths differ.
func maxRelErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range want {
		if want[i] != 0 {
			m = math.Max(m, math.Abs(got[i]-want[i])/math.Abs(want[i]))
		}
	}
	return m
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range min(len(a), len(b)) {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// cpuStandIn dresses a CPU backend as the GPU check expects a GPU backend: a
// Gram streamed through GramAdd and a precision chosen by name, of which it
// offers those in precisions (its Gram is float64 in all of them, times
// 1 + off[p] in precision p). SymEig fails when failEig is set.
type cpuStandIn struct {
	backend.Backend
	precisions map[string]bool
	off        map[string]float64
	failEig    bool
	precision  string
	acc        blas64.General
}

func (s *cpuStandIn) UsePrecision(p string) error {
	if !s.precisions[p] {
		return fmt.Errorf("the CPU stand-in has no %s Gram", p)
	}
	s.precision = p
	return nil
}

func (s *cpuStandIn) GramBegin(d int) error {
	s.acc = backend.NewGeneral(d, d)
	return nil
}

func (s *cpuStandIn) GramChunk(x backend.Chunk, shift []float64) error {
	return s.Backend.GramAdd(s.acc, x, shift)
}

func (s *cpuStandIn) GramEnd(g blas64.General) error {
	for i := 0; i < g.Rows; i++ {
		for j := i; j < g.Cols; j++ {
			g.Data[i*g.Stride+j] += s.acc.Data[i*s.acc.Stride+j] * (1 + s.off[s.precision])
		}
	}
	return nil
}

func (s *cpuStandIn) SymEig(a blas64.General, vectors bool) ([]float64, error) {
	if s.failEig {
		return nil, errors.New("the stand-in eigensolver fails")
	}
	return s.Backend.SymEig(a, vectors)
}

// errorRecorder collects what the check reports.
type errorRecorder struct{ errs, logs []string }

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *errorRecorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

// TestGPUCheckFailsCleanly runs TestGPUCheck's stages on the CPU, small, with
// stages made to fail: each failure is reported with what failed, the stages
// that needed its result say why they did not run, nothing panics, and the
// table has a row for every stage.
func TestGPUCheckFailsCleanly(t *testing.T) {
	const n, d = 3000, 96
	all := map[string]bool{"fp64": true, "fp32": true, "tf32": true, "bf16": true, "exact-u8": true}
	for _, c := range []struct {
		name          string
		precisions    map[string]bool
		off           map[string]float64
		failEig       bool
		engineBackend string
		want          []string // one substring per error reported, in order
	}{
		{"every stage works", all, nil, false, "gonum", nil},
		{"Grams off", all, map[string]float64{"tf32": 2e-3, "bf16": -1e-4, "exact-u8": 1e-15}, false, "gonum", []string{
			"gram tf32 (3000 rows): max relative error 0.002 against fp64, tolerance 0.001",
			"gram exact-u8 (3000 rows): max relative error 1.21e-15 against fp64, tolerance 0",
		}},
		{"no Gram at all", nil, nil, false, "gonum", []string{
			"gram fp64 (3000 rows): the CPU stand-in has no fp64 Gram",
			"gram fp32 (3000 rows): the CPU stand-in has no fp32 Gram",
			"gram tf32", "gram bf16", "gram exact-u8",
			"back to fp64: the CPU stand-in has no fp64 Gram",
			"eigh 96 (fp64, vectors): skipped: no fp64 or exact-u8 Gram to decompose",
		}},
		{"no fp64 Gram", map[string]bool{"exact-u8": true}, nil, false, "gonum", []string{
			"gram fp64 (3000 rows): the CPU stand-in has no fp64 Gram",
			"gram fp32", "gram tf32", "gram bf16",
			"gram exact-u8 (3000 rows): no fp64 Gram to compare with (",
			"back to fp64",
		}},
		{"the eigensolver fails", all, nil, true, "gonum", []string{
			"eigh 96 (fp64, vectors): the stand-in eigensolver fails",
		}},
		{"the engine cannot open its backend", all, nil, false, "no-such-backend", []string{
			"align exact-u8 (end to end):", "align fp64 (end to end):",
			"align exact-u8 vs fp64: skipped: a curve is missing",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &errorRecorder{}
			check := &gpuCheck{report: rec}
			check.run(&cpuStandIn{Backend: gbackend.New(1), precisions: c.precisions, off: c.off, failEig: c.failEig}, c.engineBackend, n, d)
			if len(rec.errs) != len(c.want) {
				t.Errorf("%d errors reported, want %d:\n%s", len(rec.errs), len(c.want), strings.Join(rec.errs, "\n"))
			}
			for i, w := range c.want {
				if i < len(rec.errs) && !strings.Contains(rec.errs[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, rec.errs[i], w)
				}
			}
			var table strings.Builder
			check.print(&table)
			for _, stage := range []string{"fill 3000×96", "gram fp64", "gram fp32", "gram tf32", "gram bf16", "gram exact-u8",
				"eigh 96", "align exact-u8", "align fp64", "align exact-u8 vs fp64"} {
				if !strings.Contains(table.String(), stage) {
					t.Errorf("the table has no row for %q:\n%s", stage, table.String())
				}
			}
		})
	}
}
