package speech

import (
	"math"
)

// Loudness targets of Normalize.
const (
	TargetLoudness = -16.0 // LUFS, integrated
	PeakCeiling    = -1.0  // dBFS, sample peak, in the encoded video too
)

// codecHeadroom is how far below PeakCeiling Normalize keeps sample peaks,
// so that the AAC encoder's overshoot (measured up to 0.2 dB on speech at
// 128 kb/s) still leaves the decoded peaks at or below PeakCeiling.
const codecHeadroom = 0.5

// Normalize scales samples (mono PCM at rate Hz) in place to an integrated
// loudness of about TargetLoudness and keeps every sample at or below
// PeakCeiling less codecHeadroom, without clipping.
//
// Loudness is measured as ITU-R BS.1770-4 integrated loudness: K-weighted,
// 400 ms blocks, absolute and relative gates, so pauses do not count. Peaks
// above the ceiling after the gain are brought down by a look-ahead limiter
// rather than by lowering the whole clip, and the gain and the limiter are
// applied again until the loudness is within 0.1 LU of the target (three
// rounds at most), so speech with a high crest factor still reaches it. The
// ceiling is on sample peaks, not true (inter-sample) peaks.
// Silence is left alone, and the gain is capped at +30 dB so near-silence is
// not blown up into noise.
func Normalize(samples []int16, rate int) {
	x := make([]float64, len(samples))
	for i, s := range samples {
		x[i] = float64(s) / 32768
	}
	normalize(x, float64(rate))
	toInt16(samples, x)
}

// Loudness returns the BS.1770-4 integrated loudness of samples (mono PCM at
// rate Hz) in LUFS, or -Inf for silence.
func Loudness(samples []int16, rate int) float64 {
	x := make([]float64, len(samples))
	for i, s := range samples {
		x[i] = float64(s) / 32768
	}
	return loudness(x, float64(rate))
}

// normalize is Normalize on samples scaled to [-1, 1).
func normalize(x []float64, rate float64) {
	l := loudness(x, rate)
	if math.IsInf(l, -1) {
		return
	}
	// A hair under the ceiling, so rounding to int16 cannot push a peak over.
	ceiling := math.Pow(10, (PeakCeiling-codecHeadroom)/20) - 1.0/32768
	budget := 30.0 // dB of gain left under the cap
	for range 3 {
		g := math.Min(TargetLoudness-l, budget)
		budget -= g
		gain := math.Pow(10, g/20)
		for i := range x {
			x[i] *= gain
		}
		limit(x, rate, ceiling)
		if l = loudness(x, rate); math.Abs(l-TargetLoudness) < 0.1 || budget <= 0 {
			break
		}
	}
}

// limit brings every |x[i]| to at most ceiling with a smooth gain envelope:
// the gain each sample needs is spread by a running minimum over ±10 ms and
// then smoothed by a 10 ms moving average. Every value averaged for sample i
// is a minimum over a window that contains i, so the smoothed gain never
// exceeds what i needs, and peaks never pass the ceiling.
func limit(x []float64, rate, ceiling float64) {
	need := make([]float64, len(x))
	over := false
	for i, v := range x {
		need[i] = 1
		if a := math.Abs(v); a > ceiling {
			need[i] = ceiling / a
			over = true
		}
	}
	if !over {
		return
	}
	hold := int(rate * 0.010)
	env := runningMin(need, hold)
	half := hold / 2
	// Moving average over [i-half, i+half] with a prefix sum; near the edges
	// the window shrinks, which keeps the bound above.
	prefix := make([]float64, len(env)+1)
	for i, g := range env {
		prefix[i+1] = prefix[i] + g
	}
	for i := range x {
		lo, hi := max(0, i-half), min(len(env), i+half+1)
		g := (prefix[hi] - prefix[lo]) / float64(hi-lo)
		// The prefix sums can round a hair above the bound; never exceed it.
		g = math.Min(g, need[i])
		x[i] *= g
	}
}

