package backend

import (
	"strings"
	"testing"
)

func TestUnitRoundoff(t *testing.T) {
	for p, want := range map[string]float64{
		"float64": 0x1p-53, "FP64": 0x1p-53, "float32": 0x1p-24,
		"tf32 Gram, float64 eig": 0x1p-11, "float32/float64": 0x1p-24,
		"bfloat16 Gram (float32 accumulate), float64 factorizations":       0x1p-8,
		"exact int8 Gram of uint8 data (float64 for other types), float64": 0x1p-53,
	} {
		if got, err := UnitRoundoff(p); err != nil || got != want {
			t.Errorf("UnitRoundoff(%q) = %g, %v; want %g", p, got, err, want)
		}
	}
	if _, err := UnitRoundoff("quad"); err == nil || !strings.Contains(err.Error(), "quad") {
		t.Errorf("unknown precision: error %v, want one naming it", err)
	}
}
