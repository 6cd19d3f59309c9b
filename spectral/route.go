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

// eigenBandwidth is the b of Eigen's two-stage route for an n×n matrix, or
// 0 where the one-stage route is faster.
func eigenBandwidth(n int) int {
	if n < 128 {
		return 0
	}
	return 32
}
