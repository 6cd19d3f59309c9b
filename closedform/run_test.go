package closedform

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

func testEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Options{Backend: gonum.Name, ChunkRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// Solve gives the same losses on both routes, as the lower-level calls do,
// and names the backend.
func TestSolveRoutes(t *testing.T) {
	ds := imageData(5, 30, 6, 6, 1, 3) // N = 30 < D = 36
	eng := testEngine(t)
	var sols []*Solution
	for _, route := range []RangeRoute{RangeAuto, RangeMoments} {
		sol, err := Solve(eng, ds.source(t), SolveOptions{K: 4, Lambdas: []float64{0, 1}, Center: true, Route: route, Vectors: true})
		if err != nil {
			t.Fatal(err)
		}
		sols = append(sols, sol)
	}
	if sols[0].Route != engine.RouteDual || sols[1].Route != engine.RouteDirect || sols[0].Rank != 29 || sols[0].Backend.Name != gonum.Name {
		t.Fatalf("routes %s, %s, rank %d, backend %q", sols[0].Route, sols[1].Route, sols[0].Rank, sols[0].Backend.Name)
	}
	for i := range sols[0].Results {
		a, b := sols[0].Results[i], sols[1].Results[i]
		if math.Abs(a.Loss-b.Loss) > 1e-8*math.Abs(a.Loss) || a.V.Rows != 36 || a.V.Cols != 4 {
			t.Errorf("λ=%g: loss %g (dual) vs %g (moments), V %d×%d", a.Lambda, a.Loss, b.Loss, a.V.Rows, a.V.Cols)
		}
	}
	// Without V*, W*, Z* the range has no eigenvectors (engine.ProjectStats):
	// the same losses, and the route says how the spectrum was computed.
	lossOnly, err := Solve(eng, ds.source(t), SolveOptions{K: 4, Lambdas: []float64{0, 1}, Center: true, Route: RangeMoments})
	if err != nil {
		t.Fatal(err)
	}
	if lossOnly.Route.Side() != engine.RouteDirect || lossOnly.Route == engine.RouteDirect || lossOnly.Results[0].V.Data != nil {
		t.Errorf("losses only: route %q, V %d×%d", lossOnly.Route, lossOnly.Results[0].V.Rows, lossOnly.Results[0].V.Cols)
	}
	for i, r := range lossOnly.Results {
		if b := sols[1].Results[i]; math.Abs(r.Loss-b.Loss) > 1e-10*math.Abs(b.Loss) {
			t.Errorf("λ=%g: loss %g without eigenvectors, %g with", r.Lambda, r.Loss, b.Loss)
		}
	}
	// The reference: the same range and solver called directly.
	rg := ds.rng(t, gonumBackend(), true)
	ref, err := SolveSupervised(gonumBackend(), rg, 4, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ref.Loss-sols[1].Results[1].Loss) > 1e-9*math.Abs(ref.Loss) {
		t.Errorf("Solve %g, SolveSupervised %g", sols[1].Results[1].Loss, ref.Loss)
	}
	var oe *engine.OptionError
	for _, o := range []SolveOptions{{K: 0}, {K: 30, Center: true}, {K: 2, Lambdas: []float64{-1}}, {K: 2, RTol: 2}} {
		if _, err := Solve(eng, ds.source(t), o); !errors.As(err, &oe) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	unlabelled, _ := data.FromMatrix(backend.Chunk{N: ds.n, D: ds.d, F64: ds.x}, nil, ds.shape)
	if _, err := Solve(eng, unlabelled, SolveOptions{K: 2}); !errors.Is(err, engine.ErrNeedsLabels) {
		t.Errorf("no labels: %v", err)
	}
}

// Figure7Masks holds the paper's settings: p from 0 to 0.99 in steps of
// 0.11, for each patch size in turn.
func TestFigure7Masks(t *testing.T) {
	g := Figure7Masks(data.Shape{H: 28, W: 28, C: 1}, []int{1, 2, 4}, 10)
	if len(g) != 30 || g[0].P != 0 || math.Abs(g[9].P-0.99) > 1e-15 || math.Abs(g[1].P-0.11) > 1e-15 || g[10].PatchH != 2 || g[29].PatchW != 4 {
		t.Fatalf("%+v", g)
	}
}

// DenoiseData over the Figure 7 text grid is DenoiseGrid over Figure7Masks.
func TestDenoiseDataIsTheGrid(t *testing.T) {
	ds := imageData(6, 200, 8, 8, 1, 3)
	g, err := Figure7Text().Parse()
	if err != nil {
		t.Fatal(err)
	}
	g.Patches = g.Patches[:2] // 1 and 2: enough, and quicker
	plan, err := g.Plan(ds.shape, ds.d)
	if err != nil {
		t.Fatal(err)
	}
	masks := Figure7Masks(ds.shape, []int{1, 2}, 10)
	if len(plan.Closed) != len(masks) || len(plan.MonteCarlo) != 0 || len(plan.Notes) != 0 {
		t.Fatalf("plan: %d closed forms, %d Monte Carlo, notes %q", len(plan.Closed), len(plan.MonteCarlo), plan.Notes)
	}
	for i, m := range masks {
		if plan.Closed[i] != m {
			t.Fatalf("setting %d: %+v, Figure7Masks %+v", i, plan.Closed[i], m)
		}
	}
	opt := DenoiseDataOptions{Align: engine.AlignOptions{Center: true, Scale: engine.ScaleNorm}}
	got, err := DenoiseData(testEngine(t), ds.source(t), plan, opt)
	if err != nil {
		t.Fatal(err)
	}
	rg := ds.rng(t, gonumBackend(), true)
	var noises []Noise
	for _, m := range masks {
		noises = append(noises, m)
	}
	clean, want, err := DenoiseGrid(gonumBackend(), rg, noises, DenoiseOptions{Align: opt.Align})
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "clean", got.Clean.Alignment, clean.Alignment, 1e-12)
	for i := range want {
		assertClose(t, describe(want[i].Noise), got.Results[i].Relative, want[i].Relative, 1e-9)
	}
	if got.Rank != rg.Rank || got.Backend.Name != gonum.Name || got.Clean.Backend.Name != gonum.Name || got.Route != engine.RouteDirect {
		t.Errorf("rank %d (want %d), backend %q, route %q", got.Rank, rg.Rank, got.Backend.Name, got.Route)
	}
	for i, r := range got.Results {
		if want := map[bool]string{true: PencilDiagonal, false: PencilPatchBasis}[masks[i].P == 0]; r.Route != want {
			t.Errorf("%s: route %q, want %q", describe(r.Noise), r.Route, want)
		}
	}
}

func TestGridTextAndPlan(t *testing.T) {
	shape := data.Shape{H: 8, W: 8, C: 1, Layout: data.HWC}
	g, err := GridText{Noises: "mask,mask-fixed,gaussian,block,crop", P: "0.5,0.999", Patch: "3,2x4", Sigma: "linspace(0,2,3)", Block: "2", CropScale: "0.5"}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Sigmas, []float64{0, 1, 2}) || g.Patches[1] != [2]int{2, 4} {
		t.Fatalf("parsed %+v", g)
	}
	// p = 0.999 keeps no patch of mask-fixed: an error, or a skip when
	// asked; patch 3 does not divide 8: a note.
	if _, err := g.Plan(shape, 64); !errors.Is(err, ErrKeepsNoPatch) {
		t.Fatalf("mask-fixed that keeps nothing: %v", err)
	}
	g.SkipEmpty = true
	plan, err := g.Plan(shape, 64)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(plan.Notes, "\n")
	if len(plan.Closed) != 4+2+3 || len(plan.MonteCarlo) != 2 || !strings.Contains(notes, "patch 3x3 does not divide the 8x8 image") || !strings.Contains(notes, "skipping mask-fixed p=0.999") {
		t.Fatalf("%d closed, %d Monte Carlo, notes:\n%s", len(plan.Closed), len(plan.MonteCarlo), notes)
	}
	if _, err := g.Plan(data.Shape{}, 64); !errors.Is(err, ErrNeedsShape) {
		t.Errorf("no image shape: %v", err)
	}
	var fe *FieldError
	for field, text := range map[string]GridText{
		"Noises": {Noises: "salt"},
		"P":      {Noises: "mask", P: "linspace(0,1,1000000000000)", Patch: "1"},
		"Patch":  {Noises: "mask", P: "0.5", Patch: "1x2x3"},
		"Sigma":  {Noises: "gaussian", Sigma: ""},
	} {
		if _, err := text.Parse(); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%+v: %v", text, err)
		}
	}
	if v, err := ParseValues("linspace(0,1,1000001)"); err == nil || !strings.Contains(err.Error(), "1000000") {
		t.Errorf("a count above MaxValues: %d values, %v", len(v), err)
	}
	if v, err := ParseValues("linspace(1, 2, 3)"); err != nil || !slices.Equal(v, []float64{1, 1.5, 2}) {
		t.Errorf("linspace(1, 2, 3) = %v, %v", v, err)
	}
}

