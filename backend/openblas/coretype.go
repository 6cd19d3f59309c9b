//go:build openblas && cgo

package openblas

import (
	"strings"

	"github.com/klauspost/cpuid/v2"

	ob "github.com/reconalign/reconalign/cgo/openblas"
)

// genericCores are the kernel sets a DYNAMIC_ARCH OpenBLAS falls back to when
// it does not know the CPU's model number: SSE2/SSE3 code that runs at a
// fraction of what an AVX2 or AVX-512 machine can do.
var genericCores = []string{"prescott", "katmai", "coppermine", "northwood", "banias", "core2", "penryn", "dunnington", "nehalem", "atom", "opteron", "barcelona"}

// CoreTypeAdvice returns the value of OPENBLAS_CORETYPE that gives this CPU
// the kernels it can run, when the OpenBLAS in this process chose a generic
// set instead; "" when OpenBLAS's own choice stands.
//
// Why: OpenBLAS picks its kernels from CPUID model numbers it knew when it
// was released. Debian 12's 0.3.21 does not know Intel's Emerald Rapids (and
// other CPUs newer than it), takes it for a Prescott and runs SSE3 kernels:
// its dgemm then reaches a seventh of the AVX-512 rate, and every routine
// built on it (LAPACK included) follows. OpenBLAS reads OPENBLAS_CORETYPE
// only while it loads, before any Go code runs, so the advice has to be
// applied to a new process (the reconalign command re-executes itself with
// it; an embedding program sets it in its environment).
func CoreTypeAdvice() string {
	core := strings.ToLower(ob.CoreName())
	generic := false
	for _, g := range genericCores {
		if core == g {
			generic = true
		}
	}
	if !generic {
		return ""
	}
	switch {
	case cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512BF16):
		return "Cooperlake"
	case cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512DQ):
		return "SkylakeX"
	case cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3):
		return "Haswell"
	}
	return ""
}
