// Package atomicfile writes files that appear whole or not at all. Each is
// written to a temporary file in its target's directory (so that the final
// rename stays on one file system) and renamed over the target only once it
// is complete; a Set renames a group of them together after all were
// written. A reader never sees half a file, and a run that fails leaves no
// new file behind and never touches an existing one.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a file being written under a temporary name until Commit.
type File struct {
	target string
	f      *os.File
	closed bool
	err    error // the first failure; later calls return it
}

// Create starts a file that will be named target.
func Create(target string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("%s: cannot create it: %w", target, unwrapPath(err))
	}
	return &File{target: target, f: f}, nil
}

// Name is the target's name (never the temporary one).
func (f *File) Name() string { return f.target }

// Write appends to the file; an error names the target.
func (f *File) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.closed {
		return 0, f.fail(fmt.Errorf("%s: write after Close", f.target))
	}
	n, err := f.f.Write(p)
	if err != nil {
		return n, f.fail(fmt.Errorf("writing %s: %w", f.target, unwrapPath(err)))
	}
	return n, nil
}

// Close finishes the temporary file (its content complete and on disk)
// without giving it its name: Commit does that. An error removes it.
func (f *File) Close() error {
	if f.err != nil || f.closed {
		return f.err
	}
	f.closed = true
	if err := f.f.Chmod(0o644); err != nil {
		return f.fail(fmt.Errorf("writing %s: %w", f.target, unwrapPath(err)))
	}
	if err := f.f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return f.fail(fmt.Errorf("writing %s: %w", f.target, unwrapPath(err)))
	}
	if err := f.f.Close(); err != nil {
		return f.fail(fmt.Errorf("writing %s: %w", f.target, unwrapPath(err)))
	}
	return nil
}

// Commit closes the file if needed and renames it to its target.
func (f *File) Commit() error {
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.f.Name(), f.target); err != nil {
		return f.fail(fmt.Errorf("%s: cannot give the file its name: %w", f.target, unwrapPath(err)))
	}
	f.err = fmt.Errorf("%s: already committed", f.target)
	return nil
}

// Abort removes the temporary file; after Commit it does nothing.
func (f *File) Abort() {
	if f.err == nil {
		f.fail(fmt.Errorf("%s: aborted", f.target))
	}
}

// fail records err and removes the temporary file.
func (f *File) fail(err error) error {
	if f.err == nil {
		if !f.closed {
			f.f.Close()
			f.closed = true
		}
		os.Remove(f.f.Name())
		f.err = err
	}
	return err
}

// unwrapPath drops the temporary name an *fs.PathError carries, so that a
// message names the target instead.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// WriteFile writes target whole with write, or leaves it as it was.
func WriteFile(target string, write func(io.Writer) error) error {
	f, err := Create(target)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Pending is a finished file waiting for its name: *File, and writers built
// on one.
type Pending interface {
	Commit() error
	Abort()
}

// Set is a group of files committed together, after all were written.
type Set struct {
	files []Pending
}

// Create starts a file of the set.
func (s *Set) Create(target string) (*File, error) {
	f, err := Create(target)
	if err != nil {
		return nil, err
	}
	s.files = append(s.files, f)
	return f, nil
}

// Add puts a pending file in the set.
func (s *Set) Add(p Pending) { s.files = append(s.files, p) }

// Write writes a file of the set whole with write; on failure the file is
// removed and the error returned (the rest of the set is untouched).
func (s *Set) Write(target string, write func(io.Writer) error) error {
	f, err := s.Create(target)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

// Commit gives every file its name. The files were all written before, so
// what can still fail is a rename (a directory removed meanwhile); then the
// files not yet renamed are removed and the error returned.
func (s *Set) Commit() error {
	for i, p := range s.files {
		if err := p.Commit(); err != nil {
			for _, q := range s.files[i+1:] {
				q.Abort()
			}
			s.files = nil
			return err
		}
	}
	s.files = nil
	return nil
}

// Abort removes every file of the set not yet committed.
func (s *Set) Abort() {
	for _, p := range s.files {
		p.Abort()
	}
	s.files = nil
}
