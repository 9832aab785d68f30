package engine

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gen2brain/webp"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/media"
	"stillmotion/internal/speech"
)

// Finisher turns the video a remote engine made into the file this service
// serves: an H.264/AAC MP4, with the request's speech added when the model
// made no audio. A file that already is such an MP4 is kept byte for byte.
type Finisher struct {
	// FFmpeg is the ffmpeg program. Defaults to "ffmpeg".
	FFmpeg string
	// Speech voices lip_sync_tts_content. Defaults to flite.
	Speech speech.Synthesizer
	// TempDir holds the speech track while muxing. Defaults to os.TempDir().
	TempDir string
}

// Finish writes t.Out from the video file at src (MP4, WebM, GIF, animated
// WebP: whatever the engine downloaded) and reports it. src is left alone.
func (f *Finisher) Finish(ctx context.Context, src string, t *generation.Task) (*generation.Output, error) {
	return f.finish(ctx, src, t, false)
}

// finish is Finish; silent says src's audio track is only silence (an
// animated WebP re-encoded here), to be replaced by the speech.
func (f *Finisher) finish(ctx context.Context, src string, t *generation.Task, silent bool) (*generation.Output, error) {
	info, err := media.Probe(ctx, src)
	if err != nil || info.Width == 0 {
		// ffmpeg cannot read animated WebP (ComfyUI's SaveAnimatedWEBP):
		// decode it here.
		mp4 := t.Out + ".webp.mp4"
		defer os.Remove(mp4)
		if werr := f.fromWebP(ctx, src, mp4); werr != nil {
			if ctx.Err() != nil {
				return nil, werr // the encoder's Cancelled or Timeout
			}
			return nil, fault.Wrap(fault.Render, "the engine's output is not a video this server can read (MP4, WebM, GIF or animated WebP)", fmt.Errorf("%v; %v", err, werr))
		}
		return f.finish(ctx, mp4, t, true)
	}
	speak := t.Request.Speech != "" && (!info.HasAudio || silent)
	c := media.Conversion{In: src, Program: f.FFmpeg,
		CopyVideo: info.VideoCodec == "h264" && info.PixFmt == "yuv420p" && info.Width%2 == 0 && info.Height%2 == 0,
		CopyAudio: info.AudioCodec == "aac"}
	if speak {
		wav, err := f.speechTrack(ctx, t.Request, time.Duration(info.Duration*float64(time.Second)))
		if err != nil {
			return nil, err
		}
		defer os.Remove(wav)
		c.AudioWAV = wav
	}
	if c.CopyVideo && (c.CopyAudio || !info.HasAudio) && !speak && isMP4(src) {
		if err := copyFile(src, t.Out); err != nil {
			return nil, fault.Wrap(fault.Render, "could not save the video file", err)
		}
	} else if err := media.Convert(ctx, c, t.Out); err != nil {
		return nil, err
	}
	out, err := media.Probe(ctx, t.Out)
	if err != nil {
		os.Remove(t.Out)
		return nil, err
	}
	o := &generation.Output{Width: out.Width, Height: out.Height, Duration: out.Duration,
		FPS: int(math.Round(out.FPS)), HasAudio: out.HasAudio}
	switch {
	case speak:
		o.Warnings = append(o.Warnings, "the model made no audio: the speech was added as a track, without lip sync")
	case t.Request.Speech != "":
		o.Warnings = append(o.Warnings, "the model made its own audio: lip_sync_tts_content was not added to it")
	}
	return o, nil
}

// speechTrack synthesizes req's speech into a WAV file as long as the video.
func (f *Finisher) speechTrack(ctx context.Context, req *generation.Request, length time.Duration) (string, error) {
	audio, _, err := speak(ctx, f.Speech, req, length)
	if err != nil {
		return "", err
	}
	return writeSoundtrack(f.TempDir, req, audio, length)
}

// fromWebP encodes the animated WebP at src into an MP4 at out.
func (f *Finisher) fromWebP(ctx context.Context, src, out string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return fmt.Errorf("not a WebP file")
	}
	anim, err := webp.DecodeAll(bytes.NewReader(b))
	if err != nil || len(anim.Image) == 0 {
		return fmt.Errorf("decoding WebP: %v", err)
	}
	bounds := anim.Image[0].Bounds()
	w, h := bounds.Dx()&^1, bounds.Dy()&^1
	if w == 0 || h == 0 {
		return fmt.Errorf("a WebP of %dx%d", bounds.Dx(), bounds.Dy())
	}
	fps := 24
	if len(anim.Delay) > 0 && anim.Delay[0] > 0 {
		fps = max(1, int(math.Round(1000/float64(anim.Delay[0]))))
	}
	spec := media.Spec{Width: w, Height: h, FPS: fps, Frames: len(anim.Image), Program: f.FFmpeg}
	return media.Encode(ctx, spec, func(i int, dst *image.RGBA) {
		draw.Draw(dst, dst.Rect, anim.Image[i], anim.Image[i].Bounds().Min, draw.Src)
	}, out, nil)
}

// isMP4 reports whether the file at path is an ISO media file (its first
// box is ftyp).
func isMP4(path string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	var head [8]byte
	_, err = io.ReadFull(fh, head[:])
	return err == nil && string(head[4:8]) == "ftyp"
}

// copyFile copies src to dst through a temporary file beside dst, so that
// dst appears only when complete.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.part")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Remote is what an engine for a remote model (upstream, comfyui,
// replicate) is built with besides its own settings.
type Remote struct {
	// Dir is the engines file's directory: relative paths in an entry's
	// settings (a workflow) are read from it.
	Dir string
	// Finisher turns the downloaded output into the served MP4. Defaults
	// to a zero Finisher.
	Finisher *Finisher
	// TempDir holds downloads while they are finished. Defaults to
	// os.TempDir().
	TempDir string
	// Logger logs retries, resumptions and lost jobs. Defaults to
	// slog.Default() or nothing, as the engine says.
	Logger *slog.Logger
	// HTTPClient makes the calls. Defaults to a client of the engine's
	// own; one given must have no overall Timeout (downloads, and a Cog
	// prediction, last as long as they last): engines bound each call.
	HTTPClient *http.Client
}
