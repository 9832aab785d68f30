package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"stillmotion/internal/engine"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
	"stillmotion/internal/render"
	"stillmotion/internal/speech"
)

func runRender(ctx context.Context, args []string) error {
	fs := newFlagSet("render", "render [--model M] --image FILE|URL --prompt TEXT {-o out.mp4 | --contact-sheet sheet.png} [flags]\n"+
		"       stillmotion render --model pixverse/lip-sync --video FILE|URL {--audio FILE|URL | --speech TEXT} -o out.mp4")
	model := fs.String("model", generation.Model, "the model whose request this is: "+strings.Join(generation.BuiltinModels, ", "))
	image := fs.String("image", "", "input image: a file, an http(s) URL or a data: URI (required)")
	tailImage := fs.String("tail-image", "", "transition: the last frame, as --image")
	video := fs.String("video", "", "lip-sync: the video to re-voice (MP4, MOV or WebM), a file, an http(s) URL or a data: URI")
	audio := fs.String("audio", "", "lip-sync: the speech to put in its mouth (WAV, MP3, AAC/M4A, OGG/Opus, FLAC), instead of --speech")
	prompt := fs.String("prompt", "", "what happens in the video; camera words such as 'zoom in' or 'pan left' steer the camera (required)")
	negative := fs.String("negative-prompt", "", "what to avoid, e.g. 'no zoom'")
	resolution := fs.String("resolution", "720p", "short side of the frame: 360p, 540p, 720p or 1080p")
	duration := fs.Int("duration", 5, "seconds: 5 or 8, and 10 on v5.5 (1080p: 5 only)")
	style := fs.String("style", "", "anime, 3d_animation, clay, comic or cyberpunk")
	seed := fs.Int64("seed", -1, "0..2147483647; same inputs and seed give the same file; default random")
	speechText := fs.String("speech", "", "text to speak (1..200 characters)")
	voice := fs.String("voice", "", "voice for --speech: "+strings.Join(generation.Speakers, ", "))
	out := fs.String("o", "", "output MP4 file (required unless --contact-sheet is given)")
	sheet := fs.String("contact-sheet", "", "also write a PNG grid of evenly spaced frames of the clip to this file")
	sheetFrames := fs.Int("sheet-frames", 6, "frames on the --contact-sheet")
	ffmpeg := fs.String("ffmpeg", "ffmpeg", "ffmpeg program")
	flite := fs.String("flite", "flite", "flite (text-to-speech) program")
	quiet := fs.Bool("q", false, "no progress bar")
	sound := fs.Bool("sound", false, "v5.5: give the clip sound from the scene (generate_audio_switch)")
	multi := fs.Bool("multi-clip", false, "v5.5: cut the clip into shots from wide to close (generate_multi_clip_switch)")
	thinking := fs.String("thinking", "", "v5.5: enabled, disabled or auto: whether the plan shows the prompt as read (thinking_type)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" && *sheet == "" {
		fs.Usage()
		return errors.New("render needs -o (or --contact-sheet)")
	}
	if *sheetFrames < 1 {
		return errors.New("--sheet-frames must be at least 1")
	}
	// The request goes through the API's own validation, so the CLI accepts
	// exactly what the API does and says the same when it does not. Only
	// the flags given are sent: the model's schema says what it needs.
	body := map[string]any{"model": *model}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	// A lip-sync keeps its video's size and length: its defaults are not
	// sent, so that only a flag the user gave draws a warning.
	if given["resolution"] || *model != generation.ModelLipSync {
		body["resolution"] = *resolution
	}
	if given["duration"] || *model != generation.ModelLipSync {
		body["duration"] = *duration
	}
	for _, f := range []struct {
		flag, field, value string
		kind               string
	}{
		{"image", "image_url", *image, "image"}, {"tail-image", "tail_image_url", *tailImage, "image"},
		{"video", "video_url", *video, "video"}, {"audio", "audio_url", *audio, "audio"},
	} {
		if f.value == "" {
			continue
		}
		src, err := fileSource(f.flag, f.value, f.kind)
		if err != nil {
			return err
		}
		body[f.field] = src
	}
	if *prompt != "" {
		body["prompt"] = *prompt
	}
	if *sound {
		body["generate_audio_switch"] = true
	}
	if *multi {
		body["generate_multi_clip_switch"] = true
	}
	for k, v := range map[string]string{"negative_prompt": *negative, "style": *style,
		"lip_sync_tts_content": *speechText, "lip_sync_tts_speaker": *voice, "thinking_type": *thinking} {
		if v != "" {
			body[k] = v
		}
	}
	if *seed >= 0 {
		body["seed"] = *seed
	}
	raw, _ := json.Marshal(body)
	req, err := generation.ParseRequest(raw)
	if err != nil {
		return err
	}
	for _, w := range req.Warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	if !req.SeedGiven {
		req.Seed = time.Now().UnixNano() % (generation.MaxSeed + 1)
	}
	eng := &engine.Builtin{
		// The user names the image on their own machine: no address limits.
		Intake: intake.Options{AllowPrivate: true},
		Speech: &speech.Flite{Program: *flite},
		FFmpeg: *ffmpeg,
	}
	if req.Kind == generation.LipSync {
		if *out == "" {
			return errors.New("a lip-sync has no contact sheet: give -o")
		}
		return renderTask(ctx, eng, req, *out, *quiet)
	}
	if *out == "" {
		p, err := eng.Prepare(ctx, req, func(float64) {})
		if err != nil {
			return err
		}
		return writeSheet(p, req, *sheet, *sheetFrames)
	}
	bar, progress := progressBar(*quiet)
	start := time.Now()
	outPath, _ := filepath.Abs(*out)
	// The clip is prepared once, for the video and the contact sheet.
	p, err := eng.Prepare(ctx, req, progress)
	if err != nil {
		return err
	}
	o, tm, err := p.Encode(ctx, outPath, progress)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %dx%d, %.2f s at %d fps, seed %d (%s)\n", *out, o.Width, o.Height, o.Duration, o.FPS, req.Seed, o.Plan)
	fmt.Fprintf(os.Stderr, "time: %.2f s (image %.0f ms, speech %.0f ms, frames+encode %.0f ms)\n",
		time.Since(start).Seconds(), ms(tm.Intake), ms(tm.Speech), ms(tm.Encode))
	if *sheet != "" {
		return writeSheet(p, req, *sheet, *sheetFrames)
	}
	return nil
}

// progressBar returns a progress bar on a terminal (nil elsewhere, where
// logs get the summary line) and the function that moves it.
func progressBar(quiet bool) (*progressbar.ProgressBar, func(float64)) {
	if quiet || !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil, func(float64) {}
	}
	bar := progressbar.NewOptions(1000, progressbar.OptionSetDescription("rendering"),
		progressbar.OptionSetWriter(os.Stderr), progressbar.OptionClearOnFinish(),
		progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond))
	return bar, func(p float64) { bar.Set(int(p * 1000)) }
}

