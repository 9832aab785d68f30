package engine

import (
	"context"
	"image"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/face"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/prompt"
	"stillmotion/internal/render"
)

func meanLuma(img *image.RGBA) float64 {
	var s float64
	for i := 0; i < len(img.Pix); i += 4 {
		s += 0.299*float64(img.Pix[i]) + 0.587*float64(img.Pix[i+1]) + 0.114*float64(img.Pix[i+2])
	}
	return s / float64(len(img.Pix)/4)
}

// TestLightningFlashesWithThunder checks that the picture flashes on the
// very frame where the soundtrack puts each thunderclap, and not at all
// when the negative prompt refuses lightning.
func TestLightningFlashesWithThunder(t *testing.T) {
	const frames = 5 * FPS
	src := image.NewRGBA(image.Rect(0, 0, 64, 36))
	for i := range src.Pix {
		src.Pix[i] = uint8(60 + i%7)
	}
	for _, seed := range []int64{1, 2, 3} {
		req := &generation.Request{Prompt: "a thunderstorm over the hills, lightning strikes", Seed: seed, Duration: 5}
		s := planShot(req, frames, render.Hint{})
		events := ambience.Lightning(prompt.Read(req.Prompt, req.NegativePrompt), 5*time.Second, seed)
		if len(s.Flashes) == 0 || len(s.Flashes) != len(events) {
			t.Fatalf("seed %d: %d flashes for %d thunderclaps", seed, len(s.Flashes), len(events))
		}
		r := render.New(src, 64, 36, s, frames)
		for k, e := range events {
			f := e.Frame(FPS)
			if s.Flashes[k].Frame != f {
				t.Errorf("seed %d: flash %d on frame %d, thunder on frame %d", seed, k, s.Flashes[k].Frame, f)
			}
			before, at := image.NewRGBA(src.Rect), image.NewRGBA(src.Rect)
			r.Frame(f-1, before)
			r.Frame(f, at)
			if lb, la := meanLuma(before), meanLuma(at); la < lb+30 {
				t.Errorf("seed %d: frame %d has luma %.0f, the frame before %.0f: no flash", seed, f, la, lb)
			}
		}
		if !strings.Contains(s.Description(), "lightning") {
			t.Errorf("plan %q does not mention the lightning", s.Description())
		}
		req.NegativePrompt = "lightning, blur"
		if s := planShot(req, frames, render.Hint{}); len(s.Flashes) != 0 {
			t.Errorf("seed %d: %d flashes despite the negative prompt", seed, len(s.Flashes))
		}
	}
}

func TestPlanShotStyle(t *testing.T) {
	for _, name := range generation.Styles {
		s := planShot(&generation.Request{Prompt: "a lighthouse", Style: name, Duration: 5}, 120, render.Hint{})
		if s.Style.String() != name {
			t.Errorf("style %q planned as %q", name, s.Style)
		}
	}
}

