//go:build amd64 && !purego

#include "textflag.h"

// INTERLEAVE_QUAD, the core of both packers: sixteen columns of the four
// rows at SI, SI+R8, SI+2·R8, SI+R11 (R11 = 3·R8) become sixteen uint32,
// one a column with its four rows as bytes, in X8..X11 and at DI..DI+64.
#define INTERLEAVE_QUAD \
	VMOVDQU    (SI), X0;        \
	VMOVDQU    (SI)(R8*1), X1;  \
	VMOVDQU    (SI)(R8*2), X2;  \
	VMOVDQU    (SI)(R11*1), X3; \
	VPUNPCKLBW X1, X0, X4;      \
	VPUNPCKHBW X1, X0, X5;      \
	VPUNPCKLBW X3, X2, X6;      \
	VPUNPCKHBW X3, X2, X7;      \
	VPUNPCKLWD X6, X4, X8;      \
	VPUNPCKHWD X6, X4, X9;      \
	VPUNPCKLWD X7, X5, X10;     \
	VPUNPCKHWD X7, X5, X11;     \
	VMOVDQU    X8, (DI);        \
	VMOVDQU    X9, 16(DI);      \
	VMOVDQU    X10, 32(DI);     \
	VMOVDQU    X11, 48(DI)

// func kernelU8VNNI(kq int, a, b *uint32, p *int32, ldp int)
//
// The 8×48 int32 tile p[i][j] += Σ_k Σ_t sbyte_t(a[8k+i])·ubyte_t(b[48k+j]).
// Z0..Z23 hold the tile (row i in Z3i..Z3i+2, sixteen columns each);
// Z24..Z26 the 48 columns of b for quad k; Z27, Z28 alternate as the
// broadcast of a[8k+i]. VPDPBUSD takes the unsigned bytes from its
// middle operand and the signed ones from the first.
TEXT ·kernelU8VNNI(SB), NOSPLIT, $0-40
	MOVQ kq+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ p+24(FP), DX
	MOVQ ldp+32(FP), R9
	SHLQ $2, R9
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	TESTQ CX, CX
	JE    store

loop:
	VMOVDQU32 (DI), Z24
	VMOVDQU32 64(DI), Z25
	VMOVDQU32 128(DI), Z26
	VPBROADCASTD 0(SI), Z27
	VPDPBUSD Z27, Z24, Z0
	VPDPBUSD Z27, Z25, Z1
	VPDPBUSD Z27, Z26, Z2
	VPBROADCASTD 4(SI), Z28
	VPDPBUSD Z28, Z24, Z3
	VPDPBUSD Z28, Z25, Z4
	VPDPBUSD Z28, Z26, Z5
	VPBROADCASTD 8(SI), Z27
	VPDPBUSD Z27, Z24, Z6
	VPDPBUSD Z27, Z25, Z7
	VPDPBUSD Z27, Z26, Z8
	VPBROADCASTD 12(SI), Z28
	VPDPBUSD Z28, Z24, Z9
	VPDPBUSD Z28, Z25, Z10
	VPDPBUSD Z28, Z26, Z11
	VPBROADCASTD 16(SI), Z27
	VPDPBUSD Z27, Z24, Z12
	VPDPBUSD Z27, Z25, Z13
	VPDPBUSD Z27, Z26, Z14
	VPBROADCASTD 20(SI), Z28
	VPDPBUSD Z28, Z24, Z15
	VPDPBUSD Z28, Z25, Z16
	VPDPBUSD Z28, Z26, Z17
	VPBROADCASTD 24(SI), Z27
	VPDPBUSD Z27, Z24, Z18
	VPDPBUSD Z27, Z25, Z19
	VPDPBUSD Z27, Z26, Z20
	VPBROADCASTD 28(SI), Z28
	VPDPBUSD Z28, Z24, Z21
	VPDPBUSD Z28, Z25, Z22
	VPDPBUSD Z28, Z26, Z23
	ADDQ $32, SI
	ADDQ $192, DI
	DECQ CX
	JNE  loop

