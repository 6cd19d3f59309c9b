package spectral

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/openblas"
)

// dcUlp is LAPACK's dlamch('P'), the unit of the accuracy ratios below.
const dcUlp = 0x1p-52

// The accuracy ratios of LAPACK's dstt21 / dstech tests, which pass at 50:
// residual ‖T·Z − Z·Λ‖₁/(n·‖T‖₁·ulp), orthogonality ‖ZᵀZ − I‖₁/(n·ulp), and
// an eigenvalue error over n·‖T‖₁·ulp. A correct D&C stays below 1; a wrong
// vector or root gives 1e10 and more.
const dcRatioLimit = 20

// dcCase is one test matrix: diagonal d, off-diagonal e (length n-1).
type dcCase struct {
	name string
	d, e []float64
	// exact holds the eigenvalues in closed form, ascending, when known.
	exact []float64
}

func (t dcCase) n() int { return len(t.d) }

// norm1 is ‖T‖₁.
func (t dcCase) norm1() float64 {
	s := 0.0
	for i := range t.d {
		c := math.Abs(t.d[i])
		if i > 0 {
			c += math.Abs(t.e[i-1])
		}
		if i < len(t.e) {
			c += math.Abs(t.e[i])
		}
		s = math.Max(s, c)
	}
	return s
}

func (t dcCase) copies() (d, e []float64) {
	return slices.Clone(t.d), append(slices.Clone(t.e), 0)
}

func dcRandom(n int, seed uint64) dcCase {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	t := dcCase{name: fmt.Sprintf("random%d", n), d: make([]float64, n), e: make([]float64, max(n-1, 0))}
	for i := range t.d {
		t.d[i] = rng.Float64()*2 - 1
	}
	for i := range t.e {
		t.e[i] = rng.Float64()*2 - 1
	}
	return t
}

// dcToeplitz121 is tridiag(1, 2, 1), with eigenvalues 2 − 2·cos(kπ/(n+1)).
func dcToeplitz121(n int) dcCase {
	t := dcCase{name: fmt.Sprintf("toeplitz%d", n), d: make([]float64, n), e: make([]float64, max(n-1, 0)), exact: make([]float64, n)}
	for i := range t.d {
		t.d[i] = 2
		t.exact[i] = 2 - 2*math.Cos(float64(i+1)*math.Pi/float64(n+1))
	}
	for i := range t.e {
		t.e[i] = 1
	}
	return t
}

// dcWilkinson is W⁺ of order 2m+1 (d_i = |m − i|, e = 1): its largest
// eigenvalues come in pairs that agree to many digits.
func dcWilkinson(m int) dcCase {
	n := 2*m + 1
	t := dcCase{name: fmt.Sprintf("wilkinson%d", n), d: make([]float64, n), e: make([]float64, n-1)}
	for i := range t.d {
		t.d[i] = math.Abs(float64(m - i))
	}
	for i := range t.e {
		t.e[i] = 1
	}
	return t
}

// dcGlued chains copies of W⁺₂₁ coupled by glue: clusters of nearly
// equal eigenvalues, one per copy.
func dcGlued(copies int, glue float64) dcCase {
	w := dcWilkinson(10)
	t := dcCase{name: fmt.Sprintf("glued%dx21(%g)", copies, glue)}
	for c := 0; c < copies; c++ {
		t.d = append(t.d, w.d...)
		t.e = append(t.e, w.e...)
		if c < copies-1 {
			t.e = append(t.e, glue)
		}
	}
	return t
}

// dcGraded has entries falling from 1 to 1e-15 along the diagonal.
func dcGraded(n int) dcCase {
	t := dcCase{name: fmt.Sprintf("graded%d", n), d: make([]float64, n), e: make([]float64, max(n-1, 0))}
	for i := range t.d {
		t.d[i] = math.Pow(10, -15*float64(i)/float64(max(n-1, 1)))
	}
	for i := range t.e {
		t.e[i] = math.Sqrt(t.d[i]*t.d[i+1]) / 2
	}
	return t
}

