//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 loops of the Householder kernels (house.go). Full 32- or 8-wide
// chunks run unmasked; the last partial chunk is read and written through
// the opmask K1, so no element beyond n is changed. (Its masked-off lanes
// still address the memory after the slice; house_amd64.go keeps that
// window on the slice's own page.) The dot products sum that partial chunk
// apart from the rest and add the two at the end, so a call split at a
// multiple of 8 returns the same bits.

// setMask leaves min(n, 8) in CX and the mask of that many low lanes in K1;
// n is in the register given.
#define SETMASK(n) \
	MOVQ    $8, CX       \
	CMPQ    n, CX        \
	CMOVQLT n, CX        \
	MOVQ    $1, DX       \
	SHLQ    CX, DX       \
	DECQ    DX           \
	KMOVW   DX, K1

// HSUM leaves the sum of z's eight lanes in x (its low lane), with y and x
// naming the same register as z, and ty, tx a scratch one.
#define HSUM(z, y, x, ty, tx) \
	VEXTRACTF64X4 $1, z, ty \
	VADDPD        ty, y, y  \
	VEXTRACTF128  $1, y, tx \
	VADDPD        tx, x, x  \
	VPERMILPD     $1, x, tx \
	VADDSD        tx, x, x

// func houseLeftAVX512(x *float64, ldx, rows, cols int, v *float64, tau float64)
//
// x (rows×cols, row stride ldx) ← (I − τ·u·uᵀ)·x with u = (1, v[1:rows]):
// per chunk of columns, pass 1 sums w = Σ u_i·x_i (two accumulator sets for
// alternate rows, so the FMA chains overlap), pass 2 adds −τ·u_i·w to row i.
TEXT ·houseLeftAVX512(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), AX
	MOVQ         ldx+8(FP), R8
	SHLQ         $3, R8
	MOVQ         rows+16(FP), R10
	MOVQ         cols+24(FP), R9
	MOVQ         v+32(FP), R11
	VBROADCASTSD tau+40(FP), Z31
	VPXORQ       Z30, Z30, Z30
	VSUBPD       Z31, Z30, Z31    // −τ

wide:
	CMPQ    R9, $32
	JLT     narrow
	VMOVUPD (AX), Z0
	VMOVUPD 64(AX), Z1
	VMOVUPD 128(AX), Z2
	VMOVUPD 192(AX), Z3
	VPXORQ  Z4, Z4, Z4
	VPXORQ  Z5, Z5, Z5
	VPXORQ  Z6, Z6, Z6
	VPXORQ  Z7, Z7, Z7
	MOVQ    AX, BX
	LEAQ    8(R11), DX
	LEAQ    -1(R10), CX

widesum2:
	CMPQ         CX, $2
	JLT          widesum1
	ADDQ         R8, BX
	VBROADCASTSD (DX), Z8
	VFMADD231PD  (BX), Z8, Z0
	VFMADD231PD  64(BX), Z8, Z1
	VFMADD231PD  128(BX), Z8, Z2
	VFMADD231PD  192(BX), Z8, Z3
	ADDQ         R8, BX
	VBROADCASTSD 8(DX), Z9
	VFMADD231PD  (BX), Z9, Z4
	VFMADD231PD  64(BX), Z9, Z5
	VFMADD231PD  128(BX), Z9, Z6
	VFMADD231PD  192(BX), Z9, Z7
	ADDQ         $16, DX
	SUBQ         $2, CX
	JMP          widesum2

widesum1:
	TESTQ        CX, CX
	JE           widescale
	ADDQ         R8, BX
	VBROADCASTSD (DX), Z8
	VFMADD231PD  (BX), Z8, Z0
	VFMADD231PD  64(BX), Z8, Z1
	VFMADD231PD  128(BX), Z8, Z2
	VFMADD231PD  192(BX), Z8, Z3

widescale:
	VADDPD  Z4, Z0, Z0
	VADDPD  Z5, Z1, Z1
	VADDPD  Z6, Z2, Z2
	VADDPD  Z7, Z3, Z3
	VMULPD  Z31, Z0, Z0
	VMULPD  Z31, Z1, Z1
	VMULPD  Z31, Z2, Z2
	VMULPD  Z31, Z3, Z3
	MOVQ    AX, BX
	VADDPD  (BX), Z0, Z8
	VADDPD  64(BX), Z1, Z9
	VADDPD  128(BX), Z2, Z10
	VADDPD  192(BX), Z3, Z11
	VMOVUPD Z8, (BX)
	VMOVUPD Z9, 64(BX)
	VMOVUPD Z10, 128(BX)
	VMOVUPD Z11, 192(BX)
	LEAQ    8(R11), DX
	LEAQ    -1(R10), CX
	TESTQ   CX, CX
	JE      widenext

