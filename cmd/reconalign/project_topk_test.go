package main

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// decayingImages writes n 8×8×1 images whose pixel covariance is a random
// rotation of diag(0.64^j): spectrum gaps wide enough that a randomized
// top-K pins down every leading direction to rounding.
func decayingImages(t *testing.T, dir, name string, n int, seed uint64) string {
	t.Helper()
	const d = 64
	rot := rand.New(rand.NewPCG(1, 1)) // the same rotation for train and test
	q := make([]float64, d*d)          // Gram–Schmidt on Gaussian columns
	for j := 0; j < d; j++ {
		col := make([]float64, d)
		for i := range col {
			col[i] = rot.NormFloat64()
		}
		for k := 0; k < j; k++ {
			dot := 0.0
			for i := range col {
				dot += col[i] * q[i*d+k]
			}
			for i := range col {
				col[i] -= dot * q[i*d+k]
			}
		}
		norm := 0.0
		for _, v := range col {
			norm += v * v
		}
		for i, v := range col {
			q[i*d+j] = v / math.Sqrt(norm)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float64, n*d)
	z := make([]float64, d)
	for r := 0; r < n; r++ {
		for j := range z {
			z[j] = rng.NormFloat64() * math.Pow(0.8, float64(j))
		}
		for i := 0; i < d; i++ {
			v := 5 + math.Cos(float64(i)) // a mean far from zero
			for j, zj := range z {
				v += q[i*d+j] * zj
			}
			x[r*d+i] = v
		}
	}
	p := filepath.Join(dir, name)
	if err := data.WriteNPY(p, x, []int{n, 8, 8, 1}); err != nil {
		t.Fatal(err)
	}
	return p
}

func readNPY(t *testing.T, p string) ([]float64, data.Meta) {
	t.Helper()
	src, err := data.OpenNPY(p, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := data.Collect(src)
	if err != nil {
		t.Fatal(err)
	}
	return x.Float64(make([]float64, x.N*x.D), nil), src.Meta()
}

// --top-k gives the full route's projections (train and test) when K covers
// the cut, and its top(p) + bottom(1−p) split adds up to x + μ.
func TestProjectTopKMatchesFull(t *testing.T) {
	dir := t.TempDir()
	xp := decayingImages(t, dir, "x.npy", 400, 1)
	tp := decayingImages(t, dir, "t.npy", 60, 2)
	x, _ := readNPY(t, xp)
	const d = 64
	mu := make([]float64, d)
	for i, v := range x {
		mu[i%d] += v / 400
	}
	outs := map[string]string{}
	for _, c := range []struct{ keep, variance string }{{"top", "0.95"}, {"bottom", "0.05"}, {"bottom", "0.4"}} {
		for _, k := range []string{"", "30"} {
			name := c.keep + c.variance + "_k" + k + ".npy"
			args := []string{"project", "--data", xp, "--test-data", tp, "--keep", c.keep, "--variance", c.variance,
				"--out", filepath.Join(dir, name), "--dtype", "float64"}
			if k != "" {
				args = append(args, "--top-k", k, "--oversample", "8", "--power-iters", "2")
			}
			stdout, stderr, ok := run(t, args...)
			if !ok {
				t.Fatalf("%v: %s", args, stderr)
			}
			if strings.Contains(stderr, "warning") {
				t.Errorf("%v warns: %s", args, stderr)
			}
			if k != "" && !strings.Contains(stdout, "top-30 by randomized SVD") {
				t.Errorf("--top-k run does not say how it found the directions: %q", stdout)
			}
			outs[name] = filepath.Join(dir, name)
		}
	}
	for _, base := range []string{"top0.95", "bottom0.05", "bottom0.4"} {
		for _, suffix := range []string{".npy", "_test.npy"} {
			full, mf := readNPY(t, strings.TrimSuffix(outs[base+"_k.npy"], ".npy")+suffix)
			topk, mk := readNPY(t, strings.TrimSuffix(outs[base+"_k30.npy"], ".npy")+suffix)
			if mk.N != mf.N || mk.Shape != mf.Shape || mk.DType != backend.F64 || mk.Shape.H != 8 {
				t.Fatalf("%s%s: --top-k output %+v, full %+v", base, suffix, mk, mf)
			}
			for i := range full {
				if diff := math.Abs(topk[i] - full[i]); diff > 1e-8*(1+math.Abs(full[i])) {
					t.Fatalf("%s%s element %d: --top-k %.15g, full %.15g", base, suffix, i, topk[i], full[i])
				}
			}
		}
	}
	// top(0.95) + bottom(0.05) = x + μ, with μ the training mean.
	a, _ := readNPY(t, outs["top0.95_k30.npy"])
	b, _ := readNPY(t, outs["bottom0.05_k30.npy"])
	for i := range x {
		if diff := a[i] + b[i] - x[i] - mu[i%d]; math.Abs(diff) > 1e-9 {
			t.Fatalf("element %d: top + bottom − x − μ = %g", i, diff)
		}
	}
	// And the split is not trivial: both halves move the data.
	if math.Abs(a[5]-x[5]) < 1e-3 || math.Abs(b[5]-x[5]) < 1e-3 {
		t.Fatalf("projections equal the data: %g %g %g", a[5], b[5], x[5])
	}
}

func TestProjectTopKErrors(t *testing.T) {
	dir := t.TempDir()
	xp := decayingImages(t, dir, "x.npy", 200, 3)
	out := filepath.Join(dir, "p.npy")
	base := []string{"project", "--data", xp, "--out", out, "--quiet"}
	for _, c := range []struct {
		args []string
		want []string
	}{
		// Two directions explain about 1 − 0.64² ≈ 59%: top(0.9) and
		// bottom(0.2) (the complement of top(0.8)) lie beyond them.
		{[]string{"--keep", "top", "--variance", "0.9", "--top-k", "2"}, []string{"x.npy", "the top K=2 directions explain only", "raise --top-k"}},
		{[]string{"--keep", "bottom", "--variance", "0.2", "--top-k", "2"}, []string{"top K=2 directions explain only", "at least 80.00%", "raise --top-k"}},
		{[]string{"--keep", "top", "--variance", "0.5", "--top-k", "65"}, []string{"--top-k 65: want", "at most the 64 features"}},
		{[]string{"--keep", "top", "--variance", "0.5", "--top-k", "0"}, []string{"--top-k 0"}},
		{[]string{"--keep", "top", "--variance", "0.5", "--top-k", "5", "--power-iters", "-1"}, []string{"--power-iters -1"}},
		{[]string{"--keep", "top", "--variance", "0.5", "--oversample", "3"}, []string{"only with --top-k"}},
	} {
		_, stderr, ok := run(t, append(base, c.args...)...)
		if ok {
			t.Errorf("%v succeeded", c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr, w)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed runs left files: %v", entries)
	}
	// Within the K directions the same flags succeed.
	if _, stderr, ok := run(t, append(base, "--keep", "bottom", "--variance", "0.5", "--top-k", "2")...); !ok {
		t.Fatal(stderr)
	}
}

// A synthetic source (uint8 images with a slowly decaying 1/f² spectrum)
// streams through the --top-k route into float32 images. With K = 100 the
// 20 directions bottom(0.3) removes are accurate and the output matches the
// full route; with K = 40 they are not, and the command warns.
func TestProjectTopKSynthetic(t *testing.T) {
	dir := t.TempDir()
	spec := "N=300,h=8,w=8,c=3,classes=4,seed=5"
	outs := map[string]string{}
	for _, k := range []string{"", "40", "100"} {
		out := filepath.Join(dir, "s"+k+".npy")
		args := []string{"project", "--synthetic", spec, "--keep", "bottom", "--variance", "0.3", "--out", out, "--chunk-rows", "64"}
		if k != "" {
			args = append(args, "--top-k", k)
		}
		_, stderr, ok := run(t, args...)
		if !ok {
			t.Fatal(stderr)
		}
		if warned := strings.Contains(stderr, "warning: the 20 leading directions are uncertain"); warned != (k == "40") {
			t.Errorf("--top-k %q: warned %v: %q", k, warned, stderr)
		}
		outs[k] = out
	}
	full, m := readNPY(t, outs[""])
	if m.N != 300 || m.D != 192 || m.DType != backend.F32 || m.Shape.H != 8 || m.Shape.C != 3 {
		t.Fatalf("output %+v", m)
	}
	// 1e-9 relative eigenvalue error leaves the directions about 1e-5 off:
	// the projections, up to 220 grey levels, agree to about 1e-3.
	for _, c := range []struct {
		k     string
		close bool
	}{{"100", true}, {"40", false}} {
		got, _ := readNPY(t, outs[c.k])
		worst := 0.0
		for i := range full {
			worst = math.Max(worst, math.Abs(got[i]-full[i]))
		}
		if (worst < 5e-3) != c.close {
			t.Errorf("--top-k %s: largest difference from the full route %g", c.k, worst)
		}
	}
}
