package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// The moments file keeps a dataset's moments so that every analysis that
// needs no more than them (align, eigh on the direct route, the closed-form
// denoising and Theorem 1 solutions, a probe's training side) runs without
// reading the data again, and so that moments computed on many machines
// merge into one. It is a NumPy .npz archive that numpy.load opens:
//
//	xtx    (D, D) float64  XᵀX, full symmetric, uncentred
//	ytx    (C, D) float64  YᵀX: for class labels, row k sums the samples of class k
//	yty    (C, C) float64  YᵀY: for class labels, the class counts on the diagonal
//	sum_x  (D,)   float64  Σx over the samples
//	sum_y  (C,)   float64  Σy (the class counts)
//	n      ()     int64    the number of samples
//	meta   ()     str      JSON, see MomentsMeta
//
// and, in a file whose moments are not exact integers, the engine's own
// accumulator beside them:
//
//	shift          (D,)   float64  the provisional mean s the sums are taken around
//	xtx_shifted    (D, D) float64  Σ(x−s)(x−s)ᵀ, full symmetric
//	sum_x_shifted  (D,)   float64  Σ(x−s)
//	ytx_shifted    (C, D) float64  Σy(x−s)ᵀ
//
// Why the extra keys. The engine accumulates around a provisional mean s
// because Σxxᵀ − n·μμᵀ cancels catastrophically when the mean is large
// against the spread; for float data the digits that forming XᵀX rounds
// away are gone, and the shifted sums cannot be recovered from it. A float
// file therefore keeps the accumulator as it was, and loading it restores
// the streaming run's state bit for bit, so every analysis from the file
// gives the streaming run's bits. (xtx, ytx and sum_x are still written, as
// the engine's uncentred Finalize computes them, for NumPy users.)
// Exact moments — uint8 samples with class labels or none — need no shift:
// their raw sums are exact integers (below 2⁵³, which is checked), and the
// engine finalizes integer moments around the data's rounded mean, which
// the raw sums determine (see Moments.Finalize). Such a file holds the
// documented keys only, and its bytes are the same whatever the chunking,
// the merge order or the number of machines that produced it.
const (
	MomentsFormat        = "reconalign-moments"
	MomentsFormatVersion = 1
)

// Label spaces of a moments file.
const (
	LabelsClasses = "classes" // integer class labels, one-hot in Y
	LabelsTargets = "targets" // dense float targets
	LabelsNone    = "none"    // unlabelled data: C = 0
)

// MomentsMeta is the file's "meta" entry.
type MomentsMeta struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	D             int    `json:"d"`
	C             int    `json:"c"`
	Labels        string `json:"labels"` // LabelsClasses, LabelsTargets or LabelsNone
	// DType is the element type of the samples: uint8, float32 or float64.
	DType string `json:"dtype"`
	// Exact: the sums are exact integers (uint8 samples, class labels or
	// none) and the file holds no shifted keys.
	Exact bool `json:"exact"`
	// Shifted: the file holds shift and the *_shifted keys (every file that
	// is not exact), from which the engine restores its accumulator.
	Shifted    bool        `json:"shifted"`
	ImageShape *data.Shape `json:"image_shape"` // nil when the rows are plain vectors
	Sources    []string    `json:"sources"`     // the files the moments were computed from
	Version    string      `json:"reconalign_version"`
	Note       string      `json:"note"`
	// N is the number of samples: the n array, not part of the JSON.
	N int `json:"-"`
}

// momentsNote is written into every file, so that a NumPy user finds the
// keys explained without this package.
const momentsNote = "xtx = XᵀX, ytx = YᵀX, yty = YᵀY, sum_x = Σx, sum_y = Σy, n samples (Y one-hot for class labels). " +
	"A file that is not exact also holds the engine's accumulator around its provisional mean: shift = s, " +
	"xtx_shifted = Σ(x−s)(x−s)ᵀ, sum_x_shifted = Σ(x−s), ytx_shifted = Σy(x−s)ᵀ; the centred Gram is " +
	"xtx_shifted − outer(sum_x_shifted, sum_x_shifted)/n, accurate where xtx − outer(sum_x, sum_x)/n cancels."

