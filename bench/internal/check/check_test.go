package check

import (
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/bench/internal/input"
)

// The check functions themselves catch the usual wrong answers.
func TestChecksCatchWrongAnswers(t *testing.T) {
	be := gonum.New(0)
	x := input.Chunk("f64", 50, 12, 1)
	g := backend.NewGeneral(12, 12)
	if err := be.GramAdd(g, x, nil); err != nil {
		t.Fatal(err)
	}
	pairs := SamplePairs(12, 30, 2)
	if err := GramEntries(g, 50, input.At(x), pairs, 0x1p-53, false); err != nil {
		t.Fatalf("right Gram rejected: %v", err)
	}
	scaled := backend.NewGeneral(12, 12)
	for i, v := range g.Data {
		scaled.Data[i] = v * (1 + 1e-9)
	}
	if GramEntries(scaled, 50, input.At(x), pairs, 0x1p-53, false) == nil {
		t.Error("Gram off by a relative 1e-9 accepted")
	}
	// A lower-triangle-only answer (upper left at zero) is caught too.
	lower := backend.NewGeneral(12, 12)
	for i := 0; i < 12; i++ {
		for j := 0; j <= i; j++ {
			lower.Data[i*12+j] = g.Data[j*12+i]
		}
	}
	if GramEntries(lower, 50, input.At(x), pairs, 0x1p-53, false) == nil {
		t.Error("lower-triangle Gram accepted")
	}

	a := input.GOE(40, 3)
	work := backend.NewGeneral(40, 40)
	copy(work.Data, a.Data)
	w, err := be.SymEig(work, true)
	if err != nil {
		t.Fatal(err)
	}
	cols := SampleCols(40, 8, 4)
	if err := SymEig(a, w, work, cols, 0x1p-53); err != nil {
		t.Fatalf("right eigendecomposition rejected: %v", err)
	}
	w2 := append([]float64(nil), w...)
	w2[5] += 1e-6 // still descending, but the trace is off
	if SymEig(a, w2, work, cols, 0x1p-53) == nil {
		t.Error("perturbed eigenvalue accepted")
	}
	v2 := backend.NewGeneral(40, 40)
	copy(v2.Data, work.Data)
	for i := 0; i < 40; i++ { // swap two eigenvectors
		v2.Data[i*40+0], v2.Data[i*40+1] = v2.Data[i*40+1], v2.Data[i*40+0]
	}
	if SymEig(a, w, v2, []int{0, 1}, 0x1p-53) == nil {
		t.Error("swapped eigenvectors accepted")
	}

	if err := Curve("c", []float64{0.5, 0.8, 1}, 3, []int{2}, []float64{0.8}, 3, 1e-9); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]float64{{0.5, 0.4, 1}, {0.5, 0.8, 0.99}, {0.5, 0.81, 1}} {
		if Curve("c", bad, 3, []int{2}, []float64{0.8}, 3, 1e-6) == nil {
			t.Errorf("curve %v accepted", bad)
		}
	}
}

// The eigen-phase check accepts eigenvalues with M·U and catches a column
// paired with the wrong eigenvalue, ascending values and a scaled block.
func TestProjectionsCatchWrongAnswers(t *testing.T) {
	be := gonum.New(0)
	const d, c = 30, 5
	a := input.GOE(d, 5)
	m := input.General(c, d, 6)
	u := backend.NewGeneral(d, d)
	copy(u.Data, a.Data)
	w, err := be.SymEig(u, true)
	if err != nil {
		t.Fatal(err)
	}
	p := backend.NewGeneral(c, d)
	for i := 0; i < c; i++ {
		for j := 0; j < d; j++ {
			for k := 0; k < d; k++ {
				p.Data[i*d+j] += m.Data[i*d+k] * u.Data[k*d+j]
			}
		}
	}
	if err := Projections(a, m, w, p, 4, 0x1p-53); err != nil {
		t.Fatalf("right projections rejected: %v", err)
	}
	// Sign flips of whole columns are the eigenvectors' freedom.
	flipped := backend.NewGeneral(c, d)
	copy(flipped.Data, p.Data)
	for i := 0; i < c; i++ {
		flipped.Data[i*d+3] = -flipped.Data[i*d+3]
	}
	if err := Projections(a, m, w, flipped, 4, 0x1p-53); err != nil {
		t.Fatalf("a column's sign flip rejected: %v", err)
	}
	swapped := backend.NewGeneral(c, d)
	copy(swapped.Data, p.Data)
	for i := 0; i < c; i++ {
		swapped.Data[i*d], swapped.Data[i*d+1] = swapped.Data[i*d+1], swapped.Data[i*d]
	}
	if Projections(a, m, w, swapped, 4, 0x1p-53) == nil {
		t.Error("two columns paired with each other's eigenvalue accepted")
	}
	ascending := make([]float64, d)
	for j := range w {
		ascending[j] = w[d-1-j]
	}
	if Projections(a, m, ascending, p, 4, 0x1p-53) == nil {
		t.Error("ascending eigenvalues accepted")
	}
	scaled := backend.NewGeneral(c, d)
	for i, v := range p.Data {
		scaled.Data[i] = v * (1 + 1e-6)
	}
	if Projections(a, m, w, scaled, 4, 0x1p-53) == nil {
		t.Error("projections off by a relative 1e-6 accepted")
	}
	if Projections(a, m, w, backend.NewGeneral(d, c), 4, 0x1p-53) == nil {
		t.Error("a transposed block accepted")
	}
}