// Project's top and bottom subspaces split the data around the mean, and
// the probe runs on the same engine.
func TestProjectAndProbeData(t *testing.T) {
	ds := imageData(8, 300, 6, 6, 1, 3)
	eng := testEngine(t)
	rows := map[Keep][]float64{}
	for _, keep := range []Keep{KeepTop, KeepBottom} {
		v := 0.6
		if keep == KeepBottom {
			v = 0.4
		}
		var got []float64
		proj, err := Project(eng, ds.source(t), ProjectOptions{Keep: keep, Variance: v},
			ProjectTarget{Src: ds.source(t), Write: func(r []float64) error { got = append(got, r...); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != ds.n*ds.d || proj.Backend.Name != gonum.Name || proj.Sub.Keep != keep {
			t.Fatalf("%s: %d values, %+v", keep, len(got), proj)
		}
		rows[keep] = got
	}
	// top(0.6) + bottom(0.4) = x + μ for every row.
	for i := 1; i < ds.n; i++ {
		for j := 0; j < ds.d; j++ {
			mu0 := rows[KeepTop][j] + rows[KeepBottom][j] - ds.x[j]
			if mu := rows[KeepTop][i*ds.d+j] + rows[KeepBottom][i*ds.d+j] - ds.x[i*ds.d+j]; math.Abs(mu-mu0) > 1e-9 {
				t.Fatalf("row %d col %d: top + bottom − x = %g, row 0 has %g", i, j, mu, mu0)
			}
		}
	}
	// Top-K equals the full route when the cut falls inside K.
	var top []float64
	proj, err := Project(eng, ds.source(t), ProjectOptions{Keep: KeepTop, Variance: 0.6, TopK: 20, Oversample: 10, PowerIters: 3},
		ProjectTarget{Src: ds.source(t), Write: func(r []float64) error { top = append(top, r...); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if proj.TopK == nil || proj.Used != proj.Sub.Count || proj.ErrorEstimate > 1e-6 {
		t.Fatalf("top-K projection: %+v", proj)
	}
	assertClose(t, "top-K projection", top, rows[KeepTop], 1e-7)

	rep, err := ProbeData(eng, ds.source(t), ds.source(t), ProbeOptions{Sweep: []float64{0.5, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sweep) != 2 || rep.NTrain != ds.n || rep.C != 3 || rep.Backend.Name != gonum.Name {
		t.Fatalf("probe sweep: %+v", rep)
	}
	one, err := ProbeData(eng, ds.source(t), ds.source(t), ProbeOptions{Keep: KeepTop, Variance: 0.5})
	if err != nil || one.Accuracy == nil || math.Abs(*one.Accuracy-rep.Sweep[0].Top.Accuracy) > 1e-12 {
		t.Fatalf("probe on top(0.5): %+v, %v; sweep says %+v", one, err, rep.Sweep[0].Top)
	}
	var oe *engine.OptionError
	if _, err := ProbeData(eng, ds.source(t), ds.source(t), ProbeOptions{Ridge: -1}); !errors.As(err, &oe) || oe.Option != "Ridge" {
		t.Errorf("negative ridge: %v", err)
	}
	if _, err := Project(eng, ds.source(t), ProjectOptions{Keep: KeepTop, Variance: 0.5, TopK: 99}); !errors.As(err, &oe) || oe.Option != "TopK" {
		t.Errorf("top-k above D: %v", err)
	}
}