// MomentsMetaOf describes the moments of a source: its label space, element
// type and image shape, with sources the files it reads.
func MomentsMetaOf(meta data.Meta, sources []string) MomentsMeta {
	mm := MomentsMeta{D: meta.D, DType: meta.DType.String(), Sources: append([]string{}, sources...)}
	switch {
	case meta.Targets > 0:
		mm.Labels, mm.C = LabelsTargets, meta.Targets
	case meta.Classes > 0:
		mm.Labels, mm.C = LabelsClasses, meta.Classes
	default:
		mm.Labels = LabelsNone
	}
	mm.Exact = meta.DType == backend.U8 && mm.Labels != LabelsTargets
	if !meta.Shape.IsZero() {
		s := meta.Shape
		mm.ImageShape = &s
	}
	return mm
}

// Version is the reconalign module's version as the build recorded it
// (with its VCS revision when known), or "(devel)".
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	v := info.Main.Version
	if info.Main.Path != "github.com/reconalign/reconalign" {
		v = "(devel)"
		for _, d := range info.Deps {
			if d.Path == "github.com/reconalign/reconalign" {
				v = d.Version
			}
		}
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

// exactLimit: integers of float64 are exact below it.
const exactLimit = 1 << 53

// SaveMoments writes m to path as a moments file described by meta (its D,
// C, label space, element type, image shape and sources; see
// MomentsMetaOf). The file is written to a temporary name beside path and
// renamed, so a failed write leaves nothing behind. Exact moments are
// re-expressed around the zero shift first (exactly), and refused if any
// entry has reached 2⁵³; m.G's lower triangle is filled in.
func SaveMoments(path string, m *Moments, meta MomentsMeta) error {
	if m.N == 0 {
		return fmt.Errorf("%s: no samples were accumulated", path)
	}
	if meta.D != m.D || meta.C != m.C {
		return fmt.Errorf("%s: moments of D = %d, C = %d described as D = %d, C = %d", path, m.D, m.C, meta.D, meta.C)
	}
	meta.Format, meta.FormatVersion, meta.Note = MomentsFormat, MomentsFormatVersion, momentsNote
	meta.Exact = meta.Exact && m.Integer
	meta.Shifted = !meta.Exact
	if meta.Version == "" {
		meta.Version = Version()
	}
	if err := meta.check(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if meta.Exact {
		if m.N > MaxExactU8Rows {
			return fmt.Errorf("%s: %d uint8 samples: exact integer moments are guaranteed up to %d (every sum below 2⁵³)", path, m.N, MaxExactU8Rows)
		}
		if err := m.Reshift(make([]float64, m.D)); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := checkExact(m); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	backend.Symmetrize(m.G)
	js, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	w, err := data.NewNPZWriter(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	d, c := m.D, m.C
	n, s := float64(m.N), m.Shift
	whole := func(a []float64) func(func([]float64) error) error {
		return func(put func([]float64) error) error { return put(a) }
	}
	// The raw sums as the engine's uncentred Finalize computes them (from
	// the upper triangle, the same expression in the same order), so that
	// xtx is bit for bit the Gram of an uncentred analysis. For exact
	// moments s = 0 and these are the accumulator itself.
	rawX := func(put func([]float64) error) error {
		row := make([]float64, d)
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				a, b := min(i, j), max(i, j)
				row[j] = m.G.Data[a*d+b] + m.Sx[a]*s[b] + s[a]*m.Sx[b] + n*s[a]*s[b]
			}
			if err := put(row); err != nil {
				return err
			}
		}
		return nil
	}
	rawM := func(put func([]float64) error) error {
		row := make([]float64, d)
		for k := 0; k < c; k++ {
			for j := range row {
				row[j] = m.M.Data[k*d+j] + m.Sy[k]*s[j]
			}
			if err := put(row); err != nil {
				return err
			}
		}
		return nil
	}
	sumX := make([]float64, d)
	for j := range sumX {
		sumX[j] = m.Sx[j] + n*s[j]
	}
	steps := []func() error{
		func() error { return w.String("meta", string(js)) },
		func() error { return w.Int64("n", int64(m.N)) },
		func() error { return w.Float64s("xtx", []int{d, d}, rawX) },
		func() error { return w.Float64s("ytx", []int{c, d}, rawM) },
		func() error { return w.Float64s("yty", []int{c, c}, whole(m.Gy.Data)) },
		func() error { return w.Float64s("sum_x", []int{d}, whole(sumX)) },
		func() error { return w.Float64s("sum_y", []int{c}, whole(m.Sy)) },
	}
	if meta.Shifted {
		steps = append(steps,
			func() error { return w.Float64s("shift", []int{d}, whole(s)) },
			func() error { return w.Float64s("xtx_shifted", []int{d, d}, whole(m.G.Data)) },
			func() error { return w.Float64s("sum_x_shifted", []int{d}, whole(m.Sx)) },
			func() error { return w.Float64s("ytx_shifted", []int{c, d}, whole(m.M.Data)) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return w.Close()
}

// checkExact makes sure every entry of raw (zero-shift) integer moments is
// below 2⁵³. The raw sums of uint8 products and one-hot labels only grow,
// so a float64 sum that passed 2⁵³ reads as at least 2⁵³.
func checkExact(m *Moments) error {
	d := m.D
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			if v := m.G.Data[i*d+j]; math.Abs(v) >= exactLimit {
				return fmt.Errorf("XᵀX[%d, %d] = %.0f has reached 2⁵³: integer moments of %d samples are no longer exact", i, j, v, m.N)
			}
		}
	}
	for name, a := range map[string][]float64{"Σx": m.Sx, "YᵀX": m.M.Data, "YᵀY": m.Gy.Data, "Σy": m.Sy} {
		for i, v := range a {
			if math.Abs(v) >= exactLimit {
				return fmt.Errorf("%s[%d] = %.0f has reached 2⁵³: integer moments of %d samples are no longer exact", name, i, v, m.N)
			}
		}
	}
	return nil
}

// check validates a meta read from a file, or about to be written.
func (mm *MomentsMeta) check() error {
	switch {
	case mm.Format != MomentsFormat:
		return fmt.Errorf("meta names format %q, not %q", mm.Format, MomentsFormat)
	case mm.FormatVersion > MomentsFormatVersion:
		return fmt.Errorf("written in moments format version %d by a newer reconalign (%s); this one reads version %d", mm.FormatVersion, mm.Version, MomentsFormatVersion)
	case mm.FormatVersion < 1:
		return fmt.Errorf("meta has format version %d", mm.FormatVersion)
	case mm.D < 1 || mm.C < 0:
		return fmt.Errorf("meta has D = %d, C = %d", mm.D, mm.C)
	case mm.Labels != LabelsClasses && mm.Labels != LabelsTargets && mm.Labels != LabelsNone:
		return fmt.Errorf("meta has label space %q (want %s, %s or %s)", mm.Labels, LabelsClasses, LabelsTargets, LabelsNone)
	case (mm.C == 0) != (mm.Labels == LabelsNone):
		return fmt.Errorf("meta has C = %d with label space %s", mm.C, mm.Labels)
	case mm.DType != "uint8" && mm.DType != "float32" && mm.DType != "float64":
		return fmt.Errorf("meta has element type %q (want uint8, float32 or float64)", mm.DType)
	case mm.Exact && (mm.DType != "uint8" || mm.Labels == LabelsTargets):
		return fmt.Errorf("meta calls %s samples with label space %s exact", mm.DType, mm.Labels)
	case mm.Shifted == mm.Exact:
		return fmt.Errorf("meta has exact = %v and shifted = %v: exactly one must hold", mm.Exact, mm.Shifted)
	case mm.ImageShape != nil && mm.ImageShape.D() != mm.D:
		return fmt.Errorf("meta has image shape %s of %d features for D = %d", mm.ImageShape, mm.ImageShape.D(), mm.D)
	}
	return nil
}

// momentsKeys are the arrays of a file and their shapes.
func (mm *MomentsMeta) keys() map[string][]int {
	d, c := mm.D, mm.C
	k := map[string][]int{
		"meta": {}, "n": {}, "xtx": {d, d}, "ytx": {c, d}, "yty": {c, c}, "sum_x": {d}, "sum_y": {c},
	}
	if mm.Shifted {
		k["shift"], k["xtx_shifted"], k["sum_x_shifted"], k["ytx_shifted"] = []int{d}, []int{d, d}, []int{d}, []int{c, d}
	}
	return k
}

// ErrNotMoments is wrapped by the errors of LoadMoments for a file that is
// not a moments file at all (not a zip, no meta, another format).
var ErrNotMoments = errors.New("not a reconalign moments file")

// LoadMoments reads a moments file into an accumulator from which Finalize
// gives the streaming run's bits, with the file's meta. Everything is
// checked before use: the keys, their dtypes and shapes against the meta,
// finite values, a symmetric Gram, and for an exact file integer values
// below 2⁵³.
func LoadMoments(path string) (*Moments, *MomentsMeta, error) {
	z, err := openMomentsNPZ(path)
	if err != nil {
		return nil, nil, err
	}
	defer z.Close()
	mm, err := readMomentsMeta(z, path)
	if err != nil {
		return nil, nil, err
	}
	m, err := NewMoments(mm.D, mm.C)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m.N = mm.N
	// An exact file holds the raw sums: the accumulator around the zero shift.
	m.Shift = make([]float64, mm.D)
	x, sx, mx := "xtx", "sum_x", "ytx"
	if mm.Shifted {
		x, sx, mx = "xtx_shifted", "sum_x_shifted", "ytx_shifted"
	}
	reads := []struct {
		name string
		dst  []float64
	}{{x, m.G.Data}, {sx, m.Sx}, {mx, m.M.Data}, {"yty", m.Gy.Data}, {"sum_y", m.Sy}}
	if mm.Shifted {
		reads = append(reads, struct {
			name string
			dst  []float64
		}{"shift", m.Shift})
	}
	for _, r := range reads {
		if err := z.Float64s(r.name, r.dst); err != nil {
			return nil, nil, err
		}
		for i, v := range r.dst {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("%s: %s[%d] is %v: moments must be finite", path, r.name, i, v)
			}
			if mm.Exact && (v != math.Trunc(v) || math.Abs(v) >= exactLimit) {
				return nil, nil, fmt.Errorf("%s: %s[%d] = %v is not an integer below 2⁵³, yet the meta says the moments are exact", path, r.name, i, v)
			}
		}
	}
	d := mm.D
	for i := 0; i < d; i++ {
		for j := i + 1; j < d; j++ {
			if a, b := m.G.Data[i*d+j], m.G.Data[j*d+i]; a != b {
				return nil, nil, fmt.Errorf("%s: %s is not symmetric: [%d, %d] = %v but [%d, %d] = %v", path, x, i, j, a, j, i, b)
			}
		}
	}
	m.Integer = mm.DType == "uint8" && (mm.Exact || isIntegral(m.Shift))
	return m, mm, nil
}

// ReadMomentsMeta reads a moments file's meta and sample count, and checks
// its arrays' shapes, without reading their values.
func ReadMomentsMeta(path string) (*MomentsMeta, error) {
	z, err := openMomentsNPZ(path)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	return readMomentsMeta(z, path)
}

// openMomentsNPZ opens the archive; one that is no zip is not a moments file.
func openMomentsNPZ(path string) (*data.NPZ, error) {
	z, err := data.OpenNPZ(path)
	if errors.Is(err, data.ErrNotNPZ) {
		return nil, fmt.Errorf("%w: %w", ErrNotMoments, err)
	}
	return z, err
}

// readMomentsMeta reads and checks the meta, the set of arrays and their
// shapes, and n.
func readMomentsMeta(z *data.NPZ, path string) (*MomentsMeta, error) {
	notMoments := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", path, ErrNotMoments, fmt.Sprintf(format, args...))
	}
	if _, err := z.Array("meta"); err != nil {
		return nil, notMoments("it has no meta entry (arrays: %s)", strings.Join(z.Names(), ", "))
	}
	js, err := z.String("meta")
	if err != nil {
		return nil, notMoments("%v", err)
	}
	var mm MomentsMeta
	if err := json.Unmarshal([]byte(js), &mm); err != nil {
		return nil, notMoments("its meta is not JSON: %v", err)
	}
	if mm.Format != MomentsFormat {
		return nil, notMoments("its meta names format %q", mm.Format)
	}
	if err := mm.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	keys := mm.keys()
	for _, name := range z.Names() {
		if keys[name] == nil {
			return nil, fmt.Errorf("%s: has an unexpected array %q for a moments file (exact = %v)", path, name, mm.Exact)
		}
	}
	for name, shape := range keys {
		a, err := z.Array(name)
		if err != nil {
			return nil, fmt.Errorf("%s: array %q is missing or unreadable: %v", path, name, err)
		}
		if want := (data.NPZArray{Shape: shape}).ShapeString(); a.ShapeString() != want {
			return nil, fmt.Errorf("%s: %s has shape %s, expected %s for D = %d, C = %d", path, name, a.ShapeString(), want, mm.D, mm.C)
		}
	}
	n, err := z.Int64("n")
	if err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("%s: n = %d samples", path, n)
	}
	mm.N = int(n)
	return &mm, nil
}

