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

// SUMS leaves in X0 the sum of Z0's lanes plus the sum of Z8's (the
// partial chunk's), the dot loops' last step.
#define SUMS \
	HSUM(Z0, Y0, X0, Y1, X1) \
	HSUM(Z8, Y8, X8, Y9, X9) \
	VADDSD X8, X0, X0

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

// DOTBODY leaves in X0 the dot product of R9 values at SI and DI exactly as
// dotAVX512 computes it (32-wide, then 8-wide into Z0, the partial chunk
// apart in Z8), advancing SI and DI; it uses Z0..Z9, CX, DX and K1.
#define DOTBODY(wide, narrow, tail, reduce) \
	VPXORQ Z0, Z0, Z0          \
	VPXORQ Z1, Z1, Z1          \
	VPXORQ Z2, Z2, Z2          \
	VPXORQ Z3, Z3, Z3          \
wide:                          \
	CMPQ        R9, $32        \
	JLT         narrow         \
	VMOVUPD     (SI), Z4       \
	VMOVUPD     64(SI), Z5     \
	VMOVUPD     128(SI), Z6    \
	VMOVUPD     192(SI), Z7    \
	VFMADD231PD (DI), Z4, Z0   \
	VFMADD231PD 64(DI), Z5, Z1 \
	VFMADD231PD 128(DI), Z6, Z2 \
	VFMADD231PD 192(DI), Z7, Z3 \
	ADDQ        $256, SI       \
	ADDQ        $256, DI       \
	SUBQ        $32, R9        \
	JMP         wide           \
narrow:                        \
	CMPQ        R9, $8         \
	JLT         tail           \
	VMOVUPD     (SI), Z4       \
	VFMADD231PD (DI), Z4, Z0   \
	ADDQ        $64, SI        \
	ADDQ        $64, DI        \
	SUBQ        $8, R9         \
	JMP         narrow         \
tail:                          \
	VPXORQ      Z8, Z8, Z8     \
	TESTQ       R9, R9         \
	JE          reduce         \
	SETMASK(R9)                \
	VMOVUPD.Z   (SI), K1, Z4   \
	VMOVUPD.Z   (DI), K1, Z5   \
	VFMADD231PD Z5, Z4, Z8     \
reduce:                        \
	VADDPD  Z1, Z0, Z0         \
	VADDPD  Z3, Z2, Z2         \
	VADDPD  Z2, Z0, Z0         \
	SUMS

// func dotAVX512(n int, x, y *float64) float64
TEXT ·dotAVX512(SB), NOSPLIT, $0-32
	MOVQ   n+0(FP), R9
	MOVQ   x+8(FP), SI
	MOVQ   y+16(FP), DI
	DOTBODY(dotwide, dotnarrow, dottail, dotreduce)
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// AXPYBODY sets y += a·x for R9 values, x at SI, y at DI and a broadcast in
// Z31, exactly as axpyAVX512 does; it uses Z0..Z4, CX, DX and K1 and ends
// at the label done.
#define AXPYBODY(wide, narrow, done) \
wide: \
	CMPQ        R9, $32 \
	JLT         narrow \
	VMOVUPD     (DI), Z0 \
	VMOVUPD     64(DI), Z1 \
	VMOVUPD     128(DI), Z2 \
	VMOVUPD     192(DI), Z3 \
	VFMADD231PD (SI), Z31, Z0 \
	VFMADD231PD 64(SI), Z31, Z1 \
	VFMADD231PD 128(SI), Z31, Z2 \
	VFMADD231PD 192(SI), Z31, Z3 \
	VMOVUPD     Z0, (DI) \
	VMOVUPD     Z1, 64(DI) \
	VMOVUPD     Z2, 128(DI) \
	VMOVUPD     Z3, 192(DI) \
	ADDQ        $256, SI \
	ADDQ        $256, DI \
	SUBQ        $32, R9 \
	JMP         wide \
 \
narrow: \
	TESTQ       R9, R9 \
	JE          done \
	SETMASK(R9) \
	VMOVUPD.Z   (DI), K1, Z0 \
	VMOVUPD.Z   (SI), K1, Z4 \
	VFMADD231PD Z4, Z31, Z0 \
	VMOVUPD     Z0, K1, (DI) \
	ADDQ        $64, SI \
	ADDQ        $64, DI \
	SUBQ        CX, R9 \
	JMP         narrow \
done:

// func axpyAVX512(n int, a float64, x, y *float64)
//
// y += a·x.
TEXT ·axpyAVX512(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), R9
	VBROADCASTSD a+8(FP), Z31
	MOVQ         x+16(FP), SI
	MOVQ         y+24(FP), DI
	AXPYBODY(axpywide, axpynarrow, axpydone)
	VZEROUPPER
	RET

