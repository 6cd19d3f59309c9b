package closedform

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

func randGeneral(rng *rand.Rand, r, c int) blas64.General {
	a := backend.NewGeneral(r, c)
	for i := range a.Data {
		a.Data[i] = rng.NormFloat64()
	}
	return a
}

// nestedTargets against the backend's QR (dgeqrf + dorgqr, or gonum's)
// followed by the product z·q̃, column by column up to the sign of q̃_j:
// square and tall e, sizes below, at and across the panel width, one row
// of targets and many, and an ill-conditioned e (columns scaled over ten
// orders of magnitude).
func TestNestedTargetsMatchQR(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 8))
	for _, be := range backends(t) {
		for _, s := range []struct{ r, m, c int }{{1, 1, 1}, {5, 5, 3}, {31, 31, 2}, {32, 32, 10}, {33, 20, 4}, {100, 100, 1}, {130, 97, 12}, {257, 257, 10}} {
			for _, graded := range []bool{false, true} {
				name := fmt.Sprintf("%s r=%d m=%d c=%d graded=%v", be.Info().Name, s.r, s.m, s.c, graded)
				e := randGeneral(rng, s.r, s.m)
				if graded {
					for i := 0; i < s.r; i++ {
						for j := 0; j < s.m; j++ {
							e.Data[i*s.m+j] *= math.Pow(10, -10*float64(j)/float64(max(1, s.m-1)))
						}
					}
				}
				z := randGeneral(rng, s.c, s.r)
				keepE, keepZ := backend.Clone(e), backend.Clone(z)
				got, err := nestedTargets(be, e, z)
				if err != nil {
					t.Fatal(name, err)
				}
				q := backend.Clone(e)
				if _, err := be.QR(q); err != nil {
					t.Fatal(name, err)
				}
				want := backend.NewGeneral(s.c, s.m)
				if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, z, q, 0, want); err != nil {
					t.Fatal(name, err)
				}
				if got.Rows != s.c || got.Cols != s.m {
					t.Fatalf("%s: got %d×%d", name, got.Rows, got.Cols)
				}
				for j := 0; j < s.m; j++ {
					dot, scale := 0.0, 0.0
					for i := 0; i < s.c; i++ {
						dot += got.Data[i*s.m+j] * want.Data[i*s.m+j]
						scale = math.Max(scale, math.Abs(want.Data[i*s.m+j]))
					}
					sign := math.Copysign(1, dot) // q̃_j is defined up to its sign
					for i := 0; i < s.c; i++ {
						if d := math.Abs(sign*got.Data[i*s.m+j] - want.Data[i*s.m+j]); d > 1e-12*math.Max(1, scale)*math.Sqrt(float64(s.r)) {
							t.Fatalf("%s: column %d row %d: %.17g, QR route %.17g", name, j, i, got.Data[i*s.m+j], want.Data[i*s.m+j])
						}
					}
				}
				for i := range e.Data {
					if e.Data[i] != keepE.Data[i] {
						t.Fatalf("%s: e modified", name)
					}
				}
				for i := range z.Data {
					if z.Data[i] != keepZ.Data[i] {
						t.Fatalf("%s: z modified", name)
					}
				}
			}
		}
	}
}
