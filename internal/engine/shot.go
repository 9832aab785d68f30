package engine

import (
	"context"
	"strings"
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/generation"
	"stillmotion/internal/render"
)

// planShot plans the picture of a clip of the given number of frames: the
// camera move, light and style that the prompt, negative prompt, style and
// seed ask for, suited to what h says of the image, and a flash on every
// frame where the soundtrack puts a thunderclap.
func planShot(req *generation.Request, frames int, h render.Hint) render.Shot {
	s := render.PlanFor(req.Prompt, req.NegativePrompt, req.Seed, h)
	// The request was validated, so an unknown style cannot reach here;
	// were one to, the clip is drawn unstyled rather than failed.
	s.Style, _ = render.ParseStyle(req.Style)
	s.Light = render.PlanLight(req.Prompt, req.NegativePrompt)
	s.Atmosphere = render.PlanAtmosphere(req.Prompt, req.NegativePrompt)
	// Hair and cloth move around a figure, which a shot that does not
	// separate one (a static camera, a zoom out) still needs for them;
	// without a face there is nothing to move, nor to name in the plan.
	if s.Atmosphere&render.Hair != 0 {
		if !h.Face {
			s.Atmosphere &^= render.Hair
		} else if s.Figure.Empty() {
			s.Figure = h.FaceBox
		}
	}
	for _, e := range lightning(req, time.Duration(frames)*time.Second/FPS) {
		s.Flashes = append(s.Flashes, render.Flash{Frame: e.Frame(FPS), Strength: e.Strength})
	}
	return s
}

// lightning returns the clip's lightning, which the picture flashes at and
// the soundtrack puts thunder at, unless the negative prompt refuses it.
func lightning(req *generation.Request, length time.Duration) []ambience.Event {
	if strings.Contains(strings.ToLower(req.NegativePrompt), "lightning") {
		return nil
	}
	return ambience.Lightning(req.Prompt, length, req.Seed)
}

// Renderer prepares the renderer that Render draws req's clip with, and
// returns it with the clip's number of frames, without encoding anything:
// for contact sheets and previews. It is Render's own preparation, so the
// same request and seed give the same frames as the video.
func (b *Builtin) Renderer(ctx context.Context, req *generation.Request) (*render.Renderer, int, error) {
	p, err := b.Prepare(ctx, req, func(float64) {})
	if err != nil {
		return nil, 0, err
	}
	r, n := p.Renderer()
	return r, n, nil
}
