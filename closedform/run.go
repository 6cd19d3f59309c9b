package closedform

import (
	"fmt"
	"math"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/rsvd"
)

// The entry points of this file run a whole analysis on data through an
// engine: each borrows one backend from the engine's router for all of its
// work (the pass over the data and every closed form after it) and names
// that backend in its result.

// RangeRoute says how a Range is built from data.
type RangeRoute string

const (
	RangeAuto    RangeRoute = "auto"    // the engine's rule, engine.DualFits
	RangeMoments RangeRoute = "moments" // one pass into the D×D moments
	RangeDual    RangeRoute = "dual"    // the data held in memory, the N×N Gram when N < D
)

// ParseRangeRoute validates user input.
func ParseRangeRoute(s string) (RangeRoute, error) {
	switch r := RangeRoute(s); r {
	case RangeAuto, RangeMoments, RangeDual:
		return r, nil
	}
	return "", &engine.OptionError{Option: "Route", Value: fmt.Sprintf("%q", s), Want: "auto, moments or dual"}
}

// NewRangeOf builds the range of src on be, a backend borrowed from eng
// (inside eng.Do): from one pass of moments, or from the data in memory on
// the dual route (which always has the eigenvectors). The moments are
// released to the eigendecomposition: the range is their only use.
func NewRangeOf(eng *engine.Engine, be backend.Backend, src data.Source, center bool, opt RangeOptions, route RangeRoute) (*Range, error) {
	meta := src.Meta()
	dual := route == RangeDual || (route == RangeAuto || route == "") && engine.DualFits(meta.N, meta.D, 8) // its dual route reads float64
	if dual {
		x, y, err := eng.Collect(src)
		if err != nil {
			return nil, err
		}
		return NewRangeFromData(be, x, y, center, opt.RTol)
	}
	m, err := eng.MomentsOn(be, src)
	if err != nil {
		return nil, err
	}
	st, err := m.Release(center)
	if err != nil {
		return nil, err
	}
	rg, err := NewRangeWith(be, st, opt)
	if err != nil {
		return nil, err
	}
	eng.Options().Logf("eigen: %s (D = %d, C = %d, rank %d, eigenvectors %v)", rg.Route, rg.D, rg.C, rg.Rank, opt.Vectors)
	return rg, nil
}

func checkRTol(rtol float64) error {
	if !(rtol >= 0 && rtol < 1) {
		return &engine.OptionError{Option: "RTol", Value: rtol, Want: "a value in (0, 1), or 0 for the default"}
	}
	return nil
}

func needLabels(src data.Source, what string) error {
	if m := src.Meta(); m.Columns() == 0 {
		return fmt.Errorf("%s: %s: %w", m.Name, what, engine.ErrNeedsLabels)
	}
	return nil
}

// SolveOptions configure Solve.
type SolveOptions struct {
	K       int       // embedding dimension, 1 ≤ K ≤ rank
	Lambdas []float64 // weights λ ≥ 0 of the reconstruction term
	Center  bool
	RTol    float64 // 0: engine.DefaultRTol
	Route   RangeRoute
	Vectors bool // also form V*, W* and Z*
}

// Solution is Theorem 1's optimum for each λ on one dataset.
type Solution struct {
	N, D, C  int
	Centered bool
	Route    engine.Route
	Rank     int
	TraceGx  float64 // tr(XᵀX), centred when Centered
	TraceGy  float64 // tr(YᵀY)
	Results  []*Supervised
	Backend  backend.Info
}

