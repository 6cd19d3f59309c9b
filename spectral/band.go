package spectral

import (
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/reconalign/reconalign/backend"
	"github.com/reconalign/reconalign/kernels/cpu"
)

// Stage 1: dense → band of half-bandwidth b.
//
// Panel p covers rows [k, k+b) of the upper triangle, k = p·b; its part
// right of the band, P = A[k:k+b, k+b:n] (b×m), is factorised P = L·Q̃ (LQ:
// the reflectors lie along P's contiguous rows), so that with
// Q = Q̃ᵀ = I − V·T·Vᵀ (V m×nr, T upper triangular) the similarity
// diag(I, Q)ᵀ·A·diag(I, Q) leaves [L 0] in the panel and
// A22 ← Qᵀ·A22·Q in the trailing m×m block. With X = A22·V·T and
// W = X − ½·V·(Tᵀ·Vᵀ·X) that update is A22 − V·Wᵀ − W·Vᵀ (LAPACK's
// dsytrd_sy2sb arithmetic). The two products with A22 are the backend's
// SymmUpper and Syr2k where it has them, else GEMMs on column blocks of
// its upper triangle:
//
//	X = A22·(V·T):  block J contributes A22[0:j0, J]·(VT)[J] to X[0:j0]
//	                and A22[0:j1, J]ᵀ·(VT)[0:j1] to X[J] (the diagonal
//	                block symmetrised first from its upper triangle);
//	A22 −= VWᵀ+WVᵀ: block J takes [V W][0:j1]·[W V][J]ᵀ, one GEMM of inner
//	                size 2·nr that writes the upper block column only,
//
// which do the (4/3)·n³ flops at the backend's GEMM speed while reading only
// the upper triangle. The panel itself (b·n² flops over all panels) is a
// recursive LQ whose leaves are gonum's Dgelq2 and Dlarft (panelLQ).

// bandBlocks is the number of column blocks the trailing update of an m×m
// block is cut into (blocks at least minBandBlock wide). Each block is two
// GEMMs of the symmetric product and one of the rank-2b update; the
// diagonal blocks cost about 1/(2·bandBlocks) of extra work in the latter.
// A fixed count rather than a fixed width keeps the number of backend calls
// per panel small at large n: every call of a threaded BLAS waits for all
// of its threads, and on a busy machine one descheduled thread stalls the
// call for a time slice. (At D = 12,288 with 256-wide blocks a panel made
// 144 calls, 28,000 in all, and stage 1 on openblas ran 1.5× slower than
// the work alone explains.) Sixteen blocks keep 256-wide blocks up to
// m = 4,096, where 256, 512 and 1,024 measured the same, and cut the calls
// threefold at 12,288 for 3% of extra work.
var bandBlocks = 16

const minBandBlock = 256

// bandBlock is the width of the column blocks for a trailing block of
// order m: m/bandBlocks rounded up to 64, at least minBandBlock.
func bandBlock(m int) int {
	return max(minBandBlock, (m/bandBlocks+63)&^63)
}

// band holds the factors of stage 1 that the eigenvector back-transform
// needs: panel p's V sits in a's strict lower triangle (rows [k+b, n),
// columns [k, k+nr), with its unit diagonal and zeros written out) and its
// T factor at t[p·b·b:], nr×nr with row stride b.
type band struct {
	n, b int
	t    []float64
	// carry is the time spent applying the reflectors to the carried
	// block, which the stage timings report apart from the reduction.
	carry Stage
}

