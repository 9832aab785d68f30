package prompt

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRead checks what Read understands, as Scene.String says it, for
// negations in the prompt and in the negative prompt, conjunctions,
// synonyms, intensities and decoys.
func TestRead(t *testing.T) {
	tests := []struct {
		name, prompt, negative string
		want                   string
	}{
		{"empty", "", "", "nothing recognised"},
		{"nothing known", "a portrait of a woman smiling", "", "nothing recognised"},

		// Negation in the prompt.
		{"without any", "a street, without any rain", "", "sound: city; without: rain"},
		{"no", "a street, no rain", "", "sound: city; without: rain"},
		{"not", "it's not raining, but windy", "", "weather: wind; atmosphere: foliage sway, hair and cloth in wind; without: raining"},
		{"isn't", "it isn't raining", "", "without: raining"},
		{"x-free", "rain-free streets", "", "sound: city; without: rain"},
		{"free of", "a street free of rain", "", "sound: city; without: rain"},
		{"negation wins", "rain, then no rain", "", "without: rain"},
		{"through a modifier", "no heavy rain over the city", "", "sound: city; without: rain"},
		{"out of reach", "no people in the rain", "", "weather: rain; atmosphere: rain; without: people"},
		{"typographic apostrophe", "don’t show rain; a forest", "", "atmosphere: foliage sway; sound: forest, birds (implied); without: rain"},
		{"unknown words", "no music, a cafe", "", "sound: light crowd; without: music"},

		// Negation by the negative prompt.
		{"negative word", "a street", "rain", "sound: city; without: rain"},
		{"negative with its own no", "a street", "no rain, blurry", "sound: city; without: rain, blurry"},
		{"negative refuses what it names", "thunderstorm", "lightning", "weather: heavy rain, heavy wind (implied); atmosphere: rain; without: lightning"},
		{"negative thunder is lightning too", "thunderstorm", "thunder", "weather: heavy rain, heavy wind (implied); atmosphere: rain; without: thunder"},
		{"negative particles", "snow and fog", "particles", "weather: snow, light wind (implied); atmosphere: fog; without: particles"},
		{"negative sound", "a forest", "sound", "atmosphere: foliage sway; sound: none; without: sound"},
		{"negative grade", "a portrait", "black and white", "without: black and white"},
		{"negative night keeps crickets", "crickets at night", "night", "sound: insects; without: night"},

		// Conjunctions.
		{"and", "rain and fog", "", "weather: rain; atmosphere: rain, fog"},
		{"neither nor", "neither rain nor snow", "", "without: rain, snow"},
		{"or carries", "no rain or wind", "", "without: rain, wind"},
		{"and ends", "no rain and wind", "", "weather: wind; atmosphere: foliage sway, hair and cloth in wind; without: rain"},
		{"but no", "rain but no thunder", "", "weather: rain; atmosphere: rain; without: thunder"},
		{"comma ends", "no rain, strong wind", "", "weather: heavy wind; atmosphere: foliage sway, hair and cloth in wind; without: rain"},
		{"lightning but no thunder", "lightning, no thunder", "", "weather: rain (implied); without: thunder"},

		// Synonyms and intensity.
		{"downpour", "a downpour", "", "weather: heavy rain; atmosphere: rain"},
		{"drizzle", "drizzle over the harbour", "", "weather: light rain; atmosphere: rain; sound: light sea"},
		{"torrential", "torrential rain", "", "weather: heavy rain; atmosphere: rain"},
		{"pouring", "pouring rain", "", "weather: heavy rain; atmosphere: rain"},
		{"gentle breeze", "a gentle breeze", "", "weather: light wind; atmosphere: foliage sway, hair and cloth in wind"},
		{"gale", "a gale", "", "weather: heavy wind; atmosphere: foliage sway, hair and cloth in wind"},
		{"blizzard", "a blizzard", "", "weather: heavy snow, heavy wind; atmosphere: snow, foliage sway, hair and cloth in wind"},
		{"hurricane implies rain", "a hurricane", "", "weather: heavy rain (implied), heavy wind; atmosphere: foliage sway, hair and cloth in wind"},
		{"modifier belongs to the nearer thing", "a forest in heavy rain", "", "weather: heavy rain; atmosphere: rain, foliage sway; sound: forest, birds (implied)"},
		{"said beats the word", "the beach, crashing waves", "", "atmosphere: water shimmer; sound: heavy sea"},
		{"busy street", "a busy city street at rush hour", "", "sound: heavy city"},
		{"near lightning", "lightning strikes the tower", "", "weather: rain (implied), near lightning"},
		{"far lightning", "Lightning on the horizon", "", "weather: rain (implied), distant lightning"},
		{"silent", "a silent forest", "", "atmosphere: foliage sway; sound: hushed: light forest, light birds (implied)"},
		{"sound off", "sound off, a beach", "", "sound: none"},
		{"windless", "a windless lake", "", "atmosphere: water shimmer; sound: light sea"},
		{"cloudless", "a cloudless sky", "", "nothing recognised"},

		// Decoys.
		{"rainbow", "rainbow over the hills", "", "sound: light forest, light birds (implied)"},
		{"snowboard", "a snowboarder on a slope", "", "nothing recognised"},
		{"snow white", "snow white in the forest", "", "atmosphere: foliage sway; sound: forest, birds (implied)"},
		{"snow capped", "snow-capped mountains", "", "weather: light wind (implied)"},
		{"brainstorm", "a brainstorm in an office", "", "sound: room"},
		{"bird's eye view", "bird's-eye view of a city", "", "sound: city"},
		{"depth of field", "a portrait, shallow depth of field", "", "nothing recognised"},
		{"fire truck", "a fire truck on the street", "", "sound: city"},
		{"storm troopers", "storm troopers in the desert", "", "weather: light wind (implied)"},
		{"dust storm is no rain", "a dust storm", "", "weather: heavy wind; atmosphere: dust, foliage sway, hair and cloth in wind"},
		{"electrical storm", "an electrical storm", "", "weather: rain (implied), lightning"},
		{"a waving hand", "she waves at the camera", "", "nothing recognised"},
		{"waves of the sea", "waves crashing on the beach", "", "atmosphere: water shimmer; sound: heavy sea"},
		{"sea green", "a sea green dress", "", "nothing recognised"},
		{"glass of water", "a glass of water on a table", "", "nothing recognised"},
		{"lightning fast", "a lightning fast car", "", "nothing recognised"},
		{"thundering is loud", "a thundering waterfall", "", "sound: heavy stream"},
		{"blazing sun", "under the blazing sun", "", "nothing recognised"},
		{"smoky eyes", "smoky eyes portrait", "", "nothing recognised"},
		{"frying pan", "pancakes in a frying pan", "frying pan", "without: frying pan"},

		// The camera and the light.
		{"camera", "slow push in on a busy street at golden hour, light rain, no people", "",
			"camera: slow zoom in; light: golden hour; weather: light rain; atmosphere: rain; sound: heavy city; without: people"},
		{"camera negated", "don't zoom in, pan right instead", "blurry, no camera shake", "camera: pan right; without: zoom in, blurry, camera shake"},
		{"static", "the camera doesn't move, leaves rustle", "", "camera: static; atmosphere: foliage sway"},
		{"handheld, no parallax", "zoom in, no parallax, handheld", "", "camera: zoom in, handheld, no parallax; without: parallax"},
		{"sun sets", "a golden hour beach as the sun sets", "", "light: natural → golden hour+dusk; sound: sea"},
		{"refused grade leaves the change", "a beach as the sun sets, not golden hour", "", "light: natural → dusk; sound: sea; without: golden hour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Read(tt.prompt, tt.negative).String(); got != tt.want {
				t.Errorf("Read(%q, %q) =\n%s\nwant\n%s", tt.prompt, tt.negative, got, tt.want)
			}
		})
	}
}

