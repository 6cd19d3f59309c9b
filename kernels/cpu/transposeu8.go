package cpu

import (
	"encoding/binary"
	"runtime"
)

// TransposeU8 writes columns f0..f1 of the row-major uint8 matrix x (n
// rows, row stride ldx) into dst as rows: dst is (f1−f0)×n, row-major, so
// that row f of dst is feature f0+f of every sample. This is how the Gram
// of Xᵀ (the N×N dual Gram XXᵀ) is fed to the exact uint8 Gram, whose
// rows are summed over. Tiles of 64×64 bytes keep both sides in L1; within
// them 8×8 blocks are transposed in eight 64-bit registers (three rounds
// of masked swaps), a load and a store per eight bytes: twice the speed of
// a byte at a time (BenchmarkTransposeU8); what is left is bound by the
// strided loads. The features are split over up to workers goroutines
// (0: GOMAXPROCS).
func TransposeU8(dst, x []uint8, n, ldx, f0, f1, workers int) {
	const tile = 64
	if n == 0 || f1 <= f0 {
		return
	}
	_ = dst[(f1-f0)*n-1]
	_ = x[(n-1)*ldx+f1-1]
	tiles := (f1 - f0 + tile - 1) / tile
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, tiles))
	parallel(workers, func(w int) {
		for g := tiles * w / workers; g < tiles*(w+1)/workers; g++ {
			g0 := f0 + g*tile
			g1 := min(g0+tile, f1)
			for i0 := 0; i0 < n; i0 += tile {
				transposeTile(dst, x, n, ldx, f0, g0, g1, i0, min(i0+tile, n))
			}
		}
	})
}

// transposeTile transposes samples i0..i1 of features g0..g1: whole 8×8
// blocks in registers, the ragged edges byte by byte.
func transposeTile(dst, x []uint8, n, ldx, f0, g0, g1, i0, i1 int) {
	i8, g8 := i0+(i1-i0)/8*8, g0+(g1-g0)/8*8
	for g := g0; g < g8; g += 8 {
		for i := i0; i < i8; i += 8 {
			p := i*ldx + g
			r0 := binary.LittleEndian.Uint64(x[p:])
			r1 := binary.LittleEndian.Uint64(x[p+ldx:])
			r2 := binary.LittleEndian.Uint64(x[p+2*ldx:])
			r3 := binary.LittleEndian.Uint64(x[p+3*ldx:])
			r4 := binary.LittleEndian.Uint64(x[p+4*ldx:])
			r5 := binary.LittleEndian.Uint64(x[p+5*ldx:])
			r6 := binary.LittleEndian.Uint64(x[p+6*ldx:])
			r7 := binary.LittleEndian.Uint64(x[p+7*ldx:])
			// 1×1, then 2×2, then 4×4 sub-blocks swap across the diagonal
			// (byte j of row k in bits 8j..8j+7 of rk).
			r0, r1 = swapBits(r0, r1, 8, 0x00FF00FF00FF00FF)
			r2, r3 = swapBits(r2, r3, 8, 0x00FF00FF00FF00FF)
			r4, r5 = swapBits(r4, r5, 8, 0x00FF00FF00FF00FF)
			r6, r7 = swapBits(r6, r7, 8, 0x00FF00FF00FF00FF)
			r0, r2 = swapBits(r0, r2, 16, 0x0000FFFF0000FFFF)
			r1, r3 = swapBits(r1, r3, 16, 0x0000FFFF0000FFFF)
			r4, r6 = swapBits(r4, r6, 16, 0x0000FFFF0000FFFF)
			r5, r7 = swapBits(r5, r7, 16, 0x0000FFFF0000FFFF)
			r0, r4 = swapBits(r0, r4, 32, 0x00000000FFFFFFFF)
			r1, r5 = swapBits(r1, r5, 32, 0x00000000FFFFFFFF)
			r2, r6 = swapBits(r2, r6, 32, 0x00000000FFFFFFFF)
			r3, r7 = swapBits(r3, r7, 32, 0x00000000FFFFFFFF)
			q := (g-f0)*n + i
			binary.LittleEndian.PutUint64(dst[q:], r0)
			binary.LittleEndian.PutUint64(dst[q+n:], r1)
			binary.LittleEndian.PutUint64(dst[q+2*n:], r2)
			binary.LittleEndian.PutUint64(dst[q+3*n:], r3)
			binary.LittleEndian.PutUint64(dst[q+4*n:], r4)
			binary.LittleEndian.PutUint64(dst[q+5*n:], r5)
			binary.LittleEndian.PutUint64(dst[q+6*n:], r6)
			binary.LittleEndian.PutUint64(dst[q+7*n:], r7)
		}
	}
	for i := i0; i < i1; i++ {
		row := x[i*ldx : i*ldx+g1]
		lo := g8
		if i >= i8 {
			lo = g0 // the rows below the last whole block, every column
		}
		for g := lo; g < g1; g++ {
			dst[(g-f0)*n+i] = row[g]
		}
	}
}

// swapBits exchanges the bits of a selected by mask<<shift with the bits
// of b selected by mask: one round of the 8×8 byte transpose.
func swapBits(a, b uint64, shift uint, mask uint64) (uint64, uint64) {
	t := (a>>shift ^ b) & mask
	return a ^ t<<shift, b ^ t
}
