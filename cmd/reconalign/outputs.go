package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/internal/atomicfile"
)

// outputs are the files a command writes. Their paths are declared before
// any work, which refuses an output that is also an input or another output;
// their contents go to temporary files once the computation succeeded, and
// commit gives them all their names at the end. A run that fails leaves no
// new file and never touches an existing one. "-" is stdout, written last.
type outputs struct {
	inputs  []string          // input files, expanded
	targets map[string]string // output path → the flag that named it
	set     atomicfile.Set
	stdout  []byte
}

// newOutputs records a command's inputs and declares its outputs, given as
// flag, path pairs.
func newOutputs(inputs []string, flagPaths ...string) (*outputs, error) {
	o := &outputs{}
	o.input(inputs...)
	for i := 0; i+1 < len(flagPaths); i += 2 {
		if err := o.declare(flagPaths[i], flagPaths[i+1]); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// input records the files a command reads (a data path may be a directory
// or a glob: all its files count). Paths that do not resolve are left to
// the readers to report.
func (o *outputs) input(paths ...string) {
	for _, p := range paths {
		if p == "" {
			continue
		}
		if files, err := data.ResolvePaths(p); err == nil {
			o.inputs = append(o.inputs, files...)
		} else {
			o.inputs = append(o.inputs, p)
		}
	}
}

// declare records an output path named by flag ("" and "-" need no check).
func (o *outputs) declare(flag, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	for _, in := range o.inputs {
		if samePath(in, path) {
			return fmt.Errorf("%s %s is also an input (%s): refusing to overwrite it", flag, path, in)
		}
	}
	for other, otherFlag := range o.targets {
		if samePath(other, path) {
			return fmt.Errorf("%s %s is also the output of %s", flag, path, otherFlag)
		}
	}
	if o.targets == nil {
		o.targets = map[string]string{}
	}
	o.targets[path] = flag
	return nil
}

// write writes a declared output with fn (to a temporary file, or for "-"
// to a buffer for stdout); nothing appears before commit.
func (o *outputs) write(path string, fn func(io.Writer) error) error {
	switch path {
	case "":
		return nil
	case "-":
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			return err
		}
		o.stdout = append(o.stdout, b.Bytes()...)
		return nil
	}
	if _, ok := o.targets[path]; !ok {
		panic("outputs: " + path + " was not declared")
	}
	return o.set.Write(path, fn)
}

// add joins a finished streamed output (an NPY writer) to the group.
func (o *outputs) add(p atomicfile.Pending) { o.set.Add(p) }

// commit gives every output its name, then writes stdout's.
func (o *outputs) commit() error {
	if err := o.set.Commit(); err != nil {
		return err
	}
	_, err := os.Stdout.Write(o.stdout)
	return err
}

// abort removes whatever was written; after commit it does nothing.
func (o *outputs) abort() { o.set.Abort() }

// samePath reports whether two paths name the same file: by identity when
// both exist, else by their absolute paths with symbolic links in the
// directories resolved (an output that does not exist yet).
func samePath(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return canonical(a) == canonical(b)
}

func canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	dir := filepath.Dir(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Join(dir, filepath.Base(abs))
}
