package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/blas/blas64"
)

// The correctness gate. Each check compares a backend's answer with a
// reference computed here by plain loops (never by a backend), or with an
// invariant the answer must satisfy, within a bound on the rounding error of
// the arithmetic the backend declares. A wrong triangle, transpose, order,
// shift or scale gives errors orders of magnitude above the bounds.

// unitRoundoff of a backend's declared precision ("float64", "float32",
// "tf32", ...): the precision of its Gram's products, the least precise
// arithmetic named. Exact integer modes are held to float64's (exactness).
func unitRoundoff(precision string) float64 {
	p := strings.ToLower(precision)
	switch {
	case strings.Contains(p, "bf16"), strings.Contains(p, "bfloat16"):
		return 0x1p-8
	case strings.Contains(p, "tf32"), strings.Contains(p, "16"):
		return 0x1p-11
	case strings.Contains(p, "32"):
		return 0x1p-24
	}
	return 0x1p-53
}

// samplePairs picks index pairs (a ≤ b) of a d×d matrix: the corners, some
// diagonal entries and random ones, seeded so a failure reproduces.
func samplePairs(d, count int, seed uint64) [][2]int {
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

// checkGramEntries compares the upper triangle of g with Σ_i x(i,a)·x(i,b)
// at the sampled pairs. With exact set (integer data, float64 arithmetic)
// every partial sum is an integer below 2⁵³, so any order of summation gives
// the exact value and the tolerance is zero.
func checkGramEntries(g blas64.General, n int, x func(i, j int) float64, pairs [][2]int, u float64, exact bool) error {
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

// checkGemmEntries compares c = a·b (no transposes) at sampled entries.
func checkGemmEntries(c, a, b blas64.General, pairs [][2]int, u float64) error {
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

// checkSymEig checks eigenpairs (w descending, vectors as the columns of v)
// of the symmetric a: the order, the invariants Σλ = tr A and Σλ² = ‖A‖_F²,
// and for the sampled columns the residual ‖A·v − λ·v‖, the norm and the
// mutual orthogonality.
func checkSymEig(a blas64.General, w []float64, v blas64.General, cols []int, u float64) error {
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
	return checkEigenVectors(func(x, y []float64) { symMulVec(a, x, y) }, n, w, v, cols, tol*normA, tol)
}

// checkEigenVectors checks ‖A·v_j − λ_j·v_j‖ ≤ resTol, |‖v_j‖ − 1| ≤ tol
// and |v_i·v_j| ≤ tol for the sampled columns, with A given as a product.
func checkEigenVectors(mul func(x, y []float64), n int, w []float64, v blas64.General, cols []int, resTol, tol float64) error {
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
			if d := dot(o, x); math.Abs(d) > tol {
				return fmt.Errorf("eigenvectors %d and %d are not orthogonal: %.3g", cols[k], j, d)
			}
		}
		seen = append(seen, x)
	}
	return nil
}

// symMulVec is y = A·x with plain loops.
func symMulVec(a blas64.General, x, y []float64) {
	for i := 0; i < a.Rows; i++ {
		y[i] = dot(a.Data[i*a.Stride:i*a.Stride+a.Cols], x)
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// sampleCols picks column indices below r: the first, some in the leading
// half (where both Gram routes keep full accuracy) and random ones.
func sampleCols(r, count int, seed uint64) []int {
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

// checkCurve compares an alignment curve with reference values at the
// given k (1-based), and checks that it never decreases and ends at 1.
func checkCurve(name string, curve []float64, rank int, ks []int, want []float64, wantRank int, tol float64) error {
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
