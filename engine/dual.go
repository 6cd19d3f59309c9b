package engine

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/data"
	"github.com/reconalign/reconalign/kernels/cpu"
	"github.com/reconalign/reconalign/spectral"
)

// The dual route for uint8 data. When N < D the Gram worth decomposing is
// the N×N K = XXᵀ, and for pixels K is an integer matrix: the backends'
// exact uint8 Gram computes it without rounding from X kept as bytes, so
// the data cost one byte a value in memory instead of eight. Centring is
// H·K·H (H = I − 11ᵀ/n) from K's exact integer row sums, and the alignment
// needs only the sample-space eigenvectors q_j of K and the targets:
// Yᵀq_j is a C×N by N×r product, so nothing D-sized is formed after K.

// dualBlockBytes is the size of one transposed block of features fed to
// the exact Gram: big enough that the kernel's fixed costs per call (packing
// and flushing the N×N partial sums) are small against its N²·rows
// products, small against the data it is a block of.
const dualBlockBytes = 32 << 20

// dualFloatBlockValues bounds a block where the backend converts uint8 to
// float64 (a CPU without AVX2, or a GPU): its float64 copy is 8 bytes a value.
const dualFloatBlockValues = 4 << 20

// dualBytes is what the dual route holds in memory: the data (uint8 stays
// one byte a value, other types are read as float64) and the N×N Gram.
func dualBytes(n, d, elemBytes int) float64 {
	fn, fd := float64(n), float64(d)
	return float64(elemBytes)*fn*fd + 8*fn*fn
}

// dualElemBytes is the size of one value on the engine's dual route.
func dualElemBytes(meta data.Meta) int {
	if meta.DType == backend.U8 {
		return 1
	}
	return 8
}

// GramDualU8 returns K = XXᵀ (N×N, both triangles) of the uint8 rows of x,
// exact: every entry is an integer below D·255² and float64 holds it
// exactly. K is the Gram of Xᵀ, so the backend's GramAdd is fed blocks of
// Xᵀ (features as rows), transposed from x a cache-sized tile at a time;
// on the CPU backends a uint8 GramAdd takes the exact integer kernel.
func GramDualU8(be backend.Backend, x backend.Chunk, workers int) (blas64.General, error) {
	if x.DType() != backend.U8 {
		return blas64.General{}, fmt.Errorf("dual Gram: want uint8 rows, got %v", x.DType())
	}
	x.Check()
	n := max(x.N, 1)
	rows := dualBlockBytes / n
	if ex, ok := be.(backend.ExactU8Gram); !ok || !ex.ExactU8Gram() {
		rows = dualFloatBlockValues / n
	}
	// Whole quads of rows keep the kernel's packing on its fast path.
	return gramDualU8(be, x, workers, max(4, rows/4*4))
}

// gramDualU8 is GramDualU8 with blocks of the given number of features.
func gramDualU8(be backend.Backend, x backend.Chunk, workers, rows int) (blas64.General, error) {
	n, d := x.N, x.D
	k := backend.NewGeneral(n, n)
	if n == 0 || d == 0 {
		return k, nil
	}
	rows = min(d, rows)
	t := make([]uint8, rows*n)
	for f0 := 0; f0 < d; f0 += rows {
		f1 := min(d, f0+rows)
		tb := t[:(f1-f0)*n]
		cpu.TransposeU8(tb, x.U8, n, d, f0, f1, workers)
		if err := be.GramAdd(k, backend.Chunk{N: f1 - f0, D: n, U8: tb}, nil); err != nil {
			return blas64.General{}, fmt.Errorf("dual Gram, features %d..%d: %w", f0, f1, err)
		}
	}
	backend.Symmetrize(k)
	return k, nil
}

