package closedform

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/reconalign/reconalign/data"
)

// NoiseKinds are the noise models a Grid can hold.
var NoiseKinds = []string{"mask", "mask-fixed", "gaussian", "block", "crop", "mask-mc"}

// GridText is a grid of noise settings written as text, the way a command
// line or a configuration file gives it: each field a comma-separated list,
// and P, Sigma and CropScale also linspace(start,stop,count). Parse turns
// it into a Grid.
type GridText struct {
	Noises    string // some of NoiseKinds
	P         string // drop probabilities of the masking noises
	Patch     string // patch sizes: S (S×S) or HxW
	Sigma     string // standard deviations of the Gaussian noise
	Block     string // side lengths of the block noise's squares
	CropScale string // smallest crop areas of the crop noise
}

// Figure7Text is the paper's Figure 7 grid (masking with p ∈
// linspace(0, 0.99, 10) and patches 1×1, 2×2, 4×4), with the defaults of the
// noises it does not use.
func Figure7Text() GridText {
	return GridText{Noises: "mask", P: "linspace(0,0.99,10)", Patch: "1,2,4", Sigma: "1,10,100", Block: "4,8", CropScale: "0.25,0.5"}
}

// Figure7Masks are the masks of the Figure 7 grid on images of shape:
// drop probabilities linspace(0, 0.99, steps) for each square patch size.
func Figure7Masks(shape data.Shape, patches []int, steps int) []Mask {
	var out []Mask
	for _, s := range patches {
		for _, p := range Linspace(0, 0.99, steps) {
			out = append(out, Mask{Shape: shape, PatchH: s, PatchW: s, P: p})
		}
	}
	return out
}

// Grid is a grid of noise settings: for each kind of Noises, every
// combination of its parameters.
type Grid struct {
	Noises     []string
	P          []float64
	Patches    [][2]int // height, width
	Sigmas     []float64
	Blocks     []int
	BlockCount int // squares per draw of the block noise (0: 1)
	CropScales []float64
	// SkipEmpty leaves out, with a note, the mask-fixed settings that keep
	// no patch (their p is too high for the patch count) instead of failing:
	// for a default grid of p that was not chosen for this image.
	SkipEmpty bool
}