// dcWithSpectrum is the tridiagonal form (gonum's Dsytrd) of Q·diag(λ)·Qᵀ for
// a random orthogonal Q: a tridiagonal with a spectrum of our choosing.
func dcWithSpectrum(name string, lambda []float64, seed uint64) dcCase {
	n := len(lambda)
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	a := make([]float64, n*n)
	for i, l := range lambda {
		a[i*n+i] = l
	}
	// A = H₃H₂H₁·Λ·H₁H₂H₃ with random Householder reflectors H = I − 2vvᵀ.
	v, av := make([]float64, n), make([]float64, n)
	for r := 0; r < 3; r++ {
		nv := 0.0
		for i := range v {
			v[i] = rng.NormFloat64()
			nv += v[i] * v[i]
		}
		for i := range v {
			v[i] /= math.Sqrt(nv)
		}
		// H·A·H = A − 2v(Av)ᵀ − 2(Av)vᵀ + 4(vᵀAv)vvᵀ.
		vav := 0.0
		for i := 0; i < n; i++ {
			s := 0.0
			for j := 0; j < n; j++ {
				s += a[i*n+j] * v[j]
			}
			av[i] = s
			vav += v[i] * s
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				a[i*n+j] += -2*v[i]*av[j] - 2*av[i]*v[j] + 4*vav*v[i]*v[j]
			}
		}
	}
	t := dcCase{name: fmt.Sprintf("%s%d", name, n), d: make([]float64, n), e: make([]float64, max(n-1, 0))}
	if n == 0 {
		return t
	}
	tau := make([]float64, max(n-1, 1))
	work := make([]float64, 64*n)
	lapackgonum.Implementation{}.Dsytrd(blas.Upper, n, a, n, t.d, t.e, tau, work, len(work))
	return t
}

// dcRepeated has eigenvalues 1 (half of them), −1 (a quarter) and the rest
// spread: merges deflate most of their poles.
func dcRepeated(n int) dcCase {
	l := make([]float64, n)
	for i := range l {
		switch {
		case i < n/2:
			l[i] = 1
		case i < 3*n/4:
			l[i] = -1
		default:
			l[i] = float64(i) / float64(n)
		}
	}
	return dcWithSpectrum("repeated", l, 7)
}

func dcGradedSpectrum(n int) dcCase {
	l := make([]float64, n)
	for i := range l {
		l[i] = math.Pow(10, -15*float64(i)/float64(max(n-1, 1)))
	}
	return dcWithSpectrum("gradedspectrum", l, 11)
}

// dcClustered is d = 1, tiny random e: every eigenvalue within 2e-9 of 1.
func dcClustered(n int) dcCase {
	t := dcRandom(n, 5)
	t.name = fmt.Sprintf("clustered%d", n)
	for i := range t.d {
		t.d[i] = 1
	}
	for i := range t.e {
		t.e[i] *= 1e-9
	}
	return t
}

// dcWithZeros is random with exact zeros in e: independent blocks of several
// sizes, eigenvalues from all of them interleaved.
func dcWithZeros(n int) dcCase {
	t := dcRandom(n, 3)
	t.name = fmt.Sprintf("zeros%d", n)
	for i := 0; i < len(t.e); i += 1 + i%37 {
		t.e[i] = 0
	}
	return t
}

// dcDiagonal is e = 0 throughout with d unsorted and repeated.
func dcDiagonal(n int) dcCase {
	t := dcRandom(n, 9)
	t.name = fmt.Sprintf("diagonal%d", n)
	for i := range t.d {
		t.d[i] = float64((i * 7) % 5)
	}
	clear(t.e)
	return t
}

