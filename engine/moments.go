package engine

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/kernels/cpu"
)

// Moments accumulates the sufficient statistics of a labelled dataset in one
// pass: Σ(x−s)(x−s)ᵀ, Σ(x−s), Σy(x−s)ᵀ, Σyyᵀ, Σy and n, where s is a
// provisional mean fixed by the first chunk. Shifting before accumulating is
// what keeps the centred Gram accurate when the mean is large against the
// spread (subtracting n·μμᵀ after the fact cancels catastrophically). For
// uint8 data the shift is rounded to integers so every product stays an exact
// integer in float64 and the uncentred Gram is exact too.
//
// Partial Moments from different chunks, goroutines or machines combine with
// Merge; the result does not depend on how the data were split beyond rounding.
type Moments struct {
	D, C  int       // features, and target columns (classes for integer labels)
	N     int       // samples seen
	Shift []float64 // provisional mean s (nil until the first chunk)
	G     blas64.General
	Sx    []float64
	M     blas64.General // C×D: Σ y (x−s)ᵀ
	Gy    blas64.General // C×C: Σ y yᵀ
	Sy    []float64
	// Integer is true when the shift is integral (uint8 data), so the
	// uncentred moments are reconstructed exactly.
	Integer bool
	// Backend is the backend that accumulated them (set by Engine.Moments).
	Backend backend.Info

	buf  []float64
	isum []int32 // per-label pixel sums of the current uint8 chunk
	// streaming is set by Engine.Moments while a GramStreamer backend holds
	// the Gram on its device; GramEnd then adds it into G.
	streaming bool
	// released is set once Release has handed G over to a Stats.
	released bool
	// shared is set on the moments a MomentsSource hands to every analysis
	// of its file: Release then copies the Gram as Finalize does, so that
	// one analysis cannot spend what the next one reads.
	shared bool
}

// errReleased is what a Moments says after Release has handed its Gram over.
var errReleased = errors.New("moments: the accumulator was released to its Stats (Release); accumulate into a new Moments")

// NewMoments returns an empty accumulator for d features and c target columns
// (c = number of classes for integer labels; 0 for unlabelled data).
func NewMoments(d, c int) (*Moments, error) {
	if d < 1 {
		return nil, fmt.Errorf("moments: need at least one feature, got D = %d", d)
	}
	if c < 0 {
		return nil, fmt.Errorf("moments: negative number of target columns %d", c)
	}
	if float64(d)*float64(d) > 1<<33 {
		return nil, fmt.Errorf("moments: %w: a %d×%d Gram needs %.0f GB (package rsvd finds the top-k pairs at any D)", ErrGramTooLarge, d, d, float64(d)*float64(d)*8/1e9)
	}
	return &Moments{
		D: d, C: c,
		G:  backend.NewGeneral(d, d),
		Sx: make([]float64, d),
		M:  backend.NewGeneral(c, d),
		Gy: backend.NewGeneral(c, c),
		Sy: make([]float64, c),
	}, nil
}

