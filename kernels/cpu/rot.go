package cpu

// Rot applies one plane rotation to a pair of vectors of equal length:
// x ← c·x − s·y and y ← s·x + c·y (both from the old values). It is the
// inner loop of the tridiagonal QL eigensolver's eigenvector update, which
// keeps the eigenvectors as rows so that each rotation is two contiguous
// vectors.
func Rot(x, y []float64, c, s float64) {
	n := len(x)
	y = y[:n]
	head := 0
	if hasAVX2FMA && n >= 4 {
		head = n &^ 3
		rotAVX2(head, &x[0], &y[0], c, s)
	}
	for k := head; k < n; k++ {
		xv, yv := x[k], y[k]
		x[k] = c*xv - s*yv
		y[k] = s*xv + c*yv
	}
}
