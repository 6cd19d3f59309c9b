// Package check is the correctness gate of reconalign's benchmark suite:
// a backend's answer is compared, before it is timed, with a reference
// computed here by plain loops (never by a backend) or with an invariant the
// answer must satisfy, within a bound on the rounding error of the
// arithmetic the backend declares (its unit round-off u). A wrong triangle,
// transpose, order, shift or scale gives errors orders of magnitude above
// the bounds. Sampling (seeded, so a failure reproduces) keeps a check far
// cheaper than the operation it judges.
package check

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/blas64"
)

// SamplePairs picks index pairs (a ≤ b) of a d×d matrix: the corners, some
// diagonal entries and random ones, seeded so a failure reproduces.
func SamplePairs(d, count int, seed uint64) [][2]int {
	rng := rand.New(rand.NewPCG(seed, uint64(d)))
	pairs := [][2]int{{0, 0}, {0, d - 1}, {d - 1, d - 1}, {d / 2, d / 2}}
	for len(pairs) < count {
		a, b := rng.IntN(d), rng.IntN(d)
		if a > b {
			a, b = b, a
		}
		pairs = append(pairs, [2]int{a, b})
	}
	return pairs
}

// GramEntries compares the upper triangle of g with Σ_i x(i,a)·x(i,b)
// at the sampled pairs. With exact set (integer data, float64 arithmetic)
// every partial sum is an integer below 2⁵³, so any order of summation gives
// the exact value and the tolerance is zero.
func GramEntries(g blas64.General, n int, x func(i, j int) float64, pairs [][2]int, u float64, exact bool) error {
	for _, p := range pairs {
		a, b := p[0], p[1]
		ref, mag := 0.0, 0.0
		for i := 0; i < n; i++ {
			v := x(i, a) * x(i, b)
			ref += v
			mag += math.Abs(v)
		}
		got := g.Data[a*g.Stride+b]
		tol := 2 * float64(n) * u * mag
		if exact {
			tol = 0
		}
		if !(math.Abs(got-ref) <= tol) {
			return fmt.Errorf("Gram entry (%d,%d) = %.17g, reference %.17g (|error| %.3g > tolerance %.3g)", a, b, got, ref, math.Abs(got-ref), tol)
		}
	}
	return nil
}

// GemmEntries compares c = a·b (no transposes) at sampled entries.
func GemmEntries(c, a, b blas64.General, pairs [][2]int, u float64) error {
	k := a.Cols
	for _, p := range pairs {
		i, j := p[0]%c.Rows, p[1]%c.Cols
		ref, mag := 0.0, 0.0
		for l := 0; l < k; l++ {
			v := a.Data[i*a.Stride+l] * b.Data[l*b.Stride+j]
			ref += v
			mag += math.Abs(v)
		}
		got := c.Data[i*c.Stride+j]
		if tol := 2 * float64(k) * u * mag; !(math.Abs(got-ref) <= tol) {
			return fmt.Errorf("GEMM entry (%d,%d) = %.17g, reference %.17g (|error| %.3g > tolerance %.3g)", i, j, got, ref, math.Abs(got-ref), tol)
		}
	}
	return nil
}

// SymEig checks eigenpairs (w descending, vectors as the columns of v)
// of the symmetric a: the order, the invariants Σλ = tr A and Σλ² = ‖A‖_F²,
// and for the sampled columns the residual ‖A·v − λ·v‖, the norm and the
// mutual orthogonality.
func SymEig(a blas64.General, w []float64, v blas64.General, cols []int, u float64) error {
	n := a.Rows
	if len(w) != n {
		return fmt.Errorf("%d eigenvalues for a %d×%d matrix", len(w), n, n)
	}
	tr, fro := 0.0, 0.0
	for i := 0; i < n; i++ {
		tr += a.Data[i*a.Stride+i]
		for j := 0; j < n; j++ {
			fro += a.Data[i*a.Stride+j] * a.Data[i*a.Stride+j]
		}
	}
	normA := math.Sqrt(fro)
	tol := 100 * float64(n) * u
	sum, sum2 := 0.0, 0.0
	for i, x := range w {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("eigenvalue %d is %g", i, x)
		}
		if i > 0 && x > w[i-1] {
			return fmt.Errorf("eigenvalues not descending at %d: %g after %g", i, x, w[i-1])
		}
		sum += x
		sum2 += x * x
	}
	if math.Abs(sum-tr) > tol*normA*math.Sqrt(float64(n)) {
		return fmt.Errorf("Σλ = %.15g but tr(A) = %.15g", sum, tr)
	}
	if math.Abs(sum2-fro) > tol*fro {
		return fmt.Errorf("Σλ² = %.15g but ‖A‖_F² = %.15g", sum2, fro)
	}
	return EigenVectors(func(x, y []float64) { SymMulVec(a, x, y) }, n, w, v, cols, tol*normA, tol)
}

