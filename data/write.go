package data

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// WriteNPY writes data as a C-order .npy file of the given shape (nil means
// one dimension of len(data)). data is a []float64, []float32, []uint8,
// []int64, []int32 or []int (written as int64). The file is written to a
// temporary name and renamed, so a reader never sees half of it.
//
// npyio's Write only knows 1-D slices and 2-D float64 matrices, so the
// header is written here (NumPy's format 1.0, 64-byte aligned).
func WriteNPY(path string, data any, shape []int) error {
	var (
		n     int
		descr string
		size  int
	)
	switch v := data.(type) {
	case []float64:
		n, descr, size = len(v), "<f8", 8
	case []float32:
		n, descr, size = len(v), "<f4", 4
	case []uint8:
		n, descr, size = len(v), "|u1", 1
	case []int64:
		n, descr, size = len(v), "<i8", 8
	case []int32:
		n, descr, size = len(v), "<i4", 4
	case []int:
		n, descr, size = len(v), "<i8", 8
	default:
		return fmt.Errorf("%s: WriteNPY cannot write %T (want []float64, []float32, []uint8, []int64, []int32 or []int)", path, data)
	}
	if shape == nil {
		shape = []int{n}
	}
	total, err := shapeTotal(path, shape)
	if err != nil {
		return err
	}
	if total != n {
		return fmt.Errorf("%s: shape %s holds %d values but %d were given", path, dimsString(shape), total, n)
	}

	f, err := createTemp(path)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		discardTemp(f)
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	if _, err := w.Write(npyHeader(descr, shape)); err != nil {
		return fail(err)
	}
	if err := writeValues(w, data, size); err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	return commitTemp(f, path)
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

// createTemp opens a hidden temporary file next to path, so that the final
// rename stays on one file system.
func createTemp(path string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("%s: cannot create it: %w", path, err)
	}
	return f, nil
}

// discardTemp closes and removes a temporary file from createTemp.
func discardTemp(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// commitTemp closes a fully written temporary file and renames it to path.
func commitTemp(f *os.File, path string) error {
	tmp := f.Name()
	if err := f.Chmod(0o644); err != nil {
		discardTemp(f)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
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
