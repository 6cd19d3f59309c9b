package scenario

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/cuda"
	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/internal/check"
	"github.com/reconalign/reconalign/bench/internal/input"
	"github.com/reconalign/reconalign/bench/pyref"
	"github.com/reconalign/reconalign/bench/report"
)

// eighFlops is the model count of a symmetric eigendecomposition with
// vectors: tridiagonal reduction 4n³/3, divide and conquer at most 4n³/3,
// back-transformation 2n³.
func eighFlops(n int) float64 { f := float64(n); return 14 * f * f * f / 3 }

const eighModel = "14n³/3: tridiagonal reduction 4n³/3 + divide and conquer ≤ 4n³/3 + back-transformation 2n³"

// gramFlops counts the upper triangle of XᵀX, a multiply-add being two flops.
func gramFlops(n, d int) float64 { return float64(n) * float64(d) * float64(d+1) }

const gramModel = "N·D·(D+1): the upper triangle of XᵀX, two flops per multiply-add"

// scenarios registers every scenario of the plan for the named backends,
// in the order they run: the ceilings first (fractions need them), then one
// family after another, backends interleaved at each size.
func (p Plan) scenarios(env *bench.Env, names []string) []bench.Scenario {
	var out []bench.Scenario
	add := func(s ...bench.Scenario) { out = append(out, s...) }
	for _, b := range names {
		n := p.GemmN
		if be, err := env.Backend(b); err == nil && be.Info().Device == "cpu" && p.CPUGemmN > 0 {
			n = p.CPUGemmN
		}
		add(gemmScenario(b, n))
	}
	// The scaling series come first: their small points calibrate each
	// backend's rate, from which the larger scenarios' cost is estimated.
	for _, b := range names {
		for _, n := range p.ScaleN {
			add(gramScenario(b, "u8", n, p.ScaleND, report.SeriesGramN))
		}
		for _, d := range p.ScaleD {
			add(gramScenario(b, "u8", p.ScaleDN, d, report.SeriesGramD))
		}
	}
	for _, dt := range p.GramDTypes {
		for _, b := range names {
			s := gramScenario(b, dt, p.GramN, p.GramD, "")
			if dt == "u8" && p.GramD == p.ScaleND && len(p.ScaleN) > 0 && p.GramN > p.ScaleN[len(p.ScaleN)-1] {
				// The largest point of the Gram-vs-N series, measured once.
				s.Params["series"], s.Params["size"] = report.SeriesGramN, p.GramN
				s.Series, s.Size, s.Exponent = report.SeriesGramN, float64(p.GramN), 1
			}
			add(s)
		}
		if p.PyGram {
			add(pyGramScenario(dt, p.GramN, p.GramD))
		}
	}
	// The GPU's other Gram arithmetics, at the same shapes.
	for _, b := range names {
		be, err := env.Backend(b)
		if err != nil {
			continue
		}
		if _, ok := be.(*cuda.Backend); !ok {
			continue
		}
		for _, prec := range cuda.Precisions {
			if prec == cuda.FP64 {
				continue
			}
			for _, dt := range p.GramDTypes {
				add(gpuPrecisionScenario(b, prec, dt, p.GramN, p.GramD))
			}
		}
	}
	for _, n := range p.EighN {
		for _, b := range names {
			add(eighScenario(b, n))
		}
		if p.PyEigh && (p.PyEighMax == 0 || n <= p.PyEighMax) {
			add(pyEighScenario(n))
		}
	}
	for _, n := range p.FastN {
		for _, b := range names {
			add(fastScenarios(b, n, p.FastD)...)
		}
	}
	if p.Split != "" {
		add(fashionScenarios(env, names, p.Split)...)
	}
	if p.Synthetic != "" {
		add(syntheticScenarios(env, names, p.Synthetic, true)...)
	}
	add(p.optionalScenarios(env, names)...)
	if p.ImageNet.N > 0 {
		add(imagenetScenarios(env, names, p)...)
	}
	for _, spec := range p.EigenPhase {
		add(eigenPhaseScenarios(names, spec)...)
	}
	for _, spec := range p.AlignVsMoments {
		add(syntheticScenarios(env, names, spec, false)...)
	}
	for _, spec := range p.EndToEnd {
		add(endToEndScenarios(names, spec)...)
	}
	for _, set := range p.MomentsFile {
		add(momentsFileScenarios(names, set)...)
	}
	return out
}

// gemmScenario is the ceiling: C = A·B with square n×n operands.
func gemmScenario(b string, n int) bench.Scenario {
	return bench.Scenario{
		Name: fmt.Sprintf("gemm/%s/n=%d", b, n), Group: report.GroupCeiling, Backend: b, Ceiling: true,
		Params: map[string]any{"n": n},
		Flops:  2 * float64(n) * float64(n) * float64(n), Bytes: 3 * 8 * float64(n) * float64(n),
		FlopModel: "2n³", Check: "64 sampled entries against float64 dot products",
		Setup: func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
			a := input.General(n, n, 11)
			bm := input.General(n, n, 12)
			c := backend.NewGeneral(n, n)
			u, err := backend.UnitRoundoff(be.Info().Precision)
			if err != nil {
				return nil, err
			}
			return &bench.Case{
				Run: func() error { return be.Gemm(blas.NoTrans, blas.NoTrans, 1, a, bm, 0, c) },
				Check: func() error {
					return check.GemmEntries(c, a, bm, check.SamplePairs(n, 64, 13), u)
				},
			}, nil
		},
	}
}

