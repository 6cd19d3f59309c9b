package closedform

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// zScores compares a Monte Carlo estimate with the exact value entrywise:
// the share of entries more than 3 standard errors away and the mean z².
func zScores(est, se, exact []float64) (beyond3, meanZ2 float64, n int) {
	for i := range est {
		if se[i] == 0 {
			continue
		}
		z := (est[i] - exact[i]) / se[i]
		if math.Abs(z) > 3 {
			beyond3++
		}
		meanZ2 += z * z
		n++
	}
	return beyond3 / float64(n), meanZ2 / float64(n), n
}

// checkAgainstExact asserts that a Monte Carlo estimate agrees with exact
// moments within 3 standard errors: entrywise (a few per cent of entries
// may stray, as 3 SE of a t-distribution with 15 degrees of freedom allows),
// and for the total sum, whose batch estimates give its own standard error.
func checkAgainstExact(t *testing.T, what string, est blas64.General, se blas64.General, batches []blas64.General, exact blas64.General) {
	t.Helper()
	frac, z2, n := zScores(est.Data, se.Data, exact.Data)
	t.Logf("%s: %d entries, %.2f%% beyond 3 SE, mean z² %.2f", what, n, 100*frac, z2)
	if frac > 0.03 || z2 < 0.5 || z2 > 2 {
		t.Errorf("%s: %.2f%% of entries beyond 3 SE (mean z² %.2f): the estimate does not match the closed form", what, 100*frac, z2)
	}
	total := func(a blas64.General) float64 {
		s := 0.0
		for _, v := range a.Data {
			s += v
		}
		return s
	}
	var sum, sum2 float64
	for _, b := range batches {
		v := total(b)
		sum += v
		sum2 += v * v
	}
	nb := float64(len(batches))
	mean := sum / nb
	seTotal := math.Sqrt((sum2 - nb*mean*mean) / (nb - 1) / nb)
	if d := math.Abs(total(est) - total(exact)); d > 3*seTotal {
		t.Errorf("%s: total %.6g vs exact %.6g: %.2f standard errors apart", what, total(est), total(exact), d/seTotal)
	}
}

func TestMonteCarloMaskingMatchesClosedForm(t *testing.T) {
	ds := imageData(8, 150, 4, 6, 2, 3)
	be := gonumBackend()
	st := ds.stats(t, be, true)
	for _, m := range []Mask{
		{Shape: ds.shape, PatchH: 2, PatchW: 2, P: 0.5},
		{Shape: ds.shape, PatchH: 2, PatchW: 3, P: 0.5, Fixed: true},
		{Shape: ds.shape, PatchH: 1, PatchW: 1, P: 0.3},
	} {
		exact, err := m.Moments(st)
		if err != nil {
			t.Fatal(err)
		}
		exactP := backend.Clone(st.Gx)
		for i := range exactP.Data {
			exactP.Data[i] *= exact.Scale
		}
		mc, err := MaskSampler(m)
		if err != nil {
			t.Fatal(err)
		}
		est, err := EstimateMoments(be, ds.source(t), st, mc, MonteCarloOptions{Draws: 32, Batches: 16, Seed: 11})
		if err != nil {
			t.Fatal(err)
		}
		name := describe(m.Spec())
		checkAgainstExact(t, name+" G", est.G, est.GStdErr, est.BatchG, exact.G)
		checkAgainstExact(t, name+" P", est.P, est.PStdErr, est.BatchP, exactP)
	}
}

