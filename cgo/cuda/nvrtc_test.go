//go:build cgo && linux

package cuda

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/kernels"
)

// TestCompileKernelsWithNVRTC compiles the backend's kernels for Hopper
// (sm_90) through CompileCUBIN with a real NVRTC, which needs no GPU: set
// RECONALIGN_NVRTC to a libnvrtc.so (Debian's non-free libnvrtc11.2 with
// libnvrtc-builtins11.8 will do, unpacked anywhere). The other libraries are
// stand-ins. Without it the test skips: CI has no NVRTC.
//
// NVRTC opens its builtins library by soname when it compiles, through the
// search path only, not beside itself (seen with 11.8: "failed to open
// libnvrtc-builtins.so.11.8"): the test opens the builtins first, as Load
// does for an NVRTC found in a fallback folder.
func TestCompileKernelsWithNVRTC(t *testing.T) {
	nvrtc := os.Getenv("RECONALIGN_NVRTC")
	if nvrtc == "" {
		t.Skip("set RECONALIGN_NVRTC to a libnvrtc.so to compile the kernels with it")
	}
	dir := fakeLibraries(t, "fakeall.c", "fakecuda.c")
	real, err := filepath.Abs(nvrtc)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "libnvrtc.so.13"))
	if err := os.Symlink(real, filepath.Join(dir, "libnvrtc.so.13")); err != nil {
		t.Fatal(err)
	}
	preload(filepath.Dir(real), []string{"libnvrtc-builtins.so.*"})
	restore, err := useLibrariesFrom(dir)
	if err != nil {
		t.Fatalf("stand-ins with %s: %v", nvrtc, err)
	}
	defer restore()
	major, minor, err := NVRTCVersion()
	if err != nil {
		t.Fatal(err)
	}
	cubin, err := CompileCUBIN(kernels.Source, "gram.cu", "sm_90")
	if err != nil {
		t.Fatalf("NVRTC %d.%d: %v", major, minor, err)
	}
	for _, name := range kernels.Names {
		if !strings.Contains(string(cubin), name+"\x00") {
			t.Errorf("kernel %s is not in the %d-byte CUBIN under its own name", name, len(cubin))
		}
	}
	t.Logf("NVRTC %d.%d compiled %d kernels for sm_90 into %d bytes", major, minor, len(kernels.Names), len(cubin))

	// A compile error comes back with NVRTC's log.
	_, err = CompileCUBIN("__global__ void k() { undeclared(); }", "bad.cu", "sm_90")
	if err == nil || !strings.Contains(err.Error(), "NVRTC_ERROR_COMPILATION") || !strings.Contains(err.Error(), "undeclared") {
		t.Errorf("a bad kernel: %v", err)
	}
}
