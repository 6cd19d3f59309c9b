package moments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// writeFn assembles the summed parts into moments and writes the file.
type writeFn struct {
	Out string
}

func (fn *writeFn) ProcessElement(ctx context.Context, _ int, parts func(*Part) bool, emit func(string)) error {
	rec, rest, err := withPlan(parts)
	if err != nil {
		return err
	}
	plan := rec.Plan
	m, err := assemble(plan, rest)
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
	mm := engine.MomentsMetaOf(meta, append(append([]string{}, rec.Sources.Data...), rec.Sources.Labels...))
	if err := writeOutput(ctx, fn.Out, func(local string) error { return engine.SaveMoments(local, m, mm) }); err != nil {
		return err
	}
	emit(fn.Out)
	return nil
}

// planKey keys the part that carries the plan and the shard lists to the
// assembly, among the summed parts.
const planKey = "plan"

// planRecord is what the plan part holds.
type planRecord struct {
	Plan    Plan
	Sources Sources
}

func planPart(plan Plan, src Sources) (Part, error) {
	b, err := json.Marshal(planRecord{Plan: plan, Sources: src})
	if err != nil {
		return Part{}, err
	}
	return Part{Key: planKey, Vals: b}, nil
}

// withPlan finds the plan among the parts, which arrive in no set order,
// and returns it with the other parts: those read before it (kept, still
// encoded) and then the rest.
func withPlan(parts func(*Part) bool) (planRecord, func(*Part) bool, error) {
	var rec planRecord
	var before []Part
	for {
		var p Part
		if !parts(&p) {
			return rec, nil, errors.New("the plan did not reach the assembly")
		}
		if p.Key != planKey {
			before = append(before, p)
			continue
		}
		if err := json.Unmarshal(p.Vals, &rec); err != nil {
			return rec, nil, fmt.Errorf("the plan part: %w", err)
		}
		return rec, func(p *Part) bool {
			if len(before) > 0 {
				*p, before = before[0], before[1:]
				return true
			}
			return parts(p)
		}, nil
	}
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
			bi, bj := ix[0], ix[1]
			if bi > bj || bi*t >= d || bj*t >= d || len(vals) != tileLen(d, t, bi, bj) {
				return nil, fmt.Errorf("Gram tile %s does not fit D = %d with tiles of %d", p.Key, d, t)
			}
			eachInTile(d, t, bi, bj, func(k, gi int) { m.G.Data[gi] = vals[k] })
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
