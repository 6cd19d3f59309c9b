package cpu

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// The exact uint8 Gram. Pixels are small integers, so their Gram is an
// integer matrix, and integer dot-product instructions (AVX-512 VNNI's
// VPDPBUSD: 64 byte products summed into sixteen int32 lanes per
// instruction) compute it exactly at eight times the multiply rate of a
// float64 FMA.
//
// VPDPBUSD multiplies unsigned bytes by signed ones, so the left factor is
// stored as x − 128 (x XOR 0x80) and the right as x:
//
//	P_ij = Σ_r (x_ri − 128)·x_rj,   Σ_r x_ri·x_rj = P_ij + 128·S_j,   S_j = Σ_r x_rj,
//
// and for an integral shift s the shifted Gram is
//
//	Σ_r (x_ri − s_i)(x_rj − s_j) = Σ x_ri x_rj − s_i S_j − s_j S_i + n·s_i·s_j,
//
// all in int64. Without VNNI, AVX2 computes the same P from the same packed
// bytes, widened to int16 and multiplied in pairs (VPMADDWD: 16 products an
// instruction). Each int32 lane gains at most 4·128·255 per four rows, so
// a block of u8BlockRows = 65,536 rows cannot overflow (65,536·32,640 <
// 2³¹); blocks are flushed into the float64 result, whose entries stay
// exact integers below 2⁵³ (N·255² < 2⁵³ for N up to 1.3·10¹¹).
//
// Layout: rows are taken four at a time ("quads"), and rows 4p..4p+3 of
// column j become the four bytes of one uint32 — at once a lane of a 64-byte
// vector of sixteen columns for the right factor and the 32-bit broadcast of
// one column for the left one. Both factors are packed strip by strip so
// that the micro-kernel reads memory sequentially (strided reads defeat the
// prefetchers and leave it waiting on L3): q holds strips of u8NR columns,
// quad after quad (q[J·nq·u8NR + p·u8NR + j mod u8NR]), and a strips of u8MR
// columns of the left factor x XOR 0x80 the same way.
const (
	u8MR = 8  // left-factor columns per micro-tile (broadcasts)
	u8NR = 48 // right-factor columns per micro-tile (three 16-lane vectors)
	// u8BlockRows bounds the rows summed in int32 before a flush.
	u8BlockRows = 1 << 16
	// u8KQuads is the K-block in quads: one right strip (u8KQuads·192 B)
	// stays in L2 while the left strips stream past it.
	u8KQuads = 1024
	// u8BlockBytes caps the packed copies of one block (q and a).
	u8BlockBytes = 64 << 20
)

// u8Kind names an implementation of the exact uint8 Gram's inner loops.
type u8Kind int

const (
	u8Go   u8Kind = iota // portable Go: correct, too slow to beat float64 BLAS
	u8AVX2               // VPMADDWD on bytes widened to int16: 16 products an instruction
	u8VNNI               // AVX-512 VNNI VPDPBUSD: 64 products an instruction
)

// ExactU8 reports whether the exact integer uint8 Gram runs on this CPU at
// native speed (AVX-512 VNNI or AVX2). Without it the backends convert to
// float64.
func ExactU8() bool { return u8Path != u8Go }

// IntegralShift reports whether every shift value is an integer small
// enough for the int64 corrections (|s| ≤ 2²⁰); nil counts as zero.
func IntegralShift(shift []float64) bool {
	for _, s := range shift {
		if s != math.Trunc(s) || math.Abs(s) > 1<<20 {
			return false
		}
	}
	return true
}

// GramU8 computes exact uint8 Gram updates with buffers reused across
// calls. The zero value is ready to use; it must not be used by two
// goroutines at once.
type GramU8 struct {
	q, a  []uint32
	p     []int32 // rowsPad × ld partial sums of the current block
	sums  []int32 // S_j of the current block (≤ 65,536·255), one slice per pack worker
	shift []int64
}

