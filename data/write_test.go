package data

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"gonum.org/v1/gonum/mat"
)

func TestWriteNPYRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f64 := []float64{1.5, -2, math.SmallestNonzeroFloat64, math.MaxFloat64, 0, -0.25}
	cases := []struct {
		name  string
		data  any
		shape []int
		want  []float64
	}{
		{"f64.npy", f64, []int{2, 3}, f64},
		{"f32.npy", []float32{1, 2, 3, 4, 5, 6, 7, 8}, []int{2, 2, 2}, []float64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"u8.npy", []uint8{0, 255, 7, 9}, []int{1, 2, 2, 1}, []float64{0, 255, 7, 9}},
		{"i64.npy", []int64{-3, 1 << 40}, nil, []float64{-3, 1 << 40}},
		{"i32.npy", []int32{-3, 7}, []int{2, 1}, []float64{-3, 7}},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name)
		if err := WriteNPY(p, tc.data, tc.shape); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		hlen := int(raw[8]) | int(raw[9])<<8
		if (10+hlen)%64 != 0 || raw[9+hlen] != '\n' {
			t.Errorf("%s: header of %d bytes is not 64-byte aligned or lacks its newline", tc.name, hlen)
		}
		src, err := OpenNPY(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		x, _, err := Collect(src)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x.F64, tc.want) {
			t.Errorf("%s: read back %v, want %v", tc.name, x.F64, tc.want)
		}
	}

	// npyio is an independent reader of the same format.
	f, err := os.Open(filepath.Join(dir, "f64.npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var m mat.Dense
	if err := npy.Read(f, &m); err != nil {
		t.Fatal(err)
	}
	if r, c := m.Dims(); r != 2 || c != 3 || !slices.Equal(m.RawMatrix().Data, f64) {
		t.Errorf("npyio reads %v", mat.Formatted(&m))
	}

	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left %s behind", e.Name())
		}
	}
}

// TestWriteNPYReadByNumPy has NumPy load what WriteNPY wrote and print the
// dtype, shape and sum; it is skipped where /usr/bin/python3 has no NumPy.
func TestWriteNPYReadByNumPy(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy").Run(); err != nil {
		t.Skipf("/usr/bin/python3 with numpy not available: %v", err)
	}
	dir := t.TempDir()
	vals := make([]float32, 2*3*4)
	for i := range vals {
		vals[i] = float32(i) / 8
	}
	files := map[string]struct {
		data  any
		shape []int
		want  string
	}{
		"a.npy": {vals, []int{2, 3, 4}, "float32 (2, 3, 4) 34.5"},
		"b.npy": {[]int64{5, -7, 9}, nil, "int64 (3,) 7"},
		"c.npy": {[]uint8{200, 100}, []int{2, 1}, "uint8 (2, 1) 300"},
		"d.npy": {[]float64{0.1, 0.2}, []int{1, 2}, "float64 (1, 2) 0.30000000000000004"},
	}
	for name, f := range files {
		if err := WriteNPY(filepath.Join(dir, name), f.data, f.shape); err != nil {
			t.Fatal(err)
		}
	}
	for name, f := range files {
		script := fmt.Sprintf("import numpy as np; a = np.load(%q); print(a.dtype, a.shape, a.sum(dtype=np.float64 if a.dtype.kind == 'f' else np.int64))", filepath.Join(dir, name))
		var out bytes.Buffer
		cmd := exec.Command("/usr/bin/python3", "-c", script)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: numpy failed: %v\n%s", name, err, out.String())
		}
		if got := strings.TrimSpace(out.String()); got != f.want {
			t.Errorf("%s: numpy reads %q, want %q", name, got, f.want)
		}
	}
}

func TestWriteNPYRejects(t *testing.T) {
	dir := t.TempDir()
	err := WriteNPY(filepath.Join(dir, "a.npy"), []float64{1, 2, 3}, []int{2, 2})
	wantErr(t, err, "a.npy", "(2, 2) holds 4 values but 3 were given")
	err = WriteNPY(filepath.Join(dir, "b.npy"), []string{"x"}, nil)
	wantErr(t, err, "b.npy", "cannot write []string")
	err = WriteNPY(filepath.Join(dir, "c.npy"), []float64{}, []int{-1})
	wantErr(t, err, "c.npy", "invalid shape")
	err = WriteNPY(filepath.Join(dir, "no", "such", "dir.npy"), []float64{1}, nil)
	wantErr(t, err, "no such file")
}
