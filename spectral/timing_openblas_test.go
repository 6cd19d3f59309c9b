//go:build openblas && cgo

package spectral

import (
	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/backend/openblas"
)

func init() {
	base := timingGemmers
	timingGemmers = func() map[string]Gemmer {
		m := base()
		be, err := openblas.New(backend.Options{})
		if err != nil {
			panic(err)
		}
		m["openblas"] = be
		return m
	}
}
