//go:build !(cgo && linux)

package cuda

import "github.com/reconalign/reconalign/backend"

func init() {
	backend.RegisterOn(backend.GPU, Name, Priority, func(backend.Options) (backend.Backend, error) {
		b, err := Open(0)
		if err != nil {
			return nil, err // not a nil *Backend in a non-nil interface
		}
		return b, nil
	})
}

// Open reports that this build has no GPU support: the CUDA libraries are
// loaded through cgo, on Linux.
func Open(ordinal int) (*Backend, error) {
	return nil, backend.Unavailable(Name, "this binary was built without cgo (or not for Linux); the GPU backend needs both")
}
