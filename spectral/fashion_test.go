package spectral_test

import (
	"fmt"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/spectral"
)

// The Fashion-MNIST training Gram (60,000 × 784 pixels, 10 one-hot
// classes, centred and not): a real image spectrum, with dead border
// pixels (exact zero eigenvalues) and eleven decades of decay.
func TestProjectFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("60,000×784 pass skipped in -short mode")
	}
	src, err := data.FashionMNIST("", "train")
	if err != nil {
		t.Skip(err)
	}
	eng, err := engine.New(engine.Options{Backend: "gonum"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := eng.Moments(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, center := range []bool{false, true} {
		st, err := m.Finalize(center)
		if err != nil {
			t.Fatal(err)
		}
		wantW, wantP := reference(backend.Clone(st.Gx), st.M)
		for bname, newBackend := range testBackends {
			be := newBackend()
			for _, route := range routesUnderTest() {
				t.Run(fmt.Sprintf("center=%v/%s/%s", center, bname, route), func(t *testing.T) {
					res, err := spectral.Project(be, backend.Clone(st.Gx), st.M, spectral.Options{Route: route})
					if err != nil {
						t.Fatal(err)
					}
					checkAgainst(t, res, wantW, wantP, st.M)
				})
			}
		}
	}
}