func isIntegral(s []float64) bool {
	for _, v := range s {
		if v != math.Trunc(v) || math.Abs(v) > 1<<20 {
			return false
		}
	}
	return true
}

// checkOutput refuses an output path that is one of the inputs (a moments
// file merged into itself, or data overwritten), before any work is done.
func checkOutput(out string, inputs []string) error {
	st, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a directory: name the moments file to write", out)
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return fmt.Errorf("%s: the output is also an input (%s): write the moments to another file", out, in)
		}
	}
	return nil
}

// WriteMoments makes one pass over src and writes its moments file to out.
// sources are the files src reads: recorded in the meta, and refused as out
// (before the pass).
func (e *Engine) WriteMoments(src data.Source, sources []string, out string) (*MomentsMeta, error) {
	if err := checkOutput(out, sources); err != nil {
		return nil, err
	}
	meta := src.Meta()
	mm := MomentsMetaOf(meta, sources)
	if mm.Exact && meta.N > MaxExactU8Rows {
		return nil, fmt.Errorf("%s: %d uint8 samples: exact integer moments are guaranteed up to %d (every sum below 2⁵³)", meta.Name, meta.N, MaxExactU8Rows)
	}
	m, err := e.Moments(src)
	if err != nil {
		return nil, err
	}
	if err := SaveMoments(out, m, mm); err != nil {
		return nil, err
	}
	mm.N = m.N
	return &mm, nil
}

