package cpu

import "fmt"

// Micro-tile and blocking sizes (see the top of gemm.go). An 8×24 tile
// keeps 24 eight-wide accumulators in AVX-512's 32 registers, with room for
// the three vectors of b and the broadcasts of a: 24 FMAs for 11 loads a
// step. Every kernel path reads the same packed strips: the AVX2 one covers
// the tile in 4×8 pieces, the Go one in 2×4.
const (
	mr = 8
	nr = 24
	kc = 128
	// tileM × tileN are the c tiles handed to workers (multiples of mr and nr).
	tileM = 192
	tileN = 192
)

// Gram computes Gram, GEMM, SYRK and SYR2K updates with packing buffers
// reused across calls. The zero value is ready to use; a Gram must not be
// used by two goroutines at once.
type Gram struct {
	a, b []float64 // the factors packed as strips of mr rows (a) and nr columns (b)
	// acc is each worker's tile accumulator, kept between calls: a blocked
	// reduction makes thousands of products, and a fresh 288 KB a worker a
	// call was garbage enough to let the Go heap grow far past its live
	// size between collections.
	acc [][]float64
	sym []symmWork // SymmUpper's workers
}

// GramUpper adds XᵀX into the upper triangle (i ≤ j) of the d×d matrix c
// (row stride ldc), where X is n×d row-major with row stride ldx: the SYRK
// c ← Xᵀ·X + c. Only the upper triangle of c is read or written. Up to
// workers goroutines (0: GOMAXPROCS) share the work; each entry of c sums
// in a fixed order, so the result does not depend on their number.
func (g *Gram) GramUpper(n, d int, x []float64, ldx int, c []float64, ldc int, workers int) {
	g.Syrk(true, d, n, 1, x, ldx, 1, c, ldc, workers)
}

// GramUpper is Gram.GramUpper with buffers allocated for this call.
func GramUpper(n, d int, x []float64, ldx int, c []float64, ldc int, workers int) {
	var g Gram
	g.GramUpper(n, d, x, ldx, c, ldc, workers)
}

// kernelGo is the portable micro-kernel: c[r][q] += Σ_p a[p·mr+r]·b[p·nr+q]
// for the mr×nr tile, in 2×4 blocks: their eight sums and six operands fit
// amd64's sixteen floating-point registers (4×4 blocks spill and run at
// half the speed).
func kernelGo(k int, a, b, c []float64, ldc int) {
	a, b = a[:k*mr], b[:k*nr]
	for r := 0; r < mr; r += 2 {
		for q := 0; q < nr; q += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float64
			for p := 0; p < k; p++ {
				ar := a[p*mr+r : p*mr+r+2 : p*mr+r+2]
				br := b[p*nr+q : p*nr+q+4 : p*nr+q+4]
				a0, a1 := ar[0], ar[1]
				b0, b1, b2, b3 := br[0], br[1], br[2], br[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			r0 := c[r*ldc+q : r*ldc+q+4 : r*ldc+q+4]
			r1 := c[(r+1)*ldc+q : (r+1)*ldc+q+4 : (r+1)*ldc+q+4]
			r0[0] += c00
			r0[1] += c01
			r0[2] += c02
			r0[3] += c03
			r1[0] += c10
			r1[1] += c11
			r1[2] += c12
			r1[3] += c13
		}
	}
}

// f64Kind names an implementation of the float64 inner loops: the GEMM
// micro-kernel and the plane rotations.
type f64Kind int

const (
	f64Go     f64Kind = iota // portable Go
	f64AVX2                  // AVX2/FMA: the 8×24 tile in 4×8 pieces
	f64AVX512                // AVX-512F: the 8×24 tile in one pass (rotations as AVX2)
)

func (k f64Kind) String() string {
	return [...]string{"go", "avx2-fma", "avx512"}[k]
}

// ScratchBytes is the size of the buffers g keeps between calls.
func (g *Gram) ScratchBytes() int64 {
	n := int64(cap(g.a) + cap(g.b))
	for _, a := range g.acc {
		n += int64(cap(a))
	}
	for _, w := range g.sym {
		n += int64(cap(w.acc) + cap(w.pack))
	}
	return 8 * n
}

// Kernel names the float64 micro-kernel in use, for backend descriptions.
func Kernel() string { return fmt.Sprintf("%v %dx%d", f64Path, mr, nr) }
