package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// OpenFile opens one IDX or NPY file, telling them apart by their magic bytes
// (either may be gzip-compressed). Only the header is read here.
func OpenFile(path string, opts Options) (Source, error) {
	return newFileSource(path, []string{path}, opts, false)
}

// OpenNPY opens one .npy file; opts.Layout CHW reads a 4-D array as
// (N, C, H, W).
func OpenNPY(path string, opts Options) (Source, error) {
	return openFormat(path, "npy", opts)
}

// OpenIDX opens one IDX file (raw or gzip-compressed), such as MNIST's
// train-images-idx3-ubyte.gz.
func OpenIDX(path string, opts Options) (Source, error) {
	return openFormat(path, "idx", opts)
}

func openFormat(path, format string, opts Options) (Source, error) {
	s, err := newFileSource(path, []string{path}, opts, false)
	if err != nil {
		return nil, err
	}
	if got := s.shards[0].format; got != format {
		return nil, fmt.Errorf("%s: is an %s file, not %s", path, strings.ToUpper(got), strings.ToUpper(format))
	}
	return s, nil
}

// Open opens a dataset: dataPath is a file (IDX or NPY), a directory (its
// *.npy and *.npy.gz files) or a glob pattern ("shards/*.npy"); several files
// are read in lexical order as one dataset. labelsPath, when not empty, names
// the labels the same way: integer arrays become class labels, float arrays
// of shape (N,) or (N, C) dense targets. Label files either match the data
// files one for one, or are one file for all of them.
func Open(dataPath, labelsPath string, opts Options) (Source, error) {
	files, err := ResolvePaths(dataPath)
	if err != nil {
		return nil, err
	}
	x, err := newFileSource(dataPath, files, opts, false)
	if err != nil {
		return nil, err
	}
	if labelsPath == "" {
		return x, nil
	}
	lfiles, err := ResolvePaths(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(lfiles) != 1 && len(lfiles) != len(files) {
		return nil, fmt.Errorf("%s matches %d label files but %s matches %d data files: give one labels file per data file, or a single one", labelsPath, len(lfiles), dataPath, len(files))
	}
	first, err := readArray(lfiles[0])
	if err != nil {
		return nil, err
	}
	if first.elem.isFloat() {
		t, err := newFileSource(labelsPath, lfiles, Options{}, true)
		if err != nil {
			return nil, err
		}
		if err := matchCounts(x, t, "rows of targets"); err != nil {
			return nil, err
		}
		return WithTargets(x, t)
	}
	var labels []int
	counts := make([]int, len(lfiles))
	for i, p := range lfiles {
		a := first
		if i > 0 {
			if a, err = readArray(p); err != nil {
				return nil, err
			}
		}
		l, err := readLabels(a)
		if err != nil {
			return nil, err
		}
		counts[i] = len(l)
		labels = append(labels, l...)
	}
	if err := matchLabelCounts(x, lfiles, counts, labelsPath); err != nil {
		return nil, err
	}
	return Labeled(withMeta{Source: x, labels: labelsPath}, labels)
}

// matchLabelCounts names the first pair of files whose counts differ.
func matchLabelCounts(x *fileSource, lfiles []string, counts []int, labelsPath string) error {
	total := 0
	for _, c := range counts {
		total += c
	}
	if len(lfiles) == len(x.shards) {
		for i, a := range x.shards {
			if counts[i] != a.rows() {
				return fmt.Errorf("label count mismatch: %s holds %d labels but %s holds %d samples", lfiles[i], counts[i], a.path, a.rows())
			}
		}
	}
	if total != x.meta.N {
		return fmt.Errorf("label count mismatch: %s holds %d labels but %s holds %d samples", labelsPath, total, x.meta.Name, x.meta.N)
	}
	return nil
}

func matchCounts(x, t *fileSource, what string) error {
	if len(t.shards) == len(x.shards) {
		for i, a := range x.shards {
			if b := t.shards[i]; b.rows() != a.rows() {
				return fmt.Errorf("target count mismatch: %s holds %d %s but %s holds %d samples", b.path, b.rows(), what, a.path, a.rows())
			}
		}
	}
	if t.meta.N != x.meta.N {
		return fmt.Errorf("target count mismatch: %s holds %d %s but %s holds %d samples", t.meta.Name, t.meta.N, what, x.meta.Name, x.meta.N)
	}
	return nil
}

// ResolvePaths expands a data path into the files it names, in lexical order:
// an existing file is itself, a directory its *.npy and *.npy.gz files, and
// anything else a glob pattern, which must match at least one file.
func ResolvePaths(path string) ([]string, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil && !st.IsDir():
		return []string{path}, nil
	case err == nil:
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		var files []string
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() && (strings.HasSuffix(name, ".npy") || strings.HasSuffix(name, ".npy.gz")) {
				files = append(files, filepath.Join(path, name))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: directory holds no .npy or .npy.gz files", path)
		}
		sort.Strings(files)
		return files, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	case !strings.ContainsAny(path, "*?["):
		return nil, err
	}
	matches, err := filepath.Glob(path)
	if err != nil {
		return nil, fmt.Errorf("%s: bad glob pattern: %v", path, err)
	}
	var files []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && !st.IsDir() {
			files = append(files, m)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: pattern matches no files", path)
	}
	sort.Strings(files)
	return files, nil
}
