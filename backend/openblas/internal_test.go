//go:build openblas && cgo

package openblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	_ "github.com/reconalign/reconalign/backend/gonum"
	ob "github.com/reconalign/reconalign/cgo/openblas"
)

func TestRegisteredAheadOfGonum(t *testing.T) {
	names := backend.Names()
	if len(names) < 2 || names[0] != Name {
		t.Errorf("backend.Names() = %v, want %q first (priority %d > gonum's 0)", names, Name, Priority)
	}
}

func TestInfoReportsOpenBLAS(t *testing.T) {
	b, err := New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := b.Info()
	if !strings.HasPrefix(info.Library, "OpenBLAS") || info.Threads < 1 || info.Precision != "float64" {
		t.Errorf("Info() = %+v, want Library from openblas_get_config, Threads ≥ 1, float64", info)
	}
}

// TestThreadsOptionHonoured opens two backends with different thread counts
// and checks each call runs with its own backend's count, although OpenBLAS
// keeps one count per process.
func TestThreadsOptionHonoured(t *testing.T) {
	defer ob.SetNumThreads(defaultThreads())
	one, err := New(backend.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := one.Info().Threads; got != 1 {
		t.Fatalf("Options{Threads: 1} gave Info().Threads = %d", got)
	}
	two, err := New(backend.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	want2 := two.Info().Threads // 2, or OpenBLAS's build maximum if lower
	a := backend.NewGeneral(3, 3)
	for i := 0; i < 3; i++ {
		a.Data[i*3+i] = float64(i + 1)
	}
	call := func(b backend.Backend) {
		if err := b.Cholesky(blas64.General{Rows: 3, Cols: 3, Stride: 3, Data: append([]float64(nil), a.Data...)}); err != nil {
			t.Fatal(err)
		}
	}
	call(one)
	if got := ob.NumThreads(); got != 1 {
		t.Errorf("after a call on the 1-thread backend OpenBLAS uses %d threads", got)
	}
	call(two)
	if got := ob.NumThreads(); got != want2 {
		t.Errorf("after a call on the 2-thread backend OpenBLAS uses %d threads, want %d", got, want2)
	}
	call(one)
	if got := ob.NumThreads(); got != 1 {
		t.Errorf("back on the 1-thread backend OpenBLAS uses %d threads", got)
	}
}

// TestGramBlocks shrinks the conversion block so that one chunk is
// converted and multiplied in several row blocks (the conformance cases fit
// in one), and checks the exact uint8 result against a naive sum.
func TestGramBlocks(t *testing.T) {
	defer func(v, r int) { gramBlockValues, gramMinRows = v, r }(gramBlockValues, gramMinRows)
	gramBlockValues, gramMinRows = 1000, 7
	const n, d = 250, 31 // blocks of 32 rows: 7 full and one of 26
	x := backend.Chunk{N: n, D: d, U8: make([]uint8, n*d)}
	for i := range x.U8 {
		x.U8[i] = uint8(i*7919 + i/d)
	}
	shift := make([]float64, d)
	for j := range shift {
		shift[j] = float64(j * 3)
	}
	b, err := New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := backend.NewGeneral(d, d)
	if err := b.GramAdd(g, x, shift); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			want := 0.0
			for k := 0; k < n; k++ {
				want += (float64(x.U8[k*d+i]) - shift[i]) * (float64(x.U8[k*d+j]) - shift[j])
			}
			if got := g.Data[i*d+j]; got != want {
				t.Fatalf("G[%d,%d] = %v, want %v exactly", i, j, got, want)
			}
		}
	}
}

// TestYieldCoresBesideCalls stops OpenBLAS's threads over and over while
// other goroutines run threaded products on backends of their own: every
// product must come out right (a stop under a running call could lose its
// work or hang it), and the threads must start again for calls after a
// stop.
func TestYieldCoresBesideCalls(t *testing.T) {
	const n = 192 // above OpenBLAS's threshold for threading a product
	rng := rand.New(rand.NewPCG(7, 7))
	a, b := backend.NewGeneral(n, n), backend.NewGeneral(n, n)
	for i := range a.Data {
		a.Data[i], b.Data[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	want := backend.NewGeneral(n, n)
	for i := 0; i < n; i++ {
		for k := 0; k < n; k++ {
			for j := 0; j < n; j++ {
				want.Data[i*n+j] += a.Data[i*n+k] * b.Data[k*n+j]
			}
		}
	}
	stop := make(chan struct{})
	yielded := make(chan int)
	go func() {
		be, _ := New(backend.Options{})
		count := 0
		for {
			select {
			case <-stop:
				yielded <- count
				return
			default:
				be.(*Backend).YieldCores()
				count++
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			be, _ := New(backend.Options{})
			c := backend.NewGeneral(n, n)
			for r := 0; r < 40; r++ {
				if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, c); err != nil {
					errs <- err.Error()
					return
				}
				for i, v := range c.Data {
					if math.Abs(v-want.Data[i]) > 1e-10*float64(n) {
						errs <- fmt.Sprintf("round %d: c[%d] = %g, want %g", r, i, v, want.Data[i])
						return
					}
				}
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(2 * time.Minute):
		t.Fatal("threaded products beside YieldCores did not finish in 2 minutes")
	}
	close(stop)
	if count := <-yielded; count == 0 {
		t.Error("YieldCores never ran")
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