func TestNegation(t *testing.T) {
	tests := []struct {
		before, after string
		want          bool
	}{
		{"", "", false},
		{"no ", "", true},
		{"without any ", "", true},
		{"there is no more ", "", true},
		{"no rain or ", "", true},
		{"neither rain nor ", "", true},
		{"no rain and ", "", false},
		{"no rain but ", "", false},
		{"no rain, ", "", false},
		{"no, the ", "", false},
		{"not a breath of ", "", false}, // out of reach
		{"don't show ", "", true},
		{"a street free of ", "", true},
		{"a ", " free sky", true},
		{"a ", " free of dust", false},
		{"a ", ", free", false},
	}
	for _, tt := range tests {
		t.Run(tt.before+"|"+tt.after, func(t *testing.T) {
			text := tt.before + "wind" + tt.after
			start := len(tt.before)
			if got := negation(newPassage(text), start, start+4) >= 0; got != tt.want {
				t.Errorf("negation of wind in %q = %v, want %v", text, got, tt.want)
			}
		})
	}
}

// TestLevels checks the parts of a Level that String does not show.
func TestLevels(t *testing.T) {
	s := Read("a storm over the sea, seagulls", "")
	if w := s.Weather.Wind; !w.On || !w.Implied || w.Named() || w.Intensity != Heavy {
		t.Errorf("storm's wind: %+v, want on, implied and heavy", w)
	}
	if r := s.Weather.Rain; !r.Named() || r.Intensity != Heavy || r.At != 2 {
		t.Errorf("storm's rain: %+v, want named, heavy, at 2", r)
	}
	want := []Source{{Kind: Sea, Level: Level{On: true, Intensity: Moderate, At: 17}}}
	if !reflect.DeepEqual(s.Sound.Sources, want) {
		t.Errorf("sources %+v, want %+v", s.Sound.Sources, want)
	}
	// Sources come in the order of their first mention, named first.
	s = Read("a forest by the sea, a campfire", "")
	var kinds []SourceKind
	for _, src := range s.Sound.Sources {
		kinds = append(kinds, src.Kind)
	}
	if want := []SourceKind{Forest, Birds, Sea, Fire}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
	if !s.Sound.Has(Fire) || s.Sound.Has(City) {
		t.Error("Sound.Has")
	}
}

