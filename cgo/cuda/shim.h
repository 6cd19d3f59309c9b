// A minimal, header-free view of the CUDA libraries, resolved at run time with
// dlopen/dlsym. No CUDA header is needed to build (there are none on the
// development machines or in CI).
//
// Types: every status enum (cudaError_t, cublasStatus_t, cusolverStatus_t,
// nvrtcResult, CUresult) and every argument enum is a C enum, i.e. an int, on
// all supported platforms; every handle (cudaStream_t = CUstream,
// cudaEvent_t, cublasHandle_t, cusolverDnHandle_t, cusolverDnParams_t,
// nvrtcProgram, CUcontext, CUmodule, CUfunction) is a pointer to an opaque
// struct; CUdevice is an int. The prototypes below are transcribed from the
// CUDA 12.6 headers (cuda_runtime_api.h, cublas_api.h, cusolverDn.h, nvrtc.h,
// cuda.h) and checked against CUDA 13.0's cublas_api.h; symbol names are the
// exported ones, e.g. cublasCreate_v2 (cublas_v2.h #defines cublasCreate to
// it; the unsuffixed name is the legacy API with a different signature).

#ifndef RECONALIGN_CUDA_SHIM_H
#define RECONALIGN_CUDA_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef int rc_status;
// rc_ptr is a macro, not a typedef, so that cgo maps it to unsafe.Pointer.
#define rc_ptr void *

// Libraries, in the order they are opened.
enum { RC_CUDART, RC_CUBLAS, RC_CUSOLVER, RC_NVRTC, RC_CUDA, RC_NLIBS };

