// Package kernels holds the CUDA C kernels of the GPU backend (backend/cuda),
// embedded as source and compiled at run time by NVRTC (so building needs no
// CUDA toolkit), together with their launch geometry and a Go reference
// implementation of each kernel. The CPU micro-kernels are in kernels/cpu.
//
// The Go references define what each kernel computes. The CPU stand-in for the
// GPU used by backend/cuda's tests runs them, and this package's tests run the
// CUDA source itself on the CPU (g++ with a small emulation of blocks, threads
// and __syncthreads) and compare it with them, so that a kernel's indexing is
// checked on a machine without a GPU.
package kernels

import (
	_ "embed"
	"fmt"
	"math"
)

// Source is the CUDA C source of every kernel (gram.cu).
//
//go:embed gram.cu
var Source string

// Names lists the kernels of Source, in no particular order.
var Names = []string{
	"convert_u8_f64", "convert_f32_f64", "convert_f64_f64",
	"convert_u8_f32", "convert_f32_f32", "convert_f64_f32",
	"convert_u8_bf16", "convert_f32_bf16", "convert_f64_bf16",
	"u8_to_i8_t", "colsum_u8", "exact_finish", "add_lower_f32", "gather_t",
}

// Elem is the element type of a device array, as the kernels name it.
type Elem int

const (
	U8   Elem = iota // unsigned char
	F32              // float
	F64              // double
	BF16             // bfloat16, stored as the upper 16 bits of a float32
)