// dcScaled multiplies t by f: the solvers work at unit scale and must give
// f times the answers.
func dcScaled(t dcCase, f float64) dcCase {
	t.name = fmt.Sprintf("%s×%g", t.name, f)
	t.d, t.e = slices.Clone(t.d), slices.Clone(t.e)
	for i := range t.d {
		t.d[i] *= f
	}
	for i := range t.e {
		t.e[i] *= f
	}
	return t
}

// dcCases covers the kinds of the brief at orders on both sides of the
// leaf size and of powers of two.
func dcCases(short bool) []dcCase {
	l := dcLeaf
	var ts []dcCase
	for _, n := range []int{0, 1, 2, 3, l - 1, l, l + 1, 2*l - 1, 2 * l, 2*l + 1, 100, 255, 257, 600} {
		ts = append(ts, dcRandom(n, 1))
	}
	for _, n := range []int{2, l + 1, 2*l + 3, 300} {
		ts = append(ts, dcToeplitz121(n), dcGraded(n), dcWithZeros(n), dcDiagonal(n), dcClustered(n))
	}
	for _, n := range []int{l + 1, 130, 300} {
		ts = append(ts, dcRepeated(n), dcGradedSpectrum(n))
	}
	ts = append(ts, dcWilkinson(10), dcWilkinson(50), dcGlued(10, 1e-9), dcGlued(20, 1e-14), dcGlued(7, 1))
	ts = append(ts, dcGOE(3*l+5, 1), dcScaled(dcGOE(90, 2), 1e150), dcScaled(dcGraded(90), 1e-150))
	if !short {
		ts = append(ts, dcRandom(2000, 2), dcToeplitz121(1999), dcGlued(90, 1e-12), dcRepeated(700))
	}
	return ts
}

// dcBackends returns the CPU backends this build has, by name.
func dcBackends(t testing.TB) map[string]Gemmer {
	bs := map[string]Gemmer{"gonum": newCPUGemmer(0)}
	ob, err := backend.Open(openblas.Name, backend.Options{})
	switch {
	case err == nil:
		bs["openblas"] = ob
	case errors.Is(err, backend.ErrUnavailable):
		t.Logf("openblas backend not tested: %v", err)
	default:
		t.Fatal(err)
	}
	return bs
}

// dcRadiusBound is a bound on the spectral radius strictly above ‖T‖₁ (and above 0).
func dcRadiusBound(norm float64) float64 { return math.Max(norm*1.0625, math.SmallestNonzeroFloat64) }

// dcSturmBig returns the eigenvalues of t ascending, each by bisection on the
// Sturm count evaluated in 128-bit arithmetic down to an interval of
// 2^-85·‖T‖: an independent reference good to far below float64 rounding,
// for small n.
func dcSturmBig(t dcCase) []float64 {
	n := t.n()
	const prec = 128
	bf := func(x float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(x) }
	d := make([]*big.Float, n)
	e2 := make([]*big.Float, n)
	for i := range t.d {
		d[i] = bf(t.d[i])
		if i < n-1 {
			e2[i] = new(big.Float).SetPrec(prec).Mul(bf(t.e[i]), bf(t.e[i]))
		}
	}
	bound := bf(dcRadiusBound(t.norm1()))
	// A zero pivot is shifted past by a perturbation far below the bisection's
	// resolution.
	tiny := new(big.Float).SetPrec(prec).SetMantExp(bound, -300)
	// below(x) counts eigenvalues < x: the negative pivots of T − x·I.
	q, r := new(big.Float).SetPrec(prec), new(big.Float).SetPrec(prec)
	below := func(x *big.Float) int {
		c := 0
		for i := 0; i < n; i++ {
			if i == 0 {
				q.Sub(d[0], x)
			} else {
				if q.Sign() == 0 {
					q.Set(tiny)
				}
				r.Quo(e2[i-1], q)
				q.Sub(d[i], x)
				q.Sub(q, r)
			}
			if q.Sign() < 0 {
				c++
			}
		}
		return c
	}
	out := make([]float64, n)
	for k := 0; k < n; k++ {
		lo, hi := new(big.Float).Neg(bound), new(big.Float).Set(bound)
		mid := new(big.Float).SetPrec(prec)
		for it := 0; it < 86; it++ {
			mid.Add(lo, hi)
			mid.Quo(mid, bf(2))
			if below(mid) > k {
				hi.Set(mid)
			} else {
				lo.Set(mid)
			}
		}
		out[k], _ = mid.Float64()
	}
	return out
}

