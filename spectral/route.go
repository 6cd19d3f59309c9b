package spectral

// Routes and bandwidths, chosen by measurement (BenchmarkProject and
// TestTimeStages; process CPU time on the shared 2-core development machine,
// pure-Go backend unless said otherwise, November 2026).
//
// Costs in flops, n = D, C rows of M, b the bandwidth:
//
//	stage 1 (GEMM)            (4/3)·n³, plus b·n² in the panels
//	Q1ᵀ·Mᵀ (GEMM)             4·n²·C
//	stage 2 (L1 kernels)      6·b·n²
//	Q2ᵀ·W (L1 kernel)         2·n²·C
//	QL rotations              6·n²·C, plus O(n²) scalar iteration
//	D&C merges (GEMM)         ≈ 4·n²·C, plus O(n²) secular equations
//	full: eigenvectors + M·U  (4/3 + 2 + D&C)·n³ + 2·n²·C, half of the
//	                          one-stage reduction at matrix-vector speed
//
// So the two-stage routes win by a factor that grows with n/C, and the full
// route can only win when C approaches n, where carrying C rows through
// every stage costs as much as forming U.

// chooseRoute picks the route for D = n and C = c.
//
// Measured (CPU seconds, gonum): at n = 512 two-stage+dc takes 0.05 s for
// C = 10, full 0.11 s; at C = 256 0.08 against 0.12; at C = 600 > n the two
// tie (0.11 – 0.12). At n = 1,024, C = 512: 0.55 against 0.85. At n = 128
// everything takes under 10 ms and the routes tie. Hence full below
// n = 128 and from C ≥ n on.
//
// QL against D&C (the tridiagonal stage alone, n = 2,048): C = 10: 0.18 s
// against 0.21; C = 32: 0.19 against 0.19 – 0.26; C = 64: 0.24 – 0.26
// against 0.19 – 0.24; C = 128: 0.30 against 0.22; C = 300: 0.57 against
// 0.40. D&C's cost is nearly flat in C (its secular equations and
// deflation dominate), the rotations' grows with it: QL up to C = 32.
// Those are CPU seconds; in wall time D&C's merges use both cores and QL
// one, and from n = 2,048 on D&C is ahead at C = 10 as well (openblas and
// gonum, two cores): n = 2,048 0.09 – 0.12 s against 0.17, n = 4,096
// 0.27 – 0.46 against 0.64 – 0.70; at n = 784 the two tie (0.02 – 0.03).
func chooseRoute(n, c int) string {
	switch {
	case n < 128 || c >= n:
		return RouteFull
	case c <= 32 && n < 1536:
		return RouteTwoStageQL
	}
	return RouteTwoStageDC
}

// chooseBandwidth is stage 1's b for an n×n matrix.
//
// Wider panels make the GEMMs of stage 1 more efficient (the rank-2b update
// has inner size 2b, the products with A22 have b columns), while stage 2
// costs 6·b·n². Measured (CPU seconds of the whole route, gonum, C = 10):
// n = 2,048: b = 32: 1.62 – 1.93, b = 48: 1.48 – 1.79, b = 64: 1.27 – 1.38;
// n = 512 and 1,024: b = 32 and 64 tie. So 64 from n = 1,536 on, 32 below
// (less band to chase where the GEMMs gain nothing).
func chooseBandwidth(n int) int {
	if n < 1536 {
		return 32
	}
	return 64
}

// eigenBandwidth is the b of Eigen's two-stage route for an n×n matrix, or
// 0 where the one-stage route (gonum's Dsytrd, QL on Qᵀ) is as fast: below
// n = 128, where both take milliseconds.
func eigenBandwidth(n int) int {
	if n < 128 {
		return 0
	}
	return chooseBandwidth(n)
}