// Gaussian noise: G = Gx + Nσ²I and P = Gx.
func TestMonteCarloGaussianMatchesClosedForm(t *testing.T) {
	ds := imageData(9, 150, 4, 4, 1, 3)
	be := gonumBackend()
	st := ds.stats(t, be, true)
	g := Gaussian{Sigma: 0.7}
	exact, _ := g.Moments(st)
	mc, _ := GaussianSampler(g.Sigma, ds.d)
	est, err := EstimateMoments(be, ds.source(t), st, mc, MonteCarloOptions{Draws: 16, Batches: 16, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for draws, want := range map[int]int{24: 8, 6: 6, 9: 3, 1: 1} {
		e, err := EstimateMoments(be, ds.source(t), st, mc, MonteCarloOptions{Draws: draws})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Info.MonteCarlo.Batches; got != want {
			t.Errorf("%d draws: %d batches by default, want %d", draws, got, want)
		}
	}
	checkAgainstExact(t, "gaussian G", est.G, est.GStdErr, est.BatchG, exact.G)
	checkAgainstExact(t, "gaussian P", est.P, est.PStdErr, est.BatchP, st.Gx)
}

// One block of size s at a uniform position: the exact moments follow by
// enumerating the (H−s+1)(W−s+1) positions, each equally likely.
func TestMonteCarloBlockMatchesEnumeration(t *testing.T) {
	ds := imageData(10, 120, 5, 4, 2, 2)
	ds = ds.toCHW()
	be := gonumBackend()
	st := ds.stats(t, be, true)
	const size = 2
	s := ds.shape
	d := ds.d
	exactG := make([]float64, d*d)
	exactP := make([]float64, d*d)
	positions := 0
	for h0 := 0; h0+size <= s.H; h0++ {
		for w0 := 0; w0+size <= s.W; w0++ {
			positions++
			keep := make([]float64, d)
			for i := range keep {
				h, w := (i/s.W)%s.H, i%s.W // chw
				if h < h0 || h >= h0+size || w < w0 || w >= w0+size {
					keep[i] = 1
				}
			}
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					exactG[i*d+j] += keep[i] * keep[j] * st.Gx.Data[i*d+j]
					exactP[i*d+j] += keep[i] * st.Gx.Data[i*d+j]
				}
			}
		}
	}
	for i := range exactG {
		exactG[i] /= float64(positions)
		exactP[i] /= float64(positions)
	}
	mc, err := BlockMask(s, size, 1)
	if err != nil {
		t.Fatal(err)
	}
	est, err := EstimateMoments(be, ds.source(t), st, mc, MonteCarloOptions{Draws: 48, Batches: 16, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstExact(t, "block G", est.G, est.GStdErr, est.BatchG, blas64.General{Rows: d, Cols: d, Stride: d, Data: exactG})
	checkAgainstExact(t, "block P", est.P, est.PStdErr, est.BatchP, blas64.General{Rows: d, Cols: d, Stride: d, Data: exactP})
}

// More draws, smaller error: the estimate converges at the 1/√R rate, and
// the alignment curve of the estimated pencil approaches the closed form's.
func TestMonteCarloConverges(t *testing.T) {
	ds := imageData(12, 200, 4, 4, 2, 3)
	be := gonumBackend()
	st := ds.stats(t, be, true)
	rg, err := NewRange(be, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := Mask{Shape: ds.shape, PatchH: 2, PatchW: 2, P: 0.6}
	exact, _ := m.Moments(st)
	opt := DenoiseOptions{Align: engine.AlignOptions{Center: true}, BatchStdErr: true}
	cf, err := Denoise(be, rg, m, opt)
	if err != nil {
		t.Fatal(err)
	}
	mc, _ := MaskSampler(m)
	var errG, errCurve []float64
	for _, r := range []int{4, 64} {
		est, err := EstimateMoments(be, ds.source(t), st, mc, MonteCarloOptions{Draws: r, Seed: 21})
		if err != nil {
			t.Fatal(err)
		}
		errG = append(errG, frobenius(blas64.General{Data: sub(est.G.Data, exact.G.Data)})/frobenius(exact.G))
		res, err := Denoise(be, rg, est, opt)
		if err != nil {
			t.Fatal(err)
		}
		diff := sub(res.Curve.Alignment, cf.Curve.Alignment)
		errCurve = append(errCurve, maxAbs(diff))
		// The batch standard error of the curve covers the actual error.
		out := 0
		for k, v := range diff {
			if math.Abs(v) > 3*res.AlignmentStdErr[k]+1e-12 {
				out++
			}
		}
		t.Logf("R=%d: relative G error %.3g (reported SE %.3g), curve max error %.3g, %d of %d k beyond 3 SE",
			r, errG[len(errG)-1], est.Info.MonteCarlo.RelStdErrG, errCurve[len(errCurve)-1], out, len(diff))
		if out > len(diff)/10 {
			t.Errorf("R=%d: %d of %d curve points beyond 3 batch standard errors", r, out, len(diff))
		}
	}
	if ratio := errG[0] / errG[1]; ratio < 2.5 || ratio > 6.5 {
		t.Errorf("16× the draws reduced the G error %.2f×, want about 4×", ratio)
	}
	if errCurve[1] >= errCurve[0] {
		t.Errorf("curve error did not shrink with more draws: %.3g → %.3g", errCurve[0], errCurve[1])
	}
}

// The estimate depends on the seed only: not on chunking or workers.
func TestMonteCarloReproducible(t *testing.T) {
	ds := imageData(13, 90, 4, 4, 1, 2)
	be := gonumBackend()
	st := ds.stats(t, be, false)
	mc, _ := BlockMask(ds.shape, 2, 2)
	a, err := EstimateMoments(be, ds.source(t), st, mc, MonteCarloOptions{Draws: 4, Seed: 9, ChunkRows: 7, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := EstimateMoments(be, ds.source(t), st, mc, MonteCarloOptions{Draws: 4, Seed: 9, ChunkRows: 1000, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "G across chunkings", a.G.Data, b.G.Data, 1e-12*frobenius(a.G))
	assertClose(t, "P across chunkings", a.P.Data, b.P.Data, 1e-12*frobenius(a.P))
	c, _ := EstimateMoments(be, ds.source(t), st, mc, MonteCarloOptions{Draws: 4, Seed: 10})
	if maxAbs(sub(a.G.Data, c.G.Data)) == 0 {
		t.Error("another seed gave the same estimate")
	}
}

func TestCropResize(t *testing.T) {
	shape := data.Shape{H: 6, W: 5, C: 2, Layout: data.CHW}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, shape.D())
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	out := make([]float64, len(x))
	id, err := CropResize(shape, 1)
	if err != nil {
		t.Fatal(err)
	}
	id.Corrupt(rng, x, out)
	assertClose(t, "crop of the whole image", out, x, 0)
	crop, _ := CropResize(shape, 0.2)
	// Interpolation preserves a constant image, channel by channel.
	for i := range x {
		_, _, c := pixel(shape, i)
		x[i] = float64(3 + c)
	}
	for r := 0; r < 20; r++ {
		crop.Corrupt(rng, x, out)
		assertClose(t, "crop of a constant image", out, x, 1e-12)
	}
	// A horizontal ramp stays non-decreasing along each row.
	for i := range x {
		_, w, _ := pixel(shape, i)
		x[i] = float64(w)
	}
	crop.Corrupt(rng, x, out)
	for i := range out {
		h, w, c := pixel(shape, i)
		if w > 0 && out[i] < out[featureIndex(shape, h, w-1, c)]-1e-12 {
			t.Fatalf("ramp not monotone at h=%d w=%d", h, w)
		}
	}
}
