package closedform

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// choleskyRouteCurve is the route the masking pencils took before the patch
// basis: the dense whitened pencil, the backend's SymGenEig (Cholesky
// reduction), a QR of the eigenvectors formed by dorgqr (or gonum's), and
// Z·q̃ as a GEMM.
func choleskyRouteCurve(t *testing.T, be backend.Backend, rg *Range, m Mask, opt engine.AlignOptions) ([]float64, *engine.Curve) {
	t.Helper()
	a, b, err := m.pencil(be, rg)
	if err != nil {
		t.Fatal(err)
	}
	w, e, err := SolvePencil(be, a, b)
	if err != nil {
		t.Fatal(err)
	}
	q := backend.Clone(e)
	if _, err := be.QR(q); err != nil {
		t.Fatal(err)
	}
	yq := backend.NewGeneral(rg.C, e.Cols)
	if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, rg.Z, q, 0, yq); err != nil {
		t.Fatal(err)
	}
	c, err := rg.curveOfTargets(yq, w, opt)
	if err != nil {
		t.Fatal(err)
	}
	return w, c
}

// sameCurves compares the patch-basis route with the Cholesky route: every
// point of the curve within tol (absolute, the curve is a fraction), every
// eigenvalue within tol·μ₁; and the encoder directions it forms on demand
// satisfy the pencil.
func sameCurves(t *testing.T, be backend.Backend, rg *Range, masks []Mask, tol float64) {
	t.Helper()
	opt := engine.AlignOptions{Center: rg.Centered, Scale: engine.ScaleNorm}
	for _, m := range masks {
		name := fmt.Sprintf("%s %s", be.Info().Name, describe(m.Spec()))
		res, err := Denoise(be, rg, m, DenoiseOptions{Align: opt})
		if err != nil {
			t.Fatal(name, err)
		}
		if res.Route != PencilPatchBasis {
			t.Fatalf("%s: route %q, want %q", name, res.Route, PencilPatchBasis)
		}
		w, want := choleskyRouteCurve(t, be, rg, m, opt)
		worst := 0.0
		for k := range want.Alignment {
			worst = math.Max(worst, math.Abs(res.Curve.Alignment[k]-want.Alignment[k]))
		}
		if !(worst <= tol) {
			t.Errorf("%s: curves differ by %.3g (tolerance %.0g)", name, worst, tol)
		}
		t.Logf("%s: curves within %.2g", name, worst)
		for j := range w {
			if d := math.Abs(res.Eigenvalues[j] - w[j]); !(d <= tol*w[0]) {
				t.Errorf("%s: eigenvalue %d = %.17g, Cholesky route %.17g", name, j, res.Eigenvalues[j], w[j])
				break
			}
		}
		// The whitened eigenvectors: A″e = μB″e and eᵀB″e = I for a few.
		k := min(4, rg.Rank)
		e, err := res.Whitened(be, k)
		if err != nil {
			t.Fatal(name, err)
		}
		a, b, _ := m.pencil(be, rg)
		ae, bmat := backend.NewGeneral(rg.Rank, k), backend.NewGeneral(rg.Rank, k)
		be.Gemm(blas.NoTrans, blas.NoTrans, 1, a, e, 0, ae)
		be.Gemm(blas.NoTrans, blas.NoTrans, 1, b, e, 0, bmat)
		gram := backend.NewGeneral(k, k)
		be.Gemm(blas.Trans, blas.NoTrans, 1, e, bmat, 0, gram)
		for j := 0; j < k; j++ {
			res2, scale := 0.0, 0.0
			for i := 0; i < rg.Rank; i++ {
				r := ae.Data[i*k+j] - res.Eigenvalues[j]*bmat.Data[i*k+j]
				res2 += r * r
				scale += ae.Data[i*k+j] * ae.Data[i*k+j]
			}
			if math.Sqrt(res2) > 1e-9*math.Sqrt(scale) {
				t.Errorf("%s: direction %d: pencil residual %.3g of %.3g", name, j, math.Sqrt(res2), math.Sqrt(scale))
			}
			for i := 0; i < k; i++ {
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(gram.Data[i*k+j]-want) > 1e-9 {
					t.Errorf("%s: eᵀB″e[%d,%d] = %.3g", name, i, j, gram.Data[i*k+j])
				}
			}
		}
	}
}

