package scenario

import (
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/engine"
	"github.com/reconalign/reconalign/spectral"
)

// Routines the suite reaches through variables, so that its tests can put
// a wrong one in and see the check fail (families_test.go); nil skips the
// scenarios that need it, with the reason.

// eigenProjection is the eigen phase without eigenvectors (the eigen-phase
// issue): all eigenvalues of the symmetric a (D×D; only its upper triangle
// may be read, and a may be overwritten), descending, and P = M·U (C×D),
// column j the projections of m's rows on the unit eigenvector of the j-th
// eigenvalue (each column up to sign).
var eigenProjection func(be backend.Backend, a, m blas64.General) (values []float64, p blas64.General, err error) = spectralProjection

// spectralProjection is package spectral's Project with the engine's
// options (engine.SpectralOptions). Project already returns the values
// descending and P as C×D.
func spectralProjection(be backend.Backend, a, m blas64.General) ([]float64, blas64.General, error) {
	res, err := spectral.Project(be, a, m, engine.SpectralOptions(be))
	if err != nil {
		return nil, blas64.General{}, err
	}
	return res.Values, res.P, nil
}

// The Beam pipeline of the moments-file issue: reconalign-beam, built by
// `make beam` into bin/ next to reconalign (or found on PATH), run as
//
//	reconalign-beam --data GLOB --labels GLOB --out FILE.npz beamArgs...
//
// and `reconalign moments --data GLOB --labels GLOB --out FILE.npz` as the
// single-process side. Either missing: its scenarios are skipped.
const beamBinary = "reconalign-beam"

var beamArgs = []string{"--runner=prism"}
