package spectral

import (
	"os"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"

	"github.com/reconalign/reconalign/backend"
)

func TestGemmRates(t *testing.T) {
	if os.Getenv("SPECTRAL_TIME") == "" {
		t.Skip()
	}
	shapes := []struct {
		name    string
		ta, tb  blas.Transpose
		m, n, k int
	}{
		{"syr2k-col b=32", blas.NoTrans, blas.Trans, 2048, 256, 64},
		{"syr2k-col b=64", blas.NoTrans, blas.Trans, 2048, 256, 128},
		{"symm-T b=32", blas.Trans, blas.NoTrans, 256, 32, 2048},
		{"symm-N b=32", blas.NoTrans, blas.NoTrans, 2048, 32, 256},
		{"square 1024", blas.NoTrans, blas.NoTrans, 1024, 1024, 1024},
		{"full syr2k b=32", blas.NoTrans, blas.Trans, 2048, 2048, 64},
	}
	for _, sh := range shapes {
		for gname, g := range timingGemmers() {
			ar, ac := sh.m, sh.k
			if sh.ta == blas.Trans {
				ar, ac = ac, ar
			}
			br, bc := sh.k, sh.n
			if sh.tb == blas.Trans {
				br, bc = bc, br
			}
			a, b, c := backend.NewGeneral(ar, ac), backend.NewGeneral(br, bc), backend.NewGeneral(sh.m, sh.n)
			for i := range a.Data {
				a.Data[i] = 1
			}
			for i := range b.Data {
				b.Data[i] = 1
			}
			reps := 0
			start := time.Now()
			for time.Since(start) < 300*time.Millisecond {
				g.Gemm(sh.ta, sh.tb, 1, a, b, 1, c)
				reps++
			}
			sec := time.Since(start).Seconds() / float64(reps)
			t.Logf("%-18s %-8s %.1f GFLOP/s", sh.name, gname, 2*float64(sh.m*sh.n*sh.k)/sec/1e9)
		}
	}
}
