package data

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStreamingMemoryIsBounded reads a 1.6 MB file in chunks of 10 rows and
// checks that a whole pass allocates a small fraction of the file: one chunk
// (8 kB raw + 8 kB decoded), the stream buffers and the gzip window, not the
// array.
func TestStreamingMemoryIsBounded(t *testing.T) {
	dir := t.TempDir()
	const n, d = 2000, 100
	vals := make([]float64, n*d)
	for i := range vals {
		vals[i] = float64(i % 977)
	}
	raw := filepath.Join(dir, "big.npy")
	if err := WriteNPY(raw, vals, []int{n, d}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	gz := writeFile(t, dir, "big.npy.gz", gzipBytes(b))
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
			t.Errorf("%s: a pass allocated %d bytes for a %d-byte array", filepath.Base(p), used, n*d*8)
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