// reduceToBand reduces the symmetric a (upper triangle read) to band form
// in place: on return a's upper triangle within b of the diagonal holds the
// band. When carry has rows, it is overwritten with Q1ᵀ·carry. When keep is
// set, the reflectors are kept for the back-transform (band.t and a's lower
// triangle); otherwise the rest of a is left as scratch.
//
// The panels look ahead: once panel p's W is known, the b rows of A22 that
// make panel p+1 are updated first, and panel p+1 is factored on a
// goroutine of its own (with the pure-Go kernels, one worker) while the
// rank-2b update of the rest of A22 runs on the Gemmer. A panel is a chain
// of small products that keeps about one core busy; alone it left the
// other idle for a sixth of stage 1.
func reduceToBand(g Gemmer, a blas64.General, b int, carry blas64.General, keep bool) (*band, error) {
	n := a.Rows
	s := a.Stride
	out := &band{n: n, b: b}
	if n <= b+1 {
		return out, nil
	}
	mMax := n - b
	// Two sets of panel buffers: panel p's, read by the main loop, and
	// panel p+1's, written by the look-ahead.
	cur, next := newPanelBufs(b, mMax), newPanelBufs(b, mMax)
	ahead := &goGemmer{workers: 1}
	carried := carry.Rows > 0 && carry.Cols > 0
	var sr []float64
	if carried {
		sr = make([]float64, 2*b*carry.Cols)
	}
	if keep {
		out.t = make([]float64, ((n-2)/b+1)*b*b)
	}
	if err := cur.factor(g, a.Data[b:], s, n-b); err != nil {
		return nil, err
	}
	for p, k := 0, 0; k+b < n-1; p, k = p+1, k+b {
		m := n - k - b
		nr := min(b, m)
		ld := 2 * nr
		vw := cur.vw
		v := blas64.General{Rows: m, Cols: nr, Stride: ld, Data: vw[:m*ld]}
		wm := blas64.General{Rows: m, Cols: nr, Stride: ld, Data: vw[nr : m*ld]}
		t := blas64.General{Rows: nr, Cols: nr, Stride: b, Data: cur.t}
		a22 := blas64.General{Rows: m, Cols: m, Stride: s, Data: a.Data[(k+b)*s+k+b:]}
		// W = X − ½·V·(Tᵀ·Vᵀ·X) with X = A22·(V·T).
		if err := symmUpper(g, a22, cur.vtOf(m, nr), wm); err != nil {
			return nil, err
		}
		z1 := blas64.General{Rows: nr, Cols: nr, Stride: nr, Data: cur.x[:nr*nr]}
		z2 := blas64.General{Rows: nr, Cols: nr, Stride: nr, Data: cur.x[b*b : b*b+nr*nr]}
		if err := g.Gemm(blas.Trans, blas.NoTrans, 1, v, wm, 0, z1); err != nil {
			return nil, err
		}
		if err := g.Gemm(blas.Trans, blas.NoTrans, 1, t, z1, 0, z2); err != nil {
			return nil, err
		}
		if err := g.Gemm(blas.NoTrans, blas.NoTrans, -0.5, v, z2, 1, wm); err != nil {
			return nil, err
		}
		// finish applies the panel's reflectors to the carried rows and keeps
		// them, beside the update of A22 when the look-ahead runs.
		finish := func(gm Gemmer) error {
			if carried {
				// carry[k+b:] ← Qᵀ·carry[k+b:] = (I − V·Tᵀ·Vᵀ)·carry[k+b:].
				t0, c0 := time.Now(), processCPU()
				c := blas64.General{Rows: m, Cols: carry.Cols, Stride: carry.Stride, Data: carry.Data[(k+b)*carry.Stride:]}
				if err := applyBlockReflector(gm, v, t, c, true, sr); err != nil {
					return err
				}
				out.carry.Seconds += time.Since(t0).Seconds()
				out.carry.CPUSeconds += processCPU() - c0
			}
			if keep {
				for j := 0; j < m; j++ {
					copy(a.Data[(k+b+j)*s+k:(k+b+j)*s+k+nr], vw[j*ld:j*ld+nr])
				}
				copy(out.t[p*b*b:(p+1)*b*b], cur.t)
			}
			return nil
		}
		// A22 −= V·Wᵀ + W·Vᵀ. When there is a next panel, a goroutine
		// updates its rows — the top b×b block of A22 (part of the band)
		// and the b×(m−b) block right of it — factors it and finishes this
		// panel, while the rest of A22 is updated here.
		if k+2*b < n-1 {
			done := make(chan error, 1)
			go func() {
				top := blas64.General{Rows: b, Cols: b, Stride: s, Data: a22.Data}
				right := blas64.General{Rows: b, Cols: m - b, Stride: s, Data: a22.Data[b:]}
				err := syr2kUpper(ahead, top, rowsOf(v, 0, b), rowsOf(wm, 0, b))
				if err == nil {
					err = ahead.Gemm(blas.NoTrans, blas.Trans, -1, rowsOf(v, 0, b), rowsOf(wm, b, m), 1, right)
				}
				if err == nil {
					err = ahead.Gemm(blas.NoTrans, blas.Trans, -1, rowsOf(wm, 0, b), rowsOf(v, b, m), 1, right)
				}
				if err == nil {
					err = next.factor(ahead, right.Data, s, m-b)
				}
				if err == nil {
					err = finish(ahead)
				}
				done <- err
			}()
			rest := blas64.General{Rows: m - b, Cols: m - b, Stride: s, Data: a22.Data[b*s+b:]}
			err := syr2kUpper(g, rest, rowsOf(v, b, m), rowsOf(wm, b, m))
			if errAhead := <-done; err == nil {
				err = errAhead
			}
			if err != nil {
				return nil, err
			}
		} else {
			if err := syr2kUpper(g, a22, v, wm); err != nil {
				return nil, err
			}
			if err := finish(g); err != nil {
				return nil, err
			}
		}
		cur, next = next, cur
	}
	return out, nil
}

