package data

import (
	"fmt"
	"path/filepath"
	"testing"
)

var benchSink float64

// BenchmarkReadNPY measures streaming throughput of a 4000×1024 array per
// element type, 1024-row chunks (run with -bench ReadNPY -benchtime 20x).
func BenchmarkReadNPY(b *testing.B) {
	const n, d = 4000, 1024
	dir := b.TempDir()
	cases := map[string]any{
		"u8":  make([]uint8, n*d),
		"f32": make([]float32, n*d),
		"f64": make([]float64, n*d),
	}
	for _, name := range []string{"u8", "f32", "f64"} {
		p := filepath.Join(dir, name+".npy")
		if err := WriteNPY(p, cases[name], []int{n, d}); err != nil {
			b.Fatal(err)
		}
		src, err := OpenFile(p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		size := map[string]int64{"u8": 1, "f32": 4, "f64": 8}[name] * n * d
		b.Run(fmt.Sprintf("%s-%dMB", name, size>>20), func(b *testing.B) {
			b.SetBytes(size)
			for i := 0; i < b.N; i++ {
				r, err := src.Open(1024)
				if err != nil {
					b.Fatal(err)
				}
				for {
					batch, err := r.Next()
					if err != nil {
						break
					}
					benchSink += float64(batch.X.N)
				}
				r.Close()
			}
		})
	}
}
