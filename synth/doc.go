// Package synth generates synthetic image datasets with the second-order
// statistics of natural images, as data.Sources that can stand in for
// ImageNet-sized data nobody has to download, and whose population spectrum
// and label structure are known in closed form.
//
// It has two kinds of dataset, both driven by the one counter-based
// generator of rng.go: Generator, natural-image statistics (everything
// below), and TemplateStream, class templates plus uniform noise, whose
// every Gram entry can be recomputed exactly from two columns (what a
// benchmark needs to check a Gram of a stream too large to store).
//
// # Specs
//
// Parse reads "imagenet64" (1,281,167 images of 64×64×3, 1000 classes),
// "imagenet224", "cifar10-like", "fmnist-like", or key=value lists such as
// "N=10000,D=192,C=3,alpha=1,classes=10,seed=7,dtype=f32"; a preset may be
// followed by overrides ("imagenet64,n=50000"). Spec.String is the canonical
// form, used as Meta.Name.
//
// # The model
//
// With C channels, the channel correlation R_ij = rho^|i−j| is diagonalised,
// R = P·diag(e)·Pᵀ (e descending, Σe = C; for RGB: luminance, then two
// opponent colours). Image i is
//
//	x(t) = m + P·z(t),    t a pixel of the H×W grid, m the channel means
//
// where the latent fields z_0 … z_{C−1} are independent and stationary
// (periodic on the grid). Their 2-D DFT coefficients are independent (apart
// from the Hermitian symmetry of a real field) with mean zero and
//
//	E|ẑ_d(k)|² = σ²_{d,k} = e_d·contrast²·g(f_k)/G + noise²/(H·W),
//	g(f) = max(f, 1/max(H,W))^(−alpha),   G = Σ_k g(f_k),
//
// f_k the radial frequency of DFT index k in cycles per pixel. So the power
// spectrum falls as 1/f^alpha (alpha ≈ 2 for natural images) above a white
// floor, each channel's field has variance contrast² (plus noise²) around
// the channel mean (ImageNet's RGB means for C = 3, 128 otherwise).
//
// # The population spectrum
//
// The covariance of the unquantised rows is exactly diagonal in the basis
// {P_d ⊗ real Fourier mode k}: the cosine and sine of each mode pair ±k of
// latent d are eigenvectors with eigenvalue
//
//	λ_{d,k} = H·W·σ²_{d,k} = H·W·e_d·contrast²·g(f_k)/G + noise²
//
// in grey levels² (divide by 255² for dtype=f32, whose values are the grey
// levels / 255, neither rounded nor clamped). PopulationModes lists all D of
// them. dtype=u8 rows are rounded (adding about 1/12 grey level² of white
// noise) and clamped to 0…255 (about 0.3% of pixels with the defaults).
// The coefficients are drawn as magnitude·phase from tables (256 Rayleigh
// quantiles, 1024 phases), which gives them exactly the first and second
// moments of complex Gaussians at the cost of a table look-up; the pixel
// values, sums of many such terms, are close to Gaussian.
//
// # Labels and the class signal
//
// The label of sample i is a hash of (seed, i) modulo classes: uniform,
// independent of the image noise. Class c adds a fixed pattern to the
// least-variance latent z_{C−1} (an opponent colour for RGB, the only
// latent for grey images): DFT coefficients of magnitude signal/√|B| and a
// phase hashed from (seed, c, k), at every index k of the band B of
// frequencies ≥ band (real-only indices excepted), so each pattern has RMS
// signal grey levels. The between-class scatter therefore lives in the span
// of band modes of the last latent, has rank min(classes−1, |B|) and trace
// about H·W·signal²·(1 − 1/classes); each of its directions adds about
// H·W·signal²/classes to the eigenvalue λ_{C−1,k} ≈ H·W·e_{C−1}·contrast²·
// g(band)/G + noise² of the modes it mixes.
//
// Expected alignment (the paper's Eq. 7): the top principal directions —
// low-frequency luminance, which carry almost all the variance — carry
// almost no label information; all of it sits among the directions whose
// eigenvalue is about that of high-frequency modes of the last latent, i.e.
// near the bottom of the spectrum. The alignment curve stays near zero
// while k covers the directions above that level and rises late and steeply.
// For 8×8×3 images and 10 classes with the defaults, the top half of the
// directions holds 97% of the variance and about 1% of the alignment
// (TestAlignmentRisesLate). With signal=0 the labels carry no information.
//
// # Determinism and cost
//
// Every random number is a SplitMix64 hash of (seed, sample index, position),
// never a shared generator state, so sample i is the same whichever chunk
// it is read in, in whatever order and on however many goroutines (Fill
// spreads rows over GOMAXPROCS). Results are bit-identical on one
// architecture; across architectures the last bit of a float may differ
// where the compiler fuses multiply-adds. One image costs one inverse 2-D
// FFT per two latents: about 0.25 ms for 64×64×3 on one core.
package synth
