package synth

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/reconalign/reconalign/data"
)

func TestLabelsBalanced(t *testing.T) {
	for _, tc := range []struct{ n, classes int }{{100000, 10}, {200000, 1000}, {5000, 1}} {
		g := mustOpen(t, "n="+itoa(tc.n)+",d=64,classes="+itoa(tc.classes))
		count := make([]float64, tc.classes)
		for i := 0; i < tc.n; i++ {
			count[g.Label(i)]++
		}
		// Pearson's χ² against the uniform distribution: mean classes−1,
		// standard deviation √(2(classes−1)); 6 standard deviations is a
		// failure only for a biased or broken hash.
		e := float64(tc.n) / float64(tc.classes)
		var chi2 float64
		for _, c := range count {
			chi2 += (c - e) * (c - e) / e
		}
		k := float64(tc.classes - 1)
		if chi2 > k+6*math.Sqrt(2*k)+1e-9 {
			t.Errorf("%d samples, %d classes: χ² = %.1f, expected about %.0f", tc.n, tc.classes, chi2, k)
		}
	}
}

func itoa(v int) string {
	s := ""
	for {
		s = string(rune('0'+v%10)) + s
		if v /= 10; v == 0 {
			return s
		}
	}
}

// collect reads a whole generated dataset and centers it by the population
// mean, which the package documents (the channel means).
func collectCentered(t *testing.T, g *Generator) (*mat.Dense, []int) {
	t.Helper()
	x, labels, err := data.Collect(g)
	if err != nil {
		t.Fatal(err)
	}
	mu := g.ChannelMeans()
	s := g.Spec()
	xc := mat.NewDense(x.N, x.D, x.F64)
	for i := 0; i < x.N; i++ {
		row := xc.RawRowView(i)
		for p := range row {
			row[p] -= mu[p%s.C] // hwc: channel varies fastest
		}
	}
	return xc, labels
}

// Without class signal, the variance of the data along each documented
// eigenvector (a real Fourier mode of one colour latent) is the documented
// eigenvalue, and the documented eigenvalues add up to the total variance.
func TestPopulationSpectrum(t *testing.T) {
	const n = 20000
	g := mustOpen(t, "n=20000,h=8,w=6,c=3,dtype=f32,signal=0,alpha=1.5")
	s := g.Spec()
	xc, _ := collectCentered(t, g)
	basis, share := g.ChannelBasis()
	if math.Abs(share[0]+share[1]+share[2]-3) > 1e-12 || !(share[0] >= share[1] && share[1] >= share[2]) {
		t.Fatalf("channel eigenvalues %v: want descending, summing to 3", share)
	}
	want := map[[3]int]float64{}
	var trace float64
	for _, m := range g.PopulationModes() {
		want[[3]int{m.Latent, m.KY, m.KX}] = m.Variance
		trace += m.Variance
	}
	if len(want) != s.D() {
		t.Fatalf("%d distinct modes, want D = %d", len(want), s.D())
	}
	v := make([]float64, s.D())
	proj := make([]float64, n)
	checked := 0
	for d := 0; d < s.C; d++ {
		for ky := 0; ky < s.H; ky++ {
			for kx := 0; kx < s.W; kx++ {
				if conj := ((s.H-ky)%s.H)*s.W + (s.W-kx)%s.W; conj < ky*s.W+kx {
					continue // the mirror index −k gives the same cosine and sine
				}
				for _, part := range []func(float64) float64{math.Cos, math.Sin} {
					var norm float64
					for y := 0; y < s.H; y++ {
						for x := 0; x < s.W; x++ {
							th := 2 * math.Pi * (float64(ky*y)/float64(s.H) + float64(kx*x)/float64(s.W))
							for c := 0; c < s.C; c++ {
								v[(y*s.W+x)*s.C+c] = part(th) * basis[c*s.C+d]
								norm += v[(y*s.W+x)*s.C+c] * v[(y*s.W+x)*s.C+c]
							}
						}
					}
					if norm < 1e-9 {
						continue // the sine of a self-conjugate mode vanishes
					}
					mat.NewVecDense(n, proj).MulVec(xc, mat.NewVecDense(s.D(), v))
					var ss float64
					for _, p := range proj {
						ss += p * p
					}
					got := ss / n / norm
					w := want[[3]int{d, ky, kx}]
					// The sample variance of n draws has relative standard
					// deviation √(2/n) ≈ 1%; the draws are not exactly Gaussian,
					// so allow 5%.
					if math.Abs(got-w) > 0.05*w {
						t.Errorf("latent %d mode (%d,%d): variance %.4g, documented %.4g", d, ky, kx, got, w)
					}
					checked++
				}
			}
		}
	}
	if checked != s.D() {
		t.Errorf("checked %d directions, want D = %d", checked, s.D())
	}
	var total float64
	for _, x := range xc.RawMatrix().Data {
		total += x * x
	}
	if got := total / n; math.Abs(got-trace) > 0.02*trace {
		t.Errorf("total variance %.5g, documented trace %.5g", got, trace)
	}
}

