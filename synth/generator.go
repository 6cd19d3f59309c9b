package synth

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
)

// Generator is a synthetic dataset. It implements data.Source; any number of
// readers may use it at once.
type Generator struct {
	spec Spec
	hw   int
	fft  *fft2

	modes []mode      // one per conjugate pair of DFT indices (and per self-conjugate index)
	amp   [][]float64 // amp[latent][mode]: standard deviation of that latent's coefficient
	mix   []float64   // C×C row-major: channel c = mean[c] + Σ_d mix[c·C+d]·latent d
	eig   []float64   // variance share of each latent (eigenvalues of the channel correlation), descending
	mean  []float64   // per-channel mean, grey levels

	classLatent int     // the latent (smallest variance) that carries the class patterns
	classAmp    float64 // magnitude of each class-pattern coefficient
	bandModes   int     // DFT indices (k and −k counted apart) in the class band

	imageKey, labelKey, classKey uint64
}

var _ data.Source = (*Generator)(nil)

type mode struct {
	k, conj int     // flat DFT indices ky·W+kx of the mode and of its mirror −k
	self    bool    // k = −k: the coefficient must be real
	band    bool    // in the class band
	freq    float64 // radial frequency, cycles per pixel
	ky, kx  int
}

// Open parses spec and builds its generator.
func Open(spec string) (*Generator, error) {
	s, err := Parse(spec)
	if err != nil {
		return nil, err
	}
	return New(s)
}

// New builds the generator of s.
func New(s Spec) (*Generator, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("synthetic spec %s: %v", s, err)
	}
	f, err := newFFT2(s.H, s.W)
	if err != nil {
		return nil, err
	}
	g := &Generator{spec: s, hw: s.H * s.W, fft: f}
	g.imageKey = keyOf(s.Seed, 1)
	g.labelKey = keyOf(s.Seed, 2)
	g.classKey = keyOf(s.Seed, 3)

	// Canonical half of the DFT grid: a real field's coefficient at −k is the
	// conjugate of the one at k, so only one of each pair is drawn.
	fmin := 1 / float64(max(s.H, s.W))
	var gsum float64
	for ky := 0; ky < s.H; ky++ {
		for kx := 0; kx < s.W; kx++ {
			k := ky*s.W + kx
			conj := ((s.H-ky)%s.H)*s.W + (s.W-kx)%s.W
			fr := radialFreq(ky, kx, s.H, s.W)
			gsum += math.Pow(math.Max(fr, fmin), -s.Alpha)
			if conj < k {
				continue
			}
			m := mode{k: k, conj: conj, self: conj == k, freq: fr, ky: ky, kx: kx}
			m.band = !m.self && fr >= s.Band
			if m.band {
				g.bandModes += 2
			}
			g.modes = append(g.modes, m)
		}
	}

	g.eig, g.mix = channelBasis(s.C, s.Rho)
	g.mean = channelMeans(s.C)
	g.classLatent = s.C - 1
	noiseVar := s.Noise * s.Noise / float64(g.hw)
	g.amp = make([][]float64, s.C)
	for d := range g.amp {
		g.amp[d] = make([]float64, len(g.modes))
		for j, m := range g.modes {
			v := g.eig[d] * s.Contrast * s.Contrast * math.Pow(math.Max(m.freq, fmin), -s.Alpha) / gsum
			g.amp[d][j] = math.Sqrt(v + noiseVar)
		}
	}
	if s.Signal > 0 && s.Classes > 1 {
		if g.bandModes == 0 {
			return nil, fmt.Errorf("synthetic spec %s: band=%g leaves the class signal no frequencies of a %d×%d image: it needs frequencies ≥ band other than the real-only ones (0 or half the sampling rate on each axis); the highest is %.4f cycles per pixel", s, s.Band, s.H, s.W, maxFreq(s.H, s.W))
		}
		g.classAmp = s.Signal / math.Sqrt(float64(g.bandModes))
	}
	return g, nil
}

// radialFreq is |k| in cycles per pixel, with each index folded to its
// signed frequency (indices past the middle are negative frequencies).
func radialFreq(ky, kx, h, w int) float64 {
	fy := float64(min(ky, h-ky)) / float64(h)
	fx := float64(min(kx, w-kx)) / float64(w)
	return math.Hypot(fx, fy)
}

func maxFreq(h, w int) float64 { return radialFreq(h/2, w/2, h, w) }

