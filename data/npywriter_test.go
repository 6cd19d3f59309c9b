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

	"github.com/reconalign/reconalign/backend"
)

// writeInChunks streams vals through an NPYWriter, rowsPerChunk rows at a time.
func writeInChunks(t *testing.T, path string, dtype backend.DType, shape []int, vals []float64, rowsPerChunk int) {
	t.Helper()
	w, err := NewNPYWriter(path, dtype, shape)
	if err != nil {
		t.Fatal(err)
	}
	step := rowsPerChunk * len(vals) / shape[0]
	for i := 0; i < len(vals); i += step {
		if err := w.WriteRows(vals[i:min(i+step, len(vals))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left %s behind", e.Name())
		}
	}
}

// The streamed file is byte for byte what WriteNPY writes for the same
// array (so the header is NumPy's), and reads back through OpenNPY.
func TestNPYWriterMatchesWriteNPY(t *testing.T) {
	dir := t.TempDir()
	const n, h, w, c = 7, 3, 2, 2
	vals := make([]float64, n*h*w*c)
	for i := range vals {
		vals[i] = float64(i%251) + 0.25*float64(i%3) // exact in float32; rounds to integers for u8
	}
	f32 := make([]float32, len(vals))
	u8 := make([]uint8, len(vals))
	for i, v := range vals {
		f32[i] = float32(v)
		u8[i] = uint8(math.Round(v))
	}
	shape := []int{n, h, w, c}
	for _, tc := range []struct {
		dtype backend.DType
		whole any
		want  []float64
	}{
		{backend.F64, vals, vals},
		{backend.F32, f32, vals},
		{backend.U8, u8, nil},
	} {
		name := tc.dtype.String()
		streamed, whole := filepath.Join(dir, name+"_s.npy"), filepath.Join(dir, name+"_w.npy")
		writeInChunks(t, streamed, tc.dtype, shape, vals, 3) // 3 + 3 + 1 rows
		if err := WriteNPY(whole, tc.whole, shape); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(streamed)
		b, _ := os.ReadFile(whole)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: streamed file (%d bytes) differs from WriteNPY's (%d bytes)", name, len(a), len(b))
		}
		src, err := OpenNPY(streamed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m := src.Meta(); m.N != n || m.D != h*w*c || m.DType != tc.dtype || m.Shape.H != h || m.Shape.W != w || m.Shape.C != c {
			t.Errorf("%s: OpenNPY sees %+v", name, m)
		}
		x, _, err := Collect(src)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.want
		if want == nil {
			want = make([]float64, len(u8))
			for i, v := range u8 {
				want[i] = float64(v)
			}
		}
		if got := x.Float64(make([]float64, len(vals)), nil); !slices.Equal(got, want) {
			t.Errorf("%s: read back %v, want %v", name, got[:8], want[:8])
		}
	}
	noTempFiles(t, dir)
}

// NumPy reads what the writer streamed.
func TestNPYWriterReadByNumPy(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy").Run(); err != nil {
		t.Skipf("/usr/bin/python3 with numpy not available: %v", err)
	}
	dir := t.TempDir()
	vals := make([]float64, 5*4)
	for i := range vals {
		vals[i] = float64(i) / 8
	}
	writeInChunks(t, filepath.Join(dir, "a.npy"), backend.F32, []int{5, 4}, vals, 2)
	writeInChunks(t, filepath.Join(dir, "b.npy"), backend.F64, []int{5, 2, 2}, vals, 1)
	writeInChunks(t, filepath.Join(dir, "c.npy"), backend.U8, []int{5, 4}, vals, 5)
	for name, want := range map[string]string{
		"a.npy": "float32 (5, 4) 23.75 0.125",
		"b.npy": "float64 (5, 2, 2) 23.75 0.125",
		"c.npy": "uint8 (5, 4) 24.0 0", // i/8 rounded half away from zero
	} {
		script := fmt.Sprintf("import numpy as np; a = np.load(%q); print(a.dtype, a.shape, a.sum(dtype=np.float64), a.flat[1] if a.dtype != np.uint8 else a.flat[2])", filepath.Join(dir, name))
		var out bytes.Buffer
		cmd := exec.Command("/usr/bin/python3", "-c", script)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: numpy failed: %v\n%s", name, err, out.String())
		}
		if got := strings.TrimSpace(out.String()); got != want {
			t.Errorf("%s: numpy reads %q, want %q", name, got, want)
		}
	}
}

func TestNPYWriterErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "short.npy")

	// Too few values: Close fails, naming the file and both counts, and
	// nothing is left behind under either name.
	w, err := NewNPYWriter(path, backend.F32, []int{4, 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRows(make([]float64, 6)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, w.Close(), "short.npy", "(4, 3) holds 12 values but only 6 were written")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("partial %s exists: %v", path, err)
	}
	w.Abort() // harmless after a failed Close

	// Too many values, and values that are not whole rows.
	w, err = NewNPYWriter(filepath.Join(dir, "long.npy"), backend.F64, []int{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, w.WriteRows(make([]float64, 9)), "long.npy", "(2, 3) holds 6 values but 9 were written")
	wantErr(t, w.Close(), "long.npy", "holds 6 values but 9")
	w, err = NewNPYWriter(filepath.Join(dir, "ragged.npy"), backend.F64, []int{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, w.WriteRows(make([]float64, 4)), "ragged.npy", "4 values are not whole rows of 3")

	// Values that do not fit uint8.
	w, err = NewNPYWriter(filepath.Join(dir, "u8.npy"), backend.U8, []int{3})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, w.WriteRows([]float64{3, 255.4, 255.6}), "u8.npy", "value 255.6 (element 2) does not fit uint8")

	// Abort discards a file still being written.
	w, err = NewNPYWriter(filepath.Join(dir, "aborted.npy"), backend.F64, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
	wantErr(t, w.WriteRows([]float64{1}), "aborted.npy", "aborted")

	_, err = NewNPYWriter(filepath.Join(dir, "neg.npy"), backend.F64, []int{2, -1})
	wantErr(t, err, "neg.npy", "invalid shape (2, -1)")
	_, err = NewNPYWriter(filepath.Join(dir, "scalar.npy"), backend.F64, nil)
	wantErr(t, err, "scalar.npy", "at least one dimension")
	_, err = NewNPYWriter(filepath.Join(dir, "i8.npy"), backend.DType(9), []int{1})
	wantErr(t, err, "i8.npy", "cannot write DType(9)")
	_, err = NewNPYWriter(filepath.Join(dir, "no", "such", "dir.npy"), backend.F64, []int{1})
	wantErr(t, err, "such/dir.npy: cannot create it", "no such file")

	noTempFiles(t, dir)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed writes left %d files", len(entries))
	}
}

// Finish writes the array out under its temporary name; only Commit makes
// it appear, and Abort after Finish leaves nothing.
func TestNPYWriterFinishThenCommit(t *testing.T) {
	dir := t.TempDir()
	for _, commit := range []bool{true, false} {
		path := filepath.Join(dir, fmt.Sprintf("a%v.npy", commit))
		w, err := NewNPYWriter(path, backend.F64, []int{2, 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRows([]float64{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		if err := w.Finish(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatal("a finished file appeared before Commit")
		}
		if commit {
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
		} else {
			w.Abort()
		}
		if _, err := os.Stat(path); (err == nil) != commit {
			t.Fatalf("commit=%v: stat %v", commit, err)
		}
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Fatalf("left in the directory: %v", es)
	}
}
