package cpu

import "unsafe"

// Householder reflectors H = I − τ·u·uᵀ with u = (1, v[1], …, v[len−1]):
// the leading 1 is implied, so v[0] is never read and callers may keep τ
// there. These are the inner loops of the band → tridiagonal reduction (the
// bulge chase, on blocks of at most 2b×2b of a band held in L1/L2) and of
// the application of its reflectors to the rows of a carried block. Rows are
// contiguous, so every loop is a vector update along a row.

// HouseLeft overwrites the rows×cols block x (row stride ldx) with H·x,
// where u has length rows: w = xᵀu, then row i −= τ·u_i·w. work holds at
// least cols values.
func HouseLeft(x []float64, ldx, rows, cols int, v []float64, tau float64, work []float64) {
	if tau == 0 || rows == 0 || cols == 0 {
		return
	}
	_ = x[(rows-1)*ldx+cols-1]
	_ = v[rows-1]
	if houseLeftAsm(x, ldx, rows, cols, v, tau) {
		return
	}
	houseLeftGo(x, ldx, rows, cols, v, tau, work[:cols])
}

func houseLeftGo(x []float64, ldx, rows, cols int, v []float64, tau float64, w []float64) {
	copy(w, x[:cols])
	for i := 1; i < rows; i++ {
		axpyGo(v[i], x[i*ldx:i*ldx+cols], w)
	}
	axpyGo(-tau, w, x[:cols])
	for i := 1; i < rows; i++ {
		axpyGo(-tau*v[i], w, x[i*ldx:i*ldx+cols])
	}
}

// HouseRight overwrites the rows×cols block x (row stride ldx) with x·H,
// where u has length cols: each row −= τ·(row·u)·uᵀ.
func HouseRight(x []float64, ldx, rows, cols int, v []float64, tau float64) {
	if tau == 0 || rows == 0 || cols == 0 {
		return
	}
	_ = x[(rows-1)*ldx+cols-1]
	_ = v[cols-1]
	if houseRightAsm(x, ldx, rows, cols, v, tau) {
		return
	}
	houseRightRows(x, ldx, rows, cols, v, tau)
}

// houseRightRows is HouseRight a row at a time through dot and axpy.
func houseRightRows(x []float64, ldx, rows, cols int, v []float64, tau float64) {
	for i := 0; i < rows; i++ {
		row := x[i*ldx : i*ldx+cols]
		s := row[0] + dot(row[1:], v[1:cols])
		row[0] -= float64(tau * s) // not fused: the assembly's bits
		axpy(-tau*s, v[1:cols], row[1:])
	}
}

// HouseSymWork returns a work buffer for HouseSym of order up to n that
// lies within one page, with room after it: the loops' masked partial
// chunks then stay on the page that HouseSym itself writes, and none of
// them takes the slower way through copies (see tailCrossesPage in
// house_amd64.go). Larger orders get a plain one.
func HouseSymWork(n int) []float64 {
	const page = 4096 / 8
	if 2*n+8 > page {
		return make([]float64, 2*n)
	}
	buf := make([]float64, 2*page)
	off := (page - int(uintptr(unsafe.Pointer(&buf[0]))%4096)/8) % page
	return buf[off : off+2*n : off+2*n]
}

// HouseSym overwrites the symmetric n×n matrix c, of which only the upper
// triangle (row stride ldc) is read and written, with H·c·H, where u has
// length n (LAPACK's dlarfy): y = c·u, y −= ½τ(yᵀu)·u, c −= τ(u·yᵀ + y·uᵀ).
// work holds at least 2n values.
func HouseSym(c []float64, ldc, n int, v []float64, tau float64, work []float64) {
	if tau == 0 || n == 0 {
		return
	}
	_ = c[(n-1)*ldc+n-1]
	u := work[:n]
	y := work[n : 2*n]
	copy(u, v[:n])
	u[0] = 1
	clear(y)
	if houseSymAsm(c, ldc, n, u, y, tau) {
		return
	}
	houseSymLoops(c, ldc, n, u, y, tau)
}

// houseSymLoops is HouseSym after its set-up, through the vector loops.
func houseSymLoops(c []float64, ldc, n int, u, y []float64, tau float64) {
	// y = c·u from the upper triangle, one row at a time: the row's part
	// right of the diagonal gives a dot for y_i and an update for y_{i+1:}.
	// (The float64 conversion keeps a compiler from fusing the product
	// into an FMA, so these loops give the assembly's bits.)
	for i := 0; i < n; i++ {
		row := c[i*ldc+i : i*ldc+n]
		y[i] += float64(row[0]*u[i]) + dotAxpy(row[1:], u[i+1:], y[i+1:], u[i])
	}
	alpha := -0.5 * tau * dot(y, u)
	axpy(alpha, u, y)
	for i := 0; i < n; i++ {
		axpy2(c[i*ldc+i:i*ldc+n], y[i:], -tau*u[i], u[i:], -tau*y[i])
	}
}

// dotGo is Σ x_i·y_i with four partial sums.
func dotGo(x, y []float64) float64 {
	n := len(x)
	y = y[:n]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < n; i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyGo sets y += alpha·x.
func axpyGo(alpha float64, x, y []float64) {
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		y[i] += alpha * x[i]
		y[i+1] += alpha * x[i+1]
		y[i+2] += alpha * x[i+2]
		y[i+3] += alpha * x[i+3]
	}
	for ; i < n; i++ {
		y[i] += alpha * x[i]
	}
}
