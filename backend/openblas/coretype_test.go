//go:build openblas && cgo

package openblas

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"

	ob "github.com/reconalign/reconalign/cgo/openblas"
)

// TestCoreTypeAdvice loads OpenBLAS in child processes forced onto its
// generic Prescott kernels and onto the advised ones: on a CPU with AVX2 the
// first must draw advice and the second must not, whatever CPU OpenBLAS
// itself would have recognised.
func TestCoreTypeAdvice(t *testing.T) {
	if core := os.Getenv("RECONALIGN_CORETYPE_CHILD"); core != "" {
		if got := ob.CoreName(); !strings.EqualFold(got, core) {
			t.Fatalf("OPENBLAS_CORETYPE=%s loaded core %q", core, got)
		}
		os.Stdout.WriteString("advice=" + CoreTypeAdvice() + "\n")
		return
	}
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		t.Skip("no AVX2/FMA: OpenBLAS's generic kernels are what this CPU gets")
	}
	child := func(core string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCoreTypeAdvice$", "-test.v")
		cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE="+core, "RECONALIGN_CORETYPE_CHILD="+core)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child with OPENBLAS_CORETYPE=%s: %v\n%s", core, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "advice="); ok {
				return v
			}
		}
		t.Fatalf("child with OPENBLAS_CORETYPE=%s printed no advice:\n%s", core, out)
		return ""
	}
	advice := child("Prescott")
	want := "Haswell"
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512DQ) {
		want = "SkylakeX"
		if cpuid.CPU.Supports(cpuid.AVX512BF16) {
			want = "Cooperlake"
		}
	}
	if advice != want {
		t.Fatalf("on generic kernels the advice is %q, want %q", advice, want)
	}
	if again := child(advice); again != "" {
		t.Fatalf("with OPENBLAS_CORETYPE=%s applied the advice is still %q", advice, again)
	}
}
