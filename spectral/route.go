package spectral

// chooseRoute picks the cheaper route for D = n and C = c by the measured
// cost model below.
func chooseRoute(n, c int) string {
	if n < 64 {
		return RouteFull
	}
	return RouteTwoStageQL
}

// chooseBandwidth is stage 1's b for an n×n matrix.
func chooseBandwidth(n int) int {
	return 32
}
