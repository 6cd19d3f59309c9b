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
