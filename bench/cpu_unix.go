//go:build unix

package bench

import "syscall"

// processCPUSeconds is the user plus system time so far of every thread of
// this process (cgo BLAS threads included) and of the child processes it
// has waited for, so that a scenario run as a child process counts its
// child's CPU time.
func processCPUSeconds() float64 {
	total := 0.0
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			return 0
		}
		total += float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	}
	return total
}