// Add accumulates one batch: rows in b.X and, when the accumulator has target
// columns, either b.Labels (integers in [0, C)) or b.Targets (N×C dense).
func (m *Moments) Add(be backend.Backend, b data.Batch) error {
	if m.released {
		return errReleased
	}
	x := b.X
	if x.D != m.D {
		return fmt.Errorf("moments: chunk has %d features, accumulator expects %d", x.D, m.D)
	}
	if x.N == 0 {
		return nil
	}
	if m.C > 0 {
		switch {
		case b.Labels != nil:
			if len(b.Labels) != x.N {
				return fmt.Errorf("moments: %d labels for %d rows", len(b.Labels), x.N)
			}
			for i, l := range b.Labels {
				if l < 0 || l >= m.C {
					return fmt.Errorf("moments: label %d of row %d is outside [0, %d)", l, m.N+i, m.C)
				}
			}
		case b.Targets != nil:
			if len(b.Targets) != x.N*m.C {
				return fmt.Errorf("moments: %d target values for %d rows × %d columns", len(b.Targets), x.N, m.C)
			}
		default:
			return fmt.Errorf("moments: accumulator expects %d target columns but the batch has no labels or targets", m.C)
		}
	}
	if m.Shift == nil {
		m.Shift, m.Integer = provisionalMean(x)
	}
	d := m.D
	// Two ways through, by what the Gram can use. uint8 pixels with their
	// integral shift go to the backend as they are (a GPU uploads the compact
	// chunk; a CPU backend may take the exact integer route), and their sums
	// are taken in integers. Anything else is shifted into float64 rows once,
	// and those rows feed both the sums and the Gram.
	gram := backend.Chunk{N: x.N, D: d}
	var xs []float64
	if x.DType() == backend.U8 && m.Integer && b.Targets == nil {
		m.integerSums(x, b.Labels)
		gram = x
	} else {
		if cap(m.buf) < x.N*x.D {
			m.buf = make([]float64, x.N*x.D)
		}
		xs = m.shiftedSums(x, b.Labels)
		gram.F64 = xs
	}
	if s, ok := be.(backend.GramStreamer); ok && m.streaming {
		if err := s.GramChunk(x, m.Shift); err != nil {
			return err
		}
	} else {
		shift := m.Shift
		if gram.F64 != nil {
			shift = nil // already applied
		}
		if err := be.GramAdd(m.G, gram, shift); err != nil {
			return err
		}
	}
	if b.Targets != nil && m.C > 0 {
		y := blas64.General{Rows: x.N, Cols: m.C, Stride: m.C, Data: b.Targets}
		xg := blas64.General{Rows: x.N, Cols: d, Stride: d, Data: xs}
		if err := be.Gemm(blas.Trans, blas.NoTrans, 1, y, xg, 1, m.M); err != nil {
			return err
		}
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, y, y, 1, m.Gy)
		for i := 0; i < x.N; i++ {
			for c, v := range b.Targets[i*m.C : (i+1)*m.C] {
				m.Sy[c] += v
			}
		}
	}
	m.N += x.N
	return nil
}

// shiftedSums writes the chunk minus the shift into m.buf as float64 rows
// and, in the same pass, adds them to Σ(x−s) and to the label rows of
// Σy(x−s)ᵀ (with the label counts). It returns the shifted rows.
func (m *Moments) shiftedSums(x backend.Chunk, labels []int) []float64 {
	d := m.D
	xs := m.buf[:x.N*d]
	shift, sx := m.Shift, m.Sx
	for i := 0; i < x.N; i++ {
		row := xs[i*d : (i+1)*d : (i+1)*d]
		switch x.DType() {
		case backend.U8:
			for j, v := range x.U8[i*d : (i+1)*d] {
				row[j] = float64(v) - shift[j]
			}
		case backend.F32:
			for j, v := range x.F32[i*d : (i+1)*d] {
				row[j] = float64(v) - shift[j]
			}
		default:
			for j, v := range x.F64[i*d : (i+1)*d] {
				row[j] = v - shift[j]
			}
		}
		for j, v := range row {
			sx[j] += v
		}
		if labels != nil && m.C > 0 {
			l := labels[i]
			mr := m.M.Data[l*d : (l+1)*d : (l+1)*d]
			for j, v := range row {
				mr[j] += v
			}
			m.Gy.Data[l*m.C+l]++
			m.Sy[l]++
		}
	}
	return xs
}

