//go:build linux

package atomicfile

import (
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A real failing write (the file-size limit stands in for a full device):
// the error names the target, not the temporary file, and nothing is left.
func TestWriteFileOverAFullDevice(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	small := lim
	small.Cur = 4096
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "big.npy")
	err := WriteFile(target, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 100000))
		return err
	})
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim)
	if err == nil {
		t.Fatal("a write beyond the file-size limit succeeded")
	}
	if !strings.Contains(err.Error(), "big.npy") || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("error %q should name the target and not the temporary file", err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), func(io.Writer) error { return nil }); err == nil || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("unwritable directory: %v", err)
	}
}