// The patch-basis route gives the Cholesky route's curves and eigenvalues on
// random images of several shapes and both layouts: every patch size, ragged
// edge patches, both mask variants, p up to 0.99, centred and not.
func TestPatchBasisMatchesCholeskyRoute(t *testing.T) {
	for _, be := range backends(t) {
		for i, ds := range []dataset{imageData(11, 400, 6, 5, 2, 4), imageData(12, 300, 8, 8, 1, 3).toCHW(), imageData(13, 120, 7, 7, 3, 5)} {
			for _, center := range []bool{true, false} {
				rg := ds.rng(t, be, center)
				var masks []Mask
				for _, patch := range [][2]int{{1, 1}, {2, 2}, {3, 2}, {ds.shape.H, ds.shape.W}} {
					for _, p := range []float64{0.11, 0.55, 0.99} {
						masks = append(masks, Mask{Shape: ds.shape, PatchH: patch[0], PatchW: patch[1], P: p})
					}
					if patch[0] < ds.shape.H { // of a single patch mask-fixed keeps nothing
						masks = append(masks, Mask{Shape: ds.shape, PatchH: patch[0], PatchW: patch[1], P: 0.3, Fixed: true})
					}
				}
				t.Run(fmt.Sprintf("%s/%d/center=%v", be.Info().Name, i, center), func(t *testing.T) {
					sameCurves(t, be, rg, masks, 1e-10)
				})
			}
		}
	}
}

// The same on the Fashion-MNIST training set (D = 784, all 60,000 images):
// a few settings of the Figure 7 grid.
func TestPatchBasisMatchesCholeskyRouteFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("a pass over Fashion-MNIST and 2 × 4 pencils of order 784 per backend")
	}
	src, err := data.FashionMNIST("", "train")
	if err != nil {
		t.Skipf("Fashion-MNIST not available: %v", err)
	}
	shape := data.Shape{H: 28, W: 28, C: 1, Layout: data.HWC}
	masks := []Mask{
		{Shape: shape, PatchH: 1, PatchW: 1, P: 0.99},
		{Shape: shape, PatchH: 2, PatchW: 2, P: 0.99},
		{Shape: shape, PatchH: 4, PatchW: 4, P: 0.33},
		{Shape: shape, PatchH: 3, PatchW: 3, P: 0.75, Fixed: true},
	}
	for _, be := range backends(t) {
		eng, err := engine.New(engine.Options{Backend: be.Info().Name})
		if err != nil {
			t.Fatal(err)
		}
		m, err := eng.Moments(src)
		eng.Close()
		if err != nil {
			t.Fatal(err)
		}
		st, err := m.Finalize(true)
		if err != nil {
			t.Fatal(err)
		}
		rg, err := NewRange(be, st, 0)
		if err != nil {
			t.Fatal(err)
		}
		sameCurves(t, be, rg, masks, 1e-10)
	}
}

// E is positive definite on the range in exact arithmetic (a direction u
// of the range with (Gx∘B)u = 0 would be orthogonal, patch by patch, to
// every sample that spans it), so B″ is definite for every mask; only a
// B″ eigenvalue at rounding level of the largest, from a nearly singular
// E, makes the patch-basis route report ErrPencilNotDefinite, as the
// Cholesky route's failed factorisation does. Forced here by planting
// such an eigenvalue in the cached basis.
func TestPatchBasisIndefinite(t *testing.T) {
	ds := imageData(14, 200, 4, 4, 1, 2)
	be := gonumBackend()
	rg := ds.rng(t, be, true)
	m := Mask{Shape: ds.shape, PatchH: 2, PatchW: 2, P: 0.5}
	pb, err := rg.patchBasis(be, m)
	if err != nil {
		t.Fatal(err)
	}
	_, same, cross := m.Probabilities()
	pb.sigma[len(pb.sigma)-1] = -cross / (same - cross)
	if _, err := Denoise(be, rg, m, DenoiseOptions{}); !errors.Is(err, ErrPencilNotDefinite) {
		t.Errorf("got %v, want ErrPencilNotDefinite", err)
	}
}
