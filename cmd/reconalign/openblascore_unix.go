//go:build unix

package main

import (
	"os"
	"syscall"

	"github.com/reconalign/reconalign/backend/openblas"
)

// useOpenBLASKernels re-executes the command with OPENBLAS_CORETYPE set when
// the OpenBLAS loaded into this process fell back to generic kernels on a
// CPU it does not know (see openblas.CoreTypeAdvice): OpenBLAS reads the
// variable only while it loads, so a new process is the only way to apply
// it. A user's own OPENBLAS_CORETYPE is always left as it is, which also
// stops the re-execution from repeating.
func useOpenBLASKernels() {
	if _, set := os.LookupEnv("OPENBLAS_CORETYPE"); set {
		return
	}
	advice := openblas.CoreTypeAdvice()
	if advice == "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	os.Setenv("OPENBLAS_CORETYPE", advice)
	// On success Exec does not return; on failure the command runs on as it is.
	syscall.Exec(exe, os.Args, os.Environ())
}
