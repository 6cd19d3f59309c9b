package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist package installs
// the four IDX files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionMNIST opens the "train" (60,000 images) or "test" (10,000) split of
// Fashion-MNIST from dir (FashionMNISTDir when empty), with its labels:
// 28×28×1 uint8 images, D = 784, 10 classes.
func FashionMNIST(dir, split string) (Source, error) {
	if dir == "" {
		dir = FashionMNISTDir
	}
	var prefix string
	switch split {
	case "train":
		prefix = "train"
	case "test", "t10k":
		prefix = "t10k"
	default:
		return nil, fmt.Errorf("fashion-mnist: unknown split %q: want train or test", split)
	}
	images := filepath.Join(dir, prefix+"-images-idx3-ubyte.gz")
	labels := filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz")
	for _, p := range []string{images, labels} {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("fashion-mnist: %s is missing: install Debian's dataset-fashion-mnist: apt-get install dataset-fashion-mnist (or put the four gzip IDX files from github.com/zalandoresearch/fashion-mnist in a directory and pass it)", p)
		}
	}
	x, err := OpenIDX(images, Options{})
	if err != nil {
		return nil, err
	}
	l, err := ReadLabels(labels)
	if err != nil {
		return nil, err
	}
	if len(l) != x.Meta().N {
		return nil, fmt.Errorf("label count mismatch: %s holds %d labels but %s holds %d images", labels, len(l), images, x.Meta().N)
	}
	src, err := Labeled(withMeta{Source: x, labels: labels}, l)
	if err != nil {
		return nil, err
	}
	return withMeta{Source: src, name: "fashion-mnist/" + split}, nil
}

// withMeta gives a source a friendlier name for messages and reports, or
// says which file its labels came from (what is empty is left as it is).
type withMeta struct {
	Source
	name, labels string
}

func (w withMeta) Meta() Meta {
	m := w.Source.Meta()
	if w.name != "" {
		m.Name = w.name
	}
	if w.labels != "" {
		m.LabelsName = w.labels
	}
	return m
}