// X(library, return type, exported symbol, parameters, arguments)
#define RC_SYMBOLS(X)                                                                        \
    /* CUDA runtime (libcudart) */                                                           \
    X(RC_CUDART, rc_status, cudaGetDeviceCount, (int *n), (n))                                \
    X(RC_CUDART, rc_status, cudaSetDevice, (int dev), (dev))                                  \
    X(RC_CUDART, rc_status, cudaDeviceGetAttribute, (int *v, int attr, int dev), (v, attr, dev)) \
    X(RC_CUDART, rc_status, cudaMemGetInfo, (size_t *free, size_t *total), (free, total))     \
    X(RC_CUDART, rc_status, cudaRuntimeGetVersion, (int *v), (v))                             \
    X(RC_CUDART, rc_status, cudaDriverGetVersion, (int *v), (v))                              \
    X(RC_CUDART, rc_status, cudaDeviceSynchronize, (void), ())                                \
    X(RC_CUDART, rc_status, cudaMalloc, (rc_ptr *p, size_t n), (p, n))                        \
    X(RC_CUDART, rc_status, cudaFree, (rc_ptr p), (p))                                        \
    X(RC_CUDART, rc_status, cudaMallocHost, (rc_ptr *p, size_t n), (p, n))                    \
    X(RC_CUDART, rc_status, cudaFreeHost, (rc_ptr p), (p))                                    \
    X(RC_CUDART, rc_status, cudaMemcpyAsync,                                                  \
      (rc_ptr dst, const void *src, size_t n, int kind, rc_ptr stream), (dst, src, n, kind, stream)) \
    X(RC_CUDART, rc_status, cudaMemcpy2DAsync,                                                \
      (rc_ptr dst, size_t dpitch, const void *src, size_t spitch, size_t width, size_t height, \
       int kind, rc_ptr stream),                                                              \
      (dst, dpitch, src, spitch, width, height, kind, stream))                                \
    X(RC_CUDART, rc_status, cudaMemsetAsync, (rc_ptr p, int v, size_t n, rc_ptr stream), (p, v, n, stream)) \
    X(RC_CUDART, rc_status, cudaStreamCreate, (rc_ptr *s), (s))                               \
    X(RC_CUDART, rc_status, cudaStreamSynchronize, (rc_ptr s), (s))                           \
    X(RC_CUDART, rc_status, cudaStreamDestroy, (rc_ptr s), (s))                               \
    X(RC_CUDART, rc_status, cudaStreamWaitEvent, (rc_ptr s, rc_ptr e, unsigned flags), (s, e, flags)) \
    X(RC_CUDART, rc_status, cudaEventCreateWithFlags, (rc_ptr *e, unsigned flags), (e, flags)) \
    X(RC_CUDART, rc_status, cudaEventRecord, (rc_ptr e, rc_ptr s), (e, s))                    \
    X(RC_CUDART, rc_status, cudaEventSynchronize, (rc_ptr e), (e))                            \
    X(RC_CUDART, rc_status, cudaEventElapsedTime, (float *ms, rc_ptr start, rc_ptr end), (ms, start, end)) \
    X(RC_CUDART, rc_status, cudaEventDestroy, (rc_ptr e), (e))                                \
    X(RC_CUDART, const char *, cudaGetErrorName, (rc_status e), (e))                          \
    X(RC_CUDART, const char *, cudaGetErrorString, (rc_status e), (e))                        \
    /* cuBLAS (libcublas) */                                                                  \
    X(RC_CUBLAS, rc_status, cublasCreate_v2, (rc_ptr *h), (h))                                \
    X(RC_CUBLAS, rc_status, cublasDestroy_v2, (rc_ptr h), (h))                                \
    X(RC_CUBLAS, rc_status, cublasGetVersion_v2, (rc_ptr h, int *v), (h, v))                  \
    X(RC_CUBLAS, rc_status, cublasSetStream_v2, (rc_ptr h, rc_ptr s), (h, s))                 \
    X(RC_CUBLAS, rc_status, cublasSetMathMode, (rc_ptr h, int mode), (h, mode))               \
    X(RC_CUBLAS, rc_status, cublasDsyrk_v2,                                                   \
      (rc_ptr h, int uplo, int trans, int n, int k, const double *alpha, const double *a, int lda, \
       const double *beta, double *c, int ldc),                                               \
      (h, uplo, trans, n, k, alpha, a, lda, beta, c, ldc))                                    \
    X(RC_CUBLAS, rc_status, cublasDgemm_v2,                                                   \
      (rc_ptr h, int ta, int tb, int m, int n, int k, const double *alpha, const double *a, int lda, \
       const double *b, int ldb, const double *beta, double *c, int ldc),                     \
      (h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))                              \
    X(RC_CUBLAS, rc_status, cublasDtrsm_v2,                                                   \
      (rc_ptr h, int side, int uplo, int trans, int diag, int m, int n, const double *alpha,   \
       const double *a, int lda, double *b, int ldb),                                         \
      (h, side, uplo, trans, diag, m, n, alpha, a, lda, b, ldb))                              \
    X(RC_CUBLAS, rc_status, cublasGemmEx,                                                     \
      (rc_ptr h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int atype, \
       int lda, const void *b, int btype, int ldb, const void *beta, void *c, int ctype, int ldc, \
       int compute, int algo),                                                                \
      (h, ta, tb, m, n, k, alpha, a, atype, lda, b, btype, ldb, beta, c, ctype, ldc, compute, algo)) \
    /* cuSOLVER dense (libcusolver) */                                                        \
    X(RC_CUSOLVER, rc_status, cusolverGetVersion, (int *v), (v))                              \
    X(RC_CUSOLVER, rc_status, cusolverDnCreate, (rc_ptr *h), (h))                             \
    X(RC_CUSOLVER, rc_status, cusolverDnDestroy, (rc_ptr h), (h))                             \
    X(RC_CUSOLVER, rc_status, cusolverDnSetStream, (rc_ptr h, rc_ptr s), (h, s))              \
    X(RC_CUSOLVER, rc_status, cusolverDnCreateParams, (rc_ptr *p), (p))                       \
    X(RC_CUSOLVER, rc_status, cusolverDnDestroyParams, (rc_ptr p), (p))                       \
    X(RC_CUSOLVER, rc_status, cusolverDnXsyevd_bufferSize,                                    \
      (rc_ptr h, rc_ptr params, int jobz, int uplo, int64_t n, int dta, const void *a, int64_t lda, \
       int dtw, const void *w, int compute, size_t *dev, size_t *host),                       \
      (h, params, jobz, uplo, n, dta, a, lda, dtw, w, compute, dev, host))                    \
    X(RC_CUSOLVER, rc_status, cusolverDnXsyevd,                                               \
      (rc_ptr h, rc_ptr params, int jobz, int uplo, int64_t n, int dta, void *a, int64_t lda, int dtw, \
       void *w, int compute, void *dwork, size_t dbytes, void *hwork, size_t hbytes, int *info), \
      (h, params, jobz, uplo, n, dta, a, lda, dtw, w, compute, dwork, dbytes, hwork, hbytes, info)) \
    X(RC_CUSOLVER, rc_status, cusolverDnXsyevdx_bufferSize,                                   \
      (rc_ptr h, rc_ptr params, int jobz, int range, int uplo, int64_t n, int dta, const void *a, \
       int64_t lda, void *vl, void *vu, int64_t il, int64_t iu, int64_t *meig, int dtw, const void *w, \
       int compute, size_t *dev, size_t *host),                                               \
      (h, params, jobz, range, uplo, n, dta, a, lda, vl, vu, il, iu, meig, dtw, w, compute, dev, host)) \
    X(RC_CUSOLVER, rc_status, cusolverDnXsyevdx,                                              \
      (rc_ptr h, rc_ptr params, int jobz, int range, int uplo, int64_t n, int dta, void *a, int64_t lda, \
       void *vl, void *vu, int64_t il, int64_t iu, int64_t *meig, int dtw, void *w, int compute, \
       void *dwork, size_t dbytes, void *hwork, size_t hbytes, int *info),                    \
      (h, params, jobz, range, uplo, n, dta, a, lda, vl, vu, il, iu, meig, dtw, w, compute, dwork, \
       dbytes, hwork, hbytes, info))                                                          \
    X(RC_CUSOLVER, rc_status, cusolverDnDsygvd_bufferSize,                                    \
      (rc_ptr h, int itype, int jobz, int uplo, int n, const double *a, int lda, const double *b, \
       int ldb, const double *w, int *lwork),                                                 \
      (h, itype, jobz, uplo, n, a, lda, b, ldb, w, lwork))                                    \
    X(RC_CUSOLVER, rc_status, cusolverDnDsygvd,                                               \
      (rc_ptr h, int itype, int jobz, int uplo, int n, double *a, int lda, double *b, int ldb, \
       double *w, double *work, int lwork, int *info),                                        \
      (h, itype, jobz, uplo, n, a, lda, b, ldb, w, work, lwork, info))                        \
    X(RC_CUSOLVER, rc_status, cusolverDnDpotrf_bufferSize,                                    \
      (rc_ptr h, int uplo, int n, double *a, int lda, int *lwork), (h, uplo, n, a, lda, lwork)) \
    X(RC_CUSOLVER, rc_status, cusolverDnDpotrf,                                               \
      (rc_ptr h, int uplo, int n, double *a, int lda, double *work, int lwork, int *info),    \
      (h, uplo, n, a, lda, work, lwork, info))                                                \
    X(RC_CUSOLVER, rc_status, cusolverDnDgeqrf_bufferSize,                                    \
      (rc_ptr h, int m, int n, double *a, int lda, int *lwork), (h, m, n, a, lda, lwork))     \
    X(RC_CUSOLVER, rc_status, cusolverDnDgeqrf,                                               \
      (rc_ptr h, int m, int n, double *a, int lda, double *tau, double *work, int lwork, int *info), \
      (h, m, n, a, lda, tau, work, lwork, info))                                              \
    X(RC_CUSOLVER, rc_status, cusolverDnDorgqr_bufferSize,                                    \
      (rc_ptr h, int m, int n, int k, const double *a, int lda, const double *tau, int *lwork), \
      (h, m, n, k, a, lda, tau, lwork))                                                       \
    X(RC_CUSOLVER, rc_status, cusolverDnDorgqr,                                               \
      (rc_ptr h, int m, int n, int k, double *a, int lda, const double *tau, double *work, int lwork, \
       int *info),                                                                            \
      (h, m, n, k, a, lda, tau, work, lwork, info))                                           \
    /* NVRTC (libnvrtc) */                                                                    \
    X(RC_NVRTC, rc_status, nvrtcVersion, (int *major, int *minor), (major, minor))            \
    X(RC_NVRTC, const char *, nvrtcGetErrorString, (rc_status r), (r))                        \
    X(RC_NVRTC, rc_status, nvrtcCreateProgram,                                                \
      (rc_ptr *prog, const char *src, const char *name, int nheaders, const char *const *headers, \
       const char *const *includeNames),                                                      \
      (prog, src, name, nheaders, headers, includeNames))                                     \
    X(RC_NVRTC, rc_status, nvrtcDestroyProgram, (rc_ptr *prog), (prog))                       \
    X(RC_NVRTC, rc_status, nvrtcCompileProgram, (rc_ptr prog, int nopts, const char *const *opts), \
      (prog, nopts, opts))                                                                    \
    X(RC_NVRTC, rc_status, nvrtcGetProgramLogSize, (rc_ptr prog, size_t *n), (prog, n))       \
    X(RC_NVRTC, rc_status, nvrtcGetProgramLog, (rc_ptr prog, char *log), (prog, log))         \
    X(RC_NVRTC, rc_status, nvrtcGetCUBINSize, (rc_ptr prog, size_t *n), (prog, n))            \
    X(RC_NVRTC, rc_status, nvrtcGetCUBIN, (rc_ptr prog, char *cubin), (prog, cubin))          \
    /* CUDA driver API (libcuda) */                                                           \
    X(RC_CUDA, rc_status, cuInit, (unsigned flags), (flags))                                  \
    X(RC_CUDA, rc_status, cuDeviceGet, (int *dev, int ordinal), (dev, ordinal))               \
    X(RC_CUDA, rc_status, cuDeviceGetName, (char *name, int len, int dev), (name, len, dev))  \
    X(RC_CUDA, rc_status, cuDevicePrimaryCtxRetain, (rc_ptr *ctx, int dev), (ctx, dev))       \
    X(RC_CUDA, rc_status, cuDevicePrimaryCtxRelease_v2, (int dev), (dev))                     \
    X(RC_CUDA, rc_status, cuCtxSetCurrent, (rc_ptr ctx), (ctx))                               \
    X(RC_CUDA, rc_status, cuModuleLoadData, (rc_ptr *mod, const void *image), (mod, image))   \
    X(RC_CUDA, rc_status, cuModuleUnload, (rc_ptr mod), (mod))                                \
    X(RC_CUDA, rc_status, cuModuleGetFunction, (rc_ptr *fn, rc_ptr mod, const char *name), (fn, mod, name)) \
    X(RC_CUDA, rc_status, cuLaunchKernel,                                                     \
      (rc_ptr fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, \
       unsigned shmem, rc_ptr stream, void **params, void **extra),                           \
      (fn, gx, gy, gz, bx, by, bz, shmem, stream, params, extra))                             \
    X(RC_CUDA, rc_status, cuGetErrorName, (rc_status r, const char **name), (r, name))

