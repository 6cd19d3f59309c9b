package spectral

// Internals the external tests (package spectral_test) run directly.
var (
	EigenOneStage = eigenOneStage
	EigenTwoStage = eigenTwoStage
)

// EigenBandwidth is Eigen's choice of b.
var EigenBandwidth = eigenBandwidth

// ProcessCPU is the process's CPU seconds (0 where not measured).
var ProcessCPU = processCPU
