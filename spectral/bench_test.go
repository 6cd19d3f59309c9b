package spectral_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/spectral"
)

// Benchmarks of Project and Eigen against the full eigendecomposition on
// the same backend, interleaved (route A, route B, A, B, …) because the
// machine they run on is shared: compare the two within one run only.
//
//	go test -run '^$' -bench Project -benchtime 1x ./spectral/
//
// SPECTRAL_BENCH_SIZES ("n:c,…", default "4096:10") and SPECTRAL_BENCH_REPS
// (default 2) choose the sizes and the rounds; SPECTRAL_BENCH_B forces b;
// SPECTRAL_BENCH_SKIP names routes or backends to leave out
// (e.g. "one-stage,gonum").
// Each run also reports its stages' seconds as metrics.

func benchSizes(def string) [][2]int {
	spec := os.Getenv("SPECTRAL_BENCH_SIZES")
	if spec == "" {
		spec = def
	}
	var out [][2]int
	for _, f := range strings.Split(spec, ",") {
		var n, c int
		if _, err := fmt.Sscanf(f, "%d:%d", &n, &c); err == nil {
			out = append(out, [2]int{n, c})
		}
	}
	return out
}

func benchReps() int {
	if r, err := strconv.Atoi(os.Getenv("SPECTRAL_BENCH_REPS")); err == nil && r > 0 {
		return r
	}
	return 2
}

// benchGram is a Gram-like symmetric matrix XᵀX/N (N = n + n/2 Gaussian
// rows with a decaying column scale, so its spectrum decays as image
// Grams' do) and M = YᵀX for c one-hot classes.
func benchGram(n, c int) (a, m blas64.General) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(c)))
	rows := n + n/2
	x := backend.NewGeneral(rows, n)
	for i := 0; i < rows; i++ {
		for j := 0; j < n; j++ {
			x.Data[i*n+j] = rng.NormFloat64() / (1 + float64(j)/64)
		}
	}
	a = backend.NewGeneral(n, n)
	g := benchBackends()["gonum"]
	if err := g.Gemm(blas.Trans, blas.NoTrans, 1/float64(rows), x, x, 0, a); err != nil {
		panic(err)
	}
	m = backend.NewGeneral(c, n)
	for i := 0; i < rows; i++ {
		l := rng.IntN(c)
		for j := 0; j < n; j++ {
			m.Data[l*n+j] += x.Data[i*n+j]
		}
	}
	return a, m
}

var benchBackends = func() map[string]backend.Backend {
	return map[string]backend.Backend{"gonum": testBackends["gonum"]()}
}

func BenchmarkProject(b *testing.B) {
	bw, _ := strconv.Atoi(os.Getenv("SPECTRAL_BENCH_B"))
	for _, nc := range benchSizes("4096:10") {
		n, c := nc[0], nc[1]
		a0, m := benchGram(n, c)
		for rep := 0; rep < benchReps(); rep++ {
			for bname, be := range benchBackends() {
				for _, route := range []string{spectral.RouteTwoStageDC, spectral.RouteTwoStageQL, spectral.RouteFull} {
					if benchSkip(bname, route) {
						continue
					}
					b.Run(fmt.Sprintf("n=%d/c=%d/%s/%s", n, c, bname, route), func(b *testing.B) {
						for range b.N {
							b.StopTimer()
							a := backend.Clone(a0)
							b.StartTimer()
							res, err := spectral.Project(be, a, m, spectral.Options{Route: route, Bandwidth: bw})
							if err != nil {
								b.Fatal(err)
							}
							cpu := 0.0
							for _, s := range res.Stages {
								b.ReportMetric(s.Seconds, strings.ReplaceAll(s.Name, " ", "_")+"-s")
								cpu += s.CPUSeconds
							}
							b.ReportMetric(cpu, "cpu-s")
						}
					})
				}
			}
		}
	}
}

// BenchmarkEigen compares Eigen's two-stage route with the one-stage one
// (the pure-Go backend's SymEig before this package) and with the
// backend's own SymEig (dsyevd on openblas), all with vectors.
func BenchmarkEigen(b *testing.B) {
	for _, nc := range benchSizes("2048:0") {
		n := nc[0]
		a0, _ := benchGram(n, 1)
		routes := map[string]func(be backend.Backend, a blas64.General) error{
			"two-stage": func(be backend.Backend, a blas64.General) error {
				_, err := spectral.EigenTwoStage(be, a, spectralBandwidth(n), be.Info().Threads)
				return err
			},
			"one-stage": func(be backend.Backend, a blas64.General) error {
				_, err := spectral.EigenOneStage(be, a, be.Info().Threads)
				return err
			},
			"SymEig": func(be backend.Backend, a blas64.General) error {
				_, err := be.SymEig(a, true)
				return err
			},
		}
		for rep := 0; rep < benchReps(); rep++ {
			for bname, be := range benchBackends() {
				for _, rname := range []string{"two-stage", "one-stage", "SymEig"} {
					if rname == "one-stage" && bname != "gonum" || rname == "SymEig" && bname == "gonum" {
						continue // gonum's SymEig is Eigen; one-stage is the pure-Go baseline
					}
					if benchSkip(bname, rname) {
						continue
					}
					b.Run(fmt.Sprintf("n=%d/%s/%s", n, bname, rname), func(b *testing.B) {
						for range b.N {
							b.StopTimer()
							a := backend.Clone(a0)
							b.StartTimer()
							c0 := spectral.ProcessCPU()
							if err := routes[rname](be, a); err != nil {
								b.Fatal(err)
							}
							b.ReportMetric(spectral.ProcessCPU()-c0, "cpu-s")
						}
					})
				}
			}
		}
	}
}

// benchSkip reports whether SPECTRAL_BENCH_SKIP (comma-separated) names the
// backend or the route.
func benchSkip(backendName, route string) bool {
	for _, s := range strings.Split(os.Getenv("SPECTRAL_BENCH_SKIP"), ",") {
		if s != "" && (s == backendName || s == route) {
			return true
		}
	}
	return false
}

func spectralBandwidth(n int) int {
	if bw, err := strconv.Atoi(os.Getenv("SPECTRAL_BENCH_B")); err == nil && bw > 0 {
		return bw
	}
	return spectral.EigenBandwidth(n)
}