store:
	VPADDD (DX), Z0, Z0
	VMOVDQU32 Z0, (DX)
	VPADDD 64(DX), Z1, Z1
	VMOVDQU32 Z1, 64(DX)
	VPADDD 128(DX), Z2, Z2
	VMOVDQU32 Z2, 128(DX)
	ADDQ R9, DX
	VPADDD (DX), Z3, Z3
	VMOVDQU32 Z3, (DX)
	VPADDD 64(DX), Z4, Z4
	VMOVDQU32 Z4, 64(DX)
	VPADDD 128(DX), Z5, Z5
	VMOVDQU32 Z5, 128(DX)
	ADDQ R9, DX
	VPADDD (DX), Z6, Z6
	VMOVDQU32 Z6, (DX)
	VPADDD 64(DX), Z7, Z7
	VMOVDQU32 Z7, 64(DX)
	VPADDD 128(DX), Z8, Z8
	VMOVDQU32 Z8, 128(DX)
	ADDQ R9, DX
	VPADDD (DX), Z9, Z9
	VMOVDQU32 Z9, (DX)
	VPADDD 64(DX), Z10, Z10
	VMOVDQU32 Z10, 64(DX)
	VPADDD 128(DX), Z11, Z11
	VMOVDQU32 Z11, 128(DX)
	ADDQ R9, DX
	VPADDD (DX), Z12, Z12
	VMOVDQU32 Z12, (DX)
	VPADDD 64(DX), Z13, Z13
	VMOVDQU32 Z13, 64(DX)
	VPADDD 128(DX), Z14, Z14
	VMOVDQU32 Z14, 128(DX)
	ADDQ R9, DX
	VPADDD (DX), Z15, Z15
	VMOVDQU32 Z15, (DX)
	VPADDD 64(DX), Z16, Z16
	VMOVDQU32 Z16, 64(DX)
	VPADDD 128(DX), Z17, Z17
	VMOVDQU32 Z17, 128(DX)
	ADDQ R9, DX
	VPADDD (DX), Z18, Z18
	VMOVDQU32 Z18, (DX)
	VPADDD 64(DX), Z19, Z19
	VMOVDQU32 Z19, 64(DX)
	VPADDD 128(DX), Z20, Z20
	VMOVDQU32 Z20, 128(DX)
	ADDQ R9, DX
	VPADDD (DX), Z21, Z21
	VMOVDQU32 Z21, (DX)
	VPADDD 64(DX), Z22, Z22
	VMOVDQU32 Z22, 64(DX)
	VPADDD 128(DX), Z23, Z23
	VMOVDQU32 Z23, 128(DX)
	VZEROUPPER
	RET

// func packU8VNNI(kq int, x *uint8, ldx int, q, a *uint32, astrip int, sums *int32)
//
// Packs sixteen columns of kq full quads (rows 4p..4p+3 from x, row stride
// ldx bytes): each column's four bytes become one uint32, written to q (64
// bytes a quad, the next quad 192 bytes on) and, XOR 0x80808080, to two
// left strips of eight columns (a, and a + astrip words; 32 bytes a quad).
// The column sums are added to sums[0..16] (VPDPBUSD against bytes of one).
TEXT ·packU8VNNI(SB), NOSPLIT, $0-56
	MOVQ kq+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ ldx+16(FP), R8
	MOVQ q+24(FP), DI
	MOVQ a+32(FP), DX
	MOVQ astrip+40(FP), R9
	SHLQ $2, R9
	MOVQ sums+48(FP), R10
	LEAQ (R8)(R8*2), R11
	VPXORD X20, X20, X20
	VPXORD X21, X21, X21
	VPXORD X22, X22, X22
	VPXORD X23, X23, X23
	MOVL $0x01010101, AX
	VPBROADCASTD AX, X24
	MOVL $0x80808080, AX
	VPBROADCASTD AX, X25
	TESTQ CX, CX
	JE    done

