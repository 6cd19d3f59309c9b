package closedform_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/closedform"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// Would masking 2×2 patches help a linear autoencoder's features on this
// data, and does Gaussian noise change anything (Corollary 3.1)?
func ExampleDenoiseGrid() {
	// 500 random 8×8 grey images; the class shifts one pixel.
	rng := rand.New(rand.NewPCG(1, 2))
	n, shape := 500, data.Shape{H: 8, W: 8, C: 1, Layout: data.HWC}
	d := shape.D()
	x, labels := make([]float64, n*d), make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(4)
		for j := 0; j < d; j++ {
			x[i*d+j] = float64(1+j%5) * rng.NormFloat64()
		}
		x[i*d+27] += float64(labels[i])
	}
	src, _ := data.FromMatrix(backend.Chunk{N: n, D: d, F64: x}, labels, shape)

	be := gonum.New(0)
	m, _ := engine.NewMoments(d, 4)
	r, _ := src.Open(128)
	for {
		b, err := r.Next()
		if err != nil {
			break
		}
		m.Add(be, b)
	}
	st, _ := m.Finalize(true)
	rg, _ := closedform.NewRange(be, st, 0)

	noises := []closedform.Noise{
		closedform.Mask{Shape: shape, PatchH: 2, PatchW: 2, P: 0.75},
		closedform.Gaussian{Sigma: 3},
	}
	_, res, err := closedform.DenoiseGrid(be, rg, noises, closedform.DenoiseOptions{Align: engine.AlignOptions{Center: true, Scale: engine.ScaleNorm}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		moved := 0.0
		for _, v := range r.Relative {
			moved = math.Max(moved, math.Abs(v))
		}
		fmt.Printf("%s changes the alignment curve: %v\n", r.Noise.Kind, moved > 1e-9)
	}
	// Output:
	// mask changes the alignment curve: true
	// gaussian changes the alignment curve: false
}

// Theorem 1 for one λ: the loss at the optimum splits into its parts.
func ExampleSolveSupervised() {
	rng := rand.New(rand.NewPCG(3, 4))
	n, d, c := 200, 10, 3
	x := backend.NewGeneral(n, d)
	y := backend.NewGeneral(n, c)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			x.Data[i*d+j] = float64(j+1) * rng.NormFloat64()
		}
		y.Data[i*c+rng.IntN(c)] = 1
	}
	be := gonum.New(0)
	rg, _ := closedform.NewRangeFromData(be, x, y, true, 0)
	s, _ := closedform.SolveSupervised(be, rg, 2, 0.5, true)
	fmt.Printf("V* is %d×%d, W* %d×%d, Z* %d×%d\n", s.V.Rows, s.V.Cols, s.W.Rows, s.W.Cols, s.Z.Rows, s.Z.Cols)
	fmt.Println("loss = supervised + λ·reconstruction:", math.Abs(s.Loss-(s.Supervised+0.5*s.Reconstruction)) < 1e-9*s.Loss)
	// Output:
	// V* is 10×2, W* 2×3, Z* 2×10
	// loss = supervised + λ·reconstruction: true
}
