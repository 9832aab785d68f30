package portrait

import (
	"math"
	"slices"
	"time"

	"stillmotion/internal/speech"

	"stillmotion/internal/dsp"
)

// Mouth is the shape of the mouth at one moment, each part from 0 (none)
// to 1 (full). The zero Mouth is the mouth as the image shows it, which is
// also its shape at rest, in pauses.
type Mouth struct {
	// Open is how far the lips part beyond what the image shows, as a
	// part of the widest opening (about a quarter of the mouth's width
	// more, an "ah"). The jaw, and with it the chin and the lower lip,
	// drops to make it.
	Open float64
	// Round narrows and rounds the lips (O, U, W).
	Round float64
	// Stretch widens them (E, I).
	Stretch float64
	// Press closes the lips firmly (M, B, P), over any teeth the image
	// shows.
	Press float64
	// Bite rests the lower lip on the upper teeth (F, V).
	Bite float64
}

// target is a phone's mouth shape and how strongly it holds it against its
// neighbours (co-articulation): a bilabial must close whatever surrounds
// it, while the lips take any shape during a "t" or an "h".
type target struct {
	m Mouth
	// open and lips are the dominance of the opening (Open, Press, Bite)
	// and of the lip shape (Round, Stretch).
	open, lips float64
	// reach is how far, in seconds, the target's pull extends beyond its
	// segment's middle part (see shape).
	reach float64
}

// Dominance levels.
const (
	weak   = 0.25
	normal = 1
	strong = 2.5
)

// reach is the usual extent of a target's pull beyond its segment's middle;
// a closure's is shorter, since the lips part as soon as it ends.
const (
	reach        = 0.055
	closureReach = 0.03
)

// vowel returns the target of a vowel or glide, which holds its opening
// and its lip shape with normal strength.
func vowel(m Mouth) target { return target{m, normal, normal, reach} }

// consonant returns a target with the given dominance.
func consonant(m Mouth, open, lips float64) target { return target{m, open, lips, reach} }

// closure returns the target of a sound made with the lips (M, B, P, F,
// V), which they make whatever surrounds it.
func closure(m Mouth) target { return target{m, strong, weak, closureReach} }

// targets maps flite's US English phones (CMU ARPAbet, lower case) to mouth
// shapes. Diphthongs are listed by their two ends (see diphthongs).
var targets = map[string]target{
	// Vowels: the opening follows the vowel's height.
	"aa":  vowel(Mouth{Open: 1}),
	"ae":  vowel(Mouth{Open: 0.85, Stretch: 0.35}),
	"ah":  vowel(Mouth{Open: 0.7}),
	"ax":  consonant(Mouth{Open: 0.45}, 0.7, weak),
	"ao":  vowel(Mouth{Open: 0.85, Round: 0.45}),
	"eh":  vowel(Mouth{Open: 0.6, Stretch: 0.45}),
	"ih":  vowel(Mouth{Open: 0.42, Stretch: 0.5}),
	"ix":  vowel(Mouth{Open: 0.4, Stretch: 0.4}),
	"iy":  vowel(Mouth{Open: 0.28, Stretch: 0.85}),
	"er":  vowel(Mouth{Open: 0.38, Round: 0.45}),
	"axr": vowel(Mouth{Open: 0.38, Round: 0.4}),
	"uh":  vowel(Mouth{Open: 0.4, Round: 0.55}),
	"uw":  consonant(Mouth{Open: 0.25, Round: 1}, normal, strong),

	// Consonants.
	"b":  closure(Mouth{Press: 1}),
	"m":  closure(Mouth{Press: 0.9}),
	"em": closure(Mouth{Press: 0.9}),
	"p":  closure(Mouth{Press: 1}),
	"f":  closure(Mouth{Open: 0.12, Bite: 1}),
	"v":  closure(Mouth{Open: 0.12, Bite: 1}),
	"th": consonant(Mouth{Open: 0.22, Bite: 0.4}, normal, weak),
	"dh": consonant(Mouth{Open: 0.2, Bite: 0.4}, normal, weak),
	"s":  consonant(Mouth{Open: 0.1, Stretch: 0.45}, normal, weak),
	"z":  consonant(Mouth{Open: 0.1, Stretch: 0.45}, normal, weak),
	"sh": vowel(Mouth{Open: 0.18, Round: 0.65}),
	"zh": vowel(Mouth{Open: 0.18, Round: 0.65}),
	"ch": vowel(Mouth{Open: 0.16, Round: 0.6}),
	"jh": vowel(Mouth{Open: 0.16, Round: 0.6}),
	"t":  consonant(Mouth{Open: 0.2}, 0.6, weak),
	"d":  consonant(Mouth{Open: 0.2}, 0.6, weak),
	"dx": consonant(Mouth{Open: 0.25}, weak, weak),
	"n":  consonant(Mouth{Open: 0.18}, 0.6, weak),
	"en": consonant(Mouth{Open: 0.18}, 0.6, weak),
	"nx": consonant(Mouth{Open: 0.18}, 0.6, weak),
	"l":  consonant(Mouth{Open: 0.3}, 0.6, weak),
	"el": consonant(Mouth{Open: 0.3}, 0.6, weak),
	"k":  consonant(Mouth{Open: 0.25}, 0.5, weak),
	"g":  consonant(Mouth{Open: 0.25}, 0.5, weak),
	"ng": consonant(Mouth{Open: 0.22}, 0.5, weak),
	"hh": consonant(Mouth{Open: 0.4}, weak, weak),
	"hv": consonant(Mouth{Open: 0.4}, weak, weak),
	"r":  vowel(Mouth{Open: 0.2, Round: 0.5}),
	"w":  consonant(Mouth{Open: 0.1, Round: 1}, normal, strong),
	"y":  vowel(Mouth{Open: 0.15, Stretch: 0.55}),

	// A pause lets the mouth return to rest.
	"pau": vowel(Mouth{}),
}

