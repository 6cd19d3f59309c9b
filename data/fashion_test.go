package data

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/reconalign/reconalign/backend"
)

// Reference numbers computed independently of this package with Python's
// gzip and struct modules on Debian's dataset-fashion-mnist files:
//
//	px = gzip.open("train-images-idx3-ubyte.gz").read()[16:]
//	sum(px), sum(px[:784]), px[14*28+14]
//	gzip.open("train-labels-idx1-ubyte.gz").read()[8:10]
var fashionRef = map[string]struct {
	n, firstLabel, secondLabel int
	pixelSum                   int64
	firstImageSum, centrePixel int64
}{
	"train": {60000, 9, 0, 3431114169, 76247, 217},
	"test":  {10000, 9, 2, 573469082, 33456, 110},
}

func TestFashionMNIST(t *testing.T) {
	if _, err := os.Stat(filepath.Join(FashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Fashion-MNIST absent (%v): apt-get install dataset-fashion-mnist", err)
	}
	for split, ref := range fashionRef {
		src, err := FashionMNIST("", split)
		if err != nil {
			t.Fatal(err)
		}
		m := src.Meta()
		prefix := map[string]string{"train": "train", "test": "t10k"}[split]
		want := Meta{Name: "fashion-mnist/" + split, N: ref.n, D: 784, Classes: 10, DType: backend.U8, Shape: Shape{H: 28, W: 28, C: 1, Layout: HWC},
			LabelsName: filepath.Join(FashionMNISTDir, prefix+"-labels-idx1-ubyte.gz")}
		if m != want {
			t.Fatalf("meta %+v, want %+v", m, want)
		}
		var sum, first, centre int64
		var labels []int
		rows := 0
		forEachBatch(t, src, 7000, func(b Batch) {
			for i, v := range b.X.U8 {
				sum += int64(v)
				if rows == 0 && i < 784 {
					first += int64(v)
				}
			}
			if rows == 0 {
				centre = int64(b.X.U8[14*28+14])
			}
			if len(labels) < 2 {
				labels = append(labels, b.Labels[:2]...)
			}
			rows += b.X.N
		})
		if sum != ref.pixelSum || first != ref.firstImageSum || centre != ref.centrePixel {
			t.Errorf("%s: pixel sum %d, first image %d, centre %d; want %d, %d, %d", split, sum, first, centre, ref.pixelSum, ref.firstImageSum, ref.centrePixel)
		}
		if labels[0] != ref.firstLabel || labels[1] != ref.secondLabel {
			t.Errorf("%s: first labels %v, want %d %d", split, labels, ref.firstLabel, ref.secondLabel)
		}
	}
}

func TestFashionMNISTMissing(t *testing.T) {
	_, err := FashionMNIST(t.TempDir(), "train")
	wantErr(t, err, "train-images-idx3-ubyte.gz", "is missing", "apt-get install dataset-fashion-mnist")
	_, err = FashionMNIST("", "validation")
	wantErr(t, err, `"validation"`, "train or test")
}
