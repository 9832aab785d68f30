package ambience

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is a kind of place sound.
type Kind int

// The kinds of sound. Each is a procedural recipe; see the package
// documentation for what each is made of.
const (
	Room   Kind = iota // the air of a quiet room: faint, smooth, hum-free
	Rain               // a hiss of distant drops and close drops of varied size
	Wind               // band-passed noise that moves with gusts; a howl when heavy
	Sea                // surf: waves every 6 to 12 s, foam hiss at the crests
	Stream             // running water: dense bubbling; a roar for waterfalls
	City               // traffic rumble, passing cars, the odd far-off horn
	Forest             // leaves in the wind
	Birds              // songbirds of two or three species, over faint air
	Night              // crickets over still air
	Fire               // a low roar with crackles and pops
	Crowd              // babble of many voices, none intelligible
	numKinds
)

var kindNames = [...]string{
	Room:   "room",
	Rain:   "rain",
	Wind:   "wind",
	Sea:    "sea",
	Stream: "stream",
	City:   "city",
	Forest: "forest",
	Birds:  "birds",
	Night:  "night",
	Fire:   "fire",
	Crowd:  "crowd",
}

// String returns the kind's name, such as "rain".
func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Intensity is how strong a sound is in character: a drizzle or a
// downpour, a breeze or a gale. It changes the recipe and, by a few LU, the
// loudness. The zero Intensity is Moderate.
type Intensity int

// The intensities.
const (
	Moderate Intensity = iota
	Light
	Heavy
)

// String returns the intensity's name, such as "heavy".
func (in Intensity) String() string {
	switch in {
	case Moderate:
		return "moderate"
	case Light:
		return "light"
	case Heavy:
		return "heavy"
	}
	return "intensity(" + strconv.Itoa(int(in)) + ")"
}

// pick returns the value for in among the three given.
func (in Intensity) pick(light, moderate, heavy float64) float64 {
	switch in {
	case Light:
		return light
	case Heavy:
		return heavy
	}
	return moderate
}

// loudnessOffset is how far, in LU, a scene of this intensity sits from
// the target loudness: a drizzle should not be as loud as a downpour.
func (in Intensity) loudnessOffset() float64 { return in.pick(-3, 0, 2) }

// Layer is one kind of sound in a scene.
type Layer struct {
	Kind      Kind
	Intensity Intensity
	// Weight is the layer's share of the scene's loudness, relative to the
	// other layers: a layer of weight 1 beside one of weight 0.5 carries
	// twice its power. Zero means 1.
	Weight float64
}

// weight returns the layer's weight with the default applied.
func (l Layer) weight() float64 {
	if l.Weight <= 0 {
		return 1
	}
	return l.Weight
}

// Scene is what the prompt says about the sound of the place: the layers
// that sound throughout, and events tied to moments of the picture. A scene
// with neither is silence.
type Scene struct {
	Layers []Layer
	Events []Event
}

// Kinds returns the kinds of the scene's layers, in order.
func (s Scene) Kinds() []Kind {
	kinds := make([]Kind, len(s.Layers))
	for i, l := range s.Layers {
		kinds[i] = l.Kind
	}
	return kinds
}

// Has reports whether the scene has a layer of kind k.
func (s Scene) Has(k Kind) bool {
	for _, l := range s.Layers {
		if l.Kind == k {
			return true
		}
	}
	return false
}

// String describes the scene for logs and users, such as
// "rain (heavy), wind (0.5), thunder at 2.125s".
func (s Scene) String() string {
	var parts []string
	for _, l := range s.Layers {
		var attrs []string
		if l.Intensity != Moderate {
			attrs = append(attrs, l.Intensity.String())
		}
		if w := l.weight(); w != 1 {
			attrs = append(attrs, strconv.FormatFloat(w, 'g', 3, 64))
		}
		p := l.Kind.String()
		if len(attrs) > 0 {
			p += " (" + strings.Join(attrs, ", ") + ")"
		}
		parts = append(parts, p)
	}
	for _, e := range s.Events {
		parts = append(parts, fmt.Sprintf("%s at %v", e.Kind, e.At))
	}
	if len(parts) == 0 {
		return "silence"
	}
	return strings.Join(parts, ", ")
}

// EventKind is a kind of sound tied to a moment of the picture.
type EventKind int

// The event kinds.
const (
	// Thunder is a thunderclap: a sharp crack that starts exactly at the
	// event (the lightning flash) and a low rumble that follows after a
	// delay that grows with distance and rolls on for 2 to 4 s.
	Thunder EventKind = iota
)

// String returns the event kind's name, such as "thunder".
func (k EventKind) String() string {
	if k == Thunder {
		return "thunder"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is a sound tied to a moment of the picture, such as a thunderclap
// at a lightning flash.
type Event struct {
	Kind EventKind
	// At is when the sound starts, from the start of the clip.
	At time.Duration
	// Strength is how near and strong the event is, in (0, 1]: 1 is a
	// strike overhead, 0.3 a storm on the horizon. A renderer can scale the
	// brightness of the flash by it. Zero means 1.
	Strength float64
}

// strength returns the event's strength with the default applied.
func (e Event) strength() float64 {
	if e.Strength <= 0 {
		return 1
	}
	return min(e.Strength, 1)
}

// Frame returns the index of the frame, at fps frames a second, that is
// showing at At: the frame on which to draw the event. The times Lightning
// returns fall on frame starts at 24 fps, so there Frame is exact.
func (e Event) Frame(fps int) int {
	if e.At <= 0 || fps <= 0 {
		return 0
	}
	return int(int64(e.At) * int64(fps) / int64(time.Second))
}