// panelBufs are one panel's factors and scratch: its T (nr×nr, row stride
// b), its reflectors V as the left half of vw (m×2nr, whose right half the
// main loop fills with W), V·T, and panelLQ's scratch.
type panelBufs struct {
	b                int
	tau, work, t     []float64
	vrows, x, vw, vt []float64
}

func newPanelBufs(b, mMax int) *panelBufs {
	return &panelBufs{
		b: b, tau: make([]float64, b), work: make([]float64, b), t: make([]float64, b*b),
		vrows: make([]float64, b*mMax), x: make([]float64, 2*b*b), vw: make([]float64, mMax*2*b),
		vt: make([]float64, mMax*b),
	}
}

// vtOf is V·T as the m×nr matrix factor left.
func (pb *panelBufs) vtOf(m, nr int) blas64.General {
	return blas64.General{Rows: m, Cols: nr, Stride: nr, Data: pb.vt[:m*nr]}
}

// factor factors the panel of pb.b rows (row stride s) whose part right of
// the band, m columns wide, starts at panel, and leaves it as [L 0] with
// its reflectors in pb.vw, T in pb.t and V·T in pb.vt.
func (pb *panelBufs) factor(g Gemmer, panel []float64, s, m int) error {
	b := pb.b
	nr := min(b, m)
	pf := panelLQ{g: g, p: panel, s: s, m: m, tau: pb.tau, t: pb.t, ldt: b, v: pb.vrows[:nr*m], x: pb.x, work: pb.work}
	if err := pf.run(b); err != nil {
		return err
	}
	ld := 2 * nr
	vw := pb.vw
	for i := 0; i < nr; i++ {
		row := panel[i*s : i*s+m]
		for j := 0; j < m; j++ {
			switch {
			case j < i:
				vw[j*ld+i] = 0
			case j == i:
				vw[j*ld+i] = 1
			default:
				vw[j*ld+i] = row[j]
				row[j] = 0
			}
		}
	}
	v := blas64.General{Rows: m, Cols: nr, Stride: ld, Data: vw[:m*ld]}
	t := blas64.General{Rows: nr, Cols: nr, Stride: b, Data: pb.t}
	return g.Gemm(blas.NoTrans, blas.NoTrans, 1, v, t, 0, pb.vtOf(m, nr))
}

// goGemmer is the Gemm of the pure-Go kernels with a fixed number of
// workers, for work that runs beside the backend's own.
type goGemmer struct {
	g       cpu.Gram
	workers int
}

func (c *goGemmer) Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, out blas64.General) error {
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	c.g.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, out.Rows, out.Cols, k, alpha, a.Data, a.Stride, b.Data, b.Stride, beta, out.Data, out.Stride, c.workers)
	return nil
}

// panelLQ factors a stage-1 panel, the nr×m block p (row stride s), as
// P = [L 0]·Q̃ in the storage of LAPACK's dgelqf (L on and below the
// diagonal, reflector i's vector right of it in row i, its τ in tau[i]),
// and forms the upper triangular T with Q̃ᵀ = H_0·…·H_{nr−1} = I − Vᵀ·T·V
// (dlarft, forward and rowwise) in t (row stride ldt).
//
// It recurses on halves of the rows (Elmroth and Gustavson's recursive
// QR, transposed): factor the top half, apply its block reflector to the
// bottom half and factor that, then join the two T factors, so that all
// but the leaves' 4-row factorizations are GEMMs on the backend. gonum's
// Dgelqf did the same work with matrix-vector products on one core: at
// D = 4,096 (openblas, 2 cores) the panels took 0.25 – 0.27 s of stage 1,
// now 0.14 – 0.17 s (leaves of 8 rows 0.16 – 0.18, of 16 0.17 – 0.20).
type panelLQ struct {
	g       Gemmer
	p       []float64
	s, m    int
	tau, t  []float64
	ldt     int
	v       []float64 // the reflectors with their zeros and ones, row stride m
	x, work []float64 // 2·b·b and b values of scratch
}

