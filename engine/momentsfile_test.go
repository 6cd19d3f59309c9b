package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// dataset is a small labelled dataset in shards on disk.
type dataset struct {
	dir         string
	xs, ys      []string // shard files, in lexical order
	xAll, yAll  string   // the same data in one file each
	n, d, c     int
	targets, u8 bool
}

// writeDataset writes n×d samples (uint8, or float64 with a mean 10⁴ times
// their spread, where the shift matters) with class labels or dense
// targets, as shards and as whole files.
func writeDataset(t *testing.T, n, d, c, shards int, u8, targets bool, seed uint64) *dataset {
	t.Helper()
	ds := &dataset{dir: t.TempDir(), n: n, d: d, c: c, targets: targets, u8: u8}
	rng := rand.New(rand.NewPCG(seed, 2))
	xf := make([]float64, n*d)
	xu := make([]uint8, n*d)
	for i := range xf {
		xu[i] = uint8(rng.IntN(200) + i%50)
		xf[i] = 1e4 + rng.NormFloat64()
	}
	labels := make([]int64, n)
	tg := make([]float64, n*c)
	for i := range labels {
		labels[i] = int64(rng.IntN(c))
		for k := 0; k < c; k++ {
			tg[i*c+k] = rng.Float64()
		}
	}
	write := func(name string, lo, hi int) (string, string) {
		xp := filepath.Join(ds.dir, "x"+name+".npy")
		yp := filepath.Join(ds.dir, "y"+name+".npy")
		var err error
		if u8 {
			err = data.WriteNPY(xp, xu[lo*d:hi*d], []int{hi - lo, d})
		} else {
			err = data.WriteNPY(xp, xf[lo*d:hi*d], []int{hi - lo, d})
		}
		if err == nil && targets {
			err = data.WriteNPY(yp, tg[lo*c:hi*c], []int{hi - lo, c})
		} else if err == nil {
			err = data.WriteNPY(yp, labels[lo:hi], nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		return xp, yp
	}
	for s := 0; s < shards; s++ {
		xp, yp := write(fmt.Sprintf("_%02d", s), s*n/shards, (s+1)*n/shards)
		ds.xs, ds.ys = append(ds.xs, xp), append(ds.ys, yp)
	}
	ds.xAll, ds.yAll = write("all", 0, n)
	return ds
}

func openData(t *testing.T, x, y string) data.Source {
	t.Helper()
	src, err := data.Open(x, y, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// momentsFile runs WriteMoments on (x, y) into dir/name.
func momentsFile(t *testing.T, e *Engine, x, y, out string) {
	t.Helper()
	if _, err := e.WriteMoments(openData(t, x, y), []string{x, y}, out); err != nil {
		t.Fatal(err)
	}
}

// npzArrays reads every array of a moments file but meta, as float64s.
func npzArrays(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	z, err := data.OpenNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	out := map[string][]float64{}
	for _, name := range z.Names() {
		switch name {
		case "meta":
		case "n":
			v, err := z.Int64(name)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = []float64{float64(v)}
		default:
			a, _ := z.Array(name)
			v := make([]float64, a.Len())
			if err := z.Float64s(name, v); err != nil {
				t.Fatal(err)
			}
			out[name] = v
		}
	}
	return out
}

// Every analysis the engine runs from moments gives, from the file, the
// bits of the streaming run: the finalized moments, the alignment curve
// and the eigendecomposition (all pairs and the top ones), for exact uint8
// data and for float data with a large mean (where the shift matters), with
// class labels and dense targets.
func TestMomentsFileGivesStreamingBits(t *testing.T) {
	for _, tc := range []struct {
		name        string
		u8, targets bool
	}{{"uint8+classes", true, false}, {"float64+classes", false, false}, {"float64+targets", false, true}, {"uint8+targets", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ds := writeDataset(t, 530, 17, 4, 3, tc.u8, tc.targets, 11)
			e := newEngine(t, 64)
			out := filepath.Join(ds.dir, "m.npz")
			momentsFile(t, e, ds.xAll, ds.yAll, out)
			ms, err := OpenMoments(out)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ms.Info().Exact, tc.u8 && !tc.targets; got != want {
				t.Errorf("exact = %v, want %v", got, want)
			}
			src := openData(t, ds.xAll, ds.yAll)
			for _, center := range []bool{false, true} {
				streamed, err := e.Moments(src)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := streamed.Finalize(center)
				got, err := ms.Moments().Finalize(center)
				if err != nil {
					t.Fatal(err)
				}
				sameStats(t, fmt.Sprintf("center=%v", center), got, want)

				opt := AlignOptions{Center: center}
				cw, err := e.Align(src, opt)
				if err != nil {
					t.Fatal(err)
				}
				cg, err := e.Align(ms, opt)
				if err != nil {
					t.Fatal(err)
				}
				sameBits(t, "alignment", cg.Alignment, cw.Alignment)
				sameBits(t, "eigenvalues", cg.Eigenvalues, cw.Eigenvalues)
				for _, top := range []int{0, 5} {
					ew, err := e.Eigh(src, center, top, 0)
					if err != nil {
						t.Fatal(err)
					}
					eg, err := e.Eigh(ms, center, top, 0)
					if err != nil {
						t.Fatal(err)
					}
					sameBits(t, "eigh values", eg.Values, ew.Values)
					sameBits(t, "eigh vectors", eg.Vectors.Data, ew.Vectors.Data)
				}
			}
			if m := ms.Meta(); m.N != ds.n || m.D != ds.d || (m.Classes+m.Targets) != ds.c {
				t.Errorf("meta of the moments source: %+v", m)
			}
		})
	}
}

// Exact files merge to the same bytes in any order and grouping, and to
// the arrays of the whole data's file; float files within 1e-12.
func TestMergeMomentsFiles(t *testing.T) {
	for _, u8 := range []bool{true, false} {
		ds := writeDataset(t, 601, 9, 3, 3, u8, false, 13)
		e := newEngine(t, 50)
		dir := ds.dir
		parts := make([]string, 3)
		for i := range parts {
			parts[i] = filepath.Join(dir, fmt.Sprintf("p%d.npz", i))
			momentsFile(t, e, ds.xs[i], ds.ys[i], parts[i])
		}
		whole := filepath.Join(dir, "whole.npz")
		momentsFile(t, e, ds.xAll, ds.yAll, whole)
		merge := func(out string, in ...string) string {
			t.Helper()
			p := filepath.Join(dir, out)
			if _, err := MergeMomentsFiles(p, in); err != nil {
				t.Fatal(err)
			}
			return p
		}
		abc := merge("abc.npz", parts[0], parts[1], parts[2])
		cab := merge("cab.npz", parts[2], parts[0], parts[1])
		ab := merge("ab.npz", parts[0], parts[1])
		abC := merge("ab_c.npz", parts[2], ab)
		want := npzArrays(t, whole)
		for _, p := range []string{abc, cab, abC} {
			got := npzArrays(t, p)
			for name, w := range want {
				if u8 {
					sameBits(t, filepath.Base(p)+" "+name, got[name], w)
				} else if name != "shift" && !strings.HasSuffix(name, "_shifted") {
					assertClose(t, filepath.Base(p)+" "+name, got[name], w, 1e-12)
				}
			}
		}
		if u8 {
			a, _ := os.ReadFile(abc)
			b, _ := os.ReadFile(cab)
			if bytes.Equal(a, b) {
				// Only the order of the sources in meta differs.
				t.Error("merges in two orders have identical bytes, sources included: meta lost the order of its sources")
			}
		}
		// Float merges are checked where it matters: the centred Gram.
		mw, _, _ := LoadMoments(whole)
		mm, _, _ := LoadMoments(cab)
		sw, _ := mw.Finalize(true)
		sm, _ := mm.Finalize(true)
		if u8 {
			sameStats(t, "merged", sm, sw)
		} else {
			assertClose(t, "merged centred Gram", sm.Gx.Data, sw.Gx.Data, 1e-12)
		}
	}
}

// errorHas fails unless err is an error whose text holds every part.
func errorHas(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("%s: error %q does not mention %q", what, err, p)
		}
	}
}

func TestMomentsFileRefusals(t *testing.T) {
	e := newEngine(t, 0)
	a := writeDataset(t, 100, 5, 3, 1, true, false, 1)
	pa := filepath.Join(a.dir, "a.npz")
	momentsFile(t, e, a.xAll, a.yAll, pa)
	dir := t.TempDir()
	other := func(name string, n, d, c int, u8, targets bool) string {
		ds := writeDataset(t, n, d, c, 1, u8, targets, 2)
		p := filepath.Join(dir, name)
		momentsFile(t, e, ds.xAll, ds.yAll, p)
		return p
	}
	out := filepath.Join(dir, "out.npz")
	for _, tc := range []struct {
		name  string
		input string
		parts []string
	}{
		{"another D", other("d6.npz", 50, 6, 3, true, false), []string{"D = 6", "D = 5"}},
		{"another C", other("c4.npz", 50, 5, 4, true, false), []string{"C = 4", "C = 3"}},
		{"targets", other("t.npz", 50, 5, 3, true, true), []string{"label space targets", "classes"}},
		{"float", other("f.npz", 50, 5, 3, false, false), []string{"element type float64", "uint8"}},
	} {
		_, err := MergeMomentsFiles(out, []string{pa, tc.input})
		errorHas(t, tc.name, err, append(tc.parts, tc.input, pa)...)
	}
	// Not moments files: an .npy, a truncated archive, an .npz of other
	// arrays, an .npz whose xtx has the wrong shape.
	raw, _ := os.ReadFile(pa)
	trunc := filepath.Join(dir, "trunc.npz")
	os.WriteFile(trunc, raw[:len(raw)/2], 0o644)
	foreign := filepath.Join(dir, "foreign.npz")
	w, _ := data.NewNPZWriter(foreign)
	w.Float64s("weights", []int{2}, func(put func([]float64) error) error { return put([]float64{1, 2}) })
	w.Close()
	badShape := filepath.Join(dir, "shape.npz")
	rewriteNPZ(t, pa, badShape, "xtx", []int{5, 4})
	for _, tc := range []struct {
		path  string
		parts []string
	}{
		{a.xAll, []string{"not a reconalign moments file", "not an .npz"}},
		{trunc, []string{"not a reconalign moments file", "truncated"}},
		{foreign, []string{"not a reconalign moments file", "no meta"}},
		{badShape, []string{"xtx has shape (5, 4), expected (5, 5)"}},
	} {
		_, _, err := LoadMoments(tc.path)
		errorHas(t, tc.path, err, append(tc.parts, tc.path)...)
		_, err = MergeMomentsFiles(out, []string{pa, tc.path})
		errorHas(t, "merge "+tc.path, err, tc.path)
	}
	// The output may not be an input, of a merge or of a pass.
	_, err := MergeMomentsFiles(pa, []string{pa, pa})
	errorHas(t, "merge into an input", err, "also an input")
	_, err = e.WriteMoments(openData(t, a.xAll, a.yAll), []string{a.xAll, a.yAll}, a.yAll)
	errorHas(t, "moments over the labels", err, "also an input", a.yAll)
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused merge left %s behind", out)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// rewriteNPZ copies the moments file in to out with array name replaced by
// zeros of another shape.
func rewriteNPZ(t *testing.T, in, out, name string, shape []int) {
	t.Helper()
	arrays := npzArrays(t, in)
	z, _ := data.OpenNPZ(in)
	meta, _ := z.String("meta")
	z.Close()
	w, err := data.NewNPZWriter(out)
	if err != nil {
		t.Fatal(err)
	}
	w.String("meta", meta)
	w.Int64("n", int64(arrays["n"][0]))
	for k, v := range arrays {
		if k == "n" {
			continue
		}
		dims := []int{len(v)}
		if k == name {
			n := 1
			for _, s := range shape {
				n *= s
			}
			v, dims = make([]float64, n), shape
		} else if k == "xtx" || k == "ytx" || k == "yty" {
			dims = nil // filled below
		}
		if dims == nil {
			d := int(math.Sqrt(float64(len(arrays["xtx"]))))
			dims = map[string][]int{"xtx": {d, d}, "ytx": {len(v) / d, d}, "yty": {int(math.Sqrt(float64(len(v)))), int(math.Sqrt(float64(len(v))))}}[k]
		}
		if err := w.Float64s(k, dims, func(put func([]float64) error) error { return put(v) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Exact sums that would reach 2⁵³ are refused, in a merge and in a pass,
// and leave no file behind.
func TestMomentsExactLimit(t *testing.T) {
	dir := t.TempDir()
	m, _ := NewMoments(2, 0)
	m.N, m.Shift, m.Integer = 3, []float64{0, 0}, true
	copy(m.G.Data, []float64{1<<52 + 1, 5, 5, 7})
	m.Sx[0], m.Sx[1] = 9, 4
	half := filepath.Join(dir, "half.npz")
	if err := SaveMoments(half, m, MomentsMeta{D: 2, DType: "uint8", Labels: LabelsNone, Exact: true}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sum.npz")
	_, err := MergeMomentsFiles(out, []string{half, half})
	errorHas(t, "merge past 2⁵³", err, "2⁵³", "XᵀX[0, 0]")
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused merge left its output behind")
	}
	huge := hugeSource{data.Meta{Name: "huge.npy", N: MaxExactU8Rows + 1, D: 3, DType: backend.U8}}
	_, err = newEngine(t, 0).WriteMoments(huge, nil, out)
	errorHas(t, "a pass past 2⁵³", err, "huge.npy", "2⁵³")
}

type hugeSource struct{ meta data.Meta }

func (h hugeSource) Meta() data.Meta { return h.meta }
func (h hugeSource) Open(int) (data.Reader, error) {
	return nil, errors.New("hugeSource must not be read")
}

// Analyses that read the samples refuse a moments file with ErrNeedsData:
// the N×N dual route (N < D), and any direct read.
func TestMomentsSourceNeedsData(t *testing.T) {
	ds := writeDataset(t, 12, 20, 2, 1, true, false, 4)
	e := newEngine(t, 0)
	p := filepath.Join(ds.dir, "wide.npz")
	momentsFile(t, e, ds.xAll, ds.yAll, p)
	ms, err := OpenMoments(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Align(ms, AlignOptions{})
	if !errors.Is(err, ErrNeedsData) {
		t.Fatalf("dual-route alignment from moments: %v", err)
	}
	errorHas(t, "dual route", err, p)
	if _, _, err := data.Collect(ms); !errors.Is(err, ErrNeedsData) {
		t.Fatalf("collecting a moments file: %v", err)
	}
}

// NumPy reads the file with every key's dtype and shape, and its moments
// are NumPy's own (scripts/check_moments_npz.py).
func TestMomentsFileAgainstNumPy(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skip("python3 with numpy is not installed (Debian python3-numpy)")
	}
	for _, tc := range []struct {
		name        string
		u8, targets bool
	}{{"uint8", true, false}, {"float64", false, false}, {"targets", false, true}} {
		ds := writeDataset(t, 77, 6, 3, 1, tc.u8, tc.targets, 5)
		p := filepath.Join(ds.dir, "m.npz")
		momentsFile(t, newEngine(t, 10), ds.xAll, ds.yAll, p)
		out, err := exec.Command(py, "../scripts/check_moments_npz.py", p, ds.xAll, ds.yAll).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("%s: check_moments_npz.py: %v\n%s", tc.name, err, out)
		}
	}
}