// renderTask renders req with the engine as the server does, for the
// models that are not a prepared clip (lip-sync).
func renderTask(ctx context.Context, eng *engine.Builtin, req *generation.Request, out string, quiet bool) error {
	bar, progress := progressBar(quiet)
	start := time.Now()
	outPath, _ := filepath.Abs(out)
	o, err := eng.Render(ctx, &generation.Task{ID: "cli", Request: req, Out: outPath, Progress: progress})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %dx%d, %.2f s at %d fps (%s)\n", out, o.Width, o.Height, o.Duration, o.FPS, o.Plan)
	for _, w := range o.Warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	fmt.Fprintf(os.Stderr, "time: %.2f s (inputs %.0f ms, speech %.0f ms, face %.0f ms, frames+encode %.0f ms)\n",
		time.Since(start).Seconds(), ms(o.Timings.Intake), ms(o.Timings.Speech), ms(o.Timings.Face), ms(o.Timings.Encode))
	return nil
}

// writeSheet writes a contact sheet of n evenly spaced frames of the
// prepared clip to name as PNG. The frames are drawn by the renderer the
// video is drawn with, so they are the video's frames before encoding.
func writeSheet(p *engine.Prepared, req *generation.Request, name string, n int) error {
	r, frames := p.Clip()
	idx := render.SheetFrames(n, frames)
	var buf bytes.Buffer
	if err := png.Encode(&buf, render.ContactSheet(r, idx)); err != nil {
		return err
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: frames %v of %d, seed %d (%s)\n", name, idx, frames, req.Seed, p.Plan())
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fileSource returns the URL a file flag names: an http(s) or data: URL
// as it is, a file as a data: URI of its kind (image, video, audio).
func fileSource(flagName, s, kind string) (string, error) {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "data:") {
		return s, nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return "", fmt.Errorf("reading --%s: %w", flagName, err)
	}
	// The type is only a label: the file is recognised from its bytes.
	ct := http.DetectContentType(b)
	if !strings.HasPrefix(ct, kind+"/") {
		ct = kind + "/unknown"
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}