// EigenVectors checks ‖A·v_j − λ_j·v_j‖ ≤ resTol, |‖v_j‖ − 1| ≤ tol
// and |v_i·v_j| ≤ tol for the sampled columns, with A given as a product.
func EigenVectors(mul func(x, y []float64), n int, w []float64, v blas64.General, cols []int, resTol, tol float64) error {
	vec := func(j int) []float64 {
		out := make([]float64, n)
		for i := 0; i < n; i++ {
			out[i] = v.Data[i*v.Stride+j]
		}
		return out
	}
	y := make([]float64, n)
	var seen [][]float64
	for _, j := range cols {
		if j >= v.Cols {
			continue
		}
		x := vec(j)
		mul(x, y)
		res, nrm := 0.0, 0.0
		for i := range x {
			d := y[i] - w[j]*x[i]
			res += d * d
			nrm += x[i] * x[i]
		}
		if math.Sqrt(res) > resTol {
			return fmt.Errorf("eigenpair %d: residual ‖Av − λv‖ = %.3g > %.3g", j, math.Sqrt(res), resTol)
		}
		if math.Abs(math.Sqrt(nrm)-1) > tol {
			return fmt.Errorf("eigenvector %d has norm %.15g", j, math.Sqrt(nrm))
		}
		for k, o := range seen {
			if d := Dot(o, x); math.Abs(d) > tol {
				return fmt.Errorf("eigenvectors %d and %d are not orthogonal: %.3g", cols[k], j, d)
			}
		}
		seen = append(seen, x)
	}
	return nil
}

// SymMulVec is y = A·x with plain loops (A square, row-major).
func SymMulVec(a blas64.General, x, y []float64) {
	for i := 0; i < a.Rows; i++ {
		y[i] = Dot(a.Data[i*a.Stride:i*a.Stride+a.Cols], x)
	}
}

// Dot is Σ a_i·b_i in order.
func Dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// SampleCols picks column indices below r: the first, some in the leading
// half (where both Gram routes keep full accuracy) and random ones.
func SampleCols(r, count int, seed uint64) []int {
	if r <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, uint64(r)))
	seen := map[int]bool{}
	var cols []int
	for _, c := range []int{0, r / 4, r / 2} {
		if !seen[c] {
			seen[c] = true
			cols = append(cols, c)
		}
	}
	for tries := 0; len(cols) < min(count, r) && tries < 100*count; tries++ {
		if c := rng.IntN(r); !seen[c] {
			seen[c] = true
			cols = append(cols, c)
		}
	}
	return cols
}

// Curve compares an alignment curve with reference values at the
// given k (1-based), and checks that it never decreases and ends at 1.
func Curve(name string, curve []float64, rank int, ks []int, want []float64, wantRank int, tol float64) error {
	if wantRank > 0 && rank != wantRank {
		return fmt.Errorf("%s: rank %d, reference %d", name, rank, wantRank)
	}
	if len(curve) != rank {
		return fmt.Errorf("%s: %d curve points for rank %d", name, len(curve), rank)
	}
	for i := 1; i < len(curve); i++ {
		if curve[i] < curve[i-1]-1e-12 {
			return fmt.Errorf("%s: alignment decreases at k = %d", name, i+1)
		}
	}
	if n := len(curve); n > 0 && math.Abs(curve[n-1]-1) > 1e-9 {
		return fmt.Errorf("%s: alignment(rank) = %.12g, want 1", name, curve[n-1])
	}
	for i, k := range ks {
		if k < 1 || k > len(curve) {
			return fmt.Errorf("%s: reference k = %d outside the curve (rank %d)", name, k, len(curve))
		}
		if d := math.Abs(curve[k-1] - want[i]); !(d <= tol) {
			return fmt.Errorf("%s: alignment(%d) = %.9f, reference %.9f (|error| %.2g > %.2g)", name, k, curve[k-1], want[i], d, tol)
		}
	}
	return nil
}