// DOTAXPYBODY leaves in X0 the dot product of R9 values at SI and R11 and
// adds a·x (a broadcast in Z31) to the R9 values at DI, exactly as
// dotAxpyAVX512 does; it uses Z0..Z9, CX, DX and K1.
#define DOTAXPYBODY(wide, narrow, tail, reduce) \
	VPXORQ       Z0, Z0, Z0 \
	VPXORQ       Z1, Z1, Z1 \
 \
wide: \
	CMPQ        R9, $16 \
	JLT         narrow \
	VMOVUPD     (SI), Z4 \
	VMOVUPD     64(SI), Z5 \
	VFMADD231PD (R11), Z4, Z0 \
	VFMADD231PD 64(R11), Z5, Z1 \
	VMOVUPD     (DI), Z6 \
	VMOVUPD     64(DI), Z7 \
	VFMADD231PD Z4, Z31, Z6 \
	VFMADD231PD Z5, Z31, Z7 \
	VMOVUPD     Z6, (DI) \
	VMOVUPD     Z7, 64(DI) \
	ADDQ        $128, SI \
	ADDQ        $128, R11 \
	ADDQ        $128, DI \
	SUBQ        $16, R9 \
	JMP         wide \
 \
narrow: \
	CMPQ        R9, $8 \
	JLT         tail \
	VMOVUPD     (SI), Z4 \
	VFMADD231PD (R11), Z4, Z0 \
	VMOVUPD     (DI), Z6 \
	VFMADD231PD Z4, Z31, Z6 \
	VMOVUPD     Z6, (DI) \
	ADDQ        $64, SI \
	ADDQ        $64, R11 \
	ADDQ        $64, DI \
	SUBQ        $8, R9 \
	JMP         narrow \
 \
tail: \
	VPXORQ      Z8, Z8, Z8 \
	TESTQ       R9, R9 \
	JE          reduce \
	SETMASK(R9) \
	VMOVUPD.Z   (SI), K1, Z4 \
	VMOVUPD.Z   (R11), K1, Z5 \
	VFMADD231PD Z5, Z4, Z8 \
	VMOVUPD.Z   (DI), K1, Z6 \
	VFMADD231PD Z4, Z31, Z6 \
	VMOVUPD     Z6, K1, (DI) \
 \
reduce: \
	VADDPD  Z1, Z0, Z0 \
	SUMS

// AXPY2BODY adds a1·y + a2·u (a1, a2 broadcast in Z30, Z31; y at SI, u at
// R11) to the R9 values at DI, exactly as axpy2AVX512 does; it uses Z0,
// Z1, Z4, Z5, CX, DX and K1 and ends at the label done.
#define AXPY2BODY(wide, narrow, done) \
wide: \
	CMPQ        R9, $16 \
	JLT         narrow \
	VMOVUPD     (DI), Z0 \
	VMOVUPD     64(DI), Z1 \
	VFMADD231PD (SI), Z30, Z0 \
	VFMADD231PD 64(SI), Z30, Z1 \
	VFMADD231PD (R11), Z31, Z0 \
	VFMADD231PD 64(R11), Z31, Z1 \
	VMOVUPD     Z0, (DI) \
	VMOVUPD     Z1, 64(DI) \
	ADDQ        $128, SI \
	ADDQ        $128, R11 \
	ADDQ        $128, DI \
	SUBQ        $16, R9 \
	JMP         wide \
 \
narrow: \
	TESTQ       R9, R9 \
	JE          done \
	SETMASK(R9) \
	VMOVUPD.Z   (DI), K1, Z0 \
	VMOVUPD.Z   (SI), K1, Z4 \
	VMOVUPD.Z   (R11), K1, Z5 \
	VFMADD231PD Z4, Z30, Z0 \
	VFMADD231PD Z5, Z31, Z0 \
	VMOVUPD     Z0, K1, (DI) \
	ADDQ        $64, SI \
	ADDQ        $64, R11 \
	ADDQ        $64, DI \
	SUBQ        CX, R9 \
	JMP         narrow \
done:

// func dotAxpyAVX512(n int, x, u, y *float64, a float64) float64
//
// Returns x·u and sets y += a·x, reading x once.
TEXT ·dotAxpyAVX512(SB), NOSPLIT, $0-48
	MOVQ         n+0(FP), R9
	MOVQ         x+8(FP), SI
	MOVQ         u+16(FP), R11
	MOVQ         y+24(FP), DI
	VBROADCASTSD a+32(FP), Z31
	DOTAXPYBODY(dawide, danarrow, datail, dareduce)
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

	AXPY2BODY(a2wide, a2narrow, a2done)
	VZEROUPPER
	RET