// FieldError reports a bad field of a GridText or Grid.
type FieldError struct {
	Field string // the GridText field: "Noises", "P", "Patch", ...
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldError(field string, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Parse reads the fields the listed noises use; the others are ignored.
func (t GridText) Parse() (Grid, error) {
	var g Grid
	var err error
	g.Noises = splitList(t.Noises)
	if len(g.Noises) == 0 {
		return g, fieldError("Noises", "empty list: want some of %s", strings.Join(NoiseKinds, ","))
	}
	for _, k := range g.Noises {
		if !slices.Contains(NoiseKinds, k) {
			return g, fieldError("Noises", "unknown noise %q: want some of %s", k, strings.Join(NoiseKinds, ","))
		}
	}
	uses := func(kinds ...string) bool {
		for _, k := range kinds {
			if slices.Contains(g.Noises, k) {
				return true
			}
		}
		return false
	}
	if uses("mask", "mask-fixed", "mask-mc") {
		if g.P, err = ParseValues(t.P); err != nil {
			return g, &FieldError{"P", err}
		}
		if g.Patches, err = parsePatches(t.Patch); err != nil {
			return g, &FieldError{"Patch", err}
		}
	}
	if uses("gaussian") {
		if g.Sigmas, err = ParseValues(t.Sigma); err != nil {
			return g, &FieldError{"Sigma", err}
		}
	}
	if uses("block") {
		if g.Blocks, err = parseInts(t.Block); err != nil {
			return g, &FieldError{"Block", err}
		}
	}
	if uses("crop") {
		if g.CropScales, err = ParseValues(t.CropScale); err != nil {
			return g, &FieldError{"CropScale", err}
		}
	}
	return g, nil
}

// Plan is a grid's validated settings: the closed forms, and the Monte
// Carlo noises that each need a pass over the data.
type Plan struct {
	Closed     []Noise
	MonteCarlo []MonteCarlo
	// Notes say what was skipped or how a setting was read (patches that
	// do not divide the image).
	Notes []string
}

// Plan validates the grid against rows of d features with the given image
// shape, before any pass over the data, so that a bad grid fails at once.
func (g Grid) Plan(shape data.Shape, d int) (*Plan, error) {
	pl := &Plan{}
	for _, k := range g.Noises {
		if k == "gaussian" {
			continue
		}
		if err := checkShape(shape, d); err != nil {
			return nil, fmt.Errorf("the %s noise: %w", k, err)
		}
	}
	ragged := map[[2]int]bool{}
	for _, k := range g.Noises {
		switch k {
		case "mask", "mask-fixed", "mask-mc":
			for _, patch := range g.Patches {
				for _, p := range g.P {
					m := Mask{Shape: shape, PatchH: patch[0], PatchW: patch[1], P: p, Fixed: k == "mask-fixed"}
					if err := m.Validate(d); err != nil {
						if g.SkipEmpty && errors.Is(err, ErrKeepsNoPatch) {
							pl.Notes = append(pl.Notes, fmt.Sprintf("skipping %s p=%g patch=%dx%d: it keeps no patch", k, p, patch[0], patch[1]))
							continue
						}
						return nil, err // it names the noise
					}
					if m.Ragged() && !ragged[patch] {
						ragged[patch] = true
						pl.Notes = append(pl.Notes, fmt.Sprintf("patch %dx%d does not divide the %dx%d image: the patches along its bottom and right edges are smaller, each still a patch of its own",
							patch[0], patch[1], shape.H, shape.W))
					}
					if k == "mask-mc" {
						mc, err := MaskSampler(m)
						if err != nil {
							return nil, err
						}
						pl.MonteCarlo = append(pl.MonteCarlo, mc)
					} else {
						pl.Closed = append(pl.Closed, m)
					}
				}
			}
		case "gaussian":
			for _, s := range g.Sigmas {
				if err := (Gaussian{Sigma: s}).validate(); err != nil {
					return nil, &FieldError{"Sigma", err}
				}
				pl.Closed = append(pl.Closed, Gaussian{Sigma: s})
			}
		case "block":
			for _, b := range g.Blocks {
				mc, err := BlockMask(shape, b, max(g.BlockCount, 1))
				if err != nil {
					return nil, &FieldError{"Block", err}
				}
				pl.MonteCarlo = append(pl.MonteCarlo, mc)
			}
		case "crop":
			for _, c := range g.CropScales {
				mc, err := CropResize(shape, c)
				if err != nil {
					return nil, &FieldError{"CropScale", err}
				}
				pl.MonteCarlo = append(pl.MonteCarlo, mc)
			}
		default:
			return nil, fieldError("Noises", "unknown noise %q: want some of %s", k, strings.Join(NoiseKinds, ","))
		}
	}
	if len(pl.Closed)+len(pl.MonteCarlo) == 0 {
		return nil, fmt.Errorf("closedform: no noise setting to solve (empty grid)")
	}
	return pl, nil
}

// MaxValues bounds the number of values a list or linspace gives: a grid
// that large is a typo, and would only exhaust memory.
const MaxValues = 1_000_000

// ParseValues reads "a,b,c" or "linspace(a,b,n)" (n points from a to b
// inclusive, as NumPy's linspace, n ≤ MaxValues).
func ParseValues(s string) ([]float64, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if strings.HasPrefix(t, "linspace(") && strings.HasSuffix(t, ")") {
		parts := strings.Split(t[len("linspace("):len(t)-1], ",")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%q: want linspace(start,stop,count)", s)
		}
		a, err1 := strconv.ParseFloat(parts[0], 64)
		b, err2 := strconv.ParseFloat(parts[1], 64)
		n, err3 := strconv.ParseInt(parts[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil && !errors.Is(err3, strconv.ErrRange) || n < 1 || math.IsNaN(a) || math.IsNaN(b) {
			return nil, fmt.Errorf("%q: want linspace(start,stop,count) with numbers and a count ≥ 1", s)
		}
		if err3 != nil || n > MaxValues {
			return nil, fmt.Errorf("%q: a count of %s values is more than the %d a grid may hold", s, parts[2], MaxValues)
		}
		return Linspace(a, b, int(n)), nil
	}
	items := splitList(t)
	if len(items) == 0 {
		return nil, errors.New("empty list")
	}
	if len(items) > MaxValues {
		return nil, fmt.Errorf("%d values: more than the %d a grid may hold", len(items), MaxValues)
	}
	out := make([]float64, len(items))
	for i, it := range items {
		v, err := strconv.ParseFloat(it, 64)
		if err != nil || math.IsNaN(v) {
			return nil, fmt.Errorf("%q is not a number", it)
		}
		out[i] = v
	}
	return out, nil
}

// Linspace is n points from a to b inclusive, as NumPy's linspace.
func Linspace(a, b float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		if n == 1 {
			out[i] = a
		} else {
			out[i] = a + (b-a)*float64(i)/float64(n-1)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) {
	items := splitList(s)
	if len(items) == 0 {
		return nil, errors.New("empty list")
	}
	out := make([]int, len(items))
	for i, it := range items {
		v, err := strconv.Atoi(it)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", it)
		}
		out[i] = v
	}
	return out, nil
}

// parsePatches reads "1,2,4" (squares) or "2x3,4x4" (height × width).
func parsePatches(s string) ([][2]int, error) {
	items := splitList(s)
	if len(items) == 0 {
		return nil, errors.New("empty list")
	}
	var out [][2]int
	for _, it := range items {
		hw := strings.Split(strings.ToLower(it), "x")
		if len(hw) > 2 {
			return nil, fmt.Errorf("%q: want S or HxW", it)
		}
		var v [2]int
		for i, p := range hw {
			n, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("%q: %q is not an integer", it, p)
			}
			v[i] = n
		}
		if len(hw) == 1 {
			v[1] = v[0]
		}
		out = append(out, v)
	}
	return out, nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
