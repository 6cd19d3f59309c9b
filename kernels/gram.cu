// Kernels of the CUDA backend (backend/cuda), compiled at run time by NVRTC.
//
// No header is included: NVRTC provides the built-in variables (threadIdx,
// blockIdx, ...), __syncthreads and atomicAdd. Every kernel parameter is 8 bytes
// wide (a pointer, a long long or a double) so that the Go launcher can pass
// each argument in one 64-bit slot. kernels.go documents the semantics of each
// kernel and holds a Go reference implementation of it; kernels_test.go runs
// this file on the CPU (g++ with a small emulation prelude) against those
// references.
//
// Matrices: "row-major r x c" means element (i, j) at i*c + j; "column-major
// with leading dimension ld" means element (i, j) at i + j*ld.

typedef long long i64;
typedef unsigned long long u64;

// A grid-stride loop over [0, total): correct for any grid size.
#define GRID_STRIDE(i, total)                                                  \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (total);      \
         i += (i64)blockDim.x * gridDim.x)

// f32_to_bf16 rounds to the nearest bfloat16, ties to even (the upper 16 bits
// of the float32 pattern). Integers 0..256 are exact.
__device__ unsigned short f32_to_bf16(float f) {
    union {
        float f;
        unsigned int u;
    } v;
    v.f = f;
    if (f != f) return (unsigned short)0x7FC0; // keep NaN a NaN
    unsigned int u = v.u;
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}

#define STORE_F64(v) (v)
#define STORE_F32(v) ((float)(v))
#define STORE_BF16(v) f32_to_bf16((float)(v))

// convert_<in>_<out>(x, y, shift, n, d): y[i] = x[i] - shift[i % d] for the
// n*d elements of a row-major n x d chunk, computed in double and rounded once
// to the output type. shift may be NULL (no shift).
#define CONVERT(NAME, TIN, TOUT, STORE)                                        \
    extern "C" __global__ void NAME(const TIN *x, TOUT *y,                     \
                                    const double *shift, i64 n, i64 d) {       \
        i64 total = n * d;                                                     \
        GRID_STRIDE(i, total) {                                                \
            double v = (double)x[i];                                           \
            if (shift) v -= shift[i % d];                                      \
            y[i] = STORE(v);                                                   \
        }                                                                      \
    }

CONVERT(convert_u8_f64, unsigned char, double, STORE_F64)
CONVERT(convert_f32_f64, float, double, STORE_F64)
CONVERT(convert_f64_f64, double, double, STORE_F64)
CONVERT(convert_u8_f32, unsigned char, float, STORE_F32)
CONVERT(convert_f32_f32, float, float, STORE_F32)
CONVERT(convert_f64_f32, double, float, STORE_F32)
CONVERT(convert_u8_bf16, unsigned char, unsigned short, STORE_BF16)
CONVERT(convert_f32_bf16, float, unsigned short, STORE_BF16)
CONVERT(convert_f64_bf16, double, unsigned short, STORE_BF16)

// u8_to_i8_t(x, zt, n, d, dpad, kpad): zt (row-major dpad x kpad, i.e.
// feature-major) gets zt[c*kpad + r] = x[r*d + c] - 128 for r < n and c < d,
// and 0 in the padding (n <= r < kpad or d <= c < dpad). The transposed layout
// makes both GEMM operands contiguous along the sample axis, which is the
// layout cuBLAS's fast int8 path wants; the padding keeps every leading
// dimension a multiple of 8. Block (32, 8); grid (ceil(dpad/32), ceil(kpad/32)),
// with dpad <= 32*ceil(d/32).
extern "C" __global__ void u8_to_i8_t(const unsigned char *x, signed char *zt,
                                      i64 n, i64 d, i64 dpad, i64 kpad) {
    __shared__ int tile[32][33];
    i64 c0 = (i64)blockIdx.x * 32, r0 = (i64)blockIdx.y * 32;
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
        i64 r = r0 + k, c = c0 + threadIdx.x;
        int v = 128; // padding rows become 0 after the shift
        if (r < n && c < d) v = x[r * d + c];
        tile[k][threadIdx.x] = v - 128;
    }
    __syncthreads();
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
        i64 c = c0 + k, r = r0 + threadIdx.x;
        if (c < dpad && r < kpad) zt[c * kpad + r] = (signed char)tile[threadIdx.x][k];
    }
}

