//go:build linux

package scenario

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// On Linux a child's rusage cannot be trusted for its peak: Go starts
// children with vfork semantics (CLONE_VM), and at exec the kernel carries
// the shared memory's high-water mark — this process's, holding every
// earlier scenario's data — into the child's maxrss. (The e2e scenarios
// reported 15 GB for a 1 GB job.) VmHWM in /proc/PID/status belongs to the
// child's own address space, so the child is sampled while it runs; the
// high-water mark only grows, and the last sample misses at most the
// final sampling interval: 1 ms for the first 200 ms, so that a child of a
// few milliseconds is seen too, then 10 ms.
func peakSampling(elapsed time.Duration) time.Duration {
	if elapsed < 200*time.Millisecond {
		return time.Millisecond
	}
	return 10 * time.Millisecond
}

// watchPeak samples pid's VmHWM until stop is closed and returns the last
// value read, in bytes (0 if none could be read).
func watchPeak(pid int, stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	go func() {
		var peak uint64
		start := time.Now()
		for {
			if v, ok := vmHWM(path); ok {
				peak = max(peak, v)
			}
			t := time.NewTimer(peakSampling(time.Since(start)))
			select {
			case <-stop:
				t.Stop()
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func vmHWM(path string) (uint64, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	i := bytes.Index(raw, []byte("VmHWM:"))
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(raw[i+len("VmHWM:"):])
	if len(f) < 2 || string(f[1]) != "kB" {
		return 0, false
	}
	kb, err := strconv.ParseUint(string(f[0]), 10, 64)
	return kb * 1024, err == nil
}