// MergeMomentsFiles adds up the moments files inputs into out. Exact files
// merge exactly (integer sums below 2⁵³: the result is the same bits in any
// order or grouping, and a sum that would reach 2⁵³ is refused); float
// files merge as Moments.Merge does, within rounding. Files of another D,
// C, label space, element type or image shape are refused, naming both.
// Two D×D matrices are in memory at once.
func MergeMomentsFiles(out string, inputs []string) (*MomentsMeta, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("merge: no moments files to merge")
	}
	if err := checkOutput(out, inputs); err != nil {
		return nil, err
	}
	total, tm, err := LoadMoments(inputs[0])
	if err != nil {
		return nil, err
	}
	for _, in := range inputs[1:] {
		m, mm, err := LoadMoments(in)
		if err != nil {
			return nil, err
		}
		if err := tm.compatible(mm, inputs[0], in); err != nil {
			return nil, err
		}
		if err := total.Merge(m); err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
		if tm.Exact {
			if err := checkExact(total); err != nil {
				return nil, fmt.Errorf("merging %s: %w", in, err)
			}
		}
		tm.Sources = append(tm.Sources, mm.Sources...)
	}
	tm.Version = ""
	if err := SaveMoments(out, total, *tm); err != nil {
		return nil, err
	}
	tm.N = total.N
	return tm, nil
}

