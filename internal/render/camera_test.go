package render

import (
	"math"
	"testing"

	"stillmotion/internal/psnr"
)

// TestCameraWords checks the moves beyond the basic ones by the global
// motion they make: a whip pan's content shift in mid-clip, a push in
// towards an off-centre subject, and a handheld camera's wander.
func TestCameraWords(t *testing.T) {
	src := pattern(640, 360, 5)
	tests := []struct {
		name   string
		shot   Shot
		frames int
		a, b   int
		dxSign int // the sign of the content's horizontal shift
	}{
		{"whip pan left", Plan("a whip pan to the left", "", 1), 240, 118, 120, +1},
		{"whip pan right", Plan("whip pans right", "", 1), 240, 118, 120, -1},
		{"push in towards a subject on the right", Shot{Move: ZoomIn, Subject: Point{X: 0.25}}, 40, 10, 30, -1},
		{"push in towards a subject on the left", Shot{Move: ZoomIn, Subject: Point{X: -0.25}}, 40, 10, 30, +1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := New(src, 320, 180, tt.shot, tt.frames)
			a, w, h := luma(frame(r, tt.a))
			b, _, _ := luma(frame(r, tt.b))
			k, dx, dy := estimate(a, b, w, h)
			t.Logf("%s: zoom %.3f, shift (%+.0f, %+.0f)", tt.shot.Description(), k, dx, dy)
			if dx*float64(tt.dxSign) < 2 {
				t.Errorf("content moved %+.0f pixels along x, want at least 2 with sign %+d", dx, tt.dxSign)
			}
		})
	}
}

func TestHandheld(t *testing.T) {
	tests := []struct {
		prompt, negative string
		want             bool
	}{
		{"handheld shot of a market", "", true},
		{"shaky cam push in on her face", "", true},
		{"a market, documentary style", "camera shake", false},
		{"handheld shot of a market", "no camera shake", false},
		{"a market, no camera shake", "", false},
		{"handheld, on a tripod", "", false},
		{"a quiet lake", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.prompt+"|"+tt.negative, func(t *testing.T) {
			if got := Plan(tt.prompt, tt.negative, 3).Shake > 0; got != tt.want {
				t.Errorf("Plan(%q, %q) handheld = %v, want %v", tt.prompt, tt.negative, got, tt.want)
			}
		})
	}

	// The wander is smooth (a few hundredths of the frame's shake per
	// frame), starts from rest, and differs between seeds.
	src := pattern(320, 180, 6)
	a := New(src, 320, 180, Shot{Move: Static, Shake: defaultShake, Seed: 1}, 96)
	b := New(src, 320, 180, Shot{Move: Static, Shake: defaultShake, Seed: 2}, 96)
	if p := psnr.RGB(reference(src, 320, 180), frame(a, 0)); p < 35 {
		t.Errorf("frame 0 of a handheld shot: PSNR %.1f dB", p)
	}
	same := true
	var prev [2]float64
	for i := range 96 {
		_, x, y := a.view(i)
		_, x2, y2 := b.view(i)
		same = same && x == x2 && y == y2
		if i > 0 {
			if d := math.Hypot(x-prev[0], y-prev[1]); d > defaultShake/4 {
				t.Errorf("frame %d: the window jumped %.5f of the frame", i, d)
			}
		}
		prev = [2]float64{x, y}
	}
	if same {
		t.Error("seeds 1 and 2 shake the same way")
	}
}

func TestOrbitWords(t *testing.T) {
	tests := []struct {
		prompt string
		want   Move
	}{
		{"slow orbit left around the statue", OrbitLeft},
		{"the camera orbits around her", OrbitRight},
		{"an arc shot of the dancer", OrbitRight},
		{"circling around the tree to the left", OrbitLeft},
		{"the space station in orbit, zoom in", ZoomIn},
		{"orbit around the cup, steam rising", OrbitRight},
		{"circle around the car", OrbitRight},
		{"orbit around the statue to the left", OrbitLeft},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			if got := Plan(tt.prompt, "", 1).Move; got != tt.want {
				t.Errorf("Plan(%q).Move = %v, want %v", tt.prompt, got, tt.want)
			}
		})
	}
}

// TestOrbitKeepsTheFigure checks that in an orbit with a figure the
// background slides while the figure stays nearly put, and that in a pan
// the background slides less than the figure.
func TestOrbitKeepsTheFigure(t *testing.T) {
	src := pattern(640, 360, 12)
	figure := Box{Min: Point{-0.1, -0.25}, Max: Point{0.1, 0.05}}
	move := func(mv Move, x, y int) float64 {
		r := New(src, 320, 180, Shot{Move: mv, Figure: figure}, 40)
		// After the pan's scale has settled, so the motion is a slide.
		a := fullLuma(frame(r, 30).Pix, 320, 180)
		b := fullLuma(frame(r, 33).Pix, 320, 180)
		dx, _ := patchShift(a, b, 320, x, y, 5)
		return dx
	}
	// The figure's patch is at the centre; the background's at the left,
	// level with the head, outside the matte.
	fig, bg := move(OrbitLeft, 128, 40), move(OrbitLeft, 8, 20)
	t.Logf("orbit left: figure %+.2f px, background %+.2f px", fig, bg)
	if bg > -1 || abs(fig) > abs(bg)/2 {
		t.Errorf("orbit left: figure moved %+.2f px, background %+.2f px; want the background sliding left, the figure nearly still", fig, bg)
	}
	fig, bg = move(PanRight, 128, 40), move(PanRight, 8, 20)
	t.Logf("pan right: figure %+.2f px, background %+.2f px", fig, bg)
	if !(fig < bg && bg < 0) {
		t.Errorf("pan right: figure moved %+.2f px, background %+.2f px; want both left, the background less", fig, bg)
	}
}

func abs(x float64) float64 { return math.Abs(x) }