const panelLeaf = 4

// run factors a panel of rows ≥ 1 rows: min(rows, m) reflectors (all of
// them when the panel is at least as wide as tall), the rows below them,
// if any, transformed as well (dgelqf's result for a tall panel).
func (pf *panelLQ) run(rows int) error {
	nr := min(rows, pf.m)
	if err := pf.factor(0, nr); err != nil {
		return err
	}
	if rows > nr {
		return pf.apply(nr, rows-nr, 0, nr)
	}
	return nil
}

// apply sets rows [r0, r0+rows) of the panel, from column i0 on, to
// themselves times H_{i0}·…·H_{i0+k−1} = I − V1ᵀ·T1·V1, the reflectors of
// rows [i0, i0+k).
func (pf *panelLQ) apply(r0, rows, i0, k int) error {
	g, s, m, ldt := pf.g, pf.s, pf.m, pf.ldt
	v1 := blas64.General{Rows: k, Cols: m - i0, Stride: m, Data: pf.v[i0*m+i0:]}
	t1 := blas64.General{Rows: k, Cols: k, Stride: ldt, Data: pf.t[i0*ldt+i0:]}
	p2 := blas64.General{Rows: rows, Cols: m - i0, Stride: s, Data: pf.p[r0*s+i0:]}
	x := blas64.General{Rows: rows, Cols: k, Stride: k, Data: pf.x[:rows*k]}
	y := blas64.General{Rows: rows, Cols: k, Stride: k, Data: pf.x[len(pf.x)/2 : len(pf.x)/2+rows*k]}
	if err := g.Gemm(blas.NoTrans, blas.Trans, 1, p2, v1, 0, x); err != nil {
		return err
	}
	if err := g.Gemm(blas.NoTrans, blas.NoTrans, 1, x, t1, 0, y); err != nil {
		return err
	}
	return g.Gemm(blas.NoTrans, blas.NoTrans, -1, y, v1, 1, p2)
}

// factor factors rows [i0, i0+r) of the panel from column i0 on.
func (pf *panelLQ) factor(i0, r int) error {
	s, m := pf.s, pf.m
	if r <= panelLeaf {
		impl := lapackgonum.Implementation{}
		blk := pf.p[i0*s+i0:]
		impl.Dgelq2(r, m-i0, blk, s, pf.tau[i0:i0+r], pf.work)
		impl.Dlarft(lapack.Forward, lapack.RowWise, m-i0, r, blk, s, pf.tau[i0:i0+r], pf.t[i0*pf.ldt+i0:], pf.ldt)
		for i := i0; i < i0+r; i++ {
			row := pf.v[i*m : (i+1)*m]
			clear(row[:i])
			row[i] = 1
			copy(row[i+1:], pf.p[i*s+i+1:i*s+m])
		}
		return nil
	}
	r1 := (r/2 + panelLeaf - 1) / panelLeaf * panelLeaf
	r2 := r - r1
	if err := pf.factor(i0, r1); err != nil {
		return err
	}
	if err := pf.apply(i0+r1, r2, i0, r1); err != nil {
		return err
	}
	if err := pf.factor(i0+r1, r2); err != nil {
		return err
	}
	// The reflectors are rows here, V2 zero left of column i0+r1.
	m, ldt := pf.m, pf.ldt
	j0 := i0 + r1
	t1 := blas64.General{Rows: r1, Cols: r1, Stride: ldt, Data: pf.t[i0*ldt+i0:]}
	v1r := blas64.General{Rows: r1, Cols: m - j0, Stride: m, Data: pf.v[i0*m+j0:]}
	v2 := blas64.General{Rows: r2, Cols: m - j0, Stride: m, Data: pf.v[j0*m+j0:]}
	t2 := blas64.General{Rows: r2, Cols: r2, Stride: ldt, Data: pf.t[j0*ldt+j0:]}
	t12 := blas64.General{Rows: r1, Cols: r2, Stride: ldt, Data: pf.t[i0*ldt+j0:]}
	return joinT(pf.g, blas.NoTrans, v1r, v2, t1, t2, t12, pf.x)
}

