package ambience

import (
	"testing"

	"stillmotion/internal/prompt"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name, prompt, negative string
		want                   string // Scene.String
	}{
		{"empty", "", "", "room"},
		{"nothing recognised", "A portrait of a woman smiling, golden hour", "", "room"},

		{"rain", "Rain on a tin roof", "", "rain"},
		{"raining", "it is raining in Paris", "", "rain"},
		{"heavy rain", "heavy rain lashing the window", "", "rain (heavy)"},
		{"drizzle", "a fine drizzle", "", "rain (light)"},
		{"downpour", "caught in a downpour", "", "rain (heavy)"},
		{"storm", "a storm", "", "rain (heavy), wind (heavy, 0.5)"},
		{"thunder implies rain", "thunder over the hills", "", "rain (0.5), forest (light)"},

		{"wind", "wind blowing through the grass", "", "wind"},
		{"breeze", "a gentle breeze", "", "wind (light)"},
		{"gale", "a gale", "", "wind (heavy)"},
		{"strong breeze", "a strong breeze", "", "wind (heavy)"},
		{"desert implies wind", "a camel in the desert", "", "wind (light, 0.5)"},

		{"beach", "a quiet beach at sunrise", "", "sea (light)"},
		{"waves crashing", "waves crashing on the rocks", "", "sea (heavy)"},
		{"crashing waves and beach", "the beach, crashing waves", "", "sea (heavy)"},
		{"waves of a hand", "she waves at the camera", "", "room"},
		{"lake", "a calm lake at dawn", "", "sea (light)"},

		{"stream", "a mountain stream", "", "stream, wind (light, 0.5)"},
		{"river", "a boat on the river", "", "stream"},
		{"waterfall", "a waterfall in the jungle", "", "stream (heavy), forest, birds (0.5)"},
		{"light streams", "sunlight streams through the trees", "", "forest, birds (0.5)"},

		{"city", "a busy city street at rush hour", "", "city (heavy)"},
		{"city at night", "downtown at night", "", "city"},
		{"town square", "a town square", "", "city (light), crowd (light, 0.5)"},

		{"forest", "a forest of tall pines", "", "forest, birds (0.5)"},
		{"birds", "birds singing in the trees", "", "birds, forest"},
		{"garden", "birds singing in a garden", "", "birds, forest (light)"},
		{"no birds at night", "a forest at night", "", "forest, night (light, 0.5)"},
		{"no birds in the rain", "a forest in the rain", "", "forest, rain"},
		{"birds in a gale only when named", "birds in the trees, a gale", "", "birds, forest, wind (heavy)"},
		{"forest at night", "a forest at night", "", "forest, night (light, 0.5)"},
		{"crickets", "crickets chirping in the grass", "", "night"},

		{"fire", "a crackling campfire", "", "fire"},
		{"bonfire", "a roaring bonfire on the beach", "", "fire (heavy), sea"},
		{"embers", "glowing embers", "", "fire (light)"},

		{"crowd", "a crowded market", "", "crowd"},
		{"cafe", "a cosy café", "", "crowd (light)"},
		{"stadium", "a cheering stadium", "", "crowd (heavy)"},

		{"room", "an empty room", "", "room"},
		{"room beside rain", "a bedroom with rain on the window", "", "rain"},

		{"several", "rain and wind over the sea", "", "rain, wind, sea"},
		{"several, first mention first", "a forest by the sea in the rain", "", "forest, sea, rain"},

		{"no wind", "a beach, no wind", "", "sea"},
		{"no rain", "no rain", "", "room"},
		{"not raining", "it's not raining, but windy", "", "wind"},
		{"without rain or wind", "a field without rain or wind", "", "forest (light), birds (light, 0.5)"},
		{"negation stops at a comma", "no rain, strong wind", "", "wind (heavy)"},
		{"negation wins", "rain, then no rain", "", "room"},
		{"negative prompt", "a thunderstorm at sea", "rain", "wind (heavy, 0.5), sea"},
		{"negative prompt phrase", "a sunny forest", "no birds, blurry", "forest"},
		{"negative prompt without sound words", "a city street", "noise, grain, blurry", "city"},

		{"no sound", "a beach, no sound", "", "silence"},
		{"negative sound", "a beach", "sound", "silence"},
		{"negative audio", "a city", "music, audio", "silence"},
		{"not muted", "sound not muted, rain", "", "rain"},
		{"silent", "a silent forest", "", "forest (light), birds (light, 0.5)"},
		{"silence alone", "silence", "", "room (light)"},

		{"depth of field", "portrait, shallow depth of field", "", "room"},
		{"bird's eye view", "bird's-eye view of a desert", "", "wind (light, 0.5)"},
		{"muted colours", "muted colors, portrait", "", "room"},
		{"fire truck", "a fire truck in the street", "", "city"},
		{"case and hyphens", "HEAVY-RAIN in the City", "", "rain (heavy), city"},
		{"typographic apostrophe", "don’t show rain; a forest", "", "forest, birds (0.5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Plan(prompt.Read(tt.prompt, tt.negative)).String(); got != tt.want {
				t.Errorf("Plan(Read(%q, %q)) = %q, want %q", tt.prompt, tt.negative, got, tt.want)
			}
		})
	}
}

// TestPlanEveryKind checks that each kind can be reached from words.
func TestPlanEveryKind(t *testing.T) {
	prompts := map[Kind]string{
		Room: "a library", Rain: "rain", Wind: "wind", Sea: "the ocean", Stream: "a brook",
		City: "traffic", Forest: "the woods at night", Night: "cicadas", Fire: "a fireplace", Crowd: "a festival",
		Birds: "birdsong",
	}
	for k := Room; k < numKinds; k++ {
		t.Run(k.String(), func(t *testing.T) {
			p, ok := prompts[k]
			if !ok {
				t.Fatalf("no prompt for %v", k)
			}
			s := Plan(prompt.Read(p, ""))
			if len(s.Layers) == 0 || s.Layers[0].Kind != k {
				t.Errorf("Plan(%q) = %v, want %v first", p, s, k)
			}
		})
	}
}
