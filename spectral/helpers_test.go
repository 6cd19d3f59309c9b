package spectral

// cpuGemmer is the pure-Go backend's product (the packed kernels of
// kernels/cpu) without the backend package, which imports this one, and
// without its symmetric products: the band reduction takes its GEMM-only
// paths.
type cpuGemmer = goGemmer

func newCPUGemmer(workers int) *cpuGemmer { return &cpuGemmer{workers: workers} }
