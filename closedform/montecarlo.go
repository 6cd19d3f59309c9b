package closedform

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// NoiseFunc writes one corrupted copy of the sample x into out (same
// length; out does not alias x). rng is the only source of randomness it
// may use, so that estimates are reproducible.
type NoiseFunc func(rng *rand.Rand, x, out []float64)

// MonteCarlo is a noise known only by sampling.
type MonteCarlo struct {
	Name    string
	Params  map[string]float64
	D       int // features the function expects
	Corrupt NoiseFunc
}

// MonteCarloOptions control EstimateMoments.
type MonteCarloOptions struct {
	// Draws is the number of corrupted copies of each sample (R ≥ 1).
	Draws int
	// Batches splits the draws into that many equal groups whose estimates
	// give the standard errors (batch means); it must divide Draws. 0 means
	// the largest divisor of Draws up to 8. With one batch no standard
	// error is given. Each batch holds two D×D accumulators.
	Batches int
	Seed    uint64
	// ChunkRows is the rows read per chunk (0: engine.DefaultChunkRows).
	ChunkRows int
	// Workers generating corrupted samples (0: all cores).
	Workers  int
	Progress func(done, total int)
}

// maxAccumulatorBytes bounds the batch accumulators of EstimateMoments.
const maxAccumulatorBytes = 16 << 30

// blockFloats bounds the corrupted rows held at once (32 MB of float64).
const blockFloats = 1 << 22

