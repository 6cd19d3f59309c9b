//go:build !unix

package spectral

// dcProcessCPU is not measured here; the benchmarks report 0.
func dcProcessCPU() float64 { return 0 }
