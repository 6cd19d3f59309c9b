package plotting

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestLinesWritesADecodablePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curve.png")
	s := Series{Name: "a", X: []float64{1, 2, 10, 100}, Y: []float64{10, 30, 80, 100}}
	if err := Lines(path, "t", "k", "alignment (%)", true, s, Series{Name: "b", X: s.X, Y: []float64{1, 2, 3, 4}}); err != nil {
		t.Fatal(err)
	}
	if b := decode(t, path).Bounds(); b.Dx() < 400 || b.Dy() < 250 {
		t.Fatalf("image is %v", b)
	}
	if err := Lines(filepath.Join(t.TempDir(), "x.unknown"), "t", "k", "y", false, s); err == nil || !strings.Contains(err.Error(), ".png") {
		t.Fatalf("unknown image format: %v", err)
	}
}

// The legend is drawn beside the axes: no pixel of it lies inside the data
// area, so it covers no curve, however many entries it has.
func TestLegendBesideTheAxes(t *testing.T) {
	var series []Series
	for i := 0; i < 12; i++ {
		series = append(series, Series{Name: strings.Repeat("long name ", 2) + string(rune('a'+i)), X: []float64{1, 1000}, Y: []float64{float64(i), 100}})
	}
	fig := Figure{Title: "overlay", Panels: []Panel{{LogX: true, Series: series}}, Width: 4 * vg.Inch, PanelHeight: 3 * vg.Inch}
	path := filepath.Join(t.TempDir(), "o.png")
	if err := Save(path, fig); err != nil {
		t.Fatal(err)
	}
	b := decode(t, path).Bounds()
	// The image is the axes' width plus a legend column.
	if axes := int(4 * 96); b.Dx() <= axes+50 {
		t.Fatalf("image %v has no room beside %d px of axes for the legend", b, axes)
	}
	if err := Save(path, Figure{}); err == nil {
		t.Fatal("an empty figure was saved")
	}
}
