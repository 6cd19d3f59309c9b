//go:build cgo && linux

package hw

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/dl"
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// nvmlLibrary is the soname NVML is loaded from (the driver installs it).
const nvmlLibrary = "libnvidia-ml.so.1"

// ErrNoDriver is wrapped by GPUs' error when NVML cannot be loaded or started.
var ErrNoDriver = errors.New("no NVIDIA driver")

// GPUs lists the NVIDIA GPUs through NVML. Without the driver it returns an
// error matching ErrNoDriver that says why (the dynamic loader's message); it
// never panics.
func GPUs() ([]GPUInfo, error) {
	// nvml.Init only says ERROR_LIBRARY_NOT_FOUND; opening the library first
	// keeps dlerror's reason for the message.
	probe := dl.New(nvmlLibrary, dl.RTLD_LAZY|dl.RTLD_LOCAL)
	if err := probe.Open(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDriver, err)
	}
	probe.Close()
	if ret := nvml.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("%w: nvmlInit: %v", ErrNoDriver, ret)
	}
	defer nvml.Shutdown()

	driver, ret := nvml.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvmlSystemGetDriverVersion: %v", ret)
	}
	cudaVersion, ret := nvml.SystemGetCudaDriverVersion()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvmlSystemGetCudaDriverVersion: %v", ret)
	}
	n, ret := nvml.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvmlDeviceGetCount: %v", ret)
	}
	gpus := make([]GPUInfo, 0, n)
	for i := 0; i < n; i++ {
		dev, ret := nvml.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("nvmlDeviceGetHandleByIndex(%d): %v", i, ret)
		}
		g := GPUInfo{Index: i, DriverVersion: driver, CUDADriverVersion: CUDAVersion(cudaVersion)}
		if g.Name, ret = dev.GetName(); ret != nvml.SUCCESS {
			return nil, fmt.Errorf("GPU %d: nvmlDeviceGetName: %v", i, ret)
		}
		if uuid, ret := dev.GetUUID(); ret == nvml.SUCCESS {
			g.UUID = uuid
		}
		mem, ret := dev.GetMemoryInfo()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("GPU %d: nvmlDeviceGetMemoryInfo: %v", i, ret)
		}
		g.MemoryTotal, g.MemoryFree = mem.Total, mem.Free
		major, minor, ret := dev.GetCudaComputeCapability()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("GPU %d: nvmlDeviceGetCudaComputeCapability: %v", i, ret)
		}
		g.ComputeCapability = fmt.Sprintf("%d.%d", major, minor)
		gpus = append(gpus, g)
	}
	return gpus, nil
}
