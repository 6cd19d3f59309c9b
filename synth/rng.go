package synth

import "math"

// Every random number of the package (the natural-image Generator and the
// TemplateStream alike) is a hash of (seed, sample, position): a SplitMix64
// step, mix64(key + counter·golden), so any sample can be generated alone,
// in any order, on any goroutine, and come out the same.

const golden = 0x9E3779B97F4A7C15

// keyOf is the key of one independent sequence of a seed; purpose tells the
// sequences of one dataset apart (images, labels, class patterns, ...).
func keyOf(seed, purpose uint64) uint64 { return mix64(seed*golden + purpose) }

// draw is element counter of the sequence with that key.
func draw(key, counter uint64) uint64 { return mix64(key + counter*golden) }

// mix64 is SplitMix64's output function (Stafford's "Mix13"), a bijection
// of uint64 whose outputs for consecutive counters pass BigCrush.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

const (
	phaseSteps = 1024
	magSteps   = 256
)

// phase[i] = exp(2πi·i/1024); magnitude holds the 256 quantiles of the
// Rayleigh distribution, rescaled so that their mean square is exactly 1.
// A complex coefficient magnitude·phase drawn with uniform indices then has
// E z = 0, E z² = 0 and E|z|² = 1 exactly (the moments of a standard complex
// Gaussian, which is all the population covariance depends on), at the
// cost of one table look-up instead of a logarithm and a sine.
var (
	phase     [phaseSteps]complex128
	magnitude [magSteps]float64
)

func init() {
	for i := range phase {
		s, c := math.Sincos(2 * math.Pi * float64(i) / phaseSteps)
		phase[i] = complex(c, s)
	}
	var ms float64
	for i := range magnitude {
		u := (float64(i) + 0.5) / magSteps
		magnitude[i] = math.Sqrt(-math.Log(1 - u))
		ms += magnitude[i] * magnitude[i]
	}
	scale := 1 / math.Sqrt(ms/magSteps)
	for i := range magnitude {
		magnitude[i] *= scale
	}
}

// gaussian turns 18 random bits into a coefficient with the second moments
// of a standard complex Gaussian.
func gaussian(bits uint32) complex128 {
	return phase[bits&(phaseSteps-1)] * complex(magnitude[(bits>>10)&(magSteps-1)], 0)
}