// EstimateMoments streams src once and estimates P = E[X']ᵀX and
// G = E[X'ᵀX'] for the noise: each sample x (centred with st's mean when st
// is centred, as the reference masks centred data) is corrupted Draws times,
// P accumulates mean(x')·xᵀ and G accumulates mean(x'x'ᵀ). The generator of
// sample i is seeded with (Seed, i), so the estimate depends neither on the
// chunk size nor on the number of workers.
func EstimateMoments(be backend.Backend, src data.Source, st *engine.Stats, noise MonteCarlo, opt MonteCarloOptions) (*SecondMoments, error) {
	meta := src.Meta()
	d := meta.D
	switch {
	case noise.Corrupt == nil:
		return nil, fmt.Errorf("monte carlo %s: no noise function", noise.Name)
	case d != st.D:
		return nil, fmt.Errorf("monte carlo %s: %s has D = %d but the moments have D = %d", noise.Name, meta.Name, d, st.D)
	case noise.D != 0 && noise.D != d:
		return nil, fmt.Errorf("monte carlo %s: the noise corrupts %d features but %s has D = %d", noise.Name, noise.D, meta.Name, d)
	case opt.Draws < 1:
		return nil, fmt.Errorf("monte carlo %s: %d draws per sample, want at least 1", noise.Name, opt.Draws)
	}
	nb := opt.Batches
	if nb == 0 {
		nb = min(opt.Draws, 8)
		for opt.Draws%nb != 0 {
			nb--
		}
	}
	if nb < 1 || opt.Draws%nb != 0 {
		return nil, fmt.Errorf("monte carlo %s: %d batches do not divide %d draws", noise.Name, nb, opt.Draws)
	}
	if bytes := float64(2*nb+2) * float64(d) * float64(d) * 8; bytes > maxAccumulatorBytes {
		return nil, fmt.Errorf("monte carlo %s: %d batches of two %d×%d accumulators need %.1f GB: use fewer batches", noise.Name, nb, d, d, bytes/1e9)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunk := opt.ChunkRows
	if chunk <= 0 {
		chunk = engine.DefaultChunkRows
	}
	var shift []float64
	if st.Centered {
		shift = st.MeanX
	}
	acc := &mcAccumulator{be: be, d: d, draws: opt.Draws, batches: nb, seed: opt.Seed, noise: noise.Corrupt, workers: workers}
	acc.p = make([]blas64.General, nb)
	acc.g = make([]blas64.General, nb)
	for b := range acc.p {
		acc.p[b] = backend.NewGeneral(d, d)
		acc.g[b] = backend.NewGeneral(d, d)
	}
	xbuf := make([]float64, 0)
	err := data.Each(src, chunk, func(bt data.Batch) error {
		if bt.X.D != d {
			return fmt.Errorf("%s: chunk of %d features, want %d", meta.Name, bt.X.D, d)
		}
		if cap(xbuf) < bt.X.N*d {
			xbuf = make([]float64, bt.X.N*d)
		}
		x := bt.X.Float64(xbuf, shift)
		if err := acc.add(x, bt.X.N); err != nil {
			return fmt.Errorf("%s: rows %d..%d: %w", meta.Name, acc.rows, acc.rows+bt.X.N, err)
		}
		if opt.Progress != nil {
			opt.Progress(acc.rows, meta.N)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if acc.rows != st.N {
		return nil, fmt.Errorf("monte carlo %s: %s delivered %d rows but the moments count %d", noise.Name, meta.Name, acc.rows, st.N)
	}
	m := acc.finish(noise, opt.Seed)
	m.Centered = st.Centered
	return m, nil
}

type mcAccumulator struct {
	be                 backend.Backend
	d, draws, batches  int
	seed               uint64
	noise              NoiseFunc
	workers            int
	rows               int // rows seen so far: the index of the next sample
	p, g               []blas64.General
	corrupted, drawSum []float64
}

// add processes n rows of x (n×d, shifted) in blocks small enough that
// every draw of the block fits in memory, laid out batch by batch so that
// each batch's Gram is one GramAdd.
func (a *mcAccumulator) add(x []float64, n int) error {
	d, per := a.d, a.draws/a.batches
	block := max(1, min(n, blockFloats/(a.draws*d)))
	if len(a.corrupted) < block*a.draws*d {
		a.corrupted = make([]float64, block*a.draws*d)
		a.drawSum = make([]float64, block*a.batches*d)
	}
	for i0 := 0; i0 < n; i0 += block {
		nr := min(block, n-i0)
		a.generate(x[i0*d:(i0+nr)*d], nr, a.rows+i0)
		xb := blas64.General{Rows: nr, Cols: d, Stride: d, Data: x[i0*d : (i0+nr)*d]}
		for b := 0; b < a.batches; b++ {
			rowsB := nr * per
			cb := a.corrupted[b*rowsB*d : (b+1)*rowsB*d]
			if err := a.be.GramAdd(a.g[b], backend.Chunk{N: rowsB, D: d, F64: cb}, nil); err != nil {
				return err
			}
			s := blas64.General{Rows: nr, Cols: d, Stride: d, Data: a.drawSum[b*nr*d : (b+1)*nr*d]}
			if err := a.be.Gemm(blas.Trans, blas.NoTrans, 1, s, xb, 1, a.p[b]); err != nil {
				return err
			}
		}
	}
	a.rows += n
	return nil
}

// generate fills the corrupted draws of rows [first, first+nr) and their
// per-batch sums, spreading rows over the workers.
func (a *mcAccumulator) generate(x []float64, nr, first int) {
	d, per := a.d, a.draws/a.batches
	rowsB := nr * per
	var wg sync.WaitGroup
	next := make(chan int, nr)
	for i := 0; i < nr; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < min(a.workers, nr); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := rand.NewPCG(0, 0)
			rng := rand.New(src)
			for i := range next {
				src.Seed(a.seed, uint64(first+i))
				xi := x[i*d : (i+1)*d]
				for b := 0; b < a.batches; b++ {
					sum := a.drawSum[(b*nr+i)*d : (b*nr+i+1)*d]
					clear(sum)
					for t := 0; t < per; t++ {
						out := a.corrupted[(b*rowsB+i*per+t)*d : (b*rowsB+i*per+t+1)*d]
						a.noise(rng, xi, out)
						for j, v := range out {
							sum[j] += v
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}

func (a *mcAccumulator) finish(noise MonteCarlo, seed uint64) *SecondMoments {
	d, nb := a.d, a.batches
	m := &SecondMoments{N: a.rows, P: backend.NewGeneral(d, d), G: backend.NewGeneral(d, d)}
	// Batch estimates: each batch saw draws/batches copies of every sample.
	scale := float64(nb) / float64(a.draws)
	for b := 0; b < nb; b++ {
		backend.Symmetrize(a.g[b])
		for i := range a.p[b].Data {
			a.p[b].Data[i] *= scale
			a.g[b].Data[i] *= scale
			m.P.Data[i] += a.p[b].Data[i] / float64(nb)
			m.G.Data[i] += a.g[b].Data[i] / float64(nb)
		}
	}
	m.BatchP, m.BatchG = a.p, a.g
	info := &MonteCarloInfo{Draws: a.draws, Batches: nb, Seed: seed}
	if nb > 1 {
		m.PStdErr = batchStdErr(a.p, m.P)
		m.GStdErr = batchStdErr(a.g, m.G)
		info.RelStdErrP = frobenius(m.PStdErr) / frobenius(m.P)
		info.RelStdErrG = frobenius(m.GStdErr) / frobenius(m.G)
	}
	m.Info = NoiseSpec{Kind: noise.Name, Params: noise.Params, MonteCarlo: info}
	return m
}

// batchStdErr is the entrywise standard error of the mean of the batches.
func batchStdErr(batches []blas64.General, mean blas64.General) blas64.General {
	nb := float64(len(batches))
	se := backend.NewGeneral(mean.Rows, mean.Cols)
	for _, b := range batches {
		for i, v := range b.Data {
			dv := v - mean.Data[i]
			se.Data[i] += dv * dv
		}
	}
	for i, v := range se.Data {
		se.Data[i] = math.Sqrt(v / (nb * (nb - 1)))
	}
	return se
}

func frobenius(a blas64.General) float64 {
	s := 0.0
	for _, v := range a.Data {
		s += v * v
	}
	return math.Sqrt(s)
}

// MaskSampler samples the masking noise m (for checking the closed forms,
// and as a template for variants of it).
func MaskSampler(m Mask) (MonteCarlo, error) {
	if err := m.Validate(m.Shape.D()); err != nil {
		return MonteCarlo{}, err
	}
	patch, np := m.PatchOf()
	k := m.kept()
	name := "mask-mc"
	if m.Fixed {
		name = "mask-fixed-mc"
	}
	return MonteCarlo{
		Name: name, D: m.Shape.D(),
		Params: map[string]float64{"p": m.P, "patch_h": float64(m.PatchH), "patch_w": float64(m.PatchW)},
		Corrupt: func(rng *rand.Rand, x, out []float64) {
			keep := make([]bool, np)
			if m.Fixed {
				perm := make([]int, np)
				for i := range perm {
					perm[i] = i
				}
				for i := 0; i < k; i++ {
					j := i + rng.IntN(np-i)
					perm[i], perm[j] = perm[j], perm[i]
					keep[perm[i]] = true
				}
			} else {
				for i := range keep {
					keep[i] = rng.Float64() >= m.P
				}
			}
			for i, v := range x {
				if keep[patch[i]] {
					out[i] = v
				} else {
					out[i] = 0
				}
			}
		},
	}, nil
}

// GaussianSampler adds N(0, σ²) to every feature.
func GaussianSampler(sigma float64, d int) (MonteCarlo, error) {
	if err := (Gaussian{Sigma: sigma}).validate(); err != nil {
		return MonteCarlo{}, err
	}
	return MonteCarlo{Name: "gaussian-mc", D: d, Params: map[string]float64{"sigma": sigma},
		Corrupt: func(rng *rand.Rand, x, out []float64) {
			for i, v := range x {
				out[i] = v + sigma*rng.NormFloat64()
			}
		}}, nil
}

// BlockMask zeroes count squares of size×size pixels (all channels), each
// placed uniformly at random inside the image; squares may overlap. Its
// moments have no closed form in this package.
func BlockMask(shape data.Shape, size, count int) (MonteCarlo, error) {
	if err := checkShape(shape, shape.D()); err != nil {
		return MonteCarlo{}, err
	}
	if size < 1 || size > shape.H || size > shape.W {
		return MonteCarlo{}, fmt.Errorf("block mask: block of %dx%d does not fit the %dx%d image (want 1 ≤ size ≤ %d)", size, size, shape.H, shape.W, min(shape.H, shape.W))
	}
	if count < 1 {
		return MonteCarlo{}, fmt.Errorf("block mask: %d blocks, want at least 1", count)
	}
	return MonteCarlo{Name: "block", D: shape.D(), Params: map[string]float64{"size": float64(size), "count": float64(count)},
		Corrupt: func(rng *rand.Rand, x, out []float64) {
			copy(out, x)
			for n := 0; n < count; n++ {
				h0, w0 := rng.IntN(shape.H-size+1), rng.IntN(shape.W-size+1)
				for h := h0; h < h0+size; h++ {
					for w := w0; w < w0+size; w++ {
						for c := 0; c < shape.C; c++ {
							out[featureIndex(shape, h, w, c)] = 0
						}
					}
				}
			}
		}}, nil
}

// CropResize takes a random square-aspect crop covering a fraction of the
// image area drawn uniformly from [minScale, 1], at a uniform position, and
// resizes it back to H×W with bilinear interpolation (half-pixel centres,
// as torchvision's RandomResizedCrop with ratio 1).
func CropResize(shape data.Shape, minScale float64) (MonteCarlo, error) {
	if err := checkShape(shape, shape.D()); err != nil {
		return MonteCarlo{}, err
	}
	if !(minScale > 0 && minScale <= 1) {
		return MonteCarlo{}, fmt.Errorf("crop-resize: minimum area scale %g outside (0, 1]", minScale)
	}
	return MonteCarlo{Name: "crop", D: shape.D(), Params: map[string]float64{"min_scale": minScale},
		Corrupt: func(rng *rand.Rand, x, out []float64) {
			s := minScale + (1-minScale)*rng.Float64()
			ch := min(shape.H, max(1, int(math.Round(float64(shape.H)*math.Sqrt(s)))))
			cw := min(shape.W, max(1, int(math.Round(float64(shape.W)*math.Sqrt(s)))))
			h0, w0 := rng.IntN(shape.H-ch+1), rng.IntN(shape.W-cw+1)
			for h := 0; h < shape.H; h++ {
				sh, th := sourceCoord(h, shape.H, ch)
				for w := 0; w < shape.W; w++ {
					sw, tw := sourceCoord(w, shape.W, cw)
					for c := 0; c < shape.C; c++ {
						at := func(i, j int) float64 { return x[featureIndex(shape, h0+i, w0+j, c)] }
						i1, j1 := min(sh+1, ch-1), min(sw+1, cw-1)
						v := (1-th)*((1-tw)*at(sh, sw)+tw*at(sh, j1)) + th*((1-tw)*at(i1, sw)+tw*at(i1, j1))
						out[featureIndex(shape, h, w, c)] = v
					}
				}
			}
		}}, nil
}

// sourceCoord maps output pixel o of an axis of length n to the crop axis of
// length m: the lower neighbour and the interpolation weight of the upper.
func sourceCoord(o, n, m int) (int, float64) {
	f := (float64(o)+0.5)*float64(m)/float64(n) - 0.5
	if f <= 0 {
		return 0, 0
	}
	i := int(f)
	if i >= m-1 {
		return m - 1, 0
	}
	return i, f - float64(i)
}
