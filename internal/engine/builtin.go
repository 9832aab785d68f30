// Package engine turns a generation request into an MP4 file. Builtin is
// the procedural renderer that runs on this machine: intake → speech →
// frames → ffmpeg. Other engines (an upstream API, GPU workers) implement
// generation.Engine beside it.
package engine

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/media"
	"stillmotion/internal/render"
	"stillmotion/internal/speech"
)

// FPS is the frame rate of every video.
const FPS = 24

// Builtin is the built-in renderer.
type Builtin struct {
	// Intake bounds image fetching and decoding.
	Intake intake.Options
	// Speech synthesizes lip_sync_tts_content. Defaults to flite.
	Speech speech.Synthesizer
	// FFmpeg is the ffmpeg program. Defaults to "ffmpeg".
	FFmpeg string
	// TempDir holds the audio track while encoding. Defaults to os.TempDir().
	TempDir string
}

var _ generation.Engine = (*Builtin)(nil)

// Timings says where a render's time went.
type Timings struct {
	Intake, Speech, Encode time.Duration // Encode includes drawing the frames
	Face                   time.Duration // finding the face and preparing its animation
}

// Render implements generation.Engine. Output.Timings says where the
// time went.
func (b *Builtin) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	o, tm, err := b.render(ctx, t.Request, t.Input(generation.FieldImage), t.Out, t.Report)
	if o != nil {
		o.Timings = generation.Timings{Intake: tm.Intake, Speech: tm.Speech, Encode: tm.Encode, Face: tm.Face}
	}
	return o, err
}

// clip is a request made ready to draw: its renderer (camera, styles,
// talking mouth attached) and its speech.
type clip struct {
	r        *render.Renderer
	shot     render.Shot
	fw, fh   int
	frames   int
	audio    *speech.Audio // nil when nothing is spoken
	voice    string
	warnings []string
}

// prepare loads the image, synthesizes the speech, finds the faces and
// plans the shot: everything before the first frame. progress gets 0.05
// after the image and 0.1 at the end.
func (b *Builtin) prepare(ctx context.Context, req *generation.Request, src generation.Input, progress func(float64), tm *Timings) (*clip, error) {
	t0 := time.Now()
	img, err := b.load(ctx, req, src)
	if err != nil {
		return nil, err
	}
	tm.Intake = time.Since(t0)
	progress(0.05)

	c := &clip{frames: req.Duration * FPS}
	length := time.Duration(req.Duration) * time.Second
	if req.Speech != "" {
		t1 := time.Now()
		if c.audio, c.voice, err = speak(ctx, b.Speech, req, length); err != nil {
			return nil, err
		}
		tm.Speech = time.Since(t1)
	}

	bounds := img.Bounds()
	c.fw, c.fh = render.FrameSize(bounds.Dx(), bounds.Dy(), req.ShortSide())
	t2 := time.Now()
	faces, err := face.Detect(img)
	if err != nil {
		return nil, err
	}
	c.shot = planShot(req, c.frames, hint(img, faces, c.fw, c.fh))
	c.r = render.New(img, c.fw, c.fh, c.shot, c.frames)
	c.warnings = animate(c.r, faces, c.audio, req.Seed, c.frames)
	tm.Face = time.Since(t2)
	progress(0.1)
	return c, nil
}

// RenderTimed renders like Render and also reports the time of each stage.
func (b *Builtin) RenderTimed(ctx context.Context, req *generation.Request, out string, progress func(float64)) (*generation.Output, Timings, error) {
	return b.render(ctx, req, nil, out, progress)
}

// load reads and decodes the request's image: from src when set (a
// kept image), else from req.ImageURL.
func (b *Builtin) load(ctx context.Context, req *generation.Request, src generation.Input) (image.Image, error) {
	if src == nil {
		return intake.Load(ctx, req.ImageURL, b.Intake)
	}
	data, err := src.Bytes(ctx)
	if err != nil {
		return nil, err
	}
	return intake.Decode(ctx, data, b.Intake)
}

func (b *Builtin) render(ctx context.Context, req *generation.Request, src generation.Input, out string, progress func(float64)) (*generation.Output, Timings, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	p := &Prepared{b: b, req: req}
	c, err := b.prepare(ctx, req, src, progress, &p.tm)
	p.c = c
	if err != nil {
		return nil, p.tm, err
	}
	return p.Encode(ctx, out, progress)
}

// Prepared is a request made ready to draw and encode: Render split in
// two, so that a caller can also look at the frames (a contact sheet)
// without preparing the clip twice.
type Prepared struct {
	b   *Builtin
	req *generation.Request
	c   *clip
	tm  Timings
}

// Prepare does everything Render does before the first frame; progress
// gets 0.05 after the image and 0.1 at the end.
func (b *Builtin) Prepare(ctx context.Context, req *generation.Request, progress func(float64)) (*Prepared, error) {
	p := &Prepared{b: b, req: req}
	c, err := b.prepare(ctx, req, nil, progress, &p.tm)
	p.c = c
	return p, err
}

// Renderer returns the clip's renderer and its number of frames. The
// renderer is read-only: frames drawn from it are the video's.
func (p *Prepared) Renderer() (*render.Renderer, int) { return p.c.r, p.c.frames }

// Encode draws the frames and writes the MP4 to out, with the soundtrack;
// progress goes from 0.1 to 1. It reports the time of every stage,
// preparation included.
func (p *Prepared) Encode(ctx context.Context, out string, progress func(float64)) (*generation.Output, Timings, error) {
	b, req, c, tm := p.b, p.req, p.c, p.tm
	if progress == nil {
		progress = func(float64) {}
	}
	wav, err := writeSoundtrack(b.TempDir, req, c.audio, time.Duration(req.Duration)*time.Second)
	if err != nil {
		return nil, tm, err
	}
	defer os.Remove(wav)

	t := time.Now()
	spec := media.Spec{Width: c.fw, Height: c.fh, FPS: FPS, Frames: c.frames, AudioWAV: wav, Program: b.FFmpeg}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, tm, err
	}
	err = media.Encode(ctx, spec, c.r.Frame, out, func(done, total int) {
		progress(0.1 + 0.9*float64(done)/float64(total))
	})
	if err != nil {
		return nil, tm, err
	}
	tm.Encode = time.Since(t)
	// The renderer's shot also says what it separated into layers.
	plan := c.r.Shot().Description()
	if c.voice != "" {
		plan += fmt.Sprintf("; voice %s", c.voice)
	}
	return &generation.Output{
		Width: c.fw, Height: c.fh, Duration: float64(c.frames) / FPS, FPS: FPS, HasAudio: true, Plan: plan,
		Warnings: c.warnings,
	}, tm, nil
}
