//go:build unix

package scenario

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSS is a finished process's peak resident set (getrusage's maxrss:
// kilobytes on Linux and the BSDs, bytes on macOS).
func peakRSS(ps *os.ProcessState) uint64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru.Maxrss <= 0 {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return uint64(ru.Maxrss)
	}
	return uint64(ru.Maxrss) * 1024
}
