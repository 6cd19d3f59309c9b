package cpu

// packFactor packs strips s0..s1 of a factor into dst. Strip s covers the
// factor's indices i in [s·w, s·w+w) along its strips and all k along the
// other direction, the pieces one after another; indices at or past extent
// read as zero. K is cut into blocks of kb (the last one kk ≤ kb long), and
// each K-block of all strips is one contiguous panel, strip after strip:
// element (i, p) lies at
//
//	pb·kb·S·w + s·kk·w + (p − pb·kb)·w + (i − s·w),   pb = p / kb,
//
// with S strips in all (see the top of gemm.go), so a tile's part of a
// K-block is one sequential stream for the prefetchers and the TLB.
func packFactor(dst []float64, w, k, kb, extent int, pieces []piece, s0, s1 int) {
	strips := (extent + w - 1) / w
	for p0 := 0; p0 < k; p0 += kb {
		kk := min(kb, k-p0)
		panel := dst[p0*strips*w : (p0+kk)*strips*w]
		// The pieces that overlap [p0, p0+kk).
		q0 := 0
		for _, pc := range pieces {
			lo, hi := max(p0, q0), min(p0+kk, q0+pc.k)
			q0 += pc.k
			if lo >= hi {
				continue
			}
			if pc.symUpper {
				packSymUpper(panel, w, kk, lo-p0, pc, lo-q0+pc.k, hi-q0+pc.k, extent, s0, s1)
				continue
			}
			if !pc.byRows {
				copyRows(panel, w, kk, lo-p0, pc.x[(lo-q0+pc.k)*pc.ld:], pc.ld, hi-lo, extent, s0, s1)
				continue
			}
			for s := s0; s < s1; s++ {
				seg := panel[s*kk*w+(lo-p0)*w : s*kk*w+(hi-p0)*w]
				gatherStrip(seg, w, pc.x[lo-q0+pc.k:], pc.ld, hi-lo, s*w, min(w, extent-s*w))
			}
		}
	}
}

// copyRows packs strips s0..s1 of rows that are contiguous in x: for
// p < k, dst[s·kk·w + (off+p)·w + r] = x[p·ld + s·w + r] when s·w + r <
// extent, else zero. It reads each row of x once, sequentially, and
// scatters it over the strips.
func copyRows(dst []float64, w, kk, off int, x []float64, ld, k, extent, s0, s1 int) {
	full := min(s1, extent/w) // strips with no padding
	for p := 0; p < k; p++ {
		row := x[p*ld : p*ld+extent]
		s := s0
		// Eight values at a time by element: an array copy
		// (*[8]float64 = *[8]float64) compiles to a call of memmove,
		// which cost a third of SymmUpper's packing.
		if w%8 == 0 {
			for ; s < full; s++ {
				o := dst[s*kk*w+(off+p)*w:]
				for e := 0; e < w; e += 8 {
					copy8((*[8]float64)(o[e:]), (*[8]float64)(row[s*w+e:]))
				}
			}
		}
		for ; s < s1; s++ {
			o := dst[s*kk*w+(off+p)*w : s*kk*w+(off+p+1)*w]
			clear(o[copy(o, row[min(s*w, extent):min(s*w+w, extent)]):])
		}
	}
}

// gatherStrip packs a strip that runs across x's rows: dst[p·w + r] =
// x[(i0+r)·ld + p] for r < cols, zero for cols ≤ r < w. Whole strips go
// eight rows at a time, each row read sequentially and each step's eight
// values written together.
func gatherStrip(dst []float64, w int, x []float64, ld, k, i0, cols int) {
	if cols < w || w%8 != 0 {
		for r := 0; r < w; r++ {
			if r >= cols {
				for p := 0; p < k; p++ {
					dst[p*w+r] = 0
				}
				continue
			}
			for p, v := range x[(i0+r)*ld : (i0+r)*ld+k] {
				dst[p*w+r] = v
			}
		}
		return
	}
	for g := 0; g < w; g += 8 {
		i := i0 + g
		r0 := x[i*ld : i*ld+k]
		r1 := x[(i+1)*ld : (i+1)*ld+k]
		r2 := x[(i+2)*ld : (i+2)*ld+k]
		r3 := x[(i+3)*ld : (i+3)*ld+k]
		r4 := x[(i+4)*ld : (i+4)*ld+k]
		r5 := x[(i+5)*ld : (i+5)*ld+k]
		r6 := x[(i+6)*ld : (i+6)*ld+k]
		r7 := x[(i+7)*ld : (i+7)*ld+k]
		for p := range r0 {
			o := (*[8]float64)(dst[p*w+g:])
			o[0], o[1], o[2], o[3] = r0[p], r1[p], r2[p], r3[p]
			o[4], o[5], o[6], o[7] = r4[p], r5[p], r6[p], r7[p]
		}
	}
}

// packSymUpper packs steps [p0, p1) of the symmetric piece pc (see piece)
// for strips s0..s1, at K offset off within the panel. In strip s (rows
// [i0, i1)), the steps before i0 are columns of the upper triangle and the
// steps from i1 on are rows of it; only the w steps of the diagonal block
// mix the two. The columns are packed a step at a time across all the
// strips they reach, so that each of x's rows is read once, sequentially;
// the rows strip by strip, as gatherStrip reads them.
func packSymUpper(panel []float64, w, kk, off int, pc piece, p0, p1, extent, s0, s1 int) {
	x, ld := pc.x, pc.ld
	for p := p0; p < p1; p++ {
		// Strips whose first row is past p: s·w > p.
		if lo := max(s0, p/w+1); lo < s1 {
			copyRows(panel, w, kk, off+p-p0, x[p*ld:], ld, 1, extent, lo, s1)
		}
	}
	for s := s0; s < s1; s++ {
		i0, i1 := s*w, min(s*w+w, extent)
		seg := panel[s*kk*w:]
		if b := max(p0, i1); b < p1 {
			gatherStrip(seg[(off+b-p0)*w:], w, x[b:], ld, p1-b, i0, i1-i0)
		}
		for p := max(p0, i0); p < min(p1, i1); p++ {
			o := seg[(off+p-p0)*w : (off+p-p0+1)*w]
			for r := range o {
				switch i := i0 + r; {
				case i >= i1:
					o[r] = 0
				case i <= p:
					o[r] = x[i*ld+p]
				default:
					o[r] = x[p*ld+i]
				}
			}
		}
	}
}

// copy8 copies eight values by element (see copyRows).
func copy8(d, r *[8]float64) {
	d[0], d[1], d[2], d[3] = r[0], r[1], r[2], r[3]
	d[4], d[5], d[6], d[7] = r[4], r[5], r[6], r[7]
}