// alignmentCurve computes, from the exact eigendecomposition of the
// sample-centered Gram, the cumulative regression-form alignment
// Σ_{j≤k} ‖Yᵀq_j‖² / Σ_j ‖Yᵀq_j‖² and the cumulative explained variance.
func alignmentCurve(t *testing.T, g *Generator) (align, explained []float64) {
	xc, labels := collectCentered(t, g)
	n, d := xc.Dims()
	classes := g.Spec().Classes
	for p := 0; p < d; p++ {
		col := mat.Col(nil, p, xc)
		var m float64
		for _, v := range col {
			m += v
		}
		m /= float64(n)
		for i := range col {
			xc.Set(i, p, col[i]-m)
		}
	}
	var gram mat.SymDense
	gram.SymOuterK(1, xc.T())
	var es mat.EigenSym
	if !es.Factorize(&gram, true) {
		t.Fatal("eigendecomposition failed")
	}
	vals := es.Values(nil) // ascending
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	m := mat.NewDense(classes, d, nil)
	for i := 0; i < n; i++ {
		for p := 0; p < d; p++ {
			m.Set(labels[i], p, m.At(labels[i], p)+xc.At(i, p))
		}
	}
	var mu mat.Dense
	mu.Mul(m, &vecs)
	a := make([]float64, d) // descending eigenvalue order
	lam := make([]float64, d)
	for j := 0; j < d; j++ {
		col := mat.NewVecDense(classes, mat.Col(nil, j, &mu))
		a[d-1-j] = mat.Dot(col, col) / vals[j]
		lam[d-1-j] = vals[j]
	}
	return cumulative(a), cumulative(lam)
}

func cumulative(v []float64) []float64 {
	out := make([]float64, len(v))
	var acc, total float64
	for _, x := range v {
		total += x
	}
	for j, x := range v {
		acc += x
		out[j] = acc / total
	}
	return out
}

// The class patterns live in the low-variance directions: the alignment
// curve of the empirical PCA stays near zero over the top half of the
// spectrum, which explains almost all of the variance, and rises among the
// last directions. Without the class signal the labels are unrelated to the
// images and every prefix of directions holds about its share.
func TestAlignmentRisesLate(t *testing.T) {
	align, explained := alignmentCurve(t, mustOpen(t, "n=20000,h=8,w=8,c=3,classes=10,dtype=f32"))
	d := len(align)
	half, threeq := d/2-1, 3*d/4-1
	t.Logf("top half: %.1f%% of the variance, %.2f%% of the alignment; top 3/4: %.1f%% of the alignment", 100*explained[half], 100*align[half], 100*align[threeq])
	if explained[half] < 0.9 || align[half] > 0.05 || align[threeq] < 0.5 {
		t.Errorf("top half explains %.3f of the variance and %.3f of the alignment; top 3/4 %.3f of the alignment: want ≥ 0.9, ≤ 0.05, ≥ 0.5",
			explained[half], align[half], align[threeq])
	}
	align0, _ := alignmentCurve(t, mustOpen(t, "n=20000,h=8,w=8,c=3,classes=10,dtype=f32,signal=0"))
	if align0[half] < 0.3 || align0[half] > 0.7 {
		t.Errorf("without class signal the top half holds %.3f of the alignment, want about 0.5", align0[half])
	}
}
