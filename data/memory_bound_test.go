package data

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/reconalign/reconalign/cgo/deflate"
)

// bigNPY writes a 2000×100 float64 array as big.npy and big.npy.gz.
func bigNPY(t *testing.T) (vals []float64, raw, gz string) {
	t.Helper()
	dir := t.TempDir()
	const n, d = 2000, 100
	vals = make([]float64, n*d)
	for i := range vals {
		vals[i] = float64(i % 977)
	}
	raw = filepath.Join(dir, "big.npy")
	if err := WriteNPY(raw, vals, []int{n, d}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	return vals, raw, writeFile(t, dir, "big.npy.gz", gzipBytes(b))
}

// TestStreamingMemoryIsBounded reads a 1.6 MB file in chunks of 10 rows and
// checks that a whole pass allocates a small fraction of the file: one chunk
// (8 kB raw + 8 kB decoded), the stream buffers and the gzip window, not the
// array.
func TestStreamingMemoryIsBounded(t *testing.T) {
	vals, raw, gz := bigNPY(t)
	// The bound holds for streamed passes; a small gzip file is otherwise
	// inflated whole when libdeflate is built in (TestWholeGzipPass).
	saved := wholeGzipMax
	wholeGzipMax = 0
	defer func() { wholeGzipMax = saved }()
	for _, p := range []string{raw, gz} {
		src, err := OpenFile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var sum float64
		forEachBatch(t, src, 10, func(b Batch) {
			for _, v := range b.X.F64 {
				sum += v
			}
		})
		runtime.ReadMemStats(&after)
		used := after.TotalAlloc - before.TotalAlloc
		if used > 400<<10 {
			t.Errorf("%s: a pass allocated %d bytes for a %d-byte array", filepath.Base(p), used, len(vals)*8)
		}
		want := 0.0
		for _, v := range vals {
			want += v
		}
		if sum != want {
			t.Errorf("%s: sum %v, want %v", filepath.Base(p), sum, want)
		}
		t.Logf("%s: one pass allocated %d bytes", filepath.Base(p), used)
	}
}

// With libdeflate built in, a small gzip file is inflated whole: the pass
// gives the same values, allocating about the body once.
func TestWholeGzipPass(t *testing.T) {
	if !deflate.Available() {
		t.Skip("built without libdeflate")
	}
	vals, raw, gz := bigNPY(t)
	rawInfo, err := os.Stat(raw)
	if err != nil {
		t.Fatal(err)
	}
	gzInfo, err := os.Stat(gz)
	if err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(gz, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 0, len(vals))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	forEachBatch(t, src, 37, func(b Batch) { got = append(got, b.X.F64...) })
	runtime.ReadMemStats(&after)
	if !slices.Equal(got, vals) {
		t.Fatal("values differ from the file's")
	}
	used := after.TotalAlloc - before.TotalAlloc
	if lo, hi := uint64(rawInfo.Size()), uint64(rawInfo.Size()+gzInfo.Size())+400<<10; used < lo || used > hi {
		t.Errorf("a whole-file pass allocated %d bytes, want the body once (%d–%d)", used, lo, hi)
	}
}