// func houseRightAVX512(x *float64, ldx, rows, cols int, v *float64, tau float64)
//
// HouseRight's loop over the rows in one call, each row as dot and axpy do
// it (the same operations in the same order, so the same bits): s = x_i0 +
// x_i[1:]·v[1:], x_i0 −= τ·s, x_i[1:] += (−τ·s)·v[1:].
TEXT ·houseRightAVX512(SB), NOSPLIT, $0-48
	MOVQ   x+0(FP), R10
	MOVQ   ldx+8(FP), R11
	SHLQ   $3, R11
	MOVQ   rows+16(FP), R12
	MOVQ   v+32(FP), R13
	VMOVSD tau+40(FP), X10
	VXORPD X11, X11, X11
	VSUBSD X10, X11, X11           // −τ (τ ≠ 0: the caller returns early)

hrrow:
	TESTQ R12, R12
	JE    hrdone
	MOVQ  cols+24(FP), R9
	DECQ  R9
	LEAQ  8(R10), SI
	LEAQ  8(R13), DI
	DOTBODY(hrwide, hrnarrow, hrtail, hrreduce)
	VADDSD       (R10), X0, X0    // s = x_i0 + dot (Go adds in that order)
	VMULSD       X0, X10, X1      // τ·s
	VMOVSD       (R10), X2
	VSUBSD       X1, X2, X2
	VMOVSD       X2, (R10)
	VMULSD       X0, X11, X3      // (−τ)·s, as Go's -tau*s
	VBROADCASTSD X3, Z31
	MOVQ         cols+24(FP), R9
	DECQ         R9
	LEAQ         8(R13), SI       // x of axpy: v[1:]
	LEAQ         8(R10), DI       // y of axpy: the row
	AXPYBODY(hraw, hran, hrad)
	ADDQ R11, R10
	DECQ R12
	JMP  hrrow

hrdone:
	VZEROUPPER
	RET

// func houseSymAVX512(c *float64, ldc, n int, u, y *float64, tau float64)
//
// HouseSym after its set-up (u = (1, v[1:n]), y = 0) in one call: the
// same operations in the same order as its loops through dotAxpy, dot,
// axpy and axpy2, so the same bits.
TEXT ·houseSymAVX512(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), AX
	MOVQ ldc+8(FP), R13
	INCQ R13
	SHLQ $3, R13           // (ldc+1)·8: the next diagonal entry
	MOVQ n+16(FP), R8
	MOVQ u+24(FP), BX
	MOVQ y+32(FP), R10
	MOVQ R8, R12

	// y = c·u, row i giving y_i += c_ii·u_i + c_i,i+1:·u_i+1: and
	// y_i+1: += u_i·c_i,i+1:.
hsyrow:
	TESTQ        R12, R12
	JE           hsalpha
	LEAQ         -1(R12), R9
	LEAQ         8(AX), SI
	LEAQ         8(BX), R11
	LEAQ         8(R10), DI
	VBROADCASTSD (BX), Z31
	DOTAXPYBODY(hs1wide, hs1narrow, hs1tail, hs1reduce)
	VMOVSD       (AX), X2
	VMULSD       (BX), X2, X2
	VADDSD       X0, X2, X2
	VADDSD       (R10), X2, X2
	VMOVSD       X2, (R10)
	ADDQ         R13, AX
	ADDQ         $8, BX
	ADDQ         $8, R10
	DECQ         R12
	JMP          hsyrow

	// y += (−½·τ·(yᵀu))·u
hsalpha:
	MOVQ   y+32(FP), SI
	MOVQ   u+24(FP), DI
	MOVQ   R8, R9
	DOTBODY(hs2wide, hs2narrow, hs2tail, hs2reduce)
	VMOVSD tau+40(FP), X10
	MOVQ   $0xbfe0000000000000, CX // −0.5
	VMOVQ  CX, X12
	VMULSD X10, X12, X12
	VMULSD X0, X12, X12
	VBROADCASTSD X12, Z31
	MOVQ   u+24(FP), SI
	MOVQ   y+32(FP), DI
	MOVQ   R8, R9
	AXPYBODY(hs3wide, hs3narrow, hs3done)

	// c −= τ·(u·yᵀ + y·uᵀ), row i from the diagonal on.
	VXORPD X11, X11, X11
	VSUBSD X10, X11, X11   // −τ
	MOVQ   c+0(FP), AX
	MOVQ   u+24(FP), BX
	MOVQ   y+32(FP), R10
	MOVQ   R8, R12

hsurow:
	TESTQ        R12, R12
	JE           hsdone
	VMULSD       (BX), X11, X0
	VBROADCASTSD X0, Z30
	VMULSD       (R10), X11, X1
	VBROADCASTSD X1, Z31
	MOVQ         AX, DI
	MOVQ         R10, SI
	MOVQ         BX, R11
	MOVQ         R12, R9
	AXPY2BODY(hs4wide, hs4narrow, hs4done)
	ADDQ         R13, AX
	ADDQ         $8, BX
	ADDQ         $8, R10
	DECQ         R12
	JMP          hsurow

hsdone:
	VZEROUPPER
	RET
