package data

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// parseNPYHeader reads an NPY header (format versions 1 to 3): the magic,
// the version, the header length and a Python dict literal with the keys
// 'descr', 'fortran_order' and 'shape'.
//
// npyio's Reader parses the same header, but it trusts the header length (so
// a forged length allocates up to 4 GiB) and slices by key positions (so a
// reordered or malformed dict panics); a data reader that must survive any
// bytes needs its own careful parser.
func parseNPYHeader(r io.Reader, path string) (*array, error) {
	h, off, err := readNPYDict(r, path)
	if err != nil {
		return nil, err
	}
	if h.fortran {
		return nil, fmt.Errorf("%s: Fortran-order arrays are not supported: save with np.ascontiguousarray (shape %s, dtype %s)", path, dimsString(h.shape), h.descr)
	}
	elem, err := parseDescr(h.descr)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(h.shape) == 0 {
		return nil, fmt.Errorf("%s: holds a 0-dimensional array (a scalar); expected shape (N, ...)", path)
	}
	if err := checkDims(path, h.shape, elem.size); err != nil {
		return nil, err
	}
	return &array{format: "npy", elem: elem, dims: h.shape, dataOff: off}, nil
}

// readNPYDict reads an NPY header up to and including its dict (after the
// 6 magic bytes, which the caller has checked) and returns the dict and the
// offset of the body. The dict's keys are parsed but not interpreted, so
// that a reader of a type the data readers refuse (the Unicode string of a
// .npz's metadata) can use it too.
func readNPYDict(r io.Reader, path string) (headerDict, int64, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return headerDict{}, 0, fmt.Errorf("%s: truncated NPY header", path)
	}
	major, minor := pre[6], pre[7]
	var hlen int64
	switch major {
	case 1:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return headerDict{}, 0, fmt.Errorf("%s: truncated NPY header", path)
		}
		hlen = int64(binary.LittleEndian.Uint16(l[:]))
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return headerDict{}, 0, fmt.Errorf("%s: truncated NPY header", path)
		}
		hlen = int64(binary.LittleEndian.Uint32(l[:]))
	default:
		return headerDict{}, 0, fmt.Errorf("%s: unsupported NPY format version %d.%d (supported: 1.0, 2.0, 3.0)", path, major, minor)
	}
	if hlen > maxHeader {
		return headerDict{}, 0, fmt.Errorf("%s: corrupt NPY header: it claims to be %d bytes long (at most %d expected)", path, hlen, maxHeader)
	}
	// Read through a LimitedReader so that a header length beyond the end
	// of a small file allocates no more than the file holds.
	var sb strings.Builder
	n, err := io.Copy(&sb, io.LimitReader(r, hlen))
	if err != nil {
		return headerDict{}, 0, fmt.Errorf("%s: reading NPY header: %v", path, err)
	}
	if n < hlen {
		return headerDict{}, 0, fmt.Errorf("%s: truncated NPY header: %d bytes declared, the file ends after %d", path, hlen, n)
	}
	off := int64(10)
	if major > 1 {
		off = 12
	}
	h, err := parseHeaderDict(sb.String())
	if err != nil {
		return headerDict{}, 0, fmt.Errorf("%s: corrupt NPY header %s: %v", path, abbreviate(sb.String()), err)
	}
	return h, off + hlen, nil
}

func abbreviate(s string) string {
	s = strings.TrimRight(s, " \n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return fmt.Sprintf("%q", s)
}

type headerDict struct {
	descr   string
	fortran bool
	shape   []int
}

// maxDims bounds the dimensions of a shape tuple; NumPy allows 64.
const maxDims = 64

// parseHeaderDict parses the dict literal NumPy writes, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
// followed by space padding and a newline.
func parseHeaderDict(s string) (headerDict, error) {
	p := &pyParser{s: s}
	var h headerDict
	seen := map[string]bool{}
	p.space()
	if !p.eat('{') {
		return h, fmt.Errorf("expected '{'")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, fmt.Errorf("key %q given twice", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return h, fmt.Errorf("expected ':' after key %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() == '[' || p.peek() == '{' {
				return h, fmt.Errorf("structured dtypes are not supported: save a plain numeric array")
			}
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			switch w := p.word(); w {
			case "True":
				h.fortran = true
			case "False":
				h.fortran = false
			default:
				return h, fmt.Errorf("fortran_order is %s, expected True or False (unquoted)", p.token())
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, err
			}
		default:
			return h, fmt.Errorf("unexpected key %q", key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return h, fmt.Errorf("expected ',' or '}' after the value of %q", key)
		}
		break
	}
	if strings.TrimSpace(p.s[p.i:]) != "" {
		return h, fmt.Errorf("unexpected text after the dict")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("key %q is missing", k)
		}
	}
	return h, nil
}

// pyParser scans the few Python literals an NPY header holds.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// str reads a quoted string without escapes (dtype strings and the three
// keys never need them).
func (p *pyParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("expected a quoted string at offset %d", p.i)
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("unexpected escape in string %q", v)
	}
	p.i += end + 2
	return v, nil
}

func (p *pyParser) word() string {
	j := p.i
	for j < len(p.s) && (p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= 'A' && p.s[j] <= 'Z') {
		j++
	}
	w := p.s[p.i:j]
	p.i = j
	return w
}

// token is the text from the current position up to the next ',' or '}',
// for messages about a value that is not what was expected.
func (p *pyParser) token() string {
	rest := p.s[p.i:]
	if j := strings.IndexAny(rest, ",}"); j >= 0 {
		rest = rest[:j]
	}
	return strings.TrimSpace(rest)
}

// tuple reads a tuple of non-negative integers: (), (3,), (3, 4) or the
// Python 2 form (3L, 4L).
func (p *pyParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("shape is not a tuple")
	}
	dims := []int{}
	for {
		p.space()
		if p.eat(')') {
			return dims, nil
		}
		if len(dims) == maxDims {
			return nil, fmt.Errorf("shape has more than %d dimensions", maxDims)
		}
		j := p.i
		v := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			if v > maxElems/10 {
				return nil, fmt.Errorf("shape dimension %s... is impossibly large", p.s[j:p.i])
			}
			v = 10*v + int(p.s[p.i]-'0')
			p.i++
		}
		if p.i == j {
			return nil, fmt.Errorf("shape holds a non-integer at offset %d", p.i)
		}
		p.eat('L')
		dims = append(dims, v)
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat(')') {
			return nil, fmt.Errorf("expected ',' or ')' in shape")
		}
		return dims, nil
	}
}