// AddUpper adds (X − 1·sᵀ)ᵀ(X − 1·sᵀ) into the upper triangle (i ≤ j) of
// the d×d float64 matrix c (row stride ldc), where X is n×d uint8,
// row-major with row stride ldx, and shift s is nil (zero) or holds d
// integers (see IntegralShift). The result is exact. Work is split over up
// to workers goroutines (0: GOMAXPROCS); each entry of c sums in a fixed
// order, so the result never depends on the number of workers.
func (g *GramU8) AddUpper(n, d int, x []uint8, ldx int, shift []float64, c []float64, ldc, workers int) {
	if n == 0 || d == 0 {
		return
	}
	if shift != nil && (len(shift) != d || !IntegralShift(shift)) {
		panic(fmt.Sprintf("cpu: GramU8 needs %d integral shift values, got %d", d, len(shift)))
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ld := (d + u8NR - 1) / u8NR * u8NR
	rowsPad := (d + u8MR - 1) / u8MR * u8MR
	// q and a take one byte a value each (ld and rowsPad ≤ ld columns).
	block := min(u8BlockRows, max(4*u8KQuads, u8BlockBytes/(2*ld)/4*4))
	for r0 := 0; r0 < n; r0 += block {
		nb := min(block, n-r0)
		g.block(nb, d, x[r0*ldx:], ldx, ld, rowsPad, shift, c, ldc, workers)
	}
}

// ScratchBytes is the size of the buffers g keeps between calls.
func (g *GramU8) ScratchBytes() int64 {
	return 4 * int64(cap(g.q)+cap(g.a)+cap(g.p)+cap(g.sums))
}

// block runs one flush-sized block of rows.
func (g *GramU8) block(n, d int, x []uint8, ldx, ld, rowsPad int, shift []float64, c []float64, ldc, workers int) {
	nq := (n + 3) / 4
	if cap(g.q) < nq*ld {
		g.q = make([]uint32, nq*ld)
	}
	if cap(g.a) < nq*rowsPad {
		g.a = make([]uint32, nq*rowsPad)
	}
	q, a := g.q[:nq*ld], g.a[:nq*rowsPad]
	if cap(g.p) < rowsPad*ld {
		g.p = make([]int32, rowsPad*ld)
	}
	p := g.p[:rowsPad*ld]
	if cap(g.sums) < workers*d {
		g.sums = make([]int32, workers*d)
	}
	sums := g.sums[:workers*d]
	clear(sums)

	// Pack, split by quads; each worker keeps its own column sums.
	parallel(workers, func(w int) {
		lo, hi := nq*w/workers, nq*(w+1)/workers
		packQuads(q, a, x, ldx, n, d, nq, lo, hi, sums[w*d:(w+1)*d])
	})
	s := make([]int64, d)
	for w := 0; w < workers; w++ {
		for j, v := range sums[w*d : (w+1)*d] {
			s[j] += int64(v)
		}
	}

	sh := g.shift[:0]
	for j := 0; j < d; j++ {
		v := int64(0)
		if shift != nil {
			v = int64(shift[j])
		}
		sh = append(sh, v)
	}
	g.shift = sh

	// Integer products, split by right strips: each strip's columns of p
	// belong to one worker, largest strips (most of the triangle) first.
	nj := ld / u8NR
	for k0 := 0; k0 < nq; k0 += u8KQuads {
		kq := min(u8KQuads, nq-k0)
		var next atomic.Int64
		parallel(min(workers, nj), func(int) {
			for {
				js := nj - 1 - int(next.Add(1)-1)
				if js < 0 {
					return
				}
				j0 := js * u8NR
				i1 := min(rowsPad, j0+u8NR)
				if k0 == 0 {
					for i := 0; i < i1; i++ {
						clear(p[i*ld+j0 : i*ld+j0+u8NR])
					}
				}
				bs := q[j0*nq+k0*u8NR:]
				for i0 := 0; i0 < i1; i0 += u8MR {
					kernelU8(kq, a[i0*nq+k0*u8MR:], bs, p[i0*ld+j0:], ld)
				}
			}
		})
	}
	// Then into c, row by row (rows dealt in turn, for the triangle's
	// balance). Flushing each strip as it finished walked c down a column
	// of u8NR values a row, a page apart: at D = 12,288 the flushes took as
	// long as the products (15 s of CPU in a 50,000-row pass).
	parallel(workers, func(w int) {
		for i := w; i < d; i += workers {
			flushU8Row(p[i*ld:i*ld+d], s, sh, int64(n), i, c[i*ldc:i*ldc+d])
		}
	})
}

// flushU8Row adds row i of the block's shifted Gram (pr, from the
// diagonal on) into row i of c: exact int64 corrections (see the top of
// this file), then one float64 addition per entry.
func flushU8Row(pr []int32, s, sh []int64, n int64, i int, row []float64) {
	si, ci := sh[i], s[i]
	for j := i; j < len(row); j++ {
		v := int64(pr[j]) + 128*s[j] - si*s[j] - sh[j]*ci + n*si*sh[j]
		row[j] += float64(v)
	}
}

// packQuads packs quads lo..hi of x into the strips of q and a (see the
// layout above) and adds their column sums into s: whole quads of whole
// 16-column groups through packU8 (assembly where the CPU has it), the rest
// through packU8Tail.
func packQuads(q, a []uint32, x []uint8, ldx, n, d, nq, lo, hi int, s []int32) {
	full := max(lo, min(hi, n/4))
	j0 := 0
	if full > lo {
		j0 = d / 16 * 16
		for j := 0; j < j0; j += 16 {
			packU8(full-lo, x[4*lo*ldx+j:], ldx, q[j/u8NR*u8NR*nq+lo*u8NR+j%u8NR:], a[j*nq+lo*u8MR:], u8MR*nq, s[j:j+16])
		}
	}
	packU8Tail(q, a, x, ldx, n, d, nq, lo, full, j0, s)
	packU8Tail(q, a, x, ldx, n, d, nq, full, hi, 0, s)
}

// packU8Go is the portable packU8: sixteen columns of kq whole quads (rows
// 4p..4p+3 of x, row stride ldx bytes) become one uint32 a column and
// quad, its four rows as bytes, written to q[p·u8NR + j] and, XOR
// 0x80808080, to the left strips a[p·u8MR + j] (j < 8) and a[astrip + p·u8MR
// + j − 8]; the column sums are added to sums[0:16].
func packU8Go(kq int, x []uint8, ldx int, q, a []uint32, astrip int, sums []int32) {
	sums = sums[:16]
	for p := 0; p < kq; p++ {
		r0 := x[4*p*ldx : 4*p*ldx+16]
		r1 := x[(4*p+1)*ldx : (4*p+1)*ldx+16]
		r2 := x[(4*p+2)*ldx : (4*p+2)*ldx+16]
		r3 := x[(4*p+3)*ldx : (4*p+3)*ldx+16]
		qs := q[p*u8NR : p*u8NR+16]
		for j := range qs {
			v0, v1, v2, v3 := r0[j], r1[j], r2[j], r3[j]
			v := uint32(v0) | uint32(v1)<<8 | uint32(v2)<<16 | uint32(v3)<<24
			qs[j] = v
			sums[j] += int32(v0) + int32(v1) + int32(v2) + int32(v3)
			if j < 8 {
				a[p*u8MR+j] = v ^ 0x80808080
			} else {
				a[astrip+p*u8MR+j-8] = v ^ 0x80808080
			}
		}
	}
}

// packU8Tail packs columns j0.. (j0 a multiple of u8MR) of quads lo..hi,
// reading rows past n and columns past d as zero, and adds the column sums
// into s.
func packU8Tail(q, a []uint32, x []uint8, ldx, n, d, nq, lo, hi, j0 int, s []int32) {
	ld := len(q) / nq
	rowsPad := len(a) / nq
	zero := make([]uint8, d)
	for p := lo; p < hi; p++ {
		var rows [4][]uint8
		for t := range rows {
			if r := 4*p + t; r < n {
				rows[t] = x[r*ldx : r*ldx+d : r*ldx+d]
			} else {
				rows[t] = zero
			}
		}
		r0, r1, r2, r3 := rows[0], rows[1][:d], rows[2][:d], rows[3][:d]
		s := s[:d:d]
		for js := j0 / u8NR * u8NR; js < ld; js += u8NR {
			qs := q[js*nq+p*u8NR : js*nq+(p+1)*u8NR : js*nq+(p+1)*u8NR]
			for j := max(js, j0); j < js+u8NR; j++ {
				if j >= d {
					qs[j-js] = 0
					continue
				}
				v0, v1, v2, v3 := r0[j], r1[j], r2[j], r3[j]
				qs[j-js] = uint32(v0) | uint32(v1)<<8 | uint32(v2)<<16 | uint32(v3)<<24
				s[j] += int32(v0) + int32(v1) + int32(v2) + int32(v3)
			}
		}
		for i0 := j0; i0 < rowsPad; i0 += u8MR {
			as := a[i0*nq+p*u8MR : i0*nq+(p+1)*u8MR : i0*nq+(p+1)*u8MR]
			qs := q[i0/u8NR*u8NR*nq+p*u8NR+i0%u8NR:]
			for t := range as {
				as[t] = qs[t] ^ 0x80808080
			}
		}
	}
}

// parallel runs fn(0..workers-1) on workers goroutines (the caller's being
// one of them) and waits for all.
func parallel(workers int, fn func(w int)) {
	if workers <= 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w)
		}()
	}
	fn(0)
	wg.Wait()
}