func (e Elem) String() string {
	switch e {
	case U8:
		return "u8"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("Elem(%d)", int(e))
}

// Size is the width of one element in bytes.
func (e Elem) Size() int {
	switch e {
	case U8:
		return 1
	case BF16:
		return 2
	case F32:
		return 4
	}
	return 8
}

// ConvertName is the kernel converting in to out (in: U8, F32, F64; out: F64,
// F32, BF16).
func ConvertName(in, out Elem) string {
	if in == BF16 || out == U8 {
		panic(fmt.Sprintf("kernels: no conversion from %v to %v", in, out))
	}
	return "convert_" + in.String() + "_" + out.String()
}

// Config is a launch geometry: grid and block sizes in x, y, z.
type Config struct {
	Grid, Block [3]uint32
}

// maxGridX bounds the grid of the grid-stride kernels; more blocks than this
// only add scheduling work.
const maxGridX = 1 << 20

// Elementwise is the geometry of the convert kernels for total elements.
func Elementwise(total int64) Config {
	blocks := (total + 255) / 256
	blocks = max(1, min(blocks, maxGridX))
	return Config{Grid: [3]uint32{uint32(blocks), 1, 1}, Block: [3]uint32{256, 1, 1}}
}

// Tiled is the geometry of the 32×32-tile kernels (u8_to_i8_t, exact_finish,
// add_lower_f32, gather_t) over an x × y index space.
func Tiled(x, y int64) Config {
	return Config{Grid: [3]uint32{uint32(ceilDiv(x, 32)), uint32(ceilDiv(y, 32)), 1}, Block: [3]uint32{32, 8, 1}}
}

// ColSum is the geometry of colsum_u8 for an n × d chunk, and the number of
// rows each block sums (the kernel's rows_per_block argument). Grid y stays
// below the hardware's 65,535.
func ColSum(n, d int64) (Config, int64) {
	rows := max(256, ceilDiv(n, 4096))
	return Config{Grid: [3]uint32{uint32(ceilDiv(d, 256)), uint32(max(1, ceilDiv(n, rows))), 1}, Block: [3]uint32{256, 1, 1}}, rows
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// MaxTiledY is the largest y extent Tiled can cover (grid y ≤ 65,535 blocks).
const MaxTiledY = 65535 * 32

// BF16Bits rounds f to the nearest bfloat16 (ties to even) and returns its
// bit pattern, as the kernels' f32_to_bf16 does.
func BF16Bits(f float32) uint16 {
	if f != f {
		return 0x7FC0
	}
	u := math.Float32bits(f)
	u += 0x7FFF + ((u >> 16) & 1)
	return uint16(u >> 16)
}

// BF16Float returns the float32 value of a bfloat16 bit pattern.
func BF16Float(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// ConvertRef is the convert_<in>_<out> kernel: dst[i] = src[i] − shift[i % d]
// over the n·d elements of a row-major chunk, in float64, rounded once to the
// type of dst. src is []uint8, []float32 or []float64; dst is []float64,
// []float32 or []uint16 (bfloat16 bits); shift may be nil.
func ConvertRef(dst, src any, shift []float64, n, d int) {
	total := n * d
	in := func(i int) float64 {
		switch s := src.(type) {
		case []uint8:
			return float64(s[i])
		case []float32:
			return float64(s[i])
		case []float64:
			return s[i]
		}
		panic(fmt.Sprintf("kernels: ConvertRef source of type %T", src))
	}
	for i := 0; i < total; i++ {
		v := in(i)
		if shift != nil {
			v -= shift[i%d]
		}
		switch o := dst.(type) {
		case []float64:
			o[i] = v
		case []float32:
			o[i] = float32(v)
		case []uint16:
			o[i] = BF16Bits(float32(v))
		default:
			panic(fmt.Sprintf("kernels: ConvertRef destination of type %T", dst))
		}
	}
}

// U8ToI8TRef is the u8_to_i8_t kernel: zt[c·kpad + r] = x[r·d + c] − 128 for
// r < n and c < d, and 0 in the padding rows n ≤ r < kpad and features
// d ≤ c < dpad.
func U8ToI8TRef(zt []int8, x []uint8, n, d, dpad, kpad int) {
	for c := 0; c < dpad; c++ {
		for r := 0; r < kpad; r++ {
			v := int8(0)
			if r < n && c < d {
				v = int8(int(x[r*d+c]) - 128)
			}
			zt[c*kpad+r] = v
		}
	}
}

// ColSumU8Ref is the colsum_u8 kernel: sums[c] += Σ_r x[r·d + c].
func ColSumU8Ref(sums []uint64, x []uint8, n, d int) {
	for r := 0; r < n; r++ {
		for c, v := range x[r*d : (r+1)*d] {
			sums[c] += uint64(v)
		}
	}
}

// ExactFinishRef is the exact_finish kernel: for i ≥ j it adds to
// acc[i + j·d] the Gram entry gi[i + j·ldg] + 128(c_i + c_j) − 16384·n of the
// uint8 chunk, corrected for the optional shift s by
// − c_i s_j − s_i c_j + n s_i s_j.
func ExactFinishRef(acc []float64, gi []int32, ldg int, colsum []uint64, shift []float64, n, d int) {
	for j := 0; j < d; j++ {
		for i := j; i < d; i++ {
			idx := i + j*d
			ci, cj := int64(colsum[i]), int64(colsum[j])
			v := float64(int64(gi[i+j*ldg]) + 128*(ci+cj) - 16384*int64(n))
			if shift != nil {
				si, sj := shift[i], shift[j]
				v += float64(n)*si*sj - float64(ci)*sj - si*float64(cj)
			}
			acc[idx] += v
		}
	}
}

// AddLowerF32Ref is the add_lower_f32 kernel: acc[i + j·d] += s[i + j·d] for i ≥ j.
func AddLowerF32Ref(acc []float64, s []float32, d int) {
	for j := 0; j < d; j++ {
		for i := j; i < d; i++ {
			acc[i+j*d] += float64(s[i+j*d])
		}
	}
}

// GatherTRef is the gather_t kernel: dst[r·cols + j] = src[r + c·ld] with
// c = col0 + j, or col0 + cols − 1 − j when reverse.
func GatherTRef(dst, src []float64, ld, rows, cols, col0 int, reverse bool) {
	for r := 0; r < rows; r++ {
		for j := 0; j < cols; j++ {
			c := col0 + j
			if reverse {
				c = col0 + cols - 1 - j
			}
			dst[r*cols+j] = src[r+c*ld]
		}
	}
}
