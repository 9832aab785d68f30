package engine

import (
	"context"
	"strings"
	"time"

	"stillmotion/internal/ambience"
	"stillmotion/internal/face"
	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/render"
	"stillmotion/internal/speech"
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
// for contact sheets and previews. It takes the same steps as Render
// (intake, speech for the mouth's animation, faces, the shot plan), so
// the same request and seed give the same frames as the video.
func (b *Builtin) Renderer(ctx context.Context, req *generation.Request) (*render.Renderer, int, error) {
	img, err := intake.Load(ctx, req.ImageURL, b.Intake)
	if err != nil {
		return nil, 0, err
	}
	length := time.Duration(req.Duration) * time.Second
	var audio *speech.Audio
	if req.Speech != "" {
		voice, ok := speech.Resolve(req.Speaker, req.Seed)
		if !ok {
			return nil, 0, fault.Errorf(fault.Invalid, "unknown voice %q", req.Speaker)
		}
		syn := b.Speech
		if syn == nil {
			syn = &speech.Flite{}
		}
		if audio, err = speech.SynthesizeWithin(ctx, syn, req.Speech, voice, length-speech.Lead-150*time.Millisecond); err != nil {
			return nil, 0, err
		}
	}
	bounds := img.Bounds()
	fw, fh := render.FrameSize(bounds.Dx(), bounds.Dy(), req.ShortSide())
	frames := req.Duration * FPS
	faces, err := face.Detect(img)
	if err != nil {
		return nil, 0, err
	}
	r := render.New(img, fw, fh, planShot(req, frames, hint(img, faces, fw, fh)), frames)
	animate(r, faces, audio, req.Seed, frames)
	return r, frames, nil
}