// integerSums adds a uint8 chunk to Σ(x−s) and to the label rows of
// Σy(x−s)ᵀ (with the label counts): pixels are summed per label in int32
// (kernels/cpu.AddBytes, a vector add per row) and the integral shift is
// applied once per column, which is exact.
func (m *Moments) integerSums(x backend.Chunk, labels []int) {
	d := m.D
	rows := max(m.C, 1)
	if cap(m.isum) < rows*d {
		m.isum = make([]int32, rows*d)
	}
	acc := m.isum[:rows*d]
	counts := make([]int64, rows)
	labelled := labels != nil && m.C > 0
	// int32 holds the sum of 2²³ rows of bytes; fold before that.
	const fold = 1 << 22
	for r0 := 0; r0 < x.N; r0 += fold {
		clear(acc)
		clear(counts)
		r1 := min(r0+fold, x.N)
		for i := r0; i < r1; i++ {
			l := 0
			if labelled {
				l = labels[i]
			}
			counts[l]++
			cpu.AddBytes(acc[l*d:(l+1)*d], x.U8[i*d:(i+1)*d])
		}
		for l := 0; l < rows; l++ {
			cnt := float64(counts[l])
			for j, v := range acc[l*d : (l+1)*d] {
				shifted := float64(v) - cnt*m.Shift[j]
				m.Sx[j] += shifted
				if labelled {
					m.M.Data[l*d+j] += shifted
				}
			}
			if labelled {
				m.Gy.Data[l*m.C+l] += cnt
				m.Sy[l] += cnt
			}
		}
	}
}

// provisionalMean is the mean of the first chunk, rounded to integers for
// uint8 data so that shifted values stay exact.
func provisionalMean(x backend.Chunk) ([]float64, bool) {
	s := make([]float64, x.D)
	row := make([]float64, x.D)
	for i := 0; i < x.N; i++ {
		x.Rows(i, i+1).Float64(row, nil)
		for j, v := range row {
			s[j] += v
		}
	}
	integer := x.DType() == backend.U8
	for j := range s {
		s[j] /= float64(x.N)
		if integer {
			s[j] = math.Round(s[j])
		}
	}
	return s, integer
}

// Merge adds the partial moments o into m. Shifts may differ: o is re-expressed
// around m's shift first (exactly, for integer shifts).
func (m *Moments) Merge(o *Moments) error {
	if m.released || o.released {
		return errReleased
	}
	if o.D != m.D || o.C != m.C {
		return fmt.Errorf("moments: cannot merge D=%d, C=%d into D=%d, C=%d", o.D, o.C, m.D, m.C)
	}
	if o.N == 0 {
		return nil
	}
	if m.N == 0 {
		m.Shift = append([]float64(nil), o.Shift...)
		m.Integer = o.Integer
	}
	d, c := m.D, m.C
	// x − s_m = (x − s_o) + δ with δ = s_o − s_m.
	delta := make([]float64, d)
	for j := range delta {
		delta[j] = o.Shift[j] - m.Shift[j]
	}
	n := float64(o.N)
	for i := 0; i < d; i++ {
		gi := m.G.Data[i*d : (i+1)*d]
		oi := o.G.Data[i*d : (i+1)*d]
		for j := i; j < d; j++ {
			gi[j] += oi[j] + o.Sx[i]*delta[j] + delta[i]*o.Sx[j] + n*delta[i]*delta[j]
		}
	}
	for j := range m.Sx {
		m.Sx[j] += o.Sx[j] + n*delta[j]
	}
	for k := 0; k < c; k++ {
		mr := m.M.Data[k*d : (k+1)*d]
		or := o.M.Data[k*d : (k+1)*d]
		for j := range mr {
			mr[j] += or[j] + o.Sy[k]*delta[j]
		}
		m.Sy[k] += o.Sy[k]
	}
	for i := range m.Gy.Data {
		m.Gy.Data[i] += o.Gy.Data[i]
	}
	m.N += o.N
	m.Integer = m.Integer && o.Integer
	return nil
}

// Stats are finalized moments: full symmetric matrices, centred or not.
type Stats struct {
	N, D, C  int
	Centered bool
	Gx       blas64.General // D×D: XᵀX, or X_cᵀX_c when centred
	M        blas64.General // C×D: YᵀX, or YᵀX_c when centred (= Y_cᵀX_c)
	Gy       blas64.General // C×C: YᵀY, never centred (see AlignmentCurve)
	MeanX    []float64
	MeanY    []float64

	// spendable is set by Release: the first eigendecomposition may use Gx
	// as its workspace (no D×D copy), after which gxSpent is set.
	spendable, gxSpent bool
}