// gramScenario times GramAdd of an n×d chunk of the given dtype from zero.
// With a series name it is a point of a scaling curve.
func gramScenario(b, dtype string, n, d int, series string) bench.Scenario {
	name := fmt.Sprintf("gram/%s/%s/N=%d,D=%d", b, dtype, n, d)
	group := report.GroupGram
	params := map[string]any{"dtype": dtype, "n": n, "d": d}
	s := bench.Scenario{Backend: b, Flops: gramFlops(n, d), Bytes: float64(n)*float64(d)*input.ElemBytes(dtype) + 8*float64(d)*float64(d),
		FlopModel: gramModel}
	if series != "" {
		name = fmt.Sprintf("scaling/%s/%s/N=%d,D=%d", b, series, n, d)
		group = report.GroupScaling
		size := n
		if series == report.SeriesGramD {
			size = d
		}
		params["series"], params["size"] = series, size
		s.Series, s.Size, s.Exponent = series, float64(size), report.SeriesExponent(series)
	}
	s.Name, s.Group, s.Params = name, group, params
	exactNote := ""
	if dtype == "u8" {
		exactNote = " (exact for integer data in float64)"
	}
	s.Check = "48 sampled upper-triangle entries against float64 column dot products" + exactNote
	s.Setup = func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
		v, err := env.Cached(fmt.Sprintf("chunk/%s/%dx%d", dtype, n, d), func() (any, error) {
			return input.Chunk(dtype, n, d, 21), nil
		})
		if err != nil {
			return nil, err
		}
		x := v.(backend.Chunk)
		g := backend.NewGeneral(d, d)
		u, err := backend.UnitRoundoff(be.Info().Precision)
		if err != nil {
			return nil, err
		}
		exact := dtype == "u8" && u == 0x1p-53
		return &bench.Case{
			Run: func() error {
				clear(g.Data)
				return be.GramAdd(g, x, nil)
			},
			Check: func() error {
				return check.GramEntries(g, n, input.At(x), check.SamplePairs(d, 48, 22), u, exact)
			},
		}, nil
	}
	return s
}

// gpuPrecisionScenario is gramScenario on the cuda backend switched to
// another arithmetic for the Gram (restored to FP64 afterwards); the check's
// tolerance follows the precision the backend then declares.
func gpuPrecisionScenario(b string, prec cuda.Precision, dtype string, n, d int) bench.Scenario {
	s := gramScenario(b, dtype, n, d, "")
	s.Name = fmt.Sprintf("gram/%s/%s@%s/N=%d,D=%d", b, dtype, prec, n, d)
	s.Params = map[string]any{"dtype": dtype, "n": n, "d": d, "precision": string(prec)}
	setup := s.Setup
	s.Setup = func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
		gpu, ok := be.(*cuda.Backend)
		if !ok {
			return nil, bench.Skipf("%s is not the cuda backend", b)
		}
		if err := gpu.SetPrecision(prec); err != nil {
			return nil, err
		}
		c, err := setup(env, be)
		if err != nil {
			gpu.SetPrecision(cuda.FP64)
			return nil, err
		}
		c.Close = func() { gpu.SetPrecision(cuda.FP64) }
		return c, nil
	}
	return s
}

func pyGramScenario(dtype string, n, d int) bench.Scenario {
	s := bench.Scenario{
		Name: fmt.Sprintf("gram/numpy/%s/N=%d,D=%d", dtype, n, d), Group: report.GroupGram,
		Params: map[string]any{"dtype": dtype, "n": n, "d": d},
		Flops:  gramFlops(n, d), Bytes: float64(n)*float64(d)*input.ElemBytes(dtype) + 8*float64(d)*float64(d),
		FlopModel: gramModel + "; NumPy converts to float64 inside the timer, as GramAdd does",
		Check:     "NumPy's own check: 32 sampled entries against column dot products",
	}
	return bench.Reference(s, pyref.Task{"kind": "gram", "n": n, "d": d, "dtype": dtype, "seed": 21}, nil)
}

// eighScenario times all eigenpairs of a random symmetric n×n matrix.
func eighScenario(b string, n int) bench.Scenario {
	return bench.Scenario{
		Name: fmt.Sprintf("eigh/%s/n=%d", b, n), Group: report.GroupEigh, Backend: b,
		Params: map[string]any{"n": n, "series": report.SeriesEigh, "size": n},
		Series: report.SeriesEigh, Size: float64(n), Exponent: 3,
		Flops: eighFlops(n), Bytes: 16 * float64(n) * float64(n), FlopModel: eighModel,
		Check: "descending order, Σλ = tr A, Σλ² = ‖A‖_F², and for 8 sampled pairs the residual ‖Av−λv‖, norms and orthogonality",
		Setup: func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
			v, _ := env.Cached(fmt.Sprintf("goe/%d", n), func() (any, error) { return input.GOE(n, 31), nil })
			a := v.(blas64.General)
			work := backend.NewGeneral(n, n)
			var w []float64
			u, err := backend.UnitRoundoff(be.Info().Precision)
			if err != nil {
				return nil, err
			}
			return &bench.Case{
				Run: func() error {
					copy(work.Data, a.Data)
					var err error
					w, err = be.SymEig(work, true)
					return err
				},
				Check: func() error { return check.SymEig(a, w, work, check.SampleCols(n, 8, 32), u) },
			}, nil
		},
	}
}

func pyEighScenario(n int) bench.Scenario {
	s := bench.Scenario{
		Name: fmt.Sprintf("eigh/numpy/n=%d", n), Group: report.GroupEigh,
		Params: map[string]any{"n": n},
		Flops:  eighFlops(n), Bytes: 16 * float64(n) * float64(n), FlopModel: eighModel,
		Check: "NumPy's own check: Σλ = tr A and three residuals",
	}
	return bench.Reference(s, pyref.Task{"kind": "eigh", "n": n, "seed": 31}, nil)
}
