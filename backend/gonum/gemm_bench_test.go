package gonum_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/gonum"
	"github.com/reconalign/reconalign/backend/openblas"
)

// BenchmarkDgemm times C = A·B (square, no transposes, beta = 0) on this
// backend and, when the build has it (-tags openblas), on the openblas one,
// alternating rounds of the two (gonum, openblas, gonum, …) so that the rates
// they report share the state of a busy machine; the ratio of neighbouring
// pairs is the comparison (-benchtime bounds each round).
//
// OpenBLAS chooses its kernels by CPU model, and a release older than the
// CPU takes a generic one (openblas.CoreTypeAdvice): the benchmark says so
// and names the OPENBLAS_CORETYPE to set, since a test binary cannot apply
// it to itself the way the reconalign command does.
func BenchmarkDgemm(b *testing.B) {
	const rounds = 3
	bes := []backend.Backend{gonum.New(0)}
	if ob, err := backend.Open(openblas.Name, backend.Options{}); err == nil {
		bes = append(bes, ob)
	} else {
		b.Logf("no comparison: %v", err)
	}
	for _, be := range bes {
		b.Logf("%s: %s", be.Info().Name, be.Info().Library)
	}
	if advice := openblas.CoreTypeAdvice(); advice != "" {
		b.Logf("OpenBLAS runs generic kernels on this CPU: set OPENBLAS_CORETYPE=%s for its real ones", advice)
	}
	for _, n := range []int{1536} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		a, x := backend.NewGeneral(n, n), backend.NewGeneral(n, n)
		for i := range a.Data {
			a.Data[i], x.Data[i] = rng.NormFloat64(), rng.NormFloat64()
		}
		c := backend.NewGeneral(n, n)
		for range rounds {
			for _, be := range bes {
				b.Run(fmt.Sprintf("n=%d/%s", n, be.Info().Name), func(b *testing.B) {
					for b.Loop() {
						if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, a, x, 0, c); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
