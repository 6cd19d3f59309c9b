// Package engine is reconalign's public API: it streams a dataset once into
// mergeable moments (XᵀX, YᵀX, YᵀY, sums, count), eigendecomposes the Gram on
// the cheaper side (D×D, or the N×N dual when N < D — the paper's
// fast_gram_eigh), and turns the result into the paper's alignment curve
// (Eq. 7) for every k at once. Each heavy operation is routed to one of the
// registered backends (pure Go, OpenBLAS, CUDA) by Engine.Do, the router
// every package above uses (closedform and rsvd run through it too), which
// chooses by the device kind the registry reports and the operation's
// arithmetic; every result names the backend that computed it. Everything
// else is plain Go.
//
// The usual entry point is:
//
//	eng, _ := engine.New(engine.Options{Backend: "auto"})
//	defer eng.Close()
//	curve, _ := eng.Align(src, engine.AlignOptions{Center: true})
//
// Rows are samples (X is N×D), eigenvalues are descending, and every result
// says which centering, form, scale and normalisation produced it.
//
// Moments can be kept in a moments file (SaveMoments, WriteMoments,
// MergeMomentsFiles), a NumPy .npz, and read back as a MomentsSource that
// every analysis needing only the moments accepts in place of the data,
// with the streaming run's bits: uint8 moments are exact integers,
// finalized around the data's rounded mean whatever provisional shift the
// pass took; float files also keep the accumulator around its shift, since
// the raw float sums cannot give the shifted ones back (see momentsfile.go).
package engine
