//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 loops of the secular kernels (secular.go), eight poles a step.
// Z31 = base, Z30 = τ, Z29 = 1. RECIP leaves 1/d in r: VRCP14PD's 14 bits,
// then two Newton steps r ← r + r·(1 − d·r), each squaring the relative
// error (2⁻²⁸, then below 2⁻⁵⁶) before the last rounding; e is scratch.
#define RECIP(d, r, e) \
	VRCP14PD     d, r    \
	VMOVAPD      Z29, e  \
	VFNMADD231PD r, d, e \
	VFMADD231PD  e, r, r \
	VMOVAPD      Z29, e  \
	VFNMADD231PD r, d, e \
	VFMADD231PD  e, r, r

// func secularSumsAVX512(n int, delta, z *float64, base, tau, dw8 float64, w *[8]float64, acc *[32]float64)
//
// Lane sums of a = z²/d, a/d, a/d² and w·a into acc[0:8], [8:16], [16:24],
// [24:32]; the lane weights start at w and grow by dw8 a step.
TEXT ·secularSumsAVX512(SB), NOSPLIT, $0-64
	MOVQ         n+0(FP), CX
	MOVQ         delta+8(FP), SI
	MOVQ         z+16(FP), DI
	VBROADCASTSD base+24(FP), Z31
	VBROADCASTSD tau+32(FP), Z30
	VBROADCASTSD dw8+40(FP), Z27
	MOVQ         w+48(FP), AX
	VMOVUPD      (AX), Z28
	MOVQ         $0x3ff0000000000000, AX
	VPBROADCASTQ AX, Z29
	VPXORQ       Z0, Z0, Z0
	VPXORQ       Z1, Z1, Z1
	VPXORQ       Z2, Z2, Z2
	VPXORQ       Z3, Z3, Z3

sums:
	VMOVUPD     (SI), Z4
	VSUBPD      Z31, Z4, Z4
	VSUBPD      Z30, Z4, Z4    // d
	RECIP(Z4, Z5, Z10)         // r
	VMOVUPD     (DI), Z6       // z
	VMULPD      Z5, Z6, Z7     // t = z·r
	VMULPD      Z7, Z6, Z8     // a = z·t
	VADDPD      Z8, Z0, Z0
	VMULPD      Z7, Z7, Z9     // t² = a/d
	VADDPD      Z9, Z1, Z1
	VFMADD231PD Z5, Z9, Z2     // += t²·r
	VFMADD231PD Z28, Z8, Z3    // += w·a
	VADDPD      Z27, Z28, Z28
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $8, CX
	JNE         sums

	MOVQ    acc+56(FP), AX
	VMOVUPD Z0, (AX)
	VMOVUPD Z1, 64(AX)
	VMOVUPD Z2, 128(AX)
	VMOVUPD Z3, 192(AX)
	VZEROUPPER
	RET

// func secularVectorAVX512(n int, delta, zh, v *float64, base, tau float64, acc *[8]float64)
//
// v = zh/d, with the lane sums of v² into acc.
TEXT ·secularVectorAVX512(SB), NOSPLIT, $0-56
	MOVQ         n+0(FP), CX
	MOVQ         delta+8(FP), SI
	MOVQ         zh+16(FP), DI
	MOVQ         v+24(FP), DX
	VBROADCASTSD base+32(FP), Z31
	VBROADCASTSD tau+40(FP), Z30
	MOVQ         $0x3ff0000000000000, AX
	VPBROADCASTQ AX, Z29
	VPXORQ       Z0, Z0, Z0

vec:
	VMOVUPD     (SI), Z4
	VSUBPD      Z31, Z4, Z4
	VSUBPD      Z30, Z4, Z4    // d
	RECIP(Z4, Z5, Z10)
	VMULPD      (DI), Z5, Z6   // v = zh·(1/d)
	VMOVUPD     Z6, (DX)
	VFMADD231PD Z6, Z6, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	SUBQ        $8, CX
	JNE         vec

	MOVQ    acc+48(FP), AX
	VMOVUPD Z0, (AX)
	VZEROUPPER
	RET
