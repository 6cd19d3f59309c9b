package rsvd

import (
	"errors"
	"fmt"
	"io"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/engine"
)

// labelKind says what the rows' labels are.
type labelKind int

const (
	noLabels labelKind = iota
	classLabels
	denseTargets
)

// streamer runs passes over a source, applying the (centered) Gram A = XᵀX
// to a small D×m matrix per pass. It owns the one float64 chunk buffer.
type streamer struct {
	be        backend.Backend
	src       data.Source
	meta      data.Meta
	chunkRows int
	labels    labelKind
	c         int // columns of Y
	center    bool

	xbuf []float64
	tbuf []float64

	n    int       // rows seen by the first pass; later passes must match
	mean []float64 // the exact mean once the first pass is done (centering only)

	// stats, when set, holds the data's finalized moments (the explicit
	// Gram route): passes then apply Gx in memory instead of re-reading.
	stats *engine.Stats
}

// useGram reports whether one pass forming the D×D Gram (N·D² flops) beats
// `passes` streamed applications of it to D×l blocks (4·N·D·l flops each),
// with the Gram small enough to hold (1 GiB). An exact integer uint8 Gram
// counts at a quarter of its flops: BENCHMARKS.md measures it at 4.3× the
// machine's float64 GEMM rate (499 against 115 GFLOP/s on the 2-core
// machine), and the streamed passes are float64 GEMMs.
func useGram(d, l, passes int, exactU8 bool) bool {
	cost := float64(d)
	if exactU8 {
		cost /= 4
	}
	return float64(d)*float64(d)*8 <= 1<<30 && cost < float64(4*passes*l)
}

