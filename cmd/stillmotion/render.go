package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
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
	fs := newFlagSet("render", "render --image FILE|URL --prompt TEXT {-o out.mp4 | --contact-sheet sheet.png} [flags]")
	image := fs.String("image", "", "input image: a file, an http(s) URL or a data: URI (required)")
	prompt := fs.String("prompt", "", "what happens in the video; camera words such as 'zoom in' or 'pan left' steer the camera (required)")
	negative := fs.String("negative-prompt", "", "what to avoid, e.g. 'no zoom'")
	resolution := fs.String("resolution", "720p", "short side of the frame: 360p, 540p, 720p or 1080p")
	duration := fs.Int("duration", 5, "seconds: 5 or 8 (1080p: 5 only)")
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *image == "" || *prompt == "" || (*out == "" && *sheet == "") {
		fs.Usage()
		return errors.New("render needs --image, --prompt and -o (or --contact-sheet)")
	}
	if *sheetFrames < 1 {
		return errors.New("--sheet-frames must be at least 1")
	}
	src, err := imageSource(*image)
	if err != nil {
		return err
	}
	// The request goes through the API's own validation, so the CLI accepts
	// exactly what the API does and says the same when it does not.
	body := map[string]any{
		"model": generation.Model, "prompt": *prompt, "image_url": src,
		"resolution": *resolution, "duration": *duration,
	}
	for k, v := range map[string]string{"negative_prompt": *negative, "style": *style,
		"lip_sync_tts_content": *speechText, "lip_sync_tts_speaker": *voice} {
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
	if !req.SeedGiven {
		req.Seed = time.Now().UnixNano() % (generation.MaxSeed + 1)
	}
	eng := &engine.Builtin{
		// The user names the image on their own machine: no address limits.
		Intake: intake.Options{AllowPrivate: true},
		Speech: &speech.Flite{Program: *flite},
		FFmpeg: *ffmpeg,
	}
	if *out == "" {
		p, err := eng.Prepare(ctx, req, func(float64) {})
		if err != nil {
			return err
		}
		return writeSheet(p, req, *sheet, *sheetFrames)
	}
	var bar *progressbar.ProgressBar
	progress := func(float64) {}
	// A bar only makes sense on a terminal; logs get the summary line.
	if !*quiet && term.IsTerminal(int(os.Stderr.Fd())) {
		bar = progressbar.NewOptions(1000, progressbar.OptionSetDescription("rendering"),
			progressbar.OptionSetWriter(os.Stderr), progressbar.OptionClearOnFinish(),
			progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond))
		progress = func(p float64) { bar.Set(int(p * 1000)) }
	}
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

// writeSheet writes a contact sheet of n evenly spaced frames of the
// prepared clip to name as PNG. The frames are drawn by the renderer the
// video is drawn with, so they are the video's frames before encoding.
func writeSheet(p *engine.Prepared, req *generation.Request, name string, n int) error {
	r, frames := p.Renderer()
	idx := render.SheetFrames(n, frames)
	var buf bytes.Buffer
	if err := png.Encode(&buf, render.ContactSheet(r, idx)); err != nil {
		return err
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: frames %v of %d, seed %d (%s)\n", name, idx, frames, req.Seed, r.Shot().Description())
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// imageSource turns a file name into a data: URI; URLs and data: URIs pass.
func imageSource(s string) (string, error) {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "data:") {
		return s, nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return "", fmt.Errorf("reading --image: %w", err)
	}
	// The type is only a label: the image is recognised from its bytes.
	ct := http.DetectContentType(b)
	if !strings.HasPrefix(ct, "image/") {
		ct = "image/unknown"
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}
