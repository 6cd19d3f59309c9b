//go:build cgo && linux

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

// Open opens the GPU with the given CUDA ordinal (0 is the first visible
// device; CUDA_VISIBLE_DEVICES applies). Where the GPU cannot be used the error
// matches backend.ErrUnavailable and carries the reason: the CUDA libraries
// that could not be loaded, the runtime's error, or the kernels' compile log.
func Open(ordinal int) (*Backend, error) {
	dev, err := openGPU(ordinal)
	if err != nil {
		return nil, backend.Unavailable(Name, "%v", err)
	}
	return newBackend(dev), nil
}
