package scenario

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/bench"
	"github.com/reconalign/reconalign/bench/report"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/synth"
)

// The moments file (the moments-file issue): `reconalign moments` on a set
// of .npy shards, per backend, against the Beam pipeline reconalign-beam on
// Beam's in-process Prism runner on the same shards (a reference: the
// ratio is the pipeline's overhead on one machine). Both run as child
// processes. Their files must hold the same arrays: for uint8 data the
// moments are exact integers, bit-identical whatever the order of the sums.

// momentsKeys are the arrays a moments file holds besides meta.
var momentsKeys = []string{"xtx", "ytx", "yty", "sum_x", "sum_y", "n"}

// shardSource opens a shard set's data.
func shardSource(env *bench.Env, set ShardSet) (data.Source, error) {
	if split, ok := strings.CutPrefix(set.Source, "fmnist-"); ok {
		src, err := data.FashionMNIST(env.Config.FashionMNISTDir, split)
		if err != nil {
			return nil, bench.Skipf("Fashion-MNIST: %v", err)
		}
		return src, nil
	}
	return synth.Open(set.Source)
}

// shardSetName is how results name a shard set.
func shardSetName(set ShardSet) string {
	name := set.Source
	if !strings.HasPrefix(name, "fmnist-") {
		if ds, err := synthDataset(name); err == nil {
			name = ds
		}
	}
	return fmt.Sprintf("%s-%dshards", name, set.Shards)
}

