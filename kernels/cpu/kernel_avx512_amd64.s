//go:build amd64 && !purego

#include "textflag.h"

// FMA3 multiplies the broadcast of one value of a (at addr) by the three
// vectors of b (Z24..Z26) into one row's accumulators.
#define FMA3(addr, t, c0, c1, c2) \
	VBROADCASTSD addr, t; \
	VFMADD231PD  Z24, t, c0; \
	VFMADD231PD  Z25, t, c1; \
	VFMADD231PD  Z26, t, c2

// STEP24 is one step of the tile: the eight values of a at SI (consecutive)
// times the 24 of b in Z24..Z26.
#define STEP24 \
	FMA3(0(SI), Z27, Z0, Z1, Z2); FMA3(8(SI), Z28, Z3, Z4, Z5); \
	FMA3(16(SI), Z27, Z6, Z7, Z8); FMA3(24(SI), Z28, Z9, Z10, Z11); \
	FMA3(32(SI), Z27, Z12, Z13, Z14); FMA3(40(SI), Z28, Z15, Z16, Z17); \
	FMA3(48(SI), Z27, Z18, Z19, Z20); FMA3(56(SI), Z28, Z21, Z22, Z23)

// ZERO3 clears one row's three accumulators; ZERO24 the whole tile, Z0..Z23.
#define ZERO3(c0, c1, c2) \
	VPXORQ c0, c0, c0; \
	VPXORQ c1, c1, c1; \
	VPXORQ c2, c2, c2

#define ZERO24 \
	ZERO3(Z0, Z1, Z2); ZERO3(Z3, Z4, Z5); ZERO3(Z6, Z7, Z8); ZERO3(Z9, Z10, Z11); \
	ZERO3(Z12, Z13, Z14); ZERO3(Z15, Z16, Z17); ZERO3(Z18, Z19, Z20); ZERO3(Z21, Z22, Z23)

// STROW adds one row's accumulators into the row of c at DX and steps DX
// to the next row (R8 bytes on); STORE24 does the whole tile.
#define STROW(c0, c1, c2) \
	VADDPD  (DX), c0, c0;     \
	VMOVUPD c0, (DX);         \
	VADDPD  64(DX), c1, c1;   \
	VMOVUPD c1, 64(DX);       \
	VADDPD  128(DX), c2, c2;  \
	VMOVUPD c2, 128(DX);      \
	ADDQ    R8, DX

#define STORE24 \
	STROW(Z0, Z1, Z2); STROW(Z3, Z4, Z5); STROW(Z6, Z7, Z8); STROW(Z9, Z10, Z11); \
	STROW(Z12, Z13, Z14); STROW(Z15, Z16, Z17); STROW(Z18, Z19, Z20); STROW(Z21, Z22, Z23)

// The in-place kernels, as bodies over the tile's width: 24 columns (Z24..
// Z26 hold a step of b, row r's sums in Z3r..Z3r+2) or 16 (Z24, Z25; row
// r's sums in Z3r, Z3r+1), for a last strip of b with no more than 16
// columns: SymmUpper's panels of 64 columns are two strips and 16 more, and
// the third 8×24 call would spend a third of its FMAs on zero padding. b
// keeps its packed layout, 24 values a step, in both.

#define FMA2(addr, t, c0, c1) \
	VBROADCASTSD addr, t; \
	VFMADD231PD  Z24, t, c0; \
	VFMADD231PD  Z25, t, c1

#define STEP16 \
	FMA2(0(SI), Z27, Z0, Z1); FMA2(8(SI), Z28, Z3, Z4); \
	FMA2(16(SI), Z27, Z6, Z7); FMA2(24(SI), Z28, Z9, Z10); \
	FMA2(32(SI), Z27, Z12, Z13); FMA2(40(SI), Z28, Z15, Z16); \
	FMA2(48(SI), Z27, Z18, Z19); FMA2(56(SI), Z28, Z21, Z22)

