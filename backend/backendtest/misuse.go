package backendtest

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

func (s *suite) testInfo(t tb) {
	info := s.b.Info()
	for _, f := range []struct{ name, value string }{
		{"Name", info.Name}, {"Device", info.Device}, {"Precision", info.Precision}, {"Library", info.Library},
	} {
		if f.value == "" {
			t.Errorf("Info().%s is empty", f.name)
		}
	}
	if info.Threads < 0 {
		t.Errorf("Info().Threads = %d, want ≥ 0", info.Threads)
	}
}

// testMisuse checks that caller errors panic (the documented channel for
// misuse) instead of reading out of bounds or returning garbage.
func (s *suite) testMisuse(t tb) {
	sq := func(n int) blas64.General { return backend.NewGeneral(n, n) }
	eye := func(n int) blas64.General {
		g := sq(n)
		for i := 0; i < n; i++ {
			g.Data[i*n+i] = 1
		}
		return g
	}
	chunk := backend.Chunk{N: 2, D: 3, U8: make([]uint8, 6)}
	cases := []struct {
		name string
		f    func() error
	}{
		{"GramAdd/g too small", func() error { return s.b.GramAdd(sq(2), chunk, nil) }},
		{"GramAdd/g not square", func() error { return s.b.GramAdd(backend.NewGeneral(3, 4), chunk, nil) }},
		{"GramAdd/shift length", func() error { return s.b.GramAdd(sq(3), chunk, make([]float64, 2)) }},
		{"GramAdd/chunk data length", func() error {
			return s.b.GramAdd(sq(3), backend.Chunk{N: 3, D: 3, F32: make([]float32, 6)}, nil)
		}},
		{"Gemm/inner dimensions", func() error {
			return s.b.Gemm(blas.NoTrans, blas.NoTrans, 1, backend.NewGeneral(2, 3), backend.NewGeneral(4, 2), 0, backend.NewGeneral(2, 2))
		}},
		{"Gemm/output shape", func() error {
			return s.b.Gemm(blas.NoTrans, blas.Trans, 1, backend.NewGeneral(2, 3), backend.NewGeneral(4, 3), 0, backend.NewGeneral(2, 3))
		}},
		{"SymEig/not square", func() error { _, err := s.b.SymEig(backend.NewGeneral(2, 3), true); return err }},
		{"SymEig/stride below columns", func() error {
			_, err := s.b.SymEig(blas64.General{Rows: 3, Cols: 3, Stride: 2, Data: make([]float64, 9)}, true)
			return err
		}},
		{"SymEigTop/k > n", func() error { _, _, err := s.b.SymEigTop(eye(3), 4); return err }},
		{"SymEigTop/k < 0", func() error { _, _, err := s.b.SymEigTop(eye(3), -1); return err }},
		{"SymGenEig/b size", func() error { _, err := s.b.SymGenEig(eye(3), eye(4)); return err }},
		{"Cholesky/not square", func() error { return s.b.Cholesky(backend.NewGeneral(3, 2)) }},
		{"Cholesky/data too short", func() error {
			return s.b.Cholesky(blas64.General{Rows: 3, Cols: 3, Stride: 3, Data: make([]float64, 5)})
		}},
		{"TriSolve/b rows", func() error { return s.b.TriSolve(blas.Upper, blas.NoTrans, eye(3), backend.NewGeneral(4, 2)) }},
		{"TriSolve/t not square", func() error {
			return s.b.TriSolve(blas.Upper, blas.NoTrans, backend.NewGeneral(3, 2), backend.NewGeneral(3, 2))
		}},
		{"QR/more columns than rows", func() error { _, err := s.b.QR(backend.NewGeneral(2, 3)); return err }},
	}
	for _, c := range cases {
		t.run(c.name, func(t tb) { expectPanic(t, c.name, c.f) })
	}
}
