package closedform

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/reconalign/reconalign/engine"
)

func TestPlotFigure7(t *testing.T) {
	ds := imageData(30, 200, 6, 6, 1, 3)
	be := gonumBackend()
	rg := ds.rng(t, be, true)
	var noises []Noise
	for _, patch := range []int{1, 2} {
		for _, p := range []float64{0, 0.5, 0.9} {
			noises = append(noises, Mask{Shape: ds.shape, PatchH: patch, PatchW: patch, P: p})
		}
	}
	noises = append(noises, Gaussian{Sigma: 1})
	_, results, err := DenoiseGrid(be, rg, noises, DenoiseOptions{Align: engine.AlignOptions{Center: true, Scale: engine.ScaleNorm}})
	if err != nil {
		t.Fatal(err)
	}
	panels := Figure7Panels(results)
	if len(panels) != 3 || len(panels[0].Lines) != 3 || panels[1].Title != "mask, patch 2x2" || panels[2].Title != "gaussian" {
		t.Fatalf("panels: %+v", panels)
	}
	path := filepath.Join(t.TempDir(), "fig7.png")
	if err := PlotRelative(path, "test", panels, 1); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() < 400 || b.Dy() < b.Dx() {
		t.Errorf("image is %dx%d, want three stacked panels", b.Dx(), b.Dy())
	}
	// The largest p is drawn in magenta, the smallest in cyan.
	var magenta, cyan int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r > 0xe000 && g < 0x2000 && bl > 0xe000 {
				magenta++
			}
			if r < 0x2000 && g > 0xe000 && bl > 0xe000 {
				cyan++
			}
		}
	}
	if magenta == 0 || cyan == 0 {
		t.Errorf("no line pixels found (magenta %d, cyan %d)", magenta, cyan)
	}
	if err := PlotRelative(path, "", nil, 1); err == nil {
		t.Error("empty figure accepted")
	}
	if err := PlotRelative(filepath.Join(t.TempDir(), "x.jpg"), "", panels, 1); err == nil {
		t.Error("non-PNG path accepted")
	}
}
