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
	"strings"
	"sync"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/fault"
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
	// EncoderNice is the niceness the encoders run at (see media.Spec).
	EncoderNice int
}

var _ generation.Engine = (*Builtin)(nil)

// Timings says where a render's time went.
type Timings struct {
	Intake, Speech, Encode time.Duration // Encode includes drawing the frames
	Face                   time.Duration // finding the face and preparing its animation
}

// Render implements generation.Engine: it renders every kind of model but
// text-to-video (see transition.go, multiclip.go and lipsync.go). Output.Timings says where the time went.
func (b *Builtin) Render(ctx context.Context, t *generation.Task) (*generation.Output, error) {
	var o *generation.Output
	var tm Timings
	var err error
	switch t.Request.Kind {
	case generation.TextToVideo:
		return nil, fault.E(fault.Invalid, "the built-in engine cannot make a video from words alone; route text-to-video models to a remote engine in the engines file")
	case generation.LipSync:
		o, tm, err = b.lipSync(ctx, t)
	default:
		o, tm, err = b.render(ctx, t.Request, t.Input, t.Out, t.Report)
	}
	if o != nil {
		o.Timings = generation.Timings{Intake: tm.Intake, Speech: tm.Speech, Encode: tm.Encode, Face: tm.Face}
	}
	return o, err
}

// clip is a request made ready to draw: its shots (one renderer each, with
// camera, styles and talking mouth attached) and its speech.
type clip struct {
	cuts     []cut
	fw, fh   int
	frames   int
	audio    *speech.Audio // nil when nothing is spoken
	voice    string
	warnings []string
	// understood is the prompt as read, shown in the plan when the request
	// asks for the reading (thinking_type).
	understood string
}

// cut is one shot of a clip: it draws frames start to start+frames-1 of
// the clip.
type cut struct {
	draw          render.Clip // a *render.Renderer, or a transition's morph
	start, frames int
	framing       string // wide, medium or close
	plan          string // what it shows, for the client
}

// newCut returns the cut a renderer draws, described by its shot (which
// also says what it separated into layers).
func newCut(r *render.Renderer, start, frames int, framing string) cut {
	return cut{draw: r, start: start, frames: frames, framing: framing, plan: r.Shot().Description()}
}

var _ render.Clip = (*clip)(nil)

// Frame draws frame i of the clip, from the shot it falls in.
func (c *clip) Frame(i int, dst *image.RGBA) {
	k := len(c.cuts) - 1
	for k > 0 && i < c.cuts[k].start {
		k--
	}
	c.cuts[k].draw.Frame(i-c.cuts[k].start, dst)
}

// Size returns the clip's frame size.
func (c *clip) Size() (int, int) { return c.fw, c.fh }

// plan describes the clip's shots for the client.
func (c *clip) plan() string {
	var plan string
	if len(c.cuts) == 1 {
		plan = c.cuts[0].plan
	} else {
		parts := make([]string, len(c.cuts))
		for i, k := range c.cuts {
			parts[i] = fmt.Sprintf("shot %d, %s, %.1f–%.1f s: %s", i+1, k.framing,
				float64(k.start)/FPS, float64(k.start+k.frames)/FPS, k.plan)
		}
		plan = fmt.Sprintf("%d shots cut on motion; %s", len(c.cuts), strings.Join(parts, "; "))
	}
	if c.voice != "" {
		plan += fmt.Sprintf("; voice %s", c.voice)
	}
	if c.understood != "" {
		plan += "; prompt read as: " + c.understood
	}
	return plan
}

// inputs gives the request's inputs by URL field; nil for one the engine
// fetches itself.
type inputs func(field string) generation.Input

// none is inputs when the engine fetches every one itself.
func none(string) generation.Input { return nil }

