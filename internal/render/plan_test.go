package render

import (
	"slices"
	"strings"
	"testing"

	"stillmotion/internal/prompt"
)

func TestPlanPromptWords(t *testing.T) {
	tests := []struct {
		prompt, negative string
		want             Move
		speed            float64 // the amount relative to the default; 0 means 1
		ease             Ease
	}{
		{prompt: "zoom in", want: ZoomIn},
		{prompt: "The camera zooms in on the cup", want: ZoomIn},
		{prompt: "Zoom-in on the rocket", want: ZoomIn},
		{prompt: "slow push in toward her face", want: ZoomIn, speed: slowFactor},
		{prompt: "camera pushes slowly in", want: ZoomIn, speed: slowFactor},
		{prompt: "dolly in", want: ZoomIn},
		{prompt: "crash zoom into the eyes", want: ZoomIn, speed: fastFactor},
		{prompt: "zoom out to reveal the city", want: ZoomOut},
		{prompt: "the camera zooms out", want: ZoomOut},
		{prompt: "Pull back from the window", want: ZoomOut},
		{prompt: "pulling back, steady", want: ZoomOut, ease: Linear},
		{prompt: "pan left across the skyline", want: PanLeft},
		{prompt: "quick whip pan left", want: WhipLeft, speed: fastFactor},
		{prompt: "whip pan", want: WhipRight},
		{prompt: "the camera pans slowly to the right", want: PanRight, speed: slowFactor},
		{prompt: "panning rightwards, accelerating", want: PanRight, ease: EaseIn},
		{prompt: "truck right along the shelf", want: TruckRight},
		{prompt: "tilt up to the sky", want: TiltUp},
		{prompt: "camera tilts up gently", want: TiltUp, speed: slowFactor},
		{prompt: "tilt down to the street, decelerating", want: TiltDown, ease: EaseOut},
		{prompt: "tilting downward", want: TiltDown},
		{prompt: "crane up over the roofs", want: PedestalUp},
		{prompt: "static shot of a cup", want: Static},
		{prompt: "still camera, steam rising", want: Static},
		{prompt: "Locked-off shot, leaves rustle", want: Static},
		{prompt: "no camera movement, only the steam moves", want: Static},
		{prompt: "the camera doesn't move", want: Static},
		{prompt: "first zoom in, then pan left", want: ZoomIn},
		{prompt: "don't zoom in, pan right instead", want: PanRight},
		{prompt: "without panning left; tilt down", want: TiltDown},
		{prompt: "zoom in", negative: "zoom, zoom in", want: ZoomIn}, // the prompt wins
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			for seed := range int64(5) {
				got := Plan(tt.prompt, tt.negative, seed)
				if got.Move != tt.want {
					t.Fatalf("Plan(%q, %q, %d).Move = %v, want %v", tt.prompt, tt.negative, seed, got.Move, tt.want)
				}
				if tt.want == Static {
					continue
				}
				speed := tt.speed
				if speed == 0 {
					speed = 1
				}
				if want := tt.want.DefaultAmount() * speed; got.Amount != want {
					t.Errorf("Plan(%q).Amount = %v, want %v", tt.prompt, got.Amount, want)
				}
				if got.Ease != tt.ease {
					t.Errorf("Plan(%q).Ease = %v, want %v", tt.prompt, got.Ease, tt.ease)
				}
			}
		})
	}
}

func TestPlanExclusions(t *testing.T) {
	tests := []struct {
		name, prompt, negative string
		allowed                []Move // the moves the seed may choose
	}{
		{"no words", "a cup of coffee on a table", "", seedMoves},
		{"not a pan", "pancakes in a frying pan on the stove", "", seedMoves},
		{"subject motion", "a car pulls away from the curb", "", seedMoves},
		{"negative zoom", "a cup of coffee", "no zoom", []Move{PanLeft, PanRight, TiltUp, TiltDown}},
		{"negative pan", "a cup of coffee", "blurry, pan", []Move{ZoomIn, TiltUp, TiltDown}},
		{"negative zoom and pan", "a cup of coffee", "zooming, panning", []Move{TiltUp, TiltDown}},
		{"negative tilt up only", "a cup of coffee", "tilt up", []Move{ZoomIn, PanLeft, PanRight, TiltDown}},
		{"negative camera movement", "a cup of coffee", "camera movement", []Move{Static}},
		{"negative no camera movement", "a cup of coffee", "No camera movement, low quality", []Move{Static}},
		{"negated in prompt", "a cup of coffee, don't zoom", "", []Move{PanLeft, PanRight, TiltUp, TiltDown}},
		{"negated tilt in prompt", "a lake, no tilting", "pan", []Move{ZoomIn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(map[Move]bool)
			for seed := range int64(60) {
				got := Plan(tt.prompt, tt.negative, seed)
				if !slices.Contains(tt.allowed, got.Move) {
					t.Fatalf("Plan(%q, %q, %d).Move = %v, want one of %v", tt.prompt, tt.negative, seed, got.Move, tt.allowed)
				}
				seen[got.Move] = true
			}
			if len(seen) != len(tt.allowed) {
				t.Errorf("60 seeds chose %d of the %d allowed moves %v", len(seen), len(tt.allowed), tt.allowed)
			}
		})
	}
}

func TestPlanSeed(t *testing.T) {
	seen := make(map[Move]bool)
	for seed := range int64(20) {
		a := Plan("a lighthouse at dusk", "", seed)
		if b := Plan("a lighthouse at dusk", "", seed); !equalShots(a, b) {
			t.Fatalf("Plan with seed %d is not deterministic: %+v, then %+v", seed, a, b)
		}
		seen[a.Move] = true
	}
	if len(seen) < 3 {
		t.Errorf("20 seeds chose %d different moves, want at least 3", len(seen))
	}
	big := Plan("a lighthouse at dusk", "", 2147483647)
	if !equalShots(big, Plan("a lighthouse at dusk", "", 2147483647)) {
		t.Error("Plan with the largest seed is not deterministic")
	}
}

