//go:build linux

package scenario

import (
	"os"
	"testing"
)

// TestChildPeakIsTheChilds: a child that touches 64 MB, started by a
// process that has touched 512 MB, reports about 64 MB — not the parent's
// high-water mark, which the kernel's maxrss carries across a vfork'd exec.
func TestChildPeakIsTheChilds(t *testing.T) {
	if os.Getenv("RECONALIGN_PEAK_CHILD") != "" {
		buf := make([]byte, 64<<20)
		for i := range buf {
			buf[i] = byte(i)
		}
		os.Stdout.Write(buf[len(buf)-1:])
		return
	}
	big := make([]byte, 512<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	os.Setenv("RECONALIGN_PEAK_CHILD", "1")
	defer os.Unsetenv("RECONALIGN_PEAK_CHILD")
	peak, err := child(os.Args[0], "-test.run=^TestChildPeakIsTheChilds$")
	if err != nil {
		t.Fatal(err)
	}
	if peak < 64<<20 || peak > 256<<20 {
		t.Errorf("child's peak %d MB, want about 64 MB (this process holds %d MB)", peak>>20, len(big)>>20)
	}
	big[0] = 2
}
