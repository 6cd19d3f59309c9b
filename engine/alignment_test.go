package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/data"
)

// labelledMoments accumulates n random rows of d features with c labels.
func labelledMoments(t *testing.T, rng *rand.Rand, n, d, c int) *Moments {
	t.Helper()
	x := randomMatrix(rng, n, d, 0.5)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(c)
	}
	m, err := NewMoments(d, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add(gonum.New(0), data.Batch{X: backend.Chunk{N: n, D: d, F64: x.Data}, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	return m
}

// The projection route of AlignmentCurve (eigenvalues and M·U from package
// spectral, no eigenvectors) against the full-eigenvector route it
// replaced (EighStats, ProjectionsFromStats): every a_j and the curve within
// 1e-10 of each other, in both forms, centred or not, and for a rank-
// deficient Gram (N < D).
func TestAlignmentCurveMatchesEigenvectorRoute(t *testing.T) {
	be := gonum.New(0)
	rng := rand.New(rand.NewPCG(4, 4))
	for _, sz := range [][3]int{{600, 150, 10}, {90, 200, 7}, {400, 70, 3}} {
		n, d, c := sz[0], sz[1], sz[2]
		m := labelledMoments(t, rng, n, d, c)
		for _, center := range []bool{false, true} {
			st, err := m.Finalize(center)
			if err != nil {
				t.Fatal(err)
			}
			for _, form := range []Form{FormGram, FormRegression} {
				opt := AlignOptions{Center: center, Form: form}
				got, e, err := AlignmentCurve(be, st, opt)
				if err != nil {
					t.Fatal(err)
				}
				if got.Route.Side() != RouteDirect || !strings.HasPrefix(string(got.Route), "direct/") || e.Vectors.Data != nil {
					t.Errorf("route %q, vectors %v: want direct/<spectral route> and no vectors", got.Route, e.Vectors.Data != nil)
				}
				full, err := EighStats(be, st, opt.RTol, true)
				if err != nil {
					t.Fatal(err)
				}
				p, err := ProjectionsFromStats(be, st, full)
				if err != nil {
					t.Fatal(err)
				}
				want, err := CurveFrom(p, full, center, opt)
				if err != nil {
					t.Fatal(err)
				}
				if got.Rank != want.Rank {
					t.Fatalf("%dx%d c=%d center=%v: rank %d, want %d", n, d, c, center, got.Rank, want.Rank)
				}
				scale := want.Denominator
				for j := range want.PerDirection {
					if diff := math.Abs(got.PerDirection[j]-want.PerDirection[j]) / scale; diff > 1e-10 {
						t.Fatalf("%dx%d center=%v %s: a_%d = %.15g, eigenvector route %.15g (relative diff %.3g)", n, d, center, form, j, got.PerDirection[j], want.PerDirection[j], diff)
					}
					if diff := math.Abs(got.Alignment[j] - want.Alignment[j]); diff > 1e-10 {
						t.Fatalf("%dx%d center=%v %s: curve at k = %d: %.15g vs %.15g", n, d, center, form, j+1, got.Alignment[j], want.Alignment[j])
					}
				}
			}
		}
	}
}

// Release hands the Gram over once: the curve equals Finalize's, a second
// eigendecomposition of the same Stats and any use of the spent Moments are
// errors that say so.
func TestReleaseHandsTheGramOverOnce(t *testing.T) {
	be := gonum.New(0)
	rng := rand.New(rand.NewPCG(5, 5))
	m := labelledMoments(t, rng, 300, 60, 4)
	st0, err := m.Finalize(true)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := AlignmentCurve(be, st0, AlignOptions{Center: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Release(true)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := AlignmentCurve(be, st, AlignOptions{Center: true})
	if err != nil {
		t.Fatal(err)
	}
	for j := range want.Alignment {
		if got.Alignment[j] != want.Alignment[j] {
			t.Fatalf("curve at k = %d: released %v, finalized %v", j+1, got.Alignment[j], want.Alignment[j])
		}
	}
	if _, _, err := AlignmentCurve(be, st, AlignOptions{Center: true}); err == nil || !strings.Contains(err.Error(), "used up") {
		t.Errorf("second use of released Stats: %v, want an error saying the Gram was used up", err)
	}
	if _, err := m.Finalize(true); err == nil || !strings.Contains(err.Error(), "released") {
		t.Errorf("Finalize after Release: %v", err)
	}
	if err := m.Add(be, data.Batch{}); err == nil {
		t.Error("Add after Release succeeded")
	}
	// Finalize's Stats can be used again and again.
	if _, _, err := AlignmentCurve(be, st0, AlignOptions{Center: true}); err != nil {
		t.Errorf("second use of finalized Stats: %v", err)
	}
}
