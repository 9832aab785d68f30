package ambience

import "math"

// Ceiling is the highest sample peak Render and Mix produce, in dBFS.
const Ceiling = -1.0

// ceiling is Ceiling as a linear amplitude, a hair under it so that rounding
// to int16 cannot push a peak over.
var ceiling = math.Pow(10, Ceiling/20) - 1.0/32768

// loudness returns the ITU-R BS.1770-4 integrated loudness of x (mono, at
// rate, scaled to [-1, 1)) in LUFS, or -Inf for silence: K-weighted,
// 400 ms blocks overlapping by 75%, absolute gate at -70 LUFS and relative
// gate 10 LU under the ungated mean.
//
// speech.Loudness measures the same on int16; this one works on the float
// signal before it is scaled and rounded, which Render needs to set gains.
// The tests check it against the standard's reference tone and, where
// ffmpeg is installed, against its ebur128 filter.
func loudness(x []float64) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	shelf, hp := kWeighting()
	block, step := int(rate*0.4), int(rate*0.1)
	block = min(block, len(x)) // a clip shorter than one block is one block
	// Mean squares of the 100 ms steps; a block is four consecutive steps.
	var steps []float64
	var e float64
	var in int
	for _, v := range x {
		y := hp.tick(shelf.tick(v))
		e += y * y
		if in++; in == step {
			steps = append(steps, e)
			e, in = 0, 0
		}
	}
	var z []float64 // mean square of each gated block
	if block < step*4 {
		// Short clip: one block over what there is.
		var sum float64
		for _, s := range steps {
			sum += s
		}
		z = append(z, (sum+e)/float64(len(x)))
	} else {
		for i := 0; i+4 <= len(steps); i++ {
			z = append(z, (steps[i]+steps[i+1]+steps[i+2]+steps[i+3])/float64(block))
		}
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

// biquad is a second-order IIR filter in direct form I.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

func (f *biquad) tick(x float64) float64 {
	y := f.b0*x + f.b1*f.x1 + f.b2*f.x2 - f.a1*f.y1 - f.a2*f.y2
	f.x2, f.x1 = f.x1, x
	f.y2, f.y1 = f.y1, y
	return y
}

// kWeighting returns the two stages of the BS.1770 K-weighting filter: a
// high shelf of about +4 dB above 1.5 kHz (the head) and a high-pass at
// about 38 Hz. Derived for rate; at 48 kHz they match the standard's
// coefficients.
func kWeighting() (shelf, hp *biquad) {
	k := math.Tan(math.Pi * 1681.974450955533 / rate)
	q := 0.7071752369554196
	vh := math.Pow(10, 3.999843853973347/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/q + k*k
	shelf = &biquad{
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
	hp = &biquad{b0: 1, b1: -2, b2: 1, a1: 2 * (k*k - 1) / a0, a2: (1 - k/q + k*k) / a0}
	return shelf, hp
}

// scale multiplies x by the gain that brings its loudness to target LUFS.
// It does nothing to silence.
func scale(x []float64, target float64) {
	l := loudness(x)
	if math.IsInf(l, -1) {
		return
	}
	g := math.Pow(10, (target-l)/20)
	for i := range x {
		x[i] *= g
	}
}

// limit brings every |x[i]| to at most ceiling with a smooth gain: the gain
// each sample needs is spread by a running minimum over ±5 ms, then
// smoothed by a 5 ms moving average. Every value averaged for sample i is a
// minimum over a window that contains i, so the smoothed gain never
// exceeds what i needs and no peak passes the ceiling. Thunder cracks and a
// loud voice over a bed are the peaks this is for; everything else stays
// untouched.
func limit(x []float64) {
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
	hold := sec(0.005)
	env := runningMin(need, hold)
	half := hold / 2
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
	head := 0
	next := 0 // next index to push
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

// toPCM rounds x, scaled to [-1, 1), to int16, saturating rather than
// wrapping.
func toPCM(x []float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(math.Max(-32768, math.Min(32767, math.Round(v*32768))))
	}
	return out
}

// fromPCM scales int16 samples to [-1, 1).
func fromPCM(s []int16) []float64 {
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = float64(v) / 32768
	}
	return x
}