// joinT sets t12 = −T1·(V1·V2ᵀ)·T2, the off-diagonal block of the T factor
// of two block reflectors applied one after the other (I − V·T·Vᵀ with
// V = [V1 V2] and T = [[T1, T12], [0, T2]]). The reflectors are the
// columns of v1 and v2 (rows when rowWise is blas.NoTrans: then v1·v2ᵀ is
// formed instead of v1ᵀ·v2). scratch holds 2·len(t12) values.
func joinT(g Gemmer, rowWise blas.Transpose, v1, v2, t1, t2, t12 blas64.General, scratch []float64) error {
	r1, r2 := t12.Rows, t12.Cols
	w := blas64.General{Rows: r1, Cols: r2, Stride: r2, Data: scratch[:r1*r2]}
	z := blas64.General{Rows: r1, Cols: r2, Stride: r2, Data: scratch[r1*r2 : 2*r1*r2]}
	ta, tb := blas.Trans, blas.NoTrans
	if rowWise == blas.NoTrans {
		ta, tb = blas.NoTrans, blas.Trans
	}
	if err := g.Gemm(ta, tb, 1, v1, v2, 0, w); err != nil {
		return err
	}
	if err := g.Gemm(blas.NoTrans, blas.NoTrans, 1, t1, w, 0, z); err != nil {
		return err
	}
	return g.Gemm(blas.NoTrans, blas.NoTrans, -1, z, t2, 0, t12)
}

// applyBlockReflector overwrites c (m×r) with (I − V·T·Vᵀ)·c, or with
// (I − V·Tᵀ·Vᵀ)·c when trans is set; scratch holds 2·nr·r values.
func applyBlockReflector(g Gemmer, v, t, c blas64.General, trans bool, scratch []float64) error {
	nr, r := v.Cols, c.Cols
	s1 := blas64.General{Rows: nr, Cols: r, Stride: r, Data: scratch[:nr*r]}
	s2 := blas64.General{Rows: nr, Cols: r, Stride: r, Data: scratch[nr*r : 2*nr*r]}
	if err := g.Gemm(blas.Trans, blas.NoTrans, 1, v, c, 0, s1); err != nil {
		return err
	}
	tt := blas.NoTrans
	if trans {
		tt = blas.Trans
	}
	if err := g.Gemm(tt, blas.NoTrans, 1, t, s1, 0, s2); err != nil {
		return err
	}
	return g.Gemm(blas.NoTrans, blas.NoTrans, -1, v, s2, 1, c)
}

// backQ1 overwrites z (n×r) with Q1·z, the stage-1 reflectors kept by
// reduceToBand(keep) applied last panel first, q1Merge panels at a time.
//
// Panels p … p+q−1 make one block reflector Q_p·…·Q_{p+q−1} = I − V·T·Vᵀ
// with V = [V_p … V_{p+q−1}] and T = [[T_p, −T_p·V_pᵀ·V'·T'], [0, T']]
// built one panel at a time (V', T' the next panel's). Each application
// reads all of z once to pack it and writes it once, so four panels a pass
// quarter that traffic, which at b = 64 cost as much as the arithmetic:
// measured at n = 2,048 on two cores, one panel a pass took 0.22 – 0.35 s,
// two or four 0.19 – 0.21 s, eight 0.24 s.
func (bd *band) backQ1(g Gemmer, a, z blas64.General) error {
	n, b, s := bd.n, bd.b, a.Stride
	if n <= b+1 {
		return nil
	}
	last := (n - 2 - b) / b
	q := q1Merge
	vbuf := make([]float64, (n-b)*q*b)
	tbuf := make([]float64, q*b*q*b)
	xbuf := make([]float64, 2*q*b*b)
	scratch := make([]float64, 2*q*b*z.Cols)
	for hi := last; hi >= 0; hi -= q {
		lo := max(0, hi-q+1)
		k := lo * b
		m := n - k - b
		width := (hi-lo)*b + min(b, n-hi*b-b)
		v := blas64.General{Rows: m, Cols: width, Stride: width, Data: vbuf[:m*width]}
		t := blas64.General{Rows: width, Cols: width, Stride: width, Data: tbuf[:width*width]}
		clear(v.Data)
		clear(t.Data)
		for p := lo; p <= hi; p++ {
			off := (p - lo) * b // V_p's first column in v and its first row
			nr := min(b, n-p*b-b)
			for j := off; j < m; j++ {
				copy(v.Data[j*width+off:j*width+off+nr], a.Data[(k+b+j)*s+p*b:])
			}
			for i := 0; i < nr; i++ {
				copy(t.Data[(off+i)*width+off:(off+i)*width+off+nr], bd.t[p*b*b+i*b:p*b*b+i*b+nr])
			}
			if off == 0 {
				continue
			}
			// The panels before V_p joined with it (V_p zero above row off).
			vp := blas64.General{Rows: m - off, Cols: nr, Stride: width, Data: v.Data[off*width+off:]}
			vprev := blas64.General{Rows: m - off, Cols: off, Stride: width, Data: v.Data[off*width:]}
			tprev := blas64.General{Rows: off, Cols: off, Stride: width, Data: t.Data}
			tp := blas64.General{Rows: nr, Cols: nr, Stride: width, Data: t.Data[off*width+off:]}
			tcol := blas64.General{Rows: off, Cols: nr, Stride: width, Data: t.Data[off:]}
			if err := joinT(g, blas.Trans, vprev, vp, tprev, tp, tcol, xbuf); err != nil {
				return err
			}
		}
		c := blas64.General{Rows: m, Cols: z.Cols, Stride: z.Stride, Data: z.Data[(k+b)*z.Stride:]}
		if err := applyBlockReflector(g, v, t, c, false, scratch); err != nil {
			return err
		}
	}
	return nil
}

