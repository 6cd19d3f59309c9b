package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
)

// wantErr fails unless err is non-nil and its message contains every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want one mentioning %q", parts)
		return
	}
	t.Log(err)
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// npyBytes builds an NPY 1.0 file from a raw header dict and a body,
// padding the header as NumPy does.
func npyBytes(dict string, body []byte) []byte {
	pad := 63 - (10+len(dict))%64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	b.Write(body)
	return b.Bytes()
}

func npyDict(descr, shape string) string {
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
}

func f64Bytes(v ...float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func idxBytes(code byte, dims []uint32, body []byte) []byte {
	b := []byte{0, 0, code, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, body...)
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll opens path as a dataset and reads one full pass; errors found while
// opening or while streaming are both returned.
func readAll(path, labels string) error {
	src, err := Open(path, labels, Options{})
	if err != nil {
		return err
	}
	_, _, err = Collect(src)
	return err
}

func TestBadFilesGiveClearErrors(t *testing.T) {
	dir := t.TempDir()
	f64 := readTestdata(t, "f64_flat.npy")      // (7, 5) float64: 280 bytes of data after a 128-byte header
	idx := readTestdata(t, "images-idx3-ubyte") // (5, 3, 4) uint8: 60 bytes after a 16-byte header
	nan := f64Bytes(0, 1, 2, 3, 4, 5, math.NaN(), 7)
	inf32 := make([]byte, 4*6)
	binary.LittleEndian.PutUint32(inf32[4*5:], math.Float32bits(float32(math.Inf(1))))
	corruptGz := gzipBytes(idx)
	for i := 12; i < len(corruptGz)-8; i++ {
		corruptGz[i] ^= 0x5a
	}
	badCRC := gzipBytes(idx)
	badCRC[len(badCRC)-6] ^= 1 // in the CRC-32, not in ISIZE: only the end of the stream can tell
	flipped := gzipBytes(idx)
	flipped[len(flipped)/2] ^= 0x40
	cases := []struct {
		name   string
		file   []byte
		labels string // labels file in testdata, if any
		want   []string
	}{
		{"truncated.npy", f64[:len(f64)-5], "", []string{"truncated.npy", "truncated", "(7, 5)", "needs 280 bytes", "holds 275 bytes"}},
		{"trailing.npy", append(append([]byte{}, f64...), 1, 2, 3), "", []string{"trailing.npy", "trailing bytes", "280 bytes", "283"}},
		{"header-only.npy", f64[:128], "", []string{"header-only.npy", "truncated", "holds 0 bytes"}},
		{"cut-header.npy", f64[:40], "", []string{"cut-header.npy", "truncated NPY header", "118 bytes declared"}},
		{"truncated-idx3-ubyte", idx[:len(idx)-10], "", []string{"truncated-idx3-ubyte", "truncated", "(5, 3, 4)", "needs 60 bytes", "holds 50 bytes"}},
		{"truncated-content.gz", gzipBytes(idx[:len(idx)-10]), "", []string{"truncated-content.gz", "truncated", "needs 60 bytes", "decompressed file holds 50 bytes"}},
		{"truncated-stream.gz", gzipBytes(idx)[:30], "", []string{"truncated-stream.gz", "truncated", "needs 60 bytes"}},
		{"trailing.gz", gzipBytes(append(append([]byte{}, idx...), 7)), "", []string{"trailing.gz", "trailing bytes", "needs 60 bytes"}},
		{"corrupt.gz", corruptGz, "", []string{"corrupt.gz", "corrupt gzip stream"}},
		{"bad-crc.gz", badCRC, "", []string{"bad-crc.gz", "corrupt gzip stream", "do not match the checksum", "damaged somewhere"}},
		// A flipped bit in the deflate data whose length still agrees with
		// the trailer: damage, not a property of the last row.
		{"flipped.gz", flipped, "", []string{"flipped.gz", "corrupt gzip stream"}},
		// Junk after the gzip member, long or too short to be a gzip
		// header: not "truncated", and the sizes quoted must differ.
		{"junk.gz", append(gzipBytes(idx), []byte("JUNKJUNKJUNK")...), "", []string{"junk.gz", "bytes after the end of its gzip stream", "not another gzip member", "60 bytes of data decompress in full"}},
		{"junk2.gz", append(gzipBytes(idx), 'J', 'U'), "", []string{"junk2.gz", "bytes after the end of its gzip stream"}},
		{"fortran-quoted.npy", npyBytes("{'descr': '<f8', 'fortran_order': 'False', 'shape': (1,), }", f64Bytes(1)), "", []string{"fortran-quoted.npy", "fortran_order is 'False'", "unquoted"}},
		{"cut-idx-header", idx[:9], "", []string{"cut-idx-header", "truncated IDX header", "3 dimensions"}},
		{"idx-bad-type", idxBytes(0x07, []uint32{2}, []byte{1, 2}), "", []string{"idx-bad-type", "unknown type code 0x07"}},
		{"idx-0-dims", idxBytes(0x08, nil, nil), "", []string{"idx-0-dims", "0 dimensions"}},
		{"idx-9-dims", idxBytes(0x08, make([]uint32, 9), nil), "", []string{"idx-9-dims", "9 dimensions"}},
		{"idx-huge-dims.gz", gzipBytes(idxBytes(0x08, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil)), "", []string{"idx-huge-dims.gz", "impossibly large"}},
		{"idx-forged.gz", gzipBytes(idxBytes(0x08, []uint32{60000, 28, 28}, nil)), "", []string{"idx-forged.gz", "corrupt header", "47040000 bytes", "gzip file can hold"}},
		{"text.npy", []byte("hello, world\n"), "", []string{"text.npy", "not an IDX or NPY file", "68 65 6c 6c 6f"}},
		{"empty.npy", nil, "", []string{"empty.npy", "file is empty"}},
		{"version.npy", append([]byte("\x93NUMPY\x09\x00"), f64[8:]...), "", []string{"version.npy", "version 9.0"}},
		{"huge-header.npy", []byte("\x93NUMPY\x02\x00\xf0\xff\xff\xff{"), "", []string{"huge-header.npy", "claims to be 4294967280 bytes"}},
		{"no-shape.npy", npyBytes("{'descr': '<f8', 'fortran_order': False, }", f64Bytes(1)), "", []string{"no-shape.npy", `key "shape" is missing`}},
		{"bad-shape.npy", npyBytes(npyDict("<f8", "(2, x)"), f64Bytes(1, 2)), "", []string{"bad-shape.npy", "non-integer"}},
		{"neg-shape.npy", npyBytes(npyDict("<f8", "(-2,)"), f64Bytes(1, 2)), "", []string{"neg-shape.npy", "non-integer"}},
		{"unterminated.npy", npyBytes("{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", f64Bytes(1)), "", []string{"unterminated.npy", "corrupt NPY header"}},
		{"structured.npy", npyBytes("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", f64Bytes(1)), "", []string{"structured.npy", "structured dtypes are not supported"}},
		{"extra-key.npy", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", f64Bytes(1)), "", []string{"extra-key.npy", `unexpected key "x"`}},
		{"complex.npy", npyBytes(npyDict("<c16", "(1,)"), make([]byte, 16)), "", []string{"complex.npy", "unsupported dtype", "<c16"}},
		{"half.npy", npyBytes(npyDict("<f2", "(1,)"), make([]byte, 2)), "", []string{"half.npy", "half-precision"}},
		{"object.npy", npyBytes(npyDict("|O", "(1,)"), make([]byte, 8)), "", []string{"object.npy", "unsupported dtype", "|O"}},
		{"scalar.npy", npyBytes(npyDict("<f8", "()"), f64Bytes(1)), "", []string{"scalar.npy", "0-dimensional"}},
		{"five-d.npy", npyBytes(npyDict("|u1", "(1, 1, 1, 1, 1)"), []byte{1}), "", []string{"five-d.npy", "5 dimensions"}},
		{"fortran.npy", readTestdata(t, "fortran.npy"), "", []string{"fortran.npy", "Fortran-order arrays are not supported: save with np.ascontiguousarray"}},
		{"bigendian.npy", readTestdata(t, "bigendian.npy"), "", []string{"bigendian.npy", "big-endian", ">f4", "astype('<f4')"}},
		{"nan.npy", npyBytes(npyDict("<f8", "(4, 2)"), nan), "", []string{"nan.npy", "row 3, column 0", "NaN", "finite"}},
		{"inf.npy.gz", gzipBytes(npyBytes(npyDict("<f4", "(2, 3)"), inf32)), "", []string{"inf.npy.gz", "row 1, column 2", "+Inf"}},
		{"no-samples.npy", npyBytes(npyDict("<f8", "(0, 5)"), nil), "", []string{"no-samples.npy", "holds no samples", "(0, 5)"}},
		{"no-features.npy", npyBytes(npyDict("<f8", "(5, 0)"), nil), "", []string{"no-features.npy", "D must be at least 1"}},
		{"no-features-big.npy", npyBytes(npyDict("<f8", "(0, 4294967296, 4294967296)"), nil), "", []string{"no-features-big.npy", "impossibly large"}},
		{"seven.npy", f64, "labels-idx1-ubyte.gz", []string{"label count mismatch", "labels-idx1-ubyte.gz", "5 labels", "seven.npy", "7 samples"}},
		{"seven-t.npy", npyBytes(npyDict("<f8", "(6, 5)"), make([]byte, 6*5*8)), "targets_f8.npy", []string{"target count mismatch", "targets_f8.npy", "7 rows of targets", "seven-t.npy", "6 samples"}},
		{"images.npy", readTestdata(t, "u8_img.npy"), "u8_img.npy", []string{"u8_img.npy", "labels must have shape (N,) or (N, 1)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, tc.name, tc.file)
			labels := ""
			if tc.labels != "" {
				labels = filepath.Join("testdata", tc.labels)
			}
			wantErr(t, readAll(p, labels), tc.want...)
		})
	}
}

func TestBadLabels(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, dir, "x.npy", npyBytes(npyDict("<f8", "(3,)"), f64Bytes(1, 2, 3)))
	for _, tc := range []struct {
		name   string
		labels []int64
		want   []string
	}{
		{"negative.npy", []int64{0, 1, -1}, []string{"negative.npy", "label 2 is negative (-1)"}},
		{"huge.npy", []int64{0, 2_000_000, 1}, []string{"huge.npy", "label 1 is absurdly large (2000000 > 1000000)"}},
		{"short.npy", []int64{0, 1}, []string{"label count mismatch", "short.npy", "2 labels", "x.npy", "3 samples"}},
	} {
		p := filepath.Join(dir, tc.name)
		if err := WriteNPY(p, tc.labels, nil); err != nil {
			t.Fatal(err)
		}
		_, err := Open(data, p, Options{})
		wantErr(t, err, tc.want...)
	}
	// The largest valid label is accepted and sets Classes.
	p := filepath.Join(dir, "max.npy")
	if err := WriteNPY(p, []int64{0, MaxLabel, 1}, nil); err != nil {
		t.Fatal(err)
	}
	if src, err := Open(data, p, Options{}); err != nil || src.Meta().Classes != MaxLabel+1 {
		t.Errorf("labels up to MaxLabel: %v", err)
	}
	// uint64 labels beyond int64 saturate and are refused, not wrapped to negative.
	big := npyBytes(npyDict("<u8", "(1,)"), bytes.Repeat([]byte{0xff}, 8))
	_, err := ReadLabels(writeFile(t, dir, "u64.npy", big))
	wantErr(t, err, "u64.npy", "absurdly large")
	_, err = ReadLabels(writeFile(t, dir, "empty-labels.npy", npyBytes(npyDict("<i8", "(0,)"), nil)))
	wantErr(t, err, "empty-labels.npy", "no labels")
	_, err = Labeled(mustMatrix(t, 3), []int{0, -4, 1})
	wantErr(t, err, "in-memory matrix", "label 1 is negative")
	_, err = Labeled(mustMatrix(t, 3), []int{0, 1})
	wantErr(t, err, "in-memory matrix", "3 samples", "2 labels")
}

func mustMatrix(t *testing.T, n int) Source {
	t.Helper()
	src, err := FromMatrix(backend.Chunk{N: n, D: 1, F64: make([]float64, n)}, nil, Shape{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestBadShards(t *testing.T) {
	part := func(rows, cols int, descr string) []byte {
		size := map[string]int{"<f4": 4, "<f8": 8}[descr]
		return npyBytes(npyDict(descr, fmt.Sprintf("(%d, %d)", rows, cols)), make([]byte, rows*cols*size))
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  []string
	}{
		{"features", map[string][]byte{"a.npy": part(3, 5, "<f4"), "b.npy": part(3, 4, "<f4")}, []string{"b.npy", "4 features", "a.npy", "has 5"}},
		{"dtype", map[string][]byte{"a.npy": part(3, 5, "<f4"), "b.npy": part(3, 5, "<f8")}, []string{"b.npy", "dtype <f8", "a.npy", "<f4"}},
		{"image", map[string][]byte{"a.npy": npyBytes(npyDict("|u1", "(1, 2, 3)"), make([]byte, 6)), "b.npy": npyBytes(npyDict("|u1", "(1, 3, 2)"), make([]byte, 6))}, []string{"b.npy", "image shape 3x2x1", "2x3x1"}},
		{"truncated", map[string][]byte{"a.npy": part(3, 5, "<f4"), "b.npy": part(3, 5, "<f4")[:128+50], "c.npy": part(3, 5, "<f4")}, []string{"b.npy", "truncated", "needs 60 bytes", "holds 50 bytes"}},
		{"empty-dir", map[string][]byte{"notes.txt": []byte("x")}, []string{"holds no .npy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tc.files {
				writeFile(t, dir, name, b)
			}
			wantErr(t, readAll(dir, ""), tc.want...)
		})
	}

	// Label shards must pair with data shards one for one.
	dir := t.TempDir()
	writeFile(t, dir, "x/a.npy", part(3, 2, "<f8"))
	writeFile(t, dir, "x/b.npy", part(4, 2, "<f8"))
	if err := os.MkdirAll(filepath.Join(dir, "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, l := range [][]int64{{0, 1, 2, 3}, {0, 1, 2}} { // 4+3 = 7 labels for 3+4 rows
		if err := WriteNPY(filepath.Join(dir, "y", fmt.Sprintf("%c.npy", 'a'+i)), l, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Open(filepath.Join(dir, "x"), filepath.Join(dir, "y"), Options{})
	wantErr(t, err, "label count mismatch", filepath.Join("y", "a.npy"), "4 labels", filepath.Join("x", "a.npy"), "3 samples")
	_, err = Open(filepath.Join(dir, "x"), "testdata/shardlabels/*.npy", Options{})
	wantErr(t, err, "matches 3 label files", "2 data files")
	_, err = Open(filepath.Join(dir, "nothing-*.npy"), "", Options{})
	wantErr(t, err, "nothing-*.npy", "matches no files")
	_, err = Open(filepath.Join(dir, "missing.npy"), "", Options{})
	wantErr(t, err, "missing.npy", "no such file")
}

// TestFileChangedAfterOpen truncates a file between reading its header and
// streaming it: the stream must notice rather than deliver short data.
func TestFileChangedAfterOpen(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"x.npy", "x.npy.gz"} {
		body := npyBytes(npyDict("<f8", "(6, 2)"), f64Bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))
		full := body
		if strings.HasSuffix(name, ".gz") {
			full = gzipBytes(body)
		}
		p := writeFile(t, dir, name, full)
		src, err := OpenFile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		cut := body[:len(body)-20]
		if strings.HasSuffix(name, ".gz") {
			cut = gzipBytes(cut)
		}
		writeFile(t, dir, name, cut)
		r, err := src.Open(2)
		if err != nil {
			t.Fatal(err)
		}
		var last error
		for last == nil {
			_, last = r.Next()
		}
		r.Close()
		wantErr(t, last, name, "truncated", "needs 96 bytes", "holds 76 bytes")
	}
}

func TestMisuse(t *testing.T) {
	src, err := OpenFile("testdata/f64_flat.npy", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Open(0)
	wantErr(t, err, "f64_flat.npy", "chunk of 0 rows")
	_, err = OpenNPY("testdata/images-idx3-ubyte", Options{})
	wantErr(t, err, "images-idx3-ubyte", "is an IDX file, not NPY")
	_, err = OpenIDX("testdata/f64_flat.npy", Options{})
	wantErr(t, err, "f64_flat.npy", "is an NPY file, not IDX")
	_, err = OpenFile("testdata", Options{})
	wantErr(t, err, "testdata", "is a directory")

	// A closed reader stops delivering.
	r, err := src.Open(3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := r.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close: %v", err)
	}
}