#define ZERO16 \
	ZERO3(Z0, Z1, Z3); ZERO3(Z4, Z6, Z7); ZERO3(Z9, Z10, Z12); ZERO3(Z13, Z15, Z16); \
	ZERO3(Z18, Z19, Z21); VPXORQ Z22, Z22, Z22

#define STROW2(c0, c1) \
	VADDPD  (DX), c0, c0;     \
	VMOVUPD c0, (DX);         \
	VADDPD  64(DX), c1, c1;   \
	VMOVUPD c1, 64(DX);       \
	ADDQ    R8, DX

#define STORE16 \
	STROW2(Z0, Z1); STROW2(Z3, Z4); STROW2(Z6, Z7); STROW2(Z9, Z10); \
	STROW2(Z12, Z13); STROW2(Z15, Z16); STROW2(Z18, Z19); STROW2(Z21, Z22)

#define LOADB24 \
	VMOVUPD (DI), Z24; \
	VMOVUPD 64(DI), Z25; \
	VMOVUPD 128(DI), Z26

#define LOADB16 \
	VMOVUPD (DI), Z24; \
	VMOVUPD 64(DI), Z25

// ROWS24 and ROWS16 are one step of the left factor's eight rows at SI,
// R10 bytes apart (R11 = 3, R12 = 5, R13 = 7 rows).
#define ROWS24 \
	FMA3((SI), Z27, Z0, Z1, Z2); \
	FMA3((SI)(R10*1), Z28, Z3, Z4, Z5); \
	FMA3((SI)(R10*2), Z27, Z6, Z7, Z8); \
	FMA3((SI)(R11*1), Z28, Z9, Z10, Z11); \
	FMA3((SI)(R10*4), Z27, Z12, Z13, Z14); \
	FMA3((SI)(R12*1), Z28, Z15, Z16, Z17); \
	FMA3((SI)(R11*2), Z27, Z18, Z19, Z20); \
	FMA3((SI)(R13*1), Z28, Z21, Z22, Z23)

#define ROWS16 \
	FMA2((SI), Z27, Z0, Z1); \
	FMA2((SI)(R10*1), Z28, Z3, Z4); \
	FMA2((SI)(R10*2), Z27, Z6, Z7); \
	FMA2((SI)(R11*1), Z28, Z9, Z10); \
	FMA2((SI)(R10*4), Z27, Z12, Z13); \
	FMA2((SI)(R12*1), Z28, Z15, Z16); \
	FMA2((SI)(R11*2), Z27, Z18, Z19); \
	FMA2((SI)(R13*1), Z28, Z21, Z22)

// INPLACE is the in-place kernels' body: the left factor at SI, read by
// STEP (after SETUP, which finds lda in R10, in bytes) and moved a
// step on by ADVANCE; b at DI, 24 values a step; c at DX.
#define INPLACE(SETUP, ZERO, LOADB, STEP, ADVANCE, STORE, loop, store) \
	MOVQ k+0(FP), CX       \
	MOVQ a+8(FP), SI       \
	MOVQ lda+16(FP), R10   \
	SHLQ $3, R10           \
	SETUP                  \
	MOVQ b+24(FP), DI      \
	MOVQ c+32(FP), DX      \
	MOVQ ldc+40(FP), R8    \
	SHLQ $3, R8            \
	ZERO                   \
	TESTQ CX, CX           \
	JE    store            \
loop:                      \
	LOADB                  \
	STEP                   \
	ADVANCE                \
	ADDQ $192, DI          \
	DECQ CX                \
	JNE  loop              \
store:                     \
	STORE                  \
	VZEROUPPER             \
	RET

// The Step kernels read a step's eight values together, lda apart from
// the next step's; the Rows kernels read eight rows lda apart, a value on.
#define NOSETUP
#define ADVCOLS ADDQ R10, SI
#define ADVROWS ADDQ $8, SI

// ROWSETUP keeps 3, 5 and 7 rows' strides in R11, R12, R13.
#define ROWSETUP \
	LEAQ (R10)(R10*2), R11; \
	LEAQ (R10)(R10*4), R12; \
	LEAQ (R11)(R10*4), R13

