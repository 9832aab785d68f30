package engine

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"stillmotion/internal/face"
	"stillmotion/internal/generation"
	"stillmotion/internal/media"
	"stillmotion/internal/psnr"
)

// v55 returns a v5.5 image-to-video request of the portrait.
func v55(t *testing.T, seconds int, sound, multi bool) *generation.Request {
	return &generation.Request{Model: generation.ModelV55ImageToVideo, Kind: generation.ImageToVideo, Prompt: "a slow push in, soft rain",
		ImageURL: dataURI(t, "astronaut-portrait.png"), Resolution: "360p", Duration: seconds, Seed: 5, SeedGiven: true,
		GenerateAudio: &sound, MultiClip: multi, Thinking: "enabled"}
}

// meanAbsDiff is the mean absolute difference of two frames' RGB, 0..255.
func meanAbsDiff(a, b *image.RGBA) float64 {
	var s float64
	for i := 0; i < len(a.Pix); i += 4 {
		for c := range 3 {
			s += math.Abs(float64(a.Pix[i+c]) - float64(b.Pix[i+c]))
		}
	}
	return s / float64(len(a.Pix)/4*3)
}

// eyeDistance returns the eye distance of the first face found in img,
// 0 when none is.
func eyeDistance(img *image.RGBA) float64 {
	faces, err := face.Detect(img)
	if err != nil || len(faces) == 0 {
		return 0
	}
	return faces[0].LeftEye.Dist(faces[0].RightEye)
}

// TestMultiClip renders v5.5's multi-clip: three shots of the portrait
// from wide to close, cut while the camera moves, frame 0 the picture,
// the plan listing the shots and the prompt as read; the audio switch off
// leaves the file without an audio stream.
func TestMultiClip(t *testing.T) {
	req := v55(t, 5, false, true)
	out := filepath.Join(t.TempDir(), "multi.mp4")
	o, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 shots cut on motion", "shot 1, wide, 0.0–2.0 s", "shot 2, medium, 2.0–3.5 s", "shot 3, close, 3.5–5.0 s", "prompt read as: "} {
		if !strings.Contains(o.Plan, want) {
			t.Errorf("plan %q lacks %q", o.Plan, want)
		}
	}
	info, err := media.Probe(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if info.HasAudio || o.HasAudio || info.Duration < 4.9 || info.Duration > 5.1 {
		t.Errorf("probe %+v, output %+v: want 5 s and no audio stream", info, o)
	}
	frames := decodeFrames(t, out, o.Width, o.Height)
	if len(frames) != 120 {
		t.Fatalf("%d frames, want 120", len(frames))
	}
	p, err := (&Builtin{}).Prepare(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := p.Clip()
	c := cc.(*clip)
	if got := describeCuts(c.cuts); !strings.HasPrefix(got, "wide ") || !strings.Contains(got, "| close zoom in 84+36") {
		t.Errorf("cuts %s", got)
	}
	// Frame 0 is the picture, as on a single shot.
	single := *req
	single.MultiClip = false
	ps, err := (&Builtin{}).Prepare(context.Background(), &single, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := image.NewRGBA(image.Rect(0, 0, o.Width, o.Height)), image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
	c.Frame(0, a)
	sc, _ := ps.Clip()
	sc.Frame(0, b)
	if db := psnr.RGB(a, b); db < 35 {
		t.Errorf("frame 0 of the multi-clip: %.1f dB against the single shot's, want >= 35", db)
	}
	// Cuts: the step across a cut is far larger than the steps within the
	// shots around it, and the camera is moving into each cut.
	for _, k := range c.cuts[1:] {
		cutStep := meanAbsDiff(frames[k.start-1], frames[k.start])
		before := meanAbsDiff(frames[k.start-2], frames[k.start-1])
		after := meanAbsDiff(frames[k.start], frames[k.start+1])
		t.Logf("cut at %d: step %.2f, before %.2f, after %.2f", k.start, cutStep, before, after)
		if cutStep < 4*max(before, after) {
			t.Errorf("cut at frame %d: step %.2f is not a cut against %.2f and %.2f", k.start, cutStep, before, after)
		}
		if before < 0.05 {
			t.Errorf("cut at frame %d: the camera stands still before it (%.3f)", k.start, before)
		}
	}
	// Wide to close: the face grows from shot to shot.
	wide, close := eyeDistance(frames[0]), eyeDistance(frames[c.cuts[2].start+2])
	if wide == 0 || close < 1.6*wide {
		t.Errorf("eye distance %.1f px wide, %.1f px close: want the close shot at least 1.6 times closer", wide, close)
	}
}

// TestV55Sound renders v5.5 at 10 s with sound: four shots when cut, an
// audio stream, and the plan without the reading when thinking is off.
func TestV55Sound(t *testing.T) {
	req := v55(t, 10, true, true)
	req.Thinking = "disabled"
	out := filepath.Join(t.TempDir(), "ten.mp4")
	o, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	info, err := media.Probe(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if !info.HasAudio || !o.HasAudio || info.Duration < 9.9 || info.Duration > 10.1 {
		t.Errorf("probe %+v: want 10 s with audio", info)
	}
	if !strings.Contains(o.Plan, "4 shots cut on motion") || strings.Contains(o.Plan, "prompt read as") {
		t.Errorf("plan %q: want four shots and no reading", o.Plan)
	}
	if a := decodeAudio(t, out); rmsDB(a) < -60 {
		t.Errorf("the soundtrack is silent (%.1f dB): want the rain", rmsDB(a))
	}
}