// compatible says why the moments of file b cannot be added to those of a.
func (mm *MomentsMeta) compatible(o *MomentsMeta, a, b string) error {
	mismatch := func(what string, x, y any) error {
		return fmt.Errorf("cannot merge %s into %s: %s has %s %v but %s has %s %v", b, a, b, what, y, a, what, x)
	}
	switch {
	case mm.D != o.D:
		return mismatch("D =", mm.D, o.D)
	case mm.Labels != o.Labels:
		return mismatch("label space", mm.Labels, o.Labels)
	case mm.C != o.C:
		return mismatch("C =", mm.C, o.C)
	case mm.DType != o.DType:
		return mismatch("element type", mm.DType, o.DType)
	case (mm.ImageShape == nil) != (o.ImageShape == nil) || mm.ImageShape != nil && *mm.ImageShape != *o.ImageShape:
		return mismatch("image shape", shapeText(mm.ImageShape), shapeText(o.ImageShape))
	case mm.Exact != o.Exact:
		return mismatch("exact =", mm.Exact, o.Exact)
	}
	return nil
}

func shapeText(s *data.Shape) string {
	if s == nil {
		return "none"
	}
	return s.String()
}

// ErrNeedsData is wrapped by the error of an analysis that reads the
// samples themselves when it is given only their moments: the N×N dual
// route (N < D), projections, the randomized SVD, Monte Carlo noise, a
// probe's test accuracy.
var ErrNeedsData = errors.New("this analysis reads the samples themselves, which a moments file does not hold")

