package engine

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
)

func TestPrecisionIsNeverSilentlyChanged(t *testing.T) {
	for _, p := range []string{"tf32", "fp32", "bf16"} {
		if _, err := New(Options{Backend: gonum.Name, Precision: p}); err == nil || !strings.Contains(err.Error(), "float64 (exact for uint8 data) only") {
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
	be := e.backendFor(memSource(t, backend.Chunk{N: 1, D: 1, F64: []float64{1}}, nil).Meta())
	if be != e.be {
		t.Fatal("a 1×1 problem left the CPU")
	}
	e.gpuMinFlops = 0
	be = e.backendFor(memSource(t, backend.Chunk{N: 1, D: 1, F64: []float64{1}}, nil).Meta())
	if e.gpu == nil {
		if be != e.be || !errors.Is(e.gpuErr, backend.ErrUnavailable) {
			t.Fatalf("without a GPU: backend %s, reason %v", be.Info().Name, e.gpuErr)
		}
		t.Logf("no GPU here: %v", e.gpuErr)
	}
}

// failingGPU is a backend whose Gram fails as a GPU out of memory does.
type failingGPU struct{ *gonum.Backend }

func (failingGPU) Info() backend.Info { return backend.Info{Name: "fake-gpu", Device: "fake"} }
func (failingGPU) GramAdd(blas64.General, backend.Chunk, []float64) error {
	return backend.Unavailable("fake-gpu", "out of device memory")
}

// An auto-routed GPU that fails falls back to the CPU with the same answer;
// a requested non-default precision does not.
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
	e.gpu, e.gpuMinFlops = failingGPU{gonum.New(1)}, 0
	got, err := e.Align(src, AlignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Backend() != e.be {
		t.Errorf("the report names %s, not the CPU backend that computed", e.Backend().Info().Name)
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
