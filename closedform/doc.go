// Package closedform computes the paper's closed-form optima from streamed
// moments: the linear denoising autoencoder for any noise (Theorem 3,
// Corollary 3.1), the supervised + reconstruction objective (Theorem 1,
// Corollary 1.1), and the top/bottom principal subspaces with a closed-form
// linear probe (Figures 1, 4, 9). It answers "would this masking ratio and
// patch size help on my data, at my embedding size?" without training.
//
// # Conventions
//
// Rows are samples: X is N×D, Y is N×C. Everything is D-space work on the
// moments Gx = XᵀX, M = YᵀX, Gy = YᵀY (engine.Stats), centred when asked.
// Nothing larger than D×D is ever built.
//
// # The range coordinates
//
// Every solver works in the numerical range of Gx: Gx = U Λ Uᵀ with the r
// eigenvalues above rtol·λ₁ (the engine's rank cut), and in the whitened
// coordinates v = U Λ^{-1/2} e. In them the clean Gram is the identity, the
// features XV are Q·E with Q the orthonormal sample-space principal
// directions, and Yᵀq_j is column j of Z = M U Λ^{-1/2} (the engine's
// Projections.YQ). See Range.
//
// # Denoising (Theorem 3), in moments form
//
// For corrupted inputs X' and the objective E‖X − X'VW‖² over V (D×K) and
// W (K×D), write P = E[X']ᵀX and G = E[X'ᵀX'] (both D×D; they are sums over
// samples of E[x'] xᵀ and E[x' x'ᵀ]). Expanding the square,
//
//	E‖X − X'VW‖² = tr Gx − 2 tr(Wᵀ Vᵀ P) + tr(Wᵀ Vᵀ G V W),
//
// so W* = (VᵀGV)⁻¹VᵀP and the loss is tr Gx − tr((VᵀGV)⁻¹ Vᵀ P Pᵀ V): V*
// spans the top-K generalized eigenvectors of the pencil (P Pᵀ, G). This is
// Theorem 3's pencil (Sᵀ X Xᵀ S, G) with S = E[X'], written with D×D factors
// only (P Pᵀ = E[X']ᵀ X Xᵀ E[X']). For noises with E[x'] = s·x, P = s·Gx and
// the pencil is (s²·Gx·Gx, G):
//   - masking, each patch kept with probability q: s = q, G = Gx ∘ Q with
//     Q_ij = q (same patch) or q² (different patches);
//   - masking with exactly k of P patches kept (as MAE samples it): s = k/P,
//     Q_ij = k/P or k(k−1)/(P(P−1));
//   - additive Gaussian noise σ: s = 1, G = Gx + Nσ²I (Corollary 3.1: the
//     pencil's eigenvectors are Gx's, in the same order, for every σ).
//
// Any other noise is given as a Go function that corrupts one sample;
// EstimateMoments streams the data once with R seeded draws per sample and
// returns Monte Carlo estimates of P and G with standard errors from batch
// means over the draws.
//
// The pencil is restricted to the range of Gx, as the paper suggests for
// rank-deficient data: the encoder is sought among directions that the clean
// data span, which are the only ones its clean features XV can use. For
// dead pixels (constant features) this is exact; for other linear
// dependencies (N < D) the unrestricted DAE could also use directions that
// only the noisy data reach, whose clean features are zero.
//
// The alignment of V*'s clean features XV for every k uses the nested
// orthonormal basis of XV: in whitened coordinates XV = Q·E, so a thin QR
// E = Q̃R gives Yᵀq_j = Z·q̃_j. This is the Cholesky route
// (RᵀR = VᵀGxV) without squaring the condition number.
//
// # Theorem 1
//
// min ‖XVW − Y‖² + λ‖XVZ − X‖² has V* = the top-K generalized eigenvectors
// of (MᵀM + λ·Gx·Gx, Gx) on the range of Gx. In whitened coordinates the
// pencil is the standard symmetric problem ZᵀZ + λΛ, solved as such.
//
// # Subspaces and probe
//
// Spectrum holds the centred training PCA; Cut picks the top or bottom
// directions by explained variance; Projector maps x ↦ μ + (x−μ)U_S U_Sᵀ;
// the ridge probe on projected data is computed from the moments alone, and
// a sweep over variance fractions needs one pass over the test data.
package closedform
