package engine

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// TestGPUCheck is the engine half of scripts/gpu-check.sh: on the GPU machine
// (RECONALIGN_GPU_CHECK=1) it times the Gram per precision on a 65,536-row
// chunk at D = 12,288 against fp64, the eigendecompositions at 4,096 and
// 12,288, and the whole alignment curve of an ImageNet-64-sized uint8 dataset
// held in host RAM, then prints one table. Elsewhere it skips.
//
// BUG(engine): written without a GPU; it has not run yet.
func TestGPUCheck(t *testing.T) {
	if os.Getenv("RECONALIGN_GPU_CHECK") != "1" {
		t.Skip("set RECONALIGN_GPU_CHECK=1 on a GPU machine (scripts/gpu-check.sh does)")
	}
	gpu, err := backend.Open("cuda", backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := gpu.(backend.Closer); ok {
		defer c.Close()
	}
	n := envInt("RECONALIGN_GPU_CHECK_N", 1281167)
	d := envInt("RECONALIGN_GPU_CHECK_D", 12288)
	var rows []string
	row := func(format string, args ...any) {
		rows = append(rows, fmt.Sprintf(format, args...))
		t.Log(rows[len(rows)-1])
	}

	start := time.Now()
	x, labels := imageLike(n, d, 1000)
	row("%-34s %9.2f s", fmt.Sprintf("fill %d×%d uint8 in RAM", n, d), time.Since(start).Seconds())

	// The Gram per precision on one 65,536-row chunk, error against fp64.
	chunk := backend.Chunk{N: min(65536, n), D: d, U8: x[:min(65536, n)*d]}
	var ref []float64
	for _, p := range []string{"fp64", "fp32", "tf32", "bf16", "exact-u8"} {
		g, secs, err := gramOnce(gpu, chunk, p)
		if err != nil {
			row("%-34s %s", "gram "+p, err)
			continue
		}
		if p == "fp64" {
			ref = g
		}
		row("%-34s %9.4f s %8.1f TFLOP/s  max rel err vs fp64 %.2e", "gram "+p+" (65,536 rows)", secs,
			2*float64(chunk.N)*float64(d)*float64(d)/secs/1e12, maxRelErr(g, ref))
	}

	// Eigendecompositions.
	for _, m := range []int{4096, d} {
		a := backend.NewGeneral(m, m)
		for i := 0; i < m; i++ {
			copy(a.Data[i*m:(i+1)*m], ref[i*d:i*d+m])
		}
		start := time.Now()
		if _, err := gpu.SymEig(a, true); err != nil {
			t.Fatal(err)
		}
		row("%-34s %9.2f s", fmt.Sprintf("eigh %d (fp64, vectors)", m), time.Since(start).Seconds())
	}

	// End to end: moments, eigh and the curve, per precision.
	src, err := data.FromMatrix(backend.Chunk{N: n, D: d, U8: x}, labels, data.Shape{H: 64, W: 64, C: 3, Layout: data.HWC})
	if err != nil {
		t.Fatal(err)
	}
	var curves = map[string][]float64{}
	for _, p := range []string{"exact-u8", "fp64"} {
		e, err := New(Options{Backend: "cuda", Precision: p, ChunkRows: 65536})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c, err := e.Align(src, AlignOptions{Center: true})
		e.Close()
		if err != nil {
			t.Fatal(err)
		}
		curves[p] = c.Alignment
		row("%-34s %9.2f s  rank %d, alignment(10) %.6f", "align ImageNet-64 "+p+" (end to end)", time.Since(start).Seconds(), c.Rank, c.Alignment[9])
	}
	row("%-34s %.2e", "align exact-u8 vs fp64 max diff", maxAbsDiff(curves["exact-u8"], curves["fp64"]))
	fmt.Println("\nGPU check (engine):")
	for _, r := range rows {
		fmt.Println("  " + r)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// imageLike fills an n×d uint8 matrix in parallel: per-pixel means, hashed
// noise and a class bump on a few pixels (label i mod classes), cheap enough
// to make 15.7 GB in seconds.
func imageLike(n, d, classes int) ([]uint8, []int) {
	x := make([]uint8, n*d)
	labels := make([]int, n)
	w := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for p := 0; p < w; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < n; i += w {
				l := i % classes
				labels[i] = l
				h := uint64(i)*0x9E3779B97F4A7C15 + 1
				row := x[i*d : (i+1)*d]
				for j := range row {
					h ^= h >> 29
					h *= 0xBF58476D1CE4E5B9
					h ^= h >> 32
					row[j] = uint8(64 + j%64 + int(h&63))
				}
				row[(l*7)%d] += 40
			}
		}()
	}
	wg.Wait()
	return x, labels
}

// gramOnce times one streamed Gram of the chunk in precision p.
func gramOnce(be backend.Backend, x backend.Chunk, p string) ([]float64, float64, error) {
	if err := usePrecision(be, p); err != nil {
		return nil, 0, err
	}
	s, ok := be.(backend.GramStreamer)
	if !ok {
		return nil, 0, fmt.Errorf("%s streams no Gram", be.Info().Name)
	}
	g := backend.NewGeneral(x.D, x.D)
	run := func() error {
		if err := s.GramBegin(x.D); err != nil {
			return err
		}
		if err := s.GramChunk(x, nil); err != nil {
			return err
		}
		return s.GramEnd(g)
	}
	if err := run(); err != nil { // warm-up: kernels compiled, buffers allocated
		return nil, 0, err
	}
	for i := range g.Data {
		g.Data[i] = 0
	}
	start := time.Now()
	err := run()
	return g.Data, time.Since(start).Seconds(), err
}

func maxRelErr(got, want []float64) float64 {
	if want == nil {
		return 0
	}
	m := 0.0
	for i := range want {
		if want[i] != 0 {
			m = math.Max(m, math.Abs(got[i]-want[i])/math.Abs(want[i]))
		}
	}
	return m
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range min(len(a), len(b)) {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}
