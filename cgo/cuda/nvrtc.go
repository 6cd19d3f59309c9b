//go:build cgo && linux

package cuda

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

func nvrtcErr(call string, st C.rc_status) error {
	if st == 0 {
		return nil
	}
	s := C.GoString(C.rc_nvrtcGetErrorString(st))
	return &Error{Call: call, Lib: LibNVRTC, Code: int(st), Name: s}
}

func driverErr(call string, st C.rc_status) error {
	if st == 0 {
		return nil
	}
	var name *C.char
	n := fmt.Sprintf("CUresult_%d", int(st))
	if C.rc_cuGetErrorName(st, &name) == 0 && name != nil {
		n = C.GoString(name)
	}
	return &Error{Call: call, Lib: LibDriver, Code: int(st), Name: n}
}

// NVRTCVersion is nvrtcVersion.
func NVRTCVersion() (major, minor int, err error) {
	if err := checkLoaded(); err != nil {
		return 0, 0, err
	}
	var a, b C.int
	err = nvrtcErr("nvrtcVersion", C.rc_nvrtcVersion(&a, &b))
	return int(a), int(b), err
}

// CompileCUBIN compiles CUDA C source with NVRTC into a CUBIN for the GPU
// architecture arch (e.g. "sm_90"). On a compile error the error includes
// NVRTC's log.
func CompileCUBIN(src, name, arch string, options ...string) ([]byte, error) {
	if err := checkLoaded(); err != nil {
		return nil, err
	}
	csrc, cname := C.CString(src), C.CString(name)
	defer C.free(unsafe.Pointer(csrc))
	defer C.free(unsafe.Pointer(cname))
	var prog unsafe.Pointer
	if err := nvrtcErr("nvrtcCreateProgram", C.rc_nvrtcCreateProgram(&prog, csrc, cname, 0, nil, nil)); err != nil {
		return nil, err
	}
	defer C.rc_nvrtcDestroyProgram(&prog)

	opts := append([]string{"--gpu-architecture=" + arch}, options...)
	copts := make([]*C.char, len(opts)) // Go memory holding C pointers only
	for i, o := range opts {
		copts[i] = C.CString(o)
		defer C.free(unsafe.Pointer(copts[i]))
	}
	if err := nvrtcErr("nvrtcCompileProgram", C.rc_nvrtcCompileProgram(prog, C.int(len(copts)), &copts[0])); err != nil {
		return nil, fmt.Errorf("%w (options %s)\n%s", err, strings.Join(opts, " "), programLog(prog))
	}
	var size C.size_t
	if err := nvrtcErr("nvrtcGetCUBINSize", C.rc_nvrtcGetCUBINSize(prog, &size)); err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, fmt.Errorf("NVRTC produced an empty CUBIN for %s", arch)
	}
	buf := C.malloc(size)
	defer C.free(buf)
	if err := nvrtcErr("nvrtcGetCUBIN", C.rc_nvrtcGetCUBIN(prog, (*C.char)(buf))); err != nil {
		return nil, err
	}
	return C.GoBytes(buf, C.int(size)), nil
}

func programLog(prog unsafe.Pointer) string {
	var size C.size_t
	if C.rc_nvrtcGetProgramLogSize(prog, &size) != 0 || size <= 1 {
		return ""
	}
	buf := C.malloc(size)
	defer C.free(buf)
	if C.rc_nvrtcGetProgramLog(prog, (*C.char)(buf)) != 0 {
		return ""
	}
	return C.GoString((*C.char)(buf))
}

// Module is a CUmodule loaded into the selected device's primary context.
type Module struct{ p unsafe.Pointer }

// Function is a CUfunction: one kernel of a Module.
type Function struct{ p unsafe.Pointer }

// LoadModule is cuModuleLoadData on a CUBIN (or NUL-terminated PTX) image.
func LoadModule(image []byte) (Module, error) {
	if len(image) == 0 {
		return Module{}, fmt.Errorf("cuModuleLoadData: empty image")
	}
	buf := C.CBytes(image)
	defer C.free(buf)
	var m unsafe.Pointer
	err := driverErr("cuModuleLoadData", C.rc_cuModuleLoadData(&m, buf))
	return Module{m}, err
}

// Unload is cuModuleUnload; the zero Module is left alone.
func (m Module) Unload() error {
	if m.p == nil {
		return nil
	}
	return driverErr("cuModuleUnload", C.rc_cuModuleUnload(m.p))
}

// Function is cuModuleGetFunction.
func (m Module) Function(name string) (Function, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var f unsafe.Pointer
	if err := driverErr("cuModuleGetFunction", C.rc_cuModuleGetFunction(&f, m.p, cs)); err != nil {
		return Function{}, fmt.Errorf("kernel %s: %w", name, err)
	}
	return Function{f}, nil
}

// Launch is cuLaunchKernel on stream s with no dynamic shared memory. Each
// argument must be 8 bytes wide on the kernel side: a DevicePtr (any pointer
// parameter), an int64 (long long) or a float64 (double).
func (f Function) Launch(grid, block [3]uint32, s Stream, args ...any) error {
	slots := make([]uint64, len(args)+1) // +1: never pass a pointer to an empty slice
	for i, a := range args {
		switch v := a.(type) {
		case DevicePtr:
			slots[i] = uint64(uintptr(v.p))
		case int64:
			slots[i] = uint64(v)
		case float64:
			slots[i] = *(*uint64)(unsafe.Pointer(&v))
		default:
			panic(fmt.Sprintf("cuda: kernel argument %d has type %T; want DevicePtr, int64 or float64", i, a))
		}
	}
	return driverErr("cuLaunchKernel", C.rc_launch(f.p, C.uint(grid[0]), C.uint(grid[1]), C.uint(grid[2]),
		C.uint(block[0]), C.uint(block[1]), C.uint(block[2]), s.p, (*C.uint64_t)(unsafe.Pointer(&slots[0])), C.int(len(args))))
}
