package replicate

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"stillmotion/internal/generation"
	"stillmotion/internal/media"
	"stillmotion/test/fakecog"
)

// textRequest is a request for a hosted text-to-video model: no image.
func textRequest(ratio string) *generation.Request {
	return &generation.Request{Kind: generation.TextToVideo, Model: "pixverse/v5/text-to-video", Prompt: "a lighthouse on a cliff at dusk",
		AspectRatio: ratio, Resolution: "360p", Duration: 5, Seed: 42}
}

// TestTextToVideo renders a text-to-video request through the fake: the
// template's image key is left out (the fake's model then animates a
// picture of its own), {{width}} and {{height}} carry the request's aspect
// ratio at the resolution's short side, which the video takes, and
// {{aspect_ratio}} the ratio itself.
func TestTextToVideo(t *testing.T) {
	r := newRig(t, false, fakecog.Options{}, func(c *Config) { c.Input["ratio"] = "{{aspect_ratio}}" })
	if !slices.Contains(Fields(Config{Input: map[string]any{"r": "{{aspect_ratio}}"}}), generation.FieldAspectRatio) {
		t.Error("a template with {{aspect_ratio}} does not honour aspect_ratio")
	}
	for ratio, want := range map[string][2]int{"16:9": {640, 360}, "4:3": {480, 360}, "1:1": {360, 360}, "3:4": {360, 480}, "9:16": {360, 640}} {
		raw, err := r.eng.input(context.Background(), r.task(t, textRequest(ratio)))
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			Image         *string
			Width, Height int
			Ratio         string `json:"ratio"`
		}
		if err := json.Unmarshal(raw, &in); err != nil || in.Image != nil || in.Width != want[0] || in.Height != want[1] || in.Ratio != ratio {
			t.Errorf("%s: input %s (%v), want no image, %dx%d and the ratio", ratio, raw, err, want[0], want[1])
		}
	}
	task := r.task(t, textRequest("9:16"))
	o, err := r.eng.Render(context.Background(), task)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	info, err := media.Probe(context.Background(), task.Out)
	if err != nil {
		t.Fatalf("probing the output: %v", err)
	}
	if info.VideoCodec != "h264" || info.Width != 360 || info.Height != 640 || o.Width != 360 || o.Height != 640 {
		t.Errorf("video %s %dx%d, reported %dx%d; want 9:16 at 360p: 360x640", info.VideoCodec, info.Width, info.Height, o.Width, o.Height)
	}
	if info.Duration < 4.9 {
		t.Errorf("%.2f s, want 5", info.Duration)
	}
}
