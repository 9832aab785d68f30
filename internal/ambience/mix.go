package ambience

import "math"

// Ducking: how Mix lowers the bed while the voice speaks.
const (
	// Duck is how far the bed drops under speech, in dB: enough to clear
	// the voice further, little enough that the place does not vanish.
	Duck = 6.0
	// duckHop is the step of the voice's envelope.
	duckHop = 0.005
	// duckLook is how long before the voice the bed starts to dip, so the
	// first syllable is already clear.
	duckLook = 0.06
	// duckHold keeps the bed down through the gaps between words, so it
	// does not pump; it comes back up only in a real pause.
	duckHold = 0.25
	// duckAttack and duckRelease are the time constants of the dip and of
	// the return, in seconds.
	duckAttack  = 0.025
	duckRelease = 0.3
	// The voice counts as speaking from quietDB (not at all) to loudDB
	// (fully) of RMS over 10 ms, in dBFS; speech at -16 LUFS runs around
	// -20, and the pauses of synthesized speech are near silence.
	quietDB = -50.0
	loudDB  = -35.0
)

// Mix adds bed under voice, both mono at the same rate, and returns the
// mix, as long as the longer of the two (the shorter counts as silence
// after its end). The bed ducks by Duck dB while the voice is active,
// following the voice's envelope: it starts to dip 60 ms before a word,
// stays down through the short gaps between words, and comes back over
// about a second in a pause. The voice is not changed, except that any
// peak of the sum above Ceiling is brought down smoothly: Mix never clips.
func Mix(voice, bed []int16) []int16 {
	n := max(len(voice), len(bed))
	out := make([]float64, n)
	for i, s := range voice {
		out[i] = float64(s) / 32768
	}
	gain := ducking(voice, n)
	for i, s := range bed {
		out[i] += gain[i] * float64(s) / 32768
	}
	limit(out)
	return toPCM(out)
}

// ducking returns, for each of n samples, the gain of the bed under voice.
func ducking(voice []int16, n int) []float64 {
	hop := sec(duckHop)
	hops := (n + hop - 1) / hop
	// How much each hop wants the bed down, from the voice's level over
	// 10 ms around it.
	want := make([]float64, hops)
	for k := range hops {
		lo, hi := max(0, k*hop-hop/2), min(len(voice), k*hop+hop+hop/2)
		if lo >= hi {
			continue
		}
		var e float64
		for _, s := range voice[lo:hi] {
			v := float64(s) / 32768
			e += v * v
		}
		db := 10 * math.Log10(e/float64(hi-lo)+1e-20)
		want[k] = Duck * min(max((db-quietDB)/(loudDB-quietDB), 0), 1)
	}
	// Look ahead and hold: the deepest want from duckHold before to duckLook
	// after.
	look, hold := int(duckLook/duckHop), int(duckHold/duckHop)
	held := make([]float64, hops)
	for k := range hops {
		for j := max(0, k-hold); j <= min(hops-1, k+look); j++ {
			held[k] = max(held[k], want[j])
		}
	}
	// Smooth: quick down, slow up.
	attack := 1 - math.Exp(-duckHop/duckAttack)
	release := 1 - math.Exp(-duckHop/duckRelease)
	var d float64
	for k, h := range held {
		c := release
		if h > d {
			c = attack
		}
		d += (h - d) * c
		held[k] = math.Pow(10, -d/20)
	}
	// Per sample, between the hops.
	gain := make([]float64, n)
	for i := range gain {
		k := i / hop
		g := held[k]
		if k+1 < hops {
			g += (held[k+1] - g) * float64(i-k*hop) / float64(hop)
		}
		gain[i] = g
	}
	return gain
}