// gramForEigen returns the D×D Gram as the input of an eigendecomposition,
// which overwrites it: Gx itself, once, when Release handed it over (at
// D = 12,288 a copy is 1.2 GB), else a copy.
func (st *Stats) gramForEigen() (blas64.General, error) {
	if st.gxSpent {
		return blas64.General{}, fmt.Errorf("moments: the %d×%d Gram of these Stats was used up by an earlier eigendecomposition (Release hands it over once); finalize with Finalize to use it again", st.D, st.D)
	}
	if st.spendable {
		st.gxSpent = true
		g := st.Gx
		st.Gx = blas64.General{}
		return g, nil
	}
	return backend.Clone(st.Gx), nil
}

// GramForEigen is gramForEigen for eigendecompositions outside the engine
// (closedform.NewSpectrum keeps all D eigenvectors): released moments hand
// their Gram over once, without the D×D copy.
func (st *Stats) GramForEigen() (blas64.General, error) { return st.gramForEigen() }

// Finalize turns the accumulated sums into Stats. Centering removes the mean
// of X only: the targets enter the paper's quantities through Yᵀq with q
// orthogonal to the constant vector when X is centred, which is the same for
// Y and Y_c, while YYᵀ keeps its uncentred meaning.
//
// Integer moments are first re-expressed, exactly, around the rounded mean
// of all the data (see Reshift): the provisional shift of the first chunk
// depends on how the data were chunked, split among machines and merged,
// and the centring below rounds differently around different shifts.
// Around the data's own rounded mean the result is a function of the data
// alone — the same bits from any chunk size, merge order, moments file or
// pipeline — and the residual mean e is at most ½, so n·e·eᵀ is as small
// as it can be.
func (m *Moments) Finalize(center bool) (*Stats, error) {
	return m.finalize(center, false)
}

// Release is Finalize without the D×D copy: the accumulator's Gram becomes
// the Stats' Gx, and the first eigendecomposition of the Stats
// (AlignmentCurve, ProjectStats, EighStats) uses it as its workspace. m is
// spent afterwards, and the Stats serve one eigendecomposition. This is what
// keeps the peak memory of a D = 12,288 alignment near one Gram. Moments
// shared by a MomentsSource are copied instead, as by Finalize.
func (m *Moments) Release(center bool) (*Stats, error) {
	return m.finalize(center, true)
}

func (m *Moments) finalize(center, release bool) (*Stats, error) {
	if m.released {
		return nil, errReleased
	}
	if m.N == 0 {
		return nil, fmt.Errorf("moments: no samples were accumulated")
	}
	if m.Integer {
		if err := m.Reshift(m.roundedMean()); err != nil {
			return nil, err
		}
	}
	d, c := m.D, m.C
	n := float64(m.N)
	st := &Stats{N: m.N, D: d, C: c, Centered: center,
		M: backend.NewGeneral(c, d), Gy: backend.NewGeneral(c, c),
		MeanX: make([]float64, d), MeanY: make([]float64, c)}
	release = release && !m.shared
	if release {
		// Each entry below is computed from the same entry of G.
		st.Gx, st.spendable = m.G, true
		m.G, m.released = blas64.General{}, true
	} else {
		st.Gx = backend.NewGeneral(d, d)
	}
	e := make([]float64, d) // mean of x − s
	for j := range e {
		e[j] = m.Sx[j] / n
		st.MeanX[j] = m.Shift[j] + e[j]
	}
	for k := range st.MeanY {
		st.MeanY[k] = m.Sy[k] / n
	}
	copy(st.Gy.Data, m.Gy.Data)
	g := m.G
	if release {
		g = st.Gx
	}
	for i := 0; i < d; i++ {
		gi := g.Data[i*d : (i+1)*d]
		out := st.Gx.Data[i*d : (i+1)*d]
		for j := i; j < d; j++ {
			if center {
				// Σ(x−μ)(x−μ)ᵀ = Σ(x−s)(x−s)ᵀ − n·e·eᵀ; e is small, so little cancels.
				out[j] = gi[j] - n*e[i]*e[j]
			} else {
				s := m.Shift
				out[j] = gi[j] + m.Sx[i]*s[j] + s[i]*m.Sx[j] + n*s[i]*s[j]
			}
		}
	}
	backend.Symmetrize(st.Gx)
	for k := 0; k < c; k++ {
		mr := m.M.Data[k*d : (k+1)*d]
		out := st.M.Data[k*d : (k+1)*d]
		for j := range out {
			if center {
				out[j] = mr[j] - m.Sy[k]*e[j]
			} else {
				out[j] = mr[j] + m.Sy[k]*m.Shift[j]
			}
		}
	}
	return st, nil
}

