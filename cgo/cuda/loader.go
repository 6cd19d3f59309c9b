//go:build cgo && linux

package cuda

// #cgo LDFLAGS: -ldl
// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"
)

// candidates are the sonames tried for each library, newest first; the
// unversioned name (a development symlink) last.
const numLibs = int(C.RC_NLIBS)

var candidates = [numLibs][]string{
	C.RC_CUDART:   {"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"},
	C.RC_CUBLAS:   {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"},
	C.RC_CUSOLVER: {"libcusolver.so.12", "libcusolver.so.11", "libcusolver.so"},
	C.RC_NVRTC:    {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"},
	C.RC_CUDA:     {"libcuda.so.1", "libcuda.so"},
}

// alternates are other exported names with the same prototype, tried when the
// first is missing (CUDA 12.8 added cudaEventElapsedTime_v2 and later
// releases may drop the old name).
var alternates = map[string][]string{
	"cudaEventElapsedTime": {"cudaEventElapsedTime_v2"},
}

var (
	loadOnce sync.Once
	loadErr  error
	loaded   []string
)

// Load opens the CUDA runtime, cuBLAS, cuSOLVER, NVRTC and the driver library
// and resolves every entry point this package uses. It runs once; later calls
// return the first result. The error lists every library that could not be
// opened (with dlerror's text) and every missing symbol.
func Load() error {
	loadOnce.Do(func() {
		t := (*C.struct_rc_api)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_rc_api{}))))
		defer C.free(unsafe.Pointer(t))
		loaded, loadErr = resolve("", t)
		if loadErr == nil {
			C.rc_install(t)
		}
	})
	return loadErr
}

// Libraries lists the files Load opened.
func Libraries() []string { return append([]string(nil), loaded...) }

// resolve opens the libraries (from dir when it is not empty, else through the
// dynamic loader's search path) and fills t. It returns the files opened.
func resolve(dir string, t *C.struct_rc_api) ([]string, error) {
	var problems []string
	var handles [numLibs]unsafe.Pointer
	var paths [numLibs]string
	for lib, sonames := range candidates {
		var firstErr error
		for _, so := range sonames {
			path := so
			if dir != "" {
				path = filepath.Join(dir, so)
			}
			h, err := dlopen(path)
			if err == nil {
				handles[lib], paths[lib] = h, path
				break
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if handles[lib] == nil {
			problems = append(problems, fmt.Sprintf("cannot load %s: %v (also tried %s)",
				sonames[0], firstErr, strings.Join(sonames[1:], ", ")))
		}
	}
	var missing [numLibs][]string
	for i := 0; i < int(C.rc_nsyms()); i++ {
		lib := int(C.rc_sym_lib(C.int(i)))
		if handles[lib] == nil {
			continue // the library is already reported
		}
		name := C.GoString(C.rc_sym_name(C.int(i)))
		var p unsafe.Pointer
		for _, n := range append([]string{name}, alternates[name]...) {
			if q, err := dlsym(handles[lib], n); err == nil {
				p = q
				break
			}
		}
		if p == nil {
			missing[lib] = append(missing[lib], name)
			continue
		}
		C.rc_sym_set(t, C.int(i), p)
	}
	var opened []string
	for lib := range paths {
		if paths[lib] != "" {
			opened = append(opened, paths[lib])
		}
		if len(missing[lib]) > 0 {
			problems = append(problems, fmt.Sprintf("%s lacks %s (too old a version?)", paths[lib], strings.Join(missing[lib], ", ")))
		}
	}
	if len(problems) > 0 {
		return opened, errors.New(strings.Join(problems, "; "))
	}
	return opened, nil
}

func dlopen(path string) (unsafe.Pointer, error) {
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	var msg *C.char
	h := C.rc_dlopen(cs, &msg)
	if h == nil {
		return nil, errors.New(C.GoString(msg))
	}
	return h, nil
}

func dlsym(h unsafe.Pointer, name string) (unsafe.Pointer, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var msg *C.char
	p := C.rc_dlsym(h, cs, &msg)
	if p == nil {
		if msg == nil {
			return nil, fmt.Errorf("%s resolves to NULL", name)
		}
		return nil, errors.New(C.GoString(msg))
	}
	return p, nil
}

// checkLoaded guards every call: calling through an empty table would crash.
func checkLoaded() error {
	if err := Load(); err != nil {
		return fmt.Errorf("CUDA libraries not loaded: %w", err)
	}
	return nil
}

// useLibrariesFrom loads the libraries from dir instead of the loader's search
// path and installs them, as if Load had succeeded; restore puts back the
// previous table and state. It exists for tests with stand-in libraries.
func useLibrariesFrom(dir string) (restore func(), err error) {
	Load() // settle the real attempt first, so that restore returns to it
	t := (*C.struct_rc_api)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_rc_api{}))))
	defer C.free(unsafe.Pointer(t))
	if _, err := resolve(dir, t); err != nil {
		return nil, err
	}
	saved, savedErr, savedLoaded := C.rc, loadErr, loaded
	C.rc_install(t)
	loadErr, loaded = nil, []string{dir}
	return func() {
		C.rc_install(&saved)
		loadErr, loaded = savedErr, savedLoaded
	}, nil
}

// resolvedFrom resolves the libraries in dir and reports which symbols were
// found, without installing anything (for tests).
func resolvedFrom(dir string) (found map[string]bool, err error) {
	t := (*C.struct_rc_api)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_rc_api{}))))
	defer C.free(unsafe.Pointer(t))
	_, err = resolve(dir, t)
	found = map[string]bool{}
	for i := 0; i < int(C.rc_nsyms()); i++ {
		found[C.GoString(C.rc_sym_name(C.int(i)))] = C.rc_sym_get(t, C.int(i)) != nil
	}
	return found, err
}
