package ambience

import (
	"math"
	"stillmotion/internal/loudness"
	"time"
)

// Loudness targets of Render: BS.1770 integrated loudness of the whole
// clip, events included, in LUFS.
const (
	// Target is a scene alone, with no speech: clearly audible, not loud;
	// EBU R128's programme level.
	Target = -23.0
	// BedTarget is a scene as a bed under speech: 15 LU under Target and
	// 22 LU under speech at -16 LUFS, so the voice stands well clear.
	BedTarget = Target - bedDrop
	// RoomTarget is a scene of nothing but Room tone. Room tone is the
	// sound of nothing else, so it is far quieter than the other kinds:
	// there on headphones, gone on loudspeakers. As a bed it is 15 LU lower
	// still.
	RoomTarget = -45.0
)

// bedDrop is how much lower a bed is than the same scene alone, in LU.
const bedDrop = 15.0

// Fade is the length of the fade-in and the fade-out of every clip Render
// makes, so the track neither starts nor ends with a click.
const Fade = 50 * time.Millisecond

// thunderLift is how much louder than the scene's target a thunderclap of
// strength 1 is, in LU, measured over the clap alone; weaker ones are
// quieter by 12·log10(strength), about 6 LU at 0.3. The clip is then
// brought back to the target as a whole, so the rain under a storm is a
// few LU quieter than the same rain without one: the thunder keeps its
// weight and the clip its loudness.
const thunderLift = 9.0

// Render synthesizes length of the scene's sound: mono int16 at
// SampleRate, exactly as many samples as speech.Track makes for length
// (length at SampleRate, rounded), so the two add sample for sample. The
// same scene, length and seed give the same samples.
//
// Each layer is synthesized from its own random stream (so adding a layer
// does not change another), brought to its share of the loudness by
// weight, and summed; events are added at their times; the clip is then
// scaled to its loudness target, its peaks are limited to Ceiling, and it
// fades in and out over Fade. The work is done in float64 and rounded to
// int16, what the audio track is made of, only at the end: a bed's samples
// are a few hundred steps of int16, and every gain is set from a
// measurement of the unrounded signal.
//
// Alone (bed false) the clip's integrated loudness is Target, moved by the
// layers' intensity (light -3 LU, heavy +2 LU); a scene of Room alone is
// at RoomTarget instead. As a bed under speech (bed true) it is 15 LU
// lower: BedTarget for a moderate scene. Room sounds only when it is the
// only layer. A scene with no layers and no events is digital silence:
// Plan returns one only when the prompt asks for silence.
func Render(scene Scene, length time.Duration, seed int64, bed bool) []int16 {
	n := samples(length)
	layers := audible(scene.Layers)
	var events []Event
	for _, e := range scene.Events {
		if e.At >= 0 && samples(e.At) < n {
			events = append(events, e)
		}
	}
	if n == 0 || len(layers) == 0 && len(events) == 0 {
		return make([]int16, n)
	}

	// Each layer's loudness is its intensity's target plus its share of
	// the power; the sum of uncorrelated layers lands near the sum of their
	// powers, and the final scale corrects what gating and overlap leave.
	base := Target
	if len(layers) == 1 && layers[0].Kind == Room {
		base = RoomTarget
	}
	if bed {
		base -= bedDrop
	}
	var total float64
	for _, l := range layers {
		total += l.weight()
	}
	out := make([]float64, n)
	buf := make([]float64, n)
	var power float64 // of the layers' targets, linear
	seen := make(map[Kind]uint64)
	for _, l := range layers {
		clear(buf)
		r := newRNG(seed, uint64(l.Kind)<<8|seen[l.Kind])
		seen[l.Kind]++
		synthesize(l, r, buf)
		t := base + l.Intensity.loudnessOffset() + 10*math.Log10(l.weight()/total)
		scale(buf, t)
		power += math.Pow(10, t/10)
		for i, v := range buf {
			out[i] += v
		}
	}
	target := base
	if power > 0 {
		target = 10 * math.Log10(power)
		scale(out, target)
	}

	if len(events) > 0 {
		clear(buf)
		strongest := 0.0
		for i, e := range events {
			r := newRNG(seed, 1<<32|uint64(i))
			at := samples(e.At)
			s := e.strength()
			strongest = max(strongest, s)
			if e.Kind == Thunder {
				thunder(r, buf[at:], s)
			}
		}
		scale(buf, target+thunderLift+12*math.Log10(strongest))
		for i, v := range buf {
			out[i] += v
		}
		scale(out, target)
	}

	limit(out)
	// Limiting takes a little loudness off peaky scenes (a crackling fire,
	// thunder, surf); win it back, which the limiter then trims again.
	for range 2 {
		l := loudness.Integrated(out, rate)
		if math.IsInf(l, -1) || target-l < 0.2 {
			break
		}
		g := math.Pow(10, (target-l)/20)
		for i := range out {
			out[i] *= g
		}
		limit(out)
	}
	fade(out, samples(Fade))
	return toPCM(out)
}

// audible returns the layers that sound: Room only when it is alone, and
// no layer of an unknown kind.
func audible(layers []Layer) []Layer {
	var out []Layer
	others := false
	for _, l := range layers {
		if l.Kind > Room && l.Kind < numKinds {
			others = true
		}
	}
	for _, l := range layers {
		if l.Kind < 0 || l.Kind >= numKinds || l.Kind == Room && others {
			continue
		}
		out = append(out, l)
	}
	return out
}

// synthesize adds layer l's recipe into out.
func synthesize(l Layer, r *rng, out []float64) {
	switch l.Kind {
	case Room:
		room(r, out, l.Intensity)
	case Rain:
		rain(r, out, l.Intensity)
	case Wind:
		wind(r, out, l.Intensity)
	case Sea:
		sea(r, out, l.Intensity)
	case Stream:
		stream(r, out, l.Intensity)
	case City:
		city(r, out, l.Intensity)
	case Forest:
		forest(r, out, l.Intensity)
	case Birds:
		birds(r, out, l.Intensity)
	case Night:
		night(r, out, l.Intensity)
	case Fire:
		fire(r, out, l.Intensity)
	case Crowd:
		crowd(r, out, l.Intensity)
	}
}

// samples converts d to a sample count, rounded to the nearest sample, as
// the speech package does, so tracks of the same length line up.
func samples(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((int64(d)*rate + int64(time.Second)/2) / int64(time.Second))
}
