package synth

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// Spec is everything that determines a synthetic dataset: two generators
// built from equal Specs deliver bit-identical rows.
type Spec struct {
	Preset  string // preset the spec started from ("" when none); informational only
	N       int    // samples
	H, W, C int    // image height, width, channels
	Classes int    // labels are 0..Classes−1
	Seed    uint64
	DType   backend.DType // backend.U8 (quantised, clamped to 0..255) or backend.F32 (value/255, unclamped)
	Layout  data.Layout   // flattening order of each row

	Alpha    float64 // the power spectrum falls as 1/f^Alpha
	Contrast float64 // standard deviation of each channel's 1/f field, in grey levels
	Noise    float64 // standard deviation of the white noise per pixel and channel, in grey levels
	Signal   float64 // RMS over pixels of each class's pattern, in grey levels
	Band     float64 // the class patterns use frequencies ≥ Band (cycles per pixel, at most √2/2)
	Rho      float64 // correlation of adjacent channels' fields (channels i, j: Rho^|i−j|)
}

// D is the number of features of one flattened image.
func (s Spec) D() int { return s.H * s.W * s.C }

// Defaults shared by the presets and by specs that start from scratch.
const (
	DefaultAlpha    = 2.0
	DefaultContrast = 40.0
	DefaultNoise    = 2.0
	DefaultSignal   = 3.0
	DefaultBand     = 0.35
	DefaultRho      = 0.9
	DefaultSeed     = 1
)

func baseSpec() Spec {
	return Spec{Classes: 10, C: 1, Seed: DefaultSeed, DType: backend.U8, Layout: data.HWC,
		Alpha: DefaultAlpha, Contrast: DefaultContrast, Noise: DefaultNoise,
		Signal: DefaultSignal, Band: DefaultBand, Rho: DefaultRho}
}

// presets are sized like the datasets they stand in for.
var presets = map[string]func(Spec) Spec{
	"imagenet64": func(s Spec) Spec {
		s.N, s.H, s.W, s.C, s.Classes = 1281167, 64, 64, 3, 1000
		return s
	},
	"imagenet224": func(s Spec) Spec {
		s.N, s.H, s.W, s.C, s.Classes = 1281167, 224, 224, 3, 1000
		return s
	},
	"fmnist-like": func(s Spec) Spec {
		s.N, s.H, s.W, s.C, s.Classes = 60000, 28, 28, 1, 10
		return s
	},
	"cifar10-like": func(s Spec) Spec {
		s.N, s.H, s.W, s.C, s.Classes = 50000, 32, 32, 3, 10
		return s
	},
}

// Presets lists the preset names Parse accepts.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var knownKeys = []string{"n", "d", "h", "w", "c", "classes", "seed", "dtype", "layout",
	"alpha", "contrast", "noise", "signal", "band", "rho"}

// Parse reads a spec: an optional "synth:" prefix, then comma-separated
// items, either a preset name (first item only; see Presets) or key=value.
// Keys (case-insensitive): n, d, h, w, c (channels), classes, seed,
// dtype (u8|f32), layout (hwc|chw), alpha, contrast, noise, signal, band, rho.
// Without a preset, n and the image size (d, or h and w) are required; d
// alone with c channels makes square images when d/c is a square, else 1×(d/c).
//
//	imagenet64
//	imagenet64,n=20000,seed=7,dtype=f32
//	N=10000,D=192,C=3,alpha=1,classes=10
func Parse(spec string) (Spec, error) {
	fail := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("synthetic spec %q: %s", spec, fmt.Sprintf(format, args...))
	}
	body := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), "synth:"))
	if body == "" {
		return fail("empty: want a preset (%s) or key=value items", strings.Join(Presets(), ", "))
	}
	s := baseSpec()
	items := strings.Split(body, ",")
	seen := map[string]bool{}
	d := 0
	for i, item := range items {
		item = strings.TrimSpace(item)
		key, val, isKV := strings.Cut(item, "=")
		if !isKV {
			name := strings.ToLower(item)
			p, ok := presets[name]
			switch {
			case i != 0:
				return fail("item %q: a preset name may only come first; other items are key=value", item)
			case !ok:
				return fail("unknown preset %q: known presets are %s", item, strings.Join(Presets(), ", "))
			}
			s = p(s)
			s.Preset = name
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		if seen[key] {
			return fail("key %q given twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "n":
			s.N, err = parseCount(val, 1)
		case "d":
			d, err = parseCount(val, 1)
		case "h":
			s.H, err = parseCount(val, 1)
		case "w":
			s.W, err = parseCount(val, 1)
		case "c":
			s.C, err = parseCount(val, 1)
		case "classes":
			s.Classes, err = parseCount(val, 1)
		case "seed":
			s.Seed, err = strconv.ParseUint(strings.ReplaceAll(val, "_", ""), 0, 64)
			if err != nil {
				err = fmt.Errorf("%q is not an unsigned 64-bit integer", val)
			}
		case "dtype":
			switch strings.ToLower(val) {
			case "u8", "uint8":
				s.DType = backend.U8
			case "f32", "float32":
				s.DType = backend.F32
			default:
				err = fmt.Errorf("%q: want u8 or f32", val)
			}
		case "layout":
			var l data.Layout
			l, err = data.ParseLayout(strings.ToLower(val))
			s.Layout = l
		case "alpha":
			s.Alpha, err = parseReal(val, 0, 8)
		case "contrast":
			s.Contrast, err = parseReal(val, 0, 1e6)
		case "noise":
			s.Noise, err = parseReal(val, 0, 1e6)
		case "signal":
			s.Signal, err = parseReal(val, 0, 1e6)
		case "band":
			s.Band, err = parseReal(val, 0, math.Sqrt2/2)
		case "rho":
			s.Rho, err = parseReal(val, 0, 0.999)
		default:
			return fail("unknown key %q: known keys are %s", key, strings.Join(knownKeys, ", "))
		}
		if err != nil {
			return fail("%s=%s: %v", key, val, err)
		}
	}
	if seen["d"] {
		if d%s.C != 0 {
			return fail("d=%d is not a multiple of c=%d channels", d, s.C)
		}
		p := d / s.C
		switch {
		case seen["h"] && seen["w"]:
		case seen["h"]:
			if p%s.H != 0 {
				return fail("d=%d with c=%d and h=%d leaves no whole width", d, s.C, s.H)
			}
			s.W = p / s.H
		case seen["w"]:
			if p%s.W != 0 {
				return fail("d=%d with c=%d and w=%d leaves no whole height", d, s.C, s.W)
			}
			s.H = p / s.W
		default:
			if r := int(math.Round(math.Sqrt(float64(p)))); r*r == p {
				s.H, s.W = r, r
			} else {
				s.H, s.W = 1, p
			}
		}
		if s.D() != d {
			return fail("d=%d but h×w×c = %d×%d×%d = %d", d, s.H, s.W, s.C, s.D())
		}
	} else if seen["h"] != seen["w"] {
		if s.Preset == "" {
			return fail("give both h and w (or d)")
		}
	}
	if s.N == 0 {
		return fail("no sample count: give n=... or start from a preset (%s)", strings.Join(Presets(), ", "))
	}
	if s.H == 0 || s.W == 0 {
		return fail("no image size: give d=... or h=... and w=..., or start from a preset")
	}
	if err := s.Validate(); err != nil {
		return Spec{}, fmt.Errorf("synthetic spec %q: %v", spec, err)
	}
	return s, nil
}

func parseCount(val string, least int) (int, error) {
	v, err := strconv.ParseInt(strings.ReplaceAll(val, "_", ""), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", val)
	}
	if v < int64(least) || v > math.MaxInt32*int64(1024) {
		return 0, fmt.Errorf("%d is outside [%d, %d]", v, least, int64(math.MaxInt32)*1024)
	}
	return int(v), nil
}

func parseReal(val string, lo, hi float64) (float64, error) {
	v, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", val)
	}
	if !(v >= lo && v <= hi) { // also rejects NaN
		return 0, fmt.Errorf("%g is outside [%g, %g]", v, lo, hi)
	}
	return v, nil
}

