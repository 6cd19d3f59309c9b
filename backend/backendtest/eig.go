package backendtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/reconalign/reconalign/backend"
)

// slack is the constant of every eigen/factorization bound c·n·u·‖A‖. LAPACK's
// own tests accept ratios up to 30; errors from a wrong triangle, order or
// transpose are O(1), far above it.
const slack = 30

// spectrum is a named recipe for the eigenvalues of a test matrix.
type spectrum struct {
	name string
	// simple reports that all eigenvalues are distinct, so eigenvectors
	// are unique up to sign and can be compared with the construction.
	simple bool
	values func(rng *rand.Rand, n int) []float64
}

var spectra = []spectrum{
	{"distinct", true, func(rng *rand.Rand, n int) []float64 {
		// Evenly spaced over [-1, 2], in random order.
		lam := make([]float64, n)
		for i, p := range rng.Perm(n) {
			lam[i] = 1
			if n > 1 {
				lam[i] = -1 + 3*float64(p)/float64(n-1)
			}
		}
		return lam
	}},
	{"repeated", false, func(rng *rand.Rand, n int) []float64 {
		// Four eigenvalues, each repeated, zero among them.
		levels := []float64{3, 1, 0, -2}
		lam := make([]float64, n)
		for i := range lam {
			lam[i] = levels[rng.IntN(len(levels))]
		}
		return lam
	}},
	{"rankdeficient", false, func(rng *rand.Rand, n int) []float64 {
		// A Gram with dead pixels: positive values halving, then zeros.
		lam := make([]float64, n)
		for i := 0; i < (n+1)/2; i++ {
			lam[i] = math.Ldexp(1, -i)
		}
		rng.Shuffle(n, func(i, j int) { lam[i], lam[j] = lam[j], lam[i] })
		return lam
	}},
	{"graded", false, func(rng *rand.Rand, n int) []float64 {
		// Twelve decades; only absolute accuracy is promised for the small ones.
		lam := make([]float64, n)
		for i := range lam {
			lam[i] = math.Pow(10, -12*rng.Float64())
		}
		return lam
	}},
}

// eigProblem is a symmetric matrix with its exact spectrum (descending) and,
// when the eigenvalues are simple, the matching eigenvector columns.
type eigProblem struct {
	a      dense
	lambda []float64
	vecs   dense // n×n, column i belongs to lambda[i]; zero value when not simple
}

func newEigProblem(rng *rand.Rand, sp spectrum, n int) eigProblem {
	q := orthogonal(rng, n)
	lam := sp.values(rng, n)
	p := eigProblem{a: withSpectrum(q, lam)}
	order := descending(lam)
	p.lambda = make([]float64, n)
	if sp.simple {
		p.vecs = newDense(n, n)
	}
	for i, o := range order {
		p.lambda[i] = lam[o]
		if sp.simple {
			for r := 0; r < n; r++ {
				p.vecs.set(r, i, q.at(r, o))
			}
		}
	}
	return p
}

// laplacian is the path-graph Laplacian tridiag(−1, 2, −1), whose
// eigenpairs are known in closed form: λ_k = 2 − 2cos(kπ/(n+1)) and
// v_k(j) = √(2/(n+1))·sin(jkπ/(n+1)), k, j = 1..n.
func laplacian(n int) eigProblem {
	p := eigProblem{a: newDense(n, n), lambda: make([]float64, n), vecs: newDense(n, n)}
	for i := 0; i < n; i++ {
		p.a.set(i, i, 2)
		if i+1 < n {
			p.a.set(i, i+1, -1)
			p.a.set(i+1, i, -1)
		}
	}
	h := math.Pi / float64(n+1)
	for c := 0; c < n; c++ {
		k := float64(n - c) // descending
		p.lambda[c] = 2 - 2*math.Cos(k*h)
		for j := 0; j < n; j++ {
			p.vecs.set(j, c, math.Sqrt(2/float64(n+1))*math.Sin(float64(j+1)*k*h))
		}
	}
	return p
}

func (p eigProblem) gap(i int) float64 {
	g := math.Inf(1)
	for j, l := range p.lambda {
		if j != i {
			g = math.Min(g, math.Abs(l-p.lambda[i]))
		}
	}
	return g
}

var eigSizes = []int{1, 2, 7, 26, 64, 193}

