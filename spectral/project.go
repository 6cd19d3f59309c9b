package spectral

import (
	"fmt"
	"runtime"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// Routes Project can take; Result.Route names the one it took.
const (
	// RouteFull is the full eigendecomposition (the backend's SymEig with
	// vectors when it has one, else Eigen) and one GEMM, M·U.
	RouteFull = "full"
	// RouteTwoStageQL is dense → band → tridiagonal with the reflectors
	// applied to Mᵀ, then the implicit QL with its rotations on Mᵀ's rows.
	RouteTwoStageQL = "two-stage+ql"
	// RouteTwoStageDC is the same reduction, then divide and conquer with
	// its merges applied to Mᵀ's rows as GEMMs.
	RouteTwoStageDC = "two-stage+dc"
)

// Options tune Project; the zero value chooses everything.
type Options struct {
	// Workers bounds the goroutines of the stages that do not go through
	// the Gemmer (0: GOMAXPROCS).
	Workers int
	// Bandwidth is stage 1's half-bandwidth b (0: chosen by size).
	Bandwidth int
	// Route forces a route by name (RouteFull, RouteTwoStageQL,
	// RouteTwoStageDC; another name panics); empty chooses by the measured
	// costs of route.go.
	Route string
}

// Result is what Project returns.
type Result struct {
	Values []float64      // all D eigenvalues of A, descending
	P      blas64.General // C×D: column j is M·u_j (u_j up to sign)
	Route  string         // the route taken, e.g. "two-stage+ql"
	// Stages are the route's stages in order with their wall and CPU
	// times, for logs and benchmarks. A stage named "… (within X)" ran
	// inside stage X, whose times include it.
	Stages []Stage
}

// Stage is one timed stage of a route: its wall time, and the CPU time of
// the whole process meanwhile (where the platform reports it; on a shared
// machine the steadier of the two).
type Stage struct {
	Name       string
	Seconds    float64
	CPUSeconds float64
}

// stopwatch appends the time since the previous mark to a list of stages.
type stopwatch struct {
	last    time.Time
	lastCPU float64
	stages  []Stage
}

func newStopwatch() *stopwatch { return &stopwatch{last: time.Now(), lastCPU: processCPU()} }

func (s *stopwatch) mark(name string) {
	now, cpu := time.Now(), processCPU()
	s.stages = append(s.stages, Stage{Name: name, Seconds: now.Sub(s.last).Seconds(), CPUSeconds: cpu - s.lastCPU})
	s.last, s.lastCPU = now, cpu
}

// within lists part, work that ran inside the last stage (beside it on a
// goroutine, or between its steps), as a stage of its own; the last
// stage's time still includes it.
func (s *stopwatch) within(part Stage) {
	part.Name += " (within " + s.stages[len(s.stages)-1].Name + ")"
	s.stages = append(s.stages, part)
}

// symEiger is the ability the full route uses when the Gemmer has it
// (every backend.Backend does).
type symEiger interface {
	SymEig(a blas64.General, vectors bool) ([]float64, error)
}

// Project computes all eigenvalues of the symmetric D×D matrix a (upper
// triangle read) and the projections P = M·U of the rows of m (C×D) on its
// eigenvectors, without forming U on the two-stage routes. a is destroyed:
// it serves as the workspace of the reduction (at D = 12,288 a second D×D
// copy would be 1.2 GB). m is not modified. A NaN or Inf in a or m is an
// error naming the matrix; non-convergence wraps backend.ErrNotConverged.
func Project(g Gemmer, a, m blas64.General, opt Options) (*Result, error) {
	n := a.Rows
	checkShape("Project", "A", a, n, n)
	checkShape("Project", "M", m, m.Rows, n)
	if err := checkFinite("A", a, true); err != nil {
		return nil, err
	}
	if err := checkFinite("M", m, false); err != nil {
		return nil, err
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	route := opt.Route
	if route == "" {
		route = chooseRoute(n, m.Rows)
	}
	res := &Result{Route: route}
	sw := newStopwatch()
	var err error
	switch route {
	case RouteFull:
		res.Values, res.P, err = projectFull(g, a, m, workers, sw)
	case RouteTwoStageQL, RouteTwoStageDC:
		b := opt.Bandwidth
		if b <= 0 {
			b = chooseBandwidth(n)
		}
		res.Values, res.P, err = projectTwoStage(g, a, m, b, route == RouteTwoStageDC, workers, sw)
	default:
		panic(fmt.Sprintf("spectral: unknown route %q", route))
	}
	if err != nil {
		return nil, err
	}
	res.Stages = sw.stages
	return res, nil
}

// projectFull eigendecomposes a with vectors and multiplies: P = M·U.
func projectFull(g Gemmer, a, m blas64.General, workers int, sw *stopwatch) ([]float64, blas64.General, error) {
	var w []float64
	var err error
	if se, ok := g.(symEiger); ok {
		w, err = se.SymEig(a, true)
	} else {
		w, err = Eigen(g, a, workers)
	}
	if err != nil {
		return nil, blas64.General{}, err
	}
	sw.mark("eigendecomposition")
	p := backend.NewGeneral(m.Rows, a.Rows)
	if m.Rows > 0 && a.Rows > 0 {
		if err := g.Gemm(blas.NoTrans, blas.NoTrans, 1, m, a, 0, p); err != nil {
			return nil, blas64.General{}, err
		}
	}
	sw.mark("M·U")
	return w, p, nil
}

// projectTwoStage carries W = Mᵀ through both reductions and the
// tridiagonal solver (QL rotations or D&C merges), then hands back P = Wᵀ
// in descending order.
func projectTwoStage(g Gemmer, a, m blas64.General, b int, dc bool, workers int, sw *stopwatch) ([]float64, blas64.General, error) {
	n, c := a.Rows, m.Rows
	w := transpose(m)
	b = max(1, min(b, n-1))
	if n == 1 {
		return []float64{a.Data[0]}, backend.Clone(m), nil
	}
	bd, err := reduceToBand(g, a, b, w, false)
	if err != nil {
		return nil, blas64.General{}, err
	}
	sw.mark("dense→band")
	sw.within(Stage{Name: "Q1ᵀ·Mᵀ", Seconds: bd.carry.Seconds, CPUSeconds: bd.carry.CPUSeconds})
	yieldCores(g)
	bg := newBulge(a, b)
	bg.run(workers)
	d, e := bg.tridiagonal()
	sw.mark("band→tridiagonal")
	bg.applyQ2(w, true, workers)
	sw.mark("Q2ᵀ·W")
	solve, name := tridiagProject, "tridiagonal (QL)"
	if dc {
		solve, name = dcProject, "tridiagonal (D&C)"
	}
	if err := solve(d, e, w, g, workers); err != nil {
		return nil, blas64.General{}, err
	}
	sw.mark(name)
	values := make([]float64, n)
	for j := range values {
		values[j] = d[n-1-j]
	}
	p := backend.NewGeneral(c, n)
	for j := 0; j < n; j++ {
		row := w.Data[(n-1-j)*w.Stride : (n-1-j)*w.Stride+c]
		for i, v := range row {
			p.Data[i*n+j] = v
		}
	}
	return values, p, nil
}
