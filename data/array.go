package data

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	// A drop-in for compress/gzip that decompresses about a quarter faster;
	// decompression is the serial part of reading IDX files.
	"github.com/klauspost/compress/gzip"

	"github.com/reconalign/reconalign/cgo/deflate"
)

// array is an n-dimensional array stored in a file: its element type, its
// shape and where its row-major body starts in the (decompressed) stream.
// Parsing one reads only the header; the body is streamed later.
type array struct {
	path    string
	format  string // "npy" or "idx"
	gzipped bool
	size    int64 // size of the file on disk
	elem    elemType
	dims    []int // full shape, dims[0] = number of rows
	dataOff int64 // header length: the body starts here
	// trailerOK: the gzip trailer records the size the header implies, so a
	// stream that decompresses to more is damaged, not followed by data.
	trailerOK bool
}

// rows is dims[0]; rowElems the product of the other dimensions.
func (a *array) rows() int { return a.dims[0] }

func (a *array) rowElems() int {
	d := 1
	for _, v := range a.dims[1:] {
		d *= v
	}
	return d
}

// bodyBytes is the size of the body the header declares.
func (a *array) bodyBytes() int64 { return int64(a.rows()) * int64(a.rowElems()) * int64(a.elem.size) }

func (a *array) shapeString() string { return dimsString(a.dims) }

func dimsString(dims []int) string {
	parts := make([]string, len(dims))
	for i, v := range dims {
		parts[i] = fmt.Sprint(v)
	}
	if len(dims) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

const (
	// maxHeader bounds an NPY header; NumPy itself refuses headers above 10 kB
	// by default, so anything larger is corruption, not data.
	maxHeader = 1 << 20
	// maxGzipRatio bounds what a gzip file can expand to. Deflate cannot do
	// better than about 1032:1, so a header that claims more than this is
	// corrupt, and checking it stops a forged header from causing huge
	// allocations or endless reads.
	maxGzipRatio = 1100
	// maxElems caps the number of elements of any array so that byte counts
	// never overflow int64.
	maxElems = 1 << 56
)

var (
	npyMagic  = []byte("\x93NUMPY")
	gzipMagic = []byte{0x1f, 0x8b}
)

// stream is an opened file, decompressed when it is gzip (detected by its
// magic bytes, not its name).
type stream struct {
	f       *os.File
	gz      *gzip.Reader
	r       io.Reader
	size    int64
	gzipped bool
}

// wholeGzipMax is the largest gzip file, and the largest decompressed body,
// inflated in one piece in memory (with libdeflate, when built in) instead
// of streamed: Fashion-MNIST (47 MB) and CIFAR-10 (150 MB) qualify, while
// larger files keep the streaming pass's bounded memory. A variable so that
// tests can exercise the streaming path.
var wholeGzipMax int64 = 256 << 20

func openStream(path string) (*stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory, not a data file", path)
	}
	s := &stream{f: f, r: f, size: st.Size()}
	var magic [2]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if n == 2 && magic == [2]byte(gzipMagic) {
		s.gzipped = true
		s.gz, err = gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: corrupt gzip stream: %v", path, err)
		}
		s.r = s.gz
	}
	return s, nil
}

// openWhole is openStream for a full pass over the data: a gzip file small
// enough to hold is inflated at once by libdeflate (about three times the
// streaming decoder's speed) and then read from memory. Anything that does
// not fit that path — no libdeflate in this build, a large or multi-member
// file, a trailer that disagrees, corrupt data — is streamed as by
// openStream, which also words its errors.
func openWhole(path string) (*stream, error) {
	s, err := openStream(path)
	if err != nil || !s.gzipped || !deflate.Available() || s.size < 18 || s.size > wholeGzipMax {
		return s, err
	}
	var trailer [4]byte
	if _, err := s.f.ReadAt(trailer[:], s.size-4); err != nil {
		return s, nil
	}
	isize := int64(binary.LittleEndian.Uint32(trailer[:]))
	if isize == 0 || isize > wholeGzipMax || isize > maxGzipRatio*s.size {
		return s, nil
	}
	in := make([]byte, s.size)
	if _, err := s.f.ReadAt(in, 0); err != nil {
		return s, nil
	}
	out := make([]byte, isize)
	if deflate.Gunzip(in, out) != nil {
		return s, nil
	}
	s.gz.Close()
	s.gz, s.r = nil, bytes.NewReader(out)
	return s, nil
}

// Gunzip says how this build inflates gzip data files, for reports.
func Gunzip() string {
	if deflate.Available() {
		return fmt.Sprintf("libdeflate %s for files up to %d MiB (whole file in memory), else klauspost/compress streaming", deflate.Version(), wholeGzipMax>>20)
	}
	return "klauspost/compress streaming (pure Go; build with libdeflate for whole-file inflation)"
}

func (s *stream) Close() error {
	if s.gz != nil {
		s.gz.Close()
	}
	return s.f.Close()
}

// skip advances to byte off of the (decompressed) stream, which must be at
// position 0.
func (s *stream) skip(off int64) error {
	if !s.gzipped {
		_, err := s.f.Seek(off, io.SeekStart)
		return err
	}
	_, err := io.CopyN(io.Discard, s.r, off)
	return err
}