func (s *suite) testSymEig(t tb) {
	for _, n := range eigSizes {
		for _, sp := range spectra {
			name := fmt.Sprintf("%s/n=%d", sp.name, n)
			t.run(name, func(t tb) {
				rng := caseRNG("SymEig/" + name)
				s.checkSymEig(t, newEigProblem(rng, sp, n), n%2)
			})
		}
		t.run(fmt.Sprintf("laplacian/n=%d", n), func(t tb) { s.checkSymEig(t, laplacian(n), 1) })
	}
}

func (s *suite) checkSymEig(t tb, p eigProblem, pad int) {
	t.Helper()
	n := p.a.r
	norm := frob(p.a)
	tol := slack * float64(max(n, 1)) * s.u * norm

	g := upperGeneral(p.a, pad)
	before := cloneGeneral(g)
	w, err := s.b.SymEig(g, true)
	if err != nil {
		t.Fatalf("SymEig: %v", err)
	}
	checkUntouched(t, "SymEig", before, g, false)
	v := fromGeneral(g)
	s.checkEigenpairs(t, "SymEig", p, w, v, n)

	g = upperGeneral(p.a, pad)
	wOnly, err := s.b.SymEig(g, false)
	if err != nil {
		t.Fatalf("SymEig without vectors: %v", err)
	}
	if len(wOnly) != n {
		t.Fatalf("SymEig without vectors returned %d values, want %d", len(wOnly), n)
	}
	compare(t, "eigenvalues without vectors vs known spectrum", 1, n, func(_, i int) (float64, float64, float64) {
		return wOnly[i], p.lambda[i], tol
	})
}

// checkEigenpairs checks the first k eigenpairs (w, columns of v) of p: order,
// values against the known spectrum, orthonormality, the residual A·V − V·W,
// and for simple spectra the vectors themselves up to sign. With k = n it
// also checks the reconstruction A = V·diag(w)·Vᵀ.
func (s *suite) checkEigenpairs(t tb, what string, p eigProblem, w []float64, v dense, k int) {
	t.Helper()
	n := p.a.r
	if len(w) != k {
		t.Fatalf("%s returned %d eigenvalues, want %d", what, len(w), k)
	}
	if v.r != n || v.c != k {
		t.Fatalf("%s returned %d×%d eigenvectors, want %d×%d", what, v.r, v.c, n, k)
	}
	norm := frob(p.a)
	tol := slack * float64(max(n, 1)) * s.u * norm
	for i := 1; i < k; i++ {
		if !(w[i-1] >= w[i]) {
			t.Errorf("%s: eigenvalues not descending at %d: %v then %v", what, i, w[i-1], w[i])
			break
		}
	}
	compare(t, what+" eigenvalues vs known spectrum", 1, k, func(_, i int) (float64, float64, float64) {
		return w[i], p.lambda[i], tol
	})
	vtv := mul(v.t(), v)
	compare(t, what+" VᵀV = I", k, k, func(i, j int) (float64, float64, float64) {
		return vtv.at(i, j), b2f(i == j), slack * float64(max(n, 1)) * s.u
	})
	av := mul(p.a, v)
	compare(t, what+" residual A·V = V·diag(w)", n, k, func(i, j int) (float64, float64, float64) {
		return av.at(i, j), v.at(i, j) * w[j], tol
	})
	if k == n {
		recon := newDense(n, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				sum := 0.0
				for l := 0; l < n; l++ {
					sum += v.at(i, l) * w[l] * v.at(j, l)
				}
				recon.set(i, j, sum)
			}
		}
		compare(t, what+" reconstruction A = V·diag(w)·Vᵀ", n, n, func(i, j int) (float64, float64, float64) {
			return recon.at(i, j), p.a.at(i, j), tol
		})
	}
	if p.vecs.v != nil {
		s.compareVectors(t, what, p, v, k, tol)
	}
}