wideupd:
	ADDQ         R8, BX
	VBROADCASTSD (DX), Z8
	VMOVUPD      (BX), Z9
	VMOVUPD      64(BX), Z10
	VMOVUPD      128(BX), Z11
	VMOVUPD      192(BX), Z12
	VFMADD231PD  Z0, Z8, Z9
	VFMADD231PD  Z1, Z8, Z10
	VFMADD231PD  Z2, Z8, Z11
	VFMADD231PD  Z3, Z8, Z12
	VMOVUPD      Z9, (BX)
	VMOVUPD      Z10, 64(BX)
	VMOVUPD      Z11, 128(BX)
	VMOVUPD      Z12, 192(BX)
	ADDQ         $8, DX
	DECQ         CX
	JNE          wideupd

widenext:
	ADDQ $256, AX
	SUBQ $32, R9
	JMP  wide

narrow:
	TESTQ     R9, R9
	JE        done
	SETMASK(R9)
	VMOVUPD.Z (AX), K1, Z0
	VPXORQ    Z4, Z4, Z4
	MOVQ      AX, BX
	LEAQ      8(R11), DX
	LEAQ      -1(R10), R12

narrowsum2:
	CMPQ         R12, $2
	JLT          narrowsum1
	ADDQ         R8, BX
	VBROADCASTSD (DX), Z8
	VMOVUPD.Z    (BX), K1, Z10
	VFMADD231PD  Z10, Z8, Z0
	ADDQ         R8, BX
	VBROADCASTSD 8(DX), Z9
	VMOVUPD.Z    (BX), K1, Z11
	VFMADD231PD  Z11, Z9, Z4
	ADDQ         $16, DX
	SUBQ         $2, R12
	JMP          narrowsum2

narrowsum1:
	TESTQ        R12, R12
	JE           narrowscale
	ADDQ         R8, BX
	VBROADCASTSD (DX), Z8
	VMOVUPD.Z    (BX), K1, Z10
	VFMADD231PD  Z10, Z8, Z0

narrowscale:
	VADDPD    Z4, Z0, Z0
	VMULPD    Z31, Z0, Z0
	MOVQ      AX, BX
	VMOVUPD.Z (BX), K1, Z8
	VADDPD    Z8, Z0, Z8
	VMOVUPD   Z8, K1, (BX)
	LEAQ      8(R11), DX
	LEAQ      -1(R10), R12
	TESTQ     R12, R12
	JE        narrownext

narrowupd:
	ADDQ         R8, BX
	VBROADCASTSD (DX), Z8
	VMOVUPD.Z    (BX), K1, Z9
	VFMADD231PD  Z0, Z8, Z9
	VMOVUPD      Z9, K1, (BX)
	ADDQ         $8, DX
	DECQ         R12
	JNE          narrowupd

narrownext:
	ADDQ $64, AX
	SUBQ CX, R9
	JMP  narrow

done:
	VZEROUPPER
	RET

// func dotAVX512(n int, x, y *float64) float64
TEXT ·dotAVX512(SB), NOSPLIT, $0-32
	MOVQ   n+0(FP), R9
	MOVQ   x+8(FP), SI
	MOVQ   y+16(FP), DI
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3

dotwide:
	CMPQ        R9, $32
	JLT         dotnarrow
	VMOVUPD     (SI), Z4
	VMOVUPD     64(SI), Z5
	VMOVUPD     128(SI), Z6
	VMOVUPD     192(SI), Z7
	VFMADD231PD (DI), Z4, Z0
	VFMADD231PD 64(DI), Z5, Z1
	VFMADD231PD 128(DI), Z6, Z2
	VFMADD231PD 192(DI), Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $32, R9
	JMP         dotwide

dotnarrow:
	CMPQ        R9, $8
	JLT         dottail
	VMOVUPD     (SI), Z4
	VFMADD231PD (DI), Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $8, R9
	JMP         dotnarrow

dottail:
	VPXORQ      Z8, Z8, Z8
	TESTQ       R9, R9
	JE          dotreduce
	SETMASK(R9)
	VMOVUPD.Z   (SI), K1, Z4
	VMOVUPD.Z   (DI), K1, Z5
	VFMADD231PD Z5, Z4, Z8

dotreduce:
	VADDPD  Z1, Z0, Z0
	VADDPD  Z3, Z2, Z2
	VADDPD  Z2, Z0, Z0
	HSUM(Z0, Y0, X0, Y1, X1)
	HSUM(Z8, Y8, X8, Y9, X9)
	VADDSD  X8, X0, X0
	VMOVSD  X0, ret+24(FP)
	VZEROUPPER
	RET

// func axpyAVX512(n int, a float64, x, y *float64)
//
// y += a·x.
TEXT ·axpyAVX512(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), R9
	VBROADCASTSD a+8(FP), Z31
	MOVQ         x+16(FP), SI
	MOVQ         y+24(FP), DI

