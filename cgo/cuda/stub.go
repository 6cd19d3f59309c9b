//go:build !(cgo && linux)

package cuda

import "errors"

// Load reports that this build cannot use CUDA.
func Load() error {
	return errors.New("CUDA support needs cgo on Linux; this binary was built without it")
}

// Libraries lists nothing: no library was loaded.
func Libraries() []string { return nil }
