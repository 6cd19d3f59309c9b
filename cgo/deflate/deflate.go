//go:build libdeflate && cgo

package deflate

/*
#cgo LDFLAGS: -ldeflate
#include <libdeflate.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Available reports whether this build has libdeflate.
func Available() bool { return true }

// Version is libdeflate's version string.
func Version() string { return C.LIBDEFLATE_VERSION_STRING }

// Gunzip decompresses the single-member gzip file in into out, which must
// have exactly the decompressed size. libdeflate checks the CRC-32 and the
// size in the trailer; input left over after the member (a multi-member
// file, or trailing garbage) is an error too.
func Gunzip(in, out []byte) error {
	if len(in) == 0 || len(out) == 0 {
		return fmt.Errorf("deflate: empty input or output")
	}
	d := C.libdeflate_alloc_decompressor()
	if d == nil {
		return fmt.Errorf("deflate: libdeflate could not allocate a decompressor")
	}
	defer C.libdeflate_free_decompressor(d)
	var used, made C.size_t
	r := C.libdeflate_gzip_decompress_ex(d, unsafe.Pointer(&in[0]), C.size_t(len(in)), unsafe.Pointer(&out[0]), C.size_t(len(out)), &used, &made)
	switch {
	case r == C.LIBDEFLATE_BAD_DATA:
		return fmt.Errorf("deflate: corrupt gzip data")
	case r == C.LIBDEFLATE_INSUFFICIENT_SPACE:
		return fmt.Errorf("deflate: the data expand to more than %d bytes", len(out))
	case r != C.LIBDEFLATE_SUCCESS:
		return fmt.Errorf("deflate: libdeflate error %d", int(r))
	case int(made) != len(out):
		return fmt.Errorf("deflate: the data expand to %d bytes, not %d", int(made), len(out))
	case int(used) != len(in):
		return fmt.Errorf("deflate: %d bytes follow the first gzip member", len(in)-int(used))
	}
	return nil
}
