//go:build !openblas || !cgo

package openblas

import "github.com/reconalign/reconalign/backend"

func init() {
	backend.Register(Name, Priority, New)
}

// New reports why this build has no OpenBLAS backend; the error matches
// backend.ErrUnavailable.
func New(backend.Options) (backend.Backend, error) {
	return nil, backend.Unavailable(Name, "%s", unavailableReason)
}

// CoreTypeAdvice has no advice to give in a build without OpenBLAS.
func CoreTypeAdvice() string { return "" }
