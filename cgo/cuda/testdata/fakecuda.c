// Stand-ins with behaviour, overriding fakeall.c's stubs: they check that the
// Go wrappers pass arguments the way the real libraries expect them.
#include <stdint.h>

typedef int rc_status;

rc_status cudaGetDeviceCount(int *n) {
    *n = 0;
    return 100; // cudaErrorNoDevice
}

const char *cudaGetErrorName(rc_status e) { return e == 100 ? "cudaErrorNoDevice" : "cudaErrorUnknown"; }

const char *cudaGetErrorString(rc_status e) {
    return e == 100 ? "no CUDA-capable device is detected" : "unknown error";
}

rc_status cuGetErrorName(rc_status r, const char **name) {
    *name = r == 1 ? "CUDA_ERROR_INVALID_VALUE" : "CUDA_ERROR_UNKNOWN";
    return 0;
}

// Expects grid (7,1,1), block (256,1,1) and the arguments 0x1000 (a pointer),
// -5 (long long) and 2.5 (double), each read from its own slot.
rc_status cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                         unsigned shmem, void *stream, void **params, void **extra) {
    if (gx != 7 || gy != 1 || gz != 1 || bx != 256 || by != 1 || bz != 1 || shmem != 0 || extra) return 1;
    if (*(uint64_t *)params[0] != 0x1000 || *(long long *)params[1] != -5 || *(double *)params[2] != 2.5) return 1;
    return 0;
}

// Checks that alpha and beta arrive in the scale type of the compute type.
rc_status cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int atype,
                       int lda, const void *b, int btype, int ldb, const void *beta, void *c, int ctype, int ldc,
                       int compute, int algo) {
    if (algo != -1) return 7;
    switch (compute) {
    case 72: return *(const int32_t *)alpha == 1 && *(const int32_t *)beta == 0 ? 0 : 7;
    case 77: return *(const float *)alpha == 2.5f && *(const float *)beta == 1.0f ? 0 : 7;
    case 70: return *(const double *)alpha == 2.5 && *(const double *)beta == 0 ? 0 : 7;
    }
    return 15; // CUBLAS_STATUS_NOT_SUPPORTED
}

// Returns the Householder count it was given so the caller can see k arrive.
rc_status cusolverDnDorgqr_bufferSize(void *h, int m, int n, int k, const double *a, int lda, const double *tau,
                                      int *lwork) {
    *lwork = 1000 * m + 10 * n + k;
    return m < n ? 3 : 0; // CUSOLVER_STATUS_INVALID_VALUE
}

// Page-locked host memory is plain heap memory here: NewSolver keeps
// Xsyevdx's scalars (vl, vu, meig) in it.
#include <stdlib.h>

rc_status cudaMallocHost(void **p, size_t n) {
    *p = malloc(n);
    return *p ? 0 : 2; // cudaErrorMemoryAllocation
}

rc_status cudaFreeHost(void *p) {
    free(p);
    return 0;
}

rc_status cusolverDnCreate(void **h) {
    *h = (void *)1;
    return 0;
}

// Writes meig = iu − il + 1, as cuSOLVER does for a range by index, except for
// n = 3, where it leaves meig alone (a library that never writes it), and
// n = 5, where it reports one eigenpair too few. vl and vu must be readable
// (cuSOLVER reads them even for a range by index).
rc_status cusolverDnXsyevdx(void *h, void *params, int jobz, int range, int uplo, int64_t n, int dta, void *a,
                            int64_t lda, void *vl, void *vu, int64_t il, int64_t iu, int64_t *meig, int dtw, void *w,
                            int compute, void *dwork, size_t dbytes, void *hwork, size_t hbytes, int *info) {
    if (range != 1002 || !vl || !vu || !meig || il < 1 || iu > n || il > iu) return 3; // CUSOLVER_STATUS_INVALID_VALUE
    if (*(double *)vl != 0 || *(double *)vu != 0) return 3;
    if (n == 3) return 0;
    *meig = iu - il + 1 - (n == 5);
    return 0;
}