// prepare loads the image, synthesizes the speech, finds the faces and
// plans the shot: everything before the first frame. progress gets 0.05
// after the image and 0.1 at the end. A transition is prepared by
// prepareTransition.
func (b *Builtin) prepare(ctx context.Context, req *generation.Request, in inputs, progress func(float64), tm *Timings) (*clip, error) {
	switch req.Kind {
	case generation.Transition:
		return b.prepareTransition(ctx, req, in(generation.FieldImage), in(generation.FieldTailImage), progress, tm)
	case generation.LipSync, generation.TextToVideo:
		return nil, fault.Errorf(fault.Invalid, "a %s is not drawn from a picture: render it with Render", req.Kind)
	}
	t0 := time.Now()
	img, err := b.load(ctx, req, generation.FieldImage, in(generation.FieldImage))
	if err != nil {
		return nil, err
	}
	tm.Intake = time.Since(t0)
	progress(0.05)

	c := &clip{frames: req.Duration * FPS}
	length := time.Duration(req.Duration) * time.Second
	// The speech is synthesized (by another process) while the picture is
	// prepared: only the mouth's animation needs both.
	spoken := make(chan error, 1)
	if req.Speech != "" {
		go func() {
			t1 := time.Now()
			var err error
			c.audio, c.voice, err = speak(ctx, b.Speech, req, length)
			tm.Speech = time.Since(t1)
			spoken <- err
		}()
	} else {
		spoken <- nil
	}
	// Whatever ends prepare, the synthesis has ended first.
	speechErr := sync.OnceValue(func() error { return <-spoken })
	defer speechErr()

	bounds := img.Bounds()
	c.fw, c.fh = render.FrameSize(bounds.Dx(), bounds.Dy(), req.ShortSide())
	t2 := time.Now()
	faces, err := face.Detect(img)
	if err != nil {
		return nil, err
	}
	if req.MultiClip {
		if c.cuts, err = multiClip(ctx, req, img, faces, c.fw, c.fh, c.frames); err != nil {
			return nil, err
		}
		if err := speechErr(); err != nil {
			return nil, err
		}
	} else {
		r := render.New(img, c.fw, c.fh, planShot(req, c.frames, hint(img, faces, c.fw, c.fh)), c.frames)
		if err := speechErr(); err != nil {
			return nil, err
		}
		c.warnings = animate(r, faces, c.audio, req.Seed, c.frames)
		c.cuts = []cut{newCut(r, 0, c.frames, "wide")}
	}
	if req.Understands() {
		c.understood = read(req).String()
	}
	tm.Face = time.Since(t2)
	progress(0.1)
	return c, nil
}

// RenderTimed renders like Render and also reports the time of each stage.
func (b *Builtin) RenderTimed(ctx context.Context, req *generation.Request, out string, progress func(float64)) (*generation.Output, Timings, error) {
	return b.render(ctx, req, none, out, progress)
}

// load reads and decodes the image of the request's URL field: from src
// when set (a kept image), else from the field's URL.
func (b *Builtin) load(ctx context.Context, req *generation.Request, field string, src generation.Input) (image.Image, error) {
	opt := b.Intake
	opt.Field = field
	if src == nil {
		return intake.Load(ctx, req.URL(field), opt)
	}
	data, err := src.Bytes(ctx)
	if err != nil {
		return nil, err
	}
	return intake.Decode(ctx, data, opt)
}

func (b *Builtin) render(ctx context.Context, req *generation.Request, in inputs, out string, progress func(float64)) (*generation.Output, Timings, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	p := &Prepared{b: b, req: req}
	c, err := b.prepare(ctx, req, in, progress, &p.tm)
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
	if progress == nil {
		progress = func(float64) {}
	}
	p := &Prepared{b: b, req: req}
	c, err := b.prepare(ctx, req, none, progress, &p.tm)
	p.c = c
	return p, err
}

// Renderer returns the renderer of the clip's first shot (its only one
// unless the request asks for several; nil for a transition) and the
// clip's number of frames.
func (p *Prepared) Renderer() (*render.Renderer, int) {
	r, _ := p.c.cuts[0].draw.(*render.Renderer)
	return r, p.c.frames
}

// Clip returns what draws the clip's frames, and its number of frames. It
// is read-only: frames drawn from it are the video's.
func (p *Prepared) Clip() (render.Clip, int) { return p.c, p.c.frames }

// Plan returns the plan the video reports: its shots, voice and reading.
func (p *Prepared) Plan() string { return p.c.plan() }

// Encode draws the frames and writes the MP4 to out, with the soundtrack;
// progress goes from 0.1 to 1. It reports the time of every stage,
// preparation included.
func (p *Prepared) Encode(ctx context.Context, out string, progress func(float64)) (*generation.Output, Timings, error) {
	b, req, c, tm := p.b, p.req, p.c, p.tm
	if progress == nil {
		progress = func(float64) {}
	}
	spec := media.Spec{Width: c.fw, Height: c.fh, FPS: FPS, Frames: c.frames, Program: b.FFmpeg, NoAudio: !req.Sound(), Nice: b.EncoderNice}
	if !spec.NoAudio {
		wav, err := writeSoundtrack(b.TempDir, req, c.audio, time.Duration(req.Duration)*time.Second)
		if err != nil {
			return nil, tm, err
		}
		defer os.Remove(wav)
		spec.AudioWAV = wav
	}

	t := time.Now()
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, tm, err
	}
	err := media.Encode(ctx, spec, c.Frame, out, func(done, total int) {
		progress(0.1 + 0.9*float64(done)/float64(total))
	})
	if err != nil {
		return nil, tm, err
	}
	tm.Encode = time.Since(t)
	// The renderers' shots also say what they separated into layers.
	return &generation.Output{
		Width: c.fw, Height: c.fh, Duration: float64(c.frames) / FPS, FPS: FPS, HasAudio: !spec.NoAudio, Plan: c.plan(),
		Warnings: c.warnings,
	}, tm, nil
}