// centerGram replaces the symmetric Gram k = XXᵀ of n samples by the Gram
// of the centred samples, H·K·H:
//
//	K̃_ij = K_ij − r_i/n − r_j/n + t/n²,   r_i = Σ_j K_ij,  t = Σ_i r_i.
//
// When the mean is large against the spread these terms are all much larger
// than K̃_ij, so a float64 evaluation would lose their common digits. An
// integer K (uint8 data) is centred exactly instead: with r_i = n·q_i + ρ_i
// and t = n²·T + τ (0 ≤ ρ_i < n, 0 ≤ τ < n²),
//
//	K̃_ij = (K_ij − q_i − q_j + T) + (τ − n·ρ_i − n·ρ_j)/n²,
//
// an exact integer plus a fraction of magnitude below 3, so each K̃_ij is
// within a rounding or two of its exact value. A K that is not integral
// (float data, a reduced-precision GPU Gram) is centred in float64.
func centerGram(k blas64.General) {
	n := k.Rows
	if n == 0 {
		return
	}
	r := make([]int64, n)
	for i := 0; i < n; i++ {
		s := int64(0)
		for _, v := range k.Data[i*k.Stride : i*k.Stride+n] {
			if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
				centerGramFloat(k)
				return
			}
			s += int64(v)
		}
		r[i] = s
	}
	nn := int64(n)
	q := make([]int64, n)
	rho := make([]int64, n)
	var sq, srho int64
	for i, v := range r {
		q[i], rho[i] = floorDiv(v, nn)
		sq += q[i]
		srho += rho[i]
	}
	// t = n·Σq + Σρ = n²·q1 + (n·q0 + Σρ), with n·q0 + Σρ < 2n².
	q1, q0 := floorDiv(sq, nn)
	tq, tau := floorDiv(nn*q0+srho, nn*nn)
	T := q1 + tq
	n2 := float64(nn * nn)
	for i := 0; i < n; i++ {
		row := k.Data[i*k.Stride : i*k.Stride+n]
		for j, v := range row {
			whole := int64(v) - q[i] - q[j] + T
			frac := tau - nn*rho[i] - nn*rho[j]
			row[j] = float64(whole) + float64(frac)/n2
		}
	}
}

// floorDiv returns the floor of a/b and the remainder a − b·floor(a/b),
// which lies in [0, b) for b > 0.
func floorDiv(a, b int64) (int64, int64) {
	q, m := a/b, a%b
	if m < 0 {
		q--
		m += b
	}
	return q, m
}

// centerGramFloat is centerGram for a Gram whose entries are not integers:
// the same formula in float64.
func centerGramFloat(k blas64.General) {
	n := k.Rows
	r := make([]float64, n)
	t := 0.0
	for i := 0; i < n; i++ {
		s := 0.0
		for _, v := range k.Data[i*k.Stride : i*k.Stride+n] {
			s += v
		}
		r[i] = s / float64(n)
		t += s
	}
	t /= float64(n) * float64(n)
	for i := 0; i < n; i++ {
		row := k.Data[i*k.Stride : i*k.Stride+n]
		for j := range row {
			row[j] = row[j] - r[i] - r[j] + t
		}
	}
}

// dualProject returns every eigenvalue of the dual Gram k (N×N, destroyed),
// descending, and the projections P = M·U (C×N) of the rows of m on its
// eigenvectors, which for the dual Gram are the sample-space directions q_j
// themselves, without forming U where package spectral's route is cheaper;
// route says which way it went.
func dualProject(be backend.Backend, k, m blas64.General) ([]float64, blas64.General, string, error) {
	res, err := spectral.Project(be, k, m, SpectralOptions(be))
	if err != nil {
		return nil, blas64.General{}, "", fmt.Errorf("eigendecomposition of the %d×%d dual Gram: %w", k.Rows, k.Rows, err)
	}
	return res.Values, res.P, res.Route, nil
}

