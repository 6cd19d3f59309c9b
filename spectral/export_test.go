package spectral

// Internals the external tests (package spectral_test) run directly.
var (
	EigenOneStage = eigenOneStage
	EigenTwoStage = eigenTwoStage
)