// PFROW asks for the lines of the 24 values at R10 and steps R10 a row on.
#define PFROW \
	PREFETCHT0 (R10);    \
	PREFETCHT0 64(R10);  \
	PREFETCHT0 128(R10); \
	PREFETCHT0 184(R10); \
	ADDQ       R8, R10

// func kernel8x24AVX512(k int, a, b, c *float64, ldc int, pf *float64)
//
// c[r][0:24] += Σ_p a[p·8+r] · b[p·24 : p·24+24] for r = 0..7, with a and b
// the packed strips (a: eight values a step, b: 24) and c row-major with
// stride ldc elements. Z0..Z23 hold the 8×24 tile (row r in Z3r..Z3r+2),
// Z24..Z26 the step's 24 values of b, Z27 and Z28 alternate as the
// broadcast of a[p·8+r]. Each sum runs p = 0, 1, … in order, one rounding
// a step (FMA), then adds into c once: the same arithmetic as the AVX2
// kernel, so both give bitwise the same result. Every step also asks for
// the line at pf + 16·p to be brought into L2 (PREFETCHT1: a line every
// four steps, k/4 lines in all), the caller's data for what comes next;
// a prefetch never faults, wherever pf points.
TEXT ·kernel8x24AVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	MOVQ pf+40(FP), R9
	// c's eight rows into L1 while the steps run: where c is the matrix
	// itself (updates that skip acc, see accumulate), not a tile in L2,
	// a load at the end would wait on memory. A row's 24 values span up
	// to four lines.
	MOVQ DX, R10
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	ZERO24
	TESTQ  CX, CX
	JE     store

loop:
	PREFETCHT1 (R9)
	VMOVUPD (DI), Z24
	VMOVUPD 64(DI), Z25
	VMOVUPD 128(DI), Z26
	STEP24
	ADDQ    $64, SI
	ADDQ    $192, DI
	ADDQ    $16, R9
	DECQ    CX
	JNE     loop

store:
	STORE24
	VZEROUPPER
	RET

// func kernel8x24StepAVX512(k int, a *float64, lda int, b, c *float64, ldc int)
//
// kernel8x24AVX512 with the left factor read in place: its step p's eight
// values a[p·lda + r], r = 0..7, are consecutive in memory and the steps
// lda values apart (the columns of a row-major block, as SymmUpper's
// Sᵀ·b reads a tile: no packing). The same arithmetic, so the same bits.
TEXT ·kernel8x24StepAVX512(SB), NOSPLIT, $0-48
	INPLACE(NOSETUP, ZERO24, LOADB24, STEP24, ADVCOLS, STORE24, steploop24, stepstore24)

// func kernel8x16StepAVX512(k int, a *float64, lda int, b, c *float64, ldc int)
//
// kernel8x24StepAVX512 on the first 16 columns of b's strip.
TEXT ·kernel8x16StepAVX512(SB), NOSPLIT, $0-48
	INPLACE(NOSETUP, ZERO16, LOADB16, STEP16, ADVCOLS, STORE16, steploop16, stepstore16)

// func kernel8x24RowsAVX512(k int, a *float64, lda int, b, c *float64, ldc int)
//
// kernel8x24AVX512 with the left factor's eight rows read in place from a
// row-major block (row stride lda): step p's values are a[r·lda + p], as
// SymmUpper's S·b reads a tile. The same arithmetic, so the same bits.
TEXT ·kernel8x24RowsAVX512(SB), NOSPLIT, $0-48
	INPLACE(ROWSETUP, ZERO24, LOADB24, ROWS24, ADVROWS, STORE24, rowsloop24, rowsstore24)

// func kernel8x16RowsAVX512(k int, a *float64, lda int, b, c *float64, ldc int)
//
// kernel8x24RowsAVX512 on the first 16 columns of b's strip.
TEXT ·kernel8x16RowsAVX512(SB), NOSPLIT, $0-48
	INPLACE(ROWSETUP, ZERO16, LOADB16, ROWS16, ADVROWS, STORE16, rowsloop16, rowsstore16)