// runningMin returns, for each i, the minimum of v over [i-r, i+r], in O(n)
// with a monotonic deque of indices.
func runningMin(v []float64, r int) []float64 {
	out := make([]float64, len(v))
	dq := make([]int, 0, 2*r+2)
	next := 0 // next index to push
	for i := range v {
		for ; next < len(v) && next <= i+r; next++ {
			for len(dq) > 0 && v[dq[len(dq)-1]] >= v[next] {
				dq = dq[:len(dq)-1]
			}
			dq = append(dq, next)
		}
		for dq[0] < i-r {
			dq = dq[1:]
		}
		out[i] = v[dq[0]]
	}
	return out
}

// loudness is Loudness on samples scaled to [-1, 1).
func loudness(x []float64, rate float64) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	y := kWeight(x, rate)
	block, step := int(rate*0.4), int(rate*0.1)
	if len(y) < block {
		block = len(y) // a clip shorter than one block is one block
	}
	var z []float64 // mean square of each block
	for s := 0; s+block <= len(y); s += step {
		var e float64
		for _, v := range y[s : s+block] {
			e += v * v
		}
		z = append(z, e/float64(block))
	}
	lufs := func(ms float64) float64 { return -0.691 + 10*math.Log10(ms) }
	gated := func(threshold float64) (float64, int) {
		var sum float64
		var n int
		for _, e := range z {
			if lufs(e) > threshold {
				sum += e
				n++
			}
		}
		return sum, n
	}
	sum, n := gated(-70)
	if n == 0 {
		return math.Inf(-1)
	}
	sum, n = gated(lufs(sum/float64(n)) - 10)
	if n == 0 {
		return math.Inf(-1)
	}
	return lufs(sum / float64(n))
}

// kWeight applies the BS.1770 K-weighting filter: a high shelf of about +4 dB
// above 1.5 kHz (the head) and a high-pass at about 38 Hz. The biquads are
// derived for rate; at 48 kHz they match the coefficients in the standard.
func kWeight(x []float64, rate float64) []float64 {
	// Stage 1: high shelf.
	k := math.Tan(math.Pi * 1681.974450955533 / rate)
	q := 0.7071752369554196
	vh := math.Pow(10, 3.999843853973347/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/q + k*k
	shelf := biquad{
		b0: (vh + vb*k/q + k*k) / a0,
		b1: 2 * (k*k - vh) / a0,
		b2: (vh - vb*k/q + k*k) / a0,
		a1: 2 * (k*k - 1) / a0,
		a2: (1 - k/q + k*k) / a0,
	}
	// Stage 2: high-pass. The standard leaves b unnormalized (1, -2, 1).
	k = math.Tan(math.Pi * 38.13547087602444 / rate)
	q = 0.5003270373238773
	a0 = 1 + k/q + k*k
	hp := biquad{b0: 1, b1: -2, b2: 1, a1: 2 * (k*k - 1) / a0, a2: (1 - k/q + k*k) / a0}
	return hp.apply(shelf.apply(x))
}

type biquad struct{ b0, b1, b2, a1, a2 float64 }

// apply filters x (direct form I) into a new slice.
func (f biquad) apply(x []float64) []float64 {
	y := make([]float64, len(x))
	var x1, x2, y1, y2 float64
	for i, v := range x {
		out := f.b0*v + f.b1*x1 + f.b2*x2 - f.a1*y1 - f.a2*y2
		x2, x1 = x1, v
		y2, y1 = y1, out
		y[i] = out
	}
	return y
}

// toInt16 converts x, scaled to [-1, 1), to rounded int16 in dst, saturating
// rather than wrapping.
func toInt16(dst []int16, x []float64) {
	for i, v := range x {
		s := math.Round(v * 32768)
		dst[i] = int16(math.Max(-32768, math.Min(32767, s)))
	}
}