loop:
	INTERLEAVE_QUAD
	VPDPBUSD X24, X8, X20
	VPDPBUSD X24, X9, X21
	VPDPBUSD X24, X10, X22
	VPDPBUSD X24, X11, X23
	VPXORD X25, X8, X12
	VPXORD X25, X9, X13
	VPXORD X25, X10, X14
	VPXORD X25, X11, X15
	VMOVDQU X12, (DX)
	VMOVDQU X13, 16(DX)
	VMOVDQU X14, (DX)(R9*1)
	VMOVDQU X15, 16(DX)(R9*1)
	LEAQ (SI)(R8*4), SI
	ADDQ $192, DI
	ADDQ $32, DX
	DECQ CX
	JNE  loop

	VPADDD (R10), X20, X20
	VMOVDQU32 X20, (R10)
	VPADDD 16(R10), X21, X21
	VMOVDQU32 X21, 16(R10)
	VPADDD 32(R10), X22, X22
	VMOVDQU32 X22, 32(R10)
	VPADDD 48(R10), X23, X23
	VMOVDQU32 X23, 48(R10)

done:
	VZEROUPPER
	RET

// func kernelU8AVX2(kq int, a, b *uint32, p *int32, ldp int)
//
// The AVX2 fallback of kernelU8VNNI, for a 4×8 sub-tile of the same packed
// strips (a: 32 bytes a quad, of which this reads the first 16; b: 192
// bytes a quad, of which this reads the first 32). Bytes are widened to
// int16 — a sign-extended (x − 128), b zero-extended x — and VPMADDWD sums
// pairs of exact int32 products. Y0..Y7 hold the tile (A column r, B
// columns 4h..4h+3 in Y(2r+h), two lanes a column: rows 0–1 and 2–3 of
// each quad); the store adds each lane pair (VPHADDD) and restores the
// column order (VPERMQ), then adds into p.
TEXT ·kernelU8AVX2(SB), NOSPLIT, $0-40
	MOVQ kq+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ p+24(FP), DX
	MOVQ ldp+32(FP), R9
	SHLQ $2, R9
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	TESTQ CX, CX
	JE    avx2store

avx2loop:
	VPMOVZXBW    (DI), Y8
	VPMOVZXBW    16(DI), Y9
	VPBROADCASTD (SI), X10
	VPMOVSXBW    X10, Y10
	VPMADDWD     Y8, Y10, Y11
	VPADDD       Y11, Y0, Y0
	VPMADDWD     Y9, Y10, Y12
	VPADDD       Y12, Y1, Y1
	VPBROADCASTD 4(SI), X13
	VPMOVSXBW    X13, Y13
	VPMADDWD     Y8, Y13, Y14
	VPADDD       Y14, Y2, Y2
	VPMADDWD     Y9, Y13, Y15
	VPADDD       Y15, Y3, Y3
	VPBROADCASTD 8(SI), X10
	VPMOVSXBW    X10, Y10
	VPMADDWD     Y8, Y10, Y11
	VPADDD       Y11, Y4, Y4
	VPMADDWD     Y9, Y10, Y12
	VPADDD       Y12, Y5, Y5
	VPBROADCASTD 12(SI), X13
	VPMOVSXBW    X13, Y13
	VPMADDWD     Y8, Y13, Y14
	VPADDD       Y14, Y6, Y6
	VPMADDWD     Y9, Y13, Y15
	VPADDD       Y15, Y7, Y7
	ADDQ         $32, SI
	ADDQ         $192, DI
	DECQ         CX
	JNE          avx2loop

avx2store:
	VPHADDD Y1, Y0, Y0
	VPERMQ  $0xD8, Y0, Y0
	VPADDD  (DX), Y0, Y0
	VMOVDQU Y0, (DX)
	ADDQ    R9, DX
	VPHADDD Y3, Y2, Y2
	VPERMQ  $0xD8, Y2, Y2
	VPADDD  (DX), Y2, Y2
	VMOVDQU Y2, (DX)
	ADDQ    R9, DX
	VPHADDD Y5, Y4, Y4
	VPERMQ  $0xD8, Y4, Y4
	VPADDD  (DX), Y4, Y4
	VMOVDQU Y4, (DX)
	ADDQ    R9, DX
	VPHADDD Y7, Y6, Y6
	VPERMQ  $0xD8, Y6, Y6
	VPADDD  (DX), Y6, Y6
	VMOVDQU Y6, (DX)
	VZEROUPPER
	RET

