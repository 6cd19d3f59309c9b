package cuda

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reconalign/reconalign/backend"
	cu "github.com/reconalign/reconalign/cgo/cuda"
)

// The GPU is opened once per test binary: compiling the kernels takes a while.
var (
	gpuOnce    sync.Once
	gpuBackend *Backend
	gpuErr     error
)

// requireGPU is true when RECONALIGN_REQUIRE_GPU=1: the GPU tests then fail
// instead of skipping when the backend cannot open (the GPU machine's check
// sets it, so that a broken setup cannot pass as "skipped").
func requireGPU() bool { return os.Getenv("RECONALIGN_REQUIRE_GPU") == "1" }

// sharedGPU returns the GPU backend, or skips the test with the reason it is
// unavailable (fails it under RECONALIGN_REQUIRE_GPU=1).
func sharedGPU(t *testing.T) *Backend {
	t.Helper()
	gpuOnce.Do(func() { gpuBackend, gpuErr = Open(0) })
	if gpuErr != nil {
		if requireGPU() {
			t.Fatalf("RECONALIGN_REQUIRE_GPU=1 but the GPU backend is unavailable: %v", gpuErr)
		}
		t.Skipf("GPU backend unavailable: %v", gpuErr)
	}
	return gpuBackend
}

func TestMain(m *testing.M) {
	code := m.Run()
	if gpuBackend != nil {
		if err := gpuBackend.Close(); err != nil && code == 0 {
			os.Stderr.WriteString("closing the GPU backend: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

func TestUnavailableIsExplained(t *testing.T) {
	b, err := backend.Open(Name, backend.Options{})
	if err == nil {
		info := b.Info()
		b.(backend.Closer).Close()
		if info.Name != Name || info.Device == "" || info.Library == "" {
			t.Errorf("Info of the opened GPU backend: %+v", info)
		}
		t.Skipf("the GPU backend is available here (%s; %s; opened %s)", info.Device, info.Library, strings.Join(cu.Libraries(), ", "))
	}
	if requireGPU() {
		t.Fatalf("RECONALIGN_REQUIRE_GPU=1 but the GPU backend is unavailable: %v", err)
	}
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("error %v does not match backend.ErrUnavailable", err)
	}
	if b != nil {
		t.Errorf("a failed open returned a non-nil Backend %#v", b)
	}
	// The reason is the loader's or the build's, not a bare "unavailable".
	t.Logf("reason: %v", err)
	if msg := err.Error(); len(msg) < len("backend unavailable: cuda: ")+20 {
		t.Errorf("reason too short to be useful: %q", msg)
	}
	found := false
	for _, n := range backend.Names() {
		found = found || n == Name
	}
	if !found {
		t.Errorf("%q is not registered: %v", Name, backend.Names())
	}
}

// forEachDevice runs fn on the CPU stand-in device, and on the GPU when there
// is one. The stand-in backend is closed afterwards, which fails if any
// device buffer leaked.
func forEachDevice(t *testing.T, fn func(t *testing.T, b *Backend)) {
	t.Run("fake", func(t *testing.T) {
		// 32 MiB: the planner sizes chunk buffers to the free memory, and the
		// stand-in allocates them for real.
		b := newBackend(newFakeDevice(32 << 20))
		fn(t, b)
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Run("gpu", func(t *testing.T) {
		b := sharedGPU(t)
		defer func() {
			b.SetPrecision(FP64)
			setMaxRows(b, 0)
		}()
		fn(t, b)
	})
}

// setMaxRows caps the rows per device chunk (0: as planned).
func setMaxRows(b *Backend, rows int) {
	b.maxRows = rows
	b.releaseGram(false)
}

// TestGPUMediumGram checks every precision on a chunk large enough to use
// several thread blocks, tensor-core tiles and, with 1,000-row device
// chunks, five trips through the two staging slots. It needs the GPU (the
// stand-in would take minutes).
func TestGPUMediumGram(t *testing.T) {
	b := sharedGPU(t)
	defer func() {
		b.SetPrecision(FP64)
		setMaxRows(b, 0)
	}()
	r := rand.New(rand.NewPCG(25, 26))
	const n, d = 4099, 517
	for _, dt := range []backend.DType{backend.U8, backend.F32} {
		x := randomChunk(r, dt, n, d)
		xf := x.Float64(make([]float64, n*d), nil)
		mean := make([]float64, d)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				mean[j] += xf[i*d+j] / n
			}
		}
		for _, shift := range [][]float64{nil, mean} {
			want := prefilled(d)
			reference.GramAdd(want, x, shift)
			for _, p := range Precisions {
				for _, rows := range []int{0, 1000} {
					b.SetPrecision(p)
					setMaxRows(b, rows)
					got := prefilled(d)
					start := time.Now()
					if err := b.GramAdd(got, x, shift); err != nil {
						t.Fatalf("%v %s: %v", dt, p, err)
					}
					t.Logf("%v data, %s, shift %v, rows per chunk %d: %v", dt, p, shift != nil, rows, time.Since(start))
					tol := gramTolerance(p, dt, shift != nil)
					switch {
					case p.For(dt) == FP32:
						tol = 5e-5 // float32 sums of 4,099 rows
					case p.For(dt) == BF16 && tol == 0:
						tol = 5e-5 // integer sums past 2^24 round in float32
					}
					compareUpper(t, fmt.Sprintf("%v data, %s, shift %v, rows %d", dt, p, shift != nil, rows), got, want, tol)
				}
			}
		}
	}
}
