package data

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/reconalign/reconalign/internal/atomicfile"
)

// NPZ archives are what NumPy's np.savez writes: a zip file whose entries
// are .npy files, "name.npy" for the array numpy.load returns as f["name"].
// The writer here streams each entry's values through the zip writer, so
// that an archive holding a 1.2 GB Gram (D = 12,288) is produced from the
// accumulator itself, row by row, without a second copy in memory. Entries
// are stored uncompressed, as np.savez does: a Gram of floats does not
// compress, and a stored entry costs no CPU.
//
// codeberg.org/sbinet/npyio has an npz writer too, but it takes each array
// whole (a gonum matrix or a slice), which is the copy this one avoids.

// NPZWriter writes an .npz archive entry by entry. Like NPYWriter it writes
// a temporary file beside its path and gives it its name only in Close, so a
// reader never sees a partial archive; after any failure, or Abort, the
// temporary file is gone.
type NPZWriter struct {
	path  string
	f     *atomicfile.File
	bw    *bufio.Writer
	z     *zip.Writer
	names map[string]bool
	buf   []byte
	err   error // the first failure; later calls return it
}

// NewNPZWriter starts an archive that Close will name path.
func NewNPZWriter(path string) (*NPZWriter, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	return &NPZWriter{path: path, f: f, bw: bw, z: zip.NewWriter(bw), names: map[string]bool{}}, nil
}

// entry starts the archive member name.npy with an NPY header.
func (w *NPZWriter) entry(name, descr string, shape []int) (io.Writer, error) {
	if w.err != nil {
		return nil, w.err
	}
	if name == "" || strings.ContainsAny(name, "/\\") || w.names[name] {
		return nil, w.fail(fmt.Errorf("%s: bad or repeated entry name %q", w.path, name))
	}
	w.names[name] = true
	// A zero Modified time keeps the archive's bytes a function of its
	// contents alone: two runs over the same data give identical files.
	ew, err := w.z.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
	if err != nil {
		return nil, w.fail(fmt.Errorf("%s: %w", w.path, err))
	}
	if _, err := ew.Write(npyHeader(descr, shape)); err != nil {
		return nil, w.fail(fmt.Errorf("%s: %w", w.path, err))
	}
	return ew, nil
}

// Float64s writes the entry name as a C-order float64 array of the given
// shape (empty: a 0-d scalar). fill must deliver exactly the shape's number
// of values, in as many calls of put as it likes.
func (w *NPZWriter) Float64s(name string, shape []int, fill func(put func([]float64) error) error) error {
	total, err := shapeTotal(w.path, shape)
	if err != nil {
		return w.fail(err)
	}
	ew, err := w.entry(name, "<f8", shape)
	if err != nil {
		return err
	}
	written := 0
	put := func(v []float64) error {
		if w.err != nil {
			return w.err
		}
		if written+len(v) > total {
			return w.fail(fmt.Errorf("%s: entry %s of shape %s holds %d values but more were written", w.path, name, dimsString(shape), total))
		}
		for len(v) > 0 {
			k := min(len(v), 1<<13)
			if cap(w.buf) < 8*k {
				w.buf = make([]byte, 8<<13)
			}
			b := w.buf[:8*k]
			for i, x := range v[:k] {
				binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
			}
			if _, err := ew.Write(b); err != nil {
				return w.fail(fmt.Errorf("%s: %w", w.path, err))
			}
			v = v[k:]
			written += k
		}
		return nil
	}
	if err := fill(put); err != nil {
		return w.fail(err)
	}
	if written != total {
		return w.fail(fmt.Errorf("%s: entry %s of shape %s holds %d values but %d were written", w.path, name, dimsString(shape), total, written))
	}
	return nil
}

// Int64 writes the entry name as a 0-d int64 array.
func (w *NPZWriter) Int64(name string, v int64) error {
	ew, err := w.entry(name, "<i8", nil)
	if err != nil {
		return err
	}
	if _, err := ew.Write(binary.LittleEndian.AppendUint64(nil, uint64(v))); err != nil {
		return w.fail(fmt.Errorf("%s: %w", w.path, err))
	}
	return nil
}