// Solve computes Theorem 1's optimum on src for every λ of opt.Lambdas.
func Solve(eng *engine.Engine, src data.Source, opt SolveOptions) (*Solution, error) {
	if err := checkRTol(opt.RTol); err != nil {
		return nil, err
	}
	if opt.K < 1 {
		return nil, &engine.OptionError{Option: "K", Value: opt.K, Want: "K ≥ 1"}
	}
	for _, l := range opt.Lambdas {
		if !(l >= 0) || math.IsInf(l, 0) {
			return nil, &engine.OptionError{Option: "Lambda", Value: l, Want: "a finite λ ≥ 0"}
		}
	}
	if err := needLabels(src, "Theorem 1's supervised term fits the labels"); err != nil {
		return nil, err
	}
	meta := src.Meta()
	var sol *Solution
	info, err := eng.Do(engine.OpClosedForm, engine.Shape{N: meta.N, D: meta.D}, func(be backend.Backend) error {
		// Theorem 1's losses need Λ and Z only; V*, W*, Z* need U.
		rg, err := NewRangeOf(eng, be, src, opt.Center, RangeOptions{RTol: opt.RTol, Vectors: opt.Vectors}, opt.Route)
		if err != nil {
			return fmt.Errorf("%s: %w", meta.Name, err)
		}
		if opt.K > rg.Rank {
			return &engine.OptionError{Option: "K", Value: opt.K, Want: fmt.Sprintf("1 ≤ K ≤ %d, the numerical rank of %s (N=%d, D=%d)", rg.Rank, meta.Name, meta.N, meta.D)}
		}
		sol = &Solution{N: rg.N, D: rg.D, C: rg.C, Centered: opt.Center, Route: rg.Route, Rank: rg.Rank, TraceGx: rg.TraceGx}
		for i := 0; i < rg.C; i++ {
			sol.TraceGy += rg.Gy.Data[i*rg.Gy.Stride+i]
		}
		for _, l := range opt.Lambdas {
			s, err := SolveSupervised(be, rg, opt.K, l, opt.Vectors)
			if err != nil {
				return err
			}
			sol.Results = append(sol.Results, s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sol.Backend = info
	return sol, nil
}

// DenoiseDataOptions configure DenoiseData.
type DenoiseDataOptions struct {
	// Align are the alignment choices; its Center also centres the data.
	Align engine.AlignOptions
	// BatchStdErr also solves each Monte Carlo batch for standard errors.
	BatchStdErr bool
	// MonteCarlo configures the sampled noises; its ChunkRows and Workers
	// default to the engine's chunk rows and threads, and its Progress is
	// replaced by Progress(noise name) when that is set.
	MonteCarlo MonteCarloOptions
	Progress   func(noise string) func(done, total int)
}

// Denoising is a grid of denoising autoencoders solved on one dataset.
type Denoising struct {
	N, D, C  int
	Rank     int
	Centered bool
	// Route is how the range was computed (the eigendecomposition of Gx,
	// e.g. "direct", or "direct/two-stage+ql" without eigenvectors); each
	// result's Route says how its pencil was solved.
	Route   engine.Route
	Clean   *engine.Curve // the alignment of plain reconstruction
	Results []*DenoiseResult
	Backend backend.Info
}

// DenoiseData streams src into its moments, samples every Monte Carlo noise
// of plan (one pass each) and solves every setting against the clean curve.
func DenoiseData(eng *engine.Engine, src data.Source, plan *Plan, opt DenoiseDataOptions) (*Denoising, error) {
	if err := checkRTol(opt.Align.RTol); err != nil {
		return nil, err
	}
	if err := needLabels(src, "the alignment is measured against the labels"); err != nil {
		return nil, err
	}
	meta := src.Meta()
	mopt := opt.MonteCarlo
	if mopt.ChunkRows == 0 {
		mopt.ChunkRows = eng.Options().ChunkRows
	}
	if mopt.Workers == 0 {
		mopt.Workers = eng.Options().Threads
	}
	var out *Denoising
	info, err := eng.Do(engine.OpClosedForm, engine.Shape{N: meta.N, D: meta.D}, func(be backend.Backend) error {
		m, err := eng.MomentsOn(be, src)
		if err != nil {
			return err
		}
		// The moments serve one eigendecomposition (the Monte Carlo passes
		// read their mean and counts only), so the accumulator's Gram is
		// released to it; the masks' same-patch entries are kept first.
		st, err := m.Release(opt.Align.Center)
		if err != nil {
			return err
		}
		ropt := RangeOptions{RTol: opt.Align.RTol, Vectors: len(plan.MonteCarlo) > 0}
		for _, n := range plan.Closed {
			ropt.Vectors = ropt.Vectors || n.needsVectors()
			if m, ok := n.(Mask); ok {
				ropt.Masks = append(ropt.Masks, m)
			}
		}
		rg, err := NewRangeWith(be, st, ropt)
		if err != nil {
			return fmt.Errorf("%s: %w", meta.Name, err)
		}
		logf := eng.Options().Logf
		logf("eigen: %s (D = %d, C = %d, rank %d, eigenvectors %v)", rg.Route, rg.D, rg.C, rg.Rank, ropt.Vectors)
		list := append([]Noise(nil), plan.Closed...)
		for _, mc := range plan.MonteCarlo {
			o := mopt
			if opt.Progress != nil {
				o.Progress = opt.Progress(mc.Name)
			}
			est, err := EstimateMoments(be, src, st, mc, o)
			if err != nil {
				return err
			}
			list = append(list, est)
		}
		clean, results, err := DenoiseGrid(be, rg, list, DenoiseOptions{Align: opt.Align, BatchStdErr: opt.BatchStdErr})
		if err != nil {
			return err
		}
		routes := map[string]int{}
		for _, r := range results {
			routes[r.Route]++
		}
		logf("denoise: %d pencils of order %d solved by route %v", len(results), rg.Rank, routes)
		out = &Denoising{N: meta.N, D: meta.D, C: meta.Columns(), Rank: rg.Rank, Centered: opt.Align.Center, Route: rg.Route, Clean: clean, Results: results}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Backend = info
	out.Clean.Backend = info
	return out, nil
}

// ProjectOptions configure Project.
type ProjectOptions struct {
	Keep     Keep
	Variance float64 // share of the training variance, in (0, 1]
	RTol     float64 // 0: engine.DefaultRTol
	// TopK > 0 finds only the TopK leading directions by randomized SVD
	// (rsvd.TopK, for large D) with Oversample and PowerIters; 0 takes the
	// full eigendecomposition of the D×D Gram.
	TopK, Oversample, PowerIters int
	// ChunkRows is the rows projected per chunk (0: the engine's, capped at
	// ProjectChunkBytes of float64 rows).
	ChunkRows int
	// Begin and Progress report the top-K passes (rsvd.Options).
	Begin    func(method string, passes int)
	Progress func(done, total int)
}

// ProjectChunkBytes bounds a chunk of float64 rows when no chunk size is
// given: at D = 150,528 the engine's default 4,096 rows would be 4.9 GB.
const ProjectChunkBytes = 64 << 20

// LeadingErrorWarn is the relative eigenvalue error estimate of the leading
// directions beyond which a top-K projection (and its cut) is visibly off
// from the exact one.
const LeadingErrorWarn = 1e-6

// ProjectTarget is a dataset to project and where its rows go: Write gets
// each chunk's projected rows (n×D float64, row-major, valid during the call).
type ProjectTarget struct {
	Src   data.Source
	Write func(rows []float64) error
}

// Projection describes the projection Project applied.
type Projection struct {
	Sub Subspace
	D   int
	// With TopK: the randomized SVD, the leading directions the projector
	// was built from, and the largest relative eigenvalue error estimate and
	// bound among them.
	TopK          *rsvd.Result
	Used          int
	ErrorEstimate float64
	ErrorBound    float64
	Backend       backend.Info
}

// Project fits the principal directions of train (centred) and streams each
// target through x ↦ μ + (x−μ)·U_S·U_Sᵀ for the subspace S of opt, all on
// one backend.
func Project(eng *engine.Engine, train data.Source, opt ProjectOptions, targets ...ProjectTarget) (*Projection, error) {
	meta := train.Meta()
	switch {
	case opt.Keep != KeepTop && opt.Keep != KeepBottom:
		return nil, &engine.OptionError{Option: "Keep", Value: opt.Keep, Want: "top or bottom"}
	case !(opt.Variance > 0 && opt.Variance <= 1):
		return nil, &engine.OptionError{Option: "Variance", Value: opt.Variance, Want: "a fraction in (0, 1]"}
	case opt.TopK < 0 || opt.TopK > meta.D:
		return nil, &engine.OptionError{Option: "TopK", Value: opt.TopK, Want: fmt.Sprintf("0 (all directions) or at most the %d features of %s", meta.D, meta.Name)}
	case opt.Oversample < 0:
		return nil, &engine.OptionError{Option: "Oversample", Value: opt.Oversample, Want: "≥ 0"}
	case opt.PowerIters < 0:
		return nil, &engine.OptionError{Option: "PowerIters", Value: opt.PowerIters, Want: "≥ 0"}
	}
	if err := checkRTol(opt.RTol); err != nil {
		return nil, err
	}
	for _, t := range targets {
		if d := t.Src.Meta().D; d != meta.D {
			return nil, fmt.Errorf("%s has D = %d features but the training data %s have %d", t.Src.Meta().Name, d, meta.Name, meta.D)
		}
	}
	chunk := opt.ChunkRows
	if chunk <= 0 {
		chunk = min(eng.Options().ChunkRows, data.ChunkRowsFor(meta.D, ProjectChunkBytes))
	}
	op, shape := engine.OpEigh, engine.Shape{N: meta.N, D: meta.D}
	if opt.TopK > 0 {
		op, shape.K, shape.Passes = engine.OpTopK, opt.TopK+opt.Oversample, opt.PowerIters+2
	}
	out := &Projection{D: meta.D}
	info, err := eng.Do(op, shape, func(be backend.Backend) error {
		var proj *Projector
		var err error
		if opt.TopK > 0 {
			proj, err = out.fitLeading(be, train, opt, chunk)
		} else {
			proj, err = out.fitFull(eng, be, train, opt)
		}
		if err != nil {
			return err
		}
		for _, t := range targets {
			if err := ProjectSource(proj, t.Src, chunk, func(rows []float64, _ int) error { return t.Write(rows) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Backend = info
	return out, nil
}

func (out *Projection) fitFull(eng *engine.Engine, be backend.Backend, train data.Source, opt ProjectOptions) (*Projector, error) {
	spec, err := SpectrumOf(eng, be, train, opt.RTol)
	if err != nil {
		return nil, err
	}
	if out.Sub, err = spec.Cut(opt.Keep, opt.Variance); err != nil {
		return nil, err
	}
	return spec.Projector(be, out.Sub), nil
}

func (out *Projection) fitLeading(be backend.Backend, train data.Source, opt ProjectOptions, chunk int) (*Projector, error) {
	name := train.Meta().Name
	ropt := rsvd.Options{K: opt.TopK, Oversample: opt.Oversample, PowerIters: opt.PowerIters, Center: true,
		Seed: 1, ChunkRows: chunk, NoLabels: true, Begin: opt.Begin}
	res, err := rsvd.TopK(be, data.WithProgress(train, opt.Progress), ropt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out.TopK = res
	ls, err := NewLeadingSpectrum(res.Mean, res.Values, res.Vectors, res.Trace)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if out.Sub, err = ls.Cut(opt.Keep, opt.Variance); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	proj, err := ls.Projector(be, out.Sub)
	if err != nil {
		return nil, err
	}
	// The directions the projector is built from: the cut's own for a top
	// subspace, the ones before it for a bottom one. The accuracy that
	// matters is theirs (the last of K are always the worst).
	out.Used = out.Sub.Count
	if opt.Keep == KeepBottom {
		out.Used = out.Sub.First
	}
	for j := 0; j < out.Used && j < len(res.Values); j++ {
		if v := res.Values[j]; v > 0 {
			out.ErrorEstimate = max(out.ErrorEstimate, res.ValueErrors[j]/v)
			out.ErrorBound = max(out.ErrorBound, res.ValueBounds[j]/v)
		}
	}
	return proj, nil
}

// SpectrumOf streams src once on be (a backend borrowed from eng, inside
// eng.Do) and eigendecomposes its centred Gram, which it releases to the
// eigendecomposition (the probe and the projector read the spectrum, M and
// the means, never Gx again).
func SpectrumOf(eng *engine.Engine, be backend.Backend, src data.Source, rtol float64) (*Spectrum, error) {
	m, err := eng.MomentsOn(be, src)
	if err != nil {
		return nil, err
	}
	st, err := m.Release(true)
	if err != nil {
		return nil, err
	}
	spec, err := NewSpectrum(be, st, rtol)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Meta().Name, err)
	}
	return spec, nil
}

// ProbeOptions configure ProbeData.
type ProbeOptions struct {
	Ridge float64 // added to the summed centred Gram (0: minimum-norm least squares)
	RTol  float64 // 0: engine.DefaultRTol
	// Keep and Variance restrict the probe to a principal subspace (Keep
	// empty: all directions); Sweep, when not empty, replaces the single
	// probe by the Figure 4 table over these variance fractions.
	Keep     Keep
	Variance float64
	Sweep    []float64
}

// ProbeReport is the result of ProbeData: one probe's accuracy, or the sweep.
type ProbeReport struct {
	NTrain, NTest, D, C int
	Subspace            *Subspace
	Accuracy            *float64
	Sweep               []SweepRow
	Backend             backend.Info
}

// ProbeData fits the closed-form linear probe on train (one pass) and
// measures it on test (one more pass).
func ProbeData(eng *engine.Engine, train, test data.Source, opt ProbeOptions) (*ProbeReport, error) {
	if err := checkRidge(opt.Ridge); err != nil {
		return nil, err
	}
	if err := checkRTol(opt.RTol); err != nil {
		return nil, err
	}
	for _, v := range opt.Sweep {
		if !(v > 0 && v <= 1) {
			return nil, &engine.OptionError{Option: "Sweep", Value: v, Want: "variance fractions in (0, 1]"}
		}
	}
	for _, s := range []data.Source{train, test} {
		if err := needLabels(s, "the probe fits and scores class labels"); err != nil {
			return nil, err
		}
	}
	meta, tmeta := train.Meta(), test.Meta()
	if tmeta.D != meta.D {
		return nil, fmt.Errorf("%s has D = %d features but the training data %s have %d", tmeta.Name, tmeta.D, meta.Name, meta.D)
	}
	chunk := eng.Options().ChunkRows
	var rep *ProbeReport
	info, err := eng.Do(engine.OpClosedForm, engine.Shape{N: meta.N, D: meta.D}, func(be backend.Backend) error {
		spec, err := SpectrumOf(eng, be, train, opt.RTol)
		if err != nil {
			return err
		}
		rep = &ProbeReport{NTrain: spec.N, NTest: tmeta.N, D: spec.D, C: spec.Stats.C}
		if len(opt.Sweep) > 0 {
			rep.Sweep, err = ProbeSweep(be, spec, test, opt.Sweep, opt.Ridge, chunk)
			return err
		}
		sub := spec.All()
		if opt.Keep != "" {
			if sub, err = spec.Cut(opt.Keep, opt.Variance); err != nil {
				return err
			}
		}
		p, err := FitProbe(be, spec, sub, opt.Ridge)
		if err != nil {
			return err
		}
		acc, err := p.Accuracy(be, test, chunk)
		if err != nil {
			return err
		}
		rep.Subspace, rep.Accuracy = &sub, &acc
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Backend = info
	return rep, nil
}