// loadDualU8 reads a uint8 source into memory as it is (one byte a value)
// with its targets as a C×N matrix Yᵀ (one-hot columns for integer labels;
// no rows when the source has none). Batches are copied straight from the
// reader, in chunks of a few megabytes, so the peak is the data plus one
// chunk; data already in memory are used where they are.
func (e *Engine) loadDualU8(src data.Source) (backend.Chunk, blas64.General, error) {
	meta := src.Meta()
	c := meta.Classes
	if meta.Targets > 0 {
		c = meta.Targets
	}
	if meta.DType != backend.U8 {
		return backend.Chunk{}, blas64.General{}, fmt.Errorf("%s: the uint8 dual route got %v data", meta.Name, meta.DType)
	}
	if meta.N < 1 || meta.D < 1 || meta.N > math.MaxInt/meta.D {
		return backend.Chunk{}, blas64.General{}, fmt.Errorf("%s: cannot hold %d×%d values in memory", meta.Name, meta.N, meta.D)
	}
	start := time.Now()
	n, d := meta.N, meta.D
	var x backend.Chunk
	yt := backend.NewGeneral(c, n)
	row := 0
	r, err := src.Open(max(1, min(e.opts.ChunkRows, dualBlockBytes/d)))
	if err != nil {
		return backend.Chunk{}, blas64.General{}, err
	}
	if rr, ok := r.(data.Resident); ok && rr.Resident() {
		// Already in memory (data.FromMatrix): one batch of every row,
		// used in place rather than copied.
		r.Close()
		if r, err = src.Open(n); err != nil {
			return backend.Chunk{}, blas64.General{}, err
		}
	}
	defer r.Close()
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return backend.Chunk{}, blas64.General{}, err
		}
		switch {
		case b.X.D != d || row+b.X.N > n:
			return backend.Chunk{}, blas64.General{}, fmt.Errorf("%s: delivered a %d×%d batch after %d rows, inconsistent with its declared %d×%d", meta.Name, b.X.N, b.X.D, row, n, d)
		case b.X.DType() != backend.U8:
			return backend.Chunk{}, blas64.General{}, fmt.Errorf("%s: delivered %v rows but declares uint8", meta.Name, b.X.DType())
		}
		if rr, ok := r.(data.Resident); ok && rr.Resident() && b.X.N == n {
			x = b.X
		} else {
			if x.U8 == nil {
				x = backend.Chunk{N: n, D: d, U8: make([]uint8, n*d)}
			}
			copy(x.U8[row*d:], b.X.U8)
		}
		if c > 0 {
			if err := scatterTargets(yt, row, b, c); err != nil {
				return backend.Chunk{}, blas64.General{}, fmt.Errorf("%s: rows %d..%d: %w", meta.Name, row, row+b.X.N, err)
			}
		}
		row += b.X.N
		if e.opts.Progress != nil {
			e.opts.Progress(row, n)
		}
	}
	if row != n {
		return backend.Chunk{}, blas64.General{}, fmt.Errorf("%s: declares %d rows but delivered %d", meta.Name, n, row)
	}
	e.opts.Logf("read %s into memory as uint8: %d×%d in %.2fs", meta.Name, n, d, time.Since(start).Seconds())
	return x, yt, nil
}

// scatterTargets writes the targets of batch b, whose first row is sample
// row, into the columns of yt (C×N).
func scatterTargets(yt blas64.General, row int, b data.Batch, c int) error {
	switch {
	case b.Labels != nil:
		if len(b.Labels) != b.X.N {
			return fmt.Errorf("%d labels for %d samples", len(b.Labels), b.X.N)
		}
		for i, l := range b.Labels {
			if l < 0 || l >= c {
				return fmt.Errorf("label %d of row %d is outside [0, %d)", l, row+i, c)
			}
			yt.Data[l*yt.Stride+row+i] = 1
		}
	case b.Targets != nil:
		if len(b.Targets) != b.X.N*c {
			return fmt.Errorf("%d target values for %d samples of %d columns", len(b.Targets), b.X.N, c)
		}
		for i := 0; i < b.X.N; i++ {
			for j, v := range b.Targets[i*c : (i+1)*c] {
				yt.Data[j*yt.Stride+row+i] = v
			}
		}
	default:
		return fmt.Errorf("batch has no labels or targets")
	}
	return nil
}

// dualGram forms the (centred when center is set) dual Gram of the uint8
// rows of x, logging how long it took.
func (e *Engine) dualGram(be backend.Backend, x backend.Chunk, center bool) (blas64.General, error) {
	start := time.Now()
	k, err := GramDualU8(be, x, be.Info().Threads)
	if err != nil {
		return blas64.General{}, err
	}
	if center {
		centerGram(k)
	}
	e.opts.Logf("dual Gram %d×%d of %d uint8 features: %.2fs", x.N, x.N, x.D, time.Since(start).Seconds())
	return k, nil
}

