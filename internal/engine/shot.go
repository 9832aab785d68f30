package engine

import (
	"context"
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/generation"
	"stillmotion/internal/prompt"
	"stillmotion/internal/render"
)

// planShot plans the picture of a clip of the given number of frames: the
// camera move, light and style that the prompt, negative prompt, style and
// seed ask for, suited to what h says of the image, and a flash on every
// frame where the soundtrack puts a thunderclap.
func planShot(req *generation.Request, frames int, h render.Hint) render.Shot {
	return planPicture(read(req), req, frames, h)
}

// read reads req's prompt and negative prompt: the one reading that the
// picture and the soundtrack are both planned from, so that they agree.
func read(req *generation.Request) *prompt.Scene {
	return prompt.Read(req.Prompt, req.NegativePrompt)
}

// planPicture plans as planShot from the prompt as read.
func planPicture(sc *prompt.Scene, req *generation.Request, frames int, h render.Hint) render.Shot {
	s := render.PlanFor(sc, req.Seed, h)
	// The request was validated, so an unknown style cannot reach here;
	// were one to, the clip is drawn unstyled rather than failed.
	s.Style, _ = render.ParseStyle(req.Style)
	s.Light = render.PlanLight(sc)
	s.Atmosphere = render.PlanAtmosphere(sc)
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
	for _, e := range lightning(sc, req.Seed, time.Duration(frames)*time.Second/FPS) {
		s.Flashes = append(s.Flashes, render.Flash{Frame: e.Frame(FPS), Strength: e.Strength})
	}
	return s
}

// lightning returns the clip's lightning, which the picture flashes at and
// the soundtrack puts thunder at: none when the prompt or the negative
// prompt refuses lightning or thunder.
func lightning(sc *prompt.Scene, seed int64, length time.Duration) []ambience.Event {
	return ambience.Lightning(sc, length, seed)
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
