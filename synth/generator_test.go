package synth

import (
	"bytes"
	"io"
	"math"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

func mustOpen(t testing.TB, spec string) *Generator {
	t.Helper()
	g, err := Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// readAll reads a whole pass with the given chunk size, as bytes (float32
// rows are compared through their bit patterns).
func readAll(t *testing.T, src data.Source, chunk int) ([]byte, []int) {
	t.Helper()
	r, err := src.Open(chunk)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	var labels []int
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.X.N > chunk || b.X.D != src.Meta().D || len(b.Labels) != b.X.N {
			t.Fatalf("chunk %d: batch of %d×%d with %d labels", chunk, b.X.N, b.X.D, len(b.Labels))
		}
		if b.X.U8 != nil {
			buf.Write(b.X.U8)
		}
		for _, v := range b.X.F32 {
			u := math.Float32bits(v)
			buf.Write([]byte{byte(u), byte(u >> 8), byte(u >> 16), byte(u >> 24)})
		}
		labels = append(labels, b.Labels...)
	}
	return buf.Bytes(), labels
}

func TestBitIdenticalAcrossChunksAndThreads(t *testing.T) {
	for _, spec := range []string{
		"n=1003,h=16,w=12,c=3,classes=7,seed=11",
		"n=1003,d=100,c=1,dtype=f32,alpha=1,seed=5,band=0.3",
		"cifar10-like,n=1003,layout=chw,dtype=f32",
	} {
		g := mustOpen(t, spec)
		old := runtime.GOMAXPROCS(1)
		want, wantLabels := readAll(t, g, 1)
		runtime.GOMAXPROCS(old)
		if len(want) == 0 || len(wantLabels) != 1003 {
			t.Fatalf("%s: read %d bytes and %d labels", spec, len(want), len(wantLabels))
		}
		for _, procs := range []int{1, 4} {
			old := runtime.GOMAXPROCS(procs)
			for _, chunk := range []int{1, 7, 1000, 5000} {
				got, gotLabels := readAll(t, g, chunk)
				if !bytes.Equal(got, want) || !slices.Equal(gotLabels, wantLabels) {
					t.Errorf("%s: chunk %d with GOMAXPROCS %d differs from chunk 1 on one thread", spec, chunk, procs)
				}
			}
			runtime.GOMAXPROCS(old)
		}
		// Samples generated alone, out of order, agree with the stream.
		d := g.Spec().D()
		one := backend.Chunk{N: 1, D: d, F64: make([]float64, d)}
		for _, i := range []int{1002, 0, 517} {
			if err := g.Fill(i, one, nil); err != nil {
				t.Fatal(err)
			}
			row := want[i*d*elemSize(g.Spec()) : (i+1)*d*elemSize(g.Spec())]
			for p, v := range one.F64 {
				if !sameAsStored(g.Spec(), row, p, v) {
					t.Fatalf("%s: sample %d pixel %d: float64 fill %v disagrees with the stream", spec, i, p, v)
				}
			}
		}
	}
}

func elemSize(s Spec) int {
	if s.DType == backend.U8 {
		return 1
	}
	return 4
}

// sameAsStored checks that the quantised or float32 stored pixel p is what
// the unquantised value v becomes.
func sameAsStored(s Spec, row []byte, p int, v float64) bool {
	if s.DType == backend.U8 {
		return row[p] == uint8(math.Min(255, math.Max(0, math.Floor(v+0.5))))
	}
	u := uint32(row[4*p]) | uint32(row[4*p+1])<<8 | uint32(row[4*p+2])<<16 | uint32(row[4*p+3])<<24
	return math.Float32frombits(u) == float32(v/255)
}

func TestSeedsDiffer(t *testing.T) {
	a, _ := readAll(t, mustOpen(t, "n=50,h=8,w=8,c=3,seed=1"), 50)
	b, lb := readAll(t, mustOpen(t, "n=50,h=8,w=8,c=3,seed=2"), 50)
	_, la := readAll(t, mustOpen(t, "n=50,h=8,w=8,c=3,seed=1"), 50)
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	// Unrelated images share a byte about as often as two draws from one
	// pixel's distribution (standard deviation ≈ 40 grey levels) coincide.
	if frac := float64(same) / float64(len(a)); frac > 0.05 {
		t.Errorf("seeds 1 and 2 agree on %.1f%% of the bytes", 100*frac)
	}
	if slices.Equal(la, lb) {
		t.Error("seeds 1 and 2 give the same labels")
	}
}

// The CHW layout is the HWC row with its axes moved, value for value.
func TestLayoutsHoldTheSameValues(t *testing.T) {
	hwc, _ := readAll(t, mustOpen(t, "n=20,h=6,w=10,c=3"), 20)
	chw, _ := readAll(t, mustOpen(t, "n=20,h=6,w=10,c=3,layout=chw"), 20)
	hw, c := 60, 3
	for i := 0; i < 20; i++ {
		for t2 := 0; t2 < hw; t2++ {
			for ch := 0; ch < c; ch++ {
				if hwc[i*180+t2*c+ch] != chw[i*180+ch*hw+t2] {
					t.Fatalf("sample %d pixel %d channel %d: hwc %d, chw %d", i, t2, ch, hwc[i*180+t2*c+ch], chw[i*180+ch*hw+t2])
				}
			}
		}
	}
}

// radialSpectrum averages |DFT|² of every mean-removed image and channel
// over rings of integer radius (cycles per image) of a square image.
func radialSpectrum(t *testing.T, g *Generator, n int) []float64 {
	s := g.Spec()
	side := s.H
	x, _, err := data.Collect(g) // the stored rows: quantised and clamped for u8
	if err != nil {
		t.Fatal(err)
	}
	fft := fourier.NewCmplxFFT(side)
	power := make([]float64, side)
	count := make([]float64, side)
	plane := make([]complex128, side*side)
	col := make([]complex128, side)
	for i := 0; i < n; i++ {
		for ch := 0; ch < s.C; ch++ {
			var mean float64
			for p := 0; p < side*side; p++ {
				mean += x.F64[i*s.D()+p*s.C+ch]
			}
			mean /= float64(side * side)
			for p := range plane {
				plane[p] = complex(x.F64[i*s.D()+p*s.C+ch]-mean, 0)
			}
			for y := 0; y < side; y++ {
				fft.Coefficients(plane[y*side:(y+1)*side], plane[y*side:(y+1)*side])
			}
			for kx := 0; kx < side; kx++ {
				for y := 0; y < side; y++ {
					col[y] = plane[y*side+kx]
				}
				fft.Coefficients(col, col)
				for ky := 0; ky < side; ky++ {
					r := int(math.Round(math.Hypot(float64(min(kx, side-kx)), float64(min(ky, side-ky)))))
					if r < side {
						power[r] += real(col[ky])*real(col[ky]) + imag(col[ky])*imag(col[ky])
						count[r]++
					}
				}
			}
		}
	}
	for r := range power {
		if count[r] > 0 {
			power[r] /= count[r]
		}
	}
	return power
}

// slope fits log power against log radius over radii [lo, hi].
func slope(power []float64, lo, hi int) float64 {
	var sx, sy, sxx, sxy, n float64
	for r := lo; r <= hi; r++ {
		x, y := math.Log(float64(r)), math.Log(power[r])
		sx, sy, sxx, sxy, n = sx+x, sy+y, sxx+x*x, sxy+x*y, n+1
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// The radially averaged power spectrum of the generated (quantised) images,
// measured with gonum's FFT, falls as f^−alpha over the octaves below the
// class band.
func TestPowerSpectrumSlope(t *testing.T) {
	for _, alpha := range []float64{2, 1} {
		for _, dtype := range []string{"u8", "f32"} {
			g := mustOpen(t, "n=200,h=32,w=32,c=3,dtype="+dtype+",alpha="+fmtFloat(alpha))
			p := radialSpectrum(t, g, 200)
			got := slope(p, 1, 10)
			t.Logf("alpha=%g %s: fitted slope %.3f", alpha, dtype, got)
			if math.Abs(got+alpha) > 0.3 {
				t.Errorf("alpha=%g %s: power spectrum slope %.3f, want %.1f ± 0.3", alpha, dtype, got, -alpha)
			}
		}
	}
}

func fmtFloat(v float64) string { return string(rune('0' + int(v))) }

func BenchmarkGenerate(b *testing.B) {
	for _, spec := range []string{"imagenet64,n=4096", "fmnist-like,n=4096", "cifar10-like,n=4096"} {
		b.Run(spec, func(b *testing.B) {
			g := mustOpen(b, spec)
			d := g.Spec().D()
			x := backend.Chunk{N: 64, D: d, U8: make([]uint8, 64*d)}
			i := 0
			for b.Loop() {
				if err := g.Fill(i%4000, x, nil); err != nil {
					b.Fatal(err)
				}
				i += 64
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/image")
		})
	}
}