// dcRefDsterf returns the eigenvalues by gonum's root-free QR, ascending. The
// matrix is first scaled by a power of two (exact) to unit size: gonum
// v0.17's Dsterf panics in its own rescaling of matrices near underflow.
func dcRefDsterf(t testing.TB, m dcCase) []float64 {
	_, exp := math.Frexp(m.norm1())
	d, e := m.copies()
	for i := range d {
		d[i] = math.Ldexp(d[i], -exp)
		e[i] = math.Ldexp(e[i], -exp)
	}
	if !(lapackgonum.Implementation{}).Dsterf(m.n(), d, e) {
		t.Fatalf("%s: Dsterf did not converge", m.name)
	}
	for i := range d {
		d[i] = math.Ldexp(d[i], exp)
	}
	slices.Sort(d)
	return d
}

// dcRefDsteqr returns the eigenvalues ascending and Z (columns) by gonum's
// implicit QL/QR.
func dcRefDsteqr(t testing.TB, m dcCase) ([]float64, blas64.General) {
	n := m.n()
	d, e := m.copies()
	z := blas64.General{Rows: n, Cols: n, Stride: max(n, 1), Data: make([]float64, n*n)}
	if !(lapackgonum.Implementation{}).Dsteqr(lapack.EVTridiag, n, d, e, z.Data, z.Stride, make([]float64, max(1, 2*n))) {
		t.Fatalf("%s: Dsteqr did not converge", m.name)
	}
	return d, z
}

// dcEigenvalueRatio is max_i |λ_i − ref_i| / (n·‖T‖₁·ulp).
func dcEigenvalueRatio(m dcCase, got, ref []float64) float64 {
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-ref[i]))
	}
	return worst / (float64(max(m.n(), 1)) * math.Max(m.norm1(), math.SmallestNonzeroFloat64) * dcUlp)
}

// dcResidualRatio is ‖T·Z − Z·Λ‖₁/(n·‖T‖₁·ulp).
func dcResidualRatio(m dcCase, lambda []float64, z blas64.General) float64 {
	n := m.n()
	worst := 0.0
	for j := 0; j < n; j++ {
		col := 0.0
		for i := 0; i < n; i++ {
			v := (m.d[i] - lambda[j]) * z.Data[i*z.Stride+j]
			if i > 0 {
				v += m.e[i-1] * z.Data[(i-1)*z.Stride+j]
			}
			if i < n-1 {
				v += m.e[i] * z.Data[(i+1)*z.Stride+j]
			}
			col += math.Abs(v)
		}
		worst = math.Max(worst, col)
	}
	return worst / (float64(max(n, 1)) * math.Max(m.norm1(), math.SmallestNonzeroFloat64) * dcUlp)
}

// dcOrthogonalityRatio is ‖ZᵀZ − I‖₁/(n·ulp), ZᵀZ through g.
func dcOrthogonalityRatio(t testing.TB, g Gemmer, z blas64.General) float64 {
	n := z.Rows
	if n == 0 {
		return 0
	}
	p := backend.NewGeneral(n, n)
	if err := g.Gemm(blas.Trans, blas.NoTrans, 1, z, z, 0, p); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for j := 0; j < n; j++ {
		col := 0.0
		for i := 0; i < n; i++ {
			v := p.Data[i*n+j]
			if i == j {
				v--
			}
			col += math.Abs(v)
		}
		worst = math.Max(worst, col)
	}
	return worst / (float64(n) * dcUlp)
}

