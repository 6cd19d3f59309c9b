package data

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets feed arbitrary bytes through the same path a user's file
// takes: header parsing, size checks against the file, streaming and label
// validation. They must never panic, hang or allocate more than the file can
// justify; what they accept must be self-consistent.

func addSeeds(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func fuzzFile(t *testing.T, b []byte) {
	p := filepath.Join(t.TempDir(), "fuzz")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if src, err := OpenFile(p, Options{}); err == nil {
		m := src.Meta()
		if m.N < 1 || m.D < 1 || !m.Shape.IsZero() && m.Shape.D() != m.D {
			t.Fatalf("accepted inconsistent meta %+v", m)
		}
		for _, chunk := range []int{1, 3} {
			r, err := src.Open(chunk)
			if err != nil {
				t.Fatal(err)
			}
			rows := 0
			for {
				b, err := r.Next()
				if err == io.EOF {
					if rows != m.N {
						t.Fatalf("chunk %d: pass ended after %d rows, meta says %d", chunk, rows, m.N)
					}
					break
				}
				if err != nil {
					break // a stream error is a fine outcome
				}
				b.X.Check()
				if b.X.N < 1 || b.X.N > chunk || b.X.D != m.D || b.X.DType() != m.DType {
					t.Fatalf("chunk %d: batch %d×%d %v, meta %+v", chunk, b.X.N, b.X.D, b.X.DType(), m)
				}
				for i, v := range b.X.Float64(make([]float64, b.X.N*b.X.D), nil) {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("delivered non-finite value %v at %d", v, i)
					}
				}
				rows += b.X.N
			}
			r.Close()
		}
	}
	if labels, err := ReadLabels(p); err == nil {
		if len(labels) == 0 {
			t.Fatal("accepted an empty label file")
		}
		for i, l := range labels {
			if l < 0 || l > MaxLabel {
				t.Fatalf("accepted label %d at %d", l, i)
			}
		}
	}
}

func FuzzNPY(f *testing.F) {
	addSeeds(f, "u8_img.npy", "f32_hwc.npy", "f64_flat.npy", "f64_1d.npy", "f64_v2.npy", "i2_flat.npy",
		"f64_flat.npy.gz", "fortran.npy", "bigendian.npy", "labels_i8.npy")
	f.Add(npyBytes(npyDict("<f8", "(2, 1)"), f64Bytes(1, math.NaN())))
	f.Add(npyBytes(npyDict("<f4", "(0, 3)"), nil))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr': '<f8'"))
	f.Fuzz(fuzzFile)
}

func FuzzIDX(f *testing.F) {
	addSeeds(f, "images-idx3-ubyte", "images-idx3-ubyte.gz", "labels-idx1-ubyte.gz", "i8-idx2", "i16-idx2",
		"i32-idx2", "f32-idx4", "f64-idx2")
	f.Add(idxBytes(0x08, []uint32{0xffffffff, 28, 28}, nil))
	f.Add(gzipBytes(idxBytes(0x0D, []uint32{2, 1}, []byte{0x7f, 0xc0, 0, 0, 0, 0, 0, 0})))
	f.Fuzz(fuzzFile)
}

func FuzzLabels(f *testing.F) {
	addSeeds(f, "labels_i8.npy", "labels_i4_col.npy", "labels_u1.npy", "labels-idx1-ubyte.gz", "targets_f8.npy")
	f.Fuzz(fuzzFile)
}

// FuzzHeaderDict exercises the dict parser alone, many times faster than
// going through files.
func FuzzHeaderDict(f *testing.F) {
	f.Add("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }")
	f.Add(`{"descr": "|u1", "fortran_order": True, "shape": (3L,)}`)
	f.Add("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (), }")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHeaderDict(s)
		if err != nil {
			return
		}
		if len(h.shape) > maxDims {
			t.Fatalf("accepted %d dimensions", len(h.shape))
		}
		for _, d := range h.shape {
			if d < 0 || d > maxElems {
				t.Fatalf("accepted dimension %d", d)
			}
		}
	})
}
