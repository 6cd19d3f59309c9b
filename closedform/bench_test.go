package closedform

import (
	"fmt"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// The benchmarks time the paper's Figure 7 grid (p ∈ linspace(0, 0.99, 10),
// patches 1, 2 and 4: 30 settings, every k) on every available backend,
// against the reference approach that the paper's code takes per setting: a
// D×D generalized eigh of (q²Gx², Gx∘Q) and a QR of the N×D features XV.
//
//	go test -run NONE -bench Figure7 -benchtime 1x ./closedform/
//
// (-tags openblas with CGO_LDFLAGS from pkg-config for the OpenBLAS backend.)

var benchSink float64

func fig7Grid(shape data.Shape) []Noise {
	var out []Noise
	for _, m := range Figure7Masks(shape, []int{1, 2, 4}, 10) {
		out = append(out, m)
	}
	return out
}

// benchData is a Fashion-MNIST-sized problem (28×28 images, 10 classes).
func benchData(b *testing.B) dataset {
	return imageData(77, 3000, 28, 28, 1, 10)
}

// BenchmarkFigure7Grid: moments given (D = 784), the D-space work of the 30
// settings: the range, the per-patch products and 30 pencils with their
// curves.
func BenchmarkFigure7Grid(b *testing.B) {
	ds := benchData(b)
	for _, be := range backends(b) {
		st := ds.stats(b, be, true)
		b.Run(be.Info().Name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rg, err := NewRange(be, st, 0)
				if err != nil {
					b.Fatal(err)
				}
				_, res, err := DenoiseGrid(be, rg, fig7Grid(ds.shape), DenoiseOptions{Align: engine.AlignOptions{Center: true, Scale: engine.ScaleNorm}})
				if err != nil {
					b.Fatal(err)
				}
				benchSink += res[len(res)-1].Relative[0]
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/30, "s/setting")
		})
	}
}

// referenceCurve is the paper code's route for one masking setting.
func referenceCurve(be backend.Backend, x, y blas64.General, st *engine.Stats, m Mask) ([]float64, error) {
	d := st.D
	dense, err := m.Moments(st)
	if err != nil {
		return nil, err
	}
	a := backend.NewGeneral(d, d)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, dense.Scale*dense.Scale, st.Gx, st.Gx, 0, a); err != nil {
		return nil, err
	}
	_, v, err := SolvePencil(be, a, dense.G)
	if err != nil {
		return nil, err
	}
	f := backend.NewGeneral(x.Rows, d)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, x, v, 0, f); err != nil {
		return nil, err
	}
	if _, err := be.QR(f); err != nil {
		return nil, err
	}
	yq := backend.NewGeneral(y.Cols, d)
	if err := be.Gemm(blas.Trans, blas.NoTrans, 1, y, f, 0, yq); err != nil {
		return nil, err
	}
	c, err := engine.CurveFrom(engine.Projections{YQ: yq, Gy: st.Gy}, &engine.Eigen{Rank: d}, true, engine.AlignOptions{Center: true, Scale: engine.ScaleNorm})
	if err != nil {
		return nil, err
	}
	return c.Alignment, nil
}

// BenchmarkFigure7Reference runs the reference route on the same problem
// (N = 3000: its QR is O(N·D²) per setting, where ours is O(D³) once).
func BenchmarkFigure7Reference(b *testing.B) {
	ds := benchData(b)
	grid := fig7Grid(ds.shape)
	for _, be := range backends(b) {
		st := ds.stats(b, be, true)
		xc := centredCopy(ds, st.MeanX)
		y := ds.onehot()
		b.Run(be.Info().Name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, n := range grid {
					c, err := referenceCurve(be, xc, y, st, n.(Mask))
					if err != nil {
						b.Fatal(err)
					}
					benchSink += c[0]
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/30, "s/setting")
		})
	}
}

func centredCopy(ds dataset, mean []float64) blas64.General {
	x := backend.NewGeneral(ds.n, ds.d)
	for i := 0; i < ds.n; i++ {
		for j := 0; j < ds.d; j++ {
			x.Data[i*ds.d+j] = ds.x[i*ds.d+j] - mean[j]
		}
	}
	return x
}

// BenchmarkFigure7FashionMNIST is the whole job on the real data: one pass
// over the 60,000 training images, then the 30 settings. The reference
// route's QR of a 60,000×784 matrix per setting is timed on the first two
// settings only and reported per setting (ref-s/setting), so that its total
// for the grid is that times 30.
func BenchmarkFigure7FashionMNIST(b *testing.B) {
	src, err := data.FashionMNIST("", "train")
	if err != nil {
		b.Skipf("Fashion-MNIST not available: %v", err)
	}
	shape := data.Shape{H: 28, W: 28, C: 1, Layout: data.HWC}
	for _, be := range backends(b) {
		b.Run(be.Info().Name, func(b *testing.B) {
			eng, err := engine.New(engine.Options{Backend: be.Info().Name})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			var st *engine.Stats
			for i := 0; i < b.N; i++ {
				m, err := eng.Moments(src)
				if err != nil {
					b.Fatal(err)
				}
				if st, err = m.Finalize(true); err != nil {
					b.Fatal(err)
				}
				rg, err := NewRange(be, st, 0)
				if err != nil {
					b.Fatal(err)
				}
				_, res, err := DenoiseGrid(be, rg, fig7Grid(shape), DenoiseOptions{Align: engine.AlignOptions{Center: true, Scale: engine.ScaleNorm}})
				if err != nil {
					b.Fatal(err)
				}
				benchSink += res[0].Relative[0]
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/grid")
			b.StopTimer()
			x, labels, err := data.Collect(src)
			if err != nil {
				b.Fatal(err)
			}
			ds := dataset{n: x.N, d: x.D, c: 10, x: x.Float64(make([]float64, x.N*x.D), nil), labels: labels}
			xc, y := centredCopy(ds, st.MeanX), ds.onehot()
			start := time.Now()
			for _, n := range fig7Grid(shape)[1:3] {
				if _, err := referenceCurve(be, xc, y, st, n.(Mask)); err != nil {
					b.Fatal(fmt.Errorf("reference: %w", err))
				}
			}
			b.ReportMetric(time.Since(start).Seconds()/2, "ref-s/setting")
		})
	}
}
