//go:build !(cgo && linux)

package hw

import (
	"errors"
	"fmt"
)

// ErrNoDriver is wrapped by GPUs' error when NVML cannot be loaded or started.
var ErrNoDriver = errors.New("no NVIDIA driver")

// GPUs reports that this build cannot query NVIDIA GPUs (NVML needs cgo on Linux).
func GPUs() ([]GPUInfo, error) {
	return nil, fmt.Errorf("%w: this binary was built without cgo, which NVML needs", ErrNoDriver)
}