// writeShards writes src as shards .npy files of images (rows×H×W×C) and
// labels in dir, and returns the two globs and the number of rows.
func writeShards(src data.Source, dir string, shards int) (images, labels string, n int, err error) {
	meta := src.Meta()
	if meta.DType != backend.U8 {
		return "", "", 0, fmt.Errorf("%s: want uint8 rows, have %v", meta.Name, meta.DType)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", 0, err
	}
	per := (meta.N + shards - 1) / shards
	sh := meta.Shape
	var x []uint8
	var lab []int
	k := 0
	flush := func() error {
		if len(lab) == 0 {
			return nil
		}
		if err := data.WriteNPY(filepath.Join(dir, fmt.Sprintf("images-%03d.npy", k)), x, []int{len(lab), sh.H, sh.W, sh.C}); err != nil {
			return err
		}
		if err := data.WriteNPY(filepath.Join(dir, fmt.Sprintf("labels-%03d.npy", k)), lab, nil); err != nil {
			return err
		}
		k++
		x, lab = x[:0], lab[:0]
		return nil
	}
	err = data.Each(src, per, func(b data.Batch) error {
		for i := 0; i < b.X.N; i++ {
			x = append(x, b.X.U8[i*meta.D:(i+1)*meta.D]...)
			lab = append(lab, b.Labels[i])
			n++
			if len(lab) == per {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return filepath.Join(dir, "images-*.npy"), filepath.Join(dir, "labels-*.npy"), n, err
}

// shardFiles are a shard set written once per run.
type shardFiles struct {
	images, labels string
	n, d           int
}

func preparedShards(env *bench.Env, set ShardSet) (*shardFiles, error) {
	name := shardSetName(set)
	v, err := env.Cached("shards/"+name, func() (any, error) {
		src, err := shardSource(env, set)
		if err != nil {
			return nil, err
		}
		dir := tempPath(env, name)
		env.OnClose(func() { os.RemoveAll(dir) })
		images, labels, n, err := writeShards(src, dir, set.Shards)
		if err != nil {
			return nil, err
		}
		return &shardFiles{images: images, labels: labels, n: n, d: src.Meta().D}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*shardFiles), nil
}

// hasMomentsCommand says whether exe has the moments command.
func hasMomentsCommand(env *bench.Env, exe string) error {
	_, err := env.Cached("moments-command", func() (any, error) {
		if out, err := exec.Command(exe, "moments", "--help").CombinedOutput(); err != nil {
			return nil, bench.Skipf("%s has no moments command (the moments-file issue): %s", exe, lastLine(string(out)))
		}
		return true, nil
	})
	return err
}

// beamExecutable finds reconalign-beam next to reconalign, else on PATH.
func beamExecutable(env *bench.Env) (string, error) {
	if exe := env.Config.Executable; exe != "" {
		p := filepath.Join(filepath.Dir(exe), beamBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(beamBinary); err == nil {
		return p, nil
	}
	return "", bench.Skipf("%s not found next to reconalign or on PATH (make beam builds bin/%s)", beamBinary, beamBinary)
}

// momentsFileScenarios registers `reconalign moments` per backend and the
// Beam pipeline as their reference, on one shard set.
func momentsFileScenarios(names []string, set ShardSet) []bench.Scenario {
	name := shardSetName(set)
	// The first moments file written, which every other must equal.
	var first string
	check := func(env *bench.Env, path string) error {
		sf, err := preparedShards(env, set)
		if err != nil {
			return err
		}
		got, err := readMomentsFile(path, sf.n)
		if err != nil {
			return err
		}
		if first == "" {
			first = path
			return nil
		}
		want, err := readMomentsFile(first, sf.n)
		if err != nil {
			return err
		}
		for _, k := range momentsKeys {
			if !bytes.Equal(got[k], want[k]) {
				return fmt.Errorf("%s: %s differs from %s's", path, k, first)
			}
		}
		return nil
	}
	// common completes a scenario that runs the program find returns (a
	// skip when there is none, found before any shard is written) with the
	// arguments args gives.
	common := func(s bench.Scenario, file string, find func(env *bench.Env) (string, error), args func(env *bench.Env, sf *shardFiles, out string) []string) bench.Scenario {
		s.Group = report.GroupMoments
		s.FlopModel = gramModel + " (the moments' Gram; reading and the label sums not counted)"
		s.Check = "the moments file holds " + strings.Join(momentsKeys, ", ") + " and meta, n = the rows written; every array identical to the first moments file of the run"
		s.Params = map[string]any{"dataset": name, "source": set.Source, "shards": set.Shards}
		s.Setup = func(env *bench.Env, be backend.Backend) (*bench.Case, error) {
			exe, err := find(env)
			if err != nil {
				return nil, err
			}
			sf, err := preparedShards(env, set)
			if err != nil {
				return nil, err
			}
			out := tempPath(env, name+"-"+file+".npz")
			env.OnClose(func() { os.Remove(out) })
			argv := args(env, sf, out)
			c := &bench.Case{Flops: gramFlops(sf.n, sf.d)}
			c.Run = func() error {
				peak, err := child(exe, argv...)
				c.PeakRSSBytes = max(c.PeakRSSBytes, peak)
				return err
			}
			c.Check = func() error { return check(env, out) }
			return c, nil
		}
		return s
	}
	var out []bench.Scenario
	withMoments := func(env *bench.Env) (string, error) {
		exe, err := reconalign(env)
		if err != nil {
			return "", err
		}
		return exe, hasMomentsCommand(env, exe)
	}
	for _, b := range names {
		out = append(out, common(bench.Scenario{Name: fmt.Sprintf("%s/%s/%s", report.GroupMoments, b, name), Backend: b}, b, withMoments,
			func(env *bench.Env, sf *shardFiles, path string) []string {
				return append(globalArgs(env, b), "moments", "--data", sf.images, "--labels", sf.labels, "--out", path)
			}))
	}
	out = append(out, common(bench.Scenario{Name: fmt.Sprintf("%s/beam_prism/%s", report.GroupMoments, name)}, "beam", beamExecutable,
		func(env *bench.Env, sf *shardFiles, path string) []string {
			return append([]string{"--data", sf.images, "--labels", sf.labels, "--out", path}, beamArgs...)
		}))
	return out
}

// readMomentsFile reads the arrays of a moments file (.npz, a zip of .npy
// members) as their raw .npy bytes, checking that every documented key is
// there and that n holds rows.
func readMomentsFile(path string, rows int) (map[string][]byte, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a moments file: %w", path, err)
	}
	defer z.Close()
	out := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		out[strings.TrimSuffix(f.Name, ".npy")] = b
	}
	var missing []string
	for _, k := range append(momentsKeys, "meta") {
		if _, ok := out[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		have := make([]string, 0, len(out))
		for k := range out {
			have = append(have, k)
		}
		sort.Strings(have)
		return nil, fmt.Errorf("%s: no %s in the moments file (it has %s)", path, strings.Join(missing, ", "), strings.Join(have, ", "))
	}
	n, err := npyInt64Scalar(out["n"])
	if err != nil {
		return nil, fmt.Errorf("%s: n: %w", path, err)
	}
	if n != int64(rows) {
		return nil, fmt.Errorf("%s: n = %d, the shards hold %d rows", path, n, rows)
	}
	return out, nil
}

// npyInt64Scalar reads the value of a .npy file holding one little-endian
// int64.
func npyInt64Scalar(b []byte) (int64, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return 0, fmt.Errorf("not a .npy array")
	}
	start := 10 + int(binary.LittleEndian.Uint16(b[8:10]))
	if b[6] >= 2 {
		if len(b) < 12 {
			return 0, fmt.Errorf("truncated .npy header")
		}
		start = 12 + int(binary.LittleEndian.Uint32(b[8:12]))
	}
	if start > len(b) || !strings.Contains(string(b[10:start]), "'<i8'") {
		return 0, fmt.Errorf("want one little-endian int64")
	}
	if len(b)-start != 8 {
		return 0, fmt.Errorf("%d bytes of data, want one int64 (8)", len(b)-start)
	}
	return int64(binary.LittleEndian.Uint64(b[start:])), nil
}
