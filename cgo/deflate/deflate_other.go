//go:build !libdeflate || !cgo

package deflate

import "errors"

// Available reports whether this build has libdeflate.
func Available() bool { return false }

// Version is empty without libdeflate.
func Version() string { return "" }

// Gunzip fails: this build has no libdeflate (see the package comment).
func Gunzip(in, out []byte) error {
	return errors.New("deflate: built without libdeflate (build tag libdeflate, cgo)")
}
