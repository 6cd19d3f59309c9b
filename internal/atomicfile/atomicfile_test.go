package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// failAfter is a writer's view of a device that fills up after n bytes.
type failAfter struct {
	w io.Writer
	n int
}

var errFull = errors.New("no space left on device (simulated)")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errFull
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// entries lists a directory, to show that nothing was left behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestSetIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, []byte("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	var s Set
	if err := s.Write(old, func(w io.Writer) error { _, err := w.Write([]byte("after")); return err }); err != nil {
		t.Fatal(err)
	}
	err := s.Write(filepath.Join(dir, "new.csv"), func(w io.Writer) error {
		_, err := (&failAfter{w, 4096}).Write(bytes.Repeat([]byte("x"), 10000))
		return err
	})
	if !errors.Is(err, errFull) {
		t.Fatalf("failing write: %v", err)
	}
	s.Abort()
	if got := entries(t, dir); len(got) != 1 || got[0] != "old.json" {
		t.Fatalf("left behind: %v", got)
	}
	if b, _ := os.ReadFile(old); string(b) != "before" {
		t.Fatalf("the existing file was touched: %q", b)
	}
	// A set that succeeds replaces and creates.
	var ok Set
	for _, p := range []string{old, filepath.Join(dir, "b.txt")} {
		if err := ok.Write(p, func(w io.Writer) error { _, err := io.WriteString(w, "after"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if got := entries(t, dir); len(got) != 3 { // two temporaries and old.json, before Commit
		t.Fatalf("before commit: %v", got)
	}
	if b, _ := os.ReadFile(old); string(b) != "before" {
		t.Fatal("a file changed before Commit")
	}
	if err := ok.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Fatalf("after commit: %v", got)
	}
	if b, _ := os.ReadFile(old); string(b) != "after" {
		t.Fatalf("committed content %q", b)
	}
}
