package cuda

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
)

func TestPlanChunksByHand(t *testing.T) {
	const gib = 1 << 30
	// ImageNet-64 on an 80 GB H100: D = 12,288.
	d := int64(12288)
	acc := 8 * d * d // 1.21 GB
	for _, c := range []struct {
		name     string
		free     int64
		t        backend.DType
		p        Precision
		wantRows int
	}{
		// uint8 in exact mode: capped by the int32 bound? No: first by the
		// 1 GiB staging buffer, 87,381 rows of 12,288 bytes.
		{"u8 exact", 79 * gib, backend.U8, ExactU8, gib / 12288},
		// float64 data: the staging bound again, 10,922 rows of 98,304 bytes.
		{"f64 fp64", 79 * gib, backend.F64, FP64, gib / (8 * 12288)},
		// A 4 GiB device: the accumulator leaves little room. Free 4 GiB,
		// reserve 512 MiB, fixed = acc + shift + reserve; per row 2·1 + 8
		// bytes per feature.
		{"u8 fp64 small", 4 * gib, backend.U8, FP64, int((4*gib - acc - 8*d - 512<<20) / (10 * d))},
	} {
		plan, err := PlanChunks(c.free, int(d), c.t, c.p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if plan.Rows != c.wantRows {
			t.Errorf("%s: %d rows, want %d", c.name, plan.Rows, c.wantRows)
		}
		if plan.DeviceBytes() > c.free {
			t.Errorf("%s: plan uses %d bytes of %d free", c.name, plan.DeviceBytes(), c.free)
		}
	}

	// Where staging does not bind, the exact mode stops at MaxExactRows.
	plan, err := PlanChunks(79*gib, 64, backend.U8, ExactU8)
	if err != nil || plan.Rows != MaxExactRows {
		t.Errorf("exact, D = 64: %d rows, %v; want %d", plan.Rows, err, MaxExactRows)
	}
	if plan.ConvBytes != 64*131072 {
		t.Errorf("exact int8 buffer %d bytes, want 64 × 131,072 (rows padded to 16)", plan.ConvBytes)
	}
	// ExactU8 means FP64 for float data.
	if plan, _ := PlanChunks(gib, 64, backend.F32, ExactU8); plan.Precision != FP64 || plan.Rows == MaxExactRows {
		t.Errorf("exact mode on float32 data planned as %s with %d rows", plan.Precision, plan.Rows)
	}
}

func TestPlanChunksDoesNotFit(t *testing.T) {
	const gib = 1 << 30
	// ImageNet at 224×224: the 150,528² float64 accumulator is 181 GB.
	_, err := PlanChunks(79*gib, 150528, backend.U8, ExactU8)
	if err == nil {
		t.Fatal("a 181 GB accumulator fitted in 79 GiB")
	}
	for _, want := range []string{"150528×150528", "exact-u8", "GiB", "79.00 GiB is free"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := PlanChunks(gib, 0, backend.U8, FP64); err == nil {
		t.Error("D = 0 planned")
	}
}

// The plan is the largest that fits: every random case uses at most the free
// memory, and one more row would not fit (unless a cap binds).
func TestPlanChunksIsTight(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < 2000; i++ {
		d := 1 + r.IntN(3000)
		free := r.Int64N(int64(1) << (20 + r.IntN(17)))
		dt := []backend.DType{backend.U8, backend.F32, backend.F64}[r.IntN(3)]
		p := Precisions[r.IntN(len(Precisions))]
		plan, err := PlanChunks(free, d, dt, p)
		if err != nil {
			if !strings.Contains(err.Error(), "is free") {
				t.Fatalf("free %d, d %d: %v", free, d, err)
			}
			continue
		}
		if plan.Rows < 1 || plan.DeviceBytes() > free {
			t.Fatalf("free %d, d %d, %v, %s: %d rows using %d bytes", free, d, dt, p, plan.Rows, plan.DeviceBytes())
		}
		capped := plan.Rows == MaxExactRows || plan.StagingBytes+plan.RawBytes/int64(plan.Rows) > maxStagingBytes
		slack := int64(0) // what the exact mode keeps for padding rows
		if plan.Precision == ExactU8 {
			slack = (exactRowAlign - 1) * roundUp(int64(d), exactColAlign)
		}
		if next := plan.withRows(plan.Rows + 1); !capped && next.DeviceBytes() <= free-slack {
			t.Fatalf("free %d, d %d, %v, %s: %d rows planned but %d fit", free, d, dt, p, plan.Rows, plan.Rows+1)
		}
	}
}
