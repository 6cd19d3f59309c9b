package cuda

import (
	"fmt"
	"strings"

	"github.com/reconalign/reconalign/backend"
)

// Precision is the arithmetic of the Gram (GramAdd and the Gram* methods).
// Factorizations and Gemm are float64 in every mode.
type Precision string

const (
	// FP64 converts every chunk to float64 and accumulates with cublasDsyrk.
	FP64 Precision = "fp64"
	// FP32 converts chunks to float32 (after the float64 shift) and multiplies
	// in float32 (no tensor-core shortcuts); each chunk's product is added to
	// the float64 accumulator.
	FP32 Precision = "fp32"
	// TF32 is FP32 with the products on the tensor cores in TF32 (10-bit
	// mantissa inputs): about 5× faster, about 1e-3 relative error.
	TF32 Precision = "tf32"
	// BF16 rounds chunks to bfloat16 and multiplies on the tensor cores with
	// float32 accumulation. uint8 pixels are exact in bfloat16 and so are their
	// products in float32; only the float32 sum over a chunk's rows rounds.
	BF16 Precision = "bf16"
	// ExactU8 computes the Gram of uint8 chunks exactly: pixels shifted by
	// −128 to int8, int8×int8 products summed in int32 on the tensor cores,
	// corrected with the column sums in int64. Other element types fall back
	// to FP64. A shift is applied to the exact sums in float64.
	ExactU8 Precision = "exact-u8"
)

// Precisions lists the modes, fastest last.
var Precisions = []Precision{FP64, FP32, TF32, BF16, ExactU8}

// ParsePrecision accepts the names of Precisions.
func ParsePrecision(s string) (Precision, error) {
	for _, p := range Precisions {
		if string(p) == s {
			return p, nil
		}
	}
	names := make([]string, len(Precisions))
	for i, p := range Precisions {
		names[i] = string(p)
	}
	return "", fmt.Errorf("unknown GPU precision %q: want one of %s", s, strings.Join(names, ", "))
}

// For is the mode actually used for chunks of type t: ExactU8 applies to
// uint8 data only.
func (p Precision) For(t backend.DType) Precision {
	if p == ExactU8 && t != backend.U8 {
		return FP64
	}
	return p
}

// convBytes is the width of one converted element.
func (p Precision) convBytes() int64 {
	switch p {
	case FP32, TF32:
		return 4
	case BF16:
		return 2
	case ExactU8:
		return 1
	}
	return 8
}

// MaxExactRows is the most rows one int32 product may sum: |z_i·z_j| ≤ 128² =
// 16,384 for shifted pixels z ∈ [−128, 127], and 131,071 · 16,384 =
// 2,147,467,264 ≤ 2³¹ − 1 < 131,072 · 16,384.
const MaxExactRows = 131071

const (
	// reserveBytes is left free on the device for cuBLAS's workspace, the
	// kernels' module and allocator fragmentation (an eighth of the free
	// memory on devices under 4 GiB).
	reserveBytes = 512 << 20
	// maxStagingBytes bounds each of the two page-locked host buffers a chunk
	// is staged in: page-locking is slow and the memory is taken from the host.
	maxStagingBytes = 1 << 30
	// exactRowAlign pads the int8 chunk's sample count so that its leading
	// dimension is a multiple of 16, and exactColAlign its feature count so
	// that the int32 product's is a multiple of 8: cuBLAS's int8 path needs
	// multiples of 4 at least, and aligned ones take the fast kernels.
	exactRowAlign = 16
	exactColAlign = 8
	// maxChunkRows keeps every index of a chunk inside cuBLAS's int arguments.
	maxChunkRows = 1 << 30
)

// ChunkPlan is how the Gram uses device memory: the accumulator and scratch
// matrices, and two raw buffers plus one converted buffer of Rows rows each.
type ChunkPlan struct {
	D         int
	DType     backend.DType
	Precision Precision // the mode used for this element type (see Precision.For)
	Rows      int       // rows per device chunk; larger chunks are split
	// RawBytes and ConvBytes are the sizes of one raw (as uploaded) and of
	// the converted chunk buffer; StagingBytes is each page-locked host buffer.
	RawBytes, ConvBytes, StagingBytes int64
	// FixedBytes is what does not depend on Rows: the d×d float64
	// accumulator, the d×d 32-bit scratch of the non-fp64 modes, vectors and
	// the reserve. DeviceBytes() never exceeds the free memory planned for.
	FixedBytes int64
}

// DeviceBytes is the device memory the plan uses (reserve included).
func (p ChunkPlan) DeviceBytes() int64 { return p.FixedBytes + 2*p.RawBytes + p.ConvBytes }

func elemBytes(t backend.DType) int64 {
	switch t {
	case backend.U8:
		return 1
	case backend.F32:
		return 4
	}
	return 8
}

// PlanChunks decides how many rows of a d-feature chunk of type t the device
// processes at a time with freeBytes of device memory, in precision p: as
// many as fit beside the accumulator with double-buffered uploads, within
// the staging bound and, for ExactU8, MaxExactRows. It fails when not even the
// accumulator and one row fit, saying how much is needed.
func PlanChunks(freeBytes int64, d int, t backend.DType, p Precision) (ChunkPlan, error) {
	if d <= 0 {
		return ChunkPlan{}, fmt.Errorf("cuda: cannot plan a Gram of %d features", d)
	}
	eff := p.For(t)
	dd := int64(d)
	reserve := min(reserveBytes, freeBytes/8)
	fixed := 8*dd*dd + 8*dd + reserve // accumulator, shift, reserve
	switch eff {
	case FP32, TF32, BF16:
		fixed += 4 * dd * dd // float32 product of one chunk
	case ExactU8:
		dp := roundUp(dd, exactColAlign)
		fixed += 4*dp*dp + 8*dd // int32 product of one chunk, column sums
	}
	avail := freeBytes - fixed
	raw := elemBytes(t) * dd
	perRow := 2*raw + eff.convBytes()*dd
	if eff == ExactU8 {
		// The int8 chunk is padded to multiples of exactRowAlign rows and
		// exactColAlign features.
		dp := roundUp(dd, exactColAlign)
		perRow = 2*raw + dp
		avail -= (exactRowAlign - 1) * dp
	}
	plan := ChunkPlan{D: d, DType: t, Precision: eff, FixedBytes: fixed}
	if avail < perRow {
		return plan, fmt.Errorf("cuda: a %d×%d Gram in %s needs %s of device memory for its accumulator and scratch "+
			"(%s kept in reserve) plus %s per row of data, but only %s is free",
			d, d, eff, gib(fixed), gib(reserve), gib(perRow), gib(freeBytes))
	}
	rows := avail / perRow
	rows = min(rows, max(1, maxStagingBytes/raw), maxChunkRows)
	if eff == ExactU8 {
		rows = min(rows, MaxExactRows)
	}
	return plan.withRows(int(rows)), nil
}

// withRows sizes the chunk buffers for rows rows.
func (p ChunkPlan) withRows(rows int) ChunkPlan {
	r, dd := int64(rows), int64(p.D)
	p.Rows = rows
	p.RawBytes = r * elemBytes(p.DType) * dd
	p.StagingBytes = p.RawBytes
	p.ConvBytes = p.Precision.convBytes() * dd * r
	if p.Precision == ExactU8 {
		p.ConvBytes = roundUp(dd, exactColAlign) * roundUp(r, exactRowAlign)
	}
	return p
}

func roundUp(n, k int64) int64 { return (n + k - 1) / k * k }

func gib(b int64) string {
	if b < 1<<30 {
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
}
