package data

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/reconalign/reconalign/internal/atomicfile"
)

// WriteNPY writes data as a C-order .npy file of the given shape (nil means
// one dimension of len(data)). data is a []float64, []float32, []uint8,
// []int64, []int32 or []int (written as int64). The file is written to a
// temporary name and renamed, so a reader never sees half of it, and a
// failed write leaves an existing file as it was.
func WriteNPY(path string, data any, shape []int) error {
	if _, err := npyLayout(path, data, shape); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error { return EncodeNPY(w, data, shape) })
}

// EncodeNPY writes data as WriteNPY does, to w.
//
// npyio's Write only knows 1-D slices and 2-D float64 matrices, so the
// header is written here (NumPy's format 1.0, 64-byte aligned).
func EncodeNPY(w io.Writer, data any, shape []int) error {
	l, err := npyLayout("npy", data, shape)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.Write(npyHeader(l.descr, l.shape)); err != nil {
		return err
	}
	if err := writeValues(bw, data, l.size); err != nil {
		return err
	}
	return bw.Flush()
}

type npyArray struct {
	descr string
	size  int
	shape []int
}

// npyLayout checks data against shape and says how it is written.
func npyLayout(path string, data any, shape []int) (npyArray, error) {
	var (
		n int
		l npyArray
	)
	switch v := data.(type) {
	case []float64:
		n, l.descr, l.size = len(v), "<f8", 8
	case []float32:
		n, l.descr, l.size = len(v), "<f4", 4
	case []uint8:
		n, l.descr, l.size = len(v), "|u1", 1
	case []int64:
		n, l.descr, l.size = len(v), "<i8", 8
	case []int32:
		n, l.descr, l.size = len(v), "<i4", 4
	case []int:
		n, l.descr, l.size = len(v), "<i8", 8
	default:
		return l, fmt.Errorf("%s: WriteNPY cannot write %T (want []float64, []float32, []uint8, []int64, []int32 or []int)", path, data)
	}
	l.shape = shape
	if l.shape == nil {
		l.shape = []int{n}
	}
	total, err := shapeTotal(path, l.shape)
	if err != nil {
		return l, err
	}
	if total != n {
		return l, fmt.Errorf("%s: shape %s holds %d values but %d were given", path, dimsString(l.shape), total, n)
	}
	return l, nil
}

// shapeTotal is the number of values an array of the given shape holds.
func shapeTotal(path string, shape []int) (int, error) {
	total := 1
	for _, d := range shape {
		if d < 0 || d > 0 && total > math.MaxInt/d {
			return 0, fmt.Errorf("%s: invalid shape %s", path, dimsString(shape))
		}
		total *= d
	}
	return total, nil
}

// npyHeader builds the magic, version, length and dict, padded with spaces
// and a final newline to a multiple of 64 bytes as NumPy does, so that the
// data are aligned for memory mapping.
func npyHeader(descr string, shape []int) []byte {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, dimsString(shape))
	prefix := 10
	if len(dict)+1+prefix+63 > math.MaxUint16 {
		prefix = 12
	}
	pad := 63 - (prefix+len(dict))%64 // leaves room for the newline
	hlen := len(dict) + pad + 1
	out := make([]byte, 0, prefix+hlen)
	out = append(out, npyMagic...)
	if prefix == 10 {
		out = append(out, 1, 0)
		out = binary.LittleEndian.AppendUint16(out, uint16(hlen))
	} else {
		out = append(out, 2, 0)
		out = binary.LittleEndian.AppendUint32(out, uint32(hlen))
	}
	out = append(out, dict...)
	out = append(out, strings.Repeat(" ", pad)...)
	return append(out, '\n')
}

func writeValues(w *bufio.Writer, data any, size int) error {
	var buf [8]byte
	put := func(b []byte) error {
		_, err := w.Write(b)
		return err
	}
	le := binary.LittleEndian
	switch v := data.(type) {
	case []uint8:
		_, err := w.Write(v)
		return err
	case []float64:
		for _, x := range v {
			le.PutUint64(buf[:], math.Float64bits(x))
			if err := put(buf[:size]); err != nil {
				return err
			}
		}
	case []float32:
		for _, x := range v {
			le.PutUint32(buf[:], math.Float32bits(x))
			if err := put(buf[:size]); err != nil {
				return err
			}
		}
	case []int64:
		for _, x := range v {
			le.PutUint64(buf[:], uint64(x))
			if err := put(buf[:size]); err != nil {
				return err
			}
		}
	case []int32:
		for _, x := range v {
			le.PutUint32(buf[:], uint32(x))
			if err := put(buf[:size]); err != nil {
				return err
			}
		}
	case []int:
		for _, x := range v {
			le.PutUint64(buf[:], uint64(x))
			if err := put(buf[:size]); err != nil {
				return err
			}
		}
	}
	return nil
}