axpywide:
	CMPQ        R9, $32
	JLT         axpynarrow
	VMOVUPD     (DI), Z0
	VMOVUPD     64(DI), Z1
	VMOVUPD     128(DI), Z2
	VMOVUPD     192(DI), Z3
	VFMADD231PD (SI), Z31, Z0
	VFMADD231PD 64(SI), Z31, Z1
	VFMADD231PD 128(SI), Z31, Z2
	VFMADD231PD 192(SI), Z31, Z3
	VMOVUPD     Z0, (DI)
	VMOVUPD     Z1, 64(DI)
	VMOVUPD     Z2, 128(DI)
	VMOVUPD     Z3, 192(DI)
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $32, R9
	JMP         axpywide

axpynarrow:
	TESTQ       R9, R9
	JE          axpydone
	SETMASK(R9)
	VMOVUPD.Z   (DI), K1, Z0
	VMOVUPD.Z   (SI), K1, Z4
	VFMADD231PD Z4, Z31, Z0
	VMOVUPD     Z0, K1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        CX, R9
	JMP         axpynarrow

axpydone:
	VZEROUPPER
	RET

// func dotAxpyAVX512(n int, x, u, y *float64, a float64) float64
//
// Returns x·u and sets y += a·x, reading x once.
TEXT ·dotAxpyAVX512(SB), NOSPLIT, $0-48
	MOVQ         n+0(FP), R9
	MOVQ         x+8(FP), SI
	MOVQ         u+16(FP), R11
	MOVQ         y+24(FP), DI
	VBROADCASTSD a+32(FP), Z31
	VPXORQ       Z0, Z0, Z0
	VPXORQ       Z1, Z1, Z1

dawide:
	CMPQ        R9, $16
	JLT         danarrow
	VMOVUPD     (SI), Z4
	VMOVUPD     64(SI), Z5
	VFMADD231PD (R11), Z4, Z0
	VFMADD231PD 64(R11), Z5, Z1
	VMOVUPD     (DI), Z6
	VMOVUPD     64(DI), Z7
	VFMADD231PD Z4, Z31, Z6
	VFMADD231PD Z5, Z31, Z7
	VMOVUPD     Z6, (DI)
	VMOVUPD     Z7, 64(DI)
	ADDQ        $128, SI
	ADDQ        $128, R11
	ADDQ        $128, DI
	SUBQ        $16, R9
	JMP         dawide

danarrow:
	CMPQ        R9, $8
	JLT         datail
	VMOVUPD     (SI), Z4
	VFMADD231PD (R11), Z4, Z0
	VMOVUPD     (DI), Z6
	VFMADD231PD Z4, Z31, Z6
	VMOVUPD     Z6, (DI)
	ADDQ        $64, SI
	ADDQ        $64, R11
	ADDQ        $64, DI
	SUBQ        $8, R9
	JMP         danarrow

datail:
	VPXORQ      Z8, Z8, Z8
	TESTQ       R9, R9
	JE          dareduce
	SETMASK(R9)
	VMOVUPD.Z   (SI), K1, Z4
	VMOVUPD.Z   (R11), K1, Z5
	VFMADD231PD Z5, Z4, Z8
	VMOVUPD.Z   (DI), K1, Z6
	VFMADD231PD Z4, Z31, Z6
	VMOVUPD     Z6, K1, (DI)

dareduce:
	VADDPD  Z1, Z0, Z0
	HSUM(Z0, Y0, X0, Y1, X1)
	HSUM(Z8, Y8, X8, Y9, X9)
	VADDSD  X8, X0, X0
	VMOVSD  X0, ret+40(FP)
	VZEROUPPER
	RET

// func axpy2AVX512(n int, x, y *float64, a1 float64, u *float64, a2 float64)
//
// x += a1·y + a2·u.
TEXT ·axpy2AVX512(SB), NOSPLIT, $0-48
	MOVQ         n+0(FP), R9
	MOVQ         x+8(FP), DI
	MOVQ         y+16(FP), SI
	VBROADCASTSD a1+24(FP), Z30
	MOVQ         u+32(FP), R11
	VBROADCASTSD a2+40(FP), Z31

a2wide:
	CMPQ        R9, $16
	JLT         a2narrow
	VMOVUPD     (DI), Z0
	VMOVUPD     64(DI), Z1
	VFMADD231PD (SI), Z30, Z0
	VFMADD231PD 64(SI), Z30, Z1
	VFMADD231PD (R11), Z31, Z0
	VFMADD231PD 64(R11), Z31, Z1
	VMOVUPD     Z0, (DI)
	VMOVUPD     Z1, 64(DI)
	ADDQ        $128, SI
	ADDQ        $128, R11
	ADDQ        $128, DI
	SUBQ        $16, R9
	JMP         a2wide

a2narrow:
	TESTQ       R9, R9
	JE          a2done
	SETMASK(R9)
	VMOVUPD.Z   (DI), K1, Z0
	VMOVUPD.Z   (SI), K1, Z4
	VMOVUPD.Z   (R11), K1, Z5
	VFMADD231PD Z4, Z30, Z0
	VFMADD231PD Z5, Z31, Z0
	VMOVUPD     Z0, K1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, R11
	ADDQ        $64, DI
	SUBQ        CX, R9
	JMP         a2narrow

a2done:
	VZEROUPPER
	RET