// TestFaceHint checks that a portrait, whose prompt says nothing of the
// camera, mostly gets a push in that drifts towards the face.
func TestFaceHint(t *testing.T) {
	img, err := intake.Load(context.Background(), dataURI(t, "astronaut-portrait.png"), intake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	faces, err := face.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	fw, fh := render.FrameSize(img.Bounds().Dx(), img.Bounds().Dy(), 720)
	h := hint(img, faces, fw, fh)
	if !h.Face {
		t.Fatal("no face hint for the portrait")
	}
	pushes := 0
	for seed := range int64(9) {
		s := planShot(&generation.Request{Prompt: "an astronaut", Seed: seed}, 120, h)
		if s.Move == render.ZoomIn {
			pushes++
			if s.Subject != h.Subject {
				t.Errorf("seed %d: push in towards %v, the face is at %v", seed, s.Subject, h.Subject)
			}
		}
	}
	if pushes < 5 || pushes == 9 {
		t.Errorf("%d of 9 seeds push in on the face, want most but not all", pushes)
	}
}

// TestRendererMatchesPlan checks that Builtin.Renderer prepares the clip
// Render draws: the planned shot, the clip's frame size and length, and a
// first frame that is the picture.
func TestRendererMatchesPlan(t *testing.T) {
	req := &generation.Request{Prompt: "truck left past the rocket", ImageURL: dataURI(t, "rocket.jpg"), Resolution: "360p", Duration: 5, Seed: 4}
	b := &Builtin{}
	r, frames, err := b.Renderer(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if frames != 5*FPS {
		t.Errorf("%d frames", frames)
	}
	// The renderer adds what it separated into layers: the rocket's
	// land before its sky.
	want := planShot(req, frames, render.Hint{})
	want.Depth = render.SkyDepth
	if r.Shot().Description() != want.Description() {
		t.Errorf("shot %q, want %q", r.Shot().Description(), want.Description())
	}
	r2, _, _ := b.Renderer(context.Background(), req)
	a, c := image.NewRGBA(image.Rect(0, 0, 640, 360)), image.NewRGBA(image.Rect(0, 0, 640, 360))
	r.Frame(60, a)
	r2.Frame(60, c)
	if string(a.Pix) != string(c.Pix) {
		t.Error("two renderers of one request draw different frames")
	}
}

// TestHairNeedsFace checks that hair and cloth in wind are planned with
// the face's figure, even for a static camera, and dropped without a face.
func TestHairNeedsFace(t *testing.T) {
	box := render.Box{Min: render.Point{X: -0.1, Y: -0.3}, Max: render.Point{X: 0.1, Y: 0}}
	face := render.Hint{Face: true, FaceBox: box}
	tests := []struct {
		name       string
		prompt     string
		h          render.Hint
		hair       bool
		wantFigure bool
	}{
		{"static, face", "a woman in the wind, static camera", face, true, true},
		{"zoom out, face", "a woman in the wind, zoom out", face, true, true},
		{"static, no face", "a field in the wind, static camera", render.Hint{}, false, false},
		{"no wind", "a woman, static camera", face, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := planShot(&generation.Request{Prompt: tt.prompt, Seed: 1}, 48, tt.h)
			if got := s.Atmosphere&render.Hair != 0; got != tt.hair {
				t.Errorf("hair planned %v, want %v (%s)", got, tt.hair, s.Description())
			}
			if got := s.Figure == box; got != tt.wantFigure {
				t.Errorf("figure %+v, want the face's: %v", s.Figure, tt.wantFigure)
			}
		})
	}
}

// TestPhotoDepth checks the layers the renderer separates in the test
// photos on moves with parallax: the portrait's face gives a figure before
// the background, and the rocket, with no face, stands with its towers
// and pad before a smooth evening sky that fills the top edge, unless the
// negative prompt refuses parallax.
func TestPhotoDepth(t *testing.T) {
	tests := []struct {
		image, prompt, negative string
		want                    render.Depth
	}{
		{"astronaut-portrait.png", "zoom in", "", render.FigureDepth},
		{"astronaut-portrait.png", "pan left", "", render.FigureDepth},
		{"rocket.jpg", "zoom in", "", render.SkyDepth},
		{"rocket.jpg", "truck right", "", render.SkyDepth},
		{"rocket.jpg", "truck right", "parallax", render.NoDepth},
	}
	for _, tt := range tests {
		t.Run(tt.image+"/"+tt.prompt+"/"+tt.negative, func(t *testing.T) {
			req := &generation.Request{Prompt: tt.prompt, NegativePrompt: tt.negative, ImageURL: dataURI(t, tt.image), Resolution: "360p", Duration: 5, Seed: 2}
			r, _, err := (&Builtin{}).Renderer(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			said := tt.want.String()
			if tt.want == render.NoDepth {
				said = "no parallax"
			}
			if s := r.Shot(); s.Depth != tt.want || !strings.Contains(s.Description(), said) {
				t.Errorf("layers %q (%q), want %q", s.Depth, s.Description(), tt.want)
			}
		})
	}
}