// readArray parses the header of the IDX or NPY file at path (either possibly
// gzip-compressed) and checks that the body it declares fits the file.
func readArray(path string) (*array, error) {
	s, err := openStream(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	br := bufio.NewReaderSize(s.r, 4096)
	head, err := br.Peek(len(npyMagic))
	if err != nil && err != io.EOF && s.gzipped {
		return nil, fmt.Errorf("%s: corrupt gzip stream: %v", path, err)
	}
	var a *array
	switch {
	case len(head) == len(npyMagic) && string(head) == string(npyMagic):
		a, err = parseNPYHeader(br, path)
	case len(head) >= 4 && head[0] == 0 && head[1] == 0:
		a, err = parseIDXHeader(br, path)
	case len(head) == 0:
		return nil, fmt.Errorf("%s: file is empty", path)
	default:
		return nil, fmt.Errorf("%s: not an IDX or NPY file: it starts with bytes % x, expected \\x93NUMPY (NPY) or 00 00 <type> <ndim> (IDX)", path, head)
	}
	if err != nil {
		return nil, err
	}
	a.path, a.gzipped, a.size = path, s.gzipped, s.size
	if err := a.checkSize(s); err != nil {
		return nil, err
	}
	return a, nil
}

// checkSize compares the body the header declares with what the file holds.
// A raw file's size is known; a gzip file is measured from its trailer, and
// decompressed in full only when the trailer disagrees (a truncated file or a
// multi-member stream).
func (a *array) checkSize(s *stream) error {
	want := a.bodyBytes()
	if !a.gzipped {
		got := a.size - a.dataOff
		if got != want {
			return a.sizeError(got)
		}
		return nil
	}
	if want+a.dataOff > maxGzipRatio*a.size+4096 {
		return fmt.Errorf("%s: corrupt header: shape %s of %s needs %d bytes, more than a %d-byte gzip file can hold", a.path, a.shapeString(), a.elem, want, a.size)
	}
	var trailer [4]byte
	if a.size >= 18 {
		if _, err := s.f.ReadAt(trailer[:], a.size-4); err == nil &&
			binary.LittleEndian.Uint32(trailer[:]) == uint32(want+a.dataOff) {
			a.trailerOK = true
			return nil
		}
	}
	// Measure: a fresh decompression of the whole file, reading one byte
	// more than expected to detect trailing data.
	m, err := openStream(a.path)
	if err != nil {
		return err
	}
	defer m.Close()
	n, err := io.CopyN(io.Discard, m.r, a.dataOff+want+1)
	if err != nil && err != io.EOF {
		switch {
		case n >= a.dataOff+want && !errors.Is(err, gzip.ErrChecksum):
			// Everything the header declares decompressed; what follows the
			// gzip stream is not another gzip member.
			return fmt.Errorf("%s: has bytes after the end of its gzip stream that are not another gzip member (%v): the %d bytes of data decompress in full; remove what follows them", a.path, err, want)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return a.sizeError(n - a.dataOff)
		}
		return gzipError(a.path, err, n)
	}
	if n != a.dataOff+want {
		return a.sizeError(n - a.dataOff)
	}
	return nil
}

// gzipError words a decompression failure: a checksum that does not match
// is only found at the end of the stream, so it says nothing of where the
// damage lies; a deflate error is found where it occurs.
func gzipError(path string, err error, decompressed int64) error {
	if errors.Is(err, gzip.ErrChecksum) {
		return fmt.Errorf("%s: corrupt gzip stream: its %d decompressed bytes do not match the checksum the file records (%v): the compressed data are damaged somewhere", path, decompressed, err)
	}
	return fmt.Errorf("%s: corrupt gzip stream: %v, found after %d decompressed bytes", path, err, decompressed)
}

func (a *array) sizeError(got int64) error {
	what := "truncated"
	if got > a.bodyBytes() {
		what = "has trailing bytes"
	}
	kind := "file"
	if a.gzipped {
		kind = "decompressed file"
	}
	return fmt.Errorf("%s: %s: the header declares shape %s of %s, which needs %d bytes of data, but the %s holds %d bytes after its %d-byte header",
		a.path, what, a.shapeString(), a.elem, a.bodyBytes(), kind, got, a.dataOff)
}

// checkDims verifies that dims are non-negative and that the product of the
// non-zero ones, times the element size, stays far from overflow.
func checkDims(path string, dims []int, size int) error {
	total := int64(size)
	for _, v := range dims {
		if v < 0 {
			return fmt.Errorf("%s: corrupt header: negative dimension in shape %s", path, dimsString(dims))
		}
		if v == 0 {
			continue // checked anyway, so that the other dimensions never overflow
		}
		if total > maxElems/int64(v) {
			return fmt.Errorf("%s: corrupt header: shape %s is impossibly large", path, dimsString(dims))
		}
		total *= int64(v)
	}
	return nil
}

// parseIDXHeader reads the IDX header: two zero bytes, a type code, the
// number of dimensions, then each dimension as a big-endian uint32.
func parseIDXHeader(r io.Reader, path string) (*array, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("%s: truncated IDX header: %v", path, err)
	}
	elem, ok := idxElem(magic[2])
	if !ok {
		return nil, fmt.Errorf("%s: not an IDX file: magic %02x%02x%02x%02x has unknown type code 0x%02x (expected 08 u8, 09 i8, 0B i16, 0C i32, 0D f32 or 0E f64)", path, magic[0], magic[1], magic[2], magic[3], magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("%s: IDX file has %d dimensions: only 1 to 4 (N, then up to H, W, C) are supported", path, nd)
	}
	raw := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("%s: truncated IDX header: %d dimensions declared but the file ends before they are all given", path, nd)
	}
	dims := make([]int, nd)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(raw[4*i:]))
	}
	if err := checkDims(path, dims, elem.size); err != nil {
		return nil, err
	}
	return &array{format: "idx", elem: elem, dims: dims, dataOff: int64(4 + 4*nd)}, nil
}
