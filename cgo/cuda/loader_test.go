//go:build cgo && linux

package cuda

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadWithoutCUDA(t *testing.T) {
	err := Load()
	if err == nil {
		t.Skipf("CUDA libraries present (%v): nothing to check about their absence", Libraries())
	}
	msg := err.Error()
	for _, want := range []string{"cannot load libcudart.so.13", "libcudart.so.12", "cannot open shared object file", "libcublas.so.13", "libcusolver.so.12", "libnvrtc.so.13", "libcuda.so.1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Load error does not mention %q:\n%s", want, msg)
		}
	}
	// Calls fail with the load error instead of jumping through an empty table.
	if _, err := DeviceCount(); err == nil || !strings.Contains(err.Error(), "CUDA libraries not loaded") {
		t.Errorf("DeviceCount without libraries: %v", err)
	}
	if _, err := CompileCUBIN("", "x", "sm_90"); err == nil {
		t.Error("CompileCUBIN without libraries succeeded")
	}
}

// fakeLibraries builds a stand-in for the five CUDA libraries from testdata
// with the C compiler cgo uses; every soname is the same file.
func fakeLibraries(t *testing.T, sources ...string) string {
	t.Helper()
	cc := compiler(t)
	dir := t.TempDir()
	lib := filepath.Join(dir, "libfake.so")
	args := []string{"-shared", "-fPIC", "-w", "-o", lib}
	for _, s := range sources {
		args = append(args, filepath.Join("testdata", s))
	}
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("building stand-in libraries: %v\n%s", err, out)
	}
	for _, so := range []string{"libcudart.so.13", "libcublas.so.13", "libcusolver.so.12", "libnvrtc.so.13", "libcuda.so.1"} {
		if err := os.Link(lib, filepath.Join(dir, so)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// compiler is the C compiler cgo uses; the test skips without one.
func compiler(t *testing.T) string {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("no C compiler (%s) to build stand-in libraries: %v", cc, err)
	}
	return cc
}

func TestResolveReportsMissingSymbols(t *testing.T) {
	// Only fakecuda.c: a handful of symbols, so almost everything is missing.
	dir := fakeLibraries(t, "fakecuda.c")
	os.Remove(filepath.Join(dir, "libcusolver.so.12"))
	found, _, err := resolvedFrom(dir)
	if err == nil {
		t.Fatal("resolving from incomplete libraries succeeded")
	}
	msg := err.Error()
	for _, want := range []string{
		"cannot load libcusolver.so.12", "also tried libcusolver.so.11",
		"libcudart.so.13 lacks cudaSetDevice", "cudaMalloc,", "libcublas.so.13 lacks cublasCreate_v2",
		"libnvrtc.so.13 lacks nvrtcVersion", "libcuda.so.1 lacks cuInit",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "cudaGetDeviceCount") || strings.Contains(msg, "cuLaunchKernel") {
		t.Errorf("error lists a symbol the library has:\n%s", msg)
	}
	if !found["cudaGetDeviceCount"] || !found["cublasGemmEx"] || found["cudaMalloc"] || found["cusolverDnCreate"] {
		t.Errorf("resolved set is wrong: cudaGetDeviceCount=%v cublasGemmEx=%v cudaMalloc=%v cusolverDnCreate=%v",
			found["cudaGetDeviceCount"], found["cublasGemmEx"], found["cudaMalloc"], found["cusolverDnCreate"])
	}
}

// TestResolveFallsBackToFolders: libraries the loader's search path does not
// find are opened from the fallback folders, each after the dependencies it
// finds beside it (here a cuSOLVER that needs cuSPARSE, which nothing else
// loads and the search path does not find either).
func TestResolveFallsBackToFolders(t *testing.T) {
	dir := fakeLibraries(t, "fakeall.c", "fakecuda.c")
	found, opened, err := resolvedFrom("", dir)
	if err != nil {
		t.Fatalf("resolving with %s as a fallback folder: %v", dir, err)
	}
	if len(opened) != numLibs || !found["cusolverDnXsyevdx"] {
		t.Errorf("opened %v, cusolverDnXsyevdx found %v", opened, found["cusolverDnXsyevdx"])
	}
	for _, f := range opened {
		if filepath.Dir(f) != dir {
			t.Errorf("opened %s, not from %s", f, dir)
		}
	}

	// cuSOLVER needing cuSPARSE, both only in the fallback folder (a new
	// one: the loader matches a path it has opened before by name).
	dir = fakeLibraries(t, "fakeall.c", "fakecuda.c")
	solver := filepath.Join(dir, "libcusolver.so.12")
	os.Remove(solver)
	cc := compiler(t)
	sparse := filepath.Join(dir, "libcusparse.so.12")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-w", "-Wl,-soname,libcusparse.so.12", "-o", sparse, "-x", "c", "/dev/null").CombinedOutput(); err != nil {
		t.Fatalf("building a stand-in cuSPARSE: %v\n%s", err, out)
	}
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-w", "-o", solver, filepath.Join("testdata", "fakeall.c"), filepath.Join("testdata", "fakecuda.c"),
		"-Wl,--no-as-needed", "-L"+dir, "-l:libcusparse.so.12").CombinedOutput(); err != nil {
		t.Fatalf("building a stand-in cuSOLVER that needs cuSPARSE: %v\n%s", err, out)
	}
	if !isLoaded("libcusparse.so.12") { // not on a second run in this process
		if _, err := dlopen(solver); err == nil || !strings.Contains(err.Error(), "libcusparse.so.12") {
			t.Fatalf("the stand-in cuSOLVER opened without its dependency (%v): the test proves nothing", err)
		}
	}
	_, opened, err = resolvedFrom("", dir)
	if err != nil {
		t.Fatalf("cuSOLVER with its dependency beside it: %v", err)
	}
	if !slices.Contains(opened, solver) {
		t.Errorf("opened %v, not %s", opened, solver)
	}
	if !isLoaded("libcusparse.so.12") {
		t.Error("libcusparse.so.12 was not preloaded")
	}
}

