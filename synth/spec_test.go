package synth

import (
	"strings"
	"testing"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

func TestParsePresets(t *testing.T) {
	cases := []struct {
		spec            string
		n, h, w, c, cls int
	}{
		{"imagenet64", 1281167, 64, 64, 3, 1000},
		{"synth:imagenet224", 1281167, 224, 224, 3, 1000},
		{"fmnist-like", 60000, 28, 28, 1, 10},
		{" CIFAR10-like , n=500 ", 500, 32, 32, 3, 10},
		{"imagenet64,h=32", 1281167, 32, 64, 3, 1000},
		{"N=10000,D=192,C=3,classes=5", 10000, 8, 8, 3, 5},
		{"n=7,d=30,c=3", 7, 1, 10, 3, 10},
		{"n=7,d=30,h=2", 7, 2, 15, 1, 10},
		{"n=1_000,h=4,w=6", 1000, 4, 6, 1, 10},
	}
	for _, tc := range cases {
		s, err := Parse(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if s.N != tc.n || s.H != tc.h || s.W != tc.w || s.C != tc.c || s.Classes != tc.cls {
			t.Errorf("%q: got n=%d %d×%d×%d classes=%d, want n=%d %d×%d×%d classes=%d", tc.spec, s.N, s.H, s.W, s.C, s.Classes, tc.n, tc.h, tc.w, tc.c, tc.cls)
		}
	}
	s, err := Parse("imagenet64,seed=0x10,dtype=f32,layout=chw,alpha=1.5,contrast=30,noise=0,signal=5,band=0.25,rho=0.5")
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{Preset: "imagenet64", N: 1281167, H: 64, W: 64, C: 3, Classes: 1000, Seed: 16, DType: backend.F32,
		Layout: data.CHW, Alpha: 1.5, Contrast: 30, Noise: 0, Signal: 5, Band: 0.25, Rho: 0.5}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	back, err := Parse(s.String())
	if err != nil {
		t.Fatal(err)
	}
	back.Preset = s.Preset
	if back != s {
		t.Errorf("String does not round-trip: %q parses to %+v", s.String(), back)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"", "empty"},
		{"imagenet65", `unknown preset "imagenet65"`},
		{"n=10,d=64,foo=1", `unknown key "foo"`},
		{"n=10,imagenet64", "may only come first"},
		{"n=10,n=20,d=4", "given twice"},
		{"n=ten,d=4", `"ten" is not an integer`},
		{"n=0,d=4", "outside"},
		{"n=10", "no image size"},
		{"d=64", "no sample count"},
		{"n=10,d=64,c=3", "not a multiple"},
		{"n=10,d=64,h=8,w=4", "h×w×c"},
		{"n=10,h=8", "give both h and w"},
		{"n=10,d=64,alpha=-1", "outside [0, 8]"},
		{"n=10,d=64,alpha=nan", "outside"},
		{"n=10,d=64,dtype=f64", "want u8 or f32"},
		{"n=10,d=64,layout=nhwc", "unknown layout"},
		{"n=10,d=64,rho=1", "outside"},
		{"n=10,d=64,band=0.8", "outside"},
		{"n=10,d=64,seed=-1", "unsigned"},
		{"n=10,h=67,w=4", "prime factor 67"},
		{"n=10,d=64,c=65", "not a multiple"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.spec, err, tc.want)
		}
	}
	// A band above every frequency of the image leaves the classes no signal.
	if _, err := Open("n=10,h=2,w=2,band=0.7"); err == nil || !strings.Contains(err.Error(), "leaves the class signal no frequencies") {
		t.Errorf("band above the highest frequency: error %v", err)
	}
	if _, err := Open("n=10,h=2,w=2,band=0.7,signal=0"); err != nil {
		t.Errorf("band above the highest frequency without signal: %v", err)
	}
}

func TestMetaAndBadRequests(t *testing.T) {
	g := mustOpen(t, "cifar10-like,n=10,layout=chw")
	m := g.Meta()
	if m.N != 10 || m.D != 3072 || m.Classes != 10 || m.DType != backend.U8 || m.Shape != (data.Shape{H: 32, W: 32, C: 3, Layout: data.CHW}) {
		t.Errorf("meta %+v", m)
	}
	if !strings.HasPrefix(m.Name, "synth:n=10,h=32,w=32,c=3") {
		t.Errorf("meta name %q is not the canonical spec", m.Name)
	}
	if _, err := g.Open(0); err == nil {
		t.Error("Open(0) accepted")
	}
	d := 3072
	for _, tc := range []struct {
		first int
		x     backend.Chunk
		want  string
	}{
		{0, backend.Chunk{N: 1, D: 100, U8: make([]uint8, 100)}, "rows of 100 features"},
		{0, backend.Chunk{N: 1, D: d, F32: make([]float32, d)}, "dtype is uint8"},
		{9, backend.Chunk{N: 2, D: d, U8: make([]uint8, 2*d)}, "samples [9, 11) requested, the dataset has 10"},
		{-1, backend.Chunk{N: 1, D: d, U8: make([]uint8, d)}, "requested"},
		{0, backend.Chunk{N: 2, D: d, U8: make([]uint8, d)}, "one slice of 2×3072"},
	} {
		if err := g.Fill(tc.first, tc.x, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Fill(%d, %d×%d %v): error %v, want %q", tc.first, tc.x.N, tc.x.D, tc.x.DType(), err, tc.want)
		}
	}
	if err := g.Fill(0, backend.Chunk{N: 2, D: d, U8: make([]uint8, 2*d)}, make([]int, 3)); err == nil {
		t.Error("3 label slots for 2 rows accepted")
	}
}
