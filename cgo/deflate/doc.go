// Package deflate decompresses whole gzip files in memory with libdeflate
// (Debian's libdeflate-dev), which inflates two to three times faster than
// the streaming Go decoders. It only takes a file that fits in memory and
// whose decompressed size is known from the gzip trailer; the data package
// streams everything else.
//
// It is compiled only with cgo and the build tag "libdeflate", which the
// Makefile sets when pkg-config finds libdeflate; without them Available
// reports false and Gunzip always fails.
package deflate
