// Package loudness measures and shapes the level of mono audio the way
// broadcast does: ITU-R BS.1770-4 integrated loudness (LUFS) and a
// look-ahead peak limiter. Speech and ambience both use it, so a voice and
// the bed under it are measured alike.
package loudness

import (
	"math"
	"time"
)

// Integrated returns the BS.1770-4 integrated loudness of x (mono at rate
// Hz, scaled to [-1, 1)) in LUFS, or -Inf for silence: K-weighted, 400 ms
// blocks overlapping by 75 %, an absolute gate at -70 LUFS and a relative
// gate 10 LU under the ungated mean. A clip shorter than one block is
// measured as one block.
func Integrated(x []float64, rate float64) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	y := kWeight(x, rate)
	block, step := min(int(rate*0.4), len(y)), int(rate*0.1)
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
		for _, ms := range z {
			if lufs(ms) > threshold {
				sum += ms
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

// Scale multiplies x by the gain that brings its integrated loudness to
// target LUFS, and returns the gain in dB. Silence is left alone.
func Scale(x []float64, rate, target float64) float64 {
	l := Integrated(x, rate)
	if math.IsInf(l, -1) {
		return 0
	}
	g := target - l
	gain := math.Pow(10, g/20)
	for i := range x {
		x[i] *= gain
	}
	return g
}

// Ceiling converts a peak limit in dBFS to the linear amplitude Limit
// takes, a hair under it so that rounding to int16 cannot push a peak over.
func Ceiling(dBFS float64) float64 { return math.Pow(10, dBFS/20) - 1.0/32768 }

// Limit brings every |x[i]| to at most ceiling (linear) with a smooth gain:
// the gain each sample needs is spread by a running minimum over ±hold,
// then smoothed by a moving average of the same width. Every value averaged
// for sample i is a minimum over a window that contains i, so the smoothed
// gain never exceeds what i needs and no peak passes the ceiling, while
// samples far from a peak stay untouched.
func Limit(x []float64, rate, ceiling float64, hold time.Duration) {
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
	h := max(1, int(rate*hold.Seconds()))
	env := runningMin(need, h)
	half := h / 2
	prefix := make([]float64, len(env)+1)
	for i, g := range env {
		prefix[i+1] = prefix[i] + g
	}
	for i := range x {
		lo, hi := max(0, i-half), min(len(env), i+half+1)
		g := (prefix[hi] - prefix[lo]) / float64(hi-lo)
		// The prefix sums can round a hair above the bound; never exceed it.
		x[i] *= min(g, need[i])
	}
}

// runningMin returns, for each i, the minimum of v over [i-r, i+r], in O(n)
// with a monotonic deque of indices.
func runningMin(v []float64, r int) []float64 {
	out := make([]float64, len(v))
	dq := make([]int, 0, 2*r+2)
	head, next := 0, 0 // next: the next index to push
	for i := range v {
		for ; next < len(v) && next <= i+r; next++ {
			for len(dq) > head && v[dq[len(dq)-1]] >= v[next] {
				dq = dq[:len(dq)-1]
			}
			dq = append(dq, next)
		}
		for dq[head] < i-r {
			head++
		}
		out[i] = v[dq[head]]
		if head > 2*r+2 { // reclaim the consumed front now and then
			dq = append(dq[:0], dq[head:]...)
			head = 0
		}
	}
	return out
}

// kWeight applies the BS.1770 K-weighting filter: a high shelf of about
// +4 dB above 1.5 kHz (the head) and a high-pass at about 38 Hz. The
// biquads are derived for rate; at 48 kHz they match the standard's
// coefficients.
func kWeight(x []float64, rate float64) []float64 {
	shelf, hp := kFilters(rate)
	return hp.apply(shelf.apply(x))
}

func kFilters(rate float64) (shelf, hp biquad) {
	k := math.Tan(math.Pi * 1681.974450955533 / rate)
	q := 0.7071752369554196
	vh := math.Pow(10, 3.999843853973347/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/q + k*k
	shelf = biquad{
		b0: (vh + vb*k/q + k*k) / a0,
		b1: 2 * (k*k - vh) / a0,
		b2: (vh - vb*k/q + k*k) / a0,
		a1: 2 * (k*k - 1) / a0,
		a2: (1 - k/q + k*k) / a0,
	}
	k = math.Tan(math.Pi * 38.13547087602444 / rate)
	q = 0.5003270373238773
	a0 = 1 + k/q + k*k
	// The standard leaves this stage's numerator unnormalized: 1, -2, 1.
	hp = biquad{b0: 1, b1: -2, b2: 1, a1: 2 * (k*k - 1) / a0, a2: (1 - k/q + k*k) / a0}
	return shelf, hp
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

// FromPCM scales int16 samples to [-1, 1).
func FromPCM(s []int16) []float64 {
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = float64(v) / 32768
	}
	return x
}

// ToPCM rounds x, scaled to [-1, 1), into dst as int16, saturating rather
// than wrapping. dst must be at least as long as x.
func ToPCM(dst []int16, x []float64) {
	for i, v := range x {
		dst[i] = int16(math.Max(-32768, math.Min(32767, math.Round(v*32768))))
	}
}