func dcCheckAscending(t testing.TB, name string, d []float64) {
	t.Helper()
	for i := 1; i < len(d); i++ {
		if d[i] < d[i-1] {
			t.Fatalf("%s: eigenvalues not ascending at %d: %g after %g", name, i, d[i], d[i-1])
		}
	}
}

func TestDCVectors(t *testing.T) {
	for bname, g := range dcBackends(t) {
		for _, m := range dcCases(testing.Short()) {
			d, e := m.copies()
			z, err := dcVectors(d, e, g, 0)
			if err != nil {
				t.Fatalf("%s/%s: %v", bname, m.name, err)
			}
			n := m.n()
			if z.Rows != n || z.Cols != n {
				t.Fatalf("%s/%s: Z is %d×%d, want %d×%d", bname, m.name, z.Rows, z.Cols, n, n)
			}
			if n == 0 {
				continue
			}
			dcCheckAscending(t, m.name, d)
			ratios := map[string]float64{
				"eigenvalues vs Dsterf": dcEigenvalueRatio(m, d, dcRefDsterf(t, m)),
				"residual":              dcResidualRatio(m, d, z),
				"orthogonality":         dcOrthogonalityRatio(t, g, z),
			}
			if n <= 100 {
				ratios["eigenvalues vs 128-bit bisection"] = dcEigenvalueRatio(m, d, dcSturmBig(m))
			}
			if m.exact != nil {
				ratios["eigenvalues vs closed form"] = dcEigenvalueRatio(m, d, m.exact)
			}
			for what, r := range ratios {
				if !(r <= dcRatioLimit) {
					t.Errorf("%s/%s (n = %d): %s ratio %.3g, want ≤ %d", bname, m.name, n, what, r, dcRatioLimit)
				}
			}
			if testing.Verbose() {
				t.Logf("%s/%s: %v", bname, m.name, ratios)
			}
		}
	}
}

// dcClusters splits the ascending ref into runs whose neighbours lie closer
// than gapMin, and returns each run's bounds and its distance to the rest
// of the spectrum.
func dcClusters(ref []float64, gapMin float64) (bounds [][2]int, gaps []float64) {
	for i := 0; i < len(ref); {
		j := i + 1
		for j < len(ref) && ref[j]-ref[j-1] < gapMin {
			j++
		}
		gap := math.Inf(1)
		if i > 0 {
			gap = ref[i] - ref[i-1]
		}
		if j < len(ref) {
			gap = math.Min(gap, ref[j]-ref[j-1])
		}
		bounds = append(bounds, [2]int{i, j})
		gaps = append(gaps, gap)
		i = j
	}
	return bounds, gaps
}

