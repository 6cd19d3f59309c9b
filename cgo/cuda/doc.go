// Package cuda is a thin cgo binding to the CUDA runtime, cuBLAS, cuSOLVER,
// NVRTC and the CUDA driver API, loaded at run time with dlopen: building
// needs no CUDA headers or libraries, only a C compiler and libdl.
//
// Load opens libcudart.so.13 (then .12, .11, unversioned), libcublas.so.13,
// libcusolver.so.12, libnvrtc.so.13 and libcuda.so.1 and resolves every entry
// point it uses into a table of function pointers; it fails, with the
// dlerror text for each missing library or symbol, rather than crashing later.
// A library the dynamic loader's search path does not find is looked for in
// $CUDA_HOME, $CUDA_PATH, /usr/local/cuda and /usr/local/nvidia, after the
// libraries it needs from the same folder (cuBLASLt, cuSPARSE, nvJitLink,
// NVRTC's builtins).
// Every wrapper turns a non-success status into an *Error naming the C call,
// the status's name and its code.
//
// Conventions: cuBLAS and cuSOLVER are column-major (element (i, j) of a
// matrix with leading dimension ld is at i + j·ld); callers holding row-major
// data pass its transpose. Device memory is a DevicePtr; host memory passed to
// an asynchronous copy must stay valid (and, when it is Go memory, pinned with
// runtime.Pinner) until the stream is synchronized.
//
// The device selected by SetDevice is used by every goroutine: CUDA keeps the
// current device and context per OS thread, so each call first rebinds its
// thread when needed.
//
// Without cgo, or off Linux, the package only reports that it is unavailable.
package cuda
