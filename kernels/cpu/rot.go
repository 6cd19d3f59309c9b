package cpu

// Rot applies one plane rotation to a pair of vectors of equal length:
// x ← c·x − s·y and y ← s·x + c·y (both from the old values). It is the
// inner loop of the tridiagonal QL eigensolver's eigenvector update, which
// keeps the eigenvectors as rows so that each rotation is two contiguous
// vectors.
func Rot(x, y []float64, c, s float64) {
	rot(x, y[:len(x)], c, s)
}

// rotGo is the portable rot.
func rotGo(x, y []float64, c, s float64) {
	y = y[:len(x)]
	for k, xv := range x {
		yv := y[k]
		x[k] = c*xv - s*yv
		y[k] = s*xv + c*yv
	}
}

// RotSweep applies one sweep of rotations to columns k0..k1 of the rows of
// z (row stride ld): for t = len(cs)-1 down to 0, rows (lo+t, lo+t+1) take
// Rot with cs[t], sn[t]. Strips of 16 columns keep the moving row in
// registers (one load and one store per rotation); the rest use Rot.
func RotSweep(z []float64, ld, lo, k0, k1 int, cs, sn []float64) {
	count := len(cs)
	if count == 0 || k1 <= k0 {
		return
	}
	sn = sn[:count]
	_ = z[(lo+count)*ld+k1-1]
	k := rotSweepStrips(z, ld, lo, k0, k1, cs, sn)
	if k < k1 {
		for t := count - 1; t >= 0; t-- {
			i := lo + t
			Rot(z[i*ld+k:i*ld+k1], z[(i+1)*ld+k:(i+1)*ld+k1], cs[t], sn[t])
		}
	}
}