// alignDualU8 is the alignment curve of uint8 data by the dual route.
func (e *Engine) alignDualU8(be backend.Backend, src data.Source, opt AlignOptions) (*Curve, error) {
	x, yt, err := e.loadDualU8(src)
	if err != nil {
		return nil, err
	}
	if yt.Rows == 0 {
		return nil, fmt.Errorf("%s: alignment needs labels or targets", src.Meta().Name)
	}
	k, err := e.dualGram(be, x, opt.Center)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	w, p, route, err := dualProject(be, k, yt)
	if err != nil {
		return nil, err
	}
	e.opts.Logf("dual eigenvalues and projections Yᵀq_j (N = %d, C = %d): %.2fs", k.Rows, yt.Rows, time.Since(start).Seconds())
	start = time.Now()
	eig := &Eigen{Route: RouteDual.With(route), Values: w, Rank: NumericalRank(w, opt.RTol, sampleRank(k.Rows, opt.Center))}
	proj := Projections{YQ: backend.Columns(p, eig.Rank), Gy: backend.NewGeneral(yt.Rows, yt.Rows)}
	if err := be.Gemm(blas.NoTrans, blas.Trans, 1, yt, yt, 0, proj.Gy); err != nil {
		return nil, err
	}
	c, err := CurveFrom(proj, eig, opt.Center, opt)
	e.opts.Logf("YᵀY and the curve: %.2fs", time.Since(start).Seconds())
	return c, err
}

// eighDualU8 eigendecomposes the Gram of uint8 data by the dual route:
// the eigenvalues of K (centred when center is set), its eigenvectors q_j as
// Sample, and the feature-space vectors v_j = X̃ᵀq_j/√λ_j of the leading
// min(top, rank) pairs (all ranked pairs when top is 0), computed from the
// bytes of X a block of features at a time.
func (e *Engine) eighDualU8(be backend.Backend, src data.Source, center bool, top int, rtol float64) (*Eigen, error) {
	x, _, err := e.loadDualU8(Unlabeled{Source: src})
	if err != nil {
		return nil, err
	}
	k, err := e.dualGram(be, x, center)
	if err != nil {
		return nil, err
	}
	w, err := be.SymEig(k, true)
	if err != nil {
		return nil, fmt.Errorf("eigendecomposition of the %d×%d dual Gram: %w", x.N, x.N, err)
	}
	eig := &Eigen{Route: RouteDual, Values: w, Rank: NumericalRank(w, rtol, sampleRank(x.N, center))}
	r := eig.Rank
	if top > 0 {
		r = min(r, top)
	}
	eig.Sample = backend.Columns(k, eig.Rank)
	eig.Vectors, err = featureVectorsU8(be, x, backend.Columns(k, r), w[:r], center, be.Info().Threads)
	return eig, err
}

// featureVectorsU8 maps unit sample-space eigenvectors u_j (columns of u,
// N×r) of the dual Gram to feature space: v_j = X̃ᵀu_j/√λ_j, X̃ the rows of
// x, centred when center is set (X̃ᵀu = Xᵀu − μ·(1ᵀu)). It reads the bytes
// of x one block of features at a time (a float64 copy of that block only),
// so its memory is the D×r result and O(block).
func featureVectorsU8(be backend.Backend, x backend.Chunk, u blas64.General, lambda []float64, center bool, workers int) (blas64.General, error) {
	n, d, r := x.N, x.D, u.Cols
	v := backend.NewGeneral(d, r)
	if r == 0 {
		return v, nil
	}
	var usum []float64 // 1ᵀu_j
	if center {
		usum = make([]float64, r)
		for i := 0; i < n; i++ {
			for j, val := range u.Data[i*u.Stride : i*u.Stride+r] {
				usum[j] += val
			}
		}
	}
	rows := min(d, max(1, dualFloatBlockValues/n))
	t8 := make([]uint8, rows*n)
	tf := make([]float64, rows*n)
	for f0 := 0; f0 < d; f0 += rows {
		f1 := min(d, f0+rows)
		fb := f1 - f0
		cpu.TransposeU8(t8[:fb*n], x.U8, n, d, f0, f1, workers)
		for i, b := range t8[:fb*n] {
			tf[i] = float64(b)
		}
		xt := blas64.General{Rows: fb, Cols: n, Stride: n, Data: tf[:fb*n]}
		vb := blas64.General{Rows: fb, Cols: r, Stride: r, Data: v.Data[f0*r : f1*r]}
		if err := be.Gemm(blas.NoTrans, blas.NoTrans, 1, xt, u, 0, vb); err != nil {
			return blas64.General{}, err
		}
		if center {
			// μ_f·(1ᵀu_j) with μ_f the feature's exact mean.
			for f := 0; f < fb; f++ {
				s := 0
				for _, b := range t8[f*n : (f+1)*n] {
					s += int(b)
				}
				mu := float64(s) / float64(n)
				row := vb.Data[f*r : (f+1)*r]
				for j := range row {
					row[j] -= mu * usum[j]
				}
			}
		}
	}
	scaleColumns(v, lambda)
	return v, nil
}
