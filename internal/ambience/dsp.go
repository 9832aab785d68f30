package ambience

import (
	"math"

	"stillmotion/internal/splitmix"
)

// SampleRate is the rate of all audio this package makes and takes, in Hz:
// that of the video's audio track, the same as speech.SampleRate. (The
// package does not import speech, so that it builds and tests alone.)
const SampleRate = 48000

// rate is SampleRate as the recipes use it.
const rate = SampleRate

// sec converts seconds to a whole number of samples.
func sec(s float64) int { return int(math.Round(s * rate)) }

// rng is SplitMix64: tiny, fast, and specified here, so a seed gives the
// same sound whatever the Go release.
type rng struct{ s uint64 }

// newRNG returns a generator for seed, one of many independent streams:
// each layer and event draws from its own stream, so that adding a layer to
// a scene does not change how another one sounds.
func newRNG(seed int64, stream uint64) *rng {
	return &rng{s: splitmix.Finalize(uint64(seed) ^ splitmix.Finalize(stream+0x632be59bd9b4e019))}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return splitmix.Finalize(r.s)
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// signed returns a uniform value in [-1, 1): white noise.
func (r *rng) signed() float64 { return 2*r.float() - 1 }

// between returns a uniform value in [lo, hi).
func (r *rng) between(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// intn returns a uniform value in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// wait returns the gap, in samples, to the next event of a Poisson process
// with perSecond events a second.
func (r *rng) wait(perSecond float64) int {
	return 1 + int(-math.Log(1-r.float())*rate/perSecond)
}

// svf is a state-variable filter in the topology-preserving form (after
// Zavalishin), which stays stable and click-free when its cutoff moves
// while it runs, as wind and waves need. One tick gives low-, band- and
// high-pass outputs.
type svf struct {
	k, a1, a2, a3 float64
	ic1, ic2      float64
}

// newSVF returns a filter with cutoff in Hz and resonance q (0.5 is
// smooth, 0.707 flat, higher rings).
func newSVF(cutoff, q float64) *svf {
	f := new(svf)
	f.set(cutoff, q)
	return f
}

// set changes the cutoff and resonance, keeping the state.
func (f *svf) set(cutoff, q float64) {
	cutoff = min(max(cutoff, 10), 0.45*rate)
	g := math.Tan(math.Pi * cutoff / rate)
	f.k = 1 / q
	f.a1 = 1 / (1 + g*(g+f.k))
	f.a2 = g * f.a1
	f.a3 = g * f.a2
}

// tick filters one sample.
func (f *svf) tick(x float64) (lp, bp, hp float64) {
	v3 := x - f.ic2
	v1 := f.a1*f.ic1 + f.a2*v3
	v2 := f.ic2 + f.a2*f.ic1 + f.a3*v3
	f.ic1 = 2*v1 - f.ic1
	f.ic2 = 2*v2 - f.ic2
	return v2, v1, x - f.k*v1 - v2
}

// onePole is a one-pole low-pass filter: gentle (6 dB an octave), cheap,
// and enough for rumbles and for taking the edge off noise.
type onePole struct{ a, y float64 }

func newOnePole(cutoff float64) *onePole {
	return &onePole{a: 1 - math.Exp(-2*math.Pi*cutoff/rate)}
}

func (f *onePole) tick(x float64) float64 {
	f.y += f.a * (x - f.y)
	return f.y
}

// pink makes pink noise (equal power per octave) from white noise with
// Paul Kellett's economy filter, flat within about 0.5 dB above 20 Hz.
type pink struct{ b0, b1, b2 float64 }

func (p *pink) tick(white float64) float64 {
	p.b0 = 0.99765*p.b0 + white*0.0990460
	p.b1 = 0.96300*p.b1 + white*0.2965164
	p.b2 = 0.57000*p.b2 + white*1.0526913
	return (p.b0 + p.b1 + p.b2 + white*0.1848) * 0.25
}

// brown makes brown (red) noise, falling 6 dB an octave: the body of surf,
// rumble and roar. The leak keeps it from drifting away from zero.
type brown struct{ y float64 }

func (b *brown) tick(white float64) float64 {
	b.y = 0.997*b.y + 0.06*white
	return b.y
}

// curve is smooth random motion in [0, 1]: values drawn at knots about
// period samples apart (each gap varied by ±40%, so the motion never falls
// into a rhythm or a loop), joined by smoothstep. It drives gusts,
// flicker and swells.
type curve struct {
	r        *rng
	period   float64
	a, b     float64 // values at the last and the next knot
	pos, gap int     // samples since the last knot, samples between knots
}

// newCurve returns a curve whose knots are about period seconds apart,
// starting at a random point between two knots.
func newCurve(r *rng, period float64) *curve {
	c := &curve{r: r, period: period * rate, a: r.float(), b: r.float()}
	c.gap = c.nextGap()
	c.pos = r.intn(c.gap)
	return c
}

func (c *curve) nextGap() int {
	return max(1, int(c.period*c.r.between(0.6, 1.4)))
}

// next returns the curve's value and moves on one sample.
func (c *curve) next() float64 {
	if c.pos >= c.gap {
		c.a, c.b = c.b, c.r.float()
		c.pos, c.gap = 0, c.nextGap()
	}
	t := float64(c.pos) / float64(c.gap)
	c.pos++
	return c.a + (c.b-c.a)*t*t*(3-2*t)
}

// skip moves the curve on n samples, at the cost of one step per knot
// passed rather than one per sample.
func (c *curve) skip(n int) {
	for n > 0 {
		step := min(n, c.gap-c.pos)
		if step <= 0 {
			c.a, c.b = c.b, c.r.float()
			c.pos, c.gap = 0, c.nextGap()
			continue
		}
		c.pos += step
		n -= step
	}
}

// sineSize is the length of sineTable: with linear interpolation its
// error is below 3e-7, far under the 16-bit floor.
const sineSize = 4096

// sineTable holds one cycle of a sine and one extra point for
// interpolation. Tones (birds, crickets, horns, bubbles) read it instead of
// calling math.Sin per sample, which keeps Render fast.
var sineTable = func() []float64 {
	t := make([]float64, sineSize+1)
	for i := range t {
		t[i] = math.Sin(2 * math.Pi * float64(i) / sineSize)
	}
	return t
}()

// sine returns sin(2π·phase) for phase in [0, 1).
func sine(phase float64) float64 {
	x := phase * sineSize
	i := int(x)
	f := x - float64(i)
	return sineTable[i] + f*(sineTable[i+1]-sineTable[i])
}

// wrap returns phase reduced to [0, 1).
func wrap(phase float64) float64 {
	if phase >= 1 || phase < 0 {
		phase -= math.Floor(phase)
	}
	return phase
}

// fade applies a raised-cosine fade-in over the first n samples of x and a
// fade-out over the last n, so the track neither starts nor ends with a
// click.
func fade(x []float64, n int) {
	n = min(n, len(x)/2)
	for i := range n {
		g := 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(n))
		x[i] *= g
		x[len(x)-1-i] *= g
	}
}
