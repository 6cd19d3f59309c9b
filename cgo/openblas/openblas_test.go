//go:build openblas && cgo

package openblas

import (
	"strings"
	"testing"
)

func TestThreadsRoundTrip(t *testing.T) {
	orig := NumThreads()
	defer SetNumThreads(orig)
	if orig < 1 || NumProcs() < 1 {
		t.Fatalf("NumThreads() = %d, NumProcs() = %d; want both ≥ 1", orig, NumProcs())
	}
	SetNumThreads(1)
	if got := NumThreads(); got != 1 {
		t.Errorf("after SetNumThreads(1), NumThreads() = %d", got)
	}
}

func TestConfigNamesOpenBLAS(t *testing.T) {
	if c := Config(); !strings.HasPrefix(c, "OpenBLAS") {
		t.Errorf("Config() = %q, want it to start with OpenBLAS", c)
	}
}