// diphthongs glide between two vowel shapes: the first holds for the
// first part of the phone, the second for the rest.
var diphthongs = map[string][2]string{
	"aw": {"aa", "uw"},
	"ay": {"aa", "iy"},
	"ey": {"eh", "iy"},
	"ow": {"ao", "uw"},
	"oy": {"ao", "iy"},
}

// unknown is the shape of a phone the table does not know: a half-open,
// easily swayed mouth.
var unknown = consonant(Mouth{Open: 0.35}, weak, weak)

// lookup returns the target for a phone symbol.
func lookup(sym string) target {
	if speech.IsPause(sym) {
		return targets["pau"]
	}
	if t, ok := targets[sym]; ok {
		return t
	}
	return unknown
}

// segment is one mouth target in time, in seconds of speech time.
type segment struct {
	t          target
	start, end float64
	pause      bool // a pause: rest over all but its ends (see shape)
}

// segments turns phones into timed targets, splitting diphthongs, and
// pads the timeline with rest before and after the speech.
func segments(phones []speech.Phone) []segment {
	segs := []segment{{t: targets["pau"], start: -10, end: 0, pause: true}}
	end := 0.0
	for _, p := range phones {
		s, e := p.Start.Seconds(), p.End.Seconds()
		if e <= s {
			continue
		}
		if d, ok := diphthongs[p.Symbol]; ok {
			mid := s + 0.45*(e-s)
			segs = append(segs, segment{lookup(d[0]), s, mid, false}, segment{lookup(d[1]), mid, e, false})
		} else {
			segs = append(segs, segment{lookup(p.Symbol), s, e, speech.IsPause(p.Symbol)})
		}
		end = max(end, e)
	}
	return append(segs, segment{t: targets["pau"], start: end, end: end + 10, pause: true})
}

// Co-articulation follows the dominance model of Cohen and Massaro (1993):
// each segment pulls the mouth toward its target with a weight that is
// full over its middle and falls off as a Gaussian (of width target.reach)
// of the time outside it, and the shape at any moment is the weighted mean
// of the targets. Strong segments (closures, rounding) win over weak
// neighbours; weak ones (t, h) take the shape of the vowels around them.
const (
	plateau      = 0.3  // part of a segment, each side of its centre, at full weight
	anticipation = 0.06 // seconds at each end of a pause that give way to speech
)

