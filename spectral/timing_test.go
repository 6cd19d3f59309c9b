package spectral

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
)

// TestTimeStages prints per-stage times of Project at the sizes in
// SPECTRAL_TIME ("n:c,n:c"), interleaved with the full route; it is a
// measuring aid, skipped unless the variable is set. SPECTRAL_REPS,
// SPECTRAL_ROUTES, SPECTRAL_B and SPECTRAL_BLOCKS (the trailing update's
// block counts to compare) vary the rest.
func TestTimeStages(t *testing.T) {
	spec := os.Getenv("SPECTRAL_TIME")
	if spec == "" {
		t.Skip("set SPECTRAL_TIME=n:c[,n:c…] to time the stages")
	}
	reps, _ := strconv.Atoi(os.Getenv("SPECTRAL_REPS"))
	reps = max(reps, 1)
	routes := strings.Split(os.Getenv("SPECTRAL_ROUTES"), ",")
	if routes[0] == "" {
		routes = []string{RouteTwoStageQL, RouteFull}
	}
	bw, _ := strconv.Atoi(os.Getenv("SPECTRAL_B"))
	blockCounts := []int{bandBlocks}
	if v := os.Getenv("SPECTRAL_BLOCKS"); v != "" {
		blockCounts = nil
		for _, f := range strings.Split(v, ",") {
			k, _ := strconv.Atoi(f)
			blockCounts = append(blockCounts, k)
		}
	}
	defer func(k int) { bandBlocks = k }(bandBlocks)
	for _, nc := range strings.Split(spec, ",") {
		var n, c int
		fmt.Sscanf(nc, "%d:%d", &n, &c)
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		a0 := backend.NewGeneral(n, n)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				v := rng.NormFloat64()
				a0.Data[i*n+j], a0.Data[j*n+i] = v, v
			}
		}
		m := backend.NewGeneral(c, n)
		for i := range m.Data {
			m.Data[i] = rng.NormFloat64()
		}
		for rep := 0; rep < reps; rep++ {
			for _, route := range routes {
				for _, blocks := range blockCounts {
					bandBlocks = blocks
					for gname, g := range timingGemmers() {
						a := backend.Clone(a0)
						cpu0 := processCPU()
						start := time.Now()
						res, err := Project(g, a, m, Options{Route: route, Bandwidth: bw})
						if err != nil {
							t.Fatal(err)
						}
						total := time.Since(start).Seconds()
						cpuUsed := processCPU() - cpu0
						var parts []string
						for _, s := range res.Stages {
							parts = append(parts, fmt.Sprintf("%s %.3f/%.3f", s.Name, s.Seconds, s.CPUSeconds))
						}
						t.Logf("n=%d c=%d b=%d blocks=%d %s %s: %.3f s wall, %.3f s cpu [%s]", n, c, bw, blocks, gname, route, total, cpuUsed, strings.Join(parts, "; "))
					}
				}
			}
		}
	}
}

// timingGemmers are the primitives timed: the pure-Go backend's (with its
// symmetric products) and, in an openblas build, the openblas backend.
var timingGemmers = func() map[string]Gemmer {
	return map[string]Gemmer{"gonum": symCPUGemmer{newCPUGemmer(0)}}
}

var _ = blas64.General{}