// compareVectors matches each computed eigenvector with the known one up to
// sign; the error allowed grows as the eigenvalue's gap shrinks.
func (s *suite) compareVectors(t tb, what string, p eigProblem, v dense, k int, tol float64) {
	t.Helper()
	n := p.a.r
	sign := make([]float64, k)
	for j := 0; j < k; j++ {
		d := 0.0
		for i := 0; i < n; i++ {
			d += v.at(i, j) * p.vecs.at(i, j)
		}
		sign[j] = 1
		if d < 0 {
			sign[j] = -1
		}
	}
	compare(t, what+" eigenvectors vs known (up to sign)", n, k, func(i, j int) (float64, float64, float64) {
		return sign[j] * v.at(i, j), p.vecs.at(i, j), math.Max(tol, s.u) / p.gap(j)
	})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *suite) testSymEigTop(t tb) {
	for _, n := range []int{1, 7, 64, 193} {
		for _, sp := range spectra[:2] {
			for _, k := range distinct(1, (n+2)/3, n-1, n) {
				if k < 1 {
					continue
				}
				name := fmt.Sprintf("%s/n=%d/k=%d", sp.name, n, k)
				t.run(name, func(t tb) {
					rng := caseRNG("SymEigTop/" + name)
					s.checkSymEigTop(t, newEigProblem(rng, sp, n), k)
				})
			}
		}
	}
	t.run("k=0", func(t tb) {
		p := laplacian(5)
		w, v, err := s.b.SymEigTop(upperGeneral(p.a, 0), 0)
		if err != nil {
			t.Fatalf("SymEigTop k=0: %v", err)
		}
		if len(w) != 0 || v.Cols != 0 {
			t.Errorf("SymEigTop k=0 returned %d values and %d columns, want none", len(w), v.Cols)
		}
	})
}

func distinct(xs ...int) []int {
	var out []int
	seen := map[int]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func (s *suite) checkSymEigTop(t tb, p eigProblem, k int) {
	t.Helper()
	n := p.a.r
	g := upperGeneral(p.a, 2)
	w, vg, err := s.b.SymEigTop(g, k)
	if err != nil {
		t.Fatalf("SymEigTop: %v", err)
	}
	if vg.Rows != n || vg.Cols != k || vg.Stride < max(1, k) || len(vg.Data) < (n-1)*vg.Stride+k {
		t.Fatalf("SymEigTop returned a malformed %d×%d matrix (stride %d, %d values), want %d×%d",
			vg.Rows, vg.Cols, vg.Stride, len(vg.Data), n, k)
	}
	v := fromGeneral(vg)
	s.checkEigenpairs(t, "SymEigTop", p, w, v, k)

	// Agreement with the full decomposition of the same matrix.
	full := upperGeneral(p.a, 0)
	wAll, err := s.b.SymEig(full, true)
	if err != nil {
		t.Fatalf("SymEig: %v", err)
	}
	tol := slack * float64(max(n, 1)) * s.u * frob(p.a)
	compare(t, "SymEigTop values vs SymEig", 1, k, func(_, i int) (float64, float64, float64) {
		return w[i], wAll[i], tol
	})
	if p.vecs.v != nil {
		vAll := fromGeneral(full)
		compare(t, "SymEigTop vectors vs SymEig (|cos| = 1)", 1, k, func(_, j int) (float64, float64, float64) {
			d := 0.0
			for i := 0; i < n; i++ {
				d += v.at(i, j) * vAll.at(i, j)
			}
			return math.Abs(d), 1, math.Max(tol, s.u) / p.gap(j)
		})
	}
}

// genProblem is the pencil A = Pᵀ·diag(λ)·P, B = Pᵀ·P with P = diag(s)·Qᵀ:
// its generalized eigenvalues are exactly λ and its eigenvectors are the
// columns of P⁻¹ = Q·diag(1/s), already B-orthonormal.
type genProblem struct {
	a, b   dense
	lambda []float64 // descending
	vecs   dense     // column i belongs to lambda[i]; zero value when not simple
	gaps   []float64
	sMin   float64 // smallest singular value of P
	cond   float64 // condition number of B
}

func newGenProblem(rng *rand.Rand, sp spectrum, n int) genProblem {
	q := orthogonal(rng, n)
	lam := sp.values(rng, n)
	sv := make([]float64, n)
	s2 := make([]float64, n)
	s2lam := make([]float64, n)
	p := genProblem{sMin: math.Inf(1)}
	sMax := 0.0
	for i := range sv {
		sv[i] = math.Exp2(2*rng.Float64() - 1) // singular values of P in [½, 2]
		s2[i] = sv[i] * sv[i]
		s2lam[i] = s2[i] * lam[i]
		p.sMin = math.Min(p.sMin, sv[i])
		sMax = math.Max(sMax, sv[i])
	}
	p.cond = (sMax * sMax) / (p.sMin * p.sMin)
	p.a = withSpectrum(q, s2lam)
	p.b = withSpectrum(q, s2)
	order := descending(lam)
	p.lambda = make([]float64, n)
	if sp.simple {
		p.vecs = newDense(n, n)
	}
	for i, o := range order {
		p.lambda[i] = lam[o]
		if sp.simple {
			for r := 0; r < n; r++ {
				p.vecs.set(r, i, q.at(r, o)/sv[o])
			}
		}
	}
	ep := eigProblem{lambda: p.lambda}
	p.gaps = make([]float64, n)
	for i := range p.gaps {
		p.gaps[i] = ep.gap(i)
	}
	return p
}

func (s *suite) testSymGenEig(t tb) {
	for _, n := range []int{1, 7, 64, 129} {
		for _, sp := range spectra[:3] {
			name := fmt.Sprintf("%s/n=%d", sp.name, n)
			t.run(name, func(t tb) {
				rng := caseRNG("SymGenEig/" + name)
				s.checkSymGenEig(t, newGenProblem(rng, sp, n), n%3)
			})
		}
	}
	t.run("IndefiniteB", func(t tb) {
		rng := caseRNG("SymGenEig/IndefiniteB")
		const n = 9
		q := orthogonal(rng, n)
		mu := []float64{1, 2, 3, -1, 4, 5, 6, 7, 8}
		a := withSpectrum(q, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1})
		b := withSpectrum(q, mu)
		_, err := s.b.SymGenEig(upperGeneral(a, 0), upperGeneral(b, 0))
		if !errors.Is(err, backend.ErrNotPositiveDefinite) {
			t.Errorf("SymGenEig with indefinite b: error %v, want one matching backend.ErrNotPositiveDefinite", err)
		}
	})
}