// formGram makes the one pass of the explicit Gram route.
func (s *streamer) formGram() error {
	m, err := engine.NewMoments(s.meta.D, s.c)
	if err != nil {
		return err
	}
	err = data.Each(s.src, s.chunkRows, func(b data.Batch) error {
		if s.labels == noLabels {
			b.Labels, b.Targets = nil, nil
		}
		if err := m.Add(s.be, b); err != nil {
			return fmt.Errorf("rsvd: %s: %w", s.meta.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if m.N == 0 {
		return fmt.Errorf("rsvd: %s delivered no rows", s.meta.Name)
	}
	if s.stats, err = m.Finalize(s.center); err != nil {
		return err
	}
	s.n = m.N
	if s.center {
		s.mean = s.stats.MeanX
	}
	return nil
}

// passFromStats is pass on the explicit Gram: A·R = Gx·R, Yᵀ·X_c·R = M·R.
func (s *streamer) passFromStats(r blas64.General, fullM bool) (*passResult, error) {
	st := s.stats
	res := &passResult{AR: backend.NewGeneral(st.D, r.Cols)}
	if err := s.be.Gemm(blas.NoTrans, blas.NoTrans, 1, st.Gx, r, 0, res.AR); err != nil {
		return nil, err
	}
	for i := 0; i < st.D; i++ {
		res.trace += st.Gx.Data[i*st.Gx.Stride+i]
	}
	if s.labels != noLabels {
		res.YR = backend.NewGeneral(s.c, r.Cols)
		if err := s.be.Gemm(blas.NoTrans, blas.NoTrans, 1, st.M, r, 0, res.YR); err != nil {
			return nil, err
		}
		res.YY = st.Gy
		if fullM {
			res.M = st.M
		}
	}
	return res, nil
}

// passResult holds one pass's sums, already corrected to the final
// centering: AR = A·R, and with labels YR = Yᵀ·X_c·R, YY = YᵀY (never
// centered: the gram form uses the raw YYᵀ, as engine.Stats.Gy does) and M = Yᵀ·X_c in full when asked for.
type passResult struct {
	AR    blas64.General
	YR    blas64.General
	YY    blas64.General
	M     blas64.General
	trace float64 // tr(A)
}

// defaultChunkBytes bounds the float64 copy of one chunk.
const defaultChunkBytes = 32 << 20

func newStreamer(be backend.Backend, src data.Source, chunkRows int, center, wantLabels bool) (*streamer, error) {
	if be == nil {
		return nil, errors.New("rsvd: no backend given")
	}
	if src == nil {
		return nil, errors.New("rsvd: no data source given")
	}
	m := src.Meta()
	switch {
	case m.N < 1:
		return nil, fmt.Errorf("rsvd: %s holds %d samples: need at least one", m.Name, m.N)
	case m.D < 1:
		return nil, fmt.Errorf("rsvd: %s has %d features per sample: need at least one", m.Name, m.D)
	case chunkRows < 0:
		return nil, fmt.Errorf("rsvd: %w", &engine.OptionError{Option: "ChunkRows", Value: chunkRows, Want: "≥ 1, or 0 for automatic"})
	}
	if chunkRows == 0 {
		chunkRows = min(m.N, data.ChunkRowsFor(m.D, defaultChunkBytes))
	}
	s := &streamer{be: be, src: src, meta: m, chunkRows: chunkRows, center: center}
	if s.c = m.Columns(); !wantLabels {
		s.c = 0
	}
	switch {
	case s.c > 0 && m.Targets > 0:
		s.labels = denseTargets
	case s.c > 0:
		s.labels = classLabels
	}
	return s, nil
}

// pass computes A·R for the D×m matrix r in one pass over the data. With
// fullM it also accumulates M = Yᵀ·X_c (C×D).
func (s *streamer) pass(r blas64.General, fullM bool) (*passResult, error) {
	d := s.meta.D
	m := r.Cols
	if r.Rows != d {
		panic(fmt.Sprintf("rsvd: pass with a %d×%d right-hand side, want %d rows", r.Rows, r.Cols, d))
	}
	if s.stats != nil {
		return s.passFromStats(r, fullM)
	}
	ar := backend.NewGeneral(d, m)
	var yr, yy, mfull blas64.General
	var ysum []float64
	if s.labels != noLabels {
		yr = backend.NewGeneral(s.c, m)
		yy = backend.NewGeneral(s.c, s.c)
		ysum = make([]float64, s.c)
		if fullM {
			mfull = backend.NewGeneral(s.c, d)
		}
	}
	colSum := make([]float64, d) // Σ(x − shift)
	var sumSq float64            // Σ‖x − shift‖²

	rd, err := s.src.Open(s.chunkRows)
	if err != nil {
		return nil, fmt.Errorf("rsvd: %s: %w", s.meta.Name, err)
	}
	defer rd.Close()
	var shift []float64
	if s.center {
		shift = s.mean // nil in the first pass: set from its first chunk below
	}
	n := 0
	for {
		b, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rsvd: %s: %w", s.meta.Name, err)
		}
		x := b.X
		if x.N == 0 {
			continue
		}
		if x.D != d {
			return nil, fmt.Errorf("rsvd: %s delivered rows of %d features after %d rows; its metadata says %d", s.meta.Name, x.D, n, d)
		}
		if s.center && shift == nil {
			// A provisional shift (this chunk's mean) keeps the first pass's
			// sums small when the data sit far from the origin; the exact
			// mean, known after the pass, is corrected for below.
			shift = make([]float64, d)
			chunkMean(x, shift)
		}
		if need := x.N * d; cap(s.xbuf) < need {
			s.xbuf = make([]float64, need)
		}
		xf := blas64.General{Rows: x.N, Cols: d, Stride: d, Data: x.Float64(s.xbuf, shift)}
		for i := 0; i < x.N; i++ {
			row := xf.Data[i*d : (i+1)*d]
			for j, v := range row {
				colSum[j] += v
				sumSq += v * v
			}
		}
		if need := x.N * m; cap(s.tbuf) < need {
			s.tbuf = make([]float64, need)
		}
		t := blas64.General{Rows: x.N, Cols: m, Stride: m, Data: s.tbuf[:x.N*m]}
		if err := s.be.Gemm(blas.NoTrans, blas.NoTrans, 1, xf, r, 0, t); err != nil {
			return nil, err
		}
		if err := s.be.Gemm(blas.Trans, blas.NoTrans, 1, xf, t, 1, ar); err != nil {
			return nil, err
		}
		if s.labels != noLabels {
			if err := s.addLabels(b, n, xf, t, yr, yy, mfull, ysum); err != nil {
				return nil, err
			}
		}
		n += x.N
	}
	if n == 0 {
		return nil, fmt.Errorf("rsvd: %s delivered no rows", s.meta.Name)
	}
	if s.n == 0 {
		s.n = n
	} else if n != s.n {
		return nil, fmt.Errorf("rsvd: %s delivered %d rows in one pass and %d in another: the source must repeat itself", s.meta.Name, s.n, n)
	}
	res := &passResult{AR: ar, YR: yr, YY: yy, M: mfull, trace: sumSq}
	if !s.center {
		return res, nil
	}
	// With δ = Σ(x − shift)/n = μ − shift, the centered sums are
	// Σ(x−μ)(x−μ)ᵀR = Σ(x−s)(x−s)ᵀR − n·δ(δᵀR), Yᵀ(X−1μᵀ)R = Yᵀ(X−1sᵀ)R − ysum(δᵀR).
	delta := make([]float64, d)
	for j := range delta {
		delta[j] = colSum[j] / float64(n)
	}
	if s.mean == nil {
		s.mean = make([]float64, d)
		for j := range delta {
			s.mean[j] = shift[j] + delta[j]
		}
	}
	dr := make([]float64, m) // δᵀR
	var dd float64
	for j, dj := range delta {
		dd += dj * dj
		row := r.Data[j*r.Stride : j*r.Stride+m]
		for c, v := range row {
			dr[c] += dj * v
		}
	}
	res.trace = sumSq - float64(n)*dd
	for j, dj := range delta {
		row := ar.Data[j*ar.Stride : j*ar.Stride+m]
		for c := range row {
			row[c] -= float64(n) * dj * dr[c]
		}
	}
	if s.labels != noLabels {
		for k, yk := range ysum {
			row := yr.Data[k*yr.Stride : k*yr.Stride+m]
			for c := range row {
				row[c] -= yk * dr[c]
			}
			if fullM {
				mrow := mfull.Data[k*mfull.Stride : k*mfull.Stride+d]
				for j := range mrow {
					mrow[j] -= yk * delta[j]
				}
			}
		}
	}
	return res, nil
}

// addLabels adds one chunk's label sums: YᵀT, YᵀY, Σy and (when asked) YᵀX.
func (s *streamer) addLabels(b data.Batch, row0 int, xf, t, yr, yy, mfull blas64.General, ysum []float64) error {
	n, d, m := xf.Rows, xf.Cols, t.Cols
	switch s.labels {
	case classLabels:
		if len(b.Labels) != n {
			return fmt.Errorf("rsvd: %s declares %d classes but delivered %d labels for %d rows (at row %d)", s.meta.Name, s.c, len(b.Labels), n, row0)
		}
		for i, c := range b.Labels {
			if c < 0 || c >= s.c {
				return fmt.Errorf("rsvd: %s: label %d of row %d is outside [0, %d)", s.meta.Name, c, row0+i, s.c)
			}
			dst := yr.Data[c*yr.Stride : c*yr.Stride+m]
			for k, v := range t.Data[i*m : (i+1)*m] {
				dst[k] += v
			}
			ysum[c]++
			yy.Data[c*yy.Stride+c]++
			if mfull.Rows > 0 {
				dst := mfull.Data[c*mfull.Stride : c*mfull.Stride+d]
				for j, v := range xf.Data[i*d : (i+1)*d] {
					dst[j] += v
				}
			}
		}
	case denseTargets:
		if len(b.Targets) != n*s.c {
			return fmt.Errorf("rsvd: %s declares %d target columns but delivered %d values for %d rows (at row %d)", s.meta.Name, s.c, len(b.Targets), n, row0)
		}
		y := blas64.General{Rows: n, Cols: s.c, Stride: s.c, Data: b.Targets}
		if err := s.be.Gemm(blas.Trans, blas.NoTrans, 1, y, t, 1, yr); err != nil {
			return err
		}
		if err := s.be.Gemm(blas.Trans, blas.NoTrans, 1, y, y, 1, yy); err != nil {
			return err
		}
		if mfull.Rows > 0 {
			if err := s.be.Gemm(blas.Trans, blas.NoTrans, 1, y, xf, 1, mfull); err != nil {
				return err
			}
		}
		for i := 0; i < n; i++ {
			for k, v := range b.Targets[i*s.c : (i+1)*s.c] {
				ysum[k] += v
			}
		}
	}
	return nil
}

// chunkMean writes the column means of x into dst.
func chunkMean(x backend.Chunk, dst []float64) {
	row := make([]float64, x.D)
	for i := range dst {
		dst[i] = 0
	}
	for i := 0; i < x.N; i++ {
		x.Rows(i, i+1).Float64(row, nil)
		for j, v := range row {
			dst[j] += v
		}
	}
	for j := range dst {
		dst[j] /= float64(x.N)
	}
}