// String writes the entry name as a 0-d Unicode array ('<U', UTF-32), which
// is what np.savez makes of a Python str: numpy.load(...)[name].item() is
// the string again.
func (w *NPZWriter) String(name, s string) error {
	if !utf8.ValidString(s) {
		return w.fail(fmt.Errorf("%s: entry %s is not valid UTF-8", w.path, name))
	}
	runes := []rune(s)
	ew, err := w.entry(name, "<U"+strconv.Itoa(max(len(runes), 1)), nil)
	if err != nil {
		return err
	}
	b := make([]byte, 0, 4*max(len(runes), 1))
	for _, r := range runes {
		b = binary.LittleEndian.AppendUint32(b, uint32(r))
	}
	if len(runes) == 0 {
		b = append(b, 0, 0, 0, 0)
	}
	if _, err := ew.Write(b); err != nil {
		return w.fail(fmt.Errorf("%s: %w", w.path, err))
	}
	return nil
}

// Close finishes the archive and gives it its name.
func (w *NPZWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.z.Close(); err != nil {
		return w.fail(fmt.Errorf("%s: %w", w.path, err))
	}
	if err := w.bw.Flush(); err != nil {
		return w.fail(fmt.Errorf("%s: %w", w.path, err))
	}
	w.err = fmt.Errorf("%s: NPZWriter already closed", w.path)
	if err := w.f.Commit(); err != nil {
		return err
	}
	return nil
}

// Abort removes the partial archive (for use with defer; after Close it
// does nothing).
func (w *NPZWriter) Abort() {
	if w.err == nil {
		w.fail(fmt.Errorf("%s: NPZWriter aborted", w.path))
	}
}

func (w *NPZWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
		w.f.Abort()
	}
	return err
}

// NPZ is an .npz archive opened for reading. Entries are read one at a
// time, straight from the archive; each read goes to the end of its entry,
// so the zip checksum is verified.
type NPZ struct {
	path  string
	zr    *zip.ReadCloser
	files map[string]*zip.File
}

// ErrNotNPZ is wrapped by OpenNPZ's error when the file is not a zip
// archive at all (or is truncated, which leaves it without the central
// directory at its end).
var ErrNotNPZ = errors.New("not an .npz (zip) archive")

// OpenNPZ opens an archive and lists its .npy entries.
func OpenNPZ(path string) (*NPZ, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not an .npz file", path)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v (a truncated file has lost the directory at its end)", path, ErrNotNPZ, err)
	}
	z := &NPZ{path: path, zr: zr, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || z.files[name] != nil {
			zr.Close()
			return nil, fmt.Errorf("%s: entry %q is not a .npy array, or appears twice: not an .npz of arrays", path, f.Name)
		}
		z.files[name] = f
	}
	return z, nil
}

// Close releases the archive.
func (z *NPZ) Close() error { return z.zr.Close() }

