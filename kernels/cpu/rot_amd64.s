//go:build amd64 && !purego

#include "textflag.h"

// func rotAVX2(n int, x, y *float64, c, s float64)
//
// For k < n (a multiple of 4): x[k], y[k] ← c·x[k] − s·y[k], s·x[k] + c·y[k].
TEXT ·rotAVX2(SB), NOSPLIT, $0-40
	MOVQ         n+0(FP), CX
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	VBROADCASTSD c+24(FP), Y14
	VBROADCASTSD s+32(FP), Y15
	SHRQ         $2, CX
	JE           done

loop:
	VMOVUPD      (SI), Y0
	VMOVUPD      (DI), Y1
	VMULPD       Y14, Y0, Y2
	VMULPD       Y14, Y1, Y3
	VFNMADD231PD Y15, Y1, Y2
	VFMADD231PD  Y15, Y0, Y3
	VMOVUPD      Y2, (SI)
	VMOVUPD      Y3, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNE          loop

done:
	VZEROUPPER
	RET

// func rotSweep16AVX2(p *float64, ld, count int, cs, sn *float64)
//
// One QL sweep on a 16-column strip: for t = count-1 down to 0, rows
// (t, t+1) of the strip — row t+1 at p − (count−1−t)·ld — take the rotation
// x ← c·x − s·y, y ← s·x + c·y with c = cs[t], s = sn[t]. p points at the
// strip's row count (the sweep's bottom row), cs and sn at their element
// count−1; both walk upwards. Each updated upper row stays in registers
// (Y4..Y7) as the next rotation's lower row, so every rotation costs one
// load and one store of the strip; four independent 4-wide chains hide
// the FMA latency.
TEXT ·rotSweep16AVX2(SB), NOSPLIT, $0-40
	MOVQ    p+0(FP), DI
	MOVQ    ld+8(FP), R8
	SHLQ    $3, R8
	MOVQ    count+16(FP), CX
	MOVQ    cs+24(FP), SI
	MOVQ    sn+32(FP), DX
	VMOVUPD (DI), Y4
	VMOVUPD 32(DI), Y5
	VMOVUPD 64(DI), Y6
	VMOVUPD 96(DI), Y7
	TESTQ   CX, CX
	JE      sweepdone

sweep:
	SUBQ         R8, DI
	VBROADCASTSD (SI), Y14
	VBROADCASTSD (DX), Y15
	VMOVUPD      (DI), Y0
	VMOVUPD      32(DI), Y1
	VMOVUPD      64(DI), Y2
	VMOVUPD      96(DI), Y3
	VMULPD       Y14, Y4, Y8
	VMULPD       Y14, Y5, Y9
	VMULPD       Y14, Y6, Y10
	VMULPD       Y14, Y7, Y11
	VFMADD231PD  Y15, Y0, Y8
	VFMADD231PD  Y15, Y1, Y9
	VFMADD231PD  Y15, Y2, Y10
	VFMADD231PD  Y15, Y3, Y11
	VMOVUPD      Y8, (DI)(R8*1)
	VMOVUPD      Y9, 32(DI)(R8*1)
	VMOVUPD      Y10, 64(DI)(R8*1)
	VMOVUPD      Y11, 96(DI)(R8*1)
	VMULPD       Y14, Y0, Y0
	VMULPD       Y14, Y1, Y1
	VMULPD       Y14, Y2, Y2
	VMULPD       Y14, Y3, Y3
	VFNMADD231PD Y15, Y4, Y0
	VFNMADD231PD Y15, Y5, Y1
	VFNMADD231PD Y15, Y6, Y2
	VFNMADD231PD Y15, Y7, Y3
	VMOVAPD      Y0, Y4
	VMOVAPD      Y1, Y5
	VMOVAPD      Y2, Y6
	VMOVAPD      Y3, Y7
	SUBQ         $8, SI
	SUBQ         $8, DX
	DECQ         CX
	JNE          sweep

sweepdone:
	VMOVUPD Y4, (DI)
	VMOVUPD Y5, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	VZEROUPPER
	RET
