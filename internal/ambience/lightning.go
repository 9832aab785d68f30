package ambience

import (
	"math"
	"time"

	"stillmotion/internal/prompt"
)

// flashRate is the frame rate on whose frame starts Lightning puts its
// flashes: the design's 24 fps. At other rates Event.Frame still finds the
// frame that shows the flash.
const flashRate = 24

// Lightning returns the lightning flashes of a clip of this length, each a
// Thunder event at its flash, so the renderer can draw the flash on the
// frame where Render puts the crack. The prompt must name lightning or
// thunder ("lightning", "thunderstorm", "thunderclap"...) and neither it
// nor the negative prompt refuse them (sc.Weather.Lightning); a storm
// alone is rain and wind, not necessarily lightning. The result is
// deterministic per scene, length and seed, and ordered by time.
//
// A clip gets one flash, or up to one more for every further 3 s: one or
// two in 5 s, one to three in 8 s. They are spread out, never in the
// first half-second (the first frame stays the picture as given) nor in
// the last second (so the crack is heard), and fall on frame starts at
// 24 fps. Strength says how near (sc.Weather.Distance): words such as
// "distant" or "on the horizon" make weaker flashes and later, softer
// thunder, "overhead" or "strikes" stronger ones.
func Lightning(sc *prompt.Scene, length time.Duration, seed int64) []Event {
	if !sc.Weather.Lightning.On {
		return nil
	}
	lo, hi := 0.45, 0.85 // the range of strengths
	switch sc.Weather.Distance {
	case prompt.Near:
		lo, hi = 0.75, 1
	case prompt.Far:
		lo, hi = 0.25, 0.5
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