// Names lists the arrays, sorted.
func (z *NPZ) Names() []string {
	names := make([]string, 0, len(z.files))
	for n := range z.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NPZArray is one entry's header: its NumPy dtype string and shape.
type NPZArray struct {
	Name  string
	Descr string
	Shape []int
}

// Len is the number of values the shape holds.
func (a NPZArray) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// ShapeString spells the shape as NumPy prints it.
func (a NPZArray) ShapeString() string { return dimsString(a.Shape) }

// open starts reading entry name after its NPY header.
func (z *NPZ) open(name string) (NPZArray, io.ReadCloser, error) {
	f := z.files[name]
	if f == nil {
		return NPZArray{}, nil, fmt.Errorf("%s: has no array %q", z.path, name)
	}
	where := z.path + "[" + name + "]"
	rc, err := f.Open()
	if err != nil {
		return NPZArray{}, nil, fmt.Errorf("%s: %v", where, err)
	}
	var magic [6]byte
	br := bufio.NewReaderSize(rc, 1<<16)
	if _, err := io.ReadFull(br, magic[:]); err != nil || string(magic[:]) != string(npyMagic) {
		rc.Close()
		return NPZArray{}, nil, fmt.Errorf("%s: not a .npy array (no \\x93NUMPY magic)", where)
	}
	h, _, err := readNPYDict(io.MultiReader(strings.NewReader(string(magic[:])), br), where)
	if err != nil {
		rc.Close()
		return NPZArray{}, nil, err
	}
	if h.fortran {
		rc.Close()
		return NPZArray{}, nil, fmt.Errorf("%s: Fortran-order arrays are not supported", where)
	}
	if err := checkDims(where, h.shape, 8); err != nil {
		rc.Close()
		return NPZArray{}, nil, err
	}
	return NPZArray{Name: name, Descr: h.descr, Shape: h.shape}, readCloser{br, rc}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Array returns the header of entry name without reading its values.
func (z *NPZ) Array(name string) (NPZArray, error) {
	a, rc, err := z.open(name)
	if err != nil {
		return a, err
	}
	rc.Close()
	return a, nil
}

// finish checks that an entry ends exactly where its header says; reading
// to the end also makes the zip reader verify the entry's checksum.
func finish(rc io.Reader, where string, want int) error {
	var one [1]byte
	n, err := io.ReadFull(rc, one[:])
	switch {
	case n > 0:
		return fmt.Errorf("%s: has bytes after the %d values its header declares", where, want)
	case errors.Is(err, zip.ErrChecksum):
		return fmt.Errorf("%s: corrupt: its zip checksum does not match", where)
	case err != io.EOF:
		return fmt.Errorf("%s: %v", where, err)
	}
	return nil
}

// Float64s reads entry name, a float64 array ('<f8'), into dst, whose
// length must be the number of values of its shape.
func (z *NPZ) Float64s(name string, dst []float64) error {
	a, rc, err := z.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	where := z.path + "[" + name + "]"
	if a.Descr != "<f8" {
		return fmt.Errorf("%s: has dtype %s, expected float64 ('<f8')", where, a.Descr)
	}
	if a.Len() != len(dst) {
		return fmt.Errorf("%s: holds %d values (shape %s), expected %d", where, a.Len(), a.ShapeString(), len(dst))
	}
	buf := make([]byte, 8<<13)
	for done := 0; done < len(dst); {
		k := min(len(dst)-done, 1<<13)
		if n, err := io.ReadFull(rc, buf[:8*k]); err != nil {
			return fmt.Errorf("%s: truncated: the entry ends after %d of its %d values (%v)", where, done+n/8, len(dst), err)
		}
		for i := range k {
			dst[done+i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
		}
		done += k
	}
	return finish(rc, where, len(dst))
}

// Int64 reads entry name, a 0-d integer array of any width.
func (z *NPZ) Int64(name string) (int64, error) {
	a, rc, err := z.open(name)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	where := z.path + "[" + name + "]"
	if len(a.Shape) != 0 {
		return 0, fmt.Errorf("%s: has shape %s, expected a scalar ()", where, a.ShapeString())
	}
	e, err := parseDescr(a.Descr)
	if err != nil || e.isFloat() {
		return 0, fmt.Errorf("%s: has dtype %s, expected an integer ('<i8')", where, a.Descr)
	}
	raw := make([]byte, e.size)
	if _, err := io.ReadFull(rc, raw); err != nil {
		return 0, fmt.Errorf("%s: truncated", where)
	}
	v := e.integer(raw, 0)
	return v, finish(rc, where, 1)
}

// String reads entry name, a 0-d Unicode array ('<U…', as np.savez stores
// a Python str).
func (z *NPZ) String(name string) (string, error) {
	a, rc, err := z.open(name)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	where := z.path + "[" + name + "]"
	width, err := strconv.Atoi(strings.TrimPrefix(a.Descr, "<U"))
	if !strings.HasPrefix(a.Descr, "<U") || err != nil || width < 1 || width > maxHeader {
		return "", fmt.Errorf("%s: has dtype %s, expected a string ('<U…')", where, a.Descr)
	}
	if len(a.Shape) != 0 {
		return "", fmt.Errorf("%s: has shape %s, expected a scalar ()", where, a.ShapeString())
	}
	raw := make([]byte, 4*width)
	if _, err := io.ReadFull(rc, raw); err != nil {
		return "", fmt.Errorf("%s: truncated", where)
	}
	var sb strings.Builder
	for i := 0; i < width; i++ {
		r := rune(binary.LittleEndian.Uint32(raw[4*i:]))
		if r == 0 {
			break // NumPy pads with NULs
		}
		if !utf8.ValidRune(r) {
			return "", fmt.Errorf("%s: holds an invalid character %#x", where, uint32(r))
		}
		sb.WriteRune(r)
	}
	return sb.String(), finish(rc, where, width)
}
