//go:build cgo && linux

package cuda

// #cgo LDFLAGS: -ldl
// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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

// dependencies are the libraries a candidate needs that this package does not
// open itself. Before a candidate is opened from a fallback folder (which the
// dynamic loader does not search), those of them found in the same folder and
// not loaded yet are opened first, so that the loader finds them loaded by
// their sonames. Patterns (NVRTC's builtins, named for its full version) are
// globbed; the builtins are opened by NVRTC only when it compiles.
var dependencies = map[string][]string{
	"libcublas.so.13":   {"libcublasLt.so.13"},
	"libcublas.so.12":   {"libcublasLt.so.12"},
	"libcublas.so.11":   {"libcublasLt.so.11"},
	"libcusolver.so.12": {"libcublasLt.so.13", "libcublas.so.13", "libnvJitLink.so.13", "libcublasLt.so.12", "libcublas.so.12", "libnvJitLink.so.12", "libcusparse.so.12"},
	"libcusolver.so.11": {"libcublasLt.so.11", "libcublas.so.11", "libcusparse.so.11"},
	"libnvrtc.so.13":    {"libnvrtc-builtins.so.13.*"},
	"libnvrtc.so.12":    {"libnvrtc-builtins.so.12.*"},
}

// fallbackDirs are the folders, in order, where a library the dynamic loader's
// search path does not find is looked for: $CUDA_HOME and $CUDA_PATH, CUDA's
// default install folder and the driver folder of NVIDIA's container images.
// A process started without LD_LIBRARY_PATH (or ldconfig entries) for them
// still finds the libraries there. Only existing folders are listed.
func fallbackDirs() []string {
	target := map[string]string{"amd64": "x86_64-linux", "arm64": "sbsa-linux"}[runtime.GOARCH]
	var roots []string
	for _, env := range []string{"CUDA_HOME", "CUDA_PATH"} {
		if r := os.Getenv(env); r != "" {
			roots = append(roots, r)
		}
	}
	var dirs []string
	for _, r := range append(roots, "/usr/local/cuda") {
		if target != "" {
			dirs = append(dirs, filepath.Join(r, "targets", target, "lib"))
		}
		dirs = append(dirs, filepath.Join(r, "lib64"))
	}
	dirs = append(dirs, "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib")
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && st.IsDir() && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
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
		loaded, loadErr = resolve(append([]string{""}, fallbackDirs()...), t)
		if loadErr == nil {
			C.rc_install(t)
		}
	})
	return loadErr
}

// Libraries lists the files Load opened: a soname when the dynamic loader's
// search path found it, a path when a fallback folder did.
func Libraries() []string { return append([]string(nil), loaded...) }

// resolve opens the libraries and fills t. Each library is looked for in
// dirs in order, every candidate soname in a folder before the next folder;
// "" is the dynamic loader's search path. It returns the files opened.
func resolve(dirs []string, t *C.struct_rc_api) ([]string, error) {
	var problems []string
	var handles [numLibs]unsafe.Pointer
	var paths [numLibs]string
	for lib, sonames := range candidates {
		var reason error // the first failure, or a later one from a file that exists
	search:
		for _, dir := range dirs {
			for _, so := range sonames {
				path := so
				if dir != "" {
					path = filepath.Join(dir, so)
					if _, err := os.Stat(path); err != nil {
						continue
					}
					preload(dir, dependencies[so])
				}
				h, err := dlopen(path)
				if err == nil {
					handles[lib], paths[lib] = h, path
					break search
				}
				if reason == nil || (dir != "" && strings.Contains(reason.Error(), "cannot open shared object file")) {
					reason = err // a file that exists but does not load says more
				}
			}
		}
		if handles[lib] == nil {
			where := ""
			if len(dirs) > 1 || dirs[0] != "" {
				where = fmt.Sprintf("; looked in %s", strings.Join(searchNames(dirs), ", "))
			}
			problems = append(problems, fmt.Sprintf("cannot load %s: %v (also tried %s%s)",
				sonames[0], reason, strings.Join(sonames[1:], ", "), where))
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

func searchNames(dirs []string) []string {
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = d
		if d == "" {
			names[i] = "the loader's search path"
		}
	}
	return names
}

// preload opens the dependencies found in dir (patterns globbed) that are not
// loaded yet. Failures are left to the library that needs them to report.
func preload(dir string, deps []string) {
	for _, dep := range deps {
		files, _ := filepath.Glob(filepath.Join(dir, dep))
		for _, f := range files {
			if !isLoaded(filepath.Base(f)) {
				dlopen(f) // kept open: the library opened next refers to it
			}
		}
	}
}

func dlopen(path string) (unsafe.Pointer, error) {
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	var msg *C.char
	h := C.rc_dlopen(cs, 0, &msg)
	if h == nil {
		return nil, errors.New(C.GoString(msg))
	}
	return h, nil
}

// isLoaded reports whether a library of that soname is in the process already.
func isLoaded(soname string) bool {
	cs := C.CString(soname)
	defer C.free(unsafe.Pointer(cs))
	var msg *C.char
	return C.rc_dlopen(cs, 1, &msg) != nil
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
	if _, err := resolve([]string{dir}, t); err != nil {
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

// resolvedFrom resolves the libraries in dirs ("" the loader's search path)
// and reports which symbols were found and the files opened, without
// installing anything (for tests).
func resolvedFrom(dirs ...string) (found map[string]bool, opened []string, err error) {
	t := (*C.struct_rc_api)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_rc_api{}))))
	defer C.free(unsafe.Pointer(t))
	opened, err = resolve(dirs, t)
	found = map[string]bool{}
	for i := 0; i < int(C.rc_nsyms()); i++ {
		found[C.GoString(C.rc_sym_name(C.int(i)))] = C.rc_sym_get(t, C.int(i)) != nil
	}
	return found, opened, err
}
