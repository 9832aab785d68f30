// Package engine turns a generation request into an MP4 file. Builtin is
// the procedural renderer that runs on this machine: intake → speech →
// frames → ffmpeg. Other engines (an upstream API, GPU workers) implement
// generation.Engine beside it.
package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
}

var _ generation.Engine = (*Builtin)(nil)

// Timings says where a render's time went.
type Timings struct {
	Intake, Speech, Encode time.Duration // Encode includes drawing the frames
	Face                   time.Duration // finding the face and preparing its animation
}

// Render implements generation.Engine.
func (b *Builtin) Render(ctx context.Context, req *generation.Request, out string, progress func(float64)) (*generation.Output, error) {
	o, _, err := b.RenderTimed(ctx, req, out, progress)
	return o, err
}

// RenderTimed renders like Render and also reports the time of each stage.
func (b *Builtin) RenderTimed(ctx context.Context, req *generation.Request, out string, progress func(float64)) (*generation.Output, Timings, error) {
	var tm Timings
	if progress == nil {
		progress = func(float64) {}
	}
	t0 := time.Now()
	img, err := intake.Load(ctx, req.ImageURL, b.Intake)
	if err != nil {
		return nil, tm, err
	}
	tm.Intake = time.Since(t0)
	progress(0.05)

	length := time.Duration(req.Duration) * time.Second
	var audio *speech.Audio
	voice := ""
	if req.Speech != "" {
		t1 := time.Now()
		v, ok := speech.Resolve(req.Speaker, req.Seed)
		if !ok {
			return nil, tm, fault.Errorf(fault.Invalid, "unknown voice %q", req.Speaker)
		}
		voice = v
		syn := b.Speech
		if syn == nil {
			syn = &speech.Flite{}
		}
		// Leave a breath of silence at the end too.
		if audio, err = speech.SynthesizeWithin(ctx, syn, req.Speech, voice, length-speech.Lead-150*time.Millisecond); err != nil {
			return nil, tm, err
		}
		tm.Speech = time.Since(t1)
	}
	progress(0.1)

	dir := b.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	wav, err := os.CreateTemp(dir, "stillmotion-*.wav")
	if err != nil {
		return nil, tm, fault.Wrap(fault.Internal, "creating the audio track", err)
	}
	defer os.Remove(wav.Name())
	err = speech.WriteWAV(wav, soundtrack(req, audio, length), speech.SampleRate)
	if cerr := wav.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, tm, fault.Wrap(fault.Internal, "writing the audio track", err)
	}

	bounds := img.Bounds()
	fw, fh := render.FrameSize(bounds.Dx(), bounds.Dy(), req.ShortSide())
	frames := req.Duration * FPS
	t3 := time.Now()
	faces, err := face.Detect(img)
	if err != nil {
		return nil, tm, err
	}
	shot := planShot(req, frames, hint(img, faces, fw, fh))
	r := render.New(img, fw, fh, shot, frames)
	warnings := animate(r, faces, audio, req.Seed, frames)
	tm.Face = time.Since(t3)

	t2 := time.Now()
	spec := media.Spec{Width: fw, Height: fh, FPS: FPS, Frames: frames, AudioWAV: wav.Name(), Program: b.FFmpeg}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, tm, err
	}
	err = media.Encode(ctx, spec, r.Frame, out, func(done, total int) {
		progress(0.1 + 0.9*float64(done)/float64(total))
	})
	if err != nil {
		return nil, tm, err
	}
	tm.Encode = time.Since(t2)
	plan := shot.Description()
	if voice != "" {
		plan += fmt.Sprintf("; voice %s", voice)
	}
	return &generation.Output{
		Width: fw, Height: fh, Duration: float64(frames) / FPS, FPS: FPS, HasAudio: true, Plan: plan,
		Warnings: warnings,
	}, tm, nil
}
