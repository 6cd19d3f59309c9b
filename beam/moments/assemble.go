package moments

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// sumFn adds up the parts of one key from all bundles: int64 parts exactly
// (an int64 never wraps before a sum of uint8 moments passes 2⁵³, which the
// assembly refuses), float64 parts in whatever order the runner combines
// them. The accumulator is the encoded part itself.
type sumFn struct{}

func (sumFn) MergeAccumulators(a, b []byte) ([]byte, error) {
	switch {
	case len(a) == 0:
		return append([]byte(nil), b...), nil
	case len(b) == 0:
		return a, nil
	case (a[0] == kindFloat) != (b[0] == kindFloat):
		return nil, fmt.Errorf("summing float and integer parts (encodings %q, %q): the bundles disagree on the moments' kind", a[0], b[0])
	case a[0] == kindFloat:
		if len(a) != len(b) {
			return nil, fmt.Errorf("summing parts of %d and %d bytes: the bundles disagree on the shape of the moments", len(a), len(b))
		}
		le := binary.LittleEndian
		for i := 1; i < len(a); i += 8 {
			le.PutUint64(a[i:], math.Float64bits(math.Float64frombits(le.Uint64(a[i:]))+math.Float64frombits(le.Uint64(b[i:]))))
		}
		return a, nil
	}
	x, err := decodeInts("", a)
	if err != nil {
		return nil, err
	}
	y, err := decodeInts("", b)
	if err != nil {
		return nil, err
	}
	if len(x) != len(y) {
		return nil, fmt.Errorf("summing parts of %d and %d values: the bundles disagree on the shape of the moments", len(x), len(y))
	}
	for i, v := range y {
		s := x[i] + v
		if (x[i] >= 0) == (v >= 0) && (s >= 0) != (v >= 0) {
			return nil, fmt.Errorf("an integer sum overflows int64")
		}
		x[i] = s
	}
	return encodeInts(x), nil
}

// writeFn assembles the summed parts into moments and writes the file.
type writeFn struct {
	Out string
}

func (fn *writeFn) ProcessElement(ctx context.Context, _ int, parts func(*Part) bool, plan Plan, emit func(string)) error {
	m, err := assemble(plan, parts)
	if err != nil {
		return err
	}
	meta := data.Meta{D: plan.D, DType: dtypeOf(plan.DType), Shape: data.Shape{H: plan.H, W: plan.W, C: plan.C, Layout: data.Layout(plan.Layout)}}
	switch plan.Labels {
	case engine.LabelsClasses:
		meta.Classes = m.C
	case engine.LabelsTargets:
		meta.Targets = m.C
	}
	mm := engine.MomentsMetaOf(meta, append(append([]string{}, plan.DataFiles...), plan.LabelFiles...))
	if err := writeOutput(ctx, fn.Out, func(local string) error { return engine.SaveMoments(local, m, mm) }); err != nil {
		return err
	}
	emit(fn.Out)
	return nil
}

func dtypeOf(s string) backend.DType {
	switch s {
	case "uint8":
		return backend.U8
	case "float32":
		return backend.F32
	}
	return backend.F64
}

// assemble builds the moments from the summed parts (see emitSums).
func assemble(plan Plan, parts func(*Part) bool) (*engine.Moments, error) {
	d, t := plan.D, plan.Tile
	m, err := engine.NewMoments(d, 0)
	if err != nil {
		return nil, err
	}
	rows, yrows, counts := map[int][]float64{}, map[int][]float64{}, map[int]float64{}
	var sy []float64
	haveN, tiles := false, 0
	index := func(key string, n int) ([]int, error) {
		f := strings.Split(key, "/")[1:]
		if len(f) != n {
			return nil, fmt.Errorf("malformed part key %q", key)
		}
		out := make([]int, n)
		for i, s := range f {
			v, err := strconv.Atoi(s)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("malformed part key %q", key)
			}
			out[i] = v
		}
		return out, nil
	}
	var p Part
	for parts(&p) {
		vals, err := decodeSums(p.Key, p.Vals)
		if err != nil {
			return nil, err
		}
		kind, _, _ := strings.Cut(p.Key, "/")
		var ix []int
		switch kind {
		case "g":
			ix, err = index(p.Key, 2)
		case "m", "c", "y":
			ix, err = index(p.Key, 1)
		}
		if err != nil {
			return nil, err
		}
		switch kind {
		case "n":
			m.N, haveN = int(vals[0]), true
		case "sx":
			if len(vals) != d {
				return nil, fmt.Errorf("part sx has %d values for D = %d", len(vals), d)
			}
			copy(m.Sx, vals)
		case "sy":
			sy = vals
		case "g":
			r0, c0 := ix[0]*t, ix[1]*t
			r1, c1 := min(d, r0+t), min(d, c0+t)
			if r0 >= d || c0 >= d || len(vals) != (r1-r0)*(c1-c0) {
				return nil, fmt.Errorf("Gram tile %s does not fit D = %d with tiles of %d", p.Key, d, t)
			}
			w := c1 - c0
			for i := r0; i < r1; i++ {
				copy(m.G.Data[i*d+c0:i*d+c1], vals[(i-r0)*w:(i-r0+1)*w])
			}
			tiles++
		case "m":
			if len(vals) != d {
				return nil, fmt.Errorf("part %s has %d values for D = %d", p.Key, len(vals), d)
			}
			rows[ix[0]] = vals
		case "c":
			counts[ix[0]] = vals[0]
		case "y":
			yrows[ix[0]] = vals
		default:
			return nil, fmt.Errorf("unknown part %q", p.Key)
		}
	}
	nt := (d + t - 1) / t
	if !haveN || m.N == 0 {
		return nil, fmt.Errorf("no samples reached the assembly")
	}
	if tiles != nt*(nt+1)/2 {
		return nil, fmt.Errorf("%d Gram tiles reached the assembly, %d expected", tiles, nt*(nt+1)/2)
	}
	c := 0
	switch plan.Labels {
	case engine.LabelsClasses:
		for k := range rows {
			c = max(c, k+1)
		}
		for k := range counts {
			c = max(c, k+1)
		}
	case engine.LabelsTargets:
		c = plan.Targets
	}
	m.C, m.M, m.Gy, m.Sy = c, backend.NewGeneral(c, d), backend.NewGeneral(c, c), make([]float64, c)
	keys := make([]int, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		if k >= c {
			return nil, fmt.Errorf("row %d of YᵀX for %d target columns", k, c)
		}
		copy(m.M.Data[k*d:(k+1)*d], rows[k])
	}
	switch plan.Labels {
	case engine.LabelsClasses:
		// One-hot labels: YᵀY is diagonal with the class counts, Σy the counts.
		for k, v := range counts {
			m.Gy.Data[k*c+k], m.Sy[k] = v, v
		}
	case engine.LabelsTargets:
		for k, r := range yrows {
			if k >= c || len(r) != c {
				return nil, fmt.Errorf("row %d of YᵀY has %d values for %d target columns", k, len(r), c)
			}
			copy(m.Gy.Data[k*c:(k+1)*c], r)
		}
		if len(sy) != c {
			return nil, fmt.Errorf("Σy has %d values for %d target columns", len(sy), c)
		}
		copy(m.Sy, sy)
	}
	m.Shift = make([]float64, d)
	if !plan.Exact {
		copy(m.Shift, plan.Shift)
	}
	m.Integer = plan.Exact || plan.DType == "uint8" && integral(m.Shift)
	return m, nil
}

func integral(s []float64) bool {
	for _, v := range s {
		if v != math.Trunc(v) {
			return false
		}
	}
	return true
}
