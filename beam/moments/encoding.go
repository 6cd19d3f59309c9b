package moments

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/reconalign/reconalign/engine"
)

// Value encodings: a kind byte, then little-endian values. Exact sums go
// as int32 when every value fits (a group's integer Gram often does,
// and it halves what the runner moves), else as int64; float sums as
// float64.
const (
	kindInt32 = 'j'
	kindInt   = 'i'
	kindFloat = 'f'
)

func encodeSums(exact bool, vals []float64) []byte {
	if !exact {
		b := make([]byte, 1, 1+8*len(vals))
		b[0] = kindFloat
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	ints := make([]int64, len(vals))
	for i, v := range vals {
		ints[i] = int64(v)
	}
	return encodeInts(ints)
}

// encodeInts encodes integer sums in the narrowest width that holds them.
func encodeInts(vals []int64) []byte {
	narrow := true
	for _, v := range vals {
		if v != int64(int32(v)) {
			narrow = false
			break
		}
	}
	if narrow {
		b := make([]byte, 1, 1+4*len(vals))
		b[0] = kindInt32
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
		}
		return b
	}
	b := make([]byte, 1, 1+8*len(vals))
	b[0] = kindInt
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

// decodeInts reads integer sums of either width.
func decodeInts(key string, b []byte) ([]int64, error) {
	width := 8
	if len(b) > 0 && b[0] == kindInt32 {
		width = 4
	}
	if len(b) == 0 || (b[0] != kindInt && b[0] != kindInt32) || (len(b)-1)%width != 0 {
		return nil, fmt.Errorf("part %s: %d bytes are not encoded integer sums", key, len(b))
	}
	vals := make([]int64, (len(b)-1)/width)
	for i := range vals {
		if width == 4 {
			vals[i] = int64(int32(binary.LittleEndian.Uint32(b[1+4*i:])))
		} else {
			vals[i] = int64(binary.LittleEndian.Uint64(b[1+8*i:]))
		}
	}
	return vals, nil
}

// decodeSums turns summed values back into float64s; integer sums must
// have stayed below 2⁵³ to be exact there.
func decodeSums(key string, b []byte) ([]float64, error) {
	if len(b) > 0 && b[0] == kindFloat {
		if (len(b)-1)%8 != 0 {
			return nil, fmt.Errorf("part %s: %d bytes are not encoded sums", key, len(b))
		}
		vals := make([]float64, (len(b)-1)/8)
		for i := range vals {
			vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[1+8*i:]))
		}
		return vals, nil
	}
	ints, err := decodeInts(key, b)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, len(ints))
	for i, v := range ints {
		if v >= 1<<53 || v <= -(1<<53) {
			return nil, fmt.Errorf("part %s: the summed value %d has reached 2⁵³: integer moments of this many samples are no longer exact", key, v)
		}
		vals[i] = float64(v)
	}
	return vals, nil
}

// emitSums sends the partial moments as keyed parts: the upper triangle of
// the Gram as Tile×Tile tiles "g/I/J" (I ≤ J; below the diagonal of a
// diagonal tile, zeros), the sums "n" and "sx", the rows "m/K" of YᵀX, and
// for class labels the counts "c/K", for dense targets the rows "y/K" of
// YᵀY and "sy".
func emitSums(m *engine.Moments, plan Plan, emit func(string, []byte)) {
	d, t := m.D, plan.Tile
	enc := func(v []float64) []byte { return encodeSums(plan.Exact, v) }
	emit("n", enc([]float64{float64(m.N)}))
	emit("sx", enc(m.Sx))
	nt := (d + t - 1) / t
	buf := make([]float64, t*t)
	for bi := 0; bi < nt; bi++ {
		for bj := bi; bj < nt; bj++ {
			r0, r1, c0, c1 := bi*t, min(d, (bi+1)*t), bj*t, min(d, (bj+1)*t)
			w := c1 - c0
			tile := buf[:(r1-r0)*w]
			for i := r0; i < r1; i++ {
				row := tile[(i-r0)*w : (i-r0+1)*w]
				copy(row, m.G.Data[i*d+c0:i*d+c1])
				for j := c0; j < min(i, c1); j++ {
					row[j-c0] = 0
				}
			}
			emit(fmt.Sprintf("g/%d/%d", bi, bj), enc(tile))
		}
	}
	for k := 0; k < m.C; k++ {
		emit(fmt.Sprintf("m/%d", k), enc(m.M.Data[k*d:(k+1)*d]))
		switch plan.Labels {
		case engine.LabelsClasses:
			emit(fmt.Sprintf("c/%d", k), enc(m.Sy[k:k+1]))
		case engine.LabelsTargets:
			emit(fmt.Sprintf("y/%d", k), enc(m.Gy.Data[k*m.C:(k+1)*m.C]))
		}
	}
	if plan.Labels == engine.LabelsTargets {
		emit("sy", enc(m.Sy))
	}
}

// sumFn adds up the parts of one key from all groups: int64 parts exactly
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
		return nil, fmt.Errorf("summing float and integer parts (encodings %q, %q): the groups disagree on the moments' kind", a[0], b[0])
	case a[0] == kindFloat:
		if len(a) != len(b) {
			return nil, fmt.Errorf("summing parts of %d and %d bytes: the groups disagree on the shape of the moments", len(a), len(b))
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
		return nil, fmt.Errorf("summing parts of %d and %d values: the groups disagree on the shape of the moments", len(x), len(y))
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
