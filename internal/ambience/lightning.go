package ambience

import (
	"math"
	"slices"
	"strings"
	"time"
)

// flashRate is the frame rate on whose frame starts Lightning puts its
// flashes: the design's 24 fps. At other rates Event.Frame still finds the
// frame that shows the flash.
const flashRate = 24

// lightningCue lists the words that bring lightning, and with it thunder.
var lightningCue = words(`lightning`, `thunder`, `thunders`, `thundering`, `thunderous`, `thunderstorms?`,
	`thunderclaps?`, `thunderbolts?`, `electrical storms?`, `lightning storms?`)

var (
	farWords  = []string{"distant", "far", "faraway", "remote", "horizon", "faint", "faintly", "low", "rumbling", "rolling"}
	nearWords = []string{"close", "near", "nearby", "overhead", "strike", "strikes", "striking", "struck", "bolt", "bolts",
		"loud", "deafening", "violent", "huge", "massive", "crack", "cracks", "cracking", "crashing", "booming", "fierce", "intense"}
)

// Lightning returns the lightning flashes of a clip of this length, each a
// Thunder event at its flash, so the renderer can draw the flash on the
// frame where Render puts the crack. The prompt must name lightning or
// thunder ("lightning", "thunderstorm", "thunderclap"...), not negated; a
// storm alone is rain and wind, not necessarily lightning. The result is
// deterministic per prompt, length and seed, and ordered by time.
//
// A clip gets one flash, or up to one more for every further 3 s: one or
// two in 5 s, one to three in 8 s. They are spread out, never in the
// first half-second (the first frame stays the picture as given) nor in
// the last second (so the crack is heard), and fall on frame starts at
// 24 fps. Strength says how near: words such as "distant" or "on the
// horizon" make weaker flashes and later, softer thunder, "overhead" or
// "strikes" stronger ones.
//
// Lightning reads only the prompt: a negative prompt that refuses
// lightning is for the caller to honour.
func Lightning(prompt string, length time.Duration, seed int64) []Event {
	text := normalize(prompt)
	var found bool
	lo, hi := 0.45, 0.85 // the range of strengths
	for _, loc := range lightningCue.FindAllStringIndex(text, -1) {
		if negated(text[:loc[0]]) {
			continue
		}
		if !found {
			lo, hi = distance(text, loc[0], loc[1])
		}
		found = true
	}
	if !found {
		return nil
	}

	clip := length.Seconds()
	start := math.Min(0.5, clip/4)
	end := clip - math.Min(1, clip/4)
	if end <= start {
		return nil
	}
	r := newRNG(seed, 2<<32)
	most := max(1, 1+int((clip-1.5)/3))
	count := 1 + r.intn(most)
	span := (end - start) / float64(count)
	var events []Event
	for k := range count {
		t := start + span*(float64(k)+r.between(0.15, 0.85))
		frame := int64(math.Round(t * flashRate))
		// The first nanosecond of the frame, rounded up, so that
		// Event.Frame(24) is exactly frame.
		at := time.Duration((frame*int64(time.Second) + flashRate - 1) / flashRate)
		if at >= length {
			continue
		}
		if n := len(events); n > 0 && events[n-1].At == at {
			continue
		}
		events = append(events, Event{Kind: Thunder, At: at, Strength: r.between(lo, hi)})
	}
	return events
}

// distance reads how far the lightning of the cue at text[start:end] is,
// from the words of the cue and the four words each side in the same
// clause, and returns the range of strengths to draw from.
func distance(text string, start, end int) (lo, hi float64) {
	window := strings.Fields(text[start:end])
	before := strings.Fields(text[:start])
	for i := len(before) - 1; i >= max(0, len(before)-4); i-- {
		if endsClause(before[i]) {
			break
		}
		window = append(window, before[i])
	}
	after := strings.Fields(text[end:])
	for _, w := range after[:min(4, len(after))] {
		window = append(window, w)
		if endsClause(w) {
			break
		}
	}
	for i, w := range window {
		window[i] = trimWord(w)
	}
	switch {
	case slices.ContainsFunc(window, func(w string) bool { return slices.Contains(nearWords, w) }):
		return 0.75, 1
	case slices.ContainsFunc(window, func(w string) bool { return slices.Contains(farWords, w) }):
		return 0.25, 0.5
	}
	return 0.45, 0.85
}