// Validate checks a Spec built by hand the way Parse checks a parsed one.
func (s Spec) Validate() error {
	switch {
	case s.N < 1:
		return fmt.Errorf("n=%d: need at least one sample", s.N)
	case s.H < 1 || s.W < 1 || s.C < 1:
		return fmt.Errorf("image %d×%d×%d: every side must be at least 1", s.H, s.W, s.C)
	case s.C > 64:
		return fmt.Errorf("c=%d channels: at most 64 are supported", s.C)
	case s.D() > 1<<26 || int64(s.N)*int64(s.D()) < 0:
		return fmt.Errorf("image %d×%d×%d is too large", s.H, s.W, s.C)
	case s.Classes < 1:
		return fmt.Errorf("classes=%d: need at least one class", s.Classes)
	case s.DType != backend.U8 && s.DType != backend.F32:
		return fmt.Errorf("dtype %v: want uint8 or float32", s.DType)
	case s.Layout != data.HWC && s.Layout != data.CHW:
		return fmt.Errorf("layout %q: want hwc or chw", s.Layout)
	case !(s.Alpha >= 0 && s.Alpha <= 8):
		return fmt.Errorf("alpha=%g: want a value in [0, 8]", s.Alpha)
	case !(s.Contrast >= 0) || math.IsInf(s.Contrast, 0) || !(s.Noise >= 0) || math.IsInf(s.Noise, 0) || !(s.Signal >= 0) || math.IsInf(s.Signal, 0):
		return fmt.Errorf("contrast=%g, noise=%g, signal=%g: each must be finite and ≥ 0", s.Contrast, s.Noise, s.Signal)
	case !(s.Band >= 0 && s.Band <= math.Sqrt2/2):
		return fmt.Errorf("band=%g: want cycles per pixel in [0, %.4f]", s.Band, math.Sqrt2/2)
	case !(s.Rho >= 0 && s.Rho < 1):
		return fmt.Errorf("rho=%g: want a channel correlation in [0, 1)", s.Rho)
	}
	for _, side := range []int{s.H, s.W} {
		if _, err := newFFTPlan(side); err != nil {
			return err
		}
	}
	return nil
}

// String is the canonical spec: Parse(s.String()) gives s back (apart from
// Preset), so it names the dataset exactly in logs and reports.
func (s Spec) String() string {
	dt := "u8"
	if s.DType == backend.F32 {
		dt = "f32"
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return fmt.Sprintf("n=%d,h=%d,w=%d,c=%d,classes=%d,seed=%d,dtype=%s,layout=%s,alpha=%s,contrast=%s,noise=%s,signal=%s,band=%s,rho=%s",
		s.N, s.H, s.W, s.C, s.Classes, s.Seed, dt, s.Layout, g(s.Alpha), g(s.Contrast), g(s.Noise), g(s.Signal), g(s.Band), g(s.Rho))
}
