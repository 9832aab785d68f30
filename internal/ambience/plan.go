package ambience

import (
	"cmp"
	"slices"

	"stillmotion/internal/prompt"
)

// sourceKinds are the kinds of the prompt's sources of sound, and
// intensities the intensities of its words.
var (
	sourceKinds = [...]Kind{
		prompt.Sea: Sea, prompt.Stream: Stream, prompt.City: City, prompt.Forest: Forest, prompt.Birds: Birds,
		prompt.Insects: Night, prompt.Fire: Fire, prompt.Crowd: Crowd, prompt.Room: Room,
	}
	intensities = [...]Intensity{prompt.Moderate: Moderate, prompt.Light: Light, prompt.Heavy: Heavy}
)

// Plan picks the scene's layers from what the prompt says of the weather
// and the place (sc.Weather, sc.Sound; see prompt.Read for the words).
// Events are left to Lightning, which needs the clip's length and seed.
// It is deterministic and has no state.
//
//   - What the prompt names is a layer of weight 1 ("rain", "beach",
//     "campfire", "crowd"), what it only implies one of weight 0.5:
//     "storm" implies wind beside its rain, a forest or a garden implies
//     birds unless it is night, raining, blowing a gale or burning, and
//     "night" implies crickets unless the place is a city, a crowd or a
//     room. Layers come in the order their words first appear, what is
//     named before what is implied.
//   - Each layer has the intensity the prompt says ("drizzle" is light
//     rain, "gale" heavy wind, "heavy rain", "a gentle breeze").
//   - What the prompt negates or the negative prompt names is not there.
//   - A prompt that asks for no sound ("no sound", "no audio", "sound
//     off", or "sound", "audio", "ambience" in the negative prompt) gives
//     silence: a Scene with no layers. "Silent", "silence" and "hushed"
//     make every layer light.
//   - Room tone stands alone: beside any other kind it is dropped. When
//     nothing is recognised the scene is Room: a clip that is meant to have
//     sound should never be digital silence, which sounds like a fault;
//     the air of a quiet room is what film editors lay under stillness.
func Plan(sc *prompt.Scene) Scene {
	if sc.Sound.Mute {
		return Scene{}
	}
	type found struct {
		layer Layer
		at    int // where the kind is first mentioned
	}
	var all []found
	add := func(k Kind, l prompt.Level) {
		if !l.On {
			return
		}
		w := 1.0
		if l.Implied {
			w = 0.5
		}
		all = append(all, found{Layer{Kind: k, Intensity: intensities[l.Intensity], Weight: w}, l.At})
	}
	add(Rain, sc.Weather.Rain)
	add(Wind, sc.Weather.Wind)
	for _, src := range sc.Sound.Sources {
		add(sourceKinds[src.Kind], src.Level)
	}
	slices.SortFunc(all, func(a, b found) int {
		// By first mention; what words name before what they imply.
		if a.at != b.at {
			return a.at - b.at
		}
		if a.layer.Weight != b.layer.Weight {
			return cmp.Compare(b.layer.Weight, a.layer.Weight)
		}
		return int(a.layer.Kind - b.layer.Kind)
	})
	var s Scene
	for _, f := range all {
		s.Layers = append(s.Layers, f.layer)
	}
	// What a place implies gives way to what is said about it: no crickets
	// in a city at night; no birds at night, in the rain, in a gale or a
	// blaze (unless the prompt names them).
	if implied(s, Night) && (s.Has(City) || s.Has(Crowd) || s.Has(Room)) {
		s.Layers = slices.DeleteFunc(s.Layers, func(l Layer) bool { return l.Kind == Night })
	}
	if implied(s, Birds) && (s.Has(Night) || s.Has(Rain) || heavy(s, Wind) || heavy(s, Fire)) {
		s.Layers = slices.DeleteFunc(s.Layers, func(l Layer) bool { return l.Kind == Birds })
	}
	if len(s.Layers) > 1 {
		s.Layers = slices.DeleteFunc(s.Layers, func(l Layer) bool { return l.Kind == Room })
	}
	if len(s.Layers) == 0 {
		s.Layers = []Layer{{Kind: Room, Intensity: Moderate, Weight: 1}}
	}
	if sc.Sound.Hush {
		for i := range s.Layers {
			s.Layers[i].Intensity = Light
		}
	}
	return s
}

// implied reports whether s has a layer of kind k that the prompt only
// implies.
func implied(s Scene, k Kind) bool {
	return slices.ContainsFunc(s.Layers, func(l Layer) bool { return l.Kind == k && l.Weight < 1 })
}

// heavy reports whether s has a heavy layer of kind k.
func heavy(s Scene, k Kind) bool {
	return slices.ContainsFunc(s.Layers, func(l Layer) bool { return l.Kind == k && l.Intensity == Heavy })
}