// GramEigen checks eigenpairs of XᵀX without forming it: the trace
// invariant Σλ = ‖X‖_F², the order, full rank, and for 8 sampled pairs of
// the leading half the residual Xᵀ(X·v) − λv, the norm and orthogonality.
func GramEigen(x blas64.General, w []float64, v blas64.General, u float64) error {
	n, d := x.Rows, x.Cols
	fro := 0.0
	for _, e := range x.Data[:n*d] {
		fro += e * e
	}
	sum := 0.0
	for i, e := range w {
		if math.IsNaN(e) {
			return fmt.Errorf("eigenvalue %d is NaN", i)
		}
		if i > 0 && e > w[i-1] {
			return fmt.Errorf("eigenvalues not descending at %d", i)
		}
		sum += e
	}
	m := float64(max(n, d))
	if math.Abs(sum-fro) > 100*m*u*fro {
		return fmt.Errorf("Σλ = %.15g but ‖X‖_F² = %.15g", sum, fro)
	}
	if r := v.Cols; r != min(n, d) {
		return fmt.Errorf("numerical rank %d, the data are full rank %d", r, min(n, d))
	}
	t := make([]float64, n)
	mul := func(in, out []float64) {
		for i := 0; i < n; i++ {
			t[i] = Dot(x.Data[i*d:(i+1)*d], in)
		}
		clear(out)
		for i := 0; i < n; i++ {
			row := x.Data[i*d : (i+1)*d]
			for j, e := range row {
				out[j] += e * t[i]
			}
		}
	}
	tol := 1e4 * m * u
	return EigenVectors(mul, d, w, v, SampleCols(v.Cols/2, 8, 42), tol*w[0], tol)
}

// CurveAt compares two curves given at lists of k, on the k both have (at
// least one).
func CurveAt(name string, gk []int, gv []float64, wk []int, wv []float64, tol float64) error {
	want := map[int]float64{}
	for i, k := range wk {
		want[k] = wv[i]
	}
	n := 0
	for i, k := range gk {
		w, ok := want[k]
		if !ok {
			continue
		}
		n++
		if d := gv[i] - w; !(d <= tol && d >= -tol) {
			return fmt.Errorf("%s: alignment(%d) = %.9f, reference %.9f", name, k, gv[i], w)
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: no k in common with the reference", name)
	}
	return nil
}

// Close compares two slices entry by entry within an absolute tolerance.
func Close(name string, got, want []float64, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol) {
			return fmt.Errorf("%s: value %d is %.12g, want %.12g", name, i+1, got[i], want[i])
		}
	}
	return nil
}

// Projections checks an eigen phase without eigenvectors: w, all
// eigenvalues of the symmetric a (descending, with the trace and Frobenius
// invariants of SymEig), and p = M·U (C×D). U being orthogonal, every row
// of p has the norm of its row of m; and Σ_j p_ij·λ_j·p_kj = m_iᵀ·A·m_k for
// the rows i, k of pairs sampled pairs (the diagonal ones included), which
// a column of p paired with the wrong eigenvalue, a missing sign-consistent
// column or a transposed block fails.
func Projections(a, m blas64.General, w []float64, p blas64.General, pairs int, u float64) error {
	d, c := a.Rows, m.Rows
	if err := SymEig(a, w, blas64.General{}, nil, u); err != nil {
		return err
	}
	if p.Rows != c || p.Cols != d {
		return fmt.Errorf("projections are %d×%d, want C×D = %d×%d", p.Rows, p.Cols, c, d)
	}
	tol := 100 * float64(d) * u
	row := func(g blas64.General, i int) []float64 { return g.Data[i*g.Stride : i*g.Stride+g.Cols] }
	for i := 0; i < c; i++ {
		got, want := Dot(row(p, i), row(p, i)), Dot(row(m, i), row(m, i))
		if !(math.Abs(got-want) <= tol*want) {
			return fmt.Errorf("row %d of M·U has squared norm %.15g, the row of M %.15g: U is not orthogonal", i, got, want)
		}
	}
	lmax := math.Max(math.Abs(w[0]), math.Abs(w[len(w)-1]))
	am := make([]float64, d)
	for _, pr := range SamplePairs(c, pairs, 7) {
		i, k := pr[0], pr[1]
		SymMulVec(a, row(m, k), am)
		want := Dot(row(m, i), am)
		got := 0.0
		pi, pk := row(p, i), row(p, k)
		for j := range w {
			got += pi[j] * w[j] * pk[j]
		}
		scale := lmax * math.Sqrt(Dot(row(m, i), row(m, i))*Dot(row(m, k), row(m, k)))
		if !(math.Abs(got-want) <= tol*scale) {
			return fmt.Errorf("rows %d, %d: Σ_j P_ij·λ_j·P_kj = %.15g but m_iᵀ·A·m_k = %.15g (|error| %.3g > %.3g)", i, k, got, want, math.Abs(got-want), tol*scale)
		}
	}
	return nil
}
