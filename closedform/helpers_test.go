package closedform

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// dataset is a small labelled problem held in memory.
type dataset struct {
	n, d, c int
	x       []float64 // n×d row-major
	labels  []int
	shape   data.Shape
}

func (ds dataset) source(t testing.TB) data.Source {
	t.Helper()
	src, err := data.FromMatrix(backend.Chunk{N: ds.n, D: ds.d, F64: ds.x}, ds.labels, ds.shape)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// moments accumulates the data in several chunks.
func (ds dataset) moments(t testing.TB, be backend.Backend) *engine.Moments {
	t.Helper()
	m, err := engine.NewMoments(ds.d, ds.c)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < ds.n; i += 97 {
		j := min(i+97, ds.n)
		b := data.Batch{X: backend.Chunk{N: j - i, D: ds.d, F64: ds.x[i*ds.d : j*ds.d]}, Labels: ds.labels[i:j]}
		if err := m.Add(be, b); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (ds dataset) stats(t testing.TB, be backend.Backend, center bool) *engine.Stats {
	t.Helper()
	st, err := ds.moments(t, be).Finalize(center)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (ds dataset) rng(t testing.TB, be backend.Backend, center bool) *Range {
	t.Helper()
	rg, err := NewRange(be, ds.stats(t, be, center), 0)
	if err != nil {
		t.Fatal(err)
	}
	return rg
}

// onehot returns Y (n×c).
func (ds dataset) onehot() blas64.General {
	y := backend.NewGeneral(ds.n, ds.c)
	for i, l := range ds.labels {
		y.Data[i*ds.c+l] = 1
	}
	return y
}

// imageData draws n images of shape h×w×c (hwc) whose pixel scales vary
// and whose classes shift a few pixels, so that the spectrum is spread and
// the labels are neither aligned with the top directions nor orthogonal.
func imageData(seed uint64, n, h, w, c, classes int) dataset {
	rng := rand.New(rand.NewPCG(seed, 99))
	d := h * w * c
	x := make([]float64, n*d)
	labels := make([]int, n)
	// A smooth random field gives correlated neighbours, like images.
	for i := 0; i < n; i++ {
		labels[i] = rng.IntN(classes)
		a, b := rng.NormFloat64(), rng.NormFloat64()
		for j := 0; j < d; j++ {
			hh, ww, cc := j/(w*c), (j/c)%w, j%c
			x[i*d+j] = (0.5+1.5*float64(j)/float64(d))*rng.NormFloat64() +
				2*a*math.Sin(float64(hh+cc)) + b*math.Cos(float64(ww))
		}
		x[i*d+(h/2*w+w/3)*c] += 1.5 * float64(labels[i])
		x[i*d+d-1] -= float64(labels[i] % 2)
	}
	return dataset{n: n, d: d, c: classes, x: x, labels: labels, shape: data.Shape{H: h, W: w, C: c, Layout: data.HWC}}
}

// toCHW re-flattens hwc images channel-first.
func (ds dataset) toCHW() dataset {
	s := ds.shape
	out := ds
	out.x = make([]float64, len(ds.x))
	out.shape.Layout = data.CHW
	for i := 0; i < ds.n; i++ {
		for h := 0; h < s.H; h++ {
			for w := 0; w < s.W; w++ {
				for c := 0; c < s.C; c++ {
					out.x[i*ds.d+(c*s.H+h)*s.W+w] = ds.x[i*ds.d+(h*s.W+w)*s.C+c]
				}
			}
		}
	}
	return out
}

// backends opens every registered backend that runs here.
func backends(t testing.TB) []backend.Backend {
	t.Helper()
	var out []backend.Backend
	for _, name := range backend.Names() {
		b, err := backend.Open(name, backend.Options{})
		if err != nil {
			t.Logf("backend %s skipped: %v", name, err)
			continue
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		t.Fatal("no backend available")
	}
	return out
}

func gonumBackend() backend.Backend { return gonum.New(0) }

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*math.Max(1, math.Abs(want[i]))) {
			t.Fatalf("%s[%d] = %.15g, want %.15g (diff %.3g > %.3g)", what, i, got[i], want[i], d, tol)
		}
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

type goldenFile struct {
	Pencil struct {
		N       int       `json:"n"`
		A       []float64 `json:"a"`
		B       []float64 `json:"b"`
		Values  []float64 `json:"values"`
		Vectors []float64 `json:"vectors"`
	} `json:"pencil"`
	Images struct {
		N, H, W, C, Classes int
		HWC                 []float64 `json:"hwc"`
		Labels              []int     `json:"labels"`
	} `json:"images"`
	Masked []struct {
		Layout      string    `json:"layout"`
		Patch       []int     `json:"patch"`
		P           float64   `json:"p"`
		Fixed       bool      `json:"fixed"`
		Eigenvalues []float64 `json:"eigenvalues"`
		Squared     []float64 `json:"squared"`
		Norm        []float64 `json:"norm"`
	} `json:"masked"`
	Theorem1 []struct {
		Lambda      float64   `json:"lambda"`
		K           int       `json:"k"`
		Eigenvalues []float64 `json:"eigenvalues"`
		Loss        float64   `json:"loss"`
	} `json:"theorem1"`
}

func loadGolden(t *testing.T) *goldenFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden_closedform.json")
	if err != nil {
		t.Fatalf("golden file missing (regenerate with /usr/bin/python3 scripts/gen_closedform_golden.py closedform/testdata/golden_closedform.json): %v", err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func (g *goldenFile) dataset() dataset {
	im := g.Images
	return dataset{n: im.N, d: im.H * im.W * im.C, c: im.Classes, x: im.HWC, labels: im.Labels,
		shape: data.Shape{H: im.H, W: im.W, C: im.C, Layout: data.HWC}}
}