// colsum_u8(x, sums, n, d, rows_per_block): sums[c] += sum over the rows r of
// x[r*d + c]. Block (256); grid (ceil(d/256), ceil(n/rows_per_block)). The
// caller zeroes sums first.
extern "C" __global__ void colsum_u8(const unsigned char *x, u64 *sums, i64 n,
                                     i64 d, i64 rows_per_block) {
    i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= d) return;
    i64 r0 = (i64)blockIdx.y * rows_per_block;
    i64 r1 = r0 + rows_per_block;
    if (r1 > n) r1 = n;
    u64 s = 0;
    for (i64 r = r0; r < r1; r++) s += x[r * d + c];
    if (s) atomicAdd(sums + c, s);
}

// exact_finish(acc, gi, ldg, colsum, shift, n, d): for i >= j (the lower
// triangle of the column-major d x d matrices, i.e. the upper triangle of
// their row-major reading) adds to acc the exact Gram entry of the uint8 chunk,
//   G_ij = gi_ij + 128 (c_i + c_j) - 16384 n,
// where gi = Z^T Z of the shifted chunk Z = X - 128 (int32, exact while
// n <= 131071; column-major with leading dimension ldg) and c are the column
// sums of X, then subtracts the optional
// shift s: G_ij - c_i s_j - s_i c_j + n s_i s_j. The integer part is exact in
// int64 and in double (|G_ij| < 2^53). Block (32, 8); grid (ceil(d/32),
// ceil(d/32)).
extern "C" __global__ void exact_finish(double *acc, const int *gi, i64 ldg,
                                        const u64 *colsum, const double *shift,
                                        i64 n, i64 d) {
    i64 i = (i64)blockIdx.x * 32 + threadIdx.x;
    if (i >= d) return;
    i64 j0 = (i64)blockIdx.y * 32;
    for (i64 j = j0 + threadIdx.y; j < j0 + 32 && j < d; j += blockDim.y) {
        if (i < j) continue;
        i64 ci = (i64)colsum[i], cj = (i64)colsum[j];
        double v = (double)((i64)gi[i + j * ldg] + 128LL * (ci + cj) - 16384LL * n);
        if (shift) {
            double si = shift[i], sj = shift[j];
            v += (double)n * si * sj - (double)ci * sj - si * (double)cj;
        }
        acc[i + j * d] += v;
    }
}

// add_lower_f32(acc, s, d): acc[i + j*d] += s[i + j*d] for i >= j (d x d,
// column-major). Block (32, 8); grid (ceil(d/32), ceil(d/32)).
extern "C" __global__ void add_lower_f32(double *acc, const float *s, i64 d) {
    i64 i = (i64)blockIdx.x * 32 + threadIdx.x;
    if (i >= d) return;
    i64 j0 = (i64)blockIdx.y * 32;
    for (i64 j = j0 + threadIdx.y; j < j0 + 32 && j < d; j += blockDim.y) {
        if (i < j) continue;
        acc[i + j * d] += (double)s[i + j * d];
    }
}

// gather_t(src, ld, rows, cols, col0, reverse, dst): dst (row-major
// rows x cols) gets dst[r*cols + j] = src[r + c*ld] with c = col0 + j, or
// c = col0 + cols - 1 - j when reverse is non-zero: a transpose of a
// column-major block, optionally with its columns in reverse order (cuSOLVER's
// ascending eigenvectors become this project's descending ones). Block (32, 8);
// grid (ceil(rows/32), ceil(cols/32)).
extern "C" __global__ void gather_t(const double *src, i64 ld, i64 rows,
                                    i64 cols, i64 col0, i64 reverse,
                                    double *dst) {
    __shared__ double tile[32][33];
    i64 r0 = (i64)blockIdx.x * 32, j0 = (i64)blockIdx.y * 32;
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
        i64 j = j0 + k, r = r0 + threadIdx.x;
        if (j < cols && r < rows) {
            i64 c = reverse ? col0 + cols - 1 - j : col0 + j;
            tile[k][threadIdx.x] = src[r + c * ld];
        }
    }
    __syncthreads();
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
        i64 r = r0 + k, j = j0 + threadIdx.x;
        if (r < rows && j < cols) dst[r * cols + j] = tile[threadIdx.x][k];
    }
}
