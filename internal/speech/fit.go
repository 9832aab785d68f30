package speech

import (
	"math"
	"time"
)

// Fade is the length of the fade-out Fit and Track apply where they cut speech.
const Fade = 30 * time.Millisecond

// quietWindow is the window over which Fit measures how quiet a place to cut is.
const quietWindow = 20 * time.Millisecond

// wordPreference is how much speech Fit gives up to end at a pause rather
// than between two words that run together.
const wordPreference = time.Second

// wordChoice is how far back from the last word that fits Fit looks for a
// word that ends more quietly.
const wordChoice = 600 * time.Millisecond

// Fit trims a to at most max, cutting where a word ends, not inside one. The
// cut is, in order of preference:
//
//  1. in the last pause (a pause phone that follows speech and starts at least
//     Fade before max), at its end or at max, so the fade-out falls on
//     silence; unless a word ends more than a second later than that;
//  2. at the end of a word (see Audio.Words) that ends by max: of the words
//     ending within 600 ms of the last one that fits, the latest whose last
//     20 ms are clearly the quietest, since words in connected speech run
//     together and ending on a consonant is less abrupt than on a vowel;
//     each word's end is first moved to a clearly quieter place within
//     60 ms, if there is one, since word timings can be a little off;
//  3. without words, at the end of the quietest 20 ms window in the second
//     half of the allowed time, after the first phone: between words is
//     usually quiet, though a stop consonant's closure inside a word can win;
//  4. at max, when max is shorter than the first phone.
//
// The last Fade before the cut fades out to zero (a raised cosine). Phones
// and words that start at or after the cut are dropped, and the one it
// crosses is shortened. Fit does nothing when a already fits.
func (a *Audio) Fit(max time.Duration) {
	if max < 0 {
		max = 0
	}
	if a.Duration() <= max {
		return
	}
	cut := a.cutPoint(max)
	a.Samples = a.Samples[:durationToSamples(cut)]
	fadeOut(a.Samples, durationToSamples(Fade))
	end := a.Duration()
	phones := a.Phones[:0]
	for _, p := range a.Phones {
		if p.Start >= end {
			break
		}
		p.End = min(p.End, end)
		phones = append(phones, p)
	}
	a.Phones = phones
	words := a.Words[:0]
	for _, w := range a.Words {
		if w.Start >= end {
			break
		}
		w.End = min(w.End, end)
		words = append(words, w)
	}
	a.Words = words
}

// cutPoint picks where Fit cuts to fit in limit; see Fit.
func (a *Audio) cutPoint(limit time.Duration) time.Duration {
	pause := time.Duration(-1)
	for i := len(a.Phones) - 1; i >= 0; i-- {
		p := a.Phones[i]
		if !IsPause(p.Symbol) || p.Start+Fade > limit {
			continue
		}
		// Only a pause that follows speech ends a word.
		for _, q := range a.Phones[:i] {
			if !IsPause(q.Symbol) {
				pause = min(p.End, limit)
				break
			}
		}
		break
	}
	// Of the words that end in the last wordChoice, the one that ends most
	// quietly (in a consonant rather than a vowel) makes the least abrupt cut.
	word, latest := time.Duration(-1), time.Duration(-1)
	best := math.Inf(1)
	for i := len(a.Words) - 1; i >= 0; i-- {
		w := a.Words[i]
		if w.End > limit || w.End <= 0 {
			continue
		}
		if latest < 0 {
			latest = w.End
		}
		if w.End < latest-wordChoice {
			break
		}
		end := a.nearQuiet(w.End, limit)
		hi := min(durationToSamples(end), len(a.Samples))
		lo := min(durationToSamples(max(w.Start, end-quietWindow)), hi)
		if e := rms(a.Samples[lo:hi]); e < best*0.7 { // later wins unless clearly louder
			word, best = end, e
		}
	}
	switch {
	case pause > 0 && pause+wordPreference >= word:
		return pause
	case word > 0:
		return word
	}
	speechStart := time.Duration(-1) // end of the first speech phone
	for _, p := range a.Phones {
		if !IsPause(p.Symbol) {
			speechStart = p.End
			break
		}
	}
	if speechStart < 0 || speechStart >= limit {
		return limit
	}
	if end, ok := quietest(a.Samples, max(speechStart, limit/2), limit); ok {
		return end
	}
	return limit
}

// wordSlack is how far nearQuiet looks around a word's end for a quieter
// place to cut: word ends carried over from another voice's timeline (see
// transfer) are off by a few tens of milliseconds.
const wordSlack = 60 * time.Millisecond

// nearQuiet returns the end of the quietest 20 ms window within wordSlack
// of at (and by limit), if it is clearly quieter than the 20 ms before at;
// else at.
func (a *Audio) nearQuiet(at, limit time.Duration) time.Duration {
	end, ok := quietest(a.Samples, max(0, at-wordSlack-quietWindow), min(limit, at+wordSlack))
	if !ok {
		return at
	}
	w := durationToSamples(quietWindow)
	here := rms(a.Samples[max(0, durationToSamples(at)-w):min(len(a.Samples), durationToSamples(at))])
	there := rms(a.Samples[max(0, durationToSamples(end)-w):min(len(a.Samples), durationToSamples(end))])
	if there < here*0.5 {
		return end
	}
	return at
}

// quietest returns the end of the 20 ms window of samples with the least
// energy among windows that lie within [from, to], scanning in 5 ms steps;
// later windows win ties. ok is false when no window fits.
func quietest(samples []int16, from, to time.Duration) (end time.Duration, ok bool) {
	w := durationToSamples(quietWindow)
	step := durationToSamples(5 * time.Millisecond)
	lo, hi := durationToSamples(from), min(durationToSamples(to), len(samples))
	best := math.Inf(1)
	bestEnd := -1
	for e := lo + w; e <= hi; e += step {
		var energy float64
		for _, s := range samples[e-w : e] {
			energy += float64(s) * float64(s)
		}
		if energy <= best {
			best, bestEnd = energy, e
		}
	}
	if bestEnd < 0 {
		return 0, false
	}
	return samplesToDuration(bestEnd), true
}

// rms returns the root mean square of s, 0 for none.
func rms(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(s)))
}

// fadeOut applies a raised-cosine fade over the last n samples of s, reaching
// exactly zero at the last sample.
func fadeOut(s []int16, n int) {
	n = min(n, len(s))
	for i := range n {
		// i counts back from the last sample, which gets gain 0.
		g := 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(n))
		k := len(s) - 1 - i
		s[k] = int16(math.Round(float64(s[k]) * g))
	}
}

// fadeIn is fadeOut's mirror at the start of s.
func fadeIn(s []int16, n int) {
	n = min(n, len(s))
	for i := range n {
		g := 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(n))
		s[i] = int16(math.Round(float64(s[i]) * g))
	}
}

// Track lays a out on a silent track of length total starting at lead and
// returns exactly round(total*SampleRate) samples. Speech that would run past
// the end is cut there with a Fade-long fade-out (call Fit first to cut at a
// pause instead). A nil a gives silence.
func Track(a *Audio, lead, total time.Duration) []int16 {
	out := make([]int16, durationToSamples(total))
	if a == nil {
		return out
	}
	at := durationToSamples(lead)
	if at >= len(out) {
		return out
	}
	n := copy(out[at:], a.Samples)
	if n < len(a.Samples) {
		fadeOut(out[at:at+n], durationToSamples(Fade))
	}
	return out
}