// MomentsSource is a moments file standing in for its data: Meta describes
// the data the moments came from, the engine takes the moments from the
// file instead of a pass (Engine.Moments, Align, Eigh), and Open — what any
// analysis that needs the samples calls — fails with ErrNeedsData. An
// analysis run on it gives the bits of the same analysis streamed over the
// data.
type MomentsSource struct {
	path string
	m    *Moments
	mm   *MomentsMeta
}

// OpenMoments loads a moments file as a source.
func OpenMoments(path string) (*MomentsSource, error) {
	m, mm, err := LoadMoments(path)
	if err != nil {
		return nil, err
	}
	m.shared = true
	return &MomentsSource{path: path, m: m, mm: mm}, nil
}

// Meta describes the data the moments came from.
func (s *MomentsSource) Meta() data.Meta {
	meta := data.Meta{Name: s.path, N: s.m.N, D: s.mm.D}
	switch s.mm.Labels {
	case LabelsClasses:
		meta.Classes = s.mm.C
	case LabelsTargets:
		meta.Targets = s.mm.C
	}
	switch s.mm.DType {
	case "uint8":
		meta.DType = backend.U8
	case "float32":
		meta.DType = backend.F32
	default:
		meta.DType = backend.F64
	}
	if s.mm.ImageShape != nil {
		meta.Shape = *s.mm.ImageShape
	}
	return meta
}

// Open fails: a moments file holds no samples to read.
func (s *MomentsSource) Open(int) (data.Reader, error) {
	return nil, fmt.Errorf("%s holds the moments of %d samples, not the samples: %w; give the data instead", s.path, s.m.N, ErrNeedsData)
}

// Moments returns the file's moments (shared: Finalize them, do not Add to them).
func (s *MomentsSource) Moments() *Moments { return s.m }

// Info returns the file's meta.
func (s *MomentsSource) Info() *MomentsMeta { return s.mm }

// heldMoments returns the moments a source already holds (a moments file,
// possibly wrapped by Unlabeled, whose eigendecomposition reads only XᵀX).
func heldMoments(src data.Source) (*Moments, bool) {
	if u, ok := src.(Unlabeled); ok {
		src = u.Source
	}
	ms, ok := src.(*MomentsSource)
	if !ok {
		return nil, false
	}
	return ms.m, true
}

// AddTo makes one pass over src and adds it to the partial moments m,
// keeping m's shift when it is set: partial moments that share a shift add
// up without being re-expressed, which is how a distributed pass keeps its
// float sums as close as possible to a single pass (see ProvisionalShift).
// src must have m's D, and labels below m.C or exactly m.C target columns.
func (e *Engine) AddTo(m *Moments, src data.Source) error {
	meta := src.Meta()
	if meta.D != m.D {
		return fmt.Errorf("%s: has %d features per sample, the moments %d", meta.Name, meta.D, m.D)
	}
	_, err := e.Do(OpMoments, shapeOf(src), func(be backend.Backend) error {
		added := false
		err := e.pass(src, func(b data.Batch) error {
			added = true
			return m.Add(be, b)
		})
		if err != nil && added {
			// m already holds part of this pass: the router must not run it
			// again on another backend (that would count those rows twice),
			// so the error no longer matches backend.ErrUnavailable.
			return fmt.Errorf("%s: the pass failed after adding to the moments: %v", meta.Name, err)
		}
		return err
	})
	return err
}

// ProvisionalShift is the shift a pass would take from its first chunk x:
// x's mean, rounded to integers for uint8 data. Giving every partial
// accumulation of a distributed pass the shift of the data's first chunk
// makes their sums those of a single pass, up to the order of addition.
func ProvisionalShift(x backend.Chunk) []float64 {
	s, _ := provisionalMean(x)
	return s
}
