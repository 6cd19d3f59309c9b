package moments

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/reconalign/reconalign/engine"
)

// Parts travel as a kind byte and then their values, little-endian. Float
// sums go as float64s; exact sums as integers of the fewest bytes that
// hold every value of the part (a width byte follows the kind): a group's
// uint8 Gram needs 4 or 5 bytes a value where int64 takes 8, and every
// byte saved is a byte Prism's shuffle (or Dataflow's) does not move twice.
const (
	kindFloat = 'f'
	kindInt   = 'w'
)

// width is the fewest bytes that hold v in two's complement.
func width(v int64) int {
	u := uint64(v)
	if v < 0 {
		u = ^u
	}
	return (bits.Len64(u) + 1 + 7) / 8 // magnitude bits and a sign bit
}

// intPart encodes n integers given by at(i), in the width of the widest.
func intPart(n int, at func(int) int64) []byte {
	w := 1
	for i := 0; i < n && w < 8; i++ {
		w = max(w, width(at(i)))
	}
	// Each value is stored as a whole uint64 and the next one overwrites
	// its bytes past w: eight bytes of slack keep the last store in bounds.
	b := make([]byte, 2+n*w+8)
	b[0], b[1] = kindInt, byte(w)
	for i, off := 0, 2; i < n; i, off = i+1, off+w {
		binary.LittleEndian.PutUint64(b[off:], uint64(at(i)))
	}
	return b[: 2+n*w : 2+n*w]
}

func encodeInts(vals []int64) []byte {
	return intPart(len(vals), func(i int) int64 { return vals[i] })
}

// encodeSums encodes sums: exact ones (integers held in float64s) as
// integers, others as float64s.
func encodeSums(exact bool, vals []float64) []byte {
	if exact {
		return intPart(len(vals), func(i int) int64 { return int64(vals[i]) })
	}
	b := make([]byte, 1+8*len(vals))
	b[0] = kindFloat
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[1+8*i:], math.Float64bits(v))
	}
	return b
}

// decodeInts reads an integer part.
func decodeInts(key string, b []byte) ([]int64, error) {
	if len(b) < 2 || b[0] != kindInt || b[1] < 1 || b[1] > 8 || (len(b)-2)%int(b[1]) != 0 {
		return nil, fmt.Errorf("part %s: %d bytes are not encoded integer sums", key, len(b))
	}
	w := int(b[1])
	vals := make([]int64, (len(b)-2)/w)
	shift := uint(64 - 8*w)
	var last [8]byte
	for i, off := 0, 2; i < len(vals); i, off = i+1, off+w {
		src := b[off:]
		if len(src) < 8 { // the last values: no slack after them
			copy(last[:], src[:w])
			src = last[:]
		}
		// Keep the value's w bytes and extend its sign.
		vals[i] = int64(binary.LittleEndian.Uint64(src)<<shift) >> shift
	}
	return vals, nil
}

// decodeSums turns a part back into float64s; integer sums must have
// stayed below 2⁵³ to be exact there.
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

// sumFn adds up the parts of one key from all groups: integer parts
// exactly (an int64 never wraps before a sum of uint8 moments passes 2⁵³,
// which the assembly refuses), float64 parts in whatever order the runner
// combines them. The accumulator is the encoded part itself.
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

// Gram tiles: the upper triangle of the D×D Gram is cut into T×T tiles
// keyed "g/I/J", I ≤ J. A tile off the diagonal travels whole, row by row;
// a diagonal tile travels as its upper triangle only, row i from its
// diagonal on, which halves what a Gram with D ≤ T moves.

// tileBounds are the rows and columns of tile (bi, bj).
func tileBounds(d, t, bi, bj int) (r0, r1, c0, c1 int) {
	return bi * t, min(d, (bi+1)*t), bj * t, min(d, (bj+1)*t)
}

// tileLen is the number of values tile (bi, bj) carries.
func tileLen(d, t, bi, bj int) int {
	r0, r1, c0, c1 := tileBounds(d, t, bi, bj)
	if bi == bj {
		w := r1 - r0
		return w * (w + 1) / 2
	}
	return (r1 - r0) * (c1 - c0)
}

// eachInTile calls f with the index into the row-major D×D Gram of each
// value tile (bi, bj) carries, in order.
func eachInTile(d, t, bi, bj int, f func(k, gi int)) {
	r0, r1, c0, c1 := tileBounds(d, t, bi, bj)
	k := 0
	for i := r0; i < r1; i++ {
		from := c0
		if bi == bj {
			from = i
		}
		for j := from; j < c1; j++ {
			f(k, i*d+j)
			k++
		}
	}
}

// emitSums sends the partial moments as keyed parts: the Gram's tiles
// "g/I/J", the sums "n" and "sx", the rows "m/K" of YᵀX, and for class
// labels the counts "c/K", for dense targets the rows "y/K" of YᵀY and
// "sy".
func emitSums(m *engine.Moments, plan Plan, emit func(string, []byte)) {
	d, t := m.D, plan.Tile
	enc := func(v []float64) []byte { return encodeSums(plan.Exact, v) }
	emit("n", enc([]float64{float64(m.N)}))
	emit("sx", enc(m.Sx))
	nt := (d + t - 1) / t
	buf := make([]float64, t*t)
	for bi := 0; bi < nt; bi++ {
		for bj := bi; bj < nt; bj++ {
			tile := buf[:tileLen(d, t, bi, bj)]
			eachInTile(d, t, bi, bj, func(k, gi int) { tile[k] = m.G.Data[gi] })
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
