//go:build !linux

package scenario

// watchPeak has nothing to sample outside Linux: the child's rusage is
// used instead (peakRSS).
func watchPeak(pid int, stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		<-stop
		out <- 0
	}()
	return out
}