// The table of resolved entry points.
struct rc_api {
#define RC_FIELD(lib, ret, name, params, args) ret(*name) params;
    RC_SYMBOLS(RC_FIELD)
#undef RC_FIELD
};

// The table every call goes through; filled by rc_install after every symbol
// resolved.
extern struct rc_api rc;

int rc_nsyms(void);
const char *rc_sym_name(int i);
int rc_sym_lib(int i);
void rc_sym_set(struct rc_api *t, int i, void *p);
void *rc_sym_get(const struct rc_api *t, int i);
void rc_install(const struct rc_api *t);

// dlopen/dlsym returning the dlerror() text (a static string) in *err on
// failure. With noload, rc_dlopen only finds a library already loaded.
void *rc_dlopen(const char *path, int noload, const char **err);
void *rc_dlsym(void *handle, const char *name, const char **err);

// CUDA's current device and context are per host thread, and a goroutine may
// move between threads between two calls. Every wrapper therefore first makes
// sure its thread uses the selected device and primary context; rc_select
// (called by SetDevice and when the context is retained) bumps a generation
// so each thread rebinds once.
void rc_bind_thread(void);
void rc_select(int device, void *ctx);

#define RC_WRAPPER(lib, ret, name, params, args)                                \
    static inline ret rc_##name params {                                        \
        rc_bind_thread();                                                       \
        return rc.name args;                                                    \
    }
RC_SYMBOLS(RC_WRAPPER)
#undef RC_WRAPPER

// rc_launch passes each kernel argument from its own 64-bit slot.
static inline rc_status rc_launch(rc_ptr fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                  unsigned by, unsigned bz, rc_ptr stream, uint64_t *args, int nargs) {
    void *params[32];
    if (nargs > 32) return 1; /* CUDA_ERROR_INVALID_VALUE */
    for (int i = 0; i < nargs; i++) params[i] = &args[i];
    return rc_cuLaunchKernel(fn, gx, gy, gz, bx, by, bz, 0, stream, params, NULL);
}

#endif
