//go:build openblas && cgo

package openblas

/*
#cgo pkg-config: openblas lapacke
int openblas_get_num_threads(void);
int openblas_get_num_procs(void);
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);
char *openblas_get_corename(void);
int blas_thread_shutdown_(void);
*/
import "C"

import "fmt"

// SetNumThreads sets the number of threads OpenBLAS uses for every later
// call, process-wide. OpenBLAS caps it at the maximum it was built for.
func SetNumThreads(n int) {
	if n < 1 {
		panic(fmt.Sprintf("openblas: SetNumThreads(%d): need at least one thread", n))
	}
	C.openblas_set_num_threads(C.int(n))
}

// NumThreads reports the number of threads OpenBLAS currently uses.
func NumThreads() int { return int(C.openblas_get_num_threads()) }

// NumProcs reports the number of processors OpenBLAS detected.
func NumProcs() int { return int(C.openblas_get_num_procs()) }

// Config returns OpenBLAS's build description, e.g.
// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
func Config() string { return C.GoString(C.openblas_get_config()) }

// CoreName returns the name of the kernel set OpenBLAS chose for this CPU at
// load time, e.g. "SkylakeX", or "Prescott" when it did not recognise the
// CPU and fell back to its generic SSE3 kernels.
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

// StopThreads ends OpenBLAS's worker threads; its next threaded call starts
// them again (OpenBLAS's own fork handling does the same). Why: after each
// call the workers spin, a core each, for about 2²⁸ cycles before they
// sleep, and Go code that runs meanwhile gets that much less of the
// machine. No OpenBLAS call may be running when it is called.
func StopThreads() { C.blas_thread_shutdown_() }
