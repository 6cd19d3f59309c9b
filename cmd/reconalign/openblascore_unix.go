//go:build unix

package main

import (
	"os"
	"strings"
	"syscall"

	"github.com/reconalign/reconalign/backend/openblas"
)

// useOpenBLASKernels re-executes the command with the OpenBLAS settings of
// openblas.EnvAdvice when this process's OpenBLAS was loaded without them:
// OPENBLAS_CORETYPE where OpenBLAS fell back to generic kernels on a CPU it
// does not know, and a short OPENBLAS_THREAD_TIMEOUT so that its idle
// threads do not spin through the engine's own Go stages. OpenBLAS reads
// both only while it loads, so a new process is the only way to apply them.
// A user's own settings are always left as they are, and the new process
// has both set, so the re-execution happens once.
func useOpenBLASKernels() {
	advice := openblas.EnvAdvice()
	if len(advice) == 0 {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	for _, kv := range advice {
		name, value, _ := strings.Cut(kv, "=")
		os.Setenv(name, value)
	}
	// On success Exec does not return; on failure the command runs on as it is.
	syscall.Exec(exe, os.Args, os.Environ())
}
