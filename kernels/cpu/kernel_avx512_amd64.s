//go:build amd64 && !purego

#include "textflag.h"

// FMA3 multiplies the broadcast of one value of a (at off(SI)) by the three
// vectors of b (Z24..Z26) into one row's accumulators.
#define FMA3(off, t, c0, c1, c2) \
	VBROADCASTSD off(SI), t; \
	VFMADD231PD  Z24, t, c0; \
	VFMADD231PD  Z25, t, c1; \
	VFMADD231PD  Z26, t, c2

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
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21
	VPXORQ Z22, Z22, Z22
	VPXORQ Z23, Z23, Z23
	TESTQ  CX, CX
	JE     store

loop:
	PREFETCHT1 (R9)
	VMOVUPD (DI), Z24
	VMOVUPD 64(DI), Z25
	VMOVUPD 128(DI), Z26
	FMA3(0, Z27, Z0, Z1, Z2)
	FMA3(8, Z28, Z3, Z4, Z5)
	FMA3(16, Z27, Z6, Z7, Z8)
	FMA3(24, Z28, Z9, Z10, Z11)
	FMA3(32, Z27, Z12, Z13, Z14)
	FMA3(40, Z28, Z15, Z16, Z17)
	FMA3(48, Z27, Z18, Z19, Z20)
	FMA3(56, Z28, Z21, Z22, Z23)
	ADDQ    $64, SI
	ADDQ    $192, DI
	ADDQ    $16, R9
	DECQ    CX
	JNE     loop

store:
	VADDPD  (DX), Z0, Z0
	VMOVUPD Z0, (DX)
	VADDPD  64(DX), Z1, Z1
	VMOVUPD Z1, 64(DX)
	VADDPD  128(DX), Z2, Z2
	VMOVUPD Z2, 128(DX)
	ADDQ    R8, DX
	VADDPD  (DX), Z3, Z3
	VMOVUPD Z3, (DX)
	VADDPD  64(DX), Z4, Z4
	VMOVUPD Z4, 64(DX)
	VADDPD  128(DX), Z5, Z5
	VMOVUPD Z5, 128(DX)
	ADDQ    R8, DX
	VADDPD  (DX), Z6, Z6
	VMOVUPD Z6, (DX)
	VADDPD  64(DX), Z7, Z7
	VMOVUPD Z7, 64(DX)
	VADDPD  128(DX), Z8, Z8
	VMOVUPD Z8, 128(DX)
	ADDQ    R8, DX
	VADDPD  (DX), Z9, Z9
	VMOVUPD Z9, (DX)
	VADDPD  64(DX), Z10, Z10
	VMOVUPD Z10, 64(DX)
	VADDPD  128(DX), Z11, Z11
	VMOVUPD Z11, 128(DX)
	ADDQ    R8, DX
	VADDPD  (DX), Z12, Z12
	VMOVUPD Z12, (DX)
	VADDPD  64(DX), Z13, Z13
	VMOVUPD Z13, 64(DX)
	VADDPD  128(DX), Z14, Z14
	VMOVUPD Z14, 128(DX)
	ADDQ    R8, DX
	VADDPD  (DX), Z15, Z15
	VMOVUPD Z15, (DX)
	VADDPD  64(DX), Z16, Z16
	VMOVUPD Z16, 64(DX)
	VADDPD  128(DX), Z17, Z17
	VMOVUPD Z17, 128(DX)
	ADDQ    R8, DX
	VADDPD  (DX), Z18, Z18
	VMOVUPD Z18, (DX)
	VADDPD  64(DX), Z19, Z19
	VMOVUPD Z19, 64(DX)
	VADDPD  128(DX), Z20, Z20
	VMOVUPD Z20, 128(DX)
	ADDQ    R8, DX
	VADDPD  (DX), Z21, Z21
	VMOVUPD Z21, (DX)
	VADDPD  64(DX), Z22, Z22
	VMOVUPD Z22, 64(DX)
	VADDPD  128(DX), Z23, Z23
	VMOVUPD Z23, 128(DX)
	VZEROUPPER
	RET