// channelBasis eigendecomposes the channel correlation ρ^|i−j|: the
// generator draws independent fields ("latents") along its eigenvectors,
// largest first (for RGB: luminance, then two opponent colours).
func channelBasis(c int, rho float64) (eig, basis []float64) {
	r := mat.NewSymDense(c, nil)
	for i := 0; i < c; i++ {
		for j := i; j < c; j++ {
			r.SetSym(i, j, math.Pow(rho, float64(j-i)))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(r, true) {
		panic("synth: eigendecomposition of a channel correlation matrix failed")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	order := make([]int, c)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	eig = make([]float64, c)
	basis = make([]float64, c*c)
	for d, src := range order {
		eig[d] = math.Max(vals[src], 0)
		sign := 1.0
		for i := 0; i < c; i++ { // fix the sign so the basis does not depend on LAPACK's choice
			if v := vecs.At(i, src); math.Abs(v) > 1e-12 {
				if v < 0 {
					sign = -1
				}
				break
			}
		}
		for i := 0; i < c; i++ {
			basis[i*c+d] = sign * vecs.At(i, src)
		}
	}
	return eig, basis
}

// channelMeans are ImageNet's RGB means for three channels, mid-grey otherwise.
func channelMeans(c int) []float64 {
	m := make([]float64, c)
	for i := range m {
		m[i] = 128
	}
	if c == 3 {
		copy(m, []float64{124, 116, 104})
	}
	return m
}

// Spec returns the generator's spec.
func (g *Generator) Spec() Spec { return g.spec }

// Meta implements data.Source.
func (g *Generator) Meta() data.Meta {
	s := g.spec
	return data.Meta{Name: "synth:" + s.String(), N: s.N, D: s.D(), Classes: s.Classes, DType: s.DType,
		Shape: data.Shape{H: s.H, W: s.W, C: s.C, Layout: s.Layout}}
}

// Label is the class of sample i.
func (g *Generator) Label(i int) int {
	return int(draw(g.labelKey, uint64(i)) % uint64(g.spec.Classes))
}

// Fill writes samples first, first+1, … into the rows of x (x.D must be the
// spec's D; x.U8 or x.F32 must be set as its dtype says, or x.F64 for the
// unquantised values in grey levels) and their labels into labels (nil, or
// length x.N). Rows are spread over GOMAXPROCS goroutines; each row depends
// only on the seed and its sample index, so the result does not depend on
// how the samples are chunked or on the number of goroutines.
func (g *Generator) Fill(first int, x backend.Chunk, labels []int) error {
	if err := g.checkFill(first, x, labels); err != nil {
		return err
	}
	for r := range labels {
		labels[r] = g.Label(first + r)
	}
	workers := min(runtime.GOMAXPROCS(0), x.N)
	if workers <= 1 {
		g.fillRows(first, x, 0, x.N)
		return nil
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := x.N*w/workers, x.N*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.fillRows(first, x, lo, hi)
		}()
	}
	wg.Wait()
	return nil
}

func (g *Generator) checkFill(first int, x backend.Chunk, labels []int) error {
	name := g.spec.Preset
	if name == "" {
		name = "synthetic data"
	}
	set := 0
	n := 0
	for _, l := range []int{len(x.U8), len(x.F32), len(x.F64)} {
		if l > 0 {
			set++
			n = l
		}
	}
	switch {
	case x.D != g.spec.D():
		return fmt.Errorf("%s: rows of %d features requested, the images have %d", name, x.D, g.spec.D())
	case x.N < 0 || set > 1 || (x.N > 0 && n != x.N*x.D):
		return fmt.Errorf("%s: destination must be one slice of %d×%d values", name, x.N, x.D)
	case x.U8 != nil && g.spec.DType != backend.U8, x.F32 != nil && g.spec.DType != backend.F32:
		return fmt.Errorf("%s: destination is %v but the spec's dtype is %v (float64 is always allowed)", name, x.DType(), g.spec.DType)
	case first < 0 || first+x.N > g.spec.N:
		return fmt.Errorf("%s: samples [%d, %d) requested, the dataset has %d", name, first, first+x.N, g.spec.N)
	case labels != nil && len(labels) != x.N:
		return fmt.Errorf("%s: %d label slots for %d rows", name, len(labels), x.N)
	}
	return nil
}

// scratch is one goroutine's working memory for an image.
type scratch struct {
	planes [][]complex128 // one 2-D spectrum per pair of latents
	tmp    []complex128
	row    []float64 // one row of pixel values before conversion
	lat    []float64 // the C latent fields, one plane each
}

var scratchPools sync.Map // hw·C → *sync.Pool

func (g *Generator) getScratch() *scratch {
	key := [2]int{g.hw, g.spec.C}
	p, _ := scratchPools.LoadOrStore(key, &sync.Pool{})
	pool := p.(*sync.Pool)
	if s, ok := pool.Get().(*scratch); ok {
		return s
	}
	s := &scratch{planes: make([][]complex128, (g.spec.C+1)/2), tmp: make([]complex128, g.hw), row: make([]float64, g.spec.D()), lat: make([]float64, g.spec.D())}
	for i := range s.planes {
		s.planes[i] = make([]complex128, g.hw)
	}
	return s
}

func (g *Generator) putScratch(s *scratch) {
	p, _ := scratchPools.Load([2]int{g.hw, g.spec.C})
	p.(*sync.Pool).Put(s)
}

func (g *Generator) fillRows(first int, x backend.Chunk, lo, hi int) {
	s := g.getScratch()
	defer g.putScratch(s)
	d := x.D
	for r := lo; r < hi; r++ {
		g.synthesize(first+r, s)
		if x.F64 != nil {
			g.pixels(s, x.F64[r*d:(r+1)*d])
			continue
		}
		v := s.row[:d]
		g.pixels(s, v)
		if x.U8 != nil {
			out := x.U8[r*d : (r+1)*d]
			for p, f := range v {
				switch {
				case f <= 0:
					out[p] = 0
				case f >= 255:
					out[p] = 255
				default:
					out[p] = uint8(f + 0.5)
				}
			}
		} else {
			out := x.F32[r*d : (r+1)*d]
			for p, f := range v {
				out[p] = float32(f / 255)
			}
		}
	}
}

// synthesize draws the spectra of sample i's latent fields and transforms
// them to pixels: latents 2p and 2p+1 share one complex plane as its real
// and imaginary parts (both have Hermitian spectra, so one complex inverse
// FFT yields the two real fields).
func (g *Generator) synthesize(i int, s *scratch) {
	key := draw(g.imageKey, uint64(i))
	classKey := draw(g.classKey, uint64(g.Label(i)))
	signal := g.classAmp > 0
	nm := len(g.modes)
	for p, plane := range s.planes {
		d0, d1 := 2*p, 2*p+1
		amp0 := g.amp[d0]
		var amp1 []float64
		if d1 < g.spec.C {
			amp1 = g.amp[d1]
		}
		for j, m := range g.modes {
			bits := draw(key, uint64(p*nm+j+1))
			a := gaussian(uint32(bits)) * complex(amp0[j], 0)
			var b complex128
			if amp1 != nil {
				b = gaussian(uint32(bits>>32)) * complex(amp1[j], 0)
			}
			if signal && m.band {
				w := phase[draw(classKey, uint64(j+1))&(phaseSteps-1)] * complex(g.classAmp, 0)
				if d0 == g.classLatent {
					a += w
				} else if d1 == g.classLatent {
					b += w
				}
			}
			if m.self {
				// A real coefficient; √2 gives it the variance of the complex ones.
				plane[m.k] = complex(math.Sqrt2*real(a), math.Sqrt2*real(b))
				continue
			}
			plane[m.k] = complex(real(a)-imag(b), imag(a)+real(b))    // a + i·b
			plane[m.conj] = complex(real(a)+imag(b), real(b)-imag(a)) // conj(a) + i·conj(b)
		}
		g.fft.inverse(plane, s.tmp)
	}
}

// pixels mixes the latent fields into channels and writes the row, in
// grey levels before quantisation, in the spec's layout.
func (g *Generator) pixels(s *scratch, row []float64) {
	c := g.spec.C
	hw := g.hw
	if c == 1 {
		m, mu := g.mix[0], g.mean[0]
		for t, v := range s.planes[0][:hw] {
			row[t] = mu + m*real(v)
		}
		return
	}
	if c == 3 && g.spec.Layout == data.HWC {
		// The RGB case, written out: it is a third of the generation time otherwise.
		m := g.mix[:9]
		mu0, mu1, mu2 := g.mean[0], g.mean[1], g.mean[2]
		p0, p1 := s.planes[0][:hw], s.planes[1][:hw]
		row = row[:3*hw]
		for t := range p0 {
			l0, l1, l2 := real(p0[t]), imag(p0[t]), real(p1[t])
			px := row[3*t : 3*t+3]
			px[0] = mu0 + m[0]*l0 + m[1]*l1 + m[2]*l2
			px[1] = mu1 + m[3]*l0 + m[4]*l1 + m[5]*l2
			px[2] = mu2 + m[6]*l0 + m[7]*l1 + m[8]*l2
		}
		return
	}
	// Unpack the latents into per-latent planes of real values first, so
	// that the mixing below reads them with unit stride.
	lat := s.lat
	for p, plane := range s.planes {
		re := lat[2*p*hw : (2*p+1)*hw]
		for t, v := range plane[:hw] {
			re[t] = real(v)
		}
		if 2*p+1 < c {
			im := lat[(2*p+1)*hw : (2*p+2)*hw]
			for t, v := range plane[:hw] {
				im[t] = imag(v)
			}
		}
	}
	if g.spec.Layout == data.CHW {
		for ch := 0; ch < c; ch++ {
			out := row[ch*hw : (ch+1)*hw]
			for t := range out {
				out[t] = g.mean[ch]
			}
			for d, m := range g.mix[ch*c : (ch+1)*c] {
				for t, v := range lat[d*hw : (d+1)*hw] {
					out[t] += m * v
				}
			}
		}
		return
	}
	for t := 0; t < hw; t++ {
		px := row[t*c : (t+1)*c]
		for ch := range px {
			v := g.mean[ch]
			for d, m := range g.mix[ch*c : (ch+1)*c] {
				v += m * lat[d*hw+t]
			}
			px[ch] = v
		}
	}
}

// Open implements data.Source.
func (g *Generator) Open(chunkRows int) (data.Reader, error) {
	if chunkRows < 1 {
		return nil, fmt.Errorf("synth:%s: chunk of %d rows: must be at least 1", g.spec, chunkRows)
	}
	return &reader{g: g, chunkRows: chunkRows}, nil
}

type reader struct {
	g         *Generator
	chunkRows int
	next      int
	closed    bool
	u8        []uint8
	f32       []float32
	labels    []int
}

func (r *reader) Next() (data.Batch, error) {
	n := r.g.spec.N
	if r.closed || r.next >= n {
		return data.Batch{}, io.EOF
	}
	rows := min(r.chunkRows, n-r.next)
	d := r.g.spec.D()
	if r.labels == nil {
		full := min(r.chunkRows, n)
		r.labels = make([]int, full)
		if r.g.spec.DType == backend.U8 {
			r.u8 = make([]uint8, full*d)
		} else {
			r.f32 = make([]float32, full*d)
		}
	}
	x := backend.Chunk{N: rows, D: d}
	if r.u8 != nil {
		x.U8 = r.u8[:rows*d]
	} else {
		x.F32 = r.f32[:rows*d]
	}
	labels := r.labels[:rows]
	if err := r.g.Fill(r.next, x, labels); err != nil {
		return data.Batch{}, err
	}
	r.next += rows
	return data.Batch{X: x, Labels: labels}, nil
}

func (r *reader) Close() error {
	r.closed = true
	return nil
}

// Mode is one eigen-direction of the population covariance of the
// unquantised images (the dtype=f32 values, or the u8 values before rounding
// and clamping), without the class signal: the real Fourier mode (ky, kx)
// of colour component Latent.
type Mode struct {
	Latent   int     // 0 = largest channel-correlation eigenvalue (luminance for RGB)
	KY, KX   int     // DFT indices, 0 ≤ KY < H, 0 ≤ KX < W
	Freq     float64 // radial frequency in cycles per pixel
	Variance float64 // the eigenvalue, in the squared units of the rows (grey levels² for u8, (grey/255)² for f32)
	Band     bool    // the class patterns of the class latent (the last one) use this frequency
}

// PopulationModes lists all D eigenpairs of the population covariance (see
// the package documentation), largest variance first.
func (g *Generator) PopulationModes() []Mode {
	s := g.spec
	unit := 1.0
	if s.DType == backend.F32 {
		unit = 1.0 / (255 * 255)
	}
	out := make([]Mode, 0, s.D())
	for d := 0; d < s.C; d++ {
		for j, m := range g.modes {
			v := float64(g.hw) * g.amp[d][j] * g.amp[d][j] * unit
			out = append(out, Mode{Latent: d, KY: m.ky, KX: m.kx, Freq: m.freq, Variance: v, Band: m.band})
			if !m.self {
				ky, kx := m.conj/s.W, m.conj%s.W
				out = append(out, Mode{Latent: d, KY: ky, KX: kx, Freq: m.freq, Variance: v, Band: m.band})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Variance > out[b].Variance })
	return out
}

// ChannelMeans is the population mean of each channel, in the rows' units.
func (g *Generator) ChannelMeans() []float64 {
	m := append([]float64(nil), g.mean...)
	if g.spec.DType == backend.F32 {
		for i := range m {
			m[i] /= 255
		}
	}
	return m
}

// ChannelBasis returns the colour eigenbasis: column d of the C×C row-major
// matrix is the channel mixture of latent d, and share[d] its eigenvalue of
// the channel correlation (they sum to C).
func (g *Generator) ChannelBasis() (basis, share []float64) {
	return append([]float64(nil), g.mix...), append([]float64(nil), g.eig...)
}
