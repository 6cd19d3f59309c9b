//go:build unix

package spectral

import "syscall"

// processCPU is the process's user+system CPU time in seconds: on a shared
// machine a steadier measure of a stage's work than its wall time.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
