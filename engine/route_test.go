package engine

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
)

func TestPrecisionIsNeverSilentlyChanged(t *testing.T) {
	for _, p := range []string{"tf32", "fp32", "bf16"} {
		if _, err := New(Options{Backend: gonum.Name, Precision: p}); !errors.Is(err, ErrPrecisionUnavailable) || !strings.Contains(err.Error(), "float64 (exact for uint8 data) only") {
			t.Fatalf("%s on gonum: %v", p, err)
		}
	}
	// What a CPU backend does compute: float64, exact for uint8 pixels.
	for _, p := range []string{"fp64", "exact-u8"} {
		e, err := New(Options{Backend: gonum.Name, Precision: p})
		if err != nil {
			t.Fatalf("%s on gonum: %v", p, err)
		}
		e.Close()
	}
	// A name no backend knows is refused before any backend sees it.
	var oe *OptionError
	if _, err := New(Options{Precision: "bogus"}); !errors.As(err, &oe) || oe.Option != "Precision" || !strings.Contains(err.Error(), "fp32") {
		t.Fatalf("bogus precision: %v", err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	var oe *OptionError
	for _, o := range []Options{{ChunkRows: -1}, {Threads: -1}} {
		if _, err := New(o); !errors.As(err, &oe) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	var notes []string
	e, err := New(Options{Backend: gonum.Name, Threads: 100 * MaxThreads(), Logf: func(f string, a ...any) { notes = append(notes, f) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Options().Threads != MaxThreads() || !strings.Contains(strings.Join(notes, "\n"), "lowered") {
		t.Errorf("threads %d, notes %q", e.Options().Threads, notes)
	}
	if _, err := New(Options{Backend: "nosuch"}); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown backend: %v", err)
	}
}

func TestRoutingRule(t *testing.T) {
	if GPUWorthIt(60000, 784) {
		t.Error("Fashion-MNIST (7·10¹⁰ flops) routed to a GPU")
	}
	if !GPUWorthIt(1281167, 12288) {
		t.Error("ImageNet-64 not routed to a GPU")
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if p := e.poolFor(OpAlign, Shape{N: 1, D: 1}); p != e.cpu {
		t.Fatal("a 1×1 problem left the CPU")
	}
	e.gpuMinFlops = 0
	p := e.poolFor(OpAlign, Shape{N: 1, D: 1})
	if e.gpu == nil {
		if p != e.cpu || !errors.Is(e.gpuErr, backend.ErrUnavailable) {
			t.Fatalf("without a GPU: backend %s, reason %v", p.name, e.gpuErr)
		}
		t.Logf("no GPU here: %v", e.gpuErr)
	}
	if dev, _ := backend.DeviceOf(e.BackendFor(OpMoments, Shape{N: 1, D: 1})); e.gpu != nil && dev != backend.GPU {
		t.Errorf("a GPU opened but routing chose %s", e.BackendFor(OpMoments, Shape{N: 1, D: 1}))
	}
}

// failingGPU is a backend whose Gram fails as a GPU out of memory does.
type failingGPU struct{ *gonum.Backend }

func (failingGPU) Info() backend.Info { return backend.Info{Name: "fake-gpu", Device: "fake"} }
func (failingGPU) GramAdd(blas64.General, backend.Chunk, []float64) error {
	return backend.Unavailable("fake-gpu", "out of device memory")
}

// fakeGPUPool stands in for an opened GPU.
func fakeGPUPool(be backend.Backend) *pool {
	return &pool{name: be.Info().Name, slots: make(chan struct{}, 1), idle: []backend.Backend{be}, all: []backend.Backend{be}}
}

// An auto-routed GPU that fails falls back to the CPU with the same answer,
// and the result names the CPU backend that computed it; a requested
// non-default precision does not fall back.
func TestFallbackToCPU(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	n, d := 50, 4
	x := randomMatrix(rng, n, d, 1)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 2
	}
	src := memSource(t, backend.Chunk{N: n, D: d, F64: x.Data}, labels)
	ref, err := newEngine(t, 16).Align(src, AlignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	e, err := New(Options{Backend: "auto", Logf: func(f string, a ...any) { notes = append(notes, f) }})
	if err != nil {
		t.Fatal(err)
	}
	e.gpu, e.gpuMinFlops = fakeGPUPool(failingGPU{gonum.New(1)}), 0
	got, err := e.Align(src, AlignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Backend.Name != e.cpu.name || got.Backend.Name == "fake-gpu" {
		t.Errorf("the result names %s, not the CPU backend that computed", got.Backend.Name)
	}
	for i := range ref.Alignment {
		if math.Abs(got.Alignment[i]-ref.Alignment[i]) > 1e-12 {
			t.Fatalf("fallback changed the answer at k=%d", i+1)
		}
	}
	if !strings.Contains(strings.Join(notes, "\n"), "falling back") {
		t.Errorf("no fallback note logged: %q", notes)
	}
	e.opts.Precision = "tf32"
	if _, err := e.Align(src, AlignOptions{}); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("a tf32 request fell back silently: %v", err)
	}
}

// oneUser is a backend that fails the test when two goroutines are inside
// it at once: the engine must never share an instance.
type oneUser struct {
	*gonum.Backend
	t     *testing.T
	inUse *sync.Mutex
}

func (b oneUser) GramAdd(g blas64.General, x backend.Chunk, shift []float64) error {
	if !b.inUse.TryLock() {
		b.t.Error("two operations used one backend instance at once")
		return nil
	}
	defer b.inUse.Unlock()
	return b.Backend.GramAdd(g, x, shift)
}

// One Engine used by many goroutines gives every one of them the answer it
// gives alone (run under -race: the engine's own state is shared too).
func TestEngineSharedByGoroutines(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	n, d := 300, 7
	x := randomMatrix(rng, n, d, 5)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(3)
	}
	src := memSource(t, backend.Chunk{N: n, D: d, F64: x.Data}, labels)
	e := newEngine(t, 64)
	defer e.Close()
	ref, err := e.Align(src, AlignOptions{Center: true})
	if err != nil {
		t.Fatal(err)
	}
	// Every instance the pool opens refuses to be shared.
	e.cpu.open = func() (backend.Backend, error) { return oneUser{gonum.New(1), t, new(sync.Mutex)}, nil }
	e.cpu.idle, e.cpu.all = nil, nil
	e.cpu.slots = make(chan struct{}, 3)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				c, err := e.Align(src, AlignOptions{Center: true})
				if err != nil {
					t.Error(err)
					return
				}
				for i := range ref.Alignment {
					if math.Abs(c.Alignment[i]-ref.Alignment[i]) > 1e-12 {
						t.Errorf("k=%d: %g alone, %g shared", i+1, ref.Alignment[i], c.Alignment[i])
						return
					}
				}
				if _, err := e.Moments(src); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := len(e.cpu.all); n < 1 || n > 3 {
		t.Errorf("the pool opened %d instances for at most 3 at once", n)
	}
}

// The two routes GramEighRoute forces agree with each other on either side
// of N = D, and GramEigh takes the cheaper one.
func TestGramEighRoutesAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	be := gonum.New(1)
	for _, shape := range [][2]int{{12, 20}, {20, 12}} {
		x := randomMatrix(rng, shape[0], shape[1], 2)
		direct, err := GramEighRoute(be, x, true, 0, RouteDirect)
		if err != nil {
			t.Fatal(err)
		}
		dual, err := GramEighRoute(be, x, true, 0, RouteDual)
		if err != nil {
			t.Fatal(err)
		}
		auto, _ := GramEigh(be, x, true, 0)
		if want := map[bool]Route{true: RouteDual, false: RouteDirect}[shape[0] < shape[1]]; auto.Route != want {
			t.Errorf("%v: GramEigh took %s", shape, auto.Route)
		}
		if direct.Rank != dual.Rank || direct.Rank != min(shape[0]-1, shape[1]) {
			t.Fatalf("%v: ranks %d and %d", shape, direct.Rank, dual.Rank)
		}
		// A tolerance that cuts nothing leaves the rank bound: the dual's
		// N − D rounding-noise eigenvalues past D are never counted.
		tiny, err := GramEighRoute(be, x, true, 1e-300, RouteDual)
		if err != nil {
			t.Fatal(err)
		}
		if tiny.Rank > min(shape[0]-1, shape[1]) {
			t.Fatalf("%v: dual with rtol 1e-300 has rank %d", shape, tiny.Rank)
		}
		for j := 0; j < direct.Rank; j++ {
			if math.Abs(direct.Values[j]-dual.Values[j]) > 1e-10*direct.Values[0] {
				t.Fatalf("%v: λ_%d %g vs %g", shape, j+1, direct.Values[j], dual.Values[j])
			}
		}
	}
}