func TestCallsThroughStandInLibraries(t *testing.T) {
	dir := fakeLibraries(t, "fakeall.c", "fakecuda.c")
	restore, err := useLibrariesFrom(dir)
	if err != nil {
		t.Fatalf("complete stand-in libraries did not load: %v", err)
	}
	defer restore()

	// A runtime error carries the call, the status name, its code and text.
	_, err = DeviceCount()
	var ce *Error
	if !errors.As(err, &ce) || ce.Call != "cudaGetDeviceCount" || ce.Code != 100 || ce.Lib != LibRuntime {
		t.Fatalf("DeviceCount error = %#v", err)
	}
	if want := "cudaGetDeviceCount failed: cudaErrorNoDevice (100): no CUDA-capable device is detected"; err.Error() != want {
		t.Errorf("error text %q, want %q", err.Error(), want)
	}

	// Kernel arguments travel one per 64-bit slot.
	f := Function{}
	if err := f.Launch([3]uint32{7, 1, 1}, [3]uint32{256, 1, 1}, Stream{}, DevicePtr{}.Add(0x1000), int64(-5), 2.5); err != nil {
		t.Errorf("Launch with the expected arguments: %v", err)
	}
	err = f.Launch([3]uint32{7, 1, 1}, [3]uint32{256, 1, 1}, Stream{}, DevicePtr{}.Add(0x1000), int64(5), 2.5)
	if err == nil || err.Error() != "cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE (1)" {
		t.Errorf("Launch with a wrong argument: %v", err)
	}

	// cublasGemmEx gets alpha and beta in the compute type's scale type.
	h := Blas{}
	for _, c := range []struct {
		compute     ComputeType
		alpha, beta float64
	}{{Compute32I, 1, 0}, {Compute32FFastTF32, 2.5, 1}, {Compute64F, 2.5, 0}} {
		if err := h.GemmEx(OpT, OpN, 4, 4, 16, c.alpha, DevicePtr{}, R8I, 16, DevicePtr{}, R8I, 16, c.beta, DevicePtr{}, R32I, 4, c.compute); err != nil {
			t.Errorf("GemmEx compute %d: %v", c.compute, err)
		}
	}
	if err := h.GemmEx(OpN, OpN, 1, 1, 1, 2, DevicePtr{}, R8I, 4, DevicePtr{}, R8I, 4, 0, DevicePtr{}, R32I, 4, Compute32I); err == nil {
		t.Error("GemmEx int32 with alpha 2 accepted")
	}
	err = h.GemmEx(OpN, OpN, 1, 1, 1, 1, DevicePtr{}, R16F, 4, DevicePtr{}, R16F, 4, 0, DevicePtr{}, R16F, 4, Compute16F)
	if err == nil || err.Error() != "cublasGemmEx failed: CUBLAS_STATUS_NOT_SUPPORTED (15)" {
		t.Errorf("GemmEx unsupported: %v", err)
	}

	// cuSOLVER's integer arguments and outputs, and its status names.
	s := Solver{}
	if lw, err := s.DorgqrBufferSize(9, 5, 3, DevicePtr{}, 9, DevicePtr{}); err != nil || lw != 9053 {
		t.Errorf("DorgqrBufferSize = %d, %v; want 9053", lw, err)
	}
	if _, err := s.DorgqrBufferSize(2, 5, 3, DevicePtr{}, 2, DevicePtr{}); err == nil ||
		err.Error() != "cusolverDnDorgqr_bufferSize failed: CUSOLVER_STATUS_INVALID_VALUE (3)" {
		t.Errorf("DorgqrBufferSize error: %v", err)
	}

	// Xsyevdx's eigenpair count comes back through the solver's page-locked
	// scalars, and a count the library never wrote reads as −1.
	sv, err := NewSolver()
	if err != nil {
		t.Fatalf("NewSolver: %v", err)
	}
	defer sv.Destroy()
	for _, c := range []struct {
		n, il, iu, want int64
	}{{10, 4, 10, 7}, {10, 10, 10, 1}, {3, 1, 3, -1}, {5, 2, 5, 3}, {10, 1, 10, 10}} {
		if err := sv.Xsyevdx(Vectors, Lower, c.n, DevicePtr{}, c.n, c.il, c.iu, DevicePtr{}, DevicePtr{}, 0, nil, 0, DevicePtr{}); err != nil {
			t.Errorf("Xsyevdx n=%d il=%d iu=%d: %v", c.n, c.il, c.iu, err)
			continue
		}
		if got := sv.EigenpairsFound(); got != c.want {
			t.Errorf("Xsyevdx n=%d il=%d iu=%d: EigenpairsFound = %d, want %d", c.n, c.il, c.iu, got, c.want)
		}
	}
}

func TestErrorOutOfMemory(t *testing.T) {
	for _, c := range []struct {
		err  Error
		want bool
	}{
		{Error{Lib: LibRuntime, Code: 2}, true},
		{Error{Lib: LibBLAS, Code: 3}, true},
		{Error{Lib: LibSolver, Code: 2}, true},
		{Error{Lib: LibSolver, Code: 3}, false},
		{Error{Lib: LibNVRTC, Code: 2}, false},
	} {
		if got := c.err.OutOfMemory(); got != c.want {
			t.Errorf("%v code %d: OutOfMemory = %v", c.err.Lib, c.err.Code, got)
		}
	}
}