// dcCompareProjections checks projections p (rows of Zᵀ·w) and eigenvalues
// against a reference computed another way. Row i is fixed only up to sign,
// and inside a cluster of (nearly) equal eigenvalues only up to a rotation,
// so it compares each cluster's Gram matrix Σ_{i∈c} p_iᵀ·p_i, which is
// invariant under both. Perturbation theory bounds the error of a cluster's
// invariant subspace by ‖residual‖/gap ≈ n·ulp·‖T‖/gap; each entry may
// differ by ratioLimit times that, scaled by the two columns' norms. Runs of
// eigenvalues closer than 1e6·n·ulp·‖T‖ count as one cluster, so no bound is
// looser than 2e-5.
func dcCompareProjections(t *testing.T, what string, m dcCase, w blas64.General, d []float64, p blas64.General, dref []float64, pref blas64.General) {
	t.Helper()
	n, r := m.n(), w.Cols
	if er := dcEigenvalueRatio(m, d, dref); !(er <= dcRatioLimit) {
		t.Errorf("%s: eigenvalue ratio %.3g, want ≤ %d", what, er, dcRatioLimit)
	}
	colNorm := make([]float64, r)
	for i := 0; i < n; i++ {
		for j := 0; j < r; j++ {
			colNorm[j] += w.Data[i*w.Stride+j] * w.Data[i*w.Stride+j]
		}
	}
	for j := range colNorm {
		colNorm[j] = math.Sqrt(colNorm[j])
	}
	unit := float64(n) * dcUlp * m.norm1()
	bounds, gaps := dcClusters(dref, 1e6*unit)
	worst := 0.0
	g, gref := make([]float64, r*r), make([]float64, r*r)
	for c, b := range bounds {
		clear(g)
		clear(gref)
		for i := b[0]; i < b[1]; i++ {
			x, y := p.Data[i*p.Stride:i*p.Stride+r], pref.Data[i*pref.Stride:i*pref.Stride+r]
			for a := 0; a < r; a++ {
				for q := 0; q < r; q++ {
					g[a*r+q] += x[a] * x[q]
					gref[a*r+q] += y[a] * y[q]
				}
			}
		}
		rel := float64(n) * dcUlp * math.Max(1, m.norm1()/gaps[c])
		for a := 0; a < r; a++ {
			for q := 0; q < r; q++ {
				scale := colNorm[a] * colNorm[q]
				if scale == 0 {
					continue
				}
				ratio := math.Abs(g[a*r+q]-gref[a*r+q]) / scale / rel
				if !(ratio <= dcRatioLimit) {
					t.Fatalf("%s: cluster [%d, %d) (λ ≈ %.6g, gap %.3g): Gram entry (%d, %d) = %.15g, reference %.15g: %.3g × n·ulp·‖T‖/gap",
						what, b[0], b[1], dref[b[0]], gaps[c], a, q, g[a*r+q], gref[a*r+q], ratio)
				}
				worst = math.Max(worst, ratio)
			}
		}
	}
	if testing.Verbose() {
		t.Logf("%s: %d clusters, worst Gram ratio %.3g", what, len(bounds), worst)
	}
}

// dcRandomBlock returns an n×r block with a padded stride whose padding holds
// a sentinel, to catch writes outside the block.
func dcRandomBlock(n, r int, seed uint64) blas64.General {
	rng := rand.New(rand.NewPCG(seed, uint64(n*1000+r)))
	w := blas64.General{Rows: n, Cols: r, Stride: r + 2, Data: make([]float64, n*(r+2))}
	for i := range w.Data {
		w.Data[i] = dcSentinel
		if i%w.Stride < r {
			w.Data[i] = rng.NormFloat64()
		}
	}
	return w
}

const dcSentinel = -12345.5

func dcCheckPadding(t *testing.T, what string, w blas64.General) {
	t.Helper()
	for i := range w.Data {
		if i%w.Stride >= w.Cols && w.Data[i] != dcSentinel {
			t.Fatalf("%s: padding of row %d overwritten", what, i/w.Stride)
		}
	}
}