// shape returns the mouth at speech time t (seconds).
func shape(segs []segment, t float64) Mouth {
	var m Mouth
	var wo, wl float64
	i, _ := slices.BinarySearchFunc(segs, t, func(s segment, t float64) int {
		switch {
		case s.end < t-8*reach:
			return -1
		case s.start > t:
			return 1
		}
		return 0
	})
	for _, s := range segs[max(0, i-1):] {
		if s.start > t+8*reach {
			break
		}
		c, h := (s.start+s.end)/2, plateau*(s.end-s.start)
		if s.pause {
			// A pause holds the mouth at rest, but for its ends, where
			// the speech around it takes over: the mouth shapes the
			// first sound before it is heard.
			h = max(0, (s.end-s.start)/2-anticipation)
		}
		d := max(0, math.Abs(t-c)-h) / s.t.reach
		g := math.Exp(-d * d)
		if g < 1e-6 {
			continue
		}
		o, l := g*s.t.open, g*s.t.lips
		m.Open += o * s.t.m.Open
		m.Press += o * s.t.m.Press
		m.Bite += o * s.t.m.Bite
		m.Round += l * s.t.m.Round
		m.Stretch += l * s.t.m.Stretch
		wo += o
		wl += l
	}
	if wo > 0 {
		m.Open, m.Press, m.Bite = m.Open/wo, m.Press/wo, m.Bite/wo
	}
	if wl > 0 {
		m.Round, m.Stretch = m.Round/wl, m.Stretch/wl
	}
	return m
}

// Lead is how far the mouth's timeline runs ahead of the phones' times.
// Real speakers shape a sound before it is heard (Chandrasekaran et al.,
// 2009, measure 100 to 300 ms at the start of speech, less within it); the
// dominance functions already open the mouth a little before each vowel,
// and with this shift the opening peaks about a frame before the loudness
// (TestLipSync in internal/engine measures it).
const Lead = 20 * time.Millisecond

// Mouths returns the mouth's shape on each of frames video frames at fps:
// from the phones, as visemes with co-articulation whose openings follow
// each phone's loudness (a stressed vowel opens wider), or without phones
// from the loudness alone. Each frame shows the shape Lead ahead of the
// sound, averaged over the frame's time so that a closure shorter than a
// frame still shows.
func (s *Speech) Mouths(fps, frames int) []Mouth {
	if len(s.Phones) == 0 {
		return envelopeMouths(s.Samples, s.Rate, s.Start, fps, frames)
	}
	segs := segments(s.Phones)
	emphasize(segs, s.Samples, s.Rate)
	// The loudness Lead ahead of each frame checks the phones' timing:
	// where a timeline is off (one carried over from another voice, say),
	// the mouth still opens with the sound and not in a quiet gap.
	var loud []float64
	if s.Rate > 0 && len(s.Samples) > 0 {
		loud = frameLevel(speechBand(s.Samples, s.Rate), s.Rate, s.Start-Lead, fps, frames)
	}
	out := make([]Mouth, frames)
	dt := 1 / float64(fps)
	off := (Lead - s.Start).Seconds()
	for i := range out {
		t := (float64(i)+0.5)*dt + off
		var m Mouth
		for _, f := range []float64{-1.0 / 3, 0, 1.0 / 3} {
			s := shape(segs, t+f*dt)
			m.Open += s.Open / 3
			m.Round += s.Round / 3
			m.Stretch += s.Stretch / 3
			m.Press += s.Press / 3
			m.Bite += s.Bite / 3
		}
		if loud != nil {
			e := loud[i]
			if i > 0 && i+1 < len(loud) {
				e = (loud[i-1] + 2*e + loud[i+1]) / 4
			}
			m.Open *= min(max(0.5+0.6*e, 0.5), 1.1)
		}
		out[i] = m
	}
	return out
}

