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
package engine
