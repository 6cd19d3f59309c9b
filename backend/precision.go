package backend

import (
	"fmt"
	"strings"
)

// UnitRoundoff maps an Info().Precision to the unit roundoff of the
// coarsest arithmetic it names: a precision string may name several
// ("float32 Gram, float64 factorizations") and the coarsest one bounds the
// error. Exact integer modes name float64 for what is not integer and are
// held to its roundoff. A string that names no known arithmetic is an
// error: no tolerance can be chosen for it.
func UnitRoundoff(precision string) (float64, error) {
	known := []struct {
		names []string
		u     float64
	}{
		{[]string{"bfloat16", "bf16"}, 0x1p-8},
		{[]string{"float16", "fp16", "half", "tf32"}, 0x1p-11},
		{[]string{"float32", "fp32", "single"}, 0x1p-24},
		{[]string{"float64", "fp64", "double"}, 0x1p-53},
	}
	p := strings.ToLower(precision)
	for _, k := range known {
		for _, name := range k.names {
			if strings.Contains(p, name) {
				return k.u, nil
			}
		}
	}
	return 0, fmt.Errorf("precision %q names no arithmetic this package knows (float64, float32, tf32, float16, bfloat16)", precision)
}
