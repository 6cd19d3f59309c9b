package backendtest

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// Benchmark sizes: Fashion-MNIST's D = 784 and a 2048-feature problem; the
// Gram chunk is the engine's typical streaming chunk.
const benchChunkN = 4096

var (
	benchGramD = []int{784, 2048}
	benchEigN  = []int{784, 2048}
)

// Results are kept here so the compiler cannot drop the work.
var (
	sinkGram   blas64.General
	sinkValues []float64
)

// Bench measures the primitives that dominate a run: the streamed Gram
// update and the full symmetric eigendecomposition. Each sub-benchmark
// reports GFLOP/s from a nominal operation count (below), which makes
// backends comparable with each other, not with hardware peak.
func Bench(b *testing.B, open func() (backend.Backend, error)) {
	be := openOrSkip(b, open)
	b.Logf("backend %+v", be.Info())
	for _, d := range benchGramD {
		b.Run(fmt.Sprintf("Gram/uint8/N=%d/D=%d", benchChunkN, d), func(b *testing.B) {
			benchGram(b, be, benchChunkN, d)
		})
	}
	for _, n := range benchEigN {
		b.Run(fmt.Sprintf("SymEig/n=%d", n), func(b *testing.B) { benchSymEig(b, be, n) })
	}
}

// benchGram counts N·D·(D+1) flops: the multiply-adds of the upper triangle
// (including the diagonal) of XᵀX, which is all a symmetric update needs.
func benchGram(b *testing.B, be backend.Backend, n, d int) {
	x := randomChunk(caseRNG("bench/Gram"), backend.U8, n, d)
	shift := realShift.make(caseRNG("bench/Gram/shift"), d)
	g := backend.NewGeneral(d, d)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := be.GramAdd(g, x, shift); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sinkGram = g
	reportGFLOPS(b, float64(n)*float64(d)*float64(d+1))
}

// benchSymEig counts 9n³ flops, the textbook figure for eigenvalues and
// eigenvectors of a dense symmetric matrix (Golub & Van Loan, §8.3).
//
// The matrix is a symmetric Gaussian (Wigner) matrix: it takes O(n²) to set
// up, and its spread-out spectrum gives divide and conquer almost no
// deflation, so the timing is the hard case; an image Gram with a fast
// decaying spectrum usually goes faster.
func benchSymEig(b *testing.B, be backend.Backend, n int) {
	rng := caseRNG("bench/SymEig")
	a := backend.NewGeneral(n, n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := rng.NormFloat64()
			a.Data[i*n+j], a.Data[j*n+i] = v, v
		}
	}
	work := cloneGeneral(a)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		copy(work.Data, a.Data) // SymEig overwrites its input
		b.StartTimer()
		w, err := be.SymEig(work, true)
		if err != nil {
			b.Fatal(err)
		}
		sinkValues = w
	}
	b.StopTimer()
	nf := float64(n)
	reportGFLOPS(b, 9*nf*nf*nf)
}

func reportGFLOPS(b *testing.B, flopsPerOp float64) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(flopsPerOp*float64(b.N)/s/1e9, "GFLOP/s")
	}
}
