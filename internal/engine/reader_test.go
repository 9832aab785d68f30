package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/generation"
	"stillmotion/internal/render"
)

// TestReaderAcrossConsumers checks, for each prompt and negative prompt,
// what the picture's plan and the soundtrack's scene both get from the one
// reading of the prompt, and that they agree: rain drawn is rain heard,
// every flash has its thunderclap and no thunderclap lacks its flash.
func TestReaderAcrossConsumers(t *testing.T) {
	const (
		frames = 5 * FPS
		length = 5 * time.Second
	)
	anyMove := render.Move(-1)
	tests := []struct {
		prompt, negative string
		move             render.Move       // anyMove for the seed's choice
		drawn, notDrawn  render.Atmosphere // effects the picture must and must not have
		flashes          bool              // lightning in the picture, thunder in the sound
		heard, notHeard  []ambience.Kind   // layers the sound must and must not have
		heavy            []ambience.Kind   // layers that must be heavy
		light            render.Grade      // the grade at the end of the clip
	}{
		{prompt: "a street, without any rain", move: anyMove, notDrawn: render.Rain, heard: []ambience.Kind{ambience.City}, notHeard: []ambience.Kind{ambience.Rain}},
		{prompt: "a street in the rain", negative: "rain", move: anyMove, notDrawn: render.Rain, heard: []ambience.Kind{ambience.City}, notHeard: []ambience.Kind{ambience.Rain}},
		{prompt: "a forest in heavy rain", move: anyMove, drawn: render.Rain | render.Sway, heard: []ambience.Kind{ambience.Rain, ambience.Forest}, notHeard: []ambience.Kind{ambience.Birds}, heavy: []ambience.Kind{ambience.Rain}},
		{prompt: "a thunderstorm over the hills, lightning strikes", move: anyMove, drawn: render.Rain, flashes: true, heard: []ambience.Kind{ambience.Rain, ambience.Wind}, heavy: []ambience.Kind{ambience.Rain}},
		{prompt: "a thunderstorm over the hills", negative: "lightning", move: anyMove, drawn: render.Rain, heard: []ambience.Kind{ambience.Rain}},
		{prompt: "a thunderstorm over the hills", negative: "thunder", move: anyMove, drawn: render.Rain, heard: []ambience.Kind{ambience.Rain}},
		{prompt: "rain but no thunder", move: anyMove, drawn: render.Rain, heard: []ambience.Kind{ambience.Rain}},
		{prompt: "distant thunder over the sea", move: anyMove, notDrawn: render.Rain, drawn: render.Water, flashes: true, heard: []ambience.Kind{ambience.Rain, ambience.Sea}},
		{prompt: "rainbow over the hills", move: anyMove, notDrawn: render.Rain, heard: []ambience.Kind{ambience.Forest}, notHeard: []ambience.Kind{ambience.Rain}},
		{prompt: "bird's eye view of a city", move: anyMove, heard: []ambience.Kind{ambience.City}, notHeard: []ambience.Kind{ambience.Birds}},
		{prompt: "neither rain nor snow, a quiet beach", move: anyMove, notDrawn: render.Rain | render.Snow, heard: []ambience.Kind{ambience.Sea}, notHeard: []ambience.Kind{ambience.Rain, ambience.Wind}},
		{prompt: "rain and fog over the lake", move: anyMove, drawn: render.Rain | render.Fog | render.Water, heard: []ambience.Kind{ambience.Rain, ambience.Sea}},
		{prompt: "heavy rain on a city street", negative: "particles", move: anyMove, notDrawn: render.Rain, heard: []ambience.Kind{ambience.Rain, ambience.City}, heavy: []ambience.Kind{ambience.Rain}},
		{prompt: "no rain, strong wind", move: anyMove, drawn: render.Sway, notDrawn: render.Rain, heard: []ambience.Kind{ambience.Wind}, notHeard: []ambience.Kind{ambience.Rain}, heavy: []ambience.Kind{ambience.Wind}},
		{prompt: "a forest, no wind", move: anyMove, notDrawn: render.Sway, heard: []ambience.Kind{ambience.Forest}, notHeard: []ambience.Kind{ambience.Wind}},
		{prompt: "a windy forest", negative: "wind", move: anyMove, notDrawn: render.Sway, heard: []ambience.Kind{ambience.Forest}, notHeard: []ambience.Kind{ambience.Wind}},
		{prompt: "a gale over the cliffs", move: anyMove, drawn: render.Sway, heard: []ambience.Kind{ambience.Wind}, heavy: []ambience.Kind{ambience.Wind}},
		{prompt: "a dust storm in the desert", move: anyMove, drawn: render.Dust | render.Sway, notDrawn: render.Rain, heard: []ambience.Kind{ambience.Wind}, notHeard: []ambience.Kind{ambience.Rain}, heavy: []ambience.Kind{ambience.Wind}},
		{prompt: "a snowy village", move: anyMove, drawn: render.Snow, notDrawn: render.Sway, heard: []ambience.Kind{ambience.City, ambience.Wind}},
		{prompt: "snow white in the forest", move: anyMove, notDrawn: render.Snow, heard: []ambience.Kind{ambience.Forest}, notHeard: []ambience.Kind{ambience.Wind}},
		{prompt: "a fire truck in the street", move: anyMove, notDrawn: render.Embers, heard: []ambience.Kind{ambience.City}, notHeard: []ambience.Kind{ambience.Fire}},
		{prompt: "a campfire at night", move: anyMove, drawn: render.Embers, heard: []ambience.Kind{ambience.Fire}, light: render.Night},
		{prompt: "under the blazing sun in the desert", move: anyMove, notDrawn: render.Embers, heard: []ambience.Kind{ambience.Wind}, notHeard: []ambience.Kind{ambience.Fire}},
		{prompt: "she waves at the camera", move: anyMove, notDrawn: render.Water, heard: []ambience.Kind{ambience.Room}, notHeard: []ambience.Kind{ambience.Sea}},
		{prompt: "waves crashing on the beach", move: anyMove, drawn: render.Water, heard: []ambience.Kind{ambience.Sea}, heavy: []ambience.Kind{ambience.Sea}},
		{prompt: "a lightning fast car on the highway", move: anyMove, heard: []ambience.Kind{ambience.City}, notHeard: []ambience.Kind{ambience.Rain}},
		{prompt: "storm troopers marching through a city", move: anyMove, notDrawn: render.Rain, heard: []ambience.Kind{ambience.City}, notHeard: []ambience.Kind{ambience.Rain, ambience.Wind}},
		{prompt: "slow push in on a cafe in the rain", move: render.ZoomIn, drawn: render.Rain, heard: []ambience.Kind{ambience.Crowd, ambience.Rain}},
		{prompt: "don't zoom in, pan right across the harbour at golden hour", move: render.PanRight, notDrawn: render.Water, heard: []ambience.Kind{ambience.Sea}, light: render.GoldenHour},
		{prompt: "a beach as the sun sets, no sound", move: anyMove, light: render.GoldenHour | render.Dusk},
	}
	for _, tt := range tests {
		t.Run(tt.prompt+"|"+tt.negative, func(t *testing.T) {
			req := &generation.Request{Prompt: tt.prompt, NegativePrompt: tt.negative, Seed: 3, Duration: 5}
			shot := planShot(req, frames, render.Hint{})
			scene := soundScene(read(req), req.Seed, length)
			t.Logf("picture: %s", shot.Description())
			t.Logf("sound: %s", scene)

			if tt.move != anyMove && shot.Move != tt.move {
				t.Errorf("move %v, want %v", shot.Move, tt.move)
			}
			if shot.Atmosphere&tt.drawn != tt.drawn || shot.Atmosphere&tt.notDrawn != 0 {
				t.Errorf("picture draws %q; want %q and not %q", shot.Atmosphere, tt.drawn, tt.notDrawn)
			}
			if shot.Light.To != tt.light {
				t.Errorf("light ends %v, want %v", shot.Light.To, tt.light)
			}
			for _, k := range tt.heard {
				if !scene.Has(k) {
					t.Errorf("sound lacks %v", k)
				}
			}
			for _, k := range tt.notHeard {
				if scene.Has(k) {
					t.Errorf("sound has %v", k)
				}
			}
			for _, k := range tt.heavy {
				if !slices.ContainsFunc(scene.Layers, func(l ambience.Layer) bool { return l.Kind == k && l.Intensity == ambience.Heavy }) {
					t.Errorf("%v is not heavy", k)
				}
			}
			if strings.Contains(tt.prompt, "no sound") && len(scene.Layers) != 0 {
				t.Errorf("sound %v, want silence", scene)
			}

			// The picture and the sound agree.
			if got := len(shot.Flashes) > 0; got != tt.flashes {
				t.Errorf("%d flashes, want some: %v", len(shot.Flashes), tt.flashes)
			}
			if len(shot.Flashes) != len(scene.Events) {
				t.Fatalf("%d flashes, %d thunderclaps", len(shot.Flashes), len(scene.Events))
			}
			for i, e := range scene.Events {
				if f := e.Frame(FPS); shot.Flashes[i].Frame != f {
					t.Errorf("flash %d on frame %d, its thunder on frame %d", i, shot.Flashes[i].Frame, f)
				}
			}
			if shot.Atmosphere&render.Rain != 0 && !scene.Has(ambience.Rain) {
				t.Error("rain drawn and not heard")
			}
			named := slices.ContainsFunc(scene.Layers, func(l ambience.Layer) bool { return l.Kind == ambience.Rain && l.Weight == 1 })
			if named && shot.Atmosphere&render.Rain == 0 && !strings.Contains(tt.negative, "particles") {
				t.Error("rain named and heard, not drawn")
			}
		})
	}
}