func TestShotDescription(t *testing.T) {
	tests := []struct {
		shot Shot
		want string
	}{
		{Plan("zoom in", "", 0), `zoom in, steady, ease in-out (from prompt: "zoom in")`},
		{Plan("Camera PANS slowly left.", "", 0), `pan left, slow, ease in-out (from prompt: "PANS slowly left")`},
		{Plan("whip pan right, steady", "", 0), `whip pan right, fast, linear (from prompt: "whip pan right")`},
		{Plan("handheld push in on her face", "", 0), `zoom in, steady, ease in-out, handheld (from prompt: "push in")`},
		{Plan("Locked-off", "", 0), `static (from prompt: "Locked-off")`},
		{Plan("a cup", "camera movement", 0), `static (every camera move is excluded)`},
		{Shot{Move: ZoomOut}, `zoom out, steady, ease in-out`},
		{Shot{Move: ZoomIn, Depth: FigureDepth}, `zoom in, steady, ease in-out, figure before background`},
		{Shot{Move: PanLeft, Depth: SubjectDepth}, `pan left, steady, ease in-out, subject before background`},
		{Shot{Move: TruckRight, Depth: SkyDepth}, `truck right, steady, ease in-out, land before sky`},
		{Shot{Move: DollyZoom}, `dolly zoom, steady, ease in-out, centre held`},
		{Shot{Move: DollyZoom, Depth: SubjectDepth}, `dolly zoom, steady, ease in-out, subject before background`},
		{Shot{Move: Static, Depth: SkyDepth}, `static`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.shot.Description(); got != tt.want {
				t.Errorf("Description() = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Plan("a cup", "", 3).Description(); !strings.HasSuffix(got, "(chosen by seed)") {
		t.Errorf("seed-chosen Description() = %q, want it to say (chosen by seed)", got)
	}
}

// equalShots reports whether two shots are the same plan.
func equalShots(a, b Shot) bool {
	return a.Move == b.Move && a.Amount == b.Amount && a.Ease == b.Ease && a.Reason == b.Reason &&
		a.Style == b.Style && a.Light == b.Light && a.Atmosphere == b.Atmosphere && a.Subject == b.Subject && a.Shake == b.Shake && slices.Equal(a.Flashes, b.Flashes)
}

// TestWideSceneDrifts checks that across a wide scene the seed's camera
// mostly drifts (pans and trucks), that every drift occurs, and that the
// negative prompt still rules.
func TestWideSceneDrifts(t *testing.T) {
	tests := []struct {
		name, negative string
		allowed        []Move // the drifts that may occur
	}{
		{"any drift", "", driftMoves},
		{"no pan", "pan", []Move{TruckLeft, TruckRight}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[Move]int{}
			drifts := 0
			for seed := range int64(200) {
				s := PlanFor(prompt.Read("a valley at dawn", tt.negative), seed, Hint{Wide: true})
				seen[s.Move]++
				if slices.Contains(driftMoves, s.Move) {
					drifts++
					if !slices.Contains(tt.allowed, s.Move) {
						t.Fatalf("seed %d: %v despite negative %q", seed, s.Move, tt.negative)
					}
					if s.Reason != "a drift across the scene" && s.Reason != "chosen by seed" {
						t.Errorf("seed %d: reason %q", seed, s.Reason)
					}
				}
			}
			if drifts < 140 {
				t.Errorf("%d of 200 seeds drift across the scene, want most (%v)", drifts, seen)
			}
			for _, mv := range tt.allowed {
				if seen[mv] == 0 {
					t.Errorf("no seed chose %v (%v)", mv, seen)
				}
			}
		})
	}
	if s := PlanFor(prompt.Read("a valley at dawn", ""), 5, Hint{}); s.Reason == "a drift across the scene" {
		t.Errorf("a picture that is not wide drifts: %+v", s)
	}
	if !IsWide(640, 427) || IsWide(600, 800) || IsWide(500, 400) {
		t.Error("IsWide: 640x427 is wide; 600x800 and 500x400 are not")
	}
}

// TestFlat checks that the negative prompt, or a negation in the prompt,
// keeps the picture one layer, and that New then separates nothing.
func TestFlat(t *testing.T) {
	tests := []struct {
		prompt, negative string
		want             bool
	}{
		{"zoom in", "", false},
		{"zoom in", "parallax", true},
		{"zoom in", "blur, 3d effect", true},
		{"zoom in, no parallax", "", true},
		{"zoom in with parallax", "", false},
		{"zoom in", "shallow depth of field", false},
	}
	for _, tt := range tests {
		t.Run(tt.prompt+"/"+tt.negative, func(t *testing.T) {
			s := Plan(tt.prompt, tt.negative, 1)
			if s.Flat != tt.want {
				t.Errorf("Flat = %v, want %v", s.Flat, tt.want)
			}
			if got := strings.Contains(s.Description(), "no parallax"); got != tt.want {
				t.Errorf("Description() = %q", s.Description())
			}
		})
	}
	r := New(landscape(), 640, 360, Shot{Move: TruckRight, Flat: true}, 24)
	if r.layers != nil || r.Shot().Depth != NoDepth {
		t.Errorf("a flat shot has layers: %v", r.Shot().Depth)
	}
	if r := New(landscape(), 640, 360, Shot{Move: TruckRight}, 24); r.layers == nil {
		t.Error("the landscape has no layers without Flat")
	}
}
