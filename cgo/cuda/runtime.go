//go:build cgo && linux

package cuda

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// DevicePtr is an address in device memory. The zero value is NULL.
type DevicePtr struct{ p unsafe.Pointer }

// Add offsets the address by bytes.
func (d DevicePtr) Add(bytes int64) DevicePtr { return DevicePtr{unsafe.Add(d.p, bytes)} }

// Stream is a cudaStream_t.
type Stream struct{ p unsafe.Pointer }

// Event is a cudaEvent_t.
type Event struct{ p unsafe.Pointer }

func runtimeErr(call string, st C.rc_status) error {
	if st == 0 {
		return nil
	}
	return &Error{Call: call, Lib: LibRuntime, Code: int(st),
		Name: C.GoString(C.rc_cudaGetErrorName(st)), Detail: C.GoString(C.rc_cudaGetErrorString(st))}
}

// DeviceCount is cudaGetDeviceCount. Without a driver or a device it returns
// the runtime's error (cudaErrorInsufficientDriver, cudaErrorNoDevice).
func DeviceCount() (int, error) {
	if err := checkLoaded(); err != nil {
		return 0, err
	}
	var n C.int
	if err := runtimeErr("cudaGetDeviceCount", C.rc_cudaGetDeviceCount(&n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// SetDevice selects the device for every later call from any goroutine and
// retains its primary context for the driver API (cuModuleLoadData,
// cuLaunchKernel): both the runtime's current device and the driver's current
// context are per OS thread, so each thread is rebound on its next call.
func SetDevice(dev int) error {
	if err := checkLoaded(); err != nil {
		return err
	}
	if err := runtimeErr("cudaSetDevice", C.rc_cudaSetDevice(C.int(dev))); err != nil {
		return err
	}
	if err := driverErr("cuInit", C.rc_cuInit(0)); err != nil {
		return err
	}
	var cudev C.int
	if err := driverErr("cuDeviceGet", C.rc_cuDeviceGet(&cudev, C.int(dev))); err != nil {
		return err
	}
	var ctx unsafe.Pointer
	if err := driverErr("cuDevicePrimaryCtxRetain", C.rc_cuDevicePrimaryCtxRetain(&ctx, cudev)); err != nil {
		return err
	}
	C.rc_select(C.int(dev), ctx)
	return nil
}

// ReleaseDevice drops the primary-context reference SetDevice took.
func ReleaseDevice(dev int) error {
	var cudev C.int
	if err := driverErr("cuDeviceGet", C.rc_cuDeviceGet(&cudev, C.int(dev))); err != nil {
		return err
	}
	return driverErr("cuDevicePrimaryCtxRelease_v2", C.rc_cuDevicePrimaryCtxRelease_v2(cudev))
}

// DeviceName is cuDeviceGetName.
func DeviceName(dev int) (string, error) {
	var cudev C.int
	if err := driverErr("cuDeviceGet", C.rc_cuDeviceGet(&cudev, C.int(dev))); err != nil {
		return "", err
	}
	buf := (*C.char)(C.calloc(256, 1))
	defer C.free(unsafe.Pointer(buf))
	if err := driverErr("cuDeviceGetName", C.rc_cuDeviceGetName(buf, 255, cudev)); err != nil {
		return "", err
	}
	return C.GoString(buf), nil
}

// DeviceAttribute is cudaDeviceGetAttribute.
func DeviceAttribute(attr DeviceAttr, dev int) (int, error) {
	var v C.int
	if err := runtimeErr("cudaDeviceGetAttribute", C.rc_cudaDeviceGetAttribute(&v, C.int(attr), C.int(dev))); err != nil {
		return 0, err
	}
	return int(v), nil
}

// MemGetInfo is cudaMemGetInfo on the selected device.
func MemGetInfo() (free, total int64, err error) {
	var f, t C.size_t
	if err := runtimeErr("cudaMemGetInfo", C.rc_cudaMemGetInfo(&f, &t)); err != nil {
		return 0, 0, err
	}
	return int64(f), int64(t), nil
}

// RuntimeVersion is cudaRuntimeGetVersion (1000·major + 10·minor).
func RuntimeVersion() (int, error) {
	var v C.int
	err := runtimeErr("cudaRuntimeGetVersion", C.rc_cudaRuntimeGetVersion(&v))
	return int(v), err
}

// DriverVersion is cudaDriverGetVersion: the newest CUDA version the
// installed driver supports (1000·major + 10·minor).
func DriverVersion() (int, error) {
	var v C.int
	err := runtimeErr("cudaDriverGetVersion", C.rc_cudaDriverGetVersion(&v))
	return int(v), err
}

// Synchronize is cudaDeviceSynchronize.
func Synchronize() error {
	return runtimeErr("cudaDeviceSynchronize", C.rc_cudaDeviceSynchronize())
}

// Malloc is cudaMalloc.
func Malloc(bytes int64) (DevicePtr, error) {
	if bytes <= 0 {
		return DevicePtr{}, fmt.Errorf("cudaMalloc of %d bytes", bytes)
	}
	var p unsafe.Pointer
	if err := runtimeErr("cudaMalloc", C.rc_cudaMalloc(&p, C.size_t(bytes))); err != nil {
		return DevicePtr{}, fmt.Errorf("%w (asked for %d bytes)", err, bytes)
	}
	return DevicePtr{p}, nil
}

// Free is cudaFree; freeing NULL is a no-op.
func Free(p DevicePtr) error {
	if p.p == nil {
		return nil
	}
	return runtimeErr("cudaFree", C.rc_cudaFree(p.p))
}

// MallocHost is cudaMallocHost: page-locked host memory, which copies to and
// from the device at full speed and asynchronously. The memory belongs to C:
// Go code may read and write it through unsafe.Slice.
func MallocHost(bytes int64) (unsafe.Pointer, error) {
	if bytes <= 0 {
		return nil, fmt.Errorf("cudaMallocHost of %d bytes", bytes)
	}
	var p unsafe.Pointer
	if err := runtimeErr("cudaMallocHost", C.rc_cudaMallocHost(&p, C.size_t(bytes))); err != nil {
		return nil, fmt.Errorf("%w (asked for %d bytes)", err, bytes)
	}
	return p, nil
}

// FreeHost is cudaFreeHost; freeing nil is a no-op.
func FreeHost(p unsafe.Pointer) error {
	if p == nil {
		return nil
	}
	return runtimeErr("cudaFreeHost", C.rc_cudaFreeHost(p))
}

// CopyToDevice enqueues a host→device copy of bytes from src on s. When src is
// Go memory the caller must keep it pinned (runtime.Pinner) and unchanged until
// s is synchronized.
func CopyToDevice(dst DevicePtr, src unsafe.Pointer, bytes int64, s Stream) error {
	return runtimeErr("cudaMemcpyAsync", C.rc_cudaMemcpyAsync(dst.p, src, C.size_t(bytes), C.int(HostToDevice), s.p))
}

// CopyToHost enqueues a device→host copy; the same rule on dst as CopyToDevice.
func CopyToHost(dst unsafe.Pointer, src DevicePtr, bytes int64, s Stream) error {
	return runtimeErr("cudaMemcpyAsync", C.rc_cudaMemcpyAsync(dst, src.p, C.size_t(bytes), C.int(DeviceToHost), s.p))
}

// Copy2DToDevice enqueues cudaMemcpy2DAsync host→device: height rows of width
// bytes, spitch bytes apart in src and dpitch bytes apart in dst.
func Copy2DToDevice(dst DevicePtr, dpitch int64, src unsafe.Pointer, spitch, width, height int64, s Stream) error {
	return runtimeErr("cudaMemcpy2DAsync", C.rc_cudaMemcpy2DAsync(dst.p, C.size_t(dpitch), src, C.size_t(spitch),
		C.size_t(width), C.size_t(height), C.int(HostToDevice), s.p))
}

// Copy2DToHost enqueues cudaMemcpy2DAsync device→host.
func Copy2DToHost(dst unsafe.Pointer, dpitch int64, src DevicePtr, spitch, width, height int64, s Stream) error {
	return runtimeErr("cudaMemcpy2DAsync", C.rc_cudaMemcpy2DAsync(dst, C.size_t(dpitch), src.p, C.size_t(spitch),
		C.size_t(width), C.size_t(height), C.int(DeviceToHost), s.p))
}

// Memset enqueues cudaMemsetAsync: bytes bytes of p set to v.
func Memset(p DevicePtr, v byte, bytes int64, s Stream) error {
	return runtimeErr("cudaMemsetAsync", C.rc_cudaMemsetAsync(p.p, C.int(v), C.size_t(bytes), s.p))
}

// NewStream is cudaStreamCreate.
func NewStream() (Stream, error) {
	var p unsafe.Pointer
	err := runtimeErr("cudaStreamCreate", C.rc_cudaStreamCreate(&p))
	return Stream{p}, err
}

// Synchronize waits for all work queued on s.
func (s Stream) Synchronize() error {
	return runtimeErr("cudaStreamSynchronize", C.rc_cudaStreamSynchronize(s.p))
}

// Wait makes later work on s wait for the last recording of e.
func (s Stream) Wait(e Event) error {
	return runtimeErr("cudaStreamWaitEvent", C.rc_cudaStreamWaitEvent(s.p, e.p, 0))
}

// Destroy is cudaStreamDestroy; the zero Stream is left alone.
func (s Stream) Destroy() error {
	if s.p == nil {
		return nil
	}
	return runtimeErr("cudaStreamDestroy", C.rc_cudaStreamDestroy(s.p))
}

// NewEvent is cudaEventCreateWithFlags: with timing for ElapsedTime, or
// without, which is cheaper for events that only order work.
func NewEvent(timing bool) (Event, error) {
	var p unsafe.Pointer
	flags := C.uint(0)
	if !timing {
		flags = eventDisableTiming
	}
	err := runtimeErr("cudaEventCreateWithFlags", C.rc_cudaEventCreateWithFlags(&p, flags))
	return Event{p}, err
}

// Record is cudaEventRecord on s.
func (e Event) Record(s Stream) error {
	return runtimeErr("cudaEventRecord", C.rc_cudaEventRecord(e.p, s.p))
}

// Synchronize waits on the host for the last recording of e (at once if e was
// never recorded).
func (e Event) Synchronize() error {
	return runtimeErr("cudaEventSynchronize", C.rc_cudaEventSynchronize(e.p))
}

// Since returns the milliseconds between the recordings of start and e.
func (e Event) Since(start Event) (float32, error) {
	var ms C.float
	err := runtimeErr("cudaEventElapsedTime", C.rc_cudaEventElapsedTime(&ms, start.p, e.p))
	return float32(ms), err
}

// Destroy is cudaEventDestroy; the zero Event is left alone.
func (e Event) Destroy() error {
	if e.p == nil {
		return nil
	}
	return runtimeErr("cudaEventDestroy", C.rc_cudaEventDestroy(e.p))
}
