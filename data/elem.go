package data

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/reconalign/reconalign/backend"
)

// elemType is the element type of an array on disk: its kind ('u' unsigned,
// 'i' signed, 'f' IEEE float), its size in bytes and its byte order.
type elemType struct {
	kind byte
	size int
	big  bool
}

// String spells the type as NumPy's dtype.str does ("|u1", "<f4", ">i2").
func (e elemType) String() string {
	order := byte('<')
	switch {
	case e.size == 1:
		order = '|'
	case e.big:
		order = '>'
	}
	return fmt.Sprintf("%c%c%d", order, e.kind, e.size)
}

func (e elemType) isFloat() bool { return e.kind == 'f' }

// out is the chunk type the rows are delivered in: the on-disk type when the
// backend has it, otherwise the narrowest of float32/float64 that holds every
// value exactly (int8/int16/uint16 fit float32's 24-bit mantissa, 32-bit
// integers need float64; 64-bit integers beyond 2^53 are rounded).
func (e elemType) out() backend.DType {
	switch {
	case e.kind == 'u' && e.size == 1:
		return backend.U8
	case e.kind == 'f' && e.size == 4, e.kind != 'f' && e.size <= 2:
		return backend.F32
	}
	return backend.F64
}

// parseDescr turns a NumPy dtype string into an elemType.
func parseDescr(descr string) (elemType, error) {
	if len(descr) < 3 {
		return elemType{}, fmt.Errorf("unsupported dtype %q (supported: u1 i1 u2 i2 u4 i4 u8 i8 f4 f8)", descr)
	}
	order, kind, size := descr[0], descr[1], descr[2:]
	var e elemType
	switch size {
	case "1":
		e.size = 1
	case "2":
		e.size = 2
	case "4":
		e.size = 4
	case "8":
		e.size = 8
	default:
		return elemType{}, fmt.Errorf("unsupported dtype %q (supported: u1 i1 u2 i2 u4 i4 u8 i8 f4 f8)", descr)
	}
	switch kind {
	case 'u', 'i':
	case 'f':
		if e.size < 4 {
			return elemType{}, fmt.Errorf("unsupported dtype %q: half-precision floats are not supported, save with astype('<f4')", descr)
		}
	default:
		return elemType{}, fmt.Errorf("unsupported dtype %q (supported: u1 i1 u2 i2 u4 i4 u8 i8 f4 f8)", descr)
	}
	e.kind = kind
	switch order {
	case '<':
	case '|':
		if e.size != 1 {
			return elemType{}, fmt.Errorf("unsupported dtype %q: '|' (no byte order) is only valid for one-byte types", descr)
		}
	case '>':
		if e.size != 1 {
			return elemType{}, fmt.Errorf("big-endian dtype %q is not supported: save with astype('<%c%s')", descr, kind, size)
		}
	default:
		return elemType{}, fmt.Errorf("unsupported dtype %q: byte order must be '<' or '|'", descr)
	}
	return e, nil
}

// idxElem maps an IDX type code to its (big-endian) element type.
func idxElem(code byte) (elemType, bool) {
	switch code {
	case 0x08:
		return elemType{kind: 'u', size: 1}, true
	case 0x09:
		return elemType{kind: 'i', size: 1}, true
	case 0x0B:
		return elemType{kind: 'i', size: 2, big: true}, true
	case 0x0C:
		return elemType{kind: 'i', size: 4, big: true}, true
	case 0x0D:
		return elemType{kind: 'f', size: 4, big: true}, true
	case 0x0E:
		return elemType{kind: 'f', size: 8, big: true}, true
	}
	return elemType{}, false
}

func (e elemType) order() binary.ByteOrder {
	if e.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// decode converts raw (a whole number of elements) into dst, whose slice of
// type e.out() must hold at least len(raw)/e.size values. For float types it
// returns the index of the first NaN or ±Inf, or -1 when all are finite.
func (e elemType) decode(raw []byte, dst backend.Chunk) int {
	n := len(raw) / e.size
	bo := e.order()
	switch e.out() {
	case backend.U8:
		copy(dst.U8[:n], raw)
		return -1
	case backend.F32:
		out := dst.F32[:n]
		switch {
		case e.kind == 'f':
			// The concrete byte orders inline; the interface call would not.
			if e.big {
				for i := range out {
					out[i] = math.Float32frombits(binary.BigEndian.Uint32(raw[4*i:]))
				}
			} else {
				for i := range out {
					out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
				}
			}
			for i, v := range out {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return i
				}
			}
		case e.kind == 'i' && e.size == 1:
			for i := range out {
				out[i] = float32(int8(raw[i]))
			}
		case e.kind == 'i' && e.size == 2:
			for i := range out {
				out[i] = float32(int16(bo.Uint16(raw[2*i:])))
			}
		default: // u2
			for i := range out {
				out[i] = float32(bo.Uint16(raw[2*i:]))
			}
		}
		return -1
	}
	out := dst.F64[:n]
	switch {
	case e.kind == 'f':
		if e.big {
			for i := range out {
				out[i] = math.Float64frombits(binary.BigEndian.Uint64(raw[8*i:]))
			}
		} else {
			for i := range out {
				out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
		for i, v := range out {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return i
			}
		}
	case e.kind == 'i' && e.size == 4:
		for i := range out {
			out[i] = float64(int32(bo.Uint32(raw[4*i:])))
		}
	case e.kind == 'u' && e.size == 4:
		for i := range out {
			out[i] = float64(bo.Uint32(raw[4*i:]))
		}
	case e.kind == 'i':
		for i := range out {
			out[i] = float64(int64(bo.Uint64(raw[8*i:])))
		}
	default: // u8
		for i := range out {
			out[i] = float64(bo.Uint64(raw[8*i:]))
		}
	}
	return -1
}

// integer returns element i of raw as an int64; unsigned 64-bit values beyond
// MaxInt64 saturate (they are far beyond any valid label anyway).
func (e elemType) integer(raw []byte, i int) int64 {
	bo := e.order()
	b := raw[i*e.size:]
	switch {
	case e.kind == 'u' && e.size == 1:
		return int64(b[0])
	case e.kind == 'i' && e.size == 1:
		return int64(int8(b[0]))
	case e.kind == 'u' && e.size == 2:
		return int64(bo.Uint16(b))
	case e.kind == 'i' && e.size == 2:
		return int64(int16(bo.Uint16(b)))
	case e.kind == 'u' && e.size == 4:
		return int64(bo.Uint32(b))
	case e.kind == 'i' && e.size == 4:
		return int64(int32(bo.Uint32(b)))
	case e.kind == 'i':
		return int64(bo.Uint64(b))
	}
	v := bo.Uint64(b)
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// newChunkBuffer allocates room for n values of type t.
func newChunkBuffer(t backend.DType, n int) backend.Chunk {
	switch t {
	case backend.U8:
		return backend.Chunk{U8: make([]uint8, n)}
	case backend.F32:
		return backend.Chunk{F32: make([]float32, n)}
	}
	return backend.Chunk{F64: make([]float64, n)}
}
