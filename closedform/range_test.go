package closedform

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/engine"
)

// A range without eigenvectors (engine.ProjectStats: a two-stage reduction
// at D ≥ 128) has the eigenvector route's spectrum, Z up to the signs of
// its columns, and so every closed form that needs only Λ and Z: the clean
// curve, the Gaussian pencil, masking at p = 0 and Theorem 1's losses. The
// closed forms that need U say so.
func TestRangeWithoutVectors(t *testing.T) {
	ds := imageData(21, 600, 16, 16, 1, 5) // D = 256
	for _, be := range backends(t) {
		name := be.Info().Name
		for _, center := range []bool{true, false} {
			full := ds.rng(t, be, center)
			rg, err := NewRangeWith(be, ds.stats(t, be, center), RangeOptions{})
			if err != nil {
				t.Fatal(name, err)
			}
			if !strings.HasPrefix(string(rg.Route), "direct/two-stage") || rg.U.Data != nil || full.Route != engine.RouteDirect {
				t.Fatalf("%s: routes %q and %q, U %d×%d: want direct/two-stage… without U", name, rg.Route, full.Route, rg.U.Rows, rg.U.Cols)
			}
			if rg.Rank != full.Rank || rg.TraceGx != full.TraceGx {
				t.Fatalf("%s: rank %d, trace %v; with vectors %d, %v", name, rg.Rank, rg.TraceGx, full.Rank, full.TraceGx)
			}
			assertClose(t, name+" eigenvalues", rg.Values, full.Values, 1e-12*full.Values[0])
			for j := 0; j < rg.Rank; j++ {
				dot := 0.0
				for i := 0; i < rg.C; i++ {
					dot += rg.Z.Data[i*rg.Rank+j] * full.Z.Data[i*full.Rank+j]
				}
				for i := 0; i < rg.C; i++ {
					if d := math.Abs(math.Copysign(1, dot)*rg.Z.Data[i*rg.Rank+j] - full.Z.Data[i*full.Rank+j]); d > 1e-9 {
						t.Fatalf("%s: Z[%d, %d] off by %.3g", name, i, j, d)
					}
				}
			}
			opt := engine.AlignOptions{Center: center, Scale: engine.ScaleNorm}
			a, _ := rg.Clean(opt)
			b, _ := full.Clean(opt)
			assertClose(t, name+" clean curve", a.Alignment, b.Alignment, 1e-10)
			for _, n := range []Noise{Gaussian{Sigma: 3}, Mask{Shape: ds.shape, PatchH: 2, PatchW: 2, P: 0}} {
				x, err := Denoise(be, rg, n, DenoiseOptions{Align: opt})
				if err != nil {
					t.Fatal(name, err)
				}
				y, err := Denoise(be, full, n, DenoiseOptions{Align: opt})
				if err != nil {
					t.Fatal(name, err)
				}
				if x.Route != PencilDiagonal {
					t.Errorf("%s %s: route %q", name, describe(n.Spec()), x.Route)
				}
				assertClose(t, name+" "+describe(n.Spec()), x.Curve.Alignment, y.Curve.Alignment, 1e-10)
				assertClose(t, name+" "+describe(n.Spec())+" eigenvalues", x.Eigenvalues, y.Eigenvalues, 1e-12*y.Eigenvalues[0])
			}
			for _, lambda := range []float64{0, 0.5, 10} {
				x, err := SolveSupervised(be, rg, 7, lambda, false)
				if err != nil {
					t.Fatal(name, err)
				}
				y, _ := SolveSupervised(be, full, 7, lambda, false)
				for _, p := range [][2]float64{{x.Loss, y.Loss}, {x.Supervised, y.Supervised}, {x.Reconstruction, y.Reconstruction}} {
					if math.Abs(p[0]-p[1]) > 1e-10*(full.TraceGx*(1+lambda)) {
						t.Errorf("%s λ=%g: %v without vectors, %v with", name, lambda, p[0], p[1])
					}
				}
			}
			if _, err := Denoise(be, rg, Mask{Shape: ds.shape, PatchH: 2, PatchW: 2, P: 0.5}, DenoiseOptions{Align: opt}); !errors.Is(err, ErrNoVectors) {
				t.Errorf("%s: masking pencil without U: %v, want ErrNoVectors", name, err)
			}
			if _, err := SolveSupervised(be, rg, 3, 1, true); !errors.Is(err, ErrNoVectors) {
				t.Errorf("%s: V* without U: %v, want ErrNoVectors", name, err)
			}
		}
	}
}

// Released moments (engine.Moments.Release: no D×D copy) give the bits of
// finalized ones for the range, the grid and the spectrum; the masks'
// same-patch entries must be listed to survive the hand-over.
func TestReleasedMomentsGiveTheSameBits(t *testing.T) {
	ds := imageData(22, 300, 6, 6, 2, 3)
	be := gonumBackend()
	release := func() *engine.Stats {
		st, err := ds.moments(t, be).Release(true)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	masks := []Mask{{Shape: ds.shape, PatchH: 2, PatchW: 3, P: 0.4}, {Shape: ds.shape, PatchH: 4, PatchW: 4, P: 0.7, Fixed: true}}
	noises := []Noise{masks[0], masks[1], Gaussian{Sigma: 2}, Mask{Shape: ds.shape, PatchH: 1, PatchW: 1, P: 0}}
	opt := DenoiseOptions{Align: engine.AlignOptions{Center: true}}
	rg, err := NewRangeWith(be, release(), RangeOptions{Vectors: true, Masks: masks})
	if err != nil {
		t.Fatal(err)
	}
	if rg.Stats.Gx.Data != nil {
		t.Fatal("the released Gram is still held by the Stats")
	}
	_, got, err := DenoiseGrid(be, rg, noises, opt)
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := DenoiseGrid(be, ds.rng(t, be, true), noises, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		sameBits(t, describe(want[i].Noise), got[i].Curve.Alignment, want[i].Curve.Alignment)
		sameBits(t, describe(want[i].Noise)+" eigenvalues", got[i].Eigenvalues, want[i].Eigenvalues)
	}
	other := Mask{Shape: ds.shape, PatchH: 3, PatchW: 3, P: 0.5}
	if _, err := Denoise(be, rg, other, opt); err == nil || !strings.Contains(err.Error(), "RangeOptions.Masks") {
		t.Errorf("a mask whose entries were not kept: %v", err)
	}
	spec, err := NewSpectrum(be, release(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := NewSpectrum(be, ds.stats(t, be, true), 0)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "spectrum", spec.Values, ref.Values)
	sameBits(t, "spectrum vectors", spec.U.Data, ref.U.Data)
}
