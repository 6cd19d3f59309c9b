// Command synth-shards writes a synthetic dataset (reconalign's --synthetic
// specs, package synth) as .npy shards x_NN.npy and y_NN.npy: a shard set
// to try reconalign-beam on, or to measure it against `reconalign moments`
// on the same files.
//
//	synth-shards --synthetic cifar10-like,n=350000 --shards 12 --dir /tmp/shards
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/synth"
)

func main() {
	spec := flag.String("synthetic", "fmnist-like", "synthetic dataset spec (see package synth)")
	shards := flag.Int("shards", 12, "number of shards")
	dir := flag.String("dir", "", "directory to write the shards into")
	flag.Parse()
	if err := write(*spec, *shards, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "synth-shards:", err)
		os.Exit(1)
	}
}

func write(spec string, shards int, dir string) error {
	if dir == "" || shards < 1 {
		return fmt.Errorf("give --dir and --shards ≥ 1")
	}
	g, err := synth.Open(spec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	meta := g.Meta()
	s := meta.Shape
	for k := 0; k < shards; k++ {
		a, b := k*meta.N/shards, (k+1)*meta.N/shards
		x := backend.Chunk{N: b - a, D: meta.D}
		var vals any
		if meta.DType == backend.U8 {
			x.U8 = make([]uint8, x.N*x.D)
			vals = x.U8
		} else {
			x.F32 = make([]float32, x.N*x.D)
			vals = x.F32
		}
		labels := make([]int, x.N)
		if err := g.Fill(a, x, labels); err != nil {
			return err
		}
		shape := []int{x.N, s.H, s.W, s.C}
		if s.Layout == data.CHW {
			shape = []int{x.N, s.C, s.H, s.W}
		}
		if err := data.WriteNPY(filepath.Join(dir, fmt.Sprintf("x_%02d.npy", k)), vals, shape); err != nil {
			return err
		}
		if err := data.WriteNPY(filepath.Join(dir, fmt.Sprintf("y_%02d.npy", k)), labels, nil); err != nil {
			return err
		}
	}
	fmt.Printf("%s: %d samples of %d features (%s) in %d shards in %s\n", meta.Name, meta.N, meta.D, meta.DType, shards, dir)
	return nil
}