// kernelU8Go is the portable micro-kernel: the u8MR × u8NR tile of
// Σ_k a[k·u8MR + i]·b[k·u8NR + j] (bytewise, signed × unsigned) added into p.
func kernelU8Go(kq int, a, b []uint32, p []int32, ldp int) {
	var acc [u8MR][u8NR]int32
	for k := 0; k < kq; k++ {
		ar := a[k*u8MR : (k+1)*u8MR : (k+1)*u8MR]
		br := b[k*u8NR : (k+1)*u8NR : (k+1)*u8NR]
		for i, av := range ar {
			a0, a1 := int32(int8(av)), int32(int8(av>>8))
			a2, a3 := int32(int8(av>>16)), int32(int8(av>>24))
			row := &acc[i]
			for j, bv := range br {
				row[j] += a0*int32(bv&0xff) + a1*int32(bv>>8&0xff) + a2*int32(bv>>16&0xff) + a3*int32(bv>>24)
			}
		}
	}
	for i := range acc {
		row := p[i*ldp : i*ldp+u8NR]
		for j, v := range acc[i] {
			row[j] += v
		}
	}
}

// ExactU8Note is appended to a CPU backend's library description: it says
// whether uint8 Grams take the exact integer route.
func ExactU8Note() string {
	switch u8Path {
	case u8VNNI:
		return "; uint8 Gram exact in int32 (avx512-vnni)"
	case u8AVX2:
		return "; uint8 Gram exact in int32 (avx2)"
	}
	return ""
}

func (k u8Kind) String() string {
	return [...]string{"go", "avx2", "avx512-vnni"}[k]
}

// AddBytes adds the bytes of x to acc element by element (acc[j] += x[j]):
// the per-label pixel sums of a uint8 chunk. Callers keep acc small enough
// not to overflow (fewer than 2²³ rows per accumulator).
func AddBytes(acc []int32, x []uint8) {
	addBytes(acc[:len(x)], x)
}

// addBytesGo is the portable addBytes.
func addBytesGo(acc []int32, x []uint8) {
	acc = acc[:len(x)]
	for j, v := range x {
		acc[j] += int32(v)
	}
}
