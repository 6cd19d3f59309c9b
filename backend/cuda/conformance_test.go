package cuda

import (
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/backendtest"
)

// unclosable hides Close from backendtest.Run, which closes what it opens:
// the shared GPU backend outlives each run.
type unclosable struct{ backend.Backend }

// TestConformance runs the shared backend suite in every precision on the GPU
// when there is one, and on the CPU stand-in device in three of them (about
// 4 s each; FP32 and TF32 share BF16's code path and TestGramAddMatchesGonum
// covers them there).
func TestConformance(t *testing.T) {
	onFake := map[Precision]bool{FP64: true, BF16: true, ExactU8: true}
	for _, p := range Precisions {
		t.Run(string(p), func(t *testing.T) {
			t.Run("fake", func(t *testing.T) {
				if !onFake[p] {
					t.Skipf("%s runs on the stand-in in TestGramAddMatchesGonum only", p)
				}
				backendtest.Run(t, func() (backend.Backend, error) {
					b := newBackend(newFakeDevice(32 << 20))
					return b, b.SetPrecision(p)
				})
			})
			t.Run("gpu", func(t *testing.T) {
				g := sharedGPU(t)
				if err := g.SetPrecision(p); err != nil {
					t.Fatal(err)
				}
				defer g.SetPrecision(FP64)
				backendtest.Run(t, func() (backend.Backend, error) { return unclosable{g}, nil })
			})
		})
	}
}