// Constants of packU8AVX2: sixteen signed bytes of one, eight int16 of one,
// and the sign-flip mask of the left factor.
DATA u8ones<>+0(SB)/8, $0x0101010101010101
DATA u8ones<>+8(SB)/8, $0x0101010101010101
GLOBL u8ones<>(SB), RODATA|NOPTR, $16
DATA u16ones<>+0(SB)/8, $0x0001000100010001
DATA u16ones<>+8(SB)/8, $0x0001000100010001
GLOBL u16ones<>(SB), RODATA|NOPTR, $16
DATA u8flip<>+0(SB)/8, $0x8080808080808080
DATA u8flip<>+8(SB)/8, $0x8080808080808080
GLOBL u8flip<>(SB), RODATA|NOPTR, $16

// func packU8AVX2(kq int, x *uint8, ldx int, q, a *uint32, astrip int, sums *int32)
//
// packU8VNNI without AVX-512: the column sums come from VPMADDUBSW against
// bytes of one (pairs of rows into int16) and VPMADDWD against int16 of
// one (into int32).
TEXT ·packU8AVX2(SB), NOSPLIT, $0-56
	MOVQ kq+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ ldx+16(FP), R8
	MOVQ q+24(FP), DI
	MOVQ a+32(FP), DX
	MOVQ astrip+40(FP), R9
	SHLQ $2, R9
	MOVQ sums+48(FP), R10
	LEAQ (R8)(R8*2), R11
	VPXOR X12, X12, X12
	VPXOR X13, X13, X13
	VPXOR X14, X14, X14
	VPXOR X15, X15, X15
	TESTQ CX, CX
	JE    avx2packdone

avx2pack:
	INTERLEAVE_QUAD
	VPMADDUBSW u8ones<>(SB), X8, X0
	VPMADDWD   u16ones<>(SB), X0, X0
	VPADDD     X0, X12, X12
	VPMADDUBSW u8ones<>(SB), X9, X1
	VPMADDWD   u16ones<>(SB), X1, X1
	VPADDD     X1, X13, X13
	VPMADDUBSW u8ones<>(SB), X10, X2
	VPMADDWD   u16ones<>(SB), X2, X2
	VPADDD     X2, X14, X14
	VPMADDUBSW u8ones<>(SB), X11, X3
	VPMADDWD   u16ones<>(SB), X3, X3
	VPADDD     X3, X15, X15
	VPXOR      u8flip<>(SB), X8, X4
	VPXOR      u8flip<>(SB), X9, X5
	VPXOR      u8flip<>(SB), X10, X6
	VPXOR      u8flip<>(SB), X11, X7
	VMOVDQU    X4, (DX)
	VMOVDQU    X5, 16(DX)
	VMOVDQU    X6, (DX)(R9*1)
	VMOVDQU    X7, 16(DX)(R9*1)
	LEAQ       (SI)(R8*4), SI
	ADDQ       $192, DI
	ADDQ       $32, DX
	DECQ       CX
	JNE        avx2pack

	VPADDD  (R10), X12, X12
	VMOVDQU X12, (R10)
	VPADDD  16(R10), X13, X13
	VMOVDQU X13, 16(R10)
	VPADDD  32(R10), X14, X14
	VMOVDQU X14, 32(R10)
	VPADDD  48(R10), X15, X15
	VMOVDQU X15, 48(R10)

avx2packdone:
	VZEROUPPER
	RET

// func addBytesAVX2(n int, acc *int32, x *uint8)
//
// acc[j] += x[j] for j < n (a multiple of 8), bytes zero-extended.
TEXT ·addBytesAVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ acc+8(FP), DI
	MOVQ x+16(FP), SI
	SHRQ $3, CX
	JE   addbytesdone

addbytes:
	VPMOVZXBD (SI), Y0
	VPADDD    (DI), Y0, Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $8, SI
	ADDQ      $32, DI
	DECQ      CX
	JNE       addbytes

addbytesdone:
	VZEROUPPER
	RET
