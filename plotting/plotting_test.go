package plotting

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestLinesWritesADecodablePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curve.png")
	s := Series{Name: "a", X: []float64{1, 2, 10, 100}, Y: []float64{10, 30, 80, 100}}
	if err := Lines(path, "t", "k", "alignment (%)", true, s, Series{Name: "b", X: s.X, Y: []float64{1, 2, 3, 4}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 250 {
		t.Fatalf("image is %v", b)
	}
	if err := Lines(filepath.Join(t.TempDir(), "x.unknown"), "t", "k", "y", false, s); err == nil {
		t.Fatal("unknown image format accepted")
	}
}