// dcProjectRows returns Zᵀ·w, with Z's columns the eigenvectors.
func dcProjectRows(t *testing.T, g Gemmer, z, w blas64.General) blas64.General {
	p := backend.NewGeneral(w.Rows, w.Cols)
	if w.Rows == 0 || w.Cols == 0 {
		return p
	}
	if err := g.Gemm(blas.Trans, blas.NoTrans, 1, z, w, 0, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDCProject(t *testing.T) {
	gv := newCPUGemmer(0)
	bs := dcBackends(t)
	for _, m := range dcCases(testing.Short()) {
		n := m.n()
		// References: the same solver's Z, formed, and (small n) an
		// unrelated solver's.
		dv, ev := m.copies()
		z, err := dcVectors(dv, ev, gv, 0)
		if err != nil {
			t.Fatal(err)
		}
		var dq []float64
		var zq blas64.General
		if n <= 300 {
			dq, zq = dcRefDsteqr(t, m)
		}
		for _, r := range []int{1, 7, n + 3} {
			if r > 64 && n > 300 {
				continue
			}
			w := dcRandomBlock(n, r, 1)
			for bname, g := range bs {
				what := fmt.Sprintf("%s/%s/R=%d", bname, m.name, r)
				p := blas64.General{Rows: n, Cols: r, Stride: w.Stride, Data: slices.Clone(w.Data)}
				d, e := m.copies()
				if err := dcProject(d, e, p, g, 0); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				dcCheckPadding(t, what, p)
				dcCheckAscending(t, what, d)
				if n == 0 {
					continue
				}
				dcCompareProjections(t, what+" vs dcVectors", m, w, d, p, dv, dcProjectRows(t, gv, z, w))
				if dq != nil {
					dcCompareProjections(t, what+" vs Dsteqr", m, w, d, p, dq, dcProjectRows(t, gv, zq, w))
				}
			}
		}
	}
}

// dcGOE is the tridiagonal model of the Gaussian orthogonal ensemble
// (Dumitriu & Edelman): d_i ~ N(0, 2), e_i ~ χ_{n-1-i}. Its eigenvectors are
// spread out like those of a dense random matrix reduced to tridiagonal
// form, so merges deflate little — the hard case for D&C and the one that
// reductions of real Grams resemble (a random tridiagonal's eigenvectors are
// localized and most of its poles deflate).
func dcGOE(n int, seed uint64) dcCase {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	t := dcCase{name: fmt.Sprintf("goe%d", n), d: make([]float64, n), e: make([]float64, max(n-1, 0))}
	for i := range t.d {
		t.d[i] = rng.NormFloat64() * math.Sqrt2
	}
	for i := range t.e {
		s := 0.0
		for k := 0; k < n-1-i; k++ {
			x := rng.NormFloat64()
			s += x * x
		}
		t.e[i] = math.Sqrt(s)
	}
	return t
}

// TestDCSmallLeaves tears down to leaves of one and five rows, so that
// merges of every small order (K = 1, 2, …) and their deflations run.
func TestDCSmallLeaves(t *testing.T) {
	defer func(l int) { dcLeaf = l }(dcLeaf)
	g := newCPUGemmer(0)
	for _, leaf := range []int{1, 5} {
		dcLeaf = leaf
		for _, m := range dcCases(true) {
			n := m.n()
			if n == 0 || n > 300 {
				continue
			}
			what := fmt.Sprintf("leaf %d/%s", leaf, m.name)
			d, e := m.copies()
			z, err := dcVectors(d, e, g, 0)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			dcCheckAscending(t, what, d)
			for name, r := range map[string]float64{
				"eigenvalues vs Dsterf": dcEigenvalueRatio(m, d, dcRefDsterf(t, m)),
				"residual":              dcResidualRatio(m, d, z),
				"orthogonality":         dcOrthogonalityRatio(t, g, z),
			} {
				if !(r <= dcRatioLimit) {
					t.Errorf("%s: %s ratio %.3g, want ≤ %d", what, name, r, dcRatioLimit)
				}
			}
			w := dcRandomBlock(n, 3, 4)
			p := blas64.General{Rows: n, Cols: w.Cols, Stride: w.Stride, Data: slices.Clone(w.Data)}
			dp, ep := m.copies()
			if err := dcProject(dp, ep, p, g, 0); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			dcCompareProjections(t, what+" projections", m, w, dp, p, d, dcProjectRows(t, g, z, w))
		}
	}
}

// TestDCWorkersAgree: goroutines only split independent work, so any number
// of workers gives the same bits (the gonum backend's GEMM sums in a fixed
// order whatever its thread count).
func TestDCWorkersAgree(t *testing.T) {
	m := dcGOE(1100, 4)
	g := newCPUGemmer(0)
	var firstD []float64
	var firstZ, firstP blas64.General
	for _, workers := range []int{1, 2, 5} {
		d, e := m.copies()
		z, err := dcVectors(d, e, g, workers)
		if err != nil {
			t.Fatal(err)
		}
		p := dcRandomBlock(m.n(), 4, 5)
		dp, ep := m.copies()
		if err := dcProject(dp, ep, p, g, workers); err != nil {
			t.Fatal(err)
		}
		if firstD == nil {
			firstD, firstZ, firstP = d, z, p
			continue
		}
		if !slices.Equal(d, firstD) || !slices.Equal(z.Data, firstZ.Data) || !slices.Equal(p.Data, firstP.Data) {
			t.Fatalf("workers = %d gives other results than workers = 1", workers)
		}
	}
}

func TestDCNonFinite(t *testing.T) {
	g := newCPUGemmer(0)
	for _, c := range []struct {
		array string
		index int
		value float64
		want  string
	}{
		{"d", 5, math.NaN(), "d[5] = NaN"},
		{"e", 3, math.Inf(1), "e[3] = +Inf"},
		{"w", 2, math.Inf(-1), "w[2,1] = -Inf"},
	} {
		m := dcRandom(40, 6)
		d, e := m.copies()
		w := dcRandomBlock(40, 3, 6)
		switch c.array {
		case "d":
			d[c.index] = c.value
		case "e":
			e[c.index] = c.value
		case "w":
			w.Data[c.index*w.Stride+1] = c.value
		}
		err := dcProject(slices.Clone(d), slices.Clone(e), w, g, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("dcProject with %s: error %v, want one naming %q", c.want, err, c.want)
		}
		if c.array == "w" {
			continue
		}
		if _, err := dcVectors(d, e, g, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("dcVectors with %s: error %v, want one naming %q", c.want, err, c.want)
		}
	}
	// e[n-1] is no part of T: a sentinel there is ignored.
	m := dcRandom(10, 7)
	d, e := m.copies()
	e[9] = math.NaN()
	if _, err := dcVectors(d, e, g, 0); err != nil {
		t.Errorf("NaN beyond e[n-2]: %v", err)
	}
}

// TestDCProjectNoColumns: R = 0 still yields the eigenvalues.
func TestDCProjectNoColumns(t *testing.T) {
	m := dcGOE(300, 8)
	d, e := m.copies()
	if err := dcProject(d, e, blas64.General{Rows: 300, Cols: 0, Stride: 1}, newCPUGemmer(0), 0); err != nil {
		t.Fatal(err)
	}
	if r := dcEigenvalueRatio(m, d, dcRefDsterf(t, m)); !(r <= dcRatioLimit) {
		t.Errorf("eigenvalue ratio %.3g, want ≤ %d", r, dcRatioLimit)
	}
}

// TestDCSecularIterations holds the root finder to its usual cost: about
// four evaluations of the secular function per root, and no root near the
// bisection fallback, on the matrices that stress it most.
func TestDCSecularIterations(t *testing.T) {
	g := newCPUGemmer(0)
	for _, m := range []dcCase{dcGOE(1024, 9), dcToeplitz121(1024), dcGlued(50, 1e-12), dcGlued(50, 1e-9),
		dcGradedSpectrum(500), dcRandom(1024, 9), dcWilkinson(200), dcClustered(500), dcRepeated(500), dcGraded(500)} {
		d, e := m.copies()
		s := newDCSolver(d, e, backend.NewGeneral(m.n(), 2), false, g, 0)
		if _, err := s.run(); err != nil {
			t.Fatal(err)
		}
		st := &s.stats
		avg := float64(st.evals) / float64(st.roots)
		if testing.Verbose() {
			t.Logf("%s: %d merges, %d of %d poles undeflated, %.2f evaluations per root, at most %d",
				m.name, st.merges, st.roots, st.order, avg, st.mostEvals)
		}
		if avg > 6 || st.mostEvals > 40 {
			t.Errorf("%s: %.2f evaluations per root, at most %d; want ≤ 6 and ≤ 40", m.name, avg, st.mostEvals)
		}
	}
}
