package lipsync

import (
	"math"
	"slices"
	"time"

	"stillmotion/internal/speech"
)

// Tail is how long the video runs on after the speech when the speech
// outlasts the input video: the mouth comes to rest before the end.
const Tail = 500 * time.Millisecond

// Bounce bounds the stretch of the input that plays back and forth to
// make the video as long as its speech: its last three seconds, or all of
// it if shorter. A longer stretch would show more of the input's motion,
// but its frames wait on disk while the video is written forward first.
const Bounce = 3 * time.Second

// timeline is the output's frames and where each comes from.
type timeline struct {
	fps    int
	input  int // the input's frames
	frames int // the output's
	// window is the number of steps of a bounce: after the input's last
	// frame, the output plays frames last-1 down to last-window and back up
	// to last, and again.
	window int
}

// newTimeline returns the timeline of an input of n frames at fps with
// speech ending at speechEnd: the input's length, or when the speech ends
// later, its end plus Tail, no more than limit.
func newTimeline(n, fps int, speechEnd, limit time.Duration) timeline {
	t := timeline{fps: fps, input: n, frames: n}
	if inputEnd := time.Duration(n) * time.Second / time.Duration(fps); speechEnd > inputEnd {
		end := min(speechEnd+Tail, limit)
		t.frames = max(n, int(math.Ceil(end.Seconds()*float64(fps)-1e-9)))
		t.window = min(n-1, int(Bounce.Seconds()*float64(fps)))
	}
	return t
}

// source returns the input frame that output frame j shows.
func (t timeline) source(j int) int {
	last := t.input - 1
	if j <= last {
		return j
	}
	if t.window <= 0 {
		return last
	}
	k := (j - last) % (2 * t.window)
	if k <= t.window {
		return last - k
	}
	return last - (2*t.window - k)
}

// bounceFrom returns the first input frame the bounce shows, or the
// input's length when there is none.
func (t timeline) bounceFrom() int {
	if t.frames <= t.input {
		return t.input
	}
	return t.input - 1 - t.window
}

// duration returns the output's length.
func (t timeline) duration() time.Duration {
	return time.Duration(t.frames) * time.Second / time.Duration(t.fps)
}

// cutSpeech returns sp cut to end by limit (from the start of its samples):
// at a pause or a word's end when it has phones (see speech.Audio.Fit),
// else at the last quiet moment of its loudness, with a short fade-out.
// sp is not changed; the result shares nothing with it.
func cutSpeech(sp *Speech, limit time.Duration) *Speech {
	out := *sp
	out.Samples = slices.Clone(sp.Samples)
	out.Phones = slices.Clone(sp.Phones)
	out.Words = slices.Clone(sp.Words)
	if len(out.Phones) > 0 {
		a := speech.Audio{Samples: out.Samples, Phones: out.Phones, Words: out.Words}
		a.Fit(limit)
		out.Samples, out.Phones, out.Words = a.Samples, a.Phones, a.Words
		return &out
	}
	n := quietCut(out.Samples, speech.SampleRate, limit)
	out.Samples = out.Samples[:n]
	fade := min(n, int(speech.Fade.Seconds()*speech.SampleRate))
	for i := range fade {
		// A raised cosine down to zero at the cut.
		g := 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(fade))
		k := n - 1 - i
		out.Samples[k] = int16(math.Round(float64(out.Samples[k]) * g))
	}
	return &out
}

// quietCut returns where to cut samples (at rate Hz) to end by limit
// without phone timings, in the second half of the allowed time: in the
// middle of the latest pause (120 ms or more that is quiet: a tenth of the
// speech's loud level, -20 dB, or less); failing that, at the end of the
// latest quiet 20 ms, a gap between syllables or a stop's closure; failing
// that, at the end of the quietest 20 ms; failing that, at limit.
func quietCut(samples []int16, rate int, limit time.Duration) int {
	end := min(len(samples), int(limit.Seconds()*float64(rate)))
	win, hop := rate/50, rate/200
	if end < 2*win {
		return end
	}
	level := func(e int) float64 {
		var s float64
		for _, v := range samples[e-win : e] {
			s += float64(v) * float64(v)
		}
		return math.Sqrt(s / float64(win))
	}
	var ends []int
	var levels []float64
	for e := win; e <= end; e += hop {
		ends, levels = append(ends, e), append(levels, level(e))
	}
	loud := slices.Clone(levels)
	slices.Sort(loud)
	quiet := 0.1 * loud[len(loud)*95/100]
	minPause := int(0.12*float64(rate)) - win // between the first and last quiet window's ends
	gap, dip, quietest := -1, -1, -1
	for k := len(ends) - 1; k >= 0 && ends[k] >= end/2; k-- {
		if quietest < 0 || levels[k] < levels[quietest] {
			quietest = k
		}
		if levels[k] > quiet {
			continue
		}
		if dip < 0 {
			dip = k
		}
		if gap < 0 {
			// The quiet run that ends here: where does it start?
			j := k
			for j > 0 && levels[j-1] <= quiet {
				j--
			}
			if ends[k]-ends[j] >= minPause {
				gap = (ends[j] - win + ends[k]) / 2
			}
		}
	}
	switch {
	case gap >= 0:
		return gap
	case dip >= 0:
		return ends[dip]
	case quietest >= 0:
		return ends[quietest]
	}
	return end
}
