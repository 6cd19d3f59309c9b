package data

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSmallNPZ writes a 2×3 float64 array "a", a scalar "n" and a string
// "meta" and returns the archive's path.
func writeSmallNPZ(t *testing.T, dir string) (string, []float64) {
	t.Helper()
	path := filepath.Join(dir, "small.npz")
	w, err := NewNPZWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	vals := []float64{1, -2.5, math.Pi, 0, 1e300, -math.SmallestNonzeroFloat64}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Float64s("a", []int{2, 3}, func(put func([]float64) error) error {
		if err := put(vals[:1]); err != nil { // any split of the values
			return err
		}
		return put(vals[1:])
	}))
	must(w.Int64("n", -7))
	must(w.String("meta", `{"κ": "ü"}`))
	must(w.Close())
	return path, vals
}

func TestNPZRoundTrip(t *testing.T) {
	path, vals := writeSmallNPZ(t, t.TempDir())
	z, err := OpenNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if got := strings.Join(z.Names(), ","); got != "a,meta,n" {
		t.Errorf("names %s, want a,meta,n", got)
	}
	a, err := z.Array("a")
	if err != nil || a.Descr != "<f8" || a.ShapeString() != "(2, 3)" {
		t.Fatalf("header of a: %+v, %v", a, err)
	}
	got := make([]float64, 6)
	if err := z.Float64s("a", got); err != nil {
		t.Fatal(err)
	}
	for i := range vals {
		if math.Float64bits(got[i]) != math.Float64bits(vals[i]) {
			t.Errorf("a[%d] = %v, want %v", i, got[i], vals[i])
		}
	}
	if n, err := z.Int64("n"); err != nil || n != -7 {
		t.Errorf("n = %d, %v", n, err)
	}
	if s, err := z.String("meta"); err != nil || s != `{"κ": "ü"}` {
		t.Errorf("meta = %q, %v", s, err)
	}
	if err := z.Float64s("n", make([]float64, 1)); err == nil || !strings.Contains(err.Error(), "dtype <i8") {
		t.Errorf("reading an int as float: %v", err)
	}
	if err := z.Float64s("a", make([]float64, 5)); err == nil || !strings.Contains(err.Error(), "holds 6 values") {
		t.Errorf("reading into the wrong length: %v", err)
	}
	if _, err := z.Array("b"); err == nil || !strings.Contains(err.Error(), `no array "b"`) {
		t.Errorf("missing entry: %v", err)
	}
}

// A short fill, a long fill or a repeated name fails the whole archive and
// leaves no file behind, temporary or final.
func TestNPZWriterFailureLeavesNothing(t *testing.T) {
	for name, fill := range map[string]func(w *NPZWriter) error{
		"short": func(w *NPZWriter) error {
			return w.Float64s("a", []int{2, 2}, func(put func([]float64) error) error { return put([]float64{1, 2, 3}) })
		},
		"long": func(w *NPZWriter) error {
			return w.Float64s("a", []int{1}, func(put func([]float64) error) error { return put([]float64{1, 2}) })
		},
		"repeated": func(w *NPZWriter) error {
			if err := w.Int64("a", 1); err != nil {
				return err
			}
			return w.Int64("a", 2)
		},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.npz")
		w, err := NewNPZWriter(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := fill(w); err == nil {
			t.Errorf("%s: no error", name)
		}
		if err := w.Close(); err == nil {
			t.Errorf("%s: Close succeeded after a failure", name)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: left %d files behind", name, len(left))
		}
	}
}

func TestNPZRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeSmallNPZ(t, dir)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.npz")
	os.WriteFile(trunc, raw[:len(raw)-30], 0o644)
	if _, err := OpenNPZ(trunc); !errors.Is(err, ErrNotNPZ) || !strings.Contains(err.Error(), trunc) {
		t.Errorf("truncated archive: %v", err)
	}
	notzip := filepath.Join(dir, "x.npy")
	WriteNPY(notzip, []float64{1, 2}, nil)
	if _, err := OpenNPZ(notzip); !errors.Is(err, ErrNotNPZ) {
		t.Errorf("an .npy given as .npz: %v", err)
	}
	// Flip one byte of the float values: the checksum catches it.
	i := bytes.Index(raw, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}) // 1.0
	if i < 0 {
		t.Fatal("value 1.0 not found in the archive")
	}
	bad := append([]byte(nil), raw...)
	bad[i] ^= 1
	corrupt := filepath.Join(dir, "corrupt.npz")
	os.WriteFile(corrupt, bad, 0o644)
	z, err := OpenNPZ(corrupt)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if err := z.Float64s("a", make([]float64, 6)); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupt values: %v", err)
	}
}
