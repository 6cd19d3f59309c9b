package closedform

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s[%d] = %.17g, want %.17g bit for bit", what, i, got[i], want[i])
		}
	}
}

// The closed forms from a moments file give the bits of the same closed
// forms after a pass over the data: Theorem 1, the denoising pencil
// (Gaussian and masking noise), and the probe's training side. The
// analyses that read samples (Monte Carlo noise, test accuracy) refuse the
// file with engine.ErrNeedsData.
func TestClosedFormsFromMomentsFile(t *testing.T) {
	n, d, c := 400, 16, 3
	rng := rand.New(rand.NewPCG(21, 3))
	labels := make([]int, n)
	xu := make([]uint8, n*d)
	xf := make([]float64, n*d)
	for i := range labels {
		labels[i] = rng.IntN(c)
		for j := 0; j < d; j++ {
			xu[i*d+j] = uint8(rng.IntN(100) + 40*labels[i]*(j%3))
			xf[i*d+j] = 500 + rng.NormFloat64() + 0.3*float64(labels[i]*(j%4))
		}
	}
	shape := data.Shape{H: 4, W: 4, C: 1}
	for _, x := range []backend.Chunk{{N: n, D: d, U8: xu}, {N: n, D: d, F64: xf}} {
		t.Run(x.DType().String(), func(t *testing.T) {
			src, err := data.FromMatrix(x, labels, shape)
			if err != nil {
				t.Fatal(err)
			}
			eng, err := engine.New(engine.Options{Backend: "gonum", ChunkRows: 37})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			path := filepath.Join(t.TempDir(), "m.npz")
			if _, err := eng.WriteMoments(src, nil, path); err != nil {
				t.Fatal(err)
			}
			ms, err := engine.OpenMoments(path)
			if err != nil {
				t.Fatal(err)
			}
			if ms.Meta().Shape != (data.Shape{H: 4, W: 4, C: 1, Layout: data.HWC}) {
				t.Errorf("image shape from the file: %v", ms.Meta().Shape)
			}
			be, err := backend.Open("gonum", backend.Options{})
			if err != nil {
				t.Fatal(err)
			}
			stats := func(s data.Source, center bool) *engine.Stats {
				m, err := eng.Moments(s)
				if err != nil {
					t.Fatal(err)
				}
				st, err := m.Finalize(center)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			for _, center := range []bool{false, true} {
				var sols [2]*Supervised
				var curves [2]*DenoiseResult
				var masks [2]*DenoiseResult
				var probes [2]*Probe
				for i, s := range []data.Source{src, ms} {
					st := stats(s, center)
					rg, err := NewRange(be, st, 0)
					if err != nil {
						t.Fatal(err)
					}
					if sols[i], err = SolveSupervised(be, rg, 2, 0.5, true); err != nil {
						t.Fatal(err)
					}
					opt := DenoiseOptions{Align: engine.AlignOptions{Center: center}}
					if curves[i], err = Denoise(be, rg, Gaussian{Sigma: 3}, opt); err != nil {
						t.Fatal(err)
					}
					mask := Mask{Shape: s.Meta().Shape, PatchH: 2, PatchW: 2, P: 0.25}
					if masks[i], err = Denoise(be, rg, mask, opt); err != nil {
						t.Fatal(err)
					}
					if center {
						spec, err := NewSpectrum(be, st, 0)
						if err != nil {
							t.Fatal(err)
						}
						if probes[i], err = FitProbe(be, spec, spec.All(), 0.1); err != nil {
							t.Fatal(err)
						}
						if i == 1 {
							if _, err := probes[i].Accuracy(be, ms, 64); !errors.Is(err, engine.ErrNeedsData) {
								t.Errorf("test accuracy on a moments file: %v", err)
							}
							mc, _ := GaussianSampler(1, d)
							_, err := EstimateMoments(be, ms, st, mc, MonteCarloOptions{Draws: 2, Seed: 1})
							if !errors.Is(err, engine.ErrNeedsData) {
								t.Errorf("Monte Carlo noise on a moments file: %v", err)
							}
						}
					}
				}
				sameBits(t, "Theorem 1 loss", []float64{sols[1].Loss, sols[1].Supervised}, []float64{sols[0].Loss, sols[0].Supervised})
				sameBits(t, "Theorem 1 V*", sols[1].V.Data, sols[0].V.Data)
				sameBits(t, "Gaussian denoising curve", curves[1].Curve.Alignment, curves[0].Curve.Alignment)
				sameBits(t, "masking denoising curve", masks[1].Curve.Alignment, masks[0].Curve.Alignment)
				if center {
					sameBits(t, "probe W", probes[1].W.Data, probes[0].W.Data)
					sameBits(t, "probe mean", probes[1].Mean, probes[0].Mean)
				}
			}
		})
	}
}