func (s *suite) checkSymGenEig(t tb, p genProblem, pad int) {
	t.Helper()
	n := p.a.r
	ga, gb := upperGeneral(p.a, pad), upperGeneral(p.b, pad+1)
	beforeA, beforeB := cloneGeneral(ga), cloneGeneral(gb)
	w, err := s.b.SymGenEig(ga, gb)
	if err != nil {
		t.Fatalf("SymGenEig: %v", err)
	}
	checkUntouched(t, "SymGenEig a", beforeA, ga, false)
	checkUntouched(t, "SymGenEig b", beforeB, gb, false)
	if len(w) != n {
		t.Fatalf("SymGenEig returned %d eigenvalues, want %d", len(w), n)
	}
	v := fromGeneral(ga)
	lmax := 0.0
	for _, l := range p.lambda {
		lmax = math.Max(lmax, math.Abs(l))
	}
	nu := slack * float64(n) * s.u
	scale := (frob(p.a) + lmax*frob(p.b)) * p.cond / (p.sMin * p.sMin)

	for i := 1; i < n; i++ {
		if !(w[i-1] >= w[i]) {
			t.Errorf("SymGenEig: eigenvalues not descending at %d: %v then %v", i, w[i-1], w[i])
			break
		}
	}
	compare(t, "generalized eigenvalues vs known", 1, n, func(_, i int) (float64, float64, float64) {
		return w[i], p.lambda[i], nu * scale
	})
	av, bv := mul(p.a, v), mul(p.b, v)
	compare(t, "residual A·V = B·V·diag(w)", n, n, func(i, j int) (float64, float64, float64) {
		return av.at(i, j), bv.at(i, j) * w[j], nu * scale / p.sMin
	})
	vbv := mul(v.t(), bv)
	compare(t, "VᵀBV = I", n, n, func(i, j int) (float64, float64, float64) {
		return vbv.at(i, j), b2f(i == j), nu * p.cond
	})
	if p.vecs.v != nil {
		sign := make([]float64, n)
		for j := range sign {
			sign[j] = 1
			d := 0.0
			for i := 0; i < n; i++ {
				d += v.at(i, j) * p.vecs.at(i, j)
			}
			if d < 0 {
				sign[j] = -1
			}
		}
		compare(t, "generalized eigenvectors vs known (up to sign)", n, n, func(i, j int) (float64, float64, float64) {
			return sign[j] * v.at(i, j), p.vecs.at(i, j), nu * scale / (p.sMin * p.gaps[j])
		})
	}
}

// spd returns a random symmetric positive definite matrix with eigenvalues
// in [0.1, 10].
func spd(rng *rand.Rand, n int) dense {
	mu := make([]float64, n)
	for i := range mu {
		mu[i] = math.Pow(10, 2*rng.Float64()-1)
	}
	return withSpectrum(orthogonal(rng, n), mu)
}