func TestCamera(t *testing.T) {
	tests := []struct {
		prompt, negative string
		want             Camera
	}{
		{"Camera PANS slowly left.", "", Camera{Move: PanLeft, Words: "PANS slowly left", Speed: Slow}},
		{"whip pan right, steady", "", Camera{Move: WhipRight, Words: "whip pan right", Ease: Linear}},
		{"tilt down to the street, decelerating", "", Camera{Move: TiltDown, Words: "tilt down", Ease: EaseOut}},
		{"crash zoom into the eyes", "", Camera{Move: ZoomIn, Words: "zoom into", Speed: Fast}},
		{"Locked-off", "", Camera{Move: Static, Words: "Locked-off"}},
		{"zoom in", "zoom, zoom in", Camera{Move: ZoomIn, Words: "zoom in", Excluded: movesOf(ZoomIn, ZoomOut, DollyZoom)}},
		{"a cup, don't zoom", "tilt up", Camera{Excluded: movesOf(ZoomIn, ZoomOut, DollyZoom, TiltUp)}},
		{"a cup", "No camera movement", Camera{Excluded: movesOf(allMoving...)}},
		{"handheld shot of a market", "", Camera{Handheld: true}},
		{"handheld, on a tripod", "", Camera{Move: Static, Words: "tripod"}},
		{"a market, documentary style", "camera shake", Camera{}},
		{"zoom in", "3d effect", Camera{Move: ZoomIn, Words: "zoom in", Flat: true}},
		{"zoom in with parallax", "shallow depth of field", Camera{Move: ZoomIn, Words: "zoom in"}},
		{"pancakes in a frying pan", "", Camera{}},
	}
	for _, tt := range tests {
		t.Run(tt.prompt+"|"+tt.negative, func(t *testing.T) {
			if got := Read(tt.prompt, tt.negative).Camera; got != tt.want {
				t.Errorf("Read(%q, %q).Camera = %+v, want %+v", tt.prompt, tt.negative, got, tt.want)
			}
		})
	}
}

func TestLight(t *testing.T) {
	tests := []struct {
		prompt, negative string
		from, to         Grade
	}{
		{"a harbour", "", 0, 0},
		{"a moody street at night, neon signs", "", Night | Moody | Neon, Night | Moody | Neon},
		{"Vintage black-and-white portrait", "", Vintage | BlackAndWhite, Vintage | BlackAndWhite},
		{"a portrait, not black and white", "", 0, 0},
		{"the city as night falls, high contrast", "", HighContrast, Night | HighContrast},
		{"a valley, dawn breaks", "", Night, GoldenHour},
		{"a valley, dawn breaks", "dawn breaks", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			if l := Read(tt.prompt, tt.negative).Light; l.From != tt.from || l.To != tt.to {
				t.Errorf("Read(%q, %q).Light = %v → %v, want %v → %v", tt.prompt, tt.negative, l.From, l.To, tt.from, tt.to)
			}
		})
	}
}

// FuzzRead checks that Read never panics, is deterministic, and always
// describes what it read.
func FuzzRead(f *testing.F) {
	for _, s := range [][2]string{
		{"a street, without any rain", ""},
		{"neither rain nor snow, slow push in", "lightning, no birds"},
		{"Rain-free café — don’t zoom", "no sound"},
		{"no", "no"},
		{"free", ""},
		{"heavy", "heavy"},
		{"a free", "free of"},
		{",,, ;; no, , rain.", "((("},
		{"\xff\xfe rain \u00a0no\u00a0wind", "\x00"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, text, negative string) {
		a := Read(text, negative)
		b := Read(text, negative)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("Read(%q, %q) is not deterministic:\n%+v\n%+v", text, negative, a, b)
		}
		s := a.String()
		if s == "" {
			t.Fatalf("Read(%q, %q).String() is empty", text, negative)
		}
		if utf8.ValidString(text) && utf8.ValidString(negative) && !utf8.ValidString(s) {
			t.Errorf("String() = %q is not UTF-8", s)
		}
		for _, src := range a.Sound.Sources {
			if !src.On || src.At < 0 {
				t.Errorf("source %+v", src)
			}
		}
		if a.Camera.Move == NoMove && a.Camera.Words != "" {
			t.Errorf("camera words %q without a move", a.Camera.Words)
		}
		if strings.Contains(s, "\n") && !strings.Contains(text+negative, "\n") {
			t.Errorf("String() = %q has a line break", s)
		}
	})
}

func BenchmarkRead(b *testing.B) {
	for b.Loop() {
		Read("Slow push in on a busy street at golden hour, light rain, no people, neon signs reflecting in puddles", "blurry, low quality, lightning")
	}
}
