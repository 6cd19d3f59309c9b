//go:build unix

package spectral

import "syscall"

// dcProcessCPU returns the CPU seconds (user + system) this process has used,
// all threads together (OpenBLAS's included): on a machine shared with other
// jobs it measures the work where wall time measures the neighbours.
func dcProcessCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