// emphasize scales each segment's opening by its loudness in the speech
// band (see speechBand) relative to the loud vowels': the jaw drops further
// on a loud, stressed syllable than on a reduced one, and a quiet consonant
// barely opens the mouth.
func emphasize(segs []segment, samples []int16, rate int) {
	if rate <= 0 || len(samples) == 0 {
		return
	}
	x := speechBand(samples, rate)
	level := make([]float64, len(segs))
	var vowels []float64
	for i, s := range segs {
		lo := min(max(int(s.start*float64(rate)), 0), len(x))
		hi := min(max(int(s.end*float64(rate)), lo), len(x))
		if s.pause || hi == lo {
			continue
		}
		var e float64
		for _, v := range x[lo:hi] {
			e += v * v
		}
		level[i] = math.Sqrt(e / float64(hi-lo))
		if s.t.m.Open >= 0.4 {
			vowels = append(vowels, level[i])
		}
	}
	if len(vowels) == 0 {
		return
	}
	slices.Sort(vowels)
	ref := vowels[len(vowels)*9/10]
	if ref <= 0 {
		return
	}
	for i := range segs {
		if segs[i].pause {
			continue
		}
		segs[i].t.m.Open *= min(max(0.3+0.8*level[i]/ref, 0.3), 1.15)
	}
}

// speechBand returns samples band-passed to 800..3000 Hz (second-order
// Butterworth sections from RBJ's cookbook): the band of the first formant
// of open vowels and of the second and third, where the mouth's opening
// shapes the sound most (Chandrasekaran et al., "The natural statistics of
// audiovisual speech", 2009). Nasals and voiced consonants, said with a
// closed or nearly closed mouth, carry their loudness below it.
func speechBand(samples []int16, rate int) []float64 {
	x := make([]float64, len(samples))
	for i, v := range samples {
		x[i] = float64(v)
	}
	dsp.Butterworth(x, float64(rate), 800, true)
	dsp.Butterworth(x, float64(rate), 3000, false)
	return x
}

// envelope returns the loudness of speech on each of frames video frames
// at fps, from 0 (silence) to about 1 (its loud vowels): the RMS of the
// samples (mono, at rate Hz, starting at start in video time) in the
// frame's time span, divided by the 95th percentile of the loud frames'
// RMS, and limited to 1.2.
func envelope(samples []int16, rate int, start time.Duration, fps, frames int) []float64 {
	x := make([]float64, len(samples))
	for i, v := range samples {
		x[i] = float64(v)
	}
	return frameLevel(x, rate, start, fps, frames)
}

// frameLevel is envelope on samples already converted to float64.
func frameLevel(x []float64, rate int, start time.Duration, fps, frames int) []float64 {
	env := make([]float64, frames)
	s0 := int(math.Round(start.Seconds() * float64(rate)))
	for i := range env {
		lo := i*rate/fps - s0
		hi := (i+1)*rate/fps - s0
		lo, hi = max(lo, 0), min(hi, len(x))
		if hi <= lo {
			continue
		}
		var e float64
		for _, v := range x[lo:hi] {
			e += v * v
		}
		env[i] = math.Sqrt(e / float64(hi-lo))
	}
	var loud []float64
	for _, e := range env {
		if e > 200 { // about -44 dBFS: not silence
			loud = append(loud, e)
		}
	}
	if len(loud) == 0 {
		return make([]float64, frames)
	}
	slices.Sort(loud)
	ref := loud[min(len(loud)-1, len(loud)*95/100)]
	for i := range env {
		env[i] = min(env[i]/ref, 1.2)
	}
	return env
}

// envelopeMouths returns mouth shapes for speech without phone timings:
// the opening follows the loudness, Lead ahead of it.
func envelopeMouths(samples []int16, rate int, start time.Duration, fps, frames int) []Mouth {
	out := make([]Mouth, frames)
	if rate <= 0 {
		return out
	}
	env := envelope(samples, rate, start-Lead, fps, frames)
	for i := range out {
		// A three-frame mean smooths the syllables' flicker; the square
		// root opens the mouth for quieter vowels too.
		e := env[i]
		n := 1.0
		if i > 0 {
			e += 0.5 * env[i-1]
			n += 0.5
		}
		if i+1 < len(env) {
			e += 0.5 * env[i+1]
			n += 0.5
		}
		out[i] = Mouth{Open: 0.9 * math.Sqrt(min(e/n, 1))}
	}
	return out
}