// q1Merge is the number of stage-1 panels backQ1 applies as one block.
var q1Merge = 4

// symmUpper sets y = a·v for the symmetric m×m a of which only the upper
// triangle is valid: one call where g has SymmUpper, else GEMMs by block
// column, each diagonal block first made symmetric from its upper triangle
// (its lower one is scratch).
func symmUpper(g Gemmer, a, v, y blas64.General) error {
	if sy, ok := g.(symmer); ok {
		return sy.SymmUpper(1, a, v, 0, y)
	}
	m, s := a.Rows, a.Stride
	nb := bandBlock(m)
	for j0 := 0; j0 < m; j0 += nb {
		j1 := min(j0+nb, m)
		for i := j0; i < j1; i++ {
			for j := i + 1; j < j1; j++ {
				a.Data[j*s+i] = a.Data[i*s+j]
			}
		}
		col := blas64.General{Rows: j1, Cols: j1 - j0, Stride: s, Data: a.Data[j0:]}
		if err := g.Gemm(blas.Trans, blas.NoTrans, 1, col, rowsOf(v, 0, j1), 0, rowsOf(y, j0, j1)); err != nil {
			return err
		}
		if j0 > 0 {
			above := blas64.General{Rows: j0, Cols: j1 - j0, Stride: s, Data: a.Data[j0:]}
			if err := g.Gemm(blas.NoTrans, blas.NoTrans, 1, above, rowsOf(v, j0, j1), 1, rowsOf(y, 0, j0)); err != nil {
				return err
			}
		}
	}
	return nil
}

// syr2kUpper subtracts V·Wᵀ + W·Vᵀ (v and w m×k) from the symmetric m×m
// a, on and above the diagonal: one call where g has Syr2k, else a GEMM of
// inner size 2k per block column of a, [V W]·[W V]ᵀ, which writes the
// lower triangle of the diagonal blocks too.
func syr2kUpper(g Gemmer, a, v, w blas64.General) error {
	if sy, ok := g.(syr2ker); ok {
		return sy.Syr2k(blas.NoTrans, -1, v, w, 1, a)
	}
	m, k, s := a.Rows, v.Cols, a.Stride
	l := backend.NewGeneral(m, 2*k)
	r := backend.NewGeneral(m, 2*k)
	for j := 0; j < m; j++ {
		copy(l.Data[j*2*k:], v.Data[j*v.Stride:j*v.Stride+k])
		copy(l.Data[j*2*k+k:], w.Data[j*w.Stride:j*w.Stride+k])
		copy(r.Data[j*2*k:], w.Data[j*w.Stride:j*w.Stride+k])
		copy(r.Data[j*2*k+k:], v.Data[j*v.Stride:j*v.Stride+k])
	}
	nb := bandBlock(m)
	for j0 := 0; j0 < m; j0 += nb {
		j1 := min(j0+nb, m)
		c := blas64.General{Rows: j1, Cols: j1 - j0, Stride: s, Data: a.Data[j0:]}
		if err := g.Gemm(blas.NoTrans, blas.Trans, -1, rowsOf(l, 0, j1), rowsOf(r, j0, j1), 1, c); err != nil {
			return err
		}
	}
	return nil
}

// rowsOf is rows [i0, i1) of a, without copying.
func rowsOf(a blas64.General, i0, i1 int) blas64.General {
	return blas64.General{Rows: i1 - i0, Cols: a.Cols, Stride: a.Stride, Data: a.Data[i0*a.Stride:]}
}