// MaxExactU8Rows is the most uint8 samples whose moments stay exact: every
// entry of XᵀX is at most n·255², and the re-expressions between shifts
// (Reshift, Finalize) add up to four such terms, all of which must stay
// below 2⁵³ to be exact integers in float64.
const MaxExactU8Rows = (1 << 53) / (4 * 255 * 255)

// roundedMean is the mean of all the data seen, rounded to integers:
// Σx = Σ(x−s) + n·s exactly for integer moments.
func (m *Moments) roundedMean() []float64 {
	n := float64(m.N)
	s := make([]float64, m.D)
	for j := range s {
		s[j] = math.Round((m.Sx[j] + n*m.Shift[j]) / n)
	}
	return s
}

// Reshift re-expresses the accumulated moments around the shift s instead
// of m.Shift: with δ = m.Shift − s, x − s = (x − m.Shift) + δ. Integer
// moments moved to an integral shift stay exact (the Gram and the sums are
// updated in int64; an entry that would reach 2⁵³ is an error); any other
// move rounds as Merge does. Moving integer moments to the zero shift gives
// the raw sums XᵀX, Σx and YᵀX.
func (m *Moments) Reshift(s []float64) error {
	if len(s) != m.D {
		return fmt.Errorf("moments: shift of %d values for D = %d", len(s), m.D)
	}
	if m.N == 0 || m.Shift == nil {
		m.Shift = append([]float64(nil), s...)
		return nil
	}
	d := m.D
	delta := make([]float64, d)
	moved := false
	for j := range delta {
		delta[j] = m.Shift[j] - s[j]
		moved = moved || delta[j] != 0
	}
	if !moved {
		return nil
	}
	exact := m.Integer && cpu.IntegralShift(s)
	n := float64(m.N)
	if exact {
		const limit = 1 << 53
		ni := int64(m.N)
		di := make([]int64, d)
		sx := make([]int64, d)
		for j := range di {
			di[j] = int64(delta[j])
			sx[j] = int64(m.Sx[j])
		}
		for i := 0; i < d; i++ {
			gi := m.G.Data[i*d : (i+1)*d]
			for j := i; j < d; j++ {
				g := int64(gi[j]) + sx[i]*di[j] + di[i]*sx[j] + ni*di[i]*di[j]
				if g >= limit || g <= -limit {
					return fmt.Errorf("moments: entry (%d, %d) of the Gram reaches %d ≥ 2⁵³ around the new shift: integer moments of %d samples are no longer exact", i, j, g, m.N)
				}
				gi[j] = float64(g)
			}
		}
	} else {
		for i := 0; i < d; i++ {
			gi := m.G.Data[i*d : (i+1)*d]
			for j := i; j < d; j++ {
				gi[j] += m.Sx[i]*delta[j] + delta[i]*m.Sx[j] + n*delta[i]*delta[j]
			}
		}
	}
	for k := 0; k < m.C; k++ {
		mr := m.M.Data[k*d : (k+1)*d]
		for j := range mr {
			mr[j] += m.Sy[k] * delta[j]
		}
	}
	for j := range m.Sx {
		m.Sx[j] += n * delta[j]
	}
	m.Shift = append(m.Shift[:0], s...)
	m.Integer = exact
	return nil
}
