// Package rsvd computes the top-K eigenpairs of the (optionally centered)
// Gram matrix A = XᵀX of a dataset streamed from a data.Source, without ever
// forming the D×D Gram: randomized subspace iteration (Halko, Martinsson &
// Tropp 2011) in TopK, and a single-pass Nyström sketch (Tropp, Yurtsever,
// Udell & Cevher 2017) in OnePass. It is the route for D too large for the
// full Gram (ImageNet at 224×224: D = 150,528).
//
// # Passes and memory
//
// X is N×D with samples as rows. Every pass applies A to a D×m matrix R as
// Σ_chunks X_cᵀ(X_c·R), two backend.Backend Gemm calls per chunk, so memory
// is O((D + C)·m) plus one float64 chunk, whatever N is; m is K+Oversample
// (+10 probe columns in the last pass). TopK makes PowerIters+2 passes:
// the sketch A·Ω, one per power iteration (each re-orthonormalised by QR),
// and a Rayleigh–Ritz pass for B = QᵀAQ; OnePass makes one.
//
// Centering never materialises centered data: the first pass shifts each
// chunk by a provisional mean (its first chunk's) and later passes by the
// exact mean, and the rank-one remainder n·δδᵀ (δ = mean − shift) is
// subtracted from the sums. Shifting keeps the sums small when the data lie
// far from the origin (8-bit pixels, mean ≈ 120), where XᵀX − nμμᵀ would
// cancel catastrophically.
//
// # Error estimates
//
// Ritz values are lower bounds: Values[j] ≤ λ_j. TopK reports, from the
// last pass at no extra cost, the exact residuals ‖Av_j − θ_jv_j‖ of every
// Ritz pair, and two error bars for λ_j − θ_j:
//   - ValueBounds / ErrorBound: a bound from the residuals and an estimate δ
//     of what the sketch missed, ‖(I−QQᵀ)A(I−QQᵀ)‖ ≤ δ, via the quadratic
//     residual bound of Li & Li (2005) (see ritzBounds). δ is the smaller of
//     the exact tail trace tr A − tr B and the HMT probe estimate
//     4·√(2/π)·max_i ‖(I−QQᵀ)A(I−QQᵀ)ω_i‖ over 10 Gaussian probes, which
//     holds with probability ≥ 1 − 4⁻¹⁰. The bound is tight (within a small
//     factor) when the spectrum decays fast and loose (×50–600 in tests) when
//     it decays slowly, because one application of A can only measure the
//     tail's Frobenius norm, not its spectral norm.
//   - ValueErrors / ErrorEstimate: 2‖r_j‖²/(θ_j − θ_l), first-order
//     perturbation theory with a safety factor of 2; within 1–3× of the true
//     error in tests for fast and slow decay alike, but not guaranteed.
//
// OnePass bounds every eigenvalue error by ‖A − Â‖ (Â ⪯ A): the smaller of
// tr A − tr Â and the probe estimate, and estimates it by the RMS of
// ‖(A − Â)ψ_i‖, an estimate of ‖A − Â‖_F. Both methods add the rounding
// level ε·λ_1·(√D + √N), below which no result can be trusted.
//
// # Labels and alignment
//
// When the source has labels (one-hot Y, C = Meta.Classes) or dense targets,
// TopK accumulates YᵀX_c·Q in its last pass (C×m, free) and returns
// LabelProj = YᵀX_cV (C×K) and LabelGram = YᵀY (never centered: centering X
// alone is what the paper's reference code does, and engine.Stats.Gy agrees); OnePass keeps YᵀX_c (C×D) instead. AlignmentTopK turns
// them into the per-direction alignment of the paper's Eq. 7:
// Yᵀq_j = LabelProj[:, j]/√λ_j, a_j = ‖Yᵀq_j‖² (regression form) and
// (Yᵀq_j)ᵀ·Gy·(Yᵀq_j) (gram form), with cumulative curves normalised by the
// top-K total or by full-rank totals when known.
package rsvd
