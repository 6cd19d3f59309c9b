//go:build !unix

package scenario

import "os"

// peakRSS is unknown here: peak memory is then not reported.
func peakRSS(*os.ProcessState) uint64 { return 0 }
